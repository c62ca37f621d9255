//! A recording proxy: sits between a client and a real server on loopback,
//! passes every request through unchanged, and keeps both sides, so a test
//! can compare what we reported with what the server said, call by call.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::RecordedRequest;

/// One request and the upstream server's answer.
#[derive(Debug, Clone)]
pub struct Exchange {
    /// What the client sent.
    pub request: RecordedRequest,
    /// The upstream status.
    pub status: u16,
    /// The upstream body.
    pub response: Vec<u8>,
}

impl Exchange {
    /// The answer as JSON, if it is JSON.
    pub fn response_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.response).ok()
    }

    /// Whether this was a chat call (not a probe or a metadata look-up).
    pub fn is_chat(&self) -> bool {
        self.request.path.ends_with("/chat/completions")
            || self.request.path.ends_with("/v1/messages")
            || self.request.path == "/api/chat"
    }
}

/// A proxy on 127.0.0.1 in front of `upstream`.
pub struct RecordingProxy {
    addr: SocketAddr,
    exchanges: Arc<Mutex<Vec<Exchange>>>,
    task: JoinHandle<()>,
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RecordingProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`).
    #[allow(clippy::expect_used)]
    pub async fn start(upstream: impl Into<String>) -> Self {
        let upstream: Arc<str> = Arc::from(upstream.into().trim_end_matches('/'));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("minions-testkit: cannot bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("minions-testkit: no address");
        let exchanges: Arc<Mutex<Vec<Exchange>>> = Arc::default();
        // reqwest is built without a crypto provider in this workspace; plain
        // HTTP needs none, but the builder insists on one being installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("minions-testkit: a plain HTTP client");
        let kept = exchanges.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (client, upstream, kept) = (client.clone(), upstream.clone(), kept.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        forward(client.clone(), upstream.clone(), kept.clone(), request)
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self {
            addr,
            exchanges,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every exchange so far, in order.
    pub fn exchanges(&self) -> Vec<Exchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The chat exchanges only.
    pub fn chats(&self) -> Vec<Exchange> {
        self.exchanges()
            .into_iter()
            .filter(Exchange::is_chat)
            .collect()
    }
}

async fn forward(
    client: reqwest::Client,
    upstream: Arc<str>,
    kept: Arc<Mutex<Vec<Exchange>>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().map(str::to_string);
    let url = match &query {
        Some(q) => format!("{upstream}{path}?{q}"),
        None => format!("{upstream}{path}"),
    };
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes())
        .map_err(std::io::Error::other)?;
    let mut outgoing = client.request(method, &url).body(body.to_vec());
    let mut headers = Vec::new();
    for (name, value) in &parts.headers {
        let value = value.to_str().unwrap_or_default().to_string();
        headers.push((name.as_str().to_lowercase(), value.clone()));
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name.as_str(), value);
        }
    }
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path,
        query,
        headers,
        body: body.to_vec(),
        received_at: tokio::time::Instant::now(),
        received_wall: std::time::Instant::now(),
    };
    let answer = outgoing.send().await.map_err(std::io::Error::other)?;
    let status = answer.status().as_u16();
    let content_type = answer
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let response = answer.bytes().await.map_err(std::io::Error::other)?;
    kept.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(Exchange {
            request: recorded,
            status,
            response: response.to_vec(),
        });
    Response::builder()
        .status(status)
        .header("content-type", content_type)
        .body(Full::new(response))
        .map_err(std::io::Error::other)
}
