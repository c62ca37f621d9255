//! What the real-model tests share: the setup `cargo xtask models` writes,
//! `llama-server` children, and the checks on what the remote received.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stderr
)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use minions_testkit::Exchange;
use serde_json::Value;

/// Each run must end within this on CI's two cores.
pub(crate) const RUN_BOUND: Duration = Duration::from_secs(420);

pub(crate) fn setup_dir() -> PathBuf {
    std::env::var_os("MINIONS_REAL_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/real-models"))
}

pub(crate) fn setup() -> Option<HashMap<String, String>> {
    let file = setup_dir().join("models.env");
    let Ok(text) = std::fs::read_to_string(&file) else {
        let message = format!(
            "real-model tests skipped: {} is missing; run `cargo xtask models` (about 15 minutes the first time) to fetch the models and build llama-server",
            file.display()
        );
        if std::env::var_os("MINIONS_REQUIRE_REAL_MODELS").is_some() {
            panic!("{message}");
        }
        eprintln!("{message}");
        return None;
    };
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

/// A `llama-server` child, killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) async fn llama_server(
    env: &HashMap<String, String>,
    weights: &str,
    alias: &str,
    extra: &[&str],
) -> Server {
    let port = free_port();
    let log = setup_dir().join(format!("test-{alias}.log"));
    let child = Command::new(&env["LLAMA_SERVER"])
        .arg("-m")
        .arg(&env[weights])
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        // One thread each: on two cores, more threads spin against each
        // other and generation drops to a few tokens a second.
        .args(["-t", "1", "--alias", alias])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .expect("llama-server starts");
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let began = Instant::now();
    loop {
        if let Ok(answer) = client.get(format!("{}/health", server.url)).send().await
            && answer.status().is_success()
        {
            return server;
        }
        assert!(
            began.elapsed() < Duration::from_secs(180),
            "llama-server for {alias} did not come up; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub(crate) fn usage_of(exchanges: &[Exchange]) -> (u64, u64) {
    exchanges.iter().fold((0, 0), |(p, c), e| {
        let json = e.response_json().unwrap_or(Value::Null);
        (
            p + json
                .pointer("/usage/prompt_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            c + json
                .pointer("/usage/completion_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        )
    })
}

pub(crate) fn message_text(exchange: &Exchange) -> String {
    exchange
        .request
        .json()
        .and_then(|b| b.get("messages").cloned())
        .and_then(|m| m.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|m| m.get("content").and_then(Value::as_str).map(str::to_string))
        .collect::<Vec<_>>()
        .join("\n")
}

/// No 200-character window of `document` (taken every 100 characters) is
/// in anything the remote model received.
pub(crate) fn assert_no_window(document: &str, remote: &[Exchange], label: &str) {
    let seen: Vec<String> = remote.iter().map(message_text).collect();
    let chars: Vec<char> = document.chars().collect();
    let mut start = 0;
    while start + 200 <= chars.len() {
        let window: String = chars[start..start + 200].iter().collect();
        for text in &seen {
            assert!(
                !text.contains(&window),
                "{label}: a 200-character window of the document reached the remote model"
            );
        }
        start += 100;
    }
}
