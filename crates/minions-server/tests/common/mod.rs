//! A server on a random loopback port with the test kit's fakes behind it.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;

use minions::ollama::OllamaBuilder;
use minions::openai::OpenAiBuilder;
use minions::{ApiKey, ChatModel, ConnectionSettings, Engine, Pricing, RunModels};
use minions_server::{ServerConfig, ServerModels, app};
use minions_testkit::{FakeServer, RecordedRequest, Reply};
use serde_json::json;

pub const FACT: &str = "The launch code is 7421.";

pub struct Harness {
    pub url: String,
    pub remote: FakeServer,
    pub local: FakeServer,
    _server: tokio::task::JoinHandle<()>,
}

pub fn remote(request: &RecordedRequest) -> Reply {
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

pub fn local(request: &RecordedRequest) -> Reply {
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

pub fn document() -> String {
    let mut text = String::new();
    for i in 0..20 {
        text.push_str(&format!(
            "Section {i}. Routine notes about staffing and budgets.\n\n"
        ));
        if i == 11 {
            text.push_str(FACT);
            text.push_str("\n\n");
        }
    }
    text
}

pub async fn start(config: ServerConfig) -> Harness {
    start_with(config, false).await
}

/// The local fake's answers, and one vector per input on Ollama's embed
/// route (a word count, so that the chunk with the fact is nearest).
pub fn local_with_embeddings(request: &RecordedRequest) -> Reply {
    if request.path == "/api/embed" {
        let body = request.json().unwrap_or_default();
        let inputs = match &body["input"] {
            serde_json::Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().unwrap_or_default().to_string())
                .collect(),
            other => vec![other.as_str().unwrap_or_default().to_string()],
        };
        let vectors = inputs
            .iter()
            .map(|text: &String| {
                let launch = text.matches("launch").count() as f32;
                vec![1.0 + launch, 1.0]
            })
            .collect();
        return Reply::Embeddings(vectors);
    }
    local(request)
}

/// A server whose local fake also embeds, with that fake as the server's
/// embedder when `embedder` is set (`--embedding-model`).
pub async fn start_with(config: ServerConfig, embedder: bool) -> Harness {
    start_full(config, embedder, None).await
}

/// A server that records its runs in the run history at `history` (as
/// `minions serve` does) and reads past runs from it.
#[allow(dead_code)] // not every test file uses it
pub async fn start_recording(config: ServerConfig, history: std::path::PathBuf) -> Harness {
    start_full(config, false, Some(history)).await
}

async fn start_full(
    config: ServerConfig,
    embedder: bool,
    history: Option<std::path::PathBuf>,
) -> Harness {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let remote_server = FakeServer::start().await;
    remote_server.respond_with(remote);
    let local_server = FakeServer::start().await;
    local_server.respond_with(local_with_embeddings);
    let remote_model: Arc<dyn ChatModel> = Arc::new(
        OpenAiBuilder::new("openai", "gpt-4o")
            .unwrap()
            .base_url(remote_server.openai_base_url())
            .api_key(ApiKey::new("sk-server-secret"))
            .build()
            .unwrap(),
    );
    let local_model: Arc<dyn ChatModel> = Arc::new(
        OllamaBuilder::new("llama3.2")
            .base_url(local_server.url())
            .build()
            .unwrap(),
    );
    let mut models = RunModels::new(remote_model, local_model);
    if embedder {
        models = models.with_embedder(Arc::new(
            OllamaBuilder::new("nomic-embed-text")
                .base_url(local_server.url())
                .build()
                .unwrap(),
        ));
    }
    // Small test documents cost less to read whole than a run does.
    let options = minions::RunOptions::default().max_cost_ratio(0.0);
    let mut engine = Engine::new(models, Pricing::builtin(), options);
    if let Some(path) = history.clone() {
        let store = std::sync::Mutex::new(minions_history::HistoryStore::open(path).unwrap());
        engine = engine.with_observer(Arc::new(move |ended: &minions::protocol::RunEnded<'_>| {
            let record = minions_history::RunRecord::of(
                ended.result,
                minions_history::Source::Server,
                ended.task,
                ended.private,
                ended.error,
                minions_history::now(),
            );
            store.lock().unwrap().record(&record).unwrap();
        }));
    }
    let models = ServerModels { engine, history };
    let (router, _) = app(&config, models);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum_serve(listener, router).await;
    });
    Harness {
        url,
        remote: remote_server,
        local: local_server,
        _server: server,
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, router: axum::Router) {
    let _ = axum::serve(listener, router).await;
}
