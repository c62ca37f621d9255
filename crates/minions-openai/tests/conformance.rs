//! minions-openai against the fake server: the shared conformance suite, plus
//! what is special to OpenAI-compatible servers.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use minions_core::structured::StructuredLevel;
use minions_core::{ApiKey, ChatModel, ChatRequest, Embedder, Message, ResponseFormat};
use minions_http::HttpConfig;
use minions_openai::{ConnectionSettings, OpenAiBuilder, OpenAiClient};
use minions_testkit::conformance::{self, Conformance, chat_requests};
use minions_testkit::{FakeServer, Reply};
use serde_json::json;

const READ_TIMEOUT: Duration = Duration::from_secs(5);

fn client(provider: &str, model: &str, server: &FakeServer) -> OpenAiClient {
    OpenAiBuilder::new(provider, model)
        .unwrap()
        .base_url(server.openai_base_url())
        .api_key(ApiKey::new("sk-test-key"))
        .http_config(HttpConfig {
            read_timeout: READ_TIMEOUT,
            ..HttpConfig::default()
        })
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn openai_passes_the_conformance_suite() {
    let spec = Conformance {
        provider: "openai",
        read_timeout: READ_TIMEOUT,
        reports_cached_tokens: true,
    };
    conformance::run(&spec, &|server| {
        Arc::new(client("openai", "gpt-4o", server)) as Arc<dyn ChatModel>
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn a_local_preset_passes_the_conformance_suite() {
    let spec = Conformance {
        provider: "vllm",
        read_timeout: READ_TIMEOUT,
        reports_cached_tokens: true,
    };
    conformance::run(&spec, &|server| {
        Arc::new(client("vllm", "meta-llama/Llama-3.1-8B", server)) as Arc<dyn ChatModel>
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn sends_the_key_and_asks_for_stream_usage() {
    let server = FakeServer::start().await;
    server.push(Reply::text("hi"));
    let model = client("openai", "gpt-4o", &server);
    let mut stream = model
        .chat_stream(&ChatRequest::new(vec![Message::user("x")]))
        .await
        .unwrap();
    while futures::StreamExt::next(&mut stream).await.is_some() {}
    let sent = &chat_requests(&server)[0];
    assert_eq!(sent.header("authorization"), Some("Bearer sk-test-key"));
    assert_eq!(
        sent.json().unwrap()["stream_options"]["include_usage"],
        true
    );
}

#[tokio::test(start_paused = true)]
async fn a_server_that_rejects_json_schema_gets_json_mode_and_it_is_remembered() {
    let server = FakeServer::builder().reject_json_schema().start().await;
    server
        .push(Reply::json(&json!({"answer": "yes"})))
        .push(Reply::json(&json!({"answer": "again"})));
    let model = client("llamacpp", "qwen", &server);
    assert_eq!(model.structured_level(), StructuredLevel::Schema);
    let request = ChatRequest::new(vec![Message::user("?")])
        .with_response_format(ResponseFormat::json_schema("a", json!({"type": "object"})));
    assert_eq!(
        model.chat(&request).await.unwrap().content,
        r#"{"answer":"yes"}"#
    );
    assert_eq!(model.structured_level(), StructuredLevel::JsonMode);
    model.chat(&request).await.unwrap();
    let sent = chat_requests(&server);
    // Rejected once, then JSON mode twice: the downgrade was remembered.
    assert_eq!(sent.len(), 3);
    let types: Vec<String> = sent
        .iter()
        .map(|r| {
            r.json().unwrap()["response_format"]["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, ["json_schema", "json_object", "json_object"]);
    assert!(
        sent[1].prompt_text().contains("JSON Schema"),
        "the schema moves into the prompt"
    );
}

#[tokio::test(start_paused = true)]
async fn azure_uses_deployment_urls_and_the_api_key_header() {
    let server = FakeServer::start().await;
    server.push(Reply::text("from azure"));
    let model = OpenAiBuilder::new("azure", "my-gpt4o")
        .unwrap()
        .base_url(server.url())
        .api_key(ApiKey::new("azure-key"))
        .api_version("2024-02-15-preview")
        .build()
        .unwrap();
    assert_eq!(
        model
            .chat(&ChatRequest::new(vec![Message::user("x")]))
            .await
            .unwrap()
            .content,
        "from azure"
    );
    let sent = &server.requests()[0];
    assert_eq!(sent.path, "/openai/deployments/my-gpt4o/chat/completions");
    assert_eq!(
        sent.query.as_deref(),
        Some("api-version=2024-02-15-preview")
    );
    assert_eq!(sent.header("api-key"), Some("azure-key"));
    assert_eq!(sent.header("authorization"), None);
}

#[tokio::test(start_paused = true)]
async fn openrouter_sends_attribution_headers() {
    let server = FakeServer::start().await;
    server.push(Reply::text("ok"));
    let model = client("openrouter", "meta-llama/llama-3.3-70b-instruct", &server);
    model
        .chat(&ChatRequest::new(vec![Message::user("x")]))
        .await
        .unwrap();
    let sent = &server.requests()[0];
    assert_eq!(sent.header("x-title"), Some("minions-rs"));
    assert!(sent.header("http-referer").is_some());
    assert_eq!(
        sent.model().as_deref(),
        Some("meta-llama/llama-3.3-70b-instruct")
    );
}

#[tokio::test(start_paused = true)]
async fn embeddings_round_trip() {
    let server = FakeServer::start().await;
    let model = client("openai", "text-embedding-3-small", &server);
    let inputs = vec![
        "alpha beta".to_string(),
        "gamma".to_string(),
        "alpha beta".to_string(),
    ];
    let embeddings = model.embed(&inputs).await.unwrap();
    assert_eq!(embeddings.vectors.len(), 3);
    assert_eq!(embeddings.vectors[0], embeddings.vectors[2]);
    assert_ne!(embeddings.vectors[0], embeddings.vectors[1]);
    assert!(embeddings.usage.prompt_tokens > 0);
}

#[test]
fn missing_keys_and_bad_urls_say_what_to_set() {
    let error = OpenAiBuilder::new("together", "m")
        .unwrap()
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("TOGETHER_API_KEY"), "{error}");
    let error = OpenAiBuilder::new("azure", "d")
        .unwrap()
        .api_key(ApiKey::new("k"))
        .build()
        .unwrap_err();
    assert!(
        error.to_string().contains("AZURE_OPENAI_ENDPOINT"),
        "{error}"
    );
    let error = OpenAiBuilder::new("vllm", "m")
        .unwrap()
        .base_url("localhost:8000")
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("http://"), "{error}");
    let error = OpenAiBuilder::new("nonsense", "m").unwrap_err();
    assert!(error.to_string().contains("openrouter"), "{error}");
    // Local servers need no key.
    assert!(OpenAiBuilder::new("lmstudio", "m").unwrap().build().is_ok());
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_local_server_says_how_to_fix_it() {
    let url = minions_testkit::unused_local_url().await;
    let model = OpenAiBuilder::new("vllm", "m")
        .unwrap()
        .base_url(format!("{url}/v1"))
        .retry(minions_http::RetryPolicy::none())
        .build()
        .unwrap();
    let error = model
        .chat(&ChatRequest::new(vec![Message::user("x")]))
        .await
        .unwrap_err();
    assert!(error.is_unreachable());
    assert!(error.to_string().contains("VLLM_BASE_URL"), "{error}");
}

#[test]
fn docs_list_every_preset_with_its_defaults() {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/providers.md"
    ))
    .unwrap();
    for preset in minions_openai::PRESETS {
        let row = docs
            .lines()
            .find(|line| line.starts_with(&format!("| `{}` |", preset.name)))
            .unwrap_or_else(|| panic!("docs/providers.md has no row for {}", preset.name));
        if !preset.default_base_url.is_empty() {
            assert!(
                row.contains(preset.default_base_url),
                "{}: base URL",
                preset.name
            );
        }
        for var in [preset.key_var, preset.base_url_var].into_iter().flatten() {
            assert!(row.contains(var), "{}: {var}", preset.name);
        }
        let yes_no = |flag: bool| if flag { "| yes" } else { "| no" };
        let flags = format!(
            "{} {} {} |",
            yes_no(preset.json_schema),
            if preset.json_object_schema {
                "| yes, with schema".to_string()
            } else {
                yes_no(preset.json_mode).to_string()
            },
            yes_no(preset.stream_usage)
        );
        assert!(
            row.ends_with(&flags),
            "{}: flags should end the row as `{flags}`: {row}",
            preset.name
        );
    }
}
