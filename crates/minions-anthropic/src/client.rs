//! The Anthropic client.

use async_trait::async_trait;
use futures::StreamExt;
use minions_core::structured::{DowngradeMemory, StructuredLevel, send_with_downgrades};
use minions_core::{
    ApiKey, Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Error, ModelId, Probe,
    Result, StreamEvent, env,
};
use minions_http::reqwest::{Request, Response};
use minions_http::{HttpClient, HttpConfig, RetryPolicy, secret_header, sse_events};
use serde_json::Value;

use crate::wire::{self, StreamUpdate};

/// The API's default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` header we speak.
pub const API_VERSION: &str = "2023-06-01";
/// `max_tokens` when the request sets none (the API requires one).
pub const DEFAULT_MAX_TOKENS: u32 = 4096;
const PROVIDER: &str = "anthropic";

/// Configures an [`AnthropicClient`].
#[derive(Debug, Clone)]
pub struct AnthropicBuilder {
    model: String,
    base_url: Option<String>,
    api_key: Option<ApiKey>,
    http: HttpConfig,
    retry: RetryPolicy,
    default_max_tokens: u32,
}

impl AnthropicBuilder {
    /// The base URL (without `/v1/messages`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The API key.
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.api_key = Some(key);
        self
    }

    /// Timeouts.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// The retry policy (529 "overloaded" is retried like a 503).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// `max_tokens` for requests that set none.
    pub fn default_max_tokens(mut self, tokens: u32) -> Self {
        self.default_max_tokens = tokens;
        self
    }

    /// Fills the key and base URL from `ANTHROPIC_API_KEY` and
    /// `ANTHROPIC_BASE_URL` where they were not set.
    pub fn with_env(mut self) -> Self {
        if self.api_key.is_none() {
            self.api_key = ApiKey::from_env(env::ANTHROPIC_API_KEY);
        }
        if self.base_url.is_none() {
            self.base_url = env::read(env::ANTHROPIC_BASE_URL);
        }
        self
    }

    /// Builds the client; fails with a message naming `ANTHROPIC_API_KEY`
    /// when there is no key.
    pub fn build(self) -> Result<AnthropicClient> {
        let id = ModelId::new(PROVIDER, self.model);
        let Some(key) = self.api_key else {
            let var = env::ANTHROPIC_API_KEY;
            return Err(Error::config(format!(
                "{id} needs an API key: set {var} (export {var}=...)"
            )));
        };
        let base = self
            .base_url
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
            .trim_end_matches('/')
            .to_string();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(Error::config(format!(
                "{id}: base URL `{base}` must start with http:// or https:// (check {})",
                env::ANTHROPIC_BASE_URL
            )));
        }
        let capabilities = Capabilities {
            json_schema: true,
            json_mode: false,
            streaming: true,
            stream_usage: true,
            max_context_tokens: Some(200_000),
        };
        Ok(AnthropicClient {
            http: HttpClient::builder(PROVIDER)
                .key_var(env::ANTHROPIC_API_KEY)
                .retry(self.retry)
                .config(self.http)
                .build()?,
            url: format!("{base}/v1/messages"),
            key,
            structured: DowngradeMemory::for_capabilities(&capabilities),
            default_max_tokens: self.default_max_tokens,
            capabilities,
            id,
        })
    }
}

/// A client for Anthropic's Messages API.
pub struct AnthropicClient {
    id: ModelId,
    http: HttpClient,
    url: String,
    key: ApiKey,
    structured: DowngradeMemory,
    default_max_tokens: u32,
    capabilities: Capabilities,
}

impl std::fmt::Debug for AnthropicClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnthropicClient")
            .field("id", &self.id)
            .field("url", &self.url)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl AnthropicClient {
    /// A builder for this model.
    pub fn builder(model: impl Into<String>) -> AnthropicBuilder {
        AnthropicBuilder {
            model: model.into(),
            base_url: None,
            api_key: None,
            http: HttpConfig::default(),
            retry: RetryPolicy::default(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
        }
    }

    /// A client configured from `ANTHROPIC_API_KEY` and `ANTHROPIC_BASE_URL`.
    pub fn from_env(model: impl Into<String>) -> Result<Self> {
        Self::builder(model).with_env().build()
    }

    /// The structured-output level now in use (a forced tool, or the prompt).
    pub fn structured_level(&self) -> StructuredLevel {
        self.structured.current()
    }

    fn request(&self, body: &Value) -> Result<Request> {
        self.http
            .reqwest()
            .post(&self.url)
            .header("x-api-key", secret_header(&self.key, "")?)
            .header("anthropic-version", API_VERSION)
            .json(body)
            .build()
            .map_err(|e| Error::config(format!("cannot build a request to anthropic: {e}")))
    }

    /// `GET /v1/models`: the server answers and accepts the key. (Model
    /// aliases are not all listed, so the model is not checked by name.)
    async fn probe_models(&self) -> Result<Probe> {
        let url = self.url.replace("/v1/messages", "/v1/models");
        let request = self
            .http
            .reqwest()
            .get(&url)
            .header("x-api-key", secret_header(&self.key, "")?)
            .header("anthropic-version", API_VERSION)
            .build()
            .map_err(|e| Error::config(format!("cannot build a request to anthropic: {e}")))?;
        match self.http.send(request).await {
            Ok(_) => Ok(Probe {
                checked: vec![format!("the key is accepted at {url}")],
                ..Probe::default()
            }),
            Err(error) if matches!(error.status(), Some(404 | 405)) => Ok(Probe::default()),
            Err(error) => Err(error),
        }
    }

    async fn send(&self, request: &ChatRequest, stream: bool) -> Result<Response> {
        send_with_downgrades(
            &self.structured,
            &request.response_format,
            PROVIDER,
            |level| async move {
                let body = wire::messages_body(
                    &self.id.model,
                    request,
                    level,
                    stream,
                    self.default_max_tokens,
                );
                self.http.send(self.request(&body)?).await
            },
        )
        .await
    }
}

#[async_trait]
impl ChatModel for AnthropicClient {
    async fn probe(&self) -> Result<Probe> {
        self.probe_models().await
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        let response = self.send(request, false).await?;
        let body = self.http.read_body(response).await?;
        wire::parse_message(PROVIDER, &body)
    }

    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        let response = self.send(request, true).await?;
        Ok(Box::pin(stream_events(self.id.model.clone(), response)))
    }

    fn capabilities(&self) -> Capabilities {
        self.capabilities
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}

/// Turns the SSE event sequence into stream events, ending with `Done` at
/// `message_stop`; a stream that ends before it is an error.
fn stream_events(
    model: String,
    response: Response,
) -> impl futures::Stream<Item = Result<StreamEvent>> + Send {
    struct State<S> {
        events: S,
        response: ChatResponse,
        finished: bool,
    }
    let state = State {
        events: Box::pin(sse_events(PROVIDER, response.bytes_stream())),
        response: ChatResponse {
            content: String::new(),
            finish_reason: None,
            usage: Default::default(),
            model,
        },
        finished: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        if state.finished {
            return None;
        }
        loop {
            let event = match state.events.next().await {
                Some(Ok(event)) => event,
                Some(Err(error)) => {
                    state.finished = true;
                    return Some((Err(error), state));
                }
                None => {
                    state.finished = true;
                    let error = Error::stream(PROVIDER, "the stream ended before message_stop");
                    return Some((Err(error), state));
                }
            };
            match wire::parse_stream_event(PROVIDER, &event.event, &event.data) {
                Err(error) => {
                    state.finished = true;
                    return Some((Err(error), state));
                }
                Ok(StreamUpdate::Start { usage, model }) => {
                    state.response.usage = usage;
                    if let Some(model) = model {
                        state.response.model = model;
                    }
                }
                Ok(StreamUpdate::Text(text)) if !text.is_empty() => {
                    state.response.content.push_str(&text);
                    return Some((Ok(StreamEvent::Delta(text)), state));
                }
                Ok(StreamUpdate::Delta {
                    stop_reason,
                    output_tokens,
                }) => {
                    if stop_reason.is_some() {
                        state.response.finish_reason = stop_reason;
                    }
                    if let Some(tokens) = output_tokens {
                        state.response.usage.completion_tokens = tokens;
                    }
                }
                Ok(StreamUpdate::Stop) => {
                    state.finished = true;
                    let done = std::mem::replace(
                        &mut state.response,
                        ChatResponse::new("", Default::default(), ""),
                    );
                    return Some((Ok(StreamEvent::Done(done)), state));
                }
                Ok(StreamUpdate::Text(_) | StreamUpdate::Ignore) => {}
            }
        }
    })
}
