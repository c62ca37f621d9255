//! The Ollama client.

use std::sync::Mutex;

use async_trait::async_trait;
use futures::StreamExt;
use minions_core::structured::{DowngradeMemory, StructuredLevel, send_with_downgrades};
use minions_core::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Embedder, Embeddings, Error,
    ModelId, Probe, Result, StreamEvent, env,
};
use minions_http::reqwest::Response;
use minions_http::{HttpClient, HttpConfig, RetryPolicy, ndjson_lines};
use serde_json::{Value, json};

use crate::wire::{self, ChatLine, ContextNeed, OllamaOptions};

/// Where Ollama listens unless `OLLAMA_HOST` says otherwise.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";
const PROVIDER: &str = "ollama";

/// Configures an [`OllamaClient`].
#[derive(Debug, Clone)]
pub struct OllamaBuilder {
    model: String,
    base_url: Option<String>,
    options: OllamaOptions,
    http: HttpConfig,
    retry: RetryPolicy,
}

impl OllamaBuilder {
    /// The server, as a URL or as `OLLAMA_HOST` accepts it (`host:port`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// How long the model stays loaded after each request.
    pub fn keep_alive(mut self, duration: impl Into<String>) -> Self {
        self.options.keep_alive = Some(duration.into());
        self
    }

    /// Whether a thinking model thinks.
    pub fn think(mut self, think: bool) -> Self {
        self.options.think = Some(think);
        self
    }

    /// Timeouts. The default idle read timeout is generous because a local
    /// model may take minutes to read a long prompt before its first token.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Reads `OLLAMA_HOST` when no base URL was set.
    pub fn with_env(mut self) -> Self {
        if self.base_url.is_none() {
            self.base_url = env::read(env::OLLAMA_HOST);
        }
        self
    }

    /// Builds the client. Nothing is contacted until the first request.
    pub fn build(self) -> Result<OllamaClient> {
        let base = match self.base_url {
            Some(url) => wire::base_url_from_host(&url),
            None => DEFAULT_BASE_URL.to_string(),
        };
        let http = HttpClient::builder(PROVIDER)
            .connect_hint(format!(
                "is Ollama running? Start it with `ollama serve` (or open the Ollama app), or set {} to where it listens",
                env::OLLAMA_HOST
            ))
            .retry(self.retry)
            .config(self.http)
            .build()?;
        let capabilities = Capabilities {
            json_schema: true,
            json_mode: true,
            streaming: true,
            stream_usage: true,
            max_context_tokens: None,
        };
        Ok(OllamaClient {
            id: ModelId::new(PROVIDER, self.model),
            http,
            base,
            options: self.options,
            context_length: Mutex::new(None),
            show_lock: tokio::sync::Mutex::new(()),
            structured: DowngradeMemory::for_capabilities(&capabilities),
            capabilities,
        })
    }
}

/// What `/api/show` told us about the model's context.
#[derive(Debug, Clone, Copy)]
enum KnownContext {
    Length(u32),
    /// `/api/show` answered but named no context length (old servers).
    Unknown,
}

/// A client for Ollama's native API.
pub struct OllamaClient {
    id: ModelId,
    http: HttpClient,
    base: String,
    options: OllamaOptions,
    /// The model's context length, looked up once.
    context_length: Mutex<Option<KnownContext>>,
    /// Held while the context length is looked up.
    show_lock: tokio::sync::Mutex<()>,
    structured: DowngradeMemory,
    capabilities: Capabilities,
}

impl std::fmt::Debug for OllamaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OllamaClient")
            .field("id", &self.id)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl OllamaClient {
    /// A builder for this model (`llama3.2`, `qwen2.5:7b`, ...).
    pub fn builder(model: impl Into<String>) -> OllamaBuilder {
        OllamaBuilder {
            model: model.into(),
            base_url: None,
            options: OllamaOptions::default(),
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
        }
    }

    /// A client for the server named by `OLLAMA_HOST` (default
    /// `127.0.0.1:11434`).
    pub fn from_env(model: impl Into<String>) -> Result<Self> {
        Self::builder(model).with_env().build()
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    fn not_pulled(&self) -> Error {
        let model = &self.id.model;
        Error::invalid_request(
            PROVIDER,
            format!(
                "model `{model}` is not installed in Ollama at {}: run `ollama pull {model}`",
                self.base
            ),
        )
    }

    /// Turns Ollama's "model not found" 404 into the advice to pull it.
    fn explain(&self, error: Error) -> Error {
        match &error {
            Error::Http(http) if http.status == 404 && http.message.contains("not found") => {
                self.not_pulled()
            }
            _ => error,
        }
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Response> {
        let request = self
            .http
            .reqwest()
            .post(format!("{}{path}", self.base))
            .json(body)
            .build()
            .map_err(|e| Error::config(format!("invalid Ollama URL {}: {e}", self.base)))?;
        self.http.send(request).await.map_err(|e| self.explain(e))
    }

    /// `/api/show` for this model: details, parameters, `model_info`.
    pub async fn show(&self) -> Result<Value> {
        let response = self
            .post("/api/show", &json!({"model": self.id.model}))
            .await?;
        let body = self.http.read_body(response).await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::decode(
                PROVIDER,
                format!("not a show answer ({e})"),
                String::from_utf8_lossy(&body),
            )
        })
    }

    /// The installed models (`/api/tags`).
    pub async fn list_models(&self) -> Result<Vec<String>> {
        let request = self
            .http
            .reqwest()
            .get(format!("{}/api/tags", self.base))
            .build()
            .map_err(|e| Error::config(format!("invalid Ollama URL {}: {e}", self.base)))?;
        let tags: Value = self.http.send_json(request).await?;
        Ok(wire::tag_names(&tags))
    }

    /// The model's context length, from `/api/show`, looked up once: the
    /// first caller asks while concurrent callers wait for its answer, so
    /// a round of parallel jobs costs one look-up, not one per job.
    pub async fn context_length(&self) -> Result<Option<u32>> {
        let _one_at_a_time = self.show_lock.lock().await;
        let cached = *self
            .context_length
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let known = match cached {
            Some(known) => known,
            None => {
                let known = match wire::context_length(&self.show().await?) {
                    Some(length) => KnownContext::Length(length),
                    None => KnownContext::Unknown,
                };
                *self
                    .context_length
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = Some(known);
                known
            }
        };
        Ok(match known {
            KnownContext::Length(length) => Some(length),
            KnownContext::Unknown => None,
        })
    }

    async fn send_chat(&self, request: &ChatRequest, stream: bool) -> Result<Response> {
        let limit = self.context_length().await?;
        let num_ctx = ContextNeed::of(request).num_ctx(&self.id.model, limit)?;
        send_with_downgrades(
            &self.structured,
            &request.response_format,
            PROVIDER,
            |level: StructuredLevel| async move {
                let body = wire::chat_body(
                    &self.id.model,
                    request,
                    num_ctx,
                    level,
                    stream,
                    &self.options,
                );
                self.post("/api/chat", &body).await
            },
        )
        .await
    }
}

#[async_trait]
impl ChatModel for OllamaClient {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let response = self.send_chat(request, false).await?;
        let body = self.http.read_body(response).await?;
        wire::parse_chat(&body, &self.id.model)
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        let response = self.send_chat(request, true).await?;
        Ok(Box::pin(stream_events(self.id.model.clone(), response)))
    }

    /// `/api/show`: the server answers, the model is pulled, and its
    /// context length.
    async fn probe(&self) -> Result<Probe> {
        let context = self.context_length().await?;
        Ok(Probe {
            checked: vec![format!("{} is pulled ({})", self.id.model, self.base)],
            model_available: Some(true),
            context_tokens: context,
        })
    }

    fn capabilities(&self) -> Capabilities {
        let known = *self
            .context_length
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        Capabilities {
            max_context_tokens: match known {
                Some(KnownContext::Length(length)) => Some(length),
                _ => None,
            },
            ..self.capabilities
        }
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

#[async_trait]
impl Embedder for OllamaClient {
    async fn embed(&self, inputs: &[String]) -> Result<Embeddings> {
        if inputs.is_empty() {
            return Ok(Embeddings::default());
        }
        let response = self
            .post(
                "/api/embed",
                &json!({"model": self.id.model, "input": inputs}),
            )
            .await?;
        let body = self.http.read_body(response).await?;
        wire::parse_embed(&body, inputs.len())
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

/// Turns NDJSON lines into stream events, ending with `Done` at the line with
/// `"done": true`; an `{"error": ..}` line or an early end is an error.
fn stream_events(
    model: String,
    response: Response,
) -> impl futures::Stream<Item = Result<StreamEvent>> + Send {
    let lines = Box::pin(ndjson_lines::<ChatLine, _, _, _>(
        PROVIDER,
        response.bytes_stream(),
    ));
    let state = (lines, String::new(), false);
    futures::stream::unfold(state, move |(mut lines, mut content, finished)| {
        let model = model.clone();
        async move {
            if finished {
                return None;
            }
            loop {
                let line = match lines.next().await {
                    Some(Ok(line)) => line,
                    Some(Err(error)) => return Some((Err(error), (lines, content, true))),
                    None => {
                        let error = Error::stream(
                            PROVIDER,
                            "the stream ended before its last line (\"done\": true)",
                        );
                        return Some((Err(error), (lines, content, true)));
                    }
                };
                if let Some(message) = &line.error {
                    let error = Error::stream(
                        PROVIDER,
                        format!("Ollama reported an error mid-stream: {message}"),
                    );
                    return Some((Err(error), (lines, content, true)));
                }
                let text = line.text().to_string();
                content.push_str(&text);
                if line.done {
                    let done = ChatResponse {
                        content: std::mem::take(&mut content),
                        finish_reason: line.finish_reason(),
                        usage: line.usage(),
                        model: line.model.clone().unwrap_or(model),
                    };
                    // Text on the last line is rare but possible: it is
                    // already part of `done`.
                    return Some((Ok(StreamEvent::Done(done)), (lines, content, true)));
                }
                if !text.is_empty() {
                    return Some((Ok(StreamEvent::Delta(text)), (lines, content, false)));
                }
            }
        }
    })
}
