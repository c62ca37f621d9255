//! Minions end to end over real HTTP: fake OpenAI remote, fake Ollama local.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use minions_core::Usage;
use minions_protocol::{Event, ProtocolError, ProtocolKind, RunOptions, StopReason, Transcript};
use minions_testkit::{ChatReply, RecordedRequest, Reply};
use serde_json::{Value, json};

const TASK: &str = "What is the launch code?";

fn plan(select: Value) -> Reply {
    remote_json(json!({
        "tasks": [{"id": "code", "instruction": "Find the launch code.", "advice": "A 4-digit number.", "query": "launch code quarterly review"}],
        "chunking": {"unit": "chars", "size": 3000, "overlap": 100},
        "select": select,
        "samples": 1
    }))
}

fn synthesis(decision: &str, answer: Option<&str>) -> Reply {
    remote_json(
        json!({"reasoning": "r", "decision": decision, "answer": answer, "feedback": "look closer", "scratchpad": "code may be 7421"}),
    )
}

/// Minions with a planned first round: these tests script the planner.
/// Round 1 as the task as written has tests of its own (`opening_*`).
fn minions() -> RunOptions {
    options(ProtocolKind::Minions).plan_first_round(true)
}

async fn run(
    m: &Models,
    doc: &minions_protocol::ContextDocument,
    options: &RunOptions,
) -> Result<Transcript, ProtocolError> {
    run_with(
        &m.pair(),
        TASK,
        std::slice::from_ref(doc),
        options.clone(),
        None,
    )
    .await
    .map_err(|f| f.error)
}

fn jobs_of_round(transcript: &Transcript, round: u32) -> usize {
    transcript
        .events
        .iter()
        .filter(|e| matches!(e, Event::JobFinished { round: r, .. } if *r == round))
        .count()
}

#[tokio::test(start_paused = true)]
async fn answers_in_round_one_and_never_shows_the_document() {
    let m = models().await;
    let doc = document(60_000);
    m.remote_server
        .push(plan(json!("all")))
        .push(synthesis("final", Some("7421")));
    m.local_server.respond_with(honest_worker);
    let transcript = run(&m, &doc, &minions()).await.unwrap();
    let result = &transcript.result;
    assert_eq!(result.answer, "7421");
    assert_eq!((result.rounds, result.remote_calls), (1, 2));
    assert_eq!(result.stop, StopReason::Answered);
    assert!(result.jobs.total >= 20, "{:?}", result.jobs);
    assert!(
        result.jobs.answered >= 1 && result.jobs.failed == 0,
        "{:?}",
        result.jobs
    );
    assert_eq!(result.local_calls as usize, result.jobs.total);
    assert_eq!(
        result.remote_usage,
        Usage::new(2000, 100),
        "exactly what the fake remote reported"
    );

    // The remote model saw no marker: only the worker's quote of the fact.
    let remote = remote_requests(&m);
    for request in &remote {
        let seen = request.prompt_text();
        for marker in markers(&doc) {
            assert!(!seen.contains(&marker), "{marker} reached the remote model");
        }
    }
    assert!(
        remote[1].prompt_text().contains(FACT),
        "the finding quotes the fact"
    );
    assert!(
        !remote[0].prompt_text().contains(FACT),
        "the planner never sees it"
    );
    // Every chunk went to the local model once, and only there.
    assert_eq!(local_chats(&m).len(), result.jobs.total);
    assert!(matches!(
        transcript.events.first(),
        Some(Event::RunStarted { .. })
    ));
    assert!(matches!(
        transcript.events.last(),
        Some(Event::Answer { .. })
    ));
}

#[tokio::test(start_paused = true)]
async fn a_second_round_reads_only_the_chunks_that_answered() {
    let m = models().await;
    let doc = document(30_000);
    m.remote_server
        .push(plan(json!("all")))
        .push(synthesis("continue", None))
        .push(plan(json!({"answered_by": "code"})))
        .push(synthesis("final", Some("7421, confirmed")));
    m.local_server.respond_with(honest_worker);
    let transcript = run(&m, &doc, &minions()).await.unwrap();
    assert_eq!(transcript.result.answer, "7421, confirmed");
    assert_eq!(transcript.result.rounds, 2);
    let first = jobs_of_round(&transcript, 1);
    let second = jobs_of_round(&transcript, 2);
    assert!(first > 5, "{first}");
    assert!(
        (1..=2).contains(&second),
        "only the chunks holding the fact: {second}"
    );
    // The second plan was told which ids it may use, and the notes.
    let second_plan = remote_requests(&m)[2].last_user_message();
    assert!(
        second_plan.contains("answered_by") && second_plan.contains("code may be 7421"),
        "{second_plan}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_oversized_plan_is_narrowed_not_refused() {
    // Every chunk, small chunks, three samples: far more than 40 jobs.
    let m = models().await;
    let too_many = remote_json(json!({
        "tasks": [{"id": "code", "instruction": "Find it.", "query": "launch code"}],
        "chunking": {"unit": "chars", "size": 500, "overlap": 0},
        "select": "all", "samples": 3
    }));
    m.remote_server
        .push(too_many)
        .push(synthesis("final", Some("7421")));
    m.local_server.respond_with(honest_worker);
    let options = minions().max_jobs_per_round(40);
    let transcript = run(&m, &document(30_000), &options).await.unwrap();
    assert_eq!(transcript.result.answer, "7421");
    let jobs = transcript.result.jobs;
    assert!(jobs.total <= 40 && jobs.total > 0, "{jobs:?}");
    assert!(
        jobs.answered >= 1,
        "the best-matching chunk holds the fact: {jobs:?}"
    );
    assert!(
        transcript
            .events
            .iter()
            .any(|e| matches!(e, Event::PlanNarrowed { .. })),
        "the narrowing is an event"
    );
    let told = remote_requests(&m)[1].last_user_message();
    assert!(
        told.contains("narrowed") || told.contains("best match"),
        "{told}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_plan_that_cannot_run_is_sent_back_with_the_reason() {
    let m = models().await;
    m.remote_server
        .push(plan(json!({"answered_by": "nothing-yet"})))
        .push(plan(json!({"bm25": {"top_k": 3}})))
        .push(synthesis("final", Some("7421")));
    m.local_server.respond_with(honest_worker);
    let transcript = run(&m, &document(30_000), &minions()).await.unwrap();
    assert_eq!(transcript.result.answer, "7421");
    let rejected = transcript
        .events
        .iter()
        .filter(|e| matches!(e, Event::PlanRejected { .. }))
        .count();
    assert_eq!(rejected, 1);
    let replan = remote_requests(&m)[1].last_user_message();
    assert!(replan.contains("This plan cannot be run"), "{replan}");
    assert_eq!(transcript.result.jobs.total, 3, "bm25 top 3");
}

#[tokio::test(start_paused = true)]
async fn malformed_and_truncated_worker_output_is_repaired_or_recorded() {
    let m = models().await;
    m.remote_server
        .push(plan(json!({"bm25": {"top_k": 3}})))
        .push(synthesis("final", Some("The report gives a launch code.")));
    // Job outputs in arrival order: prose (repaired), cut off (repaired),
    // and one that stays broken.
    m.local_server
        .push(Reply::text("Sure! The answer is probably nothing."))
        .push(Reply::json(
            &json!({"explanation": "nothing", "citation": null, "answer": null}),
        ))
        .push(
            ChatReply::new("{\"explanation\": \"The excerpt states the launch co")
                .truncated_by_length(),
        )
        .push(Reply::json(
            &json!({"explanation": "found", "citation": FACT, "answer": "7421"}),
        ))
        .push(Reply::text("not json"))
        .push(Reply::text("still not json"));
    let options = minions().local_concurrency(1);
    let transcript = run(&m, &document(30_000), &options).await.unwrap();
    let jobs = transcript.result.jobs;
    assert_eq!(
        (
            jobs.total,
            // The one answer is kept, or dropped as a guess when the
            // chunk its job read does not hold the code.
            jobs.answered + jobs.unverified + jobs.guesses,
            jobs.empty,
            jobs.failed
        ),
        (3, 1, 1, 1),
        "{jobs:?}"
    );
    assert_eq!(transcript.result.local_calls, 6);
    let local = local_chats(&m);
    assert!(
        local[1].last_user_message().contains("could not be used"),
        "the repair says why"
    );
    let doubled = local[3].json().unwrap()["options"]["num_predict"]
        .as_u64()
        .unwrap();
    assert_eq!(
        doubled, 768,
        "a cut-off reply is retried with twice the token limit"
    );
    let synthesis_prompt = remote_requests(&m)[1].last_user_message();
    assert!(synthesis_prompt.contains("1 failed"), "{synthesis_prompt}");
}

#[tokio::test(start_paused = true)]
async fn a_worker_500_storm_fails_jobs_not_the_run() {
    let m = models().await;
    m.remote_server
        .push(plan(json!({"bm25": {"top_k": 4}})))
        .push(synthesis("final", Some("unknown")));
    m.local_server
        .respond_with(|_| Reply::status(500, "CUDA out of memory"));
    let transcript = run(&m, &document(30_000), &minions()).await.unwrap();
    let jobs = transcript.result.jobs;
    assert_eq!((jobs.total, jobs.failed), (4, 4));
    let told = remote_requests(&m)[1].last_user_message();
    assert!(
        told.contains("All 4 local jobs failed"),
        "the remote is told: {told}"
    );
    assert!(
        told.contains("CUDA out of memory"),
        "with the reason: {told}"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_local_server_stops_before_more_remote_spend() {
    let m = models().await;
    let dead = minions::chat_model(
        &"ollama/llama3.2".parse().unwrap(),
        &minions::ModelSettings::default().base_url(minions_testkit::unused_local_url().await),
    )
    .unwrap();
    m.remote_server
        .push(plan(json!("all")))
        .push(synthesis("final", Some("never")));
    let error = run_with(
        &minions_protocol::RunModels::new(m.remote.clone(), dead.clone()),
        TASK,
        &[document(30_000)],
        minions(),
        None,
    )
    .await
    .unwrap_err()
    .error;
    assert!(
        matches!(error, ProtocolError::Preflight { side: "local", .. }),
        "{error}"
    );
    assert_eq!(
        remote_requests(&m).len(),
        0,
        "checked before the first remote call: nothing spent"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dollar_budget_stops_the_run_and_says_so() {
    let m = models().await;
    m.remote_server
        .push(plan(json!("all")))
        .push(synthesis("continue", None))
        .push(plan(json!("all")));
    m.local_server.respond_with(honest_worker);
    // One call costs 1000 x $2.50/M + 50 x $10/M = $0.003; the next one could
    // cost up to $0.0025 + 2048 x $10/M more than that.
    let options = minions().budget_usd(0.02);
    let transcript = run(&m, &document(20_000), &options).await.unwrap();
    let result = &transcript.result;
    let StopReason::Budget { reason } = &result.stop else {
        panic!("expected a budget stop, got {:?}", result.stop);
    };
    assert!(reason.contains("over the cap of $0.0200"), "{reason}");
    assert!(result.remote_cost.total_usd() <= 0.02);
}

#[tokio::test(start_paused = true)]
async fn findings_are_redacted_before_the_remote_sees_them() {
    let m = models().await;
    m.remote_server
        .push(plan(json!({"bm25": {"top_k": 2}})))
        .push(synthesis("final", Some("ok")));
    m.local_server.respond_with(|_| {
        Reply::json(&json!({"explanation": "Owner is john@corp.example, card 4111-1111-1111-1111", "citation": "from 10.0.0.7", "answer": "Project Falcon, per the quarterly review"}))
    });
    let options = minions().privacy(true, vec!["Falcon".into()]);
    let transcript = run(&m, &document(20_000), &options).await.unwrap();
    let sent = remote_requests(&m)[1].last_user_message();
    for secret in [
        "john@corp.example",
        "4111-1111-1111-1111",
        "10.0.0.7",
        "Falcon",
    ] {
        assert!(
            !sent.contains(secret),
            "{secret} reached the remote: {sent}"
        );
    }
    assert!(
        transcript
            .events
            .iter()
            .any(|e| matches!(e, Event::Redacted { .. }))
    );
    assert!(!transcript.result.redactions.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_transcript_is_written_atomically_without_keys() {
    let m = models().await;
    m.remote_server
        .push(plan(json!({"bm25": {"top_k": 2}})))
        .push(synthesis("final", Some("7421")));
    m.local_server.respond_with(honest_worker);
    let transcript = run(&m, &document(10_000), &minions()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("minions-transcript-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("run.json");
    std::fs::write(&path, "old contents").unwrap();
    transcript.write_atomic(&path).unwrap();
    let written = std::fs::read_to_string(&path).unwrap();
    let back: Transcript = serde_json::from_str(&written).unwrap();
    assert_eq!(back.result.answer, "7421");
    assert!(!written.contains("sk-test-remote-key"));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temporary file left behind"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The figures for the closing note: a 200k-character document, one planted
/// fact, one task, answered in one round by each protocol.
#[tokio::test(start_paused = true)]
async fn remote_cost_of_one_fact_in_200k_characters() {
    let doc = document(200_000);
    let m = models().await;
    // Unscripted usage: the fake counts four characters a token, as a real
    // tokenizer roughly would.
    m.remote_server.push(Reply::text(
        json!({"reasoning": "r", "decision": "final", "answer": "7421"}).to_string(),
    ));
    m.local_server.respond_with(honest_worker);
    let minions = run(&m, &doc, &options(ProtocolKind::Minions))
        .await
        .unwrap()
        .result;

    let m = models().await;
    m.remote_server.push(Reply::text(
        json!({"reasoning": "r", "decision": "final", "answer": "7421"}).to_string(),
    ));
    m.local_server.push(Reply::text("The launch code is 7421."));
    let minion = run_with(
        &m.pair(),
        TASK,
        std::slice::from_ref(&doc),
        options(ProtocolKind::Minion),
        None,
    )
    .await
    .unwrap()
    .result;

    // Minions runs the task as written on the best chunks and synthesizes;
    // Minion asks the local model the task and the remote model decides:
    // one remote call each.
    assert_eq!((minions.remote_calls, minion.remote_calls), (1, 1));
    for result in [&minions, &minion] {
        assert_eq!(result.answer, "7421");
        assert_eq!(result.remote_reasks, 0);
        assert!(
            result.remote_usage.prompt_tokens < 4_000,
            "{:?}",
            result.remote_usage
        );
        assert!(
            result.remote_only.prompt_tokens > 40_000,
            "{:?}",
            result.remote_only
        );
    }
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "200k chars, one fact: minions {} remote calls, {} remote prompt tokens, {} local jobs; minion {} remote calls, {} remote prompt tokens; remote-only {} prompt tokens",
            minions.remote_calls,
            minions.remote_usage.prompt_tokens,
            minions.jobs.total,
            minion.remote_calls,
            minion.remote_usage.prompt_tokens,
            minions.remote_only.prompt_tokens
        );
    }
}

/// A worker that misreads every excerpt the first time, answering a code
/// no excerpt holds, and reads again honestly only when told why its
/// answer was dropped.
fn misreading_worker(request: &RecordedRequest) -> Reply {
    let told = request.last_user_message();
    if told.contains("cannot be used") {
        honest_reply(&request.prompt_text())
    } else {
        Reply::json(
            &json!({"explanation": "The code.", "citation": "the launch code is 7412", "answer": "7412"}),
        )
    }
}

/// What a run over every chunk of a 30,000-character report did, with
/// `worker` answering each local call.
struct Reread {
    m: Models,
    transcript: Transcript,
    /// The local calls that asked for a second reading.
    rereads: Vec<RecordedRequest>,
}

async fn run_every_chunk(
    worker: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    answer: &str,
) -> Reread {
    let m = models().await;
    m.remote_server
        .push(plan(json!("all")))
        .push(synthesis("final", Some(answer)));
    m.local_server.respond_with(worker);
    let transcript = run(&m, &document(30_000), &minions()).await.unwrap();
    let rereads = local_chats(&m)
        .into_iter()
        .filter(|r| r.last_user_message().contains("cannot be used"))
        .collect();
    Reread {
        m,
        transcript,
        rereads,
    }
}

#[tokio::test(start_paused = true)]
async fn a_misread_guess_on_a_likely_chunk_is_read_again_once() {
    let Reread {
        m,
        transcript,
        rereads,
    } = run_every_chunk(misreading_worker, "7421").await;
    let jobs = &transcript.result.jobs;
    // Only the chunks likeliest to hold the answer are read again: the
    // made-up code elsewhere is dropped, not re-asked.
    assert!(jobs.total >= 8, "{jobs:?}");
    assert!(
        (1..=4).contains(&rereads.len()),
        "{} re-reads of {} jobs",
        rereads.len(),
        jobs.total
    );
    assert_eq!(local_chats(&m).len(), jobs.total + rereads.len());
    // The re-read says which answer was dropped and why.
    assert!(
        rereads[0]
            .last_user_message()
            .contains("\"7412\" is not in the excerpt"),
        "{}",
        rereads[0].last_user_message()
    );
    // The chunk holding the fact was among them, and its second reading
    // reached the remote model as a verified finding.
    assert_eq!(jobs.answered, 1, "{jobs:?}");
    let findings = remote_requests(&m)[1].last_user_message();
    assert!(
        findings.contains("7421") && !findings.contains("7412"),
        "{findings}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_guesses_again_is_not_asked_a_third_time() {
    // The worst worker: the same made-up code however often it is asked.
    let run = run_every_chunk(
        |_: &RecordedRequest| {
            Reply::json(&json!({"explanation": "", "citation": "", "answer": "7412"}))
        },
        "not found",
    )
    .await;
    let jobs = &run.transcript.result.jobs;
    assert!(
        (1..=4).contains(&run.rereads.len()),
        "{}",
        run.rereads.len()
    );
    assert_eq!(local_chats(&run.m).len(), jobs.total + run.rereads.len());
    assert_eq!((jobs.guesses, jobs.answered), (jobs.total, 0), "{jobs:?}");
}

#[tokio::test(start_paused = true)]
async fn a_dropped_answer_without_a_figure_is_not_read_again() {
    // Every worker repeats its own instruction back: dropped, and not a
    // misread figure that a second reading could mend.
    let run = run_every_chunk(
        |_: &RecordedRequest| {
            Reply::json(
                &json!({"explanation": "", "citation": null, "answer": "Find the launch code."}),
            )
        },
        "not found",
    )
    .await;
    let jobs = &run.transcript.result.jobs;
    assert!(run.rereads.is_empty(), "no re-reads");
    assert_eq!(local_chats(&run.m).len(), jobs.total);
    assert_eq!(jobs.guesses, jobs.total, "{jobs:?}");
}

/// The number of the second `Section N MARKER-NNNNN` paragraph in a
/// worker's prompt: the first may be cut by the chunk's start.
fn whole_section(prompt: &str) -> u32 {
    prompt
        .match_indices("MARKER-")
        .nth(1)
        .and_then(|(at, _)| prompt.get(at + "MARKER-".len()..at + "MARKER-00000".len()))
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_default()
}

#[tokio::test(start_paused = true)]
async fn the_answer_from_the_chunk_that_matches_the_question_is_shown_first_and_few_others() {
    // Every worker but the fact's answers with a real line of its chunk,
    // quoted: a verified answer to the wrong question in each chunk.
    let run = run_every_chunk(
        |request: &RecordedRequest| {
            let prompt = request.prompt_text();
            if prompt.contains("launch code is 7421") {
                return honest_reply(&prompt);
            }
            let n = whole_section(&prompt);
            Reply::json(&json!({
                "explanation": "",
                "citation": format!("Section {n} MARKER-{n:05}"),
                "answer": format!("Section {n} staffing"),
            }))
        },
        "7421",
    )
    .await;
    let jobs = &run.transcript.result.jobs;
    assert!(jobs.answered >= 8, "{jobs:?}");
    let findings = remote_requests(&run.m)[1].last_user_message();
    let shown: Vec<&str> = findings
        .lines()
        .filter(|l| l.trim_start().starts_with("- answer:"))
        .collect();
    assert_eq!(shown.len(), 4, "{findings}");
    assert!(shown[0].contains("7421"), "{findings}");
    assert!(
        findings.contains(&format!(
            "({} more answer(s), from chunks that match the task less well, not shown)",
            jobs.answered - 4
        )),
        "{findings}"
    );
}

#[tokio::test(start_paused = true)]
async fn section_numbers_and_the_document_name_are_not_answers() {
    // The worst worker: on every chunk, the number of a section it holds,
    // or the document's own name; never the code.
    let run = run_every_chunk(
        |request: &RecordedRequest| {
            let prompt = request.prompt_text();
            let section = whole_section(&prompt);
            let answer = if section.is_multiple_of(2) {
                section.to_string()
            } else {
                "Report".to_string()
            };
            Reply::json(
                &json!({"explanation": "", "citation": format!("Section {section}"), "answer": answer}),
            )
        },
        "not found",
    )
    .await;
    let result = &run.transcript.result;
    let kept: Vec<String> = run
        .transcript
        .events
        .iter()
        .filter_map(|e| match e {
            Event::JobFinished {
                answer: Some(answer),
                ..
            } => Some(answer.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        result.jobs.guesses, result.jobs.total,
        "{:?} {kept:?}",
        result.jobs
    );
    assert_eq!(result.stop, StopReason::NotFound, "{}", result.answer);
    // Only the plan went to the remote model: nothing was found to weigh.
    assert_eq!(remote_requests(&run.m).len(), 1);
}

/// Whether a remote request asks for a plan (its schema names `tasks`).
fn asks_for_a_plan(request: &RecordedRequest) -> bool {
    request
        .json()
        .and_then(|b| {
            b.pointer("/response_format/json_schema/schema/properties/tasks")
                .cloned()
        })
        .is_some()
}

#[tokio::test(start_paused = true)]
async fn opening_runs_the_task_as_written_on_the_best_chunks_without_a_plan() {
    let m = models().await;
    let doc = document(30_000);
    m.remote_server.push(synthesis("final", Some("7421")));
    m.local_server.respond_with(honest_worker);
    let transcript = run(&m, &doc, &options(ProtocolKind::Minions))
        .await
        .unwrap();
    let result = &transcript.result;
    assert_eq!(result.answer, "7421");
    assert_eq!((result.rounds, result.remote_calls), (1, 1));
    let remote = remote_requests(&m);
    assert!(!remote.iter().any(asks_for_a_plan), "no plan was asked for");
    // Four jobs, each told the task word for word, one of them on the
    // fact's chunk.
    let chats = local_chats(&m);
    assert_eq!((jobs_of_round(&transcript, 1), chats.len()), (4, 4));
    for chat in &chats {
        assert!(
            chat.last_user_message()
                .contains(&format!("Task: {TASK}\n")),
            "{}",
            chat.last_user_message()
        );
    }
    assert!(chats.iter().any(|c| c.prompt_text().contains(FACT)));
    let findings = remote[0].last_user_message();
    assert!(
        findings
            .contains("round 1 ran the task as written on the 4 of 11 chunks that best match it"),
        "{findings}"
    );
}

#[tokio::test(start_paused = true)]
async fn opening_that_finds_nothing_leaves_round_two_to_the_planner() {
    // Workers that find the code only when asked in the planner's words:
    // the task as written finds nothing, and the synthesizer takes the
    // worst choice it is offered, to continue.
    let m = models().await;
    let doc = document(30_000);
    m.remote_server
        .push(synthesis("continue", None))
        .push(plan(json!({"bm25": {"top_k": 3}})))
        .push(synthesis("final", Some("7421")));
    m.local_server.respond_with(|request: &RecordedRequest| {
        let prompt = request.last_user_message();
        if prompt.contains("Task: Find the launch code.") {
            honest_reply(&prompt)
        } else {
            Reply::json(&json!({"explanation": "", "citation": null, "answer": null}))
        }
    });
    let transcript = run(&m, &doc, &options(ProtocolKind::Minions))
        .await
        .unwrap();
    let result = &transcript.result;
    assert_eq!((result.answer.as_str(), result.rounds), ("7421", 2));
    let remote = remote_requests(&m);
    assert_eq!(remote.len(), 3);
    assert!(!asks_for_a_plan(&remote[0]) && asks_for_a_plan(&remote[1]));
    // The planner is told what round 1 did.
    let planner = remote[1].last_user_message();
    assert!(
        planner.contains("Round 1: task (What is the launch code?: 0 of 4 chunks answered)"),
        "{planner}"
    );
    assert!(planner.contains("ran the task as written"), "{planner}");
    assert_eq!(jobs_of_round(&transcript, 2), 3);
}

#[tokio::test(start_paused = true)]
async fn a_synthesis_that_only_restates_the_task_is_asked_again() {
    // The synthesizer's first final answer repeats the task's own words
    // and names nothing; refused with the reason, it answers from the
    // findings.
    let m = models().await;
    let doc = document(30_000);
    m.remote_server
        .push(synthesis("final", Some("The launch code.")))
        .push(synthesis("final", Some("The launch code is 7421.")));
    m.local_server.respond_with(honest_worker);
    let transcript = run(&m, &doc, &options(ProtocolKind::Minions))
        .await
        .unwrap();
    let result = &transcript.result;
    assert_eq!(result.answer, "The launch code is 7421.");
    assert_eq!((result.remote_calls, result.remote_reasks), (2, 1));
    let retry = remote_requests(&m)[1].last_user_message();
    assert!(retry.contains("only repeats the task's words"), "{retry}");
}

#[tokio::test(start_paused = true)]
async fn answers_reach_the_remote_with_the_chunks_own_words_not_what_the_worker_made_up() {
    // On the fact's chunk the worker answers right but cites a line no
    // chunk has, and explains with a log nobody wrote: the chunk holds the
    // answer, so its own sentence is the citation. Elsewhere the worker
    // answers with words of its chunk that the chunk never writes together
    // (unverified) and explains in the chunk's own words beside an
    // unusable citation.
    let m = models().await;
    let doc = document(30_000);
    m.remote_server.push(synthesis("final", Some("7421")));
    m.local_server.respond_with(|request: &RecordedRequest| {
        let prompt = request.last_user_message();
        if prompt.contains("launch code is 7421") {
            Reply::json(
                &json!({"explanation": "The vault log records it.", "citation": "the vault log says 7421", "answer": "7421"}),
            )
        } else {
            Reply::json(&json!({
                "explanation": "The quarterly review covered staffing.",
                "citation": "the quarterly review of launches",
                "answer": "Quarterly staffing",
            }))
        }
    });
    let transcript = run(&m, &doc, &options(ProtocolKind::Minions))
        .await
        .unwrap();
    assert_eq!(transcript.result.answer, "7421");
    let findings = remote_requests(&m)[0].last_user_message();
    let fact = findings
        .find("answer: \"7421\"")
        .expect("the answer is shown");
    assert!(
        findings[fact..].starts_with("answer: \"7421\" (from report.txt#1)\n    citation: \"PLANTED-FACT: the launch code is 7421.\""),
        "the chunk's own sentence is the citation: {findings}"
    );
    let marker = findings
        .find("Quarterly staffing")
        .expect("the other answer is shown");
    assert!(
        fact < marker,
        "the answer among the task's words comes first: {findings}"
    );
    assert!(findings[marker..].contains("UNVERIFIED"), "{findings}");
    for made_up in ["vault", "of launches"] {
        assert!(!findings.contains(made_up), "{made_up}: {findings}");
    }
    assert!(
        findings.contains("explanation: The quarterly review covered staffing."),
        "an explanation in the chunk's own words is kept: {findings}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_synthesis_after_nothing_was_found_ends_not_found() {
    // No job finds anything, and the synthesizer keeps naming a file
    // nobody mentioned: refused every time, the run ends saying that the
    // documents do not say, not with a fallback.
    let m = models().await;
    let doc = document(30_000);
    m.remote_server.respond_with(|_: &RecordedRequest| {
        remote_json(
            json!({"reasoning": "r", "decision": "final", "answer": "It is in the file COPYING."}),
        )
    });
    m.local_server.respond_with(|_: &RecordedRequest| {
        Reply::json(&json!({"explanation": "", "citation": null, "answer": null}))
    });
    let transcript = run(&m, &doc, &options(ProtocolKind::Minions))
        .await
        .unwrap();
    ended_not_found_after_reasks(
        &transcript,
        "The documents do not say: 4 local job(s) read the 4 of 11 parts that best match the question and none found it.",
    );
}

/// Asserts that a run ended `not_found` with `answer`, after at least one
/// refused synthesis was asked again.
fn ended_not_found_after_reasks(transcript: &Transcript, answer: &str) {
    let result = &transcript.result;
    assert_eq!(result.stop, StopReason::NotFound, "{}", result.answer);
    assert_eq!(result.answer, answer);
    assert!(result.remote_reasks >= 1);
}

#[tokio::test(start_paused = true)]
async fn findings_without_the_asked_amount_end_not_found_not_as_a_fallback() {
    // Asked "how many", the planner's task asks for a description, the
    // workers give one (a real line of their chunk), and the synthesizer
    // insists on passing a description on: refused every time, the run
    // ends saying the documents do not say, not with the descriptions.
    let m = models().await;
    let doc = document(30_000);
    m.remote_server.respond_with(|request: &RecordedRequest| {
        if asks_for_a_plan(request) {
            return remote_json(json!({
                "tasks": [{"id": "t", "instruction": "Describe what the quarterly review covered.", "advice": "", "query": "quarterly review"}],
                "chunking": {"unit": "chars", "size": 3000, "overlap": 100},
                "select": {"bm25": {"top_k": 2}},
                "samples": 1
            }));
        }
        remote_json(
            json!({"reasoning": "r", "decision": "final", "answer": "The quarterly review covered staffing."}),
        )
    });
    m.local_server.respond_with(|_: &RecordedRequest| {
        Reply::json(&json!({
            "explanation": "",
            "citation": "The quarterly review covered staffing, budgets and the usual logistics in some detail.",
            "answer": "The quarterly review covered staffing"
        }))
    });
    let transcript = run_with(
        &m.pair(),
        "How many people did the quarterly review cover?",
        std::slice::from_ref(&doc),
        minions(),
        None,
    )
    .await
    .map_err(|f| f.error)
    .unwrap();
    ended_not_found_after_reasks(
        &transcript,
        "The documents do not say: no answer the local models found was an amount.",
    );
}
