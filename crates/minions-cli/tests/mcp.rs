//! `minions mcp` driven by an MCP client we did not write: the official
//! Python SDK (`mcp` on PyPI), over stdio and over streamable HTTP, against
//! the test kit's fake providers. `.ci/run` installs the client into
//! `target/mcp-client`; without it these tests are skipped, unless
//! `MINIONS_REQUIRE_MCP_CLIENT=1` makes that a failure.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use assert_cmd::cargo::CommandCargoExt;
use minions_testkit::adversary::{self, Strings};
use minions_testkit::{FakeServer, RecordedRequest, Reply};
use serde_json::{Value, json};

/// A sentence only the document holds: it must never reach the remote.
const SECRET: &str = "The vault combination is 31-4-15-92.";

fn python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MINIONS_MCP_PYTHON") {
        return Some(PathBuf::from(path));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/mcp-client/bin/python");
    let ok = venv.exists()
        && Command::new(&venv)
            .args(["-c", "import mcp"])
            .status()
            .is_ok_and(|s| s.success());
    if ok {
        return Some(venv);
    }
    assert!(
        std::env::var("MINIONS_REQUIRE_MCP_CLIENT").as_deref() != Ok("1"),
        "MINIONS_REQUIRE_MCP_CLIENT=1 but no MCP client: python3 -m venv target/mcp-client && target/mcp-client/bin/pip install mcp==2.3.0"
    );
    eprintln!("skipped: no Python MCP client in target/mcp-client (see .ci/run)");
    None
}

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("minions-mcp-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("docs")).unwrap();
        let mut record = String::new();
        for n in 0..400 {
            record.push_str(&format!(
                "Visit {n}: routine check, weight stable, no new complaints.\n\n"
            ));
        }
        record.push_str(SECRET);
        std::fs::write(dir.join("docs/record.txt"), record).unwrap();
        std::fs::write(dir.join("private.txt"), "not for the agent").unwrap();
        Self(dir)
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).display().to_string()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// How a job over the slow document starts, which the cancel check counts.
const SLOW_JOB: &str = "Excerpt from slow.txt";

fn honest_local(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if prompt.starts_with(SLOW_JOB) {
        return Reply::json(
            &json!({"explanation": "Nothing here.", "citation": null, "answer": null}),
        )
        .after(std::time::Duration::from_secs(2));
    }
    if prompt.starts_with("Excerpt from") {
        Reply::json(
            &json!({"explanation": "Not in this excerpt.", "citation": null, "answer": null}),
        )
    } else {
        Reply::text("The documents do not give an LDL value.")
    }
}

async fn fakes() -> (FakeServer, FakeServer) {
    let remote = FakeServer::start().await;
    remote.respond_with(adversary::responder(Strings::Placeholder));
    let local = FakeServer::start().await;
    local.respond_with(honest_local);
    (remote, local)
}

fn minions(dir: &Path, remote: &FakeServer, local: &FakeServer) -> Command {
    let mut command = Command::cargo_bin("minions").unwrap();
    command
        .env_clear()
        .current_dir(dir)
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env("OLLAMA_HOST", local.url())
        .env("OPENAI_BASE_URL", remote.openai_base_url())
        .env("OPENAI_API_KEY", "sk-mcp-test-key")
        .env("MINIONS_MAX_COST_RATIO", "0");
    command
}

/// What every transport must show: the tools, a run with progress and
/// usage, a refused path, a refused option, an estimate, and the document
/// never at the remote.
fn check(seen: &Value, remote: &FakeServer, local: &FakeServer) {
    let tools = seen["tools"].as_object().unwrap();
    assert!(
        tools.contains_key("ask") && tools.contains_key("estimate"),
        "{tools:?}"
    );
    let ask_schema = &tools["ask"];
    assert!(
        ask_schema["properties"]["question"].is_object(),
        "{ask_schema}"
    );
    assert!(
        ask_schema.to_string().contains("max_rounds"),
        "run options in the schema"
    );

    let ask = &seen["ask"];
    assert_eq!(ask["is_error"], false, "{ask}");
    assert!(!ask["text"].as_str().unwrap().trim().is_empty());
    let structured = &ask["structured"];
    assert!(
        structured["remote_usage"]["prompt_tokens"]
            .as_u64()
            .unwrap()
            > 0,
        "{structured}"
    );
    assert!(structured["remote_cost_usd"].is_number());
    assert!(
        structured["jobs"]["total"].as_u64().unwrap() > 0,
        "{structured}"
    );
    assert!(structured["remote_only"]["prompt_tokens"].as_u64().unwrap() > 0);
    let progress = seen["progress"].as_array().unwrap();
    assert!(progress.len() >= 3, "progress notifications: {progress:?}");
    assert!(
        progress
            .iter()
            .any(|p| p["message"].as_str().unwrap_or("").contains("job")),
        "{progress:?}"
    );

    let outside = &seen["outside"];
    assert_eq!(outside["is_error"], true, "{outside}");
    assert!(
        outside["text"]
            .as_str()
            .unwrap()
            .contains("outside the allowed directories"),
        "{outside}"
    );
    let bad = &seen["bad_option"];
    assert_eq!(bad["is_error"], true);
    assert!(
        bad["text"]
            .as_str()
            .unwrap()
            .contains("max_rounds must be between 1 and 20, not 0"),
        "{bad}"
    );
    let estimate = &seen["estimate"];
    assert_eq!(estimate["is_error"], false);
    assert!(
        estimate["structured"]["tokens"].as_u64().unwrap() > 0,
        "{estimate}"
    );

    // The slow run was cancelled 1.5 s in, one job at a time, 2 s a job; the
    // client then waited 6 s. Had the run gone on, at least three more jobs
    // would have reached the local model.
    assert_eq!(seen["cancelled"], true, "the client cancelled the call");
    assert_eq!(
        seen["after_cancel"]["is_error"], false,
        "the session lives on"
    );
    let slow_jobs = local
        .requests()
        .iter()
        .filter(|r| r.last_user_message().starts_with(SLOW_JOB))
        .count();
    assert!(
        (1..=2).contains(&slow_jobs),
        "{slow_jobs} slow jobs: the cancelled run went on"
    );

    let everything = serde_json::to_string(seen).unwrap();
    assert!(
        !everything.contains("sk-mcp-test-key"),
        "the key never appears in a tool result"
    );
    for request in remote.requests() {
        assert!(
            !request.prompt_text().contains(SECRET),
            "the document reached the remote"
        );
    }
}

/// Stops the server however the test ends.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the Python client with these arguments (on a blocking thread: the
/// fake servers run on this test's runtime) and reads what it saw.
async fn run_client(mut client: Command, args: Vec<String>) -> Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp/client.py");
    tokio::task::spawn_blocking(move || {
        let output = client.arg(script).args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            output.status.success(),
            "client failed:\n{stdout}\n{stderr}"
        );
        serde_json::from_str::<Value>(stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_client_over_stdio_reads_only_under_its_roots() {
    let Some(python) = python() else { return };
    let (remote, local) = fakes().await;
    let scratch = Scratch::new("stdio");
    // No --allow-dir: the only readable directory is the root the client
    // declares (docs/), so private.txt beside it is refused.
    let command = minions(&scratch.0, &remote, &local);
    let mut client = Command::new(&python);
    client.current_dir(&scratch.0);
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            client.env(key, value);
        }
    }
    let args = vec![
        "stdio".to_string(),
        command.get_program().to_string_lossy().into_owned(),
        scratch.path("docs/record.txt"),
        scratch.path("private.txt"),
        scratch.path("docs"),
    ];
    let seen = run_client(client, args).await;
    check(&seen, &remote, &local);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_remote_key_the_server_starts_and_says_what_to_set() {
    let Some(python) = python() else { return };
    let (remote, local) = fakes().await;
    let scratch = Scratch::new("nokey");
    let mut command = minions(&scratch.0, &remote, &local);
    command.env_remove("OPENAI_API_KEY");
    let mut client = Command::new(&python);
    client.current_dir(&scratch.0).env_clear();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            client.env(key, value);
        }
    }
    let args = vec![
        "nokey".to_string(),
        command.get_program().to_string_lossy().into_owned(),
    ];
    let seen = run_client(client, args).await;
    let tools = seen["tools"].to_string();
    assert!(
        tools.contains("ask") && tools.contains("estimate"),
        "{seen}"
    );
    let instructions = seen["instructions"].as_str().unwrap();
    assert!(instructions.contains("OPENAI_API_KEY"), "{instructions}");
    assert_eq!(seen["ask"]["is_error"], true, "{seen}");
    let said = seen["ask"]["text"].as_str().unwrap();
    assert!(said.contains("OPENAI_API_KEY"), "{said}");
    assert!(remote.requests().is_empty(), "nothing reached the remote");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_real_client_over_http_needs_the_token_and_reads_only_allowed_dirs() {
    let Some(python) = python() else { return };
    let (remote, local) = fakes().await;
    let scratch = Scratch::new("http");
    let mut server = minions(&scratch.0, &remote, &local)
        .args([
            "mcp",
            "--http",
            "127.0.0.1:0",
            "--token",
            "t0ken",
            "--allow-dir",
        ])
        .arg(scratch.path("docs"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stderr.take().unwrap()).lines();
    let _server = KillOnDrop(server);
    let url = loop {
        let line = lines
            .next()
            .expect("the server says where it listens")
            .unwrap();
        if let Some(start) = line.find("http://") {
            break line[start..].split_whitespace().next().unwrap().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});

    // Without the token: 401.
    minions::http::install_crypto_provider();
    let status = reqwest::Client::new()
        .post(&url)
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 401);

    let args = vec![
        "http".to_string(),
        url,
        scratch.path("docs/record.txt"),
        scratch.path("private.txt"),
        "t0ken".to_string(),
    ];
    let seen = run_client(Command::new(&python), args).await;
    check(&seen, &remote, &local);
}

#[test]
fn help_documents_both_transports() {
    let output = Command::cargo_bin("minions")
        .unwrap()
        .args(["mcp", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    for needle in ["stdio", "--http", "--allow-dir", "--token", "Bearer"] {
        assert!(help.contains(needle), "{needle} in:\n{help}");
    }
}
