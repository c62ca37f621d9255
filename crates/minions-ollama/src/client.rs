//! The Ollama client: its builder, its hooks, and the Ollama-only API
//! calls (`/api/show`, `/api/tags`).

use async_trait::async_trait;
use minions_core::{Capabilities, ChatRequest, Embeddings, Error, ModelId, Probe, Result, env};
use minions_http::{
    Connection, ConnectionSettings, EmbeddingHooks, HttpClient, ModelHooks, ProviderClient,
    ProviderModel, WireRequest,
};
use serde::Serialize;
use serde_json::Value;

use crate::adapter::{KnownContext, OllamaAdapter, PROVIDER};
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
    /// A builder for `model` (`llama3.2`, `qwen2.5:7b`, ...).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            connection: Connection::default(),
            options: OllamaOptions::default(),
        }
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
            context_length: std::sync::Mutex::new(None),
            show_lock: tokio::sync::Mutex::new(()),
        };
        Ok(ProviderModel::new(
            ModelId::new(PROVIDER, self.model),
            adapter,
            http,
            capabilities,
        ))
    }
}

/// A client for Ollama's native API: the [`OllamaAdapter`] sent through
/// the shared client, built with [`OllamaBuilder`]. Its Ollama-only calls
/// are in [`OllamaApi`].
pub type OllamaClient = ProviderModel<OllamaAdapter>;

/// What an Ollama server answers beyond chats and embeddings.
#[async_trait]
pub trait OllamaApi {
    /// The server's base URL.
    fn base_url(&self) -> &str;

    /// `/api/show` for this model: details, parameters, `model_info`.
    async fn show(&self) -> Result<Value>;

    /// The installed models (`/api/tags`).
    async fn list_models(&self) -> Result<Vec<String>>;

    /// The model's context length, from `/api/show`, looked up once: the
    /// first caller asks while concurrent callers wait for its answer, so
    /// a round of parallel jobs costs one look-up, not one per job.
    async fn context_length(&self) -> Result<Option<u32>>;
}

#[async_trait]
impl OllamaApi for OllamaClient {
    fn base_url(&self) -> &str {
        &self.adapter().base
    }

    async fn show(&self) -> Result<Value> {
        show(self.client()).await
    }

    async fn list_models(&self) -> Result<Vec<String>> {
        let url = self.adapter().url("/api/tags");
        let tags: Value = self.client().send_json(WireRequest::get(url)).await?;
        Ok(wire::tag_names(&tags))
    }

    async fn context_length(&self) -> Result<Option<u32>> {
        context_length(self.client()).await
    }
}

async fn show(client: &ProviderClient<OllamaAdapter>) -> Result<Value> {
    let adapter = client.adapter();
    let request = WireRequest::post_json(
        adapter.url("/api/show"),
        &ModelName {
            model: &adapter.model,
        },
    )?;
    let body = client.send_for_body(request).await?;
    serde_json::from_slice(&body).map_err(|e| {
        Error::decode(
            PROVIDER,
            format!("not a show answer ({e})"),
            String::from_utf8_lossy(&body),
        )
    })
}

async fn context_length(client: &ProviderClient<OllamaAdapter>) -> Result<Option<u32>> {
    let adapter = client.adapter();
    let _one_at_a_time = adapter.show_lock.lock().await;
    let cached = *adapter
        .context_length
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let known = match cached {
        Some(known) => known,
        None => {
            let known = match wire::context_length(&show(client).await?) {
                Some(length) => KnownContext::Length(length),
                None => KnownContext::Unknown,
            };
            *adapter
                .context_length
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(known);
            known
        }
    };
    Ok(known.length())
}

#[async_trait]
impl ModelHooks for OllamaAdapter {
    /// `/api/show`: the server answers, the model is pulled, and its
    /// context length.
    async fn probe(client: &ProviderClient<Self>) -> Result<Probe> {
        let context = context_length(client).await?;
        let adapter = client.adapter();
        Ok(Probe {
            checked: vec![format!("{} is pulled ({})", adapter.model, adapter.base)],
            model_available: Some(true),
            context_tokens: context,
        })
    }

    /// `num_ctx` for a request: sized to it, within the model's window.
    async fn context(client: &ProviderClient<Self>, request: &ChatRequest) -> Result<u32> {
        let limit = context_length(client).await?;
        ContextNeed::of(request).num_ctx(&client.adapter().model, limit)
    }

    fn learned_context_tokens(&self) -> Option<u32> {
        self.context_length
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .and_then(KnownContext::length)
    }
}

#[async_trait]
impl EmbeddingHooks for OllamaAdapter {
    async fn embed(
        client: &ProviderClient<Self>,
        model: &str,
        inputs: &[String],
    ) -> Result<Embeddings> {
        let request = WireRequest::post_json(
            client.adapter().url("/api/embed"),
            &EmbedBody {
                model,
                input: inputs,
            },
        )?;
        let body = client.send_for_body(request).await?;
        wire::parse_embed(&body, inputs.len())
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
