//! The fake servers speak each provider's real wire format.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use minions_core::Usage;
use minions_testkit::{ChatReply, FakeServer, Reply, unused_local_url};
use serde_json::{Value, json};

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn post(url: String, body: Value) -> reqwest::Response {
    client().post(url).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn openai_json_answer() {
    let server = FakeServer::start().await;
    server.push(ChatReply::new("hello").with_usage(Usage {
        prompt_tokens: 10,
        completion_tokens: 2,
        cached_prompt_tokens: 4,
    }));
    let body = json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]});
    let response = post(
        format!("{}/chat/completions", server.openai_base_url()),
        body,
    )
    .await;
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["choices"][0]["message"]["content"], "hello");
    assert_eq!(json["choices"][0]["finish_reason"], "stop");
    assert_eq!(json["model"], "gpt-4o");
    assert_eq!(json["usage"]["prompt_tokens_details"]["cached_tokens"], 4);
    assert_eq!(server.requests()[0].prompt_text(), "hi");
}

#[tokio::test]
async fn openai_stream_ends_with_usage_and_done() {
    let server = FakeServer::start().await;
    server.push(
        ChatReply::new("abcdefghij")
            .chunked(4)
            .truncated_by_length(),
    );
    let body = json!({"model": "m", "stream": true, "stream_options": {"include_usage": true}, "messages": []});
    let text = post(
        format!("{}/chat/completions", server.openai_base_url()),
        body,
    )
    .await
    .text()
    .await
    .unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert_eq!(events.last(), Some(&"data: [DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e.strip_prefix("data: ").unwrap()).unwrap())
        .collect();
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "abcdefghij");
    let usage_chunk = chunks.last().unwrap();
    assert_eq!(usage_chunk["choices"], json!([]));
    assert!(usage_chunk["usage"]["completion_tokens"].as_u64().unwrap() > 0);
    assert!(
        chunks
            .iter()
            .any(|c| c["choices"][0]["finish_reason"] == "length")
    );
}

#[tokio::test]
async fn anthropic_stream_event_sequence_and_forced_tool() {
    let server = FakeServer::start().await;
    server.push(Reply::text("Hi there"));
    server.push(Reply::json(&json!({"answer": "42"})));
    let url = format!("{}/v1/messages", server.url());
    let text = post(
        url.clone(),
        json!({"model": "claude", "stream": true, "max_tokens": 10, "messages": []}),
    )
    .await
    .text()
    .await
    .unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("event: "))
        .collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "ping",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
        ]
    );
    let forced = json!({"model": "claude", "max_tokens": 10, "messages": [],
        "tools": [{"name": "respond", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "tool", "name": "respond"}});
    let json: Value = post(url, forced).await.json().await.unwrap();
    assert_eq!(json["content"][0]["type"], "tool_use");
    assert_eq!(json["content"][0]["input"], json!({"answer": "42"}));
    assert_eq!(json["stop_reason"], "tool_use");
}

#[tokio::test]
async fn ollama_streams_ndjson_by_default_and_knows_its_models() {
    let server = FakeServer::builder()
        .ollama_model("llama3.2", 8192)
        .start()
        .await;
    server.push(Reply::text("hello world"));
    let text = post(
        format!("{}/api/chat", server.url()),
        json!({"model": "llama3.2", "messages": []}),
    )
    .await
    .text()
    .await
    .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 1);
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert!(last["eval_count"].as_u64().unwrap() > 0);

    let missing = post(
        format!("{}/api/chat", server.url()),
        json!({"model": "qwen3", "messages": []}),
    )
    .await;
    assert_eq!(missing.status(), 404);
    assert!(
        missing
            .text()
            .await
            .unwrap()
            .contains("try pulling it first")
    );

    let show: Value = post(
        format!("{}/api/show", server.url()),
        json!({"model": "llama3.2:latest"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(show["model_info"]["llama.context_length"], 8192);
    let tags: Value = client()
        .get(format!("{}/api/tags", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tags["models"][0]["name"], "llama3.2:latest");
    // Metadata routes did not consume anything; the 404 did not either.
    assert_eq!(server.pending_replies(), 0);
}

#[tokio::test]
async fn embeddings_are_deterministic_on_both_apis() {
    let server = FakeServer::start().await;
    let body = json!({"model": "e", "input": ["alpha beta", "gamma"]});
    let openai: Value = post(
        format!("{}/embeddings", server.openai_base_url()),
        body.clone(),
    )
    .await
    .json()
    .await
    .unwrap();
    let ollama: Value = post(format!("{}/api/embed", server.url()), body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(openai["data"][1]["embedding"], ollama["embeddings"][1]);
    assert_eq!(openai["data"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn faults_are_injected() {
    let server = FakeServer::builder()
        .reject_json_schema()
        .require_api_key("k")
        .start()
        .await;
    let url = format!("{}/chat/completions", server.openai_base_url());
    let unauthorised = client().post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(unauthorised.status(), 401);

    let schema = json!({"model": "m", "messages": [], "response_format": {"type": "json_schema", "json_schema": {}}});
    let rejected = client()
        .post(&url)
        .bearer_auth("k")
        .json(&schema)
        .send()
        .await
        .unwrap();
    assert_eq!(rejected.status(), 400);
    assert!(rejected.text().await.unwrap().contains("json_object"));

    server.push(Reply::rate_limited(7));
    let limited = client()
        .post(&url)
        .bearer_auth("k")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "7");
    let body: Value = limited.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limit_exceeded");

    server.push(Reply::Hangup);
    assert!(
        client()
            .post(&url)
            .bearer_auth("k")
            .json(&json!({}))
            .send()
            .await
            .is_err()
    );

    server.push(
        ChatReply::new("a long answer that breaks")
            .chunked(2)
            .drop_after(3),
    );
    let stream = json!({"model": "m", "messages": [], "stream": true});
    let response = client()
        .post(&url)
        .bearer_auth("k")
        .json(&stream)
        .send()
        .await
        .unwrap();
    assert!(
        response.text().await.is_err(),
        "a dropped stream must be an error"
    );

    server.push(Reply::text("late").after(Duration::from_millis(20)));
    let started = std::time::Instant::now();
    let response = client()
        .post(&url)
        .bearer_auth("k")
        .json(&json!({"messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(20));

    let nothing = client()
        .post(&url)
        .bearer_auth("k")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(nothing.status(), 500);
    assert!(nothing.text().await.unwrap().contains("no reply scripted"));
    assert_eq!(server.request_count(), 7);
}

#[tokio::test]
async fn unused_url_refuses_connections() {
    let url = unused_local_url().await;
    assert!(client().get(url).send().await.unwrap_err().is_connect());
}
