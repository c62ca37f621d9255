//! The OpenAI-compatible client.

use async_trait::async_trait;
use minions_core::{
    ApiKey, Capabilities, ChatRequest, Embeddings, Error, ModelId, Probe, Result, env,
};
use minions_http::{
    Connection, ConnectionSettings, EmbeddingHooks, HttpClient, ModelHooks, ProviderClient,
    ProviderModel, WireRequest, checked_base_url, require_key,
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
    /// A builder for `provider/model`, where `provider` is a preset name or
    /// alias. Unknown names get an error listing the presets.
    pub fn new(provider: &str, model: impl Into<String>) -> Result<Self> {
        let preset = preset(provider).ok_or_else(|| {
            let known: Vec<&str> = PRESETS.iter().map(|p| p.name).collect();
            Error::config(format!(
                "`{provider}` is not an OpenAI-compatible provider; known: {}",
                known.join(", ")
            ))
        })?;
        Ok(Self {
            preset,
            model: model.into(),
            connection: Connection::default(),
            api_version: None,
            headers: Vec::new(),
            max_context_tokens: None,
        })
    }

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
            base,
            slot_context: std::sync::OnceLock::new(),
        };
        Ok(ProviderModel::new(id, adapter, http.build()?, capabilities))
    }
}

/// A chat and embeddings client for OpenAI and every OpenAI-compatible
/// server: the [`OpenAiAdapter`] sent through the shared client, built with
/// [`OpenAiBuilder`].
pub type OpenAiClient = ProviderModel<OpenAiAdapter>;

#[async_trait]
impl ModelHooks for OpenAiAdapter {
    async fn probe(client: &ProviderClient<Self>) -> Result<Probe> {
        crate::probe::probe_endpoint(client).await
    }

    async fn context(_: &ProviderClient<Self>, _: &ChatRequest) -> Result<()> {
        Ok(())
    }

    fn learned_context_tokens(&self) -> Option<u32> {
        self.slot_context.get().copied()
    }
}

#[async_trait]
impl EmbeddingHooks for OpenAiAdapter {
    async fn embed(
        client: &ProviderClient<Self>,
        model: &str,
        inputs: &[String],
    ) -> Result<Embeddings> {
        let adapter = client.adapter();
        let body = EmbeddingsBody::new(model, inputs);
        let request = WireRequest::post_json(&adapter.embeddings_url, &body)?;
        let bytes = client.send_for_body(request).await?;
        wire::parse_embeddings(adapter.preset.name, &bytes, inputs.len())
    }
}
