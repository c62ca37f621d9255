//! What a new user hits on day one, through the built binary against fake
//! servers on loopback. The remote stand-in follows the schema it is sent
//! and takes the worst option it allows (the test kit's adversary), so
//! these runs cannot pass by luck.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

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

/// A remote that keeps asking for as long as its schema lets it, in words
/// of its own: the worst option of each choice (never "final" before the
/// last round), with plausible text, so that a run goes the whole way.
fn curious_remote() -> impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static {
    let turn = AtomicUsize::new(0);
    move |request| {
        let body = request.json().unwrap_or(Value::Null);
        let Some(schema) = body.pointer("/response_format/json_schema/schema") else {
            return Reply::text("The record gives no LDL value.");
        };
        let n = turn.fetch_add(1, Ordering::SeqCst);
        let mut reply = adversary::worst(schema, Strings::Placeholder);
        for (field, text) in [
            ("reasoning", "The record needs another look.".to_string()),
            (
                "message",
                format!("Does visit {n} of the record list an LDL value?"),
            ),
            ("answer", "The record gives no LDL value.".to_string()),
        ] {
            if reply.get(field).is_some() {
                reply[field] = json!(text);
            }
        }
        Reply::json(&reply)
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

/// `minions ask "What is the LDL?" -c DOC --protocol PROTOCOL --json`, then
/// `extra`, against these fakes.
async fn ask_ldl(
    scratch: &Scratch,
    (remote, local): (&FakeServer, &FakeServer),
    doc: &str,
    protocol: &str,
    extra: &[&str],
) -> Output {
    let mut args = vec![
        "ask",
        "What is the LDL?",
        "-c",
        doc,
        "--protocol",
        protocol,
        "--json",
    ];
    args.extend_from_slice(extra);
    run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &args,
        &[],
    )
    .await
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
    // The remote plans (asked to by --plan-first-round), then fails hard
    // on the synthesis.
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
            "--plan-first-round",
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
    // Without --json, the summary goes to stderr with the error (the
    // variable asks for the planned first round this time).
    let out = run(
        &scratch.0,
        &remote.openai_base_url(),
        &local.url(),
        &["ask", "What is the LDL?", "-c", &doc],
        &[
            ("MINIONS_MAX_COST_RATIO", "0"),
            ("MINIONS_PLAN_FIRST_ROUND", "true"),
        ],
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr.contains("remote openai/gpt-4o: 2 call(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("error:"), "{stderr}");
    // Once: the summary says that the run failed, the error says why.
    assert_eq!(
        stderr
            .matches("this model does not take that request")
            .count(),
        1,
        "{stderr}"
    );
    assert!(
        !stderr.contains("cheaper"),
        "no savings for a failed run: {stderr}"
    );
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
        &[
            ("MINIONS_MAX_COST_RATIO", "0"),
            ("MINIONS_LOCAL_RETRY_SECS", "5"),
        ],
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
async fn the_cost_cap_stops_a_run_at_its_multiple_of_remote_only() {
    // A remote that always asks again: only the cap ends it early. The
    // document is long enough (about 50,000 tokens) that a quarter of
    // reading it whole is above the cap's floor.
    let remote = FakeServer::start().await;
    remote.respond_with(curious_remote());
    let local = FakeServer::start().await;
    local.respond_with(honest_local);
    let scratch = Scratch::new("cap");
    let doc = scratch.file("record.txt", &record(200_000));
    let out = ask_ldl(
        &scratch,
        (&remote, &local),
        &doc,
        "minion",
        &["--max-rounds", "20", "--max-cost-ratio", "0.25"],
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
    assert!(spent <= whole * 0.25 * 1.25, "{spent} against {whole}");
    let reason = result["stop"]["reason"].as_str().unwrap();
    assert!(reason.contains("max_cost_ratio"), "{reason}");
    // One remote-only figure: the cap's message names the summary's.
    assert!(
        reason.contains(&format!("remote-only estimate of ${whole:.4}")),
        "{reason} against {whole}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_document_is_answered_by_default_in_both_protocols() {
    // Reading a page remotely costs less than any protocol's own prompts:
    // the cap's floor lets the run answer, and still bounds it.
    for (protocol, chars) in [("minion", 2_500), ("minions", 2_500), ("minions", 12_000)] {
        let (remote, local) = adversary_and_honest_local().await;
        let scratch = Scratch::new(&format!("short-{protocol}-{chars}"));
        let doc = scratch.file("record.txt", &record(chars));
        let out = ask_ldl(&scratch, (&remote, &local), &doc, protocol, &[]).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{protocol}, {chars}: {stderr}");
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        let answer = result["answer"].as_str().unwrap();
        assert!(!answer.trim().is_empty(), "{protocol}, {chars}: {result}");
        // gpt-4o: 8,000 prompt tokens and a 300-token reply.
        let floor = 8_000.0 * 2.5e-6 + 300.0 * 10e-6;
        let spent = result["remote_cost_usd"].as_f64().unwrap();
        assert!(spent <= floor * 1.25, "{protocol}, {chars}: spent {spent}");
    }
}

/// `inner`, except that its first `n` chat answers break off in the middle
/// of the body (the connection really drops).
fn dropping_first(
    n: usize,
    inner: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
) -> impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static {
    let answered = AtomicUsize::new(0);
    move |request| match inner(request) {
        Reply::Chat(chat) if answered.fetch_add(1, Ordering::SeqCst) < n => {
            Reply::Chat(chat.drop_after(1))
        }
        other => other,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn dropped_connections_are_asked_again_on_both_sides() {
    for protocol in ["minion", "minions"] {
        let remote = FakeServer::start().await;
        remote.respond_with(dropping_first(
            1,
            adversary::responder(Strings::Placeholder),
        ));
        let local = FakeServer::start().await;
        local.respond_with(dropping_first(3, honest_local));
        let scratch = Scratch::new(&format!("dropped-{protocol}"));
        let doc = scratch.file("record.txt", &record(40_000));
        let out = ask_ldl(&scratch, (&remote, &local), &doc, protocol, &[]).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{protocol}: {stderr}");
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!result["answer"].as_str().unwrap().trim().is_empty());
        if protocol == "minions" {
            let jobs = &result["jobs"];
            assert_eq!(jobs["failed"], 0, "no job lost to a dropped answer: {jobs}");
            assert!(jobs["total"].as_u64().unwrap() > 0, "{jobs}");
        }
    }
}

/// A local server that answers `first` chat requests, then 503s ("Loading
/// model") for `outage` (forever when `None`), then answers again.
fn restarting(
    first: usize,
    outage: Option<Duration>,
) -> impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static {
    let seen = AtomicUsize::new(0);
    let down_since = std::sync::Mutex::new(None::<Instant>);
    move |request| {
        if seen.fetch_add(1, Ordering::SeqCst) < first {
            return honest_local(request);
        }
        let since = *down_since.lock().unwrap().get_or_insert_with(Instant::now);
        match outage {
            Some(outage) if since.elapsed() >= outage => honest_local(request),
            _ => Reply::status(503, "Loading model"),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_server_that_restarts_mid_run_is_waited_for() {
    let remote = FakeServer::start().await;
    remote.respond_with(curious_remote());
    let local = FakeServer::start().await;
    // Down for 9 s: longer than the five quick attempts (about 6 s).
    local.respond_with(restarting(1, Some(Duration::from_secs(9))));
    let scratch = Scratch::new("restart");
    let doc = scratch.file("record.txt", &record(8_000));
    let out = ask_ldl(&scratch, (&remote, &local), &doc, "minion", &[]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stderr.matches("retrying for up to 30 s").count(),
        1,
        "one line says so: {stderr}"
    );
    assert!(stderr.contains("answering again"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_server_that_stays_down_ends_the_run_within_its_window() {
    let remote = FakeServer::start().await;
    remote.respond_with(curious_remote());
    let local = FakeServer::start().await;
    local.respond_with(restarting(1, None));
    let scratch = Scratch::new("down");
    let doc = scratch.file("record.txt", &record(8_000));
    let began = Instant::now();
    let out = ask_ldl(
        &scratch,
        (&remote, &local),
        &doc,
        "minion",
        &["--local-retry-secs", "8"],
    )
    .await;
    let took = began.elapsed();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("retrying for up to 8 s"), "{stderr}");
    assert!(
        took >= Duration::from_secs(8),
        "the window was used: {took:?}"
    );
    assert!(took < Duration::from_secs(30), "and no more: {took:?}");
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        result["error"].as_str().unwrap().contains("503"),
        "{result}"
    );
    assert!(
        result["remote_usage"]["prompt_tokens"].as_u64().unwrap() > 0,
        "the bill is reported: {result}"
    );
}
