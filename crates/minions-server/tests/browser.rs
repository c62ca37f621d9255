//! The web page in a real headless browser (Debian's Chromium, driven by
//! playwright-core from npm): paste a document, ask, watch the messages and
//! jobs arrive, see the answer and the cost chart, and check that model text
//! is never interpreted as HTML. A screenshot lands in target/browser/.
//!
//! Without Chromium, Node or playwright-core the test says why it skipped;
//! `.ci/run` installs them and sets MINIONS_REQUIRE_BROWSER=1, which turns a
//! missing browser into a failure, so CI always runs it.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod common;

use std::path::{Path, PathBuf};

use common::*;
use minions_server::ServerConfig;
use minions_testkit::Reply;
use serde_json::{Value, json};

const INJECTION: &str = "<img src=x onerror=\"window.__pwned=true\">";

/// What is missing to run the browser test, if anything.
fn missing_tools(script_dir: &Path) -> Option<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        return Some(format!(
            "no Chromium at {chromium} (apt-get install chromium)"
        ));
    }
    if std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_err()
    {
        return Some("no node on PATH".into());
    }
    if !script_dir.join("node_modules/playwright-core").exists() {
        return Some(format!(
            "playwright-core is not installed (cd {} && npm install)",
            script_dir.display()
        ));
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_runs_a_question_end_to_end() {
    let script_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    if let Some(reason) = missing_tools(&script_dir) {
        if std::env::var("MINIONS_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
            panic!("the browser test must run here but cannot: {reason}");
        }
        eprintln!("browser test skipped: {reason}");
        return;
    }
    let h = start(ServerConfig::default()).await;
    // A worker that quotes HTML from the document: it must show as text.
    h.local.respond_with(|request| {
        let prompt = request.last_user_message();
        if prompt.contains("7421") {
            Reply::json(&json!({"explanation": format!("found it {INJECTION}"), "citation": INJECTION, "answer": "7421"}))
        } else {
            Reply::json(&json!({"explanation": "nothing", "citation": null, "answer": null}))
        }
    });
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser");
    std::fs::create_dir_all(&target).unwrap();
    let screenshot = target.join("page.png");
    let document = format!("{}\n\n{INJECTION}\n", document());
    let url = format!("{}/", h.url);
    let script = script_dir.join("ui.mjs");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .arg(url)
            .arg(&screenshot)
            .arg(document)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let outcome: Value = serde_json::from_str(line).unwrap_or_else(|e| {
        panic!(
            "browser script said {stdout:?} ({e}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(outcome["errors"], json!([]), "{outcome}");
    assert_eq!(outcome["answer"], "The launch code is 7421.", "{outcome}");
    assert!(
        outcome["bubbles"].as_u64().unwrap() >= 2,
        "remote messages appeared: {outcome}"
    );
    assert!(
        outcome["jobs"].as_u64().unwrap() >= 1,
        "jobs appeared: {outcome}"
    );
    let remote_text = outcome["remoteText"].as_str().unwrap_or_default();
    assert!(
        !remote_text.contains('{') && remote_text.contains("Plan:"),
        "the remote model's JSON reads as sentences: {outcome}"
    );
    assert_eq!(
        outcome["options"],
        json!(["minion", "minions"]),
        "the menu comes from /v1/models: {outcome}"
    );
    assert_eq!(
        outcome["menuClipped"], false,
        "the menu is not clipped: {outcome}"
    );
    assert!(
        outcome["bars"].as_u64().unwrap() >= 5,
        "cost and time charts: {outcome}"
    );
    assert!(
        outcome["stats"].as_str().unwrap().contains("remote cost"),
        "{outcome}"
    );
    assert_eq!(
        outcome["injected"], false,
        "model text became HTML: {outcome}"
    );
    assert_eq!(
        outcome["injectedText"], true,
        "the HTML shows as text: {outcome}"
    );
    assert!(target.join("page.png").exists());
}
