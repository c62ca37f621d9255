//! The Ollama client.

use std::sync::Mutex;

use async_trait::async_trait;
use minions_core::structured::StructuredLevel;
use minions_core::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Embedder, Embeddings, Error,
    ModelId, Probe, Result, env,
};
use minions_http::{Connection, ConnectionSettings, HttpClient, ProviderClient, WireRequest};
use serde::Serialize;
use serde_json::Value;

use crate::adapter::{OllamaAdapter, PROVIDER};
use crate::provider::HOST_VAR;
use crate::wire::{self, ContextNeed, OllamaOptions};

/// Where Ollama listens unless `OLLAMA_HOST` says otherwise.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:11434";

/// Configures an [`OllamaClient`].
#[derive(Debug, Clone)]
pub struct OllamaBuilder {
    model: String,
    connection: Connection,
    options: OllamaOptions,
}

impl ConnectionSettings for OllamaBuilder {
    fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

impl OllamaBuilder {
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

    /// Reads `OLLAMA_HOST` when no base URL was set.
    pub fn with_env(mut self) -> Self {
        if self.connection.base_url.is_none() {
            self.connection.base_url = env::read(HOST_VAR);
        }
        self
    }

    /// Builds the client. Nothing is contacted until the first request.
    pub fn build(self) -> Result<OllamaClient> {
        let Connection {
            base_url,
            http,
            retry,
            ..
        } = self.connection;
        let base = match base_url {
            Some(url) => wire::base_url_from_host(&url),
            None => DEFAULT_BASE_URL.to_string(),
        };
        let http = HttpClient::builder(PROVIDER)
            .connect_hint(format!(
                "is Ollama running? Start it with `ollama serve` (or open the Ollama app), or set {} to where it listens",
                HOST_VAR
            ))
            .retry(retry)
            .config(http)
            .build()?;
        let capabilities = Capabilities {
            json_schema: true,
            json_mode: true,
            streaming: true,
            stream_usage: true,
            max_context_tokens: None,
        };
        let adapter = OllamaAdapter {
            model: self.model.clone(),
            base,
            options: self.options,
        };
        Ok(OllamaClient {
            id: ModelId::new(PROVIDER, self.model),
            inner: ProviderClient::new(adapter, http, &capabilities),
            context_length: Mutex::new(None),
            show_lock: tokio::sync::Mutex::new(()),
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

/// A client for Ollama's native API: the [`OllamaAdapter`] sent through
/// the shared [`ProviderClient`].
pub struct OllamaClient {
    id: ModelId,
    inner: ProviderClient<OllamaAdapter>,
    /// The model's context length, looked up once.
    context_length: Mutex<Option<KnownContext>>,
    /// Held while the context length is looked up.
    show_lock: tokio::sync::Mutex<()>,
    capabilities: Capabilities,
}

impl std::fmt::Debug for OllamaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OllamaClient")
            .field("id", &self.id)
            .field("base", &self.inner.adapter().base)
            .finish_non_exhaustive()
    }
}

impl OllamaClient {
    /// A builder for this model (`llama3.2`, `qwen2.5:7b`, ...).
    pub fn builder(model: impl Into<String>) -> OllamaBuilder {
        OllamaBuilder {
            model: model.into(),
            connection: Connection::default(),
            options: OllamaOptions::default(),
        }
    }

    /// A client for the server named by `OLLAMA_HOST` (default
    /// `127.0.0.1:11434`).
    pub fn from_env(model: impl Into<String>) -> Result<Self> {
        Self::builder(model).with_env().build()
    }

    /// The server's base URL.
    pub fn base_url(&self) -> &str {
        &self.inner.adapter().base
    }

    /// `/api/show` for this model: details, parameters, `model_info`.
    pub async fn show(&self) -> Result<Value> {
        let request = WireRequest::post_json(
            self.inner.adapter().url("/api/show"),
            &ModelName {
                model: &self.id.model,
            },
        )?;
        let body = self.inner.send_for_body(request).await?;
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
        let url = self.inner.adapter().url("/api/tags");
        let tags: Value = self.inner.send_json(WireRequest::get(url)).await?;
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

    /// `num_ctx` for a request: sized to it, within the model's window.
    async fn num_ctx(&self, request: &ChatRequest) -> Result<u32> {
        let limit = self.context_length().await?;
        ContextNeed::of(request).num_ctx(&self.id.model, limit)
    }

    /// The structured-output level now in use.
    pub fn structured_level(&self) -> StructuredLevel {
        self.inner.structured_level()
    }
}

#[async_trait]
impl ChatModel for OllamaClient {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let num_ctx = self.num_ctx(request).await?;
        self.inner.chat(request, &num_ctx).await
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        let num_ctx = self.num_ctx(request).await?;
        self.inner
            .chat_stream(request, &num_ctx, &self.id.model)
            .await
    }

    /// `/api/show`: the server answers, the model is pulled, and its
    /// context length.
    async fn probe(&self) -> Result<Probe> {
        let context = self.context_length().await?;
        Ok(Probe {
            checked: vec![format!("{} is pulled ({})", self.id.model, self.base_url())],
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
        let request = WireRequest::post_json(
            self.inner.adapter().url("/api/embed"),
            &EmbedBody {
                model: &self.id.model,
                input: inputs,
            },
        )?;
        let body = self.inner.send_for_body(request).await?;
        wire::parse_embed(&body, inputs.len())
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

/// `{"model": ...}`, the body of `/api/show`.
#[derive(Serialize)]
struct ModelName<'a> {
    model: &'a str,
}

/// The body of `/api/embed`.
#[derive(Serialize)]
struct EmbedBody<'a> {
    model: &'a str,
    input: &'a [String],
}
