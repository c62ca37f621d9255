//! The instruct tier: Qwen2.5-Coder-0.5B-Instruct as the local model and
//! Qwen2.5-Coder-1.5B-Instruct as the remote one, on llama.cpp's server
//! (`cargo xtask models --instruct`). Unlike the tiny tier, these models can
//! answer, so each protocol must get one answerable question right and say
//! that an unanswerable one is not in the document, over a text nobody on
//! the team wrote (sections 8 to 11 of the GPL, from the bench's real set).
//!
//! Every answer is checked and reported; the ones the protocols get right
//! by construction are required (see `Question::required`).
//!
//! These models do quote what they read, so this is also where the verbatim
//! bound meets a model that tests it: no 200-character window of the
//! document may reach the remote model.
//!
//! The full comparison with remote-only is `cargo xtask bench --dataset
//! real`, run by hand (docs/benchmarks.md); this is CI's short check.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod real_support;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use minions_testkit::RecordingProxy;
use real_support::{RUN_BOUND, assert_no_window, llama_server, setup, setup_dir, usage_of};
use serde_json::Value;

/// Sections 8 ("Termination") to 11 ("Patents") of the GPL, about 9,000
/// characters: several chunks for Minions, one window for Minion.
fn excerpt() -> String {
    let gpl = Path::new(env!("CARGO_MANIFEST_DIR")).join("../minions-bench/data/real/gpl-3.txt");
    let text = std::fs::read_to_string(&gpl).unwrap();
    let start = text.find("  8. Termination.").unwrap();
    let end = text.find("  12. No Surrender").unwrap();
    text[start..end].to_string()
}

/// Phrases that say the document does not tell.
const NOT_FOUND: &[&str] = &[
    "not in the document",
    "not mentioned",
    "does not mention",
    "do not mention",
    "does not say",
    "do not say",
    "does not specify",
    "do not specify",
    "does not provide",
    "do not provide",
    "does not contain",
    "do not contain",
    "not specified",
    "not provided",
    "no information",
    "not found",
];

struct Question {
    text: &'static str,
    right: fn(&str) -> bool,
    /// The protocols that must get it right for the test to pass. The
    /// others' answers are checked and reported (in the table and in
    /// `last-instruct-run.md`) but not required: with these small models the
    /// protocols do not yet get them right (docs/benchmarks.md), and CI must
    /// not depend on a model's luck. `MINIONS_REQUIRE_RIGHT_ANSWERS=1`
    /// requires every answer to be right.
    required: &'static [&'static str],
}

const QUESTIONS: [Question; 2] = [
    Question {
        text: "After a first notice of violation from a copyright holder, within how many days after receiving the notice must the violation be cured for the license to be reinstated?",
        right: |answer| answer.contains("30") || answer.to_lowercase().contains("thirty"),
        required: &[],
    },
    Question {
        text: "What email address should violations of this license be reported to?",
        right: |answer| {
            let lower = answer.to_lowercase();
            NOT_FOUND.iter().any(|p| lower.contains(p)) && !answer.contains('@')
        },
        // Minions says so by construction when no job finds anything.
        required: &["minions"],
    },
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instruct_models_answer_and_say_what_is_not_there() {
    let Some(env) = setup() else {
        return;
    };
    if !env.contains_key("QWEN_05B_GGUF") || !env.contains_key("QWEN_15B_GGUF") {
        let message = "instruct-model test skipped: run `cargo xtask models --instruct` to fetch Qwen2.5-Coder 0.5B and 1.5B";
        if std::env::var_os("MINIONS_REQUIRE_REAL_MODELS").is_some() {
            panic!("{message}");
        }
        eprintln!("{message}");
        return;
    }
    minions::http::install_crypto_provider();
    let local = llama_server(
        &env,
        "QWEN_05B_GGUF",
        "qwen2.5-coder-0.5b",
        &["-c", "16384", "-np", "2"],
    )
    .await;
    let remote = llama_server(
        &env,
        "QWEN_15B_GGUF",
        "qwen2.5-coder-1.5b",
        &["-c", "8192", "-np", "1"],
    )
    .await;
    let text = excerpt();
    let document =
        std::env::temp_dir().join(format!("gpl-sections-8-11-{}.txt", std::process::id()));
    std::fs::write(&document, &text).unwrap();
    let mut table = String::from(
        "| protocol | question | right | answer | remote tokens | wall |\n|---|---|---|---|---|---|\n",
    );
    let mut wrong = Vec::new();
    for protocol in ["minion", "minions"] {
        for (n, question) in QUESTIONS.iter().enumerate() {
            let label = format!("{protocol}, question {}", n + 1);
            let local_proxy = RecordingProxy::start(local.url.clone()).await;
            let remote_proxy = RecordingProxy::start(remote.url.clone()).await;
            let args = vec![
                "ask".to_string(),
                question.text.to_string(),
                "-c".into(),
                document.display().to_string(),
                "--protocol".into(),
                protocol.into(),
                "--local".into(),
                "llamacpp/qwen2.5-coder-0.5b".into(),
                "--remote".into(),
                "openai/qwen2.5-coder-1.5b".into(),
                // One round: the short check's four runs took 8.4 minutes
                // of CI with two; the bench measures more rounds.
                "--max-rounds".into(),
                "1".into(),
                "--local-concurrency".into(),
                "2".into(),
                "--json".into(),
            ];
            let (local_url, remote_url) = (
                format!("{}/v1", local_proxy.url()),
                format!("{}/v1", remote_proxy.url()),
            );
            let began = Instant::now();
            let output = tokio::task::spawn_blocking(move || {
                Command::new(env!("CARGO_BIN_EXE_minions"))
                    .args(&args)
                    .env("LLAMACPP_BASE_URL", local_url)
                    .env("OPENAI_BASE_URL", remote_url)
                    .env("OPENAI_API_KEY", "none")
                    .env("HOME", std::env::temp_dir())
                    .output()
                    .unwrap()
            })
            .await
            .unwrap();
            let wall = began.elapsed();
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(0), "{label}: {stderr}");
            let result: Value = serde_json::from_slice(&output.stdout)
                .unwrap_or_else(|e| panic!("{label}: not JSON ({e}): {stderr}"));
            let answer = result["answer"].as_str().unwrap_or_default().to_string();
            let remote_chats = remote_proxy.chats();
            assert_no_window(&text, &remote_chats, &label);
            assert!(wall < RUN_BOUND, "{label}: took {wall:?}");
            let right = (question.right)(&answer);
            let (remote_in, remote_out) = usage_of(&remote_chats);
            table.push_str(&format!(
                "| {protocol} | {} | {right} | {} | {} | {:.0} s |\n",
                n + 1,
                answer.replace(['\n', '|'], " "),
                remote_in + remote_out,
                wall.as_secs_f64()
            ));
            let required = question.required.contains(&protocol)
                || std::env::var_os("MINIONS_REQUIRE_RIGHT_ANSWERS").is_some();
            if !right && required {
                wrong.push(format!("{label}: {answer:?} (stop {})", result["stop"]));
            }
        }
    }
    eprintln!("{table}");
    let _ = std::fs::write(setup_dir().join("last-instruct-run.md"), &table);
    let _ = std::fs::remove_file(&document);
    assert!(wrong.is_empty(), "wrong answers:\n{}", wrong.join("\n"));
}
