//! The OpenAI-compatible client.

use async_trait::async_trait;
use minions_core::structured::StructuredLevel;
use minions_core::{
    ApiKey, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Embedder, Embeddings,
    Error, ModelId, Probe, Result, env,
};
use minions_http::{
    Connection, ConnectionSettings, HttpClient, ProviderClient, WireRequest, checked_base_url,
    require_key,
};

use crate::adapter::OpenAiAdapter;
use crate::preset::{PRESETS, Preset, preset};
use crate::wire::{self, EmbeddingsBody};

/// The Azure API version used when `AZURE_OPENAI_API_VERSION` is not set: the
/// first generally available one with structured outputs.
pub const AZURE_DEFAULT_API_VERSION: &str = "2024-10-21";

impl ConnectionSettings for OpenAiBuilder {
    fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

/// Configures an [`OpenAiClient`].
#[derive(Debug, Clone)]
pub struct OpenAiBuilder {
    preset: &'static Preset,
    model: String,
    connection: Connection,
    api_version: Option<String>,
    headers: Vec<(String, String)>,
    max_context_tokens: Option<u32>,
}

impl OpenAiBuilder {
    /// Azure's `api-version`.
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// An extra header on every request.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The model's context window, reported in [`Capabilities`].
    pub fn max_context_tokens(mut self, tokens: u32) -> Self {
        self.max_context_tokens = Some(tokens);
        self
    }

    /// Fills the base URL, key and API version from the preset's variables
    /// where they were not set explicitly.
    pub fn with_env(mut self) -> Self {
        let connection = &mut self.connection;
        if connection.base_url.is_none() {
            connection.base_url = self.preset.base_url_var.and_then(env::read);
        }
        if connection.api_key.is_none() {
            connection.api_key = self.preset.key_var.and_then(ApiKey::from_env);
        }
        if self.api_version.is_none() && self.preset.name == "azure" {
            self.api_version = env::read(env::AZURE_OPENAI_API_VERSION);
        }
        self
    }

    /// Builds the client. Fails with a message naming the variable to set
    /// when a required key or the Azure endpoint is missing.
    pub fn build(self) -> Result<OpenAiClient> {
        let preset = self.preset;
        let id = ModelId::new(preset.name, self.model.clone());
        let Connection {
            base_url,
            api_key,
            http: http_config,
            retry,
        } = self.connection;
        let api_key = match preset.key_required {
            true => Some(require_key(
                &id,
                api_key,
                preset.key_var.unwrap_or("the provider's API key variable"),
            )?),
            false => api_key,
        };
        let base = match (&base_url, preset.name) {
            (Some(url), _) => url.as_str(),
            (None, "azure") => {
                return Err(Error::config(format!(
                    "{id} needs the Azure resource endpoint: set {} (export {}=https://NAME.openai.azure.com/)",
                    env::AZURE_OPENAI_ENDPOINT,
                    env::AZURE_OPENAI_ENDPOINT
                )));
            }
            (None, _) => preset.default_base_url,
        };
        let base = checked_base_url(&id, base, preset.base_url_var.unwrap_or("the base URL"))?;
        let (chat_url, embeddings_url) = if preset.name == "azure" {
            let version = self
                .api_version
                .as_deref()
                .unwrap_or(AZURE_DEFAULT_API_VERSION);
            let deployment = format!("{base}/openai/deployments/{}", self.model);
            (
                format!("{deployment}/chat/completions?api-version={version}"),
                format!("{deployment}/embeddings?api-version={version}"),
            )
        } else {
            (
                format!("{base}/chat/completions"),
                format!("{base}/embeddings"),
            )
        };
        let mut headers = self.headers;
        if preset.name == "openrouter" {
            // OpenRouter's attribution headers: they name the app on its
            // leaderboards and are otherwise harmless.
            headers.push((
                "HTTP-Referer".into(),
                "https://github.com/minions-rs/minions-rs".into(),
            ));
            headers.push(("X-Title".into(), "minions-rs".into()));
        }
        let mut http = HttpClient::builder(preset.name)
            .retry(retry)
            .config(http_config);
        if let Some(var) = preset.key_var {
            http = http.key_var(var);
        }
        if preset.local {
            let var = preset.base_url_var.unwrap_or("its base URL variable");
            http = http.connect_hint(format!(
                "is the {} server running at {base}? Start it, or set {var} to where it listens",
                preset.name
            ));
        }
        let capabilities = Capabilities {
            json_schema: preset.json_schema,
            json_mode: preset.json_mode,
            streaming: true,
            stream_usage: preset.stream_usage,
            max_context_tokens: self.max_context_tokens,
        };
        let adapter = OpenAiAdapter {
            preset,
            model: self.model,
            chat_url,
            embeddings_url,
            key: api_key,
            headers,
        };
        Ok(OpenAiClient {
            inner: ProviderClient::new(adapter, http.build()?, &capabilities),
            id,
            base,
            slot_context: std::sync::OnceLock::new(),
            capabilities,
        })
    }
}

/// A chat and embeddings client for OpenAI and every OpenAI-compatible
/// server: the [`OpenAiAdapter`] sent through the shared [`ProviderClient`].
pub struct OpenAiClient {
    pub(crate) id: ModelId,
    pub(crate) inner: ProviderClient<OpenAiAdapter>,
    /// The base URL (`.../v1`).
    pub(crate) base: String,
    /// What one llama.cpp slot holds, once `/props` said.
    pub(crate) slot_context: std::sync::OnceLock<u32>,
    pub(crate) capabilities: Capabilities,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let adapter = self.inner.adapter();
        f.debug_struct("OpenAiClient")
            .field("id", &self.id)
            .field("chat_url", &adapter.chat_url)
            .field("key", &adapter.key)
            .finish_non_exhaustive()
    }
}

impl OpenAiClient {
    /// A builder for `provider/model`, where `provider` is a preset name or
    /// alias. Unknown names get an error listing the presets.
    pub fn builder(provider: &str, model: impl Into<String>) -> Result<OpenAiBuilder> {
        let preset = preset(provider).ok_or_else(|| {
            let known: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            Error::config(format!(
                "`{provider}` is not an OpenAI-compatible provider; known: {}",
                known.join(", ")
            ))
        })?;
        Ok(OpenAiBuilder {
            preset,
            model: model.into(),
            connection: Connection::default(),
            api_version: None,
            headers: Vec::new(),
            max_context_tokens: None,
        })
    }

    /// A client configured from the preset's environment variables.
    pub fn from_env(provider: &str, model: impl Into<String>) -> Result<Self> {
        Self::builder(provider, model)?.with_env().build()
    }

    /// The preset in use.
    pub fn preset(&self) -> &'static Preset {
        self.inner.adapter().preset
    }

    /// The structured-output level this endpoint is at now (it drops when
    /// the server rejects a level).
    pub fn structured_level(&self) -> StructuredLevel {
        self.inner.structured_level()
    }
}

#[async_trait]
impl ChatModel for OpenAiClient {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        self.inner.chat(request, &()).await
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        self.inner.chat_stream(request, &(), &self.id.model).await
    }

    async fn probe(&self) -> Result<Probe> {
        self.probe_endpoint().await
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            max_context_tokens: self
                .slot_context
                .get()
                .copied()
                .or(self.capabilities.max_context_tokens),
            ..self.capabilities
        }
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

#[async_trait]
impl Embedder for OpenAiClient {
    async fn embed(&self, inputs: &[String]) -> Result<Embeddings> {
        if inputs.is_empty() {
            return Ok(Embeddings::default());
        }
        let adapter = self.inner.adapter();
        let body = EmbeddingsBody::new(&self.id.model, inputs);
        let request = WireRequest::post_json(&adapter.embeddings_url, &body)?;
        let bytes = self.inner.send_for_body(request).await?;
        wire::parse_embeddings(adapter.preset.name, &bytes, inputs.len())
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}
