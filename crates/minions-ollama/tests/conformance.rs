//! minions-ollama against the fake server.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use minions_core::{ChatModel, ChatRequest, Embedder, ErrorKind, Message, ResponseFormat};
use minions_http::{HttpConfig, RetryPolicy};
use minions_ollama::{ConnectionSettings, OllamaApi, OllamaBuilder, OllamaClient};
use minions_testkit::conformance::{self, Conformance, chat_requests};
use minions_testkit::{FakeServer, Reply, unused_local_url};
use serde_json::json;

const READ_TIMEOUT: Duration = Duration::from_secs(5);

fn client(model: &str, server: &FakeServer) -> OllamaClient {
    OllamaBuilder::new(model)
        .base_url(server.url())
        .keep_alive("10m")
        .http_config(HttpConfig {
            read_timeout: READ_TIMEOUT,
            ..HttpConfig::default()
        })
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn ollama_passes_the_conformance_suite() {
    let spec = Conformance {
        provider: "ollama",
        read_timeout: READ_TIMEOUT,
        reports_cached_tokens: false,
    };
    conformance::run(&spec, &|server| {
        Arc::new(client("llama3.2", server)) as Arc<dyn ChatModel>
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn num_ctx_is_sized_from_the_prompt_and_the_model_is_asked_once() {
    let server = FakeServer::builder()
        .ollama_model("llama3.2", 131_072)
        .start()
        .await;
    server.push(Reply::text("short")).push(Reply::text("long"));
    let model = client("llama3.2", &server);
    model
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .unwrap();
    let long = ChatRequest::new(vec![Message::user("word ".repeat(20_000))]).with_max_tokens(1000);
    model.chat(&long).await.unwrap();
    let sent = chat_requests(&server);
    let num_ctx: Vec<u64> = sent
        .iter()
        .map(|r| r.json().unwrap()["options"]["num_ctx"].as_u64().unwrap())
        .collect();
    assert_eq!(num_ctx[0], 2048);
    assert!(
        num_ctx[1] >= 26_000 && num_ctx[1].is_multiple_of(1024),
        "{num_ctx:?}"
    );
    assert_eq!(sent[1].json().unwrap()["keep_alive"], "10m");
    let shows = server
        .requests()
        .iter()
        .filter(|r| r.path == "/api/show")
        .count();
    assert_eq!(shows, 1, "the context length is cached per model");
    assert_eq!(model.capabilities().max_context_tokens, Some(131_072));
}

#[tokio::test(start_paused = true)]
async fn a_prompt_that_cannot_fit_is_refused_with_both_numbers() {
    let server = FakeServer::builder()
        .ollama_model("llama3.2", 8192)
        .start()
        .await;
    let model = client("llama3.2", &server);
    let request = ChatRequest::new(vec![Message::user("word ".repeat(40_000))]);
    let error = model.chat(&request).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidRequest);
    let text = error.to_string();
    assert!(text.contains("8192") && text.contains("51028"), "{text}");
    assert!(
        chat_requests(&server).is_empty(),
        "nothing was sent to be truncated"
    );
}

#[tokio::test(start_paused = true)]
async fn a_model_that_is_not_pulled_says_ollama_pull() {
    let server = FakeServer::builder()
        .ollama_model("llama3.2", 8192)
        .start()
        .await;
    let model = client("qwen3:8b", &server);
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("ollama pull qwen3:8b"),
        "{error}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test(start_paused = true)]
async fn connection_refused_says_how_to_start_ollama() {
    let url = unused_local_url().await;
    let model = OllamaBuilder::new("llama3.2")
        .base_url(url)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("hi")]))
        .await
        .unwrap_err();
    assert!(error.is_unreachable());
    assert!(error.to_string().contains("ollama serve"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn structured_output_sends_the_schema_as_format() {
    let server = FakeServer::start().await;
    server.push(Reply::json(&json!({"answer": null})));
    let schema = json!({"type": "object", "properties": {"answer": {"type": ["string", "null"]}}});
    let request = ChatRequest::new(vec![Message::user("?")])
        .with_response_format(ResponseFormat::json_schema("w", schema.clone()));
    client("llama3.2", &server).chat(&request).await.unwrap();
    assert_eq!(chat_requests(&server)[0].json().unwrap()["format"], schema);
}

#[tokio::test(start_paused = true)]
async fn embeddings_and_tags() {
    let server = FakeServer::builder()
        .ollama_model("nomic-embed-text", 8192)
        .start()
        .await;
    let model = client("nomic-embed-text", &server);
    let embeddings = model
        .embed(&["a b".to_string(), "c".to_string()])
        .await
        .unwrap();
    assert_eq!(embeddings.vectors.len(), 2);
    assert_eq!(
        model.list_models().await.unwrap(),
        ["nomic-embed-text:latest"]
    );
}
