//! Shared set-up for the end-to-end protocol tests: a fake OpenAI server as
//! the remote model and a fake Ollama server as the local one, over real
//! HTTP on 127.0.0.1.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;

use minions::{ApiKey, ChatModel, ModelSettings, RetryPolicy, chat_model};
use minions_core::Usage;
use minions_protocol::ContextDocument;
use minions_testkit::{ChatReply, FakeServer, RecordedRequest, Reply};
use serde_json::{Value, json};

pub const FACT: &str = "PLANTED-FACT: the launch code is 7421";

pub struct Models {
    pub remote_server: FakeServer,
    pub local_server: FakeServer,
    pub remote: Arc<dyn ChatModel>,
    pub local: Arc<dyn ChatModel>,
}

pub async fn models() -> Models {
    models_on(FakeServer::start().await, FakeServer::start().await)
}

/// Clients for these two servers: OpenAI's API on the first, Ollama's on
/// the second.
pub fn models_on(remote_server: FakeServer, local_server: FakeServer) -> Models {
    let remote = chat_model(
        &"openai/gpt-4o".parse().unwrap(),
        &ModelSettings::default()
            .base_url(remote_server.openai_base_url())
            .api_key(ApiKey::new("sk-test-remote-key")),
    )
    .unwrap();
    let local = chat_model(
        &"ollama/llama3.2".parse().unwrap(),
        &ModelSettings::default().base_url(local_server.url()),
    )
    .unwrap();
    Models {
        remote_server,
        local_server,
        remote,
        local,
    }
}

/// A remote reply with fixed usage, so tests can add up what was reported.
pub fn remote_json(value: Value) -> Reply {
    Reply::Chat(ChatReply::new(value.to_string()).with_usage(Usage::new(1000, 50)))
}

/// A document of about `chars` characters with unique markers throughout and
/// the planted fact in the middle.
pub fn document(chars: usize) -> ContextDocument {
    let mut text = String::with_capacity(chars + 200);
    let mut n = 0;
    while text.len() < chars {
        if n == 40 {
            text.push_str(FACT);
            text.push_str(".\n\n");
        }
        text.push_str(&format!(
            "Section {n} MARKER-{n:05}. The quarterly review covered staffing, budgets and the usual logistics in some detail.\n\n"
        ));
        n += 1;
    }
    ContextDocument::new("report.txt", text)
}

/// The unique markers planted in a document.
pub fn markers(document: &ContextDocument) -> Vec<String> {
    document
        .text
        .split_whitespace()
        .filter(|w| w.starts_with("MARKER-"))
        .map(|w| w.trim_end_matches('.').to_string())
        .collect()
}

/// A worker that answers from its excerpt: the code if the excerpt holds
/// the planted fact, null otherwise.
pub fn honest_worker(request: &RecordedRequest) -> Reply {
    honest_reply(&request.last_user_message())
}

/// An honest worker's reply to a prompt that holds its excerpt.
pub fn honest_reply(prompt: &str) -> Reply {
    if prompt.contains("launch code is 7421") {
        Reply::json(
            &json!({"explanation": "The excerpt states the launch code.", "citation": FACT, "answer": "7421"}),
        )
    } else {
        Reply::json(
            &json!({"explanation": "Nothing about a launch code here.", "citation": null, "answer": null}),
        )
    }
}

pub fn remote_requests(models: &Models) -> Vec<RecordedRequest> {
    minions_testkit::conformance::chat_requests(&models.remote_server)
}

pub fn local_chats(models: &Models) -> Vec<RecordedRequest> {
    minions_testkit::conformance::chat_requests(&models.local_server)
}

pub fn no_retries() -> RetryPolicy {
    RetryPolicy::none()
}

/// The run options of these tests: the protocol, and no cost cap (the
/// small test documents cost less to read whole than a run does; the cap
/// has tests of its own).
pub fn options(kind: minions_protocol::ProtocolKind) -> minions_protocol::RunOptions {
    minions_protocol::RunOptions::default()
        .protocol(kind)
        .max_cost_ratio(0.0)
}

impl Models {
    /// The pair as a run takes it.
    pub fn pair(&self) -> minions_protocol::RunModels {
        minions_protocol::RunModels::new(self.remote.clone(), self.local.clone())
    }
}

/// Runs with `options`, built.
pub async fn run_with(
    models: &minions_protocol::RunModels,
    task: &str,
    documents: &[ContextDocument],
    options: minions_protocol::RunOptions,
    events: Option<tokio::sync::mpsc::UnboundedSender<minions_protocol::Event>>,
) -> Result<minions_protocol::Transcript, minions_protocol::RunFailure> {
    let spec = options.build().unwrap();
    minions_protocol::run(models, task, documents, &spec, events).await
}
