//! The Anthropic client.

use async_trait::async_trait;
use minions_core::{ApiKey, Capabilities, ChatRequest, ModelId, Probe, Result, env};
use minions_http::{
    Connection, ConnectionSettings, HttpClient, ModelHooks, ProviderClient, ProviderModel,
    WireRequest, checked_base_url, require_key,
};

use crate::adapter::{AnthropicAdapter, PROVIDER};
use crate::provider::{API_KEY_VAR, BASE_URL_VAR};

/// The API's default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// `max_tokens` when the request sets none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Configures an [`AnthropicClient`].
#[derive(Debug, Clone)]
pub struct AnthropicBuilder {
    model: String,
    connection: Connection,
    default_max_tokens: u32,
}

impl ConnectionSettings for AnthropicBuilder {
    fn connection(&mut self) -> &mut Connection {
        &mut self.connection
    }
}

impl AnthropicBuilder {
    /// A builder for `model` (`claude-sonnet-4-5`, ...).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            connection: Connection::default(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
        }
    }

    /// `max_tokens` for requests that set none.
    pub fn default_max_tokens(mut self, tokens: u32) -> Self {
        self.default_max_tokens = tokens;
        self
    }

    /// Fills the key and base URL from `ANTHROPIC_API_KEY` and
    /// `ANTHROPIC_BASE_URL` where they were not set.
    pub fn with_env(mut self) -> Self {
        let connection = &mut self.connection;
        if connection.api_key.is_none() {
            connection.api_key = ApiKey::from_env(API_KEY_VAR);
        }
        if connection.base_url.is_none() {
            connection.base_url = env::read(BASE_URL_VAR);
        }
        self
    }

    /// Builds the client; fails with a message naming `ANTHROPIC_API_KEY`
    /// when there is no key.
    pub fn build(self) -> Result<AnthropicClient> {
        let id = ModelId::new(PROVIDER, self.model);
        let Connection {
            base_url,
            api_key,
            http,
            retry,
        } = self.connection;
        let key = require_key(&id, api_key, API_KEY_VAR)?;
        let base = checked_base_url(
            &id,
            base_url.as_deref().unwrap_or(DEFAULT_BASE_URL),
            BASE_URL_VAR,
        )?;
        let capabilities = Capabilities {
            json_schema: true,
            json_mode: false,
            streaming: true,
            stream_usage: true,
            max_context_tokens: Some(200_000),
        };
        let http = HttpClient::builder(PROVIDER)
            .key_var(API_KEY_VAR)
            .retry(retry)
            .config(http)
            .build()?;
        let adapter = AnthropicAdapter {
            model: id.model.clone(),
            url: format!("{base}/v1/messages"),
            key,
            default_max_tokens: self.default_max_tokens,
        };
        Ok(ProviderModel::new(id, adapter, http, capabilities))
    }
}

/// A client for Anthropic's Messages API: the [`AnthropicAdapter`] sent
/// through the shared client, built with [`AnthropicBuilder`].
pub type AnthropicClient = ProviderModel<AnthropicAdapter>;

#[async_trait]
impl ModelHooks for AnthropicAdapter {
    /// `GET /v1/models`: the server answers and accepts the key. (Model
    /// aliases are not all listed, so the model is not checked by name.)
    async fn probe(client: &ProviderClient<Self>) -> Result<Probe> {
        let url = client.adapter().url.replace("/v1/messages", "/v1/models");
        match client.send(WireRequest::get(&url)).await {
            Ok(_) => Ok(Probe {
                checked: vec![format!("the key is accepted at {url}")],
                ..Probe::default()
            }),
            Err(error) if matches!(error.status(), Some(404 | 405)) => Ok(Probe::default()),
            Err(error) => Err(error),
        }
    }

    async fn context(_: &ProviderClient<Self>, _: &ChatRequest) -> Result<()> {
        Ok(())
    }
}
