//! `POST /v1/chat/completions` and `GET /v1/models`, in OpenAI's format.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use minions::{ContextDocument, RunResult};
use serde::Deserialize;
use serde_json::{Value, json};

use minions::ProtocolKind;

use crate::documents::{DocumentInput, read_documents};
use crate::request_options::RequestOptions;
use crate::run_entry::{RunEntry, RunStatus};
use crate::{ApiError, AppState, body_bytes};

#[derive(Debug, Deserialize)]
struct ChatMessage {
    role: String,
    #[serde(default)]
    content: Value,
}

/// The extension object (`"minions": {...}`) of a chat completion request.
#[derive(Debug, Default, Deserialize)]
struct Extension {
    #[serde(default)]
    documents: Vec<DocumentInput>,
    #[serde(default)]
    options: RequestOptions,
}

#[derive(Debug, Deserialize)]
struct ChatRequest {
    model: String,
    messages: Vec<ChatMessage>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    stream_options: Option<Value>,
    #[serde(default)]
    minions: Option<Extension>,
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// `GET /v1/models`.
pub(crate) async fn models() -> Json<Value> {
    let data: Vec<Value> = ProtocolKind::ALL
        .iter()
        .map(|kind| {
            json!({"id": kind.as_str(), "object": "model", "created": 0, "owned_by": "minions-rs",
                   "description": kind.describe(), "label": kind.label()})
        })
        .collect();
    Json(json!({"object": "list", "data": data}))
}

fn usage_json(result: &RunResult) -> Value {
    let prompt = result.remote_usage.prompt_tokens + result.local_usage.prompt_tokens;
    let completion = result.remote_usage.completion_tokens + result.local_usage.completion_tokens;
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn extension_json(result: &RunResult) -> Value {
    json!({
        "protocol": result.protocol,
        "rounds": result.rounds,
        "stop": result.stop,
        "remote_model": result.remote_model,
        "local_model": result.local_model,
        "remote_usage": result.remote_usage,
        "local_usage": result.local_usage,
        "remote_cost_usd": result.remote_cost.total_usd(),
        "remote_only": result.remote_only,
        "savings_ratio": result.savings_ratio,
        "timing": result.timing,
        "jobs": result.jobs,
    })
}

/// Splits `minion`, `minions`, `minions:openai/gpt-4o`.
fn protocol_and_remote(model: &str) -> Result<(ProtocolKind, Option<String>), ApiError> {
    let (protocol, remote) = match model.split_once(':') {
        Some((protocol, remote)) => (protocol, Some(remote.to_string())),
        None => (model, None),
    };
    let kind = protocol.parse::<ProtocolKind>().map_err(|e| {
        ApiError::bad_request(format!(
            "unknown model: {e} (optionally `PROTOCOL:provider/model` for another remote model)"
        ))
    })?;
    Ok((kind, remote))
}

/// `POST /v1/chat/completions`.
pub(crate) async fn chat_completions(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(body, state.max_body_bytes)?;
    let request: ChatRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid chat completion request: {e}")))?;
    let (protocol, remote) = protocol_and_remote(&request.model)?;
    let Some(last_user) = request.messages.iter().rposition(|m| m.role == "user") else {
        return Err(ApiError::bad_request(
            "no user message: the last user message is the task",
        ));
    };
    let task = text_of(&request.messages[last_user].content);
    let extension = request.minions.unwrap_or_default();
    let mut documents = read_documents(extension.documents)?;
    for (index, message) in request.messages.iter().enumerate() {
        if index != last_user {
            let text = text_of(&message.content);
            if !text.trim().is_empty() {
                documents.push(ContextDocument::new(
                    format!("{}-message-{}", message.role, index + 1),
                    text,
                ));
            }
        }
    }
    let mut options = extension.options;
    options.run.protocol = Some(protocol);
    if remote.is_some() {
        options.remote = remote;
    }
    let run = state
        .runs
        .start(&state.models, task, documents, options)
        .await?;
    if request.stream {
        let include_usage = request
            .stream_options
            .as_ref()
            .and_then(|o| o.get("include_usage"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        return Ok(Sse::new(stream(run, request.model, include_usage))
            .keep_alive(KeepAlive::default())
            .into_response());
    }
    // A client that hangs up cancels its run.
    let _guard = run.cancel_on_drop();
    run.finished().await;
    let (status, result, error) = run.snapshot();
    match (status, result) {
        (RunStatus::Done, Some(result)) => Ok(Json(json!({
            "id": format!("chatcmpl-{}", run.id),
            "object": "chat.completion",
            "created": run.created,
            "model": request.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": result.answer}, "finish_reason": "stop", "logprobs": null}],
            "usage": usage_json(&result),
            "minions": extension_json(&result),
        }))
        .into_response()),
        _ => Err(run_error(error)),
    }
}

pub(crate) fn run_error(error: Option<(u16, String)>) -> ApiError {
    match error {
        Some((400, message)) => ApiError::bad_request(message),
        Some((_, message)) => ApiError::upstream(message),
        None => ApiError::upstream("the run ended without a result"),
    }
}

/// The streamed answer: progress as chunks with an empty delta and the
/// event in a `minions_event` field (OpenAI clients ignore it), then the
/// answer as content deltas, the finish chunk, usage if asked, `[DONE]`.
fn stream(
    run: Arc<RunEntry>,
    model: String,
    include_usage: bool,
) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    let chunk = {
        let id = format!("chatcmpl-{}", run.id);
        let created = run.created;
        move |delta: Value, finish: Value, extra: Option<(&str, Value)>| {
            let mut value = json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
            if let Some((key, extra)) = extra {
                value[key] = extra;
            }
            value
        }
    };
    let guard = run.cancel_on_drop();
    futures::stream::unfold((run, 0usize, false, Some(guard)), move |(run, seen, done, guard)| {
        let chunk = chunk.clone();
        async move {
            if done {
                return None;
            }
            let (events, _) = run.next_events(seen).await;
            if !events.is_empty() {
                let data: Vec<SseEvent> = events
                    .iter()
                    .map(|event| SseEvent::default().data(chunk(json!({}), Value::Null, Some(("minions_event", event.clone()))).to_string()))
                    .collect();
                let count = seen + events.len();
                return Some((futures::stream::iter(data.into_iter().map(Ok)), (run, count, false, guard)));
            }
            // No new events: the run has ended.
            let (status, result, error) = run.snapshot();
            let mut out = Vec::new();
            match (status, result) {
                (RunStatus::Done, Some(result)) => {
                    out.push(chunk(json!({"role": "assistant", "content": ""}), Value::Null, None));
                    let characters: Vec<char> = result.answer.chars().collect();
                    for piece in characters.chunks(64) {
                        out.push(chunk(json!({"content": piece.iter().collect::<String>()}), Value::Null, None));
                    }
                    out.push(chunk(json!({}), json!("stop"), Some(("minions", extension_json(&result)))));
                    if include_usage {
                        let mut usage = chunk(json!({}), Value::Null, None);
                        usage["choices"] = json!([]);
                        usage["usage"] = usage_json(&result);
                        out.push(usage);
                    }
                }
                _ => {
                    let error = run_error(error);
                    out.push(json!({"error": {"message": error.message, "type": error.kind, "param": null, "code": error.status.as_u16()}}));
                }
            }
            let mut events: Vec<SseEvent> = out.into_iter().map(|v| SseEvent::default().data(v.to_string())).collect();
            events.push(SseEvent::default().data("[DONE]"));
            // The run is over: dropping the guard now cancels nothing.
            drop(guard);
            Some((futures::stream::iter(events.into_iter().map(Ok)), (run, seen, true, None)))
        }
    })
    .flat_map(|events| events)
}

use futures::StreamExt as _;
