//! minions-anthropic against the fake server.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use minions_anthropic::{AnthropicBuilder, AnthropicClient, ConnectionSettings};
use minions_core::structured::StructuredLevel;
use minions_core::{ApiKey, ChatModel, ChatRequest, Message, ResponseFormat};
use minions_http::HttpConfig;
use minions_testkit::conformance::{self, Conformance, chat_requests};
use minions_testkit::{FakeServer, Reply};
use serde_json::json;

const READ_TIMEOUT: Duration = Duration::from_secs(5);

fn client(server: &FakeServer) -> AnthropicClient {
    AnthropicBuilder::new("claude-sonnet-4-5")
        .base_url(server.url())
        .api_key(ApiKey::new("sk-ant-test"))
        .http_config(HttpConfig {
            read_timeout: READ_TIMEOUT,
            ..HttpConfig::default()
        })
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn anthropic_passes_the_conformance_suite() {
    let spec = Conformance {
        provider: "anthropic",
        read_timeout: READ_TIMEOUT,
        reports_cached_tokens: true,
    };
    conformance::run(&spec, &|server| {
        Arc::new(client(server)) as Arc<dyn ChatModel>
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn sends_key_version_and_a_separate_system_prompt() {
    let server = FakeServer::start().await;
    server.push(Reply::text("ok"));
    let request = ChatRequest::new(vec![Message::system("be brief"), Message::user("hi")]);
    client(&server).chat(&request).await.unwrap();
    let sent = &chat_requests(&server)[0];
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    let body = sent.json().unwrap();
    assert_eq!(body["system"][0]["text"], "be brief");
    assert_eq!(body["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(body["messages"], json!([{"role": "user", "content": "hi"}]));
    assert_eq!(body["max_tokens"], 4096);
}

#[tokio::test(start_paused = true)]
async fn structured_output_uses_a_forced_tool_and_streams_its_json() {
    let server = FakeServer::start().await;
    server.push(Reply::json(&json!({"answer": "42"})));
    let model = client(&server);
    let request = ChatRequest::new(vec![Message::user("?")]).with_response_format(
        ResponseFormat::json_schema("answer", json!({"type": "object"})),
    );
    let mut stream = model.chat_stream(&request).await.unwrap();
    let mut done = None;
    while let Some(event) = futures::StreamExt::next(&mut stream).await {
        if let minions_core::StreamEvent::Done(response) = event.unwrap() {
            done = Some(response);
        }
    }
    let done = done.unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&done.content).unwrap(),
        json!({"answer": "42"})
    );
    let body = chat_requests(&server)[0].json().unwrap();
    assert_eq!(body["tool_choice"]["name"], "answer");
}

#[tokio::test(start_paused = true)]
async fn a_rejected_tool_falls_back_to_prompt_json_once() {
    let server = FakeServer::start().await;
    server
        .push(Reply::status(
            400,
            "tools.0.input_schema: JSON schema is invalid",
        ))
        .push(Reply::json(&json!({"answer": "via prompt"})))
        .push(Reply::json(&json!({"answer": "again"})));
    let model = client(&server);
    let request = ChatRequest::new(vec![Message::user("?")]).with_response_format(
        ResponseFormat::json_schema("answer", json!({"type": "object"})),
    );
    assert!(
        model
            .chat(&request)
            .await
            .unwrap()
            .content
            .contains("via prompt")
    );
    assert_eq!(model.structured_level(), StructuredLevel::Prompt);
    model.chat(&request).await.unwrap();
    let sent = chat_requests(&server);
    assert_eq!(sent.len(), 3);
    assert!(sent[1].json().unwrap().get("tools").is_none());
    assert!(
        sent[2].json().unwrap()["system"][0]["text"]
            .as_str()
            .unwrap()
            .contains("JSON Schema")
    );
}

#[tokio::test(start_paused = true)]
async fn overloaded_is_retried() {
    let server = FakeServer::start().await;
    server
        .push(Reply::status(529, "Overloaded"))
        .push(Reply::text("better now"));
    let answer = client(&server)
        .chat(&ChatRequest::new(vec![Message::user("x")]))
        .await
        .unwrap();
    assert_eq!(answer.content, "better now");
}

#[test]
fn a_missing_key_names_the_variable() {
    let error = AnthropicBuilder::new("claude").build().unwrap_err();
    assert!(error.to_string().contains("ANTHROPIC_API_KEY"), "{error}");
}
