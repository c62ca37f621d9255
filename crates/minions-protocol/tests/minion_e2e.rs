//! Minion end to end over real HTTP: fake OpenAI remote, fake Ollama local.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use minions_protocol::{ContextDocument, ProtocolError, ProtocolKind, RunOptions, StopReason};
use minions_testkit::Reply;
use serde_json::json;

fn minion() -> RunOptions {
    options(ProtocolKind::Minion)
}

fn ask(message: &str) -> Reply {
    remote_json(json!({"reasoning": "more", "decision": "ask", "message": message}))
}

fn final_answer(answer: &str) -> Reply {
    remote_json(json!({"reasoning": "done", "decision": "final", "answer": answer}))
}

/// A one-round run over a 20,000-character report whose remote model
/// answers `remote` every time it is asked (the worst it may do: insist)
/// and whose local model always says `local`.
async fn insisting(
    remote: &'static str,
    local: &'static str,
    task: &str,
) -> (Models, minions_protocol::Transcript) {
    let m = models().await;
    m.remote_server.respond_with(move |_| final_answer(remote));
    m.local_server.respond_with(move |_| Reply::text(local));
    let transcript = run_report(&m, task, 1).await;
    (m, transcript)
}

/// An [`insisting`] run (`said`: the remote's answer, then the local
/// model's) that ends `not_found` with `answer`, the remote model having
/// been told `reason` for each refusal.
async fn ends_not_found(said: [&'static str; 2], task: &str, answer: &str, reason: &str) {
    let (m, transcript) = insisting(said[0], said[1], task).await;
    assert_eq!(transcript.result.stop, StopReason::NotFound);
    assert_eq!(transcript.result.answer, answer);
    assert!(
        remote_was_told(&m, reason),
        "the reason is given to the remote model"
    );
}

/// A one-round run whose remote model first answers `refused` (which the
/// checks turn down) and then `taken`: the answer is `taken`, after one
/// re-ask.
async fn takes_the_reason(refused: &str, taken: &str, local: &str, task: &str) {
    let m = models().await;
    m.remote_server
        .push(final_answer(refused))
        .push(final_answer(taken));
    m.local_server.push(Reply::text(local));
    let transcript = run_report(&m, task, 1).await;
    assert_eq!(transcript.result.answer, taken);
    assert_eq!(transcript.result.remote_reasks, 1);
}

/// A run of `rounds` rounds over a 20,000-character report, which holds
/// the launch code.
async fn run_report(m: &Models, task: &str, rounds: u32) -> minions_protocol::Transcript {
    run_with(
        &m.pair(),
        task,
        &[document(20_000)],
        minion().max_rounds(rounds),
        None,
    )
    .await
    .unwrap()
}

/// Whether some request to the remote model carried `text`.
fn remote_was_told(m: &Models, text: &str) -> bool {
    remote_requests(m)
        .iter()
        .any(|r| format!("{:?}", r.json()).contains(text))
}

#[tokio::test(start_paused = true)]
async fn answers_in_round_one_without_the_remote_seeing_the_document() {
    let m = models().await;
    // About 17,000 tokens: past the length Minion sends whole.
    let doc = document(60_000);
    m.remote_server
        .push(final_answer("The launch code is 7421."));
    m.local_server
        .push(Reply::text("The document says: the launch code is 7421."));
    let transcript = run_with(
        &m.pair(),
        "What is the launch code?",
        std::slice::from_ref(&doc),
        minion(),
        None,
    )
    .await
    .unwrap();
    let result = &transcript.result;
    assert_eq!(result.answer, "The launch code is 7421.");
    assert_eq!(
        (result.rounds, result.remote_calls, result.local_calls),
        (1, 1, 1)
    );
    assert_eq!(result.stop, StopReason::Answered);
    // The local model got the passages that match the question, the
    // planted fact among them, not all 60,000 characters (a small model
    // answers better from a few pages); the remote model got none.
    let local_prompt = local_chats(&m)[0].prompt_text();
    assert!(local_prompt.contains(FACT));
    assert!(local_prompt.len() < doc.text.len());
    for request in remote_requests(&m) {
        let seen = request.prompt_text();
        for marker in markers(&doc) {
            assert!(!seen.contains(&marker), "{marker} reached the remote model");
        }
        assert!(
            seen.contains("report.txt"),
            "the remote model knows the document's name"
        );
    }
    // Usage is what the fake remote reported on every call.
    assert_eq!(result.remote_usage, minions_core::Usage::new(1000, 50));
    assert!(result.remote_only.prompt_tokens > 4000);
    assert!(result.savings_ratio.is_some());
}

#[tokio::test(start_paused = true)]
async fn answers_after_three_rounds() {
    let m = models().await;
    m.remote_server
        .push(ask("Which section mentions it?"))
        .push(ask("Quote the sentence."))
        .push(final_answer("The report gives the code in one section."));
    m.local_server
        .respond_with(|_| Reply::text("One section of the report gives the code."));
    let options = minion().max_rounds(5);
    // Short enough to go whole.
    let transcript = run_with(&m.pair(), "code?", &[document(3_000)], options, None)
        .await
        .unwrap();
    assert_eq!(
        (transcript.result.rounds, transcript.result.local_calls),
        (3, 3)
    );
    // The local model saw the whole conversation each time.
    let last = local_chats(&m).pop().unwrap().json().unwrap();
    assert_eq!(
        last["messages"].as_array().unwrap().len(),
        6,
        "system + 3 questions + 2 answers"
    );
}

#[tokio::test(start_paused = true)]
async fn the_last_round_forces_a_final_answer() {
    let m = models().await;
    m.remote_server.respond_with(|request| {
        let prompt = request.last_user_message();
        if prompt.contains("always \"final\"") {
            final_answer("best guess: 7421")
        } else {
            ask("Tell me more.")
        }
    });
    m.local_server
        .respond_with(|_| Reply::text("Not sure; 7421 appears in section 40."));
    let options = minion().max_rounds(2);
    let transcript = run_with(&m.pair(), "code?", &[document(5_000)], options, None)
        .await
        .unwrap();
    assert_eq!(transcript.result.stop, StopReason::MaxRounds);
    assert_eq!(transcript.result.answer, "best guess: 7421");
    assert_eq!(transcript.result.local_calls, 2);
}

#[tokio::test(start_paused = true)]
async fn a_final_answer_naming_what_the_local_model_never_said_is_refused() {
    // The remote model knows nothing of the documents but what the local
    // model says: a number it names that the local model never said is
    // made up, and is asked for again; a remote model that insists leaves
    // the run with the local model's own answer.
    let (m, transcript) = insisting(
        "The code is 9999.",
        "The document does not give a launch code.",
        "code?",
    )
    .await;
    let result = &transcript.result;
    assert!(
        matches!(result.stop, StopReason::Fallback { .. }),
        "{:?}",
        result.stop
    );
    assert_eq!(result.answer, "The document does not give a launch code.");
    assert!(result.remote_reasks >= 1);
    assert!(
        remote_was_told(&m, "nothing you were told contains"),
        "the reason is given to the remote model"
    );
}

#[tokio::test(start_paused = true)]
async fn a_malformed_decision_is_asked_again_and_counted() {
    let m = models().await;
    m.remote_server
        .push(remote_json(
            json!({"reasoning": "oops", "decision": "final"}),
        ))
        .push(final_answer("7421"));
    m.local_server.push(Reply::text("7421"));
    // Long enough to hold the launch code: an answer naming a figure the
    // documents lack would be refused.
    let transcript = run_with(&m.pair(), "code?", &[document(20_000)], minion(), None)
        .await
        .unwrap();
    assert_eq!(transcript.result.answer, "7421");
    assert_eq!(transcript.result.remote_calls, 2);
    assert_eq!(
        transcript.result.remote_usage.prompt_tokens, 2000,
        "the failed attempt's usage counts too"
    );
    let retry = remote_requests(&m)[1].last_user_message();
    assert!(retry.contains("`answer` is empty"), "{retry}");
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_local_server_stops_the_run() {
    let m = models().await;
    let dead = minions::chat_model(
        &"ollama/llama3.2".parse().unwrap(),
        &minions::ModelSettings::default().base_url(minions_testkit::unused_local_url().await),
    )
    .unwrap();
    m.remote_server.push(final_answer("never"));
    let failure = run_with(
        &minions_protocol::RunModels::new(m.remote.clone(), dead.clone()),
        "code?",
        &[document(3_000)],
        minion(),
        None,
    )
    .await
    .unwrap_err();
    let error = failure.error;
    assert!(
        matches!(error, ProtocolError::Preflight { side: "local", .. }),
        "{error}"
    );
    assert!(error.to_string().contains("ollama serve"), "{error}");
    assert_eq!(
        remote_requests(&m).len(),
        0,
        "the local check comes before any remote spend"
    );
    assert_eq!(failure.transcript.result.remote_calls, 0);
    assert!(matches!(
        failure.transcript.result.stop,
        StopReason::Failed { .. }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_budget_stops_before_crossing_the_cap() {
    let m = models().await;
    m.remote_server.respond_with(|_| ask("again?"));
    m.local_server
        .respond_with(|_| Reply::text("partial answer"));
    let options = minion()
        .max_rounds(10)
        .remote_max_tokens(500)
        .budget_tokens(5_000);
    let transcript = run_with(&m.pair(), "code?", &[document(3_000)], options, None)
        .await
        .unwrap();
    let result = &transcript.result;
    assert!(
        matches!(result.stop, StopReason::Budget { .. }),
        "{:?}",
        result.stop
    );
    assert!(
        result.remote_usage.total_tokens() <= 5_000,
        "{:?}",
        result.remote_usage
    );
    assert_eq!(
        result.answer, "partial answer",
        "the best answer so far is kept"
    );
    assert!(
        transcript
            .events
            .iter()
            .any(|e| matches!(e, minions_protocol::Event::BudgetStop { .. }))
    );
}

#[tokio::test(start_paused = true)]
async fn private_data_in_local_answers_is_redacted() {
    let m = models().await;
    m.remote_server.push(final_answer("done"));
    m.local_server.push(Reply::text(
        "Contact Jane Roe at jane.roe@example.com or 415-555-0199.",
    ));
    let options = minion().privacy(true, vec!["Jane Roe".into()]);
    let transcript = run_with(
        &m.pair(),
        "who?",
        &[ContextDocument::new("d", "text")],
        options,
        None,
    )
    .await
    .unwrap();
    let sent = remote_requests(&m)[0].prompt_text();
    assert!(
        !sent.contains("jane.roe@example.com")
            && !sent.contains("Jane Roe")
            && !sent.contains("555-0199"),
        "{sent}"
    );
    assert!(
        sent.contains("[REDACTED:email]") && sent.contains("[REDACTED:term]"),
        "{sent}"
    );
    let kinds: Vec<&str> = transcript
        .result
        .redactions
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert!(
        kinds.contains(&"email") && kinds.contains(&"phone") && kinds.contains(&"term"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn empty_inputs_are_refused() {
    let m = models().await;
    let error = run_with(&m.pair(), " ", &[document(100)], minion(), None).await;
    assert!(matches!(
        error.map_err(|f| f.error),
        Err(ProtocolError::EmptyTask)
    ));
    let error = run_with(
        &m.pair(),
        "q",
        &[ContextDocument::new("e", "  ")],
        minion(),
        None,
    )
    .await;
    assert!(matches!(
        error.map_err(|f| f.error),
        Err(ProtocolError::EmptyContext)
    ));
}

#[tokio::test(start_paused = true)]
async fn a_cancellation_token_stops_the_run() {
    let m = models().await;
    m.remote_server.push(final_answer("too late"));
    m.local_server
        .push(Reply::text("slow").after(std::time::Duration::from_secs(60)));
    let token = minions_protocol::CancellationToken::new();
    let spec = minion().build().unwrap().with_cancel(token.clone());
    let cancel = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        token.cancel();
    });
    let failure = minions_protocol::run(&m.pair(), "code?", &[document(3_000)], &spec, None)
        .await
        .unwrap_err();
    cancel.await.unwrap();
    assert!(
        matches!(failure.error, ProtocolError::Cancelled),
        "{}",
        failure.error
    );
    // The run was cancelled while the local model read the task, before
    // any remote call; what was spent is reported (nothing, here).
    assert_eq!(remote_requests(&m).len(), 0);
    let result = &failure.transcript.result;
    assert_eq!(result.stop, StopReason::Cancelled);
    assert_eq!(result.remote_usage, minions_core::Usage::default());
}

#[tokio::test(start_paused = true)]
async fn events_arrive_on_the_channel_in_order() {
    let m = models().await;
    m.remote_server.push(final_answer("7421"));
    m.local_server.push(Reply::text("7421"));
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let transcript = run_with(
        &m.pair(),
        "code?",
        &[document(20_000)],
        minion(),
        Some(sender),
    )
    .await
    .unwrap();
    let mut received = Vec::new();
    while let Ok(event) = receiver.try_recv() {
        received.push(event);
    }
    assert_eq!(received, transcript.events);
    let kinds: Vec<String> = received
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .filter(|k| k != "usage")
        .collect();
    assert_eq!(
        kinds,
        ["run_started", "local_message", "remote_message", "answer"]
    );
}

#[tokio::test(start_paused = true)]
async fn documents_beyond_the_local_window_go_as_excerpts_never_cut() {
    let remote_server = minions_testkit::FakeServer::start().await;
    let local_server = minions_testkit::FakeServer::builder()
        .default_context_length(4096)
        .start()
        .await;
    let m = models_on(remote_server, local_server);
    m.remote_server.push(final_answer("7421"));
    m.local_server.push(Reply::text("The launch code is 7421."));
    let doc = document(60_000);
    let transcript = run_with(
        &m.pair(),
        "What is the launch code?",
        std::slice::from_ref(&doc),
        minion(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(transcript.result.answer, "7421");
    let local = local_chats(&m);
    assert_eq!(local.len(), 1);
    let sent = local[0].prompt_text();
    assert!(
        sent.len() < 4096 * 3,
        "within the window: {} characters",
        sent.len()
    );
    assert!(
        sent.contains(FACT),
        "the passage that matches the question is there"
    );
    assert!(
        sent.contains("too long to show whole"),
        "and the model is told"
    );
}

#[tokio::test(start_paused = true)]
async fn a_re_ask_changes_the_request() {
    let m = models().await;
    m.remote_server
        .push(remote_json(
            json!({"reasoning": "oops", "decision": "final"}),
        ))
        .push(final_answer("7421"));
    m.local_server.push(Reply::text("7421"));
    run_with(&m.pair(), "code?", &[document(20_000)], minion(), None)
        .await
        .unwrap();
    let sent: Vec<serde_json::Value> = remote_requests(&m)
        .iter()
        .map(|r| r.json().unwrap())
        .collect();
    assert!(sent[0].get("seed").is_none(), "first asks carry no seed");
    assert_eq!(sent[1]["seed"], json!(1), "the re-ask has its own seed");
    assert!(sent[1]["temperature"].as_f64().unwrap() >= 0.4);
}

/// Anthropic as the remote: later rounds mark the conversation so far for
/// the prompt cache, cache reads come back as cached tokens, and they are
/// priced at the cached rate.
#[tokio::test(start_paused = true)]
async fn an_anthropic_remote_caches_the_conversation_and_cached_tokens_are_priced_as_cached() {
    let m = models().await;
    let remote = minions::chat_model(
        &"anthropic/claude-sonnet-4-5".parse().unwrap(),
        &minions::ModelSettings::default()
            .base_url(m.remote_server.url())
            .api_key(minions::ApiKey::new("sk-ant-test")),
    )
    .unwrap();
    let cached = |value: serde_json::Value| {
        Reply::Chat(
            minions_testkit::ChatReply::new(value.to_string()).with_usage(minions_core::Usage {
                prompt_tokens: 1000,
                completion_tokens: 50,
                cached_prompt_tokens: 800,
            }),
        )
    };
    m.remote_server
        .push(cached(
            json!({"reasoning": "more", "decision": "ask", "message": "Say it again."}),
        ))
        .push(cached(
            json!({"reasoning": "done", "decision": "final", "answer": "7421"}),
        ));
    m.local_server
        .respond_with(|_| Reply::text("The launch code is 7421."));
    let models = minions_protocol::RunModels::new(remote, m.local.clone());
    let transcript = run_with(
        &models,
        "What is the launch code?",
        &[document(5_000)],
        minion(),
        None,
    )
    .await
    .unwrap();
    let result = &transcript.result;
    assert_eq!(result.remote_usage.cached_prompt_tokens, 1600);
    // $3/M uncached, $0.30/M cached, $15/M out.
    let expected = (200.0 * 3.0 + 800.0 * 0.30) * 2.0 / 1e6 + 100.0 * 15.0 / 1e6;
    assert!(
        (result.remote_cost.total_usd() - expected).abs() < 1e-9,
        "{:?}",
        result.remote_cost
    );
    assert!(
        result.summary().contains("1600 of them cached"),
        "{}",
        result.summary()
    );

    let sent: Vec<serde_json::Value> = remote_requests(&m)
        .iter()
        .filter_map(|r| r.json())
        .collect();
    assert_eq!(sent.len(), 2);
    for body in &sent {
        assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    }
    let last_turn = |body: &serde_json::Value| {
        body["messages"]
            .as_array()
            .unwrap()
            .last()
            .cloned()
            .unwrap()
    };
    assert!(
        last_turn(&sent[0])["content"].is_string(),
        "a first call marks only the system prompt"
    );
    assert_eq!(
        last_turn(&sent[1])["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
}

#[tokio::test(start_paused = true)]
async fn a_local_model_that_quotes_at_length_is_cut_to_short_quotes() {
    // A real instruct model answered one question with 600 characters of
    // the document word for word; everything it says goes to the remote.
    let m = models().await;
    let doc = document(20_000);
    let start = doc.text.find("Section 12 ").unwrap();
    let passage: String = doc.text[start..].chars().take(600).collect();
    let said = format!("Here is what the report says:\n{passage}\nSo the code is in section 40.");
    m.remote_server.push(final_answer("It is in section 40."));
    m.local_server.push(Reply::text(&said));
    let transcript = run_with(
        &m.pair(),
        "code?",
        std::slice::from_ref(&doc),
        minion(),
        None,
    )
    .await
    .unwrap();
    let result = &transcript.result;
    let told = remote_requests(&m)[0].prompt_text();
    assert!(
        told.contains("Here is what the report says:") && told.contains("[...]"),
        "{told}"
    );
    assert!(told.contains("So the code is in section 40."), "{told}");
    let chars: Vec<char> = doc.text.chars().collect();
    for window in chars.windows(121).step_by(7) {
        let window: String = window.iter().collect();
        assert!(
            !told.contains(&window),
            "a 121-character run reached the remote: {window}"
        );
    }
    assert_eq!(
        result.redactions,
        vec![("verbatim".to_string(), 1)],
        "the elision is counted"
    );
    assert!(
        result
            .summary()
            .contains("1 long quote(s) of the documents elided")
    );
}

#[tokio::test(start_paused = true)]
async fn the_verbatim_bound_can_be_turned_off() {
    let m = models().await;
    let doc = document(20_000);
    let start = doc.text.find("Section 12 ").unwrap();
    let passage: String = doc.text[start..].chars().take(600).collect();
    // An answer the local model's passage holds: a final answer may state
    // no figure the local side did not report.
    m.remote_server.push(final_answer("It is in section 12."));
    m.local_server.push(Reply::text(&passage));
    let mut options = minion();
    options.max_verbatim_chars = Some(0);
    run_with(
        &m.pair(),
        "code?",
        std::slice::from_ref(&doc),
        options,
        None,
    )
    .await
    .unwrap();
    assert!(remote_requests(&m)[0].prompt_text().contains(&passage));
}

#[tokio::test(start_paused = true)]
async fn a_figure_the_documents_never_hold_is_flagged_to_the_remote() {
    let m = models().await;
    // Long enough to hold the planted launch code.
    let doc = document(20_000);
    m.remote_server
        .push(final_answer("The documents do not say."));
    // A made-up figure: nothing in the report says 1.5GB.
    m.local_server.push(Reply::text("It needs 1.5GB of RAM."));
    let transcript = run_with(
        &m.pair(),
        "How much RAM does it need?",
        std::slice::from_ref(&doc),
        minion(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(transcript.result.answer, "The documents do not say.");
    let after_answer = remote_requests(&m)[0].prompt_text();
    assert!(after_answer.contains("It needs 1.5GB of RAM."));
    assert!(
        after_answer.contains("1.5 occurs nowhere in them"),
        "{after_answer}"
    );
    // A figure that is in the documents is passed on without a note.
    let m = models().await;
    m.remote_server
        .push(final_answer("The launch code is 7421."));
    m.local_server.push(Reply::text("The launch code is 7421."));
    run_with(
        &m.pair(),
        "What is the launch code?",
        std::slice::from_ref(&doc),
        minion(),
        None,
    )
    .await
    .unwrap();
    assert!(
        !remote_requests(&m)[0]
            .prompt_text()
            .contains("occurs nowhere")
    );
}

#[tokio::test(start_paused = true)]
async fn a_fallback_skips_a_local_reply_that_only_repeats_talk_of_the_small_model() {
    // The remote asks its second question as a verdict, the 0.5B local
    // model repeats it, and the remote never gives a usable final answer:
    // the run falls back to the local model's real answer of round one.
    let m = models().await;
    m.remote_server.respond_with(|request| {
        let prompt = request.last_user_message();
        if prompt.contains("last question") {
            final_answer("The small model answered the question correctly.")
        } else {
            ask("The small model answered correctly; confirm it.")
        }
    });
    m.local_server.push(Reply::text("The launch code is 7421."));
    m.local_server
        .push(Reply::text("The small model answered correctly."));
    let transcript = run_report(&m, "What is the launch code?", 2).await;
    let result = &transcript.result;
    assert!(
        matches!(result.stop, StopReason::Fallback { .. }),
        "{:?}",
        result.stop
    );
    assert_eq!(result.answer, "The launch code is 7421.");
}

#[tokio::test(start_paused = true)]
async fn a_final_answer_resting_on_a_made_up_figure_is_refused() {
    // The local model makes up a figure and the remote passes it on as its
    // final answer, every time it is asked: the answer is refused with the
    // reason, and the run ends saying the documents do not say (stop
    // `not_found`), never with the made-up figure.
    ends_not_found(
        ["It needs 1.5GB of RAM.", "It needs 1.5GB of RAM."],
        "How much RAM does it need?",
        "The documents do not say: the only answer found named 1.5, which occurs nowhere in them.",
        "occurs nowhere in the documents: the small model made it up",
    )
    .await;

    // A figure the documents hold, under a name they hold, but never the
    // two together ("Java 8" from a JDK configuration full of both).
    ends_not_found(
        ["The launch code is MARKER 12.", "The launch code is MARKER 12."],
        "What is the launch code?",
        "The documents do not say: the only answer found named MARKER 12, which occurs nowhere in them.",
        "MARKER 12, which occurs nowhere in the documents",
    )
    .await;

    // A count the documents never state of what the task counts: the
    // report has a 12 and has sections, never "12 sections".
    ends_not_found(
        ["It has 12 sections.", "It has 12 sections."],
        "How many sections does the report have?",
        "The documents do not say: the only answer found named 12 sections, which occurs nowhere in them.",
        "12 sections, which occurs nowhere in the documents",
    )
    .await;

    // A figure the documents hold, but only in passages about something
    // else: the report's "Section 12" says nothing of a travel budget (as
    // the JDK's 393216-byte header limit says nothing of the JVM's heap).
    ends_not_found(
        ["The travel budget is 12.", "The travel budget is 12."],
        "What is the travel budget?",
        "The documents do not say: the only answer found named 12, which they hold only in passages about something else.",
        "which the documents hold only in passages about something else",
    )
    .await;

    // The same figure first stated by the remote model, from a local
    // answer that was no claim of its own: still refused, and the local
    // answer that holds it is no last resort.
    ends_not_found(
        [
            "The travel budget is 12.",
            "The review went through staffing and logistics; see Section 12 for more.",
        ],
        "What is the travel budget?",
        "The documents do not say: the only answer found named 12, which they hold only in passages about something else.",
        "which the documents hold only in passages about something else",
    )
    .await;

    // A remote model that takes the reason answers from what the documents
    // support, and the run ends answered.
    takes_the_reason(
        "It needs 1.5GB of RAM.",
        "The documents do not say how much RAM it needs.",
        "It needs 1.5GB of RAM.",
        "How much RAM does it need?",
    )
    .await;

    // A real answer heard earlier is not thrown away: a remote model that
    // insists on a later made-up figure leaves the run with the real one.
    let m = models().await;
    m.remote_server.respond_with(|request| {
        let prompt = request.last_user_message();
        if prompt.contains("The launch code is 7421.") {
            ask("And how much RAM?")
        } else {
            final_answer("It needs 1.5GB of RAM.")
        }
    });
    m.local_server.push(Reply::text("The launch code is 7421."));
    m.local_server.push(Reply::text("It needs 1.5GB of RAM."));
    let transcript = run_report(
        &m,
        "What is the launch code, and how much RAM does it need?",
        2,
    )
    .await;
    assert!(
        matches!(transcript.result.stop, StopReason::Fallback { .. }),
        "{:?}",
        transcript.result.stop
    );
    assert_eq!(transcript.result.answer, "The launch code is 7421.");
}

#[tokio::test(start_paused = true)]
async fn an_answer_without_the_asked_form_is_refused_and_never_the_answer() {
    // Asked for an email address the documents do not hold, the local
    // model names a web page and the remote model insists on passing it on
    // (the worst it may do): each final answer is refused with the reason,
    // and the run ends saying the documents do not say.
    ends_not_found(
        [
            "Report them to <https://fsf.org/>.",
            "Report them to https://fsf.org/.",
        ],
        "What email address should violations be reported to?",
        "The documents do not say: the only answer found was not an email address.",
        "the task asks for an email address, and the answer gives none",
    )
    .await;

    // A remote model that takes the reason says the documents do not say,
    // and that is the answer.
    takes_the_reason(
        "https://fsf.org/",
        "The documents do not give an email address.",
        "Report them to https://fsf.org/.",
        "What email address should violations be reported to?",
    )
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_local_model_that_repeats_the_question_is_never_the_answer() {
    // The local model answers with the task itself and the remote model
    // never gives a usable final answer: the run says that no answer was
    // found rather than hand the user their own question.
    let m = models().await;
    m.remote_server.respond_with(|_| {
        remote_json(json!({"reasoning": "done", "decision": "final", "answer": ""}))
    });
    m.local_server
        .respond_with(|_| Reply::text("In which year was version 4 of the license published?"));
    let transcript = run_report(
        &m,
        "In which year was version 4 of the license published?",
        1,
    )
    .await;
    let result = &transcript.result;
    assert!(
        matches!(result.stop, StopReason::Fallback { .. }),
        "{:?}",
        result.stop
    );
    assert_eq!(
        result.answer,
        "No answer was found: the small model only repeated the question."
    );
}

#[tokio::test(start_paused = true)]
async fn a_final_answer_that_repeats_the_task_or_names_the_untold_is_refused() {
    // The remote model passes on the task's own words as the answer, then
    // a name nobody told it: both are refused with the reason, and the
    // answer that stands is the one that says the documents do not say.
    let m = models().await;
    m.remote_server
        .push(final_answer("The release added support for notebooks."))
        .push(final_answer("The Jupyter release added it."))
        .push(final_answer("The documents do not say which release."));
    m.local_server
        .push(Reply::text("The release added support for notebooks."));
    let transcript = run_report(&m, "Which release added support for notebooks?", 1).await;
    assert_eq!(
        transcript.result.answer,
        "The documents do not say which release."
    );
    assert_eq!(transcript.result.remote_reasks, 2);
    let reasons: Vec<String> = remote_requests(&m)
        .iter()
        .skip(1)
        .map(|r| r.last_user_message())
        .collect();
    assert!(
        reasons[0].contains("only repeats the task's words"),
        "{reasons:?}"
    );
    assert!(reasons[1].contains("\"Jupyter\""), "{reasons:?}");

    // A local answer naming what the documents never mention is flagged to
    // the remote model, like a made-up figure.
    let m = models().await;
    m.remote_server
        .push(final_answer("The documents do not say."));
    m.local_server
        .push(Reply::text("The quarterly review was led by Zorblax."));
    run_report(&m, "Who led the review?", 1).await;
    let told = remote_requests(&m)[0].prompt_text();
    assert!(told.contains("Zorblax occurs nowhere in them"), "{told}");
}
