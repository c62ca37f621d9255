//! The built `minions` binary against the test kit's fake Ollama and OpenAI
//! servers, configured through the variables users set.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use minions_testkit::{FakeServer, RecordedRequest, Reply};
use serde_json::{Value, json};

const FACT: &str = "The launch code is 7421.";

/// A scratch directory for a test: the working directory and HOME of the
/// binary, so no real config file leaks in.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("minions-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn document() -> String {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!(
            "Section {i}. Routine notes about staffing and budgets for the quarter.\n\n"
        ));
        if i == 17 {
            text.push_str(FACT);
            text.push_str("\n\n");
        }
    }
    text
}

/// A remote model that plans, asks and concludes.
fn remote(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if prompt.contains("Plan this round's work") {
        Reply::json(
            &json!({"tasks": [{"id": "code", "instruction": "Find the launch code.", "query": "launch code"}], "select": "all"}),
        )
    } else {
        Reply::json(
            &json!({"reasoning": "r", "decision": "final", "answer": "The launch code is 7421."}),
        )
    }
}

/// A local model that answers from what it was given.
fn local(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if prompt.starts_with("Excerpt from") {
        if prompt.contains("7421") {
            Reply::json(&json!({"explanation": "stated", "citation": FACT, "answer": "7421"}))
        } else {
            Reply::json(&json!({"explanation": "nothing", "citation": null, "answer": null}))
        }
    } else {
        Reply::text("The document says the launch code is 7421.")
    }
}

struct Fakes {
    remote: FakeServer,
    local: FakeServer,
}

async fn fakes() -> Fakes {
    let remote_server = FakeServer::start().await;
    remote_server.respond_with(remote);
    let local_server = FakeServer::start().await;
    local_server.respond_with(local);
    Fakes {
        remote: remote_server,
        local: local_server,
    }
}

/// Runs the binary with a clean environment pointing at the fakes.
async fn minions(
    fakes: &Fakes,
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
) -> Output {
    let mut command = std::process::Command::cargo_bin("minions").unwrap();
    command
        .env_clear()
        .current_dir(dir)
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env("NO_COLOR", "1")
        .env("OLLAMA_HOST", fakes.local.url())
        .env("OPENAI_BASE_URL", fakes.remote.openai_base_url())
        .env("OPENAI_API_KEY", "sk-test-cli")
        // The test documents are small: reading them whole costs less than
        // a run, so the default cost cap would stop every run. It has tests
        // of its own.
        .env("MINIONS_MAX_COST_RATIO", "0")
        .args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let stdin = stdin.map(str::to_string);
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        command.stdin(std::process::Stdio::piped());
        command.stdout(std::process::Stdio::piped());
        command.stderr(std::process::Stdio::piped());
        let mut child = command.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        drop(pipe);
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn ask_with_minions_prints_the_answer_and_a_summary() {
    let fakes = fakes().await;
    let scratch = Scratch::new("ask");
    let doc = scratch.file("report.txt", &document());
    let out = minions(
        &fakes,
        scratch.path(),
        &[
            "ask",
            "What is the launch code?",
            "--context",
            doc.to_str().unwrap(),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "The launch code is 7421.");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("remote openai/gpt-4o: 1 call(s)"),
        "{stderr}"
    );
    assert!(stderr.contains("remote-only estimate"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no colours when NO_COLOR is set: {stderr:?}"
    );
    // The remote never saw the document.
    for request in fakes.remote.requests() {
        assert!(
            !request
                .prompt_text()
                .contains("Routine notes about staffing")
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ask_with_minion_json_and_transcript() {
    let fakes = fakes().await;
    let scratch = Scratch::new("json");
    let doc = scratch.file("report.txt", &document());
    let transcript = scratch.path().join("run.json");
    let out = minions(
        &fakes,
        scratch.path(),
        &[
            "ask",
            "--task",
            "What is the launch code?",
            "-c",
            doc.to_str().unwrap(),
            "--protocol",
            "minion",
            "--json",
            "--transcript",
            transcript.to_str().unwrap(),
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value =
        serde_json::from_slice(&out.stdout).expect("stdout is exactly one JSON object");
    assert_eq!(json["answer"], "The launch code is 7421.");
    assert_eq!(json["protocol"], "minion");
    // The local model is asked the task first; the remote model decides.
    assert_eq!(json["remote_calls"], 1);
    assert!(json["remote_usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(json["remote_cost_usd"].as_f64().unwrap() > 0.0);
    assert!(json["savings_ratio"].is_number());
    assert!(json["timing"]["total"].is_number());
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&transcript).unwrap()).unwrap();
    assert_eq!(saved["result"]["answer"], "The launch code is 7421.");
    assert!(saved["events"].as_array().unwrap().len() >= 4);
    assert!(
        !std::fs::read_to_string(&transcript)
            .unwrap()
            .contains("sk-test-cli")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_question_can_come_from_stdin() {
    let fakes = fakes().await;
    let scratch = Scratch::new("stdin");
    let doc = scratch.file("report.txt", &document());
    let out = minions(
        &fakes,
        scratch.path(),
        &["ask", "-q", "-c", doc.to_str().unwrap()],
        &[],
        Some("What is the launch code?\n"),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "The launch code is 7421.");
    assert!(text(&out.stderr).is_empty(), "quiet: {}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn estimate_counts_and_prices() {
    let fakes = fakes().await;
    let scratch = Scratch::new("estimate");
    let doc = scratch.file("report.txt", &document());
    let out = minions(
        &fakes,
        scratch.path(),
        &["estimate", "-c", doc.to_str().unwrap(), "--json"],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["chars"].as_u64().unwrap() as usize,
        document().chars().count()
    );
    assert!(json["tokens"].as_u64().unwrap() > 300);
    assert!(json["remote_only_input_cost_usd"].as_f64().unwrap() > 0.0);
    let table = minions(
        &fakes,
        scratch.path(),
        &["estimate", "-c", doc.to_str().unwrap()],
        &[],
        None,
    )
    .await;
    assert!(text(&table.stdout).contains("report.txt"));
}

#[tokio::test(flavor = "multi_thread")]
async fn providers_lists_and_checks() {
    let fakes = fakes().await;
    let scratch = Scratch::new("providers");
    let out = minions(&fakes, scratch.path(), &["providers", "--check"], &[], None).await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("OPENAI_API_KEY set") && stdout.contains("ANTHROPIC_API_KEY MISSING"),
        "{stdout}"
    );
    assert!(!stdout.contains("sk-test-cli"), "keys are never printed");
    // Native providers are listed from their descriptors, with where they
    // point now and the variable that moves them.
    let ollama_line = stdout
        .lines()
        .find(|l| l.starts_with("ollama "))
        .unwrap_or_default();
    assert!(
        ollama_line.contains("local") && ollama_line.ends_with("(OLLAMA_HOST)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("local   ollama/llama3.2: ok, llama3.2 is pulled"),
        "{stdout}"
    );
    assert!(stdout.contains("remote  openai/gpt-4o: ok"), "{stdout}");

    let missing = FakeServer::builder()
        .ollama_model("qwen3", 8192)
        .start()
        .await;
    let other = Fakes {
        remote: FakeServer::start().await,
        local: missing,
    };
    let out = minions(&other, scratch.path(), &["providers", "--check"], &[], None).await;
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stdout).contains("run `ollama pull llama3.2`"),
        "{}",
        text(&out.stdout)
    );

    // A server that serves another model is not "ok" for ours.
    let gemma_only = Fakes {
        remote: FakeServer::builder()
            .serve_models(&["gemma-3-270m"])
            .start()
            .await,
        local: FakeServer::start().await,
    };
    let out = minions(
        &gemma_only,
        scratch.path(),
        &["providers", "--check"],
        &[],
        None,
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("remote  openai/gpt-4o: FAILED")
            && stdout.contains("it serves: gemma-3-270m"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_follow_flags_then_env_then_file_then_defaults() {
    let fakes = fakes().await;
    let scratch = Scratch::new("config");
    scratch.file(
        "minions.toml",
        "remote = \"anthropic/claude-sonnet-4-5\"\nmax_rounds = 7\nchunk_size = 2000\n",
    );
    let out = minions(
        &fakes,
        scratch.path(),
        &["config", "--max-rounds", "9"],
        &[("MINIONS_MAX_ROUNDS", "5"), ("MINIONS_CHUNK_SIZE", "4000")],
        None,
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let line = |key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        line("max_rounds").contains('9') && line("max_rounds").contains("command line"),
        "{stdout}"
    );
    assert!(
        line("chunk_size").contains("4000") && line("chunk_size").contains("MINIONS_CHUNK_SIZE"),
        "{stdout}"
    );
    assert!(
        line("remote").contains("anthropic/claude-sonnet-4-5")
            && line("remote").contains("minions.toml"),
        "{stdout}"
    );
    assert!(
        line("local").contains("ollama/llama3.2") && line("local").contains("default"),
        "{stdout}"
    );
    assert!(
        stdout.contains("remote key") && stdout.contains("not set (ANTHROPIC_API_KEY)"),
        "{stdout}"
    );

    scratch.file("minions.toml", "remoet = \"typo\"\n");
    let out = minions(&fakes, scratch.path(), &["config"], &[], None).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown setting `remoet`"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn each_error_class_has_its_exit_code() {
    let fakes = fakes().await;
    let scratch = Scratch::new("errors");
    let doc = scratch.file("report.txt", &document());
    let doc = doc.to_str().unwrap();
    let out = minions(
        &fakes,
        scratch.path(),
        &["ask", "q", "-c", doc, "--local", "nope/x"],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("known providers"),
        "{}",
        text(&out.stderr)
    );

    let out = minions(
        &fakes,
        scratch.path(),
        &["ask", "q", "-c", doc, "--remote", "together/m"],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("TOGETHER_API_KEY"),
        "{}",
        text(&out.stderr)
    );

    let empty = scratch.file("empty.txt", "");
    let out = minions(
        &fakes,
        scratch.path(),
        &["ask", "q", "-c", empty.to_str().unwrap()],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("is empty"),
        "{}",
        text(&out.stderr)
    );

    let out = minions(
        &fakes,
        scratch.path(),
        &["ask", "q", "-c", "missing.txt"],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr).lines().count(),
        1,
        "one clear line: {}",
        text(&out.stderr)
    );

    let out = minions(
        &fakes,
        scratch.path(),
        &["ask", "q", "-c", doc, "--frobnicate"],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "clap usage errors exit 2 too");

    let denied_local = FakeServer::start().await;
    denied_local.respond_with(local);
    let denied = Fakes {
        remote: FakeServer::start().await,
        local: denied_local,
    };
    denied
        .remote
        .respond_with(|_| Reply::status(401, "Incorrect API key provided"));
    let out = minions(&denied, scratch.path(), &["ask", "q", "-c", doc], &[], None).await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: remote model failed: openai returned HTTP 401"),
        "{stderr}"
    );
    assert!(
        last.contains("check that `OPENAI_API_KEY` is set"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("Http(HttpError"),
        "no debug dump without -v: {stderr}"
    );

    let out = minions(
        &fakes,
        scratch.path(),
        &["ask", "q", "-c", doc, "--budget-tokens", "100", "-q"],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_interrupts_with_130() {
    let fakes = fakes().await;
    fakes
        .local
        .respond_with(|_| Reply::text("slow").after(Duration::from_secs(60)));
    let scratch = Scratch::new("interrupt");
    let doc = scratch.file("report.txt", &document());
    let transcript = scratch.path().join("run.json");
    let mut command = std::process::Command::cargo_bin("minions").unwrap();
    command
        .env_clear()
        .current_dir(scratch.path())
        .env("HOME", scratch.path())
        .env("OLLAMA_HOST", fakes.local.url())
        .env("OPENAI_BASE_URL", fakes.remote.openai_base_url())
        .env("OPENAI_API_KEY", "k")
        .env("MINIONS_MAX_COST_RATIO", "0")
        .args([
            "ask",
            "q",
            "--protocol",
            "minion",
            "-q",
            "-c",
            doc.to_str().unwrap(),
            "--transcript",
            transcript.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    let child = command.spawn().unwrap();
    let pid = child.id().to_string();
    // Wait until the local model is being asked, then press Ctrl-C.
    for _ in 0..200 {
        if !fakes.local.requests().iter().all(|r| r.path != "/api/chat") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Let the local call wait a while: that wait is local time.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"));
    // Even interrupted, the run says what it spent (-q or not) and leaves
    // its transcript, marked cancelled.
    assert!(
        stderr.contains("remote openai/gpt-4o: 0 call(s)"),
        "{stderr}"
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&transcript).unwrap()).unwrap();
    assert_eq!(written["result"]["stop"]["kind"], json!("cancelled"));
    // Minion asks the local model first: no remote call was made yet.
    assert_eq!(written["result"]["remote_calls"], json!(0));
    let timing = &written["result"]["timing"];
    let (local, other) = (
        timing["local"].as_f64().unwrap(),
        timing["overhead"].as_f64().unwrap(),
    );
    assert!(
        local >= 1.2 && other < 1.0,
        "the interrupted local wait is local time: {timing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_answers_follow_ups_and_reports_cost() {
    let fakes = fakes().await;
    let scratch = Scratch::new("chat");
    let doc = scratch.file("report.txt", &document());
    let script = "What is the launch code?\n/protocol minion\nAnd again, to be sure?\n/cost\n/save session.json\n/quit\n";
    let out = minions(
        &fakes,
        scratch.path(),
        &["chat", "-q", "-c", doc.to_str().unwrap()],
        &[],
        Some(script),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.matches("The launch code is 7421.").count(),
        2,
        "{stdout}"
    );
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("2 question(s): remote 2 call(s)"),
        "{stderr}"
    );
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(scratch.path().join("session.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["runs"].as_array().unwrap().len(), 2);
    assert_eq!(saved["runs"][1]["result"]["protocol"], "minion");
    // The follow-up carried the first exchange to the remote model.
    let follow_up = fakes
        .remote
        .requests()
        .iter()
        .map(|r| r.prompt_text())
        .find(|p| p.contains("And again"))
        .unwrap();
    assert!(
        follow_up.contains("Q: What is the launch code?"),
        "{follow_up}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_python_references_cli_form_starts_chat() {
    // `minions --context <path> --protocol <minion|minions>`, as the
    // reference's README shows it: no subcommand.
    let fakes = fakes().await;
    let scratch = Scratch::new("reference-form");
    let doc = scratch.file("report.txt", &document());
    let out = minions(
        &fakes,
        scratch.path(),
        &["--context", doc.to_str().unwrap(), "--protocol", "minion"],
        &[],
        Some("What is the launch code?\n/quit\n"),
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("The launch code is 7421."),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_runs_offline() {
    let fakes = fakes().await;
    let scratch = Scratch::new("demo");
    // Both protocols: Minion reads the record as its best passages.
    for protocol in ["minions", "minion"] {
        let out = minions(
            &fakes,
            scratch.path(),
            &["demo", "--json", "--protocol", protocol],
            &[],
            None,
        )
        .await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(
            json["answer"].as_str().unwrap().contains("160/100"),
            "{json}"
        );
        assert!(json["savings_ratio"].as_f64().unwrap() > 1.0);
        // The scripted run is a clean one: no fallback, no re-ask, nothing
        // elided (the checks on what the remote may say and see pass it).
        assert_eq!(json["stop"]["kind"], "answered", "{protocol}: {json}");
        assert_eq!(json["remote_reasks"], 0, "{protocol}: {json}");
        assert!(json["redactions"].as_array().unwrap().is_empty(), "{json}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn help_lists_every_subcommand() {
    let fakes = fakes().await;
    let scratch = Scratch::new("help");
    let out = minions(&fakes, scratch.path(), &["--help"], &[], None).await;
    let stdout = text(&out.stdout);
    for command in [
        "ask",
        "chat",
        "estimate",
        "providers",
        "config",
        "demo",
        "completions",
    ] {
        assert!(
            stdout.lines().any(|l| l.trim_start().starts_with(command)),
            "{command} missing: {stdout}"
        );
    }
    let out = minions(&fakes, scratch.path(), &["completions", "bash"], &[], None).await;
    assert!(text(&out.stdout).contains("minions"));
}

/// Start-up and memory figures for the docs (run by hand):
/// `MINIONS_MEASURE_BIN=target/release/minions cargo test -p minions-cli --test cli measure -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread")]
#[ignore = "a measurement, not a test; run by hand"]
async fn measure_ask_over_a_big_file() {
    let megabytes: usize = std::env::var("MINIONS_MEASURE_MB")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(10);
    let remote_server = FakeServer::start().await;
    remote_server.respond_with(|request| {
        if request.last_user_message().contains("Plan this round's work") {
            Reply::json(&json!({"tasks": [{"id": "code", "instruction": "Find the launch code.", "query": "launch code"}], "select": {"bm25": {"top_k": 8}}}))
        } else {
            remote(request)
        }
    });
    let local_server = FakeServer::start().await;
    local_server.respond_with(local);
    let scratch = Scratch::new("measure");
    let mut big = String::with_capacity(megabytes << 20);
    while big.len() < megabytes << 20 {
        big.push_str(&document());
    }
    let doc = scratch.file("big.txt", &big);
    let binary = std::env::var("MINIONS_MEASURE_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_minions").to_string());
    let binary = std::fs::canonicalize(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(&binary),
    )
    .unwrap_or(binary.into());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("/usr/bin/time")
            .arg("-v")
            .arg(binary)
            .args([
                "ask",
                "What is the launch code?",
                "-q",
                "-c",
                doc.to_str().unwrap(),
            ])
            .env("OLLAMA_HOST", local_server.url())
            .env("OPENAI_BASE_URL", remote_server.openai_base_url())
            .env("OPENAI_API_KEY", "k")
            .env("MINIONS_MAX_COST_RATIO", "0")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    #[allow(clippy::print_stderr)]
    {
        eprintln!("stdout: {}", text(&out.stdout));
        for line in stderr.lines().filter(|l| {
            l.contains("Maximum resident") || l.contains("Elapsed") || l.contains("Exit status")
        }) {
            eprintln!("{}", line.trim());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_refuses_the_network_without_a_token() {
    let fakes = fakes().await;
    let scratch = Scratch::new("serve");
    let out = minions(
        &fakes,
        scratch.path(),
        &["serve", "--bind", "0.0.0.0:0"],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("without a token"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_run_is_in_the_history_and_history_sums_them() {
    let fakes = fakes().await;
    let scratch = Scratch::new("history");
    let doc = scratch.file("report.txt", &document());
    let doc = doc.to_str().unwrap();
    let asked = minions(
        &fakes,
        scratch.path(),
        &["ask", "What is the launch code?", "-c", doc, "--json"],
        &[],
        None,
    )
    .await;
    assert_eq!(asked.status.code(), Some(0), "{}", text(&asked.stderr));
    let result: Value = serde_json::from_slice(&asked.stdout).unwrap();
    // A private question keeps only its hash.
    let private = minions(
        &fakes,
        scratch.path(),
        &["ask", "Whose code is it?", "-c", doc, "--privacy", "-q"],
        &[],
        None,
    )
    .await;
    assert_eq!(private.status.code(), Some(0), "{}", text(&private.stderr));
    // A run that fails is recorded too, with its error.
    fakes
        .remote
        .respond_with(|_| Reply::status(400, "no such model"));
    let failed = minions(
        &fakes,
        scratch.path(),
        &["ask", "And the other code?", "-c", doc, "-q"],
        &[],
        None,
    )
    .await;
    assert_eq!(failed.status.code(), Some(3));
    // --no-history keeps nothing.
    let unrecorded = minions(
        &fakes,
        scratch.path(),
        &[
            "ask",
            "Is the launch code kept?",
            "-c",
            doc,
            "-q",
            "--no-history",
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(unrecorded.status.code(), Some(3));

    let listed = minions(&fakes, scratch.path(), &["history", "--json"], &[], None).await;
    assert_eq!(listed.status.code(), Some(0), "{}", text(&listed.stderr));
    let runs: Value = serde_json::from_slice(&listed.stdout).unwrap();
    let runs = runs.as_array().unwrap();
    assert_eq!(runs.len(), 3, "{runs:?}");
    let (newest, private_run, first) = (&runs[0], &runs[1], &runs[2]);
    assert_eq!(newest["stop"], "failed");
    assert!(newest["error"].as_str().unwrap().contains("no such model"));
    assert_eq!(
        newest["saved_usd"],
        Value::Null,
        "a failed run saved nothing"
    );
    assert_eq!(private_run["question"], Value::Null);
    assert_eq!(private_run["question_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(first["question"], "What is the launch code?");
    assert_eq!(first["answered"], true);
    assert_eq!(first["remote_model"], "openai/gpt-4o");
    let spent = first["remote_cost_usd"].as_f64().unwrap();
    assert!((spent - result["remote_cost_usd"].as_f64().unwrap()).abs() < 1e-12);
    assert_eq!(
        first["remote_only_cost_usd"],
        result["remote_only"]["cost_usd"]
    );

    let failed_only = minions(
        &fakes,
        scratch.path(),
        &["history", "--failed", "--json"],
        &[],
        None,
    )
    .await;
    let failed_runs: Value = serde_json::from_slice(&failed_only.stdout).unwrap();
    assert_eq!(failed_runs.as_array().unwrap().len(), 1);

    let id = first["id"].as_i64().unwrap().to_string();
    let shown = minions(&fakes, scratch.path(), &["history", "show", &id], &[], None).await;
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    assert!(text(&shown.stdout).contains("What is the launch code?"));

    let summary = minions(
        &fakes,
        scratch.path(),
        &["history", "summary", "--by", "day", "--json"],
        &[],
        None,
    )
    .await;
    assert_eq!(summary.status.code(), Some(0), "{}", text(&summary.stderr));
    let rows: Value = serde_json::from_slice(&summary.stdout).unwrap();
    let total = rows.as_array().unwrap().last().unwrap();
    assert_eq!(total["key"], "total");
    assert_eq!(total["runs"], 3);
    assert_eq!(total["without_answer"], 1);
    let table = minions(&fakes, scratch.path(), &["history", "summary"], &[], None).await;
    assert!(
        text(&table.stdout).contains("openai/gpt-4o"),
        "{}",
        text(&table.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_corrupt_history_never_fails_a_run() {
    let fakes = fakes().await;
    let scratch = Scratch::new("history-corrupt");
    let doc = scratch.file("report.txt", &document());
    let history = scratch.file("history.sqlite3", "not a database, a grocery list");
    let out = minions(
        &fakes,
        scratch.path(),
        &[
            "ask",
            "What is the launch code?",
            "-c",
            doc.to_str().unwrap(),
            "--history",
            history.to_str().unwrap(),
            "-q",
        ],
        &[],
        None,
    )
    .await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("7421"));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("not in the history").count(),
        1,
        "said once: {stderr}"
    );
    let listed = minions(
        &fakes,
        scratch.path(),
        &["history", "--history", history.to_str().unwrap()],
        &[],
        None,
    )
    .await;
    assert_eq!(
        listed.status.code(),
        Some(2),
        "the listing says why it cannot read it"
    );
    assert!(text(&listed.stderr).contains("history.sqlite3"));
}

/// Makes a path read-only for the rest of a test, even for root (who ignores
/// permission bits): `chattr +i` where the file system has it. Undone on
/// drop, so that `target/` can still be cleaned.
struct ReadOnly(Vec<std::path::PathBuf>);

impl ReadOnly {
    fn make(paths: &[&std::path::Path]) -> Self {
        use std::os::unix::fs::PermissionsExt;
        for path in paths {
            let mode = if path.is_dir() { 0o555 } else { 0o444 };
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        let file = paths[0];
        let writable = std::fs::OpenOptions::new().append(true).open(file).is_ok();
        if writable {
            for path in paths {
                let status = std::process::Command::new("chattr")
                    .arg("+i")
                    .arg(path)
                    .status();
                assert!(
                    status.is_ok_and(|s| s.success()),
                    "cannot make {} read-only: running as root on a file system without chattr",
                    path.display()
                );
            }
        }
        assert!(
            std::fs::OpenOptions::new().append(true).open(file).is_err(),
            "{} is still writable",
            file.display()
        );
        Self(paths.iter().map(|p| p.to_path_buf()).collect())
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        for path in &self.0 {
            let _ = std::process::Command::new("chattr")
                .arg("-i")
                .arg(path)
                .status();
            let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755));
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_only_history_never_fails_a_run() {
    let fakes = fakes().await;
    let scratch = Scratch::new("history-read-only");
    let doc = scratch.file("report.txt", &document());
    let dir = scratch.path().join("history");
    std::fs::create_dir_all(&dir).unwrap();
    let history = dir.join("history.sqlite3");
    let ask = |extra: &'static [&'static str]| {
        let mut args = vec![
            "ask".to_string(),
            "What is the launch code?".into(),
            "-c".into(),
            doc.to_str().unwrap().into(),
            "--history".into(),
            history.to_str().unwrap().into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    };
    // One run writes the history; then the file and its directory become
    // read-only.
    let args = ask(&["-q"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = minions(&fakes, scratch.path(), &refs, &[], None).await;
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(history.exists());
    let _read_only = ReadOnly::make(&[&history, &dir]);
    let out = minions(&fakes, scratch.path(), &refs, &[], None).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("7421"));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("not in the history").count(),
        1,
        "said once: {stderr}"
    );
}
