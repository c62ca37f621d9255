//! `GET /v1/history` and `GET /v1/history/summary`: past runs, read from the
//! run history the server's runs are recorded in (the same SQLite file as
//! `minions history`), so that a restart loses nothing.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use minions_history::{Filter, Grouping, HistoryStore, parse_since};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

/// Runs listed at most, whatever `limit` asks.
const MAX_LIMIT: usize = 500;

/// The filters both routes take.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    /// Runs listed (default 50, at most 500).
    limit: Option<usize>,
    /// `7d`, `12h`, `2026-11-01`, `2026-11`.
    since: Option<String>,
    protocol: Option<String>,
    model: Option<String>,
    /// Only runs that ended without an answer.
    #[serde(default)]
    failed: bool,
    /// Summary only: `model`, `day` or `month` (default `day`).
    by: Option<String>,
}

impl HistoryQuery {
    fn filter(&self) -> Result<Filter, ApiError> {
        let since = match &self.since {
            Some(text) => Some(
                parse_since(text, minions_history::now())
                    .map_err(|e| ApiError::bad_request(e.replace("--since", "since")))?,
            ),
            None => None,
        };
        Ok(Filter {
            since,
            protocol: self.protocol.clone(),
            model: self.model.clone(),
            failed: self.failed,
        })
    }
}

/// Opens the store and reads from it off the async threads (SQLite blocks).
async fn read<T: Send + 'static>(
    state: &AppState,
    reading: impl FnOnce(&HistoryStore) -> Result<T, minions_history::HistoryError> + Send + 'static,
) -> Result<T, ApiError> {
    let Some(path) = state.models.history.clone() else {
        return Err(ApiError::not_found(
            "this server keeps no run history: start `minions serve` without --no-history (or with --history PATH)",
        ));
    };
    tokio::task::spawn_blocking(move || {
        let store = HistoryStore::open(&path)?;
        reading(&store)
    })
    .await
    .map_err(|e| ApiError::unavailable(format!("reading the run history: {e}")))?
    .map_err(|e| ApiError::unavailable(format!("the run history cannot be read: {e}")))
}

/// `GET /v1/history`: the newest runs first, `{"runs": [...]}`.
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    if query.by.is_some() {
        return Err(ApiError::bad_request("`by` belongs to /v1/history/summary"));
    }
    let filter = query.filter()?;
    let limit = query.limit.unwrap_or(50).clamp(1, MAX_LIMIT);
    let runs = read(&state, move |store| store.list(&filter, limit)).await?;
    Ok(Json(json!({ "runs": runs })))
}

/// `GET /v1/history/summary?by=day|month|model`: spent, remote-only and
/// saved per group, with a `total` row last.
pub(crate) async fn summary(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let grouping = match query.by.as_deref().unwrap_or("day") {
        "day" => Grouping::Day,
        "month" => Grouping::Month,
        "model" => Grouping::Model,
        other => {
            return Err(ApiError::bad_request(format!(
                "by={other}: use day, month or model"
            )));
        }
    };
    let filter = query.filter()?;
    let rows = read(&state, move |store| store.summary(&filter, grouping)).await?;
    Ok(Json(
        json!({ "by": query.by.as_deref().unwrap_or("day"), "rows": rows }),
    ))
}
