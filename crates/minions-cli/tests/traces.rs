//! Traces (`--features otel`): `minions ask` with OTEL_EXPORTER_OTLP_ENDPOINT
//! set sends its spans to an OTLP/HTTP receiver on 127.0.0.1 (built here on
//! the OpenTelemetry protocol's own message types), one `invoke_agent` span
//! per run and one `chat` span per model call under it, with the GenAI
//! semantic conventions' attributes, and no document text anywhere in them.

// Helpers in test files unwrap too: a panic is how a test reports failure.
#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::cargo::CommandCargoExt;
use axum::body::Bytes;
use axum::routing::post;
use minions_testkit::{FakeServer, RecordedRequest, Reply};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde_json::json;

/// A sentence only the document holds: it must never be in a span.
const SECRET: &str = "The vault combination is 7421-lumen.";

fn remote(request: &RecordedRequest) -> Reply {
    let prompt = request.last_user_message();
    if prompt.contains("Plan this round's work") {
        Reply::json(
            &json!({"tasks": [{"id": "code", "instruction": "Find the vault combination.", "query": "vault combination"}], "select": "all"}),
        )
    } else {
        Reply::json(
            &json!({"reasoning": "r", "decision": "final", "answer": "The combination is 7421."}),
        )
    }
}

fn local(request: &RecordedRequest) -> Reply {
    if request.last_user_message().contains("7421") {
        Reply::json(
            &json!({"explanation": "stated", "citation": "vault combination", "answer": "7421"}),
        )
    } else {
        Reply::json(&json!({"explanation": "nothing", "citation": null, "answer": null}))
    }
}

/// Every span the receiver was sent, with its resource's service name.
type Received = Arc<Mutex<Vec<(String, Span)>>>;

fn text(value: &Option<AnyValue>) -> String {
    match value.as_ref().and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        other => format!("{other:?}"),
    }
}

fn attribute(span: &Span, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|a| a.key == key)
        .map(|a| text(&a.value))
}

async fn receiver() -> (String, Received) {
    let received: Received = Arc::default();
    let store = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        post(move |body: Bytes| {
            let store = store.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).unwrap();
                for resource in request.resource_spans {
                    let service = resource
                        .resource
                        .as_ref()
                        .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name"))
                        .map(|a| text(&a.value))
                        .unwrap_or_default();
                    for scope in resource.scope_spans {
                        for span in scope.spans {
                            store.lock().unwrap().push((service.clone(), span));
                        }
                    }
                }
                // An empty ExportTraceServiceResponse.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (url, received)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_sends_one_span_per_run_and_per_model_call() {
    let (endpoint, received) = receiver().await;
    let remote_server = FakeServer::start().await;
    remote_server.respond_with(remote);
    let local_server = FakeServer::start().await;
    local_server.respond_with(local);
    let dir = std::env::temp_dir().join(format!("minions-traces-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut text_of_document = String::new();
    for i in 0..20 {
        text_of_document.push_str(&format!("Section {i}. Routine notes.\n\n"));
        if i == 11 {
            text_of_document.push_str(SECRET);
            text_of_document.push_str("\n\n");
        }
    }
    let doc = dir.join("notes.txt");
    std::fs::write(&doc, &text_of_document).unwrap();
    let mut command = std::process::Command::cargo_bin("minions").unwrap();
    command
        .env_clear()
        .current_dir(&dir)
        .env("HOME", &dir)
        .env("NO_COLOR", "1")
        .env("OLLAMA_HOST", local_server.url())
        .env("OPENAI_BASE_URL", remote_server.openai_base_url())
        .env("OPENAI_API_KEY", "sk-test-traces")
        .env("MINIONS_MAX_COST_RATIO", "0")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
        .args([
            "ask",
            "What is the vault combination?",
            "-c",
            doc.to_str().unwrap(),
            "--protocol",
            "minions",
            "--no-history",
            "-q",
        ]);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The exporter flushes when the command ends; the receiver may still
    // be decoding the last request.
    for _ in 0..50 {
        if received.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let spans = received.lock().unwrap().clone();
    let runs: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| attribute(s, "gen_ai.operation.name").as_deref() == Some("invoke_agent"))
        .collect();
    assert_eq!(runs.len(), 1, "one run span: {spans:#?}");
    let run = runs[0];
    assert_eq!(run.name, "invoke_agent minions");
    assert_eq!(
        attribute(run, "gen_ai.agent.name").as_deref(),
        Some("minions")
    );
    assert_eq!(
        attribute(run, "gen_ai.provider.name").as_deref(),
        Some("openai")
    );
    assert_eq!(
        attribute(run, "gen_ai.request.model").as_deref(),
        Some("gpt-4o")
    );
    assert_eq!(attribute(run, "minions.stop").as_deref(), Some("answered"));
    let run_input: u64 = attribute(run, "gen_ai.usage.input_tokens")
        .unwrap()
        .parse()
        .unwrap();
    assert!(run_input > 0);
    assert!(spans.iter().all(|(service, _)| service == "minions"));

    let calls: Vec<&Span> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| attribute(s, "gen_ai.operation.name").as_deref() == Some("chat"))
        .collect();
    let remote_calls: Vec<&&Span> = calls
        .iter()
        .filter(|s| attribute(s, "minions.side").as_deref() == Some("remote"))
        .collect();
    let local_calls: Vec<&&Span> = calls
        .iter()
        .filter(|s| attribute(s, "minions.side").as_deref() == Some("local"))
        .collect();
    // One span per chat request the remote server saw (probes are not calls).
    let remote_chats = remote_server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .count();
    assert_eq!(remote_calls.len(), remote_chats, "{calls:#?}");
    assert!(!local_calls.is_empty());
    for call in &calls {
        assert_eq!(call.parent_span_id, run.span_id, "under the run span");
        assert_eq!(call.trace_id, run.trace_id);
        assert!(call.name.starts_with("chat "), "{}", call.name);
        assert!(attribute(call, "gen_ai.request.model").is_some());
        let input: u64 = attribute(call, "gen_ai.usage.input_tokens")
            .unwrap()
            .parse()
            .unwrap();
        assert!(input > 0);
    }
    // The remote calls' input tokens add up to the run's.
    let summed: u64 = remote_calls
        .iter()
        .map(|s| {
            attribute(s, "gen_ai.usage.input_tokens")
                .unwrap()
                .parse::<u64>()
                .unwrap()
        })
        .sum();
    assert_eq!(summed, run_input);
    // No document text in any span: names, attributes or events.
    let everything = format!("{spans:?}");
    for fragment in ["vault combination is", "7421-lumen", "Routine notes"] {
        assert!(
            !everything.contains(fragment),
            "{fragment} leaked into a span"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
