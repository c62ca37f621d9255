//! The registry turns names into models; the pool spreads and routes around
//! dead endpoints, over real HTTP against the test kit.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use minions::{
    ApiKey, ChatModel, ChatRequest, Message, ModelSettings, ModelSpec, chat_model, check_provider,
    embedder, known_providers,
};
use minions_testkit::conformance::chat_requests;
use minions_testkit::{FakeServer, Reply, unused_local_url};
use tokio::time::Instant;

fn spec(text: &str) -> ModelSpec {
    text.parse().unwrap()
}

fn hi() -> ChatRequest {
    ChatRequest::new(vec![Message::user("hi")])
}

#[test]
fn unknown_providers_list_the_known_ones() {
    let error = chat_model(&spec("nonesuch/model"), &ModelSettings::default())
        .err()
        .unwrap();
    let text = error.to_string();
    for name in ["openai", "anthropic", "ollama", "openrouter", "llamacpp"] {
        assert!(text.contains(name), "{name} missing from: {text}");
    }
    assert_eq!(known_providers().len(), 23);
    // The check every front end uses says the same, without building.
    assert_eq!(
        check_provider(&spec("nonesuch/model"))
            .err()
            .map(|e| e.to_string()),
        Some(text)
    );
    for name in known_providers() {
        assert!(
            check_provider(&spec(&format!("{name}/m"))).is_ok(),
            "{name}"
        );
    }
    // A preset's other spellings are known too.
    assert!(check_provider(&spec("azure-openai/m")).is_ok());
}

#[test]
fn a_missing_key_names_the_variable() {
    let error = chat_model(&spec("cerebras/llama-3.3-70b"), &ModelSettings::default())
        .err()
        .unwrap();
    assert!(error.to_string().contains("CEREBRAS_API_KEY"), "{error}");
    let error = embedder(&spec("anthropic/claude"), &ModelSettings::default())
        .err()
        .unwrap();
    assert!(error.to_string().contains("no embeddings"), "{error}");
}

#[tokio::test(start_paused = true)]
async fn every_native_provider_answers_through_the_registry() {
    let server = FakeServer::start().await;
    server.respond_with(|_| Reply::text("hello"));
    for name in [
        "ollama/llama3.2",
        "anthropic/claude-haiku-4-5",
        "openai/gpt-4o",
        "vllm/qwen",
    ] {
        let base = if name.starts_with("openai") || name.starts_with("vllm") {
            server.openai_base_url()
        } else {
            server.url()
        };
        let settings = ModelSettings::default()
            .base_url(base)
            .api_key(ApiKey::new("k"));
        let model = chat_model(&spec(name), &settings).unwrap();
        assert_eq!(model.chat(&hi()).await.unwrap().content, "hello", "{name}");
        assert_eq!(model.id().to_string(), name);
    }
}

#[tokio::test(start_paused = true)]
async fn a_pool_routes_around_an_endpoint_that_is_down() {
    let server = FakeServer::start().await;
    server.respond_with(|_| Reply::text("from the live one"));
    let dead = unused_local_url().await;
    let settings = ModelSettings {
        endpoints: vec![dead, server.url()],
        ..ModelSettings::default()
    };
    let model = chat_model(&spec("ollama/llama3.2"), &settings).unwrap();
    for _ in 0..4 {
        assert_eq!(
            model.chat(&hi()).await.unwrap().content,
            "from the live one"
        );
    }
    assert_eq!(chat_requests(&server).len(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_pool_spreads_load_and_caps_each_endpoint() {
    let servers = [FakeServer::start().await, FakeServer::start().await];
    for server in &servers {
        server.respond_with(|_| Reply::text("done").after(Duration::from_secs(1)));
    }
    let settings = ModelSettings {
        endpoints: servers.iter().map(FakeServer::url).collect(),
        per_endpoint_limit: 1,
        ..ModelSettings::default()
    };
    let model: Arc<dyn ChatModel> = chat_model(&spec("ollama/llama3.2"), &settings).unwrap();
    let started = Instant::now();
    let request = hi();
    let calls = (0..4).map(|_| model.chat(&request));
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    // Four one-second requests, two endpoints, one at a time each: 2 s.
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_secs(2) && elapsed < Duration::from_millis(2500),
        "{elapsed:?}"
    );
    for server in &servers {
        let times: Vec<Instant> = chat_requests(server)
            .iter()
            .map(|r| r.received_at)
            .collect();
        assert_eq!(times.len(), 2, "load is spread evenly");
        assert!(
            times[1] - times[0] >= Duration::from_secs(1),
            "one at a time per endpoint"
        );
    }
}
