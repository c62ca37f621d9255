//! What a new user hits on day one, through the built binary against fake
//! servers on loopback. The remote stand-in follows the schema it is sent
//! and takes the worst option it allows (the test kit's adversary), so
//! these runs cannot pass by luck.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use minions_testkit::adversary::{self, Strings};
use minions_testkit::{FakeServer, RecordedRequest, Reply};
use serde_json::{Value, json};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("minions-day1-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn file(&self, name: &str, text: &str) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A record without the fact asked for.
fn record(chars: usize) -> String {
    let mut text = String::new();
    let mut n = 0;
    while text.len() < chars {
        text.push_str(&format!(
            "Visit {n}: routine check, weight stable, no new complaints, advice on diet repeated.\n\n"
        ));
        n += 1;
    }
    text
}

fn honest_local(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if prompt.starts_with("Excerpt from") {
        Reply::json(
            &json!({"explanation": "Not in this excerpt.", "citation": null, "answer": null}),
        )
    } else {
        Reply::text("The documents do not give an LDL value.")
    }
}

/// The worst remote the schema allows, and a local model that finds
/// nothing.
async fn adversary_and_honest_local() -> (FakeServer, FakeServer) {
    let remote = FakeServer::start().await;
    remote.respond_with(adversary::responder(Strings::Placeholder));
    let local = FakeServer::start().await;
    local.respond_with(honest_local);
    (remote, local)
}

async fn run(dir: &Path, remote: &str, local: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = std::process::Command::cargo_bin("minions").unwrap();
    command
        .env_clear()
        .current_dir(dir)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env("OLLAMA_HOST", local)
        .env("OPENAI_BASE_URL", remote)
        .env("OPENAI_API_KEY", "sk-test")
        .args(args)
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_question_the_documents_do_not_answer_gets_an_answer_in_both_protocols() {
    for protocol in ["minion", "minions"] {
        let remote = FakeServer::start().await;
        remote.respond_with(adversary::responder(Strings::Placeholder));
        let local = FakeServer::start().await;
        local.respond_with(honest_local);
        let scratch = Scratch::new(&format!("noanswer-{protocol}"));
        let doc = scratch.file("record.txt", &record(200_000));
        let out = run(
            &scratch.0,
            &remote.openai_base_url(),
            &local.url(),
            &[
                "ask",
                "What is the LDL cholesterol value?",
                "-c",
                &doc,
                "--protocol",
                protocol,
            ],
            &[("MINIONS_MAX_COST_RATIO", "0")],
        )
        .await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{protocol}: {stderr}");
        let answer = text(&out.stdout);
        assert!(!answer.trim().is_empty(), "{protocol}: an answer");
        assert!(
            !minions::protocol::prompts::copies_prompt(answer.trim()),
            "{protocol}: not our prompt's text: {answer}"
        );
        assert!(
            stderr.contains("remote openai/gpt-4o"),
            "the bill: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_five_megabyte_line_is_answered() {
    let (remote, local) = adversary_and_honest_local().await;
    let scratch = Scratch::new("big");
    let doc = scratch.file(
        "one-line.txt",
        &"lorem ipsum dolor sit amet ".repeat(5_000_000 / 27),
    );
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &[
            "ask",
            "What is the LDL cholesterol value?",
            "-c",
            &doc,
            "--max-rounds",
            "1",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(result["jobs"]["total"].as_u64().unwrap() <= 128, "{result}");
    assert!(!result["answer"].as_str().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_run_still_reports_its_cost_transcript_and_json() {
    // The remote plans, then fails hard on the synthesis.
    let remote = FakeServer::start().await;
    remote.respond_with(|request: &RecordedRequest| {
        if request.last_user_message().contains("Plan this round's work") {
            Reply::json(&json!({"tasks": [{"id": "ldl", "instruction": "Find the LDL value.", "advice": "", "query": "LDL"}],
                "chunking": {"unit": "chars", "size": 3000, "overlap": 0}, "select": {"bm25": {"top_k": 2}}, "samples": 1}))
        } else {
            Reply::status(400, "this model does not take that request")
        }
    });
    let local = FakeServer::start().await;
    local.respond_with(honest_local);
    let scratch = Scratch::new("failed");
    let doc = scratch.file("record.txt", &record(20_000));
    let transcript = scratch.0.join("run.json");
    std::fs::write(&transcript, "stale").unwrap();
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &[
            "ask",
            "What is the LDL?",
            "-c",
            &doc,
            "--json",
            "--transcript",
            transcript.to_str().unwrap(),
        ],
        &[("MINIONS_MAX_COST_RATIO", "0")],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        result["error"].as_str().unwrap().contains("HTTP 400"),
        "{result}"
    );
    assert_eq!(result["remote_calls"], json!(2));
    assert!(result["remote_usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(result["remote_cost_usd"].as_f64().unwrap() > 0.0);
    assert_eq!(result["stop"]["kind"], json!("failed"));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&transcript).unwrap()).unwrap();
    assert_eq!(
        written["result"]["stop"]["kind"],
        json!("failed"),
        "not the stale file"
    );
    // Without --json, the summary goes to stderr with the error.
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &["ask", "What is the LDL?", "-c", &doc],
        &[("MINIONS_MAX_COST_RATIO", "0")],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr.contains("remote openai/gpt-4o: 2 call(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("error:"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn with_the_local_server_down_the_remote_receives_nothing() {
    let remote = FakeServer::start().await;
    remote.respond_with(adversary::responder(Strings::Placeholder));
    let dead = minions_testkit::unused_local_url().await;
    let scratch = Scratch::new("down");
    let doc = scratch.file("record.txt", &record(5_000));
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &dead,
        &["ask", "What is the LDL?", "-c", &doc],
        &[],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert_eq!(
        remote.request_count(),
        0,
        "no request at all reached the remote"
    );
    assert!(
        stderr.contains("ollama serve") && stderr.contains("OLLAMA_HOST"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("WARN"),
        "no retry noise by default: {stderr}"
    );
    let error_lines = stderr.lines().filter(|l| l.starts_with("error:")).count();
    assert_eq!(error_lines, 1, "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_question_and_the_context_go_in_either_order() {
    let (remote, local) = adversary_and_honest_local().await;
    let scratch = Scratch::new("order");
    let doc = scratch.file("record.txt", &record(5_000));
    for args in [
        vec!["ask", "What is the LDL?", "-c", &doc],
        vec!["ask", "-c", &doc, "What is the LDL?"],
        vec![
            "ask",
            "--context",
            &doc,
            "What is the LDL?",
            "--max-rounds",
            "1",
        ],
    ] {
        let out = run(
            &scratch.0,
            &remote.openai_base_url(),
            &local.url(),
            &args,
            &[("MINIONS_MAX_COST_RATIO", "0")],
        )
        .await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // A question given where a file belongs gets a hint.
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &["ask", "-c", "What is the LDL value?"],
        &[],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("reads like a question"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_input_gets_the_same_verdict_everywhere() {
    let scratch = Scratch::new("verdict");
    let doc = scratch.file("record.txt", &record(1_000));
    for command in [
        vec!["estimate", "-c", &doc, "--remote", "foo/bar"],
        vec!["ask", "q?", "-c", &doc, "--remote", "foo/bar"],
    ] {
        let out = run(
            &scratch.0,
            "http://127.0.0.1:9/v1",
            "http://127.0.0.1:9",
            &command,
            &[],
        )
        .await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{command:?}: {stderr}");
        assert!(stderr.contains("unknown provider `foo`"), "{stderr}");
    }
    let out = run(
        &scratch.0,
        "http://127.0.0.1:9/v1",
        "http://127.0.0.1:9",
        &["ask", "q?", "-c", &doc, "--max-rounds", "0"],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("max_rounds must be between 1 and 20, not 0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn ollama_is_asked_for_the_model_once_per_run() {
    let (remote, local) = adversary_and_honest_local().await;
    let scratch = Scratch::new("show");
    let doc = scratch.file("record.txt", &record(40_000));
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &["ask", "What is the LDL?", "-c", &doc, "--max-rounds", "1"],
        &[("MINIONS_MAX_COST_RATIO", "0")],
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shows = local
        .requests()
        .iter()
        .filter(|r| r.path == "/api/show")
        .count();
    assert_eq!(shows, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_accepts_a_host_name() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let scratch = Scratch::new("serve");
    let mut child = std::process::Command::cargo_bin("minions")
        .unwrap()
        .env_clear()
        .env("HOME", &scratch.0)
        .env("OPENAI_API_KEY", "sk-test")
        .args(["serve", "--bind", &format!("localhost:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    minions::http::install_crypto_provider();
    let client = reqwest::Client::new();
    let mut up = false;
    for _ in 0..100 {
        if client
            .get(format!("http://127.0.0.1:{port}/v1/models"))
            .send()
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(up, "minions serve --bind localhost:PORT listens");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_server_failing_every_request_stops_the_run_soon() {
    let remote = FakeServer::start().await;
    remote.respond_with(adversary::responder(Strings::Placeholder));
    let local = FakeServer::start().await;
    local.respond_with(|_| Reply::status(503, "overloaded"));
    let scratch = Scratch::new("breaker");
    let doc = scratch.file("record.txt", &record(200_000));
    let began = std::time::Instant::now();
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &["ask", "What is the LDL?", "-c", &doc, "--json"],
        &[("MINIONS_MAX_COST_RATIO", "0")],
    )
    .await;
    let took = began.elapsed();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        took < std::time::Duration::from_secs(45),
        "stopped after {took:?}"
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        result["error"].as_str().unwrap().contains("in a row"),
        "{result}"
    );
    assert!(
        result["remote_usage"]["prompt_tokens"].as_u64().unwrap() > 0,
        "the plan's cost is reported"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn by_default_a_run_never_costs_more_than_reading_the_document() {
    // A remote that always asks again: only the cap ends it early. (Minions
    // over a short document whose jobs find nothing now ends with "the
    // documents do not say" after one round, so Minion is the one that can
    // run on.)
    let (remote, local) = adversary_and_honest_local().await;
    let scratch = Scratch::new("cap");
    let doc = scratch.file("record.txt", &record(8_000));
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &[
            "ask",
            "What is the LDL?",
            "-c",
            &doc,
            "--protocol",
            "minion",
            "--max-rounds",
            "10",
            "--json",
        ],
        &[],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(4),
        "a budget stop: {}",
        text(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let spent = result["remote_cost_usd"].as_f64().unwrap();
    let whole = result["remote_only"]["cost_usd"].as_f64().unwrap();
    assert!(spent <= whole * 1.25, "{spent} against {whole}");
    assert!(
        result["stop"]["reason"]
            .as_str()
            .unwrap()
            .contains("max_cost_ratio")
    );
}
