//! The web page in a real headless browser (Debian's Chromium, driven by
//! playwright-core from npm), at 1280x900 and 390x844: paste a document, ask,
//! watch the messages and jobs arrive (findings first, a done/total count),
//! see the answer, the cost chart and the past runs with their savings
//! chart, run Minion (sentences, no jobs table), cancel a slow run, and
//! check that model text is never interpreted as HTML. Screenshots land in
//! target/browser/.
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
    let history = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../target/tmp/browser-history-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&history);
    let h = start_recording(ServerConfig::default(), history.join("history.sqlite3")).await;
    // A worker that quotes HTML from the document: it must show as text. A
    // chat partner (Minion) that answers in JSON. A document marked SLOW
    // keeps the local model busy for a minute (the run to cancel).
    h.local.respond_with(|request| {
        let prompt = request.last_user_message();
        let reply = if !prompt.starts_with("Excerpt from") {
            // Model text with HTML in it, which the page must show as
            // text. (A Minions worker's citation no longer carries it: a
            // citation its chunk lacks gives way to the chunk's own
            // sentence, and an explanation the chunk does not bear out is
            // dropped.)
            Reply::text(json!({"answer": "The launch code is 7421.", "explanation": format!("It is stated in the notes. {INJECTION}")}).to_string())
        } else if prompt.contains("7421") {
            Reply::json(&json!({"explanation": format!("found it {INJECTION}"), "citation": INJECTION, "answer": "7421"}))
        } else {
            Reply::json(&json!({"explanation": "nothing", "citation": null, "answer": null}))
        };
        if request.prompt_text().contains("SLOW") {
            reply.after(std::time::Duration::from_secs(60))
        } else {
            reply
        }
    });
    // Minions' round 1 runs the task as written; the remote asks for
    // another round, so that the page also shows a plan in words.
    h.remote.respond_with(|request| {
        let prompt = request.last_user_message();
        if prompt.contains("Findings of round 1 of") {
            Reply::json(
                &json!({"reasoning": "Not found yet.", "decision": "continue", "answer": null, "feedback": "Look for the code.", "scratchpad": ""}),
            )
        } else {
            remote(request)
        }
    });
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/browser");
    std::fs::create_dir_all(&target).unwrap();
    let screenshot = target.join("page.png");
    let slow = format!("SLOW\n\n{}", document());
    // Long enough that three remote calls still cost less than reading it
    // whole, so the page shows a saving.
    let padding = "Routine notes about staffing and budgets, nothing more.\n\n".repeat(200);
    let document = format!("{}\n\n{INJECTION}\n\n{padding}", document());
    let url = format!("{}/", h.url);
    let script = script_dir.join("ui.mjs");
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node")
            .arg(script)
            .arg(url)
            .arg(&screenshot)
            .arg(document)
            .arg(slow)
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
    assert!(target.join("page-phone.png").exists());

    // The question field shows a long question whole (a text box, not one line).
    assert!(
        outcome["question"]
            .as_str()
            .unwrap()
            .ends_with("if any section does."),
        "{outcome}"
    );
    // Jobs: findings first, and how many are done of how many.
    assert_eq!(outcome["firstJobFound"], true, "{outcome}");
    let jobs = outcome["jobs"].as_u64().unwrap();
    assert_eq!(
        outcome["jobsCount"],
        format!("· {jobs} / {jobs} done"),
        "{outcome}"
    );
    // Savings in words and numbers with separators.
    assert!(
        outcome["stats"].as_str().unwrap().contains("% saved ($"),
        "{outcome}"
    );
    assert_eq!(outcome["separators"], true, "{outcome}");
    // Past runs, from the history, and the savings chart.
    assert!(outcome["pastRuns"].as_u64().unwrap() >= 1, "{outcome}");
    assert!(outcome["savingsBars"].as_u64().unwrap() >= 1, "{outcome}");
    assert!(
        outcome["savingsText"]
            .as_str()
            .unwrap()
            .contains("Saved per day"),
        "{outcome}"
    );
    // Minion: sentences, not JSON; no empty jobs table.
    assert_eq!(outcome["minionStatus"], "Done.", "{outcome}");
    assert_eq!(outcome["minionJobsHidden"], true, "{outcome}");
    let local_text = outcome["minionLocalText"].as_str().unwrap();
    assert!(
        local_text.contains("The launch code is 7421.") && !local_text.contains('{'),
        "{outcome}"
    );
    // Cancel stops the slow run at once, and the page says so.
    assert!(
        outcome["cancelStatus"]
            .as_str()
            .unwrap()
            .starts_with("The run cancelled"),
        "{outcome}"
    );
    assert!(
        outcome["cancelSeconds"].as_f64().unwrap() < 15.0,
        "{outcome}"
    );
    assert_eq!(outcome["cancelHidden"], true, "{outcome}");
    assert!(outcome["pastRunsAfter"].as_u64().unwrap() >= 3, "{outcome}");
    // A phone: the answer is in view when the run ends, nothing overflows
    // sideways, and the chart bars keep most of the width.
    let top = outcome["phoneAnswerTop"].as_f64().unwrap();
    assert!((-1.0..600.0).contains(&top), "{outcome}");
    assert!(
        outcome["phoneOverflow"].as_f64().unwrap() <= 0.0,
        "{outcome}"
    );
    assert!(
        outcome["phoneTrack"].as_f64().unwrap() >= 200.0,
        "{outcome}"
    );
}
