//! The tools over streamable HTTP, at `/mcp`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use minions::http::access::{bearer_matches, check_exposure};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use tokio_util::sync::CancellationToken;

use crate::MinionsMcp;

/// Where and how `minions mcp --http` listens.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The address; beyond loopback a token is required.
    pub bind: SocketAddr,
    /// The bearer token every request must carry, if any.
    pub token: Option<String>,
}

/// Serves the tools at `http://BIND/mcp` until `shutdown` is cancelled.
/// `ready` gets the bound address (useful with port 0).
pub async fn serve_http(
    server: MinionsMcp,
    options: HttpOptions,
    shutdown: CancellationToken,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let token = options.token.filter(|t| !t.trim().is_empty());
    check_exposure(options.bind, token.as_deref())?;
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", options.bind))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    let mut config = StreamableHttpServerConfig::default();
    config.cancellation_token = shutdown.child_token();
    if !bound.ip().is_loopback() {
        // rmcp accepts only loopback Host headers by default (against DNS
        // rebinding); beyond loopback the token guards the server instead.
        config.allowed_hosts = Vec::new();
    }
    let service: StreamableHttpService<MinionsMcp, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(server.clone()), Default::default(), config);
    let app =
        axum::Router::new()
            .nest_service("/mcp", service)
            .layer(middleware::from_fn_with_state(
                Arc::new(token),
                require_token,
            ));
    ready(bound);
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled_owned().await })
        .await
        .map_err(|e| format!("the MCP server stopped: {e}"))
}

async fn require_token(
    State(token): State<Arc<Option<String>>>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(token) = token.as_ref()
        && !bearer_matches(request.headers(), token)
    {
        return (
            StatusCode::UNAUTHORIZED,
            "missing or wrong bearer token: send `Authorization: Bearer TOKEN` with the server's --token",
        )
            .into_response();
    }
    next.run(request).await
}
