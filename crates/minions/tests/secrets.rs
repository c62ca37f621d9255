//! API keys never appear in Debug output, error messages or logs.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::sync::{Arc, Mutex};

use minions::anthropic::AnthropicBuilder;
use minions::openai::OpenAiBuilder;
use minions::{ApiKey, ChatModel, ChatRequest, ConnectionSettings, Message, RetryPolicy};
use minions_testkit::{FakeServer, Reply};

const SECRET: &str = "sk-live-DO-NOT-LEAK-42";

/// Collects everything every crate logs, at every level.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn keys_stay_out_of_debug_errors_and_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = FakeServer::start().await;
    // A retried failure (logged at warn), then a final 401 error.
    server.respond_with(|_| Reply::status(401, "bad key"));
    server.push(Reply::status(503, "down for a moment"));
    server.push(Reply::status(503, "down for a moment"));

    let openai = OpenAiBuilder::new("openai", "gpt-4o")
        .unwrap()
        .base_url(server.openai_base_url())
        .api_key(ApiKey::new(SECRET))
        .retry(RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let azure = OpenAiBuilder::new("azure", "gpt-4o")
        .unwrap()
        .base_url(server.url())
        .api_key(ApiKey::new(SECRET))
        .build()
        .unwrap();
    let anthropic = AnthropicBuilder::new("claude")
        .base_url(server.url())
        .api_key(ApiKey::new(SECRET))
        .retry(RetryPolicy {
            max_attempts: 2,
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();

    let mut seen = vec![
        format!("{openai:?}"),
        format!("{azure:?}"),
        format!("{anthropic:?}"),
    ];
    let request = ChatRequest::new(vec![Message::user("hi")]);
    let models: [&dyn ChatModel; 3] = [&openai, &azure, &anthropic];
    for model in models {
        let error = model.chat(&request).await.unwrap_err();
        seen.push(error.to_string());
        seen.push(format!("{error:?}"));
    }
    // The keys really were sent: the check below is not vacuous.
    assert!(
        server
            .requests()
            .iter()
            .any(|r| r.headers.iter().any(|(_, v)| v.contains(SECRET)))
    );

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retry 1 in"), "the retry was logged: {logs}");
    seen.push(logs);
    for text in &seen {
        assert!(!text.contains(SECRET), "a key leaked into: {text}");
    }
}
