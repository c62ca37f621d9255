//! Runs against a remote model that follows the schema it is sent and takes
//! the worst option it allows, over real HTTP. Whatever it does, a run ends
//! with an answer and an honest bill, and the document never reaches it.

#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use minions_protocol::{ContextDocument, Event, ProtocolError, ProtocolKind, StopReason};
use minions_testkit::Reply;
use minions_testkit::adversary::{self, Strings};
use serde_json::json;

/// A record of `chars` characters that does not hold the fact asked for.
fn without_the_fact(chars: usize) -> ContextDocument {
    let mut text = String::with_capacity(chars + 200);
    let mut n = 0;
    while text.len() < chars {
        text.push_str(&format!(
            "Visit {n} MARKER-{n:05}. Routine check, weight stable, no new complaints, advice repeated.\n\n"
        ));
        n += 1;
    }
    ContextDocument::new("record.txt", text)
}

fn no_document_in(m: &Models, doc: &ContextDocument) {
    for request in remote_requests(m) {
        let seen = request.prompt_text();
        for marker in markers(doc).iter().step_by(97) {
            assert!(!seen.contains(marker), "{marker} reached the remote model");
        }
    }
}

async fn adversarial_run(kind: ProtocolKind, strings: Strings) {
    let m = models().await;
    m.remote_server.respond_with(adversary::responder(strings));
    m.local_server.respond_with(|request| {
        if request.last_user_message().starts_with("Excerpt from") {
            Reply::json(
                &json!({"explanation": "Not in this excerpt.", "citation": null, "answer": null}),
            )
        } else {
            Reply::text("The documents do not say what the LDL cholesterol value is.")
        }
    });
    let doc = without_the_fact(200_000);
    let transcript = run_with(
        &m.pair(),
        "What is the LDL cholesterol value?",
        std::slice::from_ref(&doc),
        options(kind),
        None,
    )
    .await
    .unwrap_or_else(|f| panic!("{kind} with {strings:?} failed: {}", f.error));
    let result = &transcript.result;
    assert!(
        !result.answer.trim().is_empty(),
        "{kind}/{strings:?}: an answer, whatever the remote did"
    );
    assert!(
        !minions_protocol::prompts::copies_prompt(&result.answer),
        "{kind}/{strings:?}: the answer is not our prompt's text: {}",
        result.answer
    );
    assert!(result.stop.is_success(), "{:?}", result.stop);
    assert_eq!(
        result.remote_calls as usize,
        remote_requests(&m).len(),
        "every remote call is counted"
    );
    assert!(
        result.remote_calls <= 12,
        "bounded re-asks: {}",
        result.remote_calls
    );
    assert!(
        transcript
            .events
            .iter()
            .any(|e| matches!(e, Event::Answer { .. }))
    );
    no_document_in(&m, &doc);
}

#[tokio::test(start_paused = true)]
async fn an_adversarial_remote_still_ends_with_an_answer() {
    for kind in ProtocolKind::ALL {
        for strings in [Strings::Placeholder, Strings::Blank] {
            adversarial_run(kind, strings).await;
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_question_the_documents_do_not_answer_is_answered_plainly() {
    // The remote model asks and continues while it may, then must be final.
    let m = models().await;
    m.remote_server.respond_with(|request| {
        let body = request.json().unwrap();
        let schema = &body["response_format"]["json_schema"]["schema"];
        let mut reply = adversary::worst(schema, Strings::Placeholder);
        if reply.get("answer").is_some() {
            reply["answer"] = json!("The documents do not state the LDL value.");
        }
        if reply.get("message").is_some() {
            reply["message"] = json!("Is an LDL value given?");
        }
        if reply.get("feedback").is_some() {
            reply["feedback"] = json!("look for lipid panels");
            reply["scratchpad"] = json!("nothing yet");
        }
        Reply::json(&reply)
    });
    m.local_server.respond_with(|_| {
        Reply::json(&json!({"explanation": "Not here.", "citation": null, "answer": null}))
    });
    let transcript = run_with(
        &m.pair(),
        "What is the LDL cholesterol value?",
        &[without_the_fact(50_000)],
        options(ProtocolKind::Minions).max_rounds(2),
        None,
    )
    .await
    .unwrap();
    let result = &transcript.result;
    // No job found anything, and the last round read what it could: the
    // answer is that the documents do not say, and no remote call was made
    // to write it (a remote model asked to tends to make something up).
    assert_eq!(result.stop, StopReason::NotFound, "{}", result.answer);
    assert!(
        result.answer.starts_with("The documents do not say"),
        "{}",
        result.answer
    );
    assert!(result.rounds <= 2);
    let finals = remote_requests(&m)
        .iter()
        .filter(|r| {
            r.json().and_then(|b| {
                b.pointer("/response_format/json_schema/schema/properties/decision/enum")
                    .cloned()
            }) == Some(json!(["final"]))
        })
        .count();
    assert_eq!(finals, 0, "no last-round synthesis was needed");
}

#[tokio::test(start_paused = true)]
async fn a_name_the_documents_never_mention_is_not_there_at_no_cost() {
    // Both models would answer with the one code the record has, another
    // entity's: the worst they may do. Neither is asked.
    for kind in [ProtocolKind::Minion, ProtocolKind::Minions] {
        let m = models().await;
        m.remote_server
            .respond_with(|_| remote_json(json!({"decision": "final", "answer": "7421"})));
        m.local_server
            .respond_with(|_| Reply::text("The code is 7421."));
        let transcript = run_with(
            &m.pair(),
            "What is the launch code of the Delta plant?",
            &[document(20_000)],
            options(kind),
            None,
        )
        .await
        .unwrap();
        let result = &transcript.result;
        assert_eq!(
            result.stop,
            StopReason::NotFound,
            "{kind:?}: {}",
            result.answer
        );
        assert!(
            result.answer.starts_with("The documents do not say")
                && result.answer.contains("\"Delta\""),
            "{kind:?}: {}",
            result.answer
        );
        assert!(
            remote_requests(&m).is_empty(),
            "{kind:?}: the remote was asked"
        );
        assert!(
            local_chats(&m).is_empty(),
            "{kind:?}: the local model was asked"
        );
        assert_eq!(result.remote_calls, 0);
        // Asked about what the record does name, the models are asked.
        run_with(
            &m.pair(),
            "What is the launch code in the PLANTED-FACT line?",
            &[document(20_000)],
            options(kind).max_rounds(1),
            None,
        )
        .await
        .unwrap();
        assert!(!remote_requests(&m).is_empty(), "{kind:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_five_megabyte_line_is_narrowed_and_answered() {
    let m = models().await;
    m.remote_server
        .respond_with(adversary::responder(Strings::Placeholder));
    m.local_server.respond_with(honest_worker);
    let mut text = "lorem ipsum dolor sit amet ".repeat(5_000_000 / 27);
    text.insert_str(text.len() / 2, &format!(" {FACT} "));
    let doc = ContextDocument::new("one-line.txt", text.replace('\n', " "));
    let transcript = run_with(
        &m.pair(),
        "What is the launch code?",
        std::slice::from_ref(&doc),
        // The planner plans round 1, so that its plan ("all", the worst
        // selection the schema allows) is the one narrowed.
        options(ProtocolKind::Minions)
            .max_rounds(1)
            .plan_first_round(true),
        None,
    )
    .await
    .unwrap();
    let result = &transcript.result;
    assert!(result.jobs.total <= 128, "{:?}", result.jobs);
    assert!(!result.answer.trim().is_empty());
    assert!(
        transcript
            .events
            .iter()
            .any(|e| matches!(e, Event::PlanNarrowed { .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn a_local_server_failing_every_call_stops_the_run_soon() {
    let m = models().await;
    m.remote_server
        .respond_with(adversary::responder(Strings::Placeholder));
    m.local_server
        .respond_with(|_| Reply::status(503, "overloaded"));
    let began = tokio::time::Instant::now();
    let failure = run_with(
        &m.pair(),
        "What is the LDL cholesterol value?",
        &[without_the_fact(200_000)],
        options(ProtocolKind::Minions),
        None,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(failure.error, ProtocolError::LocalFailing { .. }),
        "{}",
        failure.error
    );
    assert!(
        began.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        began.elapsed()
    );
    // What was spent is reported.
    assert_eq!(
        failure.transcript.result.remote_calls as usize,
        remote_requests(&m).len()
    );
    assert!(failure.transcript.result.remote_usage.total_tokens() > 0);
}

#[tokio::test(start_paused = true)]
async fn the_remote_never_spends_more_than_reading_everything() {
    let m = models().await;
    // A planner that always continues: without the cap it would run every
    // round.
    m.remote_server
        .respond_with(adversary::responder(Strings::Placeholder));
    m.local_server.respond_with(honest_worker);
    // Long enough that a quarter of reading it whole is above the cap's
    // floor (8,000 prompt tokens' worth).
    let doc = document(200_000);
    let transcript = run_with(
        &m.pair(),
        "What is the launch code?",
        &[doc],
        minions_protocol::RunOptions::default()
            .max_rounds(20)
            .max_cost_ratio(0.25),
        None,
    )
    .await
    .unwrap();
    let result = &transcript.result;
    assert!(
        matches!(result.stop, StopReason::Budget { .. }),
        "{:?}",
        result.stop
    );
    assert!(
        result.remote_cost.total_usd() <= result.remote_only.cost_usd * 0.25 * 1.25,
        "{} against {}",
        result.remote_cost.total_usd(),
        result.remote_only.cost_usd
    );
}
