//! The retry policy and error capture, over real HTTP against the test kit,
//! on tokio's paused clock (no test sleeps in real time).

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use minions_core::{Error, ErrorKind, TimeoutPhase};
use minions_http::{HttpClient, HttpConfig, RetryPolicy, reqwest};
use minions_testkit::{ChatReply, FakeServer, Reply, unused_local_url};
use serde_json::{Value, json};
use tokio::time::Instant;

fn chat_request(client: &HttpClient, base: &str) -> reqwest::Request {
    client
        .reqwest()
        .post(format!("{base}/chat/completions"))
        .json(&json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}))
        .build()
        .unwrap()
}

fn client() -> HttpClient {
    HttpClient::builder("openai")
        .key_var("OPENAI_API_KEY")
        .build()
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_is_retried_after_that_long() {
    let server = FakeServer::start().await;
    server
        .push(Reply::rate_limited(2))
        .push(Reply::text("finally"));
    let client = client();
    let started = Instant::now();
    let answer: Value = client
        .send_json(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert_eq!(answer["choices"][0]["message"]["content"], "finally");
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_millis(2100),
        "{waited:?}"
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let gap = requests[1].received_at - requests[0].received_at;
    assert!(gap >= Duration::from_secs(2), "{gap:?}");
}

#[tokio::test(start_paused = true)]
async fn retry_after_ms_wins_over_retry_after() {
    let server = FakeServer::start().await;
    server
        .push(Reply::rate_limited(30).with_header("retry-after-ms", "150"))
        .push(Reply::text("ok"));
    let client = client();
    let started = Instant::now();
    client
        .send(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(150) && waited < Duration::from_secs(1),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_400_is_not_retried() {
    let server = FakeServer::start().await;
    server
        .push(Reply::status(400, "messages must not be empty"))
        .push(Reply::text("never sent"));
    let client = client();
    let error = client
        .send(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.kind(), ErrorKind::Http);
    assert!(
        error.to_string().contains("messages must not be empty"),
        "{error}"
    );
    assert_eq!(server.request_count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_503_storm_stops_after_the_cap() {
    let server = FakeServer::start().await;
    server.respond_with(|_| Reply::status(503, "upstream overloaded"));
    let client = HttpClient::builder("openai")
        .retry(RetryPolicy {
            max_attempts: 4,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let started = Instant::now();
    let error = client
        .send(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap_err();
    assert_eq!(server.request_count(), 4);
    let Error::RetriesExhausted {
        provider,
        attempts,
        last,
    } = &error
    else {
        panic!("expected RetriesExhausted, got {error:?}");
    };
    assert_eq!((provider.as_str(), *attempts), ("openai", 4));
    assert_eq!(last.status(), Some(503));
    let text = error.to_string();
    for needle in ["openai", "4 attempts", "503", "upstream overloaded"] {
        assert!(text.contains(needle), "{needle} missing from {text}");
    }
    // Three backoffs of 0.5 s, 1 s and 2 s, each jittered to between half and all of it.
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1750) && waited <= Duration::from_millis(3500),
        "{waited:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn out_of_credit_and_long_waits_are_not_retried() {
    let server = FakeServer::start().await;
    server.push(Reply::Status {
        status: 429,
        headers: vec![],
        body: json!({"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "code": "insufficient_quota"}}).to_string(),
    });
    let client = client();
    let error = client
        .send(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("billing"), "{error}");
    assert_eq!(server.request_count(), 1);

    server.push(Reply::rate_limited(86_400));
    let error = client
        .send(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap_err();
    assert_eq!(error.retry_after(), Some(Duration::from_secs(86_400)));
    assert_eq!(server.request_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn overloaded_529_is_retried() {
    let server = FakeServer::start().await;
    server
        .push(Reply::status(529, "Overloaded"))
        .push(Reply::text("ok"));
    let client = HttpClient::new("anthropic").unwrap();
    let request = client
        .reqwest()
        .post(format!("{}/v1/messages", server.url()))
        .json(&json!({"model": "claude", "max_tokens": 5, "messages": []}))
        .build()
        .unwrap();
    let answer: Value = client.send_json(request).await.unwrap();
    assert_eq!(answer["content"][0]["text"], "ok");
    assert_eq!(server.request_count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_hangup_before_the_answer_is_retried() {
    let server = FakeServer::start().await;
    server
        .push(Reply::Hangup)
        .push(Reply::text("second time lucky"));
    let client = client();
    let answer: Value = client
        .send_json(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap();
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "second time lucky"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unreachable_server_says_so_with_the_hint() {
    let url = unused_local_url().await;
    let client = HttpClient::builder("ollama")
        .connect_hint("is `ollama serve` running?")
        .retry(RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let request = client
        .reqwest()
        .get(format!("{url}/api/tags?secret=abc"))
        .build()
        .unwrap();
    let error = client.send(request).await.unwrap_err();
    assert!(error.is_unreachable());
    let text = error.to_string();
    assert!(
        text.contains("cannot reach ollama") && text.contains("ollama serve"),
        "{text}"
    );
    assert!(
        !text.contains("secret"),
        "query strings never reach messages: {text}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_silent_server_hits_the_idle_read_timeout() {
    let server = FakeServer::start().await;
    server.push(Reply::text("too late").after(Duration::from_secs(30)));
    let client = HttpClient::builder("vllm")
        .config(HttpConfig {
            read_timeout: Duration::from_secs(5),
            ..HttpConfig::default()
        })
        .build()
        .unwrap();
    let error = client
        .send(chat_request(&client, &server.openai_base_url()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Timeout {
                phase: TimeoutPhase::Read,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(server.request_count(), 1, "a read timeout is not retried");
}

#[tokio::test(start_paused = true)]
async fn a_slow_but_steady_stream_is_not_cut_off() {
    // 40 chunks, 2 s apart: 80 s in total, far past the 5 s idle limit.
    let server = FakeServer::start().await;
    server.push(
        ChatReply::new("x".repeat(40))
            .chunked(1)
            .with_chunk_delay(Duration::from_secs(2)),
    );
    let client = HttpClient::builder("ollama")
        .config(HttpConfig {
            read_timeout: Duration::from_secs(5),
            ..HttpConfig::default()
        })
        .build()
        .unwrap();
    let request = client
        .reqwest()
        .post(format!("{}/api/chat", server.url()))
        .json(&json!({"model": "llama3.2", "messages": []}))
        .build()
        .unwrap();
    let response = client.send(request).await.unwrap();
    let body = client.read_body(response).await.unwrap();
    assert_eq!(String::from_utf8_lossy(&body).lines().count(), 41);
}

#[tokio::test(start_paused = true)]
async fn broken_and_malformed_bodies_are_errors() {
    let server = FakeServer::start().await;
    let client = client();
    let base = server.openai_base_url();

    server.push(ChatReply::new("a complete answer that will not arrive").drop_after(1));
    let error = client
        .send_json::<Value>(chat_request(&client, &base))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Stream, "{error:?}");

    server.push(Reply::truncated_json());
    let error = client
        .send_json::<Value>(chat_request(&client, &base))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Decode);
    assert!(error.to_string().contains("cut off"), "{error}");

    server.push(Reply::malformed_json());
    let error = client
        .send_json::<Value>(chat_request(&client, &base))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("502 upstream hiccup"), "{error}");
    // None of these was retried: bytes had arrived.
    assert_eq!(server.request_count(), 3);
}
