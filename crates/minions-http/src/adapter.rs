//! The sans-IO side of a provider: how to write a request and read an answer.
//!
//! A provider crate implements [`ProviderAdapter`] (pure functions over
//! bytes and types, no sockets), and [`crate::ProviderClient`] does the rest
//! for every provider alike: transport, retries, stepping down the
//! structured-output level, reading bodies and driving streams.

use minions_core::structured::StructuredLevel;
use minions_core::{ChatRequest, ChatResponse, Error, Result};
use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;

use crate::SseEvent;

/// An HTTP request, described but not sent.
#[derive(Debug, Clone)]
pub struct WireRequest {
    /// GET or POST.
    pub method: Method,
    /// The full URL.
    pub url: String,
    /// Headers, authentication included once [`ProviderAdapter::authorize`]
    /// has run.
    pub headers: HeaderMap,
    /// The body, already serialized.
    pub body: Option<Vec<u8>>,
}

impl WireRequest {
    /// A GET of `url`.
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: Method::GET,
            url: url.into(),
            headers: HeaderMap::new(),
            body: None,
        }
    }

    /// A POST of `body` as JSON to `url`.
    pub fn post_json(url: impl Into<String>, body: &impl Serialize) -> Result<Self> {
        let body = serde_json::to_vec(body)
            .map_err(|e| Error::config(format!("cannot write the request body: {e}")))?;
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        Ok(Self {
            method: Method::POST,
            url: url.into(),
            headers,
            body: Some(body),
        })
    }

    /// Adds a header; a name or value HTTP can't carry is a configuration
    /// error that names the header (never its value: it may be a key).
    pub fn header(mut self, name: &str, value: HeaderValue) -> Result<Self> {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::config(format!("`{name}` is not a valid HTTP header name")))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// The body as JSON, for tests and logs.
    pub fn json_body(&self) -> Option<serde_json::Value> {
        self.body
            .as_deref()
            .and_then(|b| serde_json::from_slice(b).ok())
    }
}

/// How a provider frames a streamed answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Server-sent events (OpenAI, Anthropic).
    Sse,
    /// One JSON object per line (Ollama).
    Ndjson,
}

/// One frame of a streamed answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A server-sent event.
    Event(SseEvent),
    /// One NDJSON line, already parsed as JSON.
    Line(serde_json::Value),
}

/// What one frame added to the answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrameUpdate {
    /// New text (possibly empty). The client appends it to the answer.
    pub text: String,
    /// Whether this frame ends the answer.
    pub done: bool,
}

impl FrameUpdate {
    /// A frame that adds text.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            done: false,
        }
    }

    /// The frame that ends the answer.
    pub fn done() -> Self {
        Self {
            text: String::new(),
            done: true,
        }
    }
}

/// A provider's wire format, free of IO. Implementations are pure, so they
/// are tested without a server, and one generic client sends for all.
pub trait ProviderAdapter: Send + Sync + 'static {
    /// Facts a request needs that the adapter can't look up itself because
    /// that would be IO (Ollama's `num_ctx`, from `/api/show`); `()` for
    /// most providers.
    type Context: Sync;

    /// The provider's name, used in errors.
    fn provider(&self) -> &'static str;

    /// Adds authentication and fixed headers to any request to this
    /// provider. The default adds nothing.
    fn authorize(&self, request: WireRequest) -> Result<WireRequest> {
        Ok(request)
    }

    /// The chat request for `request`, asking for structured output at
    /// `level`, streamed or not.
    fn chat_request(
        &self,
        request: &ChatRequest,
        context: &Self::Context,
        level: StructuredLevel,
        stream: bool,
    ) -> Result<WireRequest>;

    /// Reads a whole (non-streamed) chat answer.
    fn parse_chat(&self, body: &[u8]) -> Result<ChatResponse>;

    /// How streamed answers are framed.
    fn framing(&self) -> Framing;

    /// Reads one frame of a streamed answer into `answer` (usage, finish
    /// reason, model) and says what text it added and whether it ended the
    /// answer. An error frame is an `Err`.
    fn parse_frame(&self, frame: Frame, answer: &mut ChatResponse) -> Result<FrameUpdate>;

    /// What marks the end of a complete stream (`[DONE]`, `message_stop`),
    /// named in the error when a stream ends without it.
    fn end_marker(&self) -> &'static str;

    /// Turns a provider's error into a more helpful one (Ollama's "model not
    /// found" into `ollama pull`). The default keeps it.
    fn classify_error(&self, error: Error) -> Error {
        error
    }
}
