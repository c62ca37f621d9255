//! `minions serve`: the protocols over HTTP.
//!
//! - `POST /v1/chat/completions` speaks OpenAI's format (model `minion` or
//!   `minions`, optionally `minions:provider/model`), so any OpenAI client
//!   can use the protocols; `stream: true` streams progress and the answer.
//! - `POST /v1/runs`, `GET /v1/runs/{id}`, `GET /v1/runs/{id}/events`
//!   (server-sent events, replayed from the start), `DELETE /v1/runs/{id}`.
//! - `GET /`: a web page to paste or upload documents, ask, and watch.
//!
//! Binds 127.0.0.1 unless told otherwise, and refuses to listen beyond
//! loopback without a bearer token. `docs/server.md` has curl examples.

/// The loopback and bearer-token rule (shared with `minions mcp --http`).
pub use minions::http::access;
mod documents;
mod error;
mod history_api;
mod metrics;
mod openai_api;
mod request_options;
mod run_entry;
mod runs;
mod runs_api;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

pub use documents::DocumentInput;
pub use error::ApiError;
pub use request_options::RequestOptions;
pub use run_entry::{RunEntry, RunStatus};
pub use runs::{RunLimits, Runs, ServerModels};

/// The web page, served from the binary: no build step.
const PAGE: &str = include_str!("page.html");

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen. Default 127.0.0.1:8080.
    pub bind: SocketAddr,
    /// The bearer token required on every `/v1` route; required to listen
    /// beyond loopback.
    pub token: Option<String>,
    /// The largest request body (documents included). Default 32 MiB.
    pub max_body_bytes: usize,
    /// Runs at once, and the queue in front of them.
    pub runs: RunLimits,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            token: None,
            max_body_bytes: 32 << 20,
            runs: RunLimits::default(),
        }
    }
}

impl ServerConfig {
    /// Refuses a configuration that would expose the server without a token.
    pub fn check(&self) -> Result<(), String> {
        access::check_exposure(self.bind, self.token.as_deref())
    }
}

/// Shared by every request.
pub struct AppState {
    models: ServerModels,
    runs: Arc<Runs>,
    token: Option<String>,
    max_body_bytes: usize,
}

impl AppState {
    /// The runs, for shutdown.
    pub fn runs(&self) -> &Arc<Runs> {
        &self.runs
    }
}

/// Reads a body, turning "too large" into a 413 that says the limit.
pub(crate) fn body_bytes(
    body: Result<Bytes, BytesRejection>,
    limit: usize,
) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request(rejection.body_text())
        }
    })
}

async fn require_token(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = &state.token
        && !access::bearer_matches(request.headers(), token)
    {
        return ApiError::unauthorized().into_response();
    }
    next.run(request).await
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        state.runs.metrics().render(),
    )
}

async fn page() -> impl IntoResponse {
    (
        [
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:",
                ),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        Html(PAGE),
    )
}

/// The application: every route, the token rule and the body limit.
pub fn app(config: &ServerConfig, models: ServerModels) -> (Router, Arc<AppState>) {
    let state = Arc::new(AppState {
        models,
        runs: Arc::new(Runs::new(config.runs)),
        token: config.token.clone().filter(|t| !t.is_empty()),
        max_body_bytes: config.max_body_bytes,
    });
    let api = Router::new()
        .route("/models", get(openai_api::models))
        .route("/chat/completions", post(openai_api::chat_completions))
        .route("/runs", post(runs_api::create))
        .route("/runs/{id}", get(runs_api::get).delete(runs_api::cancel))
        .route("/runs/{id}/events", get(runs_api::events))
        .route("/history", get(history_api::list))
        .route("/history/summary", get(history_api::summary))
        .layer(middleware::from_fn_with_state(state.clone(), require_token));
    // The token rule covers the metrics too (a scraper sends it as a bearer
    // token): they name models and spend.
    let metrics = Router::new()
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(state.clone(), require_token));
    let router = Router::new()
        .route("/", get(page))
        .merge(metrics)
        .nest("/v1", api)
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(state.clone());
    (router, state)
}

/// Serves until `shutdown` completes, then cancels the runs still going and
/// waits for them to wind down (a few seconds at most).
pub async fn serve(
    config: ServerConfig,
    models: ServerModels,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    config.check().map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let (router, state) = app(&config, models);
    tracing::info!(address = %listener.local_addr()?, "serving");
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await?;
    state.runs().cancel_all();
    for _ in 0..50 {
        if state.runs().running() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Ok(())
}
