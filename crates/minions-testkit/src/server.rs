//! The fake provider server.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

use crate::RecordedRequest;
use crate::reply::{Reply, marked_error};
use crate::wire::{self, Piece, Rendered};

/// A function that picks the reply for a request.
pub type Responder = Arc<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// Which API a request is for, by path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    OpenAiChat,
    OpenAiEmbeddings,
    OpenAiModels,
    AnthropicMessages,
    OllamaChat,
    OllamaEmbed,
    OllamaShow,
    OllamaTags,
    OllamaVersion,
    LlamaCppProps,
    Unknown,
}

impl Route {
    fn of(method: &str, path: &str) -> Self {
        match (method, path) {
            ("POST", p) if p.ends_with("/chat/completions") => Route::OpenAiChat,
            ("POST", p) if p.ends_with("/embeddings") => Route::OpenAiEmbeddings,
            ("GET", p) if p.ends_with("/models") && !p.starts_with("/api/") => Route::OpenAiModels,
            ("POST", p) if p.ends_with("/v1/messages") => Route::AnthropicMessages,
            ("POST", "/api/chat") => Route::OllamaChat,
            ("POST", "/api/embed") => Route::OllamaEmbed,
            ("POST", "/api/show") => Route::OllamaShow,
            ("GET", "/api/tags") => Route::OllamaTags,
            ("GET", "/api/version") => Route::OllamaVersion,
            ("GET", "/props") => Route::LlamaCppProps,
            _ => Route::Unknown,
        }
    }

    fn error(self, status: u16, message: &str) -> Rendered {
        let body = match self {
            Route::AnthropicMessages => wire::anthropic::error_body(status, message),
            Route::OllamaChat
            | Route::OllamaEmbed
            | Route::OllamaShow
            | Route::OllamaTags
            | Route::OllamaVersion => wire::ollama::error_body(message),
            _ => wire::openai::error_body(status, message),
        };
        Rendered::json(status, &body)
    }
}

/// How a fake server behaves beyond its script.
#[derive(Debug, Clone)]
struct Options {
    reject_json_schema: bool,
    api_key: Option<String>,
    /// Installed Ollama models with their context lengths; empty means every
    /// model is installed with `default_context_length`.
    ollama_models: Vec<(String, u32)>,
    default_context_length: u32,
    /// What `GET /models` lists; empty lists nothing (a server that does
    /// not say), so any model name passes a probe.
    served_models: Vec<String>,
    /// What llama.cpp's `GET /props` says one slot holds; `None` is 404.
    slot_context: Option<u32>,
}

struct Inner {
    queue: VecDeque<Reply>,
    responder: Option<Responder>,
    requests: Vec<RecordedRequest>,
}

struct Shared {
    inner: Mutex<Inner>,
    options: Options,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take every later assertion down
        // with a poisoned lock.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Configures a [`FakeServer`] before it starts.
#[derive(Debug, Clone)]
pub struct FakeServerBuilder {
    options: Options,
}

impl FakeServerBuilder {
    /// Answers a `json_schema` response format with 400, as llama.cpp's
    /// Python server does (it accepts only `text` and `json_object`).
    pub fn reject_json_schema(mut self) -> Self {
        self.options.reject_json_schema = true;
        self
    }

    /// Requires this key as `Authorization: Bearer`, `x-api-key` or
    /// `api-key`, and answers 401 otherwise.
    pub fn require_api_key(mut self, key: impl Into<String>) -> Self {
        self.options.api_key = Some(key.into());
        self
    }

    /// Declares an installed Ollama model and its context length. Once any is
    /// declared, chats with other models get Ollama's "not found" error.
    pub fn ollama_model(mut self, name: impl Into<String>, context_length: u32) -> Self {
        self.options
            .ollama_models
            .push((name.into(), context_length));
        self
    }

    /// Lists these models on OpenAI's `GET /models`, so a probe for any
    /// other model fails as it does against a real server.
    pub fn serve_models(mut self, names: &[&str]) -> Self {
        self.options.served_models = names.iter().map(|n| n.to_string()).collect();
        self
    }

    /// Answers llama.cpp's `GET /props` with one slot of this many tokens.
    pub fn llamacpp_slot(mut self, tokens: u32) -> Self {
        self.options.slot_context = Some(tokens);
        self
    }

    /// The context length `/api/show` reports for undeclared models.
    pub fn default_context_length(mut self, tokens: u32) -> Self {
        self.options.default_context_length = tokens;
        self
    }

    /// Binds 127.0.0.1 on a free port and starts serving on the current
    /// tokio runtime.
    pub async fn start(self) -> FakeServer {
        let (listener, addr) = bind_loopback().await;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                queue: VecDeque::new(),
                responder: None,
                requests: Vec::new(),
            }),
            options: self.options,
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        FakeServer { addr, shared, task }
    }
}

/// A fake OpenAI / Anthropic / Ollama server on 127.0.0.1.
///
/// One server answers every route of the three APIs; point a client at
/// [`FakeServer::url`] (Ollama, Anthropic) or [`FakeServer::openai_base_url`]
/// (OpenAI and compatible). Replies come from the queue ([`FakeServer::push`])
/// first, then from the responder ([`FakeServer::respond_with`]); with
/// neither, the server answers 500 and says that nothing was scripted.
/// Every request is recorded. The server stops when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeServer {
    /// A builder for a server with options.
    pub fn builder() -> FakeServerBuilder {
        FakeServerBuilder {
            options: Options {
                reject_json_schema: false,
                api_key: None,
                ollama_models: Vec::new(),
                default_context_length: 131_072,
                served_models: Vec::new(),
                slot_context: None,
            },
        }
    }

    /// Starts a server with default options.
    pub async fn start() -> FakeServer {
        Self::builder().start().await
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL for Ollama and Anthropic clients.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1`: the base URL for OpenAI-compatible clients.
    pub fn openai_base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues a reply for the next request (metadata routes such as
    /// `/api/show` do not consume replies).
    pub fn push(&self, reply: impl Into<Reply>) -> &Self {
        self.shared.lock().queue.push_back(reply.into());
        self
    }

    /// Queues several replies.
    pub fn push_all(&self, replies: impl IntoIterator<Item = Reply>) -> &Self {
        self.shared.lock().queue.extend(replies);
        self
    }

    /// Answers every request the queue does not cover with this function.
    pub fn respond_with(
        &self,
        responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> &Self {
        self.shared.lock().responder = Some(Arc::new(responder));
        self
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The number of requests received so far.
    pub fn request_count(&self) -> usize {
        self.shared.lock().requests.len()
    }

    /// Replies still queued.
    pub fn pending_replies(&self) -> usize {
        self.shared.lock().queue.len()
    }
}

/// A loopback URL where nothing listens, for "cannot connect" tests.
pub async fn unused_local_url() -> String {
    let (listener, addr) = bind_loopback().await;
    drop(listener);
    format!("http://{addr}")
}

/// Binds 127.0.0.1 on a free port.
///
/// Binding loopback port 0 only fails on a machine without loopback, where no
/// test can do anything useful, so this panics with a clear message then.
#[allow(clippy::expect_used)]
async fn bind_loopback() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("minions-testkit: cannot bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("minions-testkit: no local address");
    (listener, addr)
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Owning the connections here means aborting this task (when the server
    // is dropped) drops them all.
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "testkit accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        // Without this, Nagle's algorithm holds back small stream chunks
        // until the client's delayed ACK (tens of real milliseconds), and a
        // test on tokio's paused clock would see its idle timeout fire first.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::warn!(%error, "testkit could not set TCP_NODELAY");
        }
        let shared = shared.clone();
        connections.spawn(async move {
            let service = service_fn(move |request| handle(shared.clone(), request));
            // Errors here are the faults we inject (dropped bodies, hangups).
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

/// Serves one request. Returning `Err` makes hyper close the connection
/// without an answer, which is how [`Reply::Hangup`] is delivered.
async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Body>, std::io::Error> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map_err(std::io::Error::other)?
        .to_bytes()
        .to_vec();
    let recorded = RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
        received_at: tokio::time::Instant::now(),
        received_wall: std::time::Instant::now(),
    };
    shared.lock().requests.push(recorded.clone());
    let route = Route::of(&recorded.method, &recorded.path);

    let mut reply = match answer_without_script(&shared, route, &recorded) {
        Some(rendered) => return Ok(to_response(rendered)),
        None => next_reply(&shared, route, &recorded),
    };
    loop {
        match reply {
            Reply::Delayed(delay, inner) => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            Reply::Hangup => return Err(std::io::Error::other("testkit: hangup")),
            other => return Ok(to_response(render(route, &other, &recorded))),
        }
    }
}

/// Answers that do not depend on the script: authentication, metadata,
/// built-in rejections.
fn answer_without_script(
    shared: &Shared,
    route: Route,
    request: &RecordedRequest,
) -> Option<Rendered> {
    let options = &shared.options;
    if let Some(key) = &options.api_key {
        let bearer = request
            .header("authorization")
            .and_then(|v| v.strip_prefix("Bearer "));
        let given = bearer
            .or_else(|| request.header("x-api-key"))
            .or_else(|| request.header("api-key"));
        if given != Some(key.as_str()) {
            return Some(route.error(401, "Incorrect API key provided."));
        }
    }
    let body = request.json().unwrap_or(Value::Null);
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match route {
        Route::OpenAiModels => Some(wire::openai::models(&options.served_models)),
        Route::LlamaCppProps => Some(match options.slot_context {
            Some(n_ctx) => Rendered::json(
                200,
                &json!({"default_generation_settings": {"n_ctx": n_ctx}, "total_slots": 1}),
            ),
            None => route.error(404, "File Not Found"),
        }),
        Route::OllamaVersion => Some(Rendered::json(200, &json!({"version": "0.12.6"}))),
        Route::OllamaTags => {
            let models = if options.ollama_models.is_empty() {
                vec![("llama3.2".to_string(), options.default_context_length)]
            } else {
                options.ollama_models.clone()
            };
            Some(wire::ollama::tags(&models))
        }
        Route::OllamaShow => Some(match ollama_context_length(options, model) {
            Some(context) => wire::ollama::show(model, context),
            None => Rendered::json(
                404,
                &wire::ollama::error_body(&format!("model '{model}' not found")),
            ),
        }),
        Route::OllamaChat | Route::OllamaEmbed
            if ollama_context_length(options, model).is_none() =>
        {
            Some(wire::ollama::model_not_found(model))
        }
        Route::OpenAiChat
            if options.reject_json_schema
                && body
                    .pointer("/response_format/type")
                    .and_then(Value::as_str)
                    == Some("json_schema") =>
        {
            Some(Rendered::json(400, &wire::openai::json_schema_rejected()))
        }
        _ => None,
    }
}

/// The context length of an installed Ollama model, `None` if not installed.
fn ollama_context_length(options: &Options, model: &str) -> Option<u32> {
    if options.ollama_models.is_empty() {
        return Some(options.default_context_length);
    }
    let tagged = |name: &str| {
        if name.contains(':') {
            name.to_string()
        } else {
            format!("{name}:latest")
        }
    };
    let wanted = tagged(model);
    options
        .ollama_models
        .iter()
        .find(|(name, _)| tagged(name) == wanted)
        .map(|(_, context)| *context)
}

fn next_reply(shared: &Shared, route: Route, request: &RecordedRequest) -> Reply {
    let responder = {
        let mut inner = shared.lock();
        if let Some(reply) = inner.queue.pop_front() {
            return reply;
        }
        inner.responder.clone()
    };
    match responder {
        Some(responder) => responder(request),
        None => match route {
            // Embedding routes have a sensible default; chats must be scripted.
            Route::OpenAiEmbeddings | Route::OllamaEmbed => {
                let inputs = wire::embedding_inputs(&request.json().unwrap_or(Value::Null));
                Reply::Embeddings(inputs.iter().map(|t| wire::hash_embedding(t)).collect())
            }
            _ => Reply::status(
                500,
                format!(
                    "minions-testkit: no reply scripted for {} {} (push one or set a responder)",
                    request.method, request.path
                ),
            ),
        },
    }
}

fn render(route: Route, reply: &Reply, request: &RecordedRequest) -> Rendered {
    match reply {
        Reply::Chat(chat) => match route {
            Route::AnthropicMessages => wire::anthropic::chat(chat, request),
            Route::OllamaChat => wire::ollama::chat(chat, request),
            Route::OpenAiChat => wire::openai::chat(chat, request),
            _ => route.error(
                400,
                &format!(
                    "minions-testkit: a chat reply cannot answer {}",
                    request.path
                ),
            ),
        },
        Reply::Embeddings(vectors) => {
            let inputs = wire::embedding_inputs(&request.json().unwrap_or(Value::Null));
            match route {
                Route::OllamaEmbed => wire::ollama::embed(vectors, request, &inputs),
                _ => wire::openai::embeddings(vectors, request, &inputs),
            }
        }
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut rendered = match marked_error(body) {
                Some(message) => route.error(*status, message),
                None => Rendered {
                    status: *status,
                    headers: vec![("content-type".into(), "application/json".into())],
                    pieces: vec![Piece::Data(Bytes::from(body.clone()))],
                },
            };
            rendered.headers.extend(headers.iter().cloned());
            rendered
        }
        Reply::Raw {
            status,
            content_type,
            body,
        } => Rendered {
            status: *status,
            headers: vec![("content-type".into(), content_type.clone())],
            pieces: vec![Piece::Data(Bytes::from(body.clone()))],
        },
        // Unwrapped by the caller.
        Reply::Delayed(_, inner) => render(route, inner, request),
        Reply::Hangup => route.error(500, "minions-testkit: hangup"),
    }
}

fn to_response(rendered: Rendered) -> Response<Body> {
    let pieces = futures::stream::iter(rendered.pieces).then(|piece| async move {
        match piece {
            Piece::Data(bytes) => Some(Ok(Frame::data(bytes))),
            Piece::Sleep(delay) => {
                tokio::time::sleep(delay).await;
                None
            }
            Piece::Fail => Some(Err(std::io::Error::other(
                "minions-testkit: connection dropped on purpose",
            ))),
        }
    });
    let frames = pieces.filter_map(futures::future::ready);
    let body = BodyExt::boxed_unsync(StreamBody::new(frames));
    let mut response = Response::new(body);
    *response.status_mut() = hyper::StatusCode::from_u16(rendered.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in rendered.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
