//! The runs API: start a run, read it, watch its events, cancel it.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};

use minions::ProtocolKind;

use crate::documents::{DocumentInput, read_documents};
use crate::request_options::RequestOptions;
use crate::run_entry::RunEntry;
use crate::{ApiError, AppState, body_bytes};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRun {
    task: String,
    #[serde(default)]
    documents: Vec<DocumentInput>,
    #[serde(default)]
    protocol: Option<ProtocolKind>,
    #[serde(default)]
    options: RequestOptions,
}

fn describe(run: &RunEntry) -> Value {
    let (status, result, error) = run.snapshot();
    json!({
        "id": run.id,
        "created": run.created,
        "status": status,
        "result": result,
        "error": error.map(|(_, message)| message),
    })
}

/// `POST /v1/runs`.
pub(crate) async fn create(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let bytes = body_bytes(body, state.max_body_bytes)?;
    let request: NewRun = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("invalid run request: {e}")))?;
    let documents = read_documents(request.documents)?;
    let mut options = request.options;
    if request.protocol.is_some() {
        options.run.protocol = request.protocol;
    }
    let run = state
        .runs
        .start(&state.models, request.task, documents, options)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(describe(&run))).into_response())
}

fn find(state: &AppState, id: &str) -> Result<Arc<RunEntry>, ApiError> {
    state.runs.get(id).ok_or_else(|| {
        ApiError::not_found(format!(
            "no run `{id}` (finished runs are kept for a while, then forgotten)"
        ))
    })
}

/// `GET /v1/runs/{id}`.
pub(crate) async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let run = find(&state, &id)?;
    Ok(Json(describe(&run)))
}

/// `DELETE /v1/runs/{id}`: cancels a run (finished runs stay as they are).
pub(crate) async fn cancel(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let run = find(&state, &id)?;
    run.cancel();
    run.finished().await;
    Ok(Json(describe(&run)))
}

/// `GET /v1/runs/{id}/events`: every event from the start (late subscribers
/// get the replay), then live ones, then an `end` event with the run.
pub(crate) async fn events(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let run = find(&state, &id)?;
    Ok(Sse::new(event_stream(run))
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn event_stream(run: Arc<RunEntry>) -> impl Stream<Item = Result<SseEvent, Infallible>> {
    futures::stream::unfold((run, 0usize, false), |(run, seen, done)| async move {
        if done {
            return None;
        }
        let (events, _) = run.next_events(seen).await;
        if events.is_empty() {
            // The run ended and every event was sent: close with the run.
            let end = SseEvent::default()
                .event("end")
                .data(describe(&run).to_string());
            return Some((futures::stream::iter(vec![Ok(end)]), (run, seen, true)));
        }
        let count = seen + events.len();
        let batch: Vec<Result<SseEvent, Infallible>> = events
            .iter()
            .map(|event| {
                let kind = event
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("event")
                    .to_string();
                Ok(SseEvent::default().event(kind).data(event.to_string()))
            })
            .collect();
        Some((futures::stream::iter(batch), (run, count, false)))
    })
    .flat_map(|batch| batch)
}
