//! Anthropic's Messages wire format as a sans-IO adapter.

use minions_core::structured::StructuredLevel;
use minions_core::{ApiKey, ChatRequest, ChatResponse, Result};
use minions_http::reqwest::header::HeaderValue;
use minions_http::{Frame, FrameUpdate, Framing, ProviderAdapter, WireRequest, secret_header};

use crate::wire::{self, MessagesBody, StreamUpdate};

/// The `anthropic-version` header we speak.
pub const API_VERSION: &str = "2023-06-01";
/// The provider's name in model ids and errors.
pub(crate) const PROVIDER: &str = "anthropic";

/// What the Messages API needs to be spoken to.
#[derive(Debug)]
pub struct AnthropicAdapter {
    pub(crate) model: String,
    /// `.../v1/messages`.
    pub(crate) url: String,
    pub(crate) key: ApiKey,
    pub(crate) default_max_tokens: u32,
}

impl ProviderAdapter for AnthropicAdapter {
    type Context = ();

    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn authorize(&self, request: WireRequest) -> Result<WireRequest> {
        request
            .header("x-api-key", secret_header(&self.key, "")?)?
            .header("anthropic-version", HeaderValue::from_static(API_VERSION))
    }

    fn chat_request(
        &self,
        request: &ChatRequest,
        _context: &(),
        level: StructuredLevel,
        stream: bool,
    ) -> Result<WireRequest> {
        let body = MessagesBody::new(&self.model, request, level, stream, self.default_max_tokens);
        WireRequest::post_json(&self.url, &body)
    }

    fn parse_chat(&self, body: &[u8]) -> Result<ChatResponse> {
        wire::parse_message(PROVIDER, body)
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn parse_frame(&self, frame: Frame, answer: &mut ChatResponse) -> Result<FrameUpdate> {
        let Frame::Event(event) = frame else {
            return Ok(FrameUpdate::default());
        };
        Ok(
            match wire::parse_stream_event(PROVIDER, &event.event, &event.data)? {
                StreamUpdate::Start { usage, model } => {
                    answer.usage = usage;
                    if let Some(model) = model {
                        answer.model = model;
                    }
                    FrameUpdate::default()
                }
                StreamUpdate::Text(text) => FrameUpdate::text(text),
                StreamUpdate::Delta {
                    stop_reason,
                    output_tokens,
                } => {
                    if stop_reason.is_some() {
                        answer.finish_reason = stop_reason;
                    }
                    if let Some(tokens) = output_tokens {
                        answer.usage.completion_tokens = tokens;
                    }
                    FrameUpdate::default()
                }
                StreamUpdate::Stop => FrameUpdate::done(),
                StreamUpdate::Ignore => FrameUpdate::default(),
            },
        )
    }

    fn end_marker(&self) -> &'static str {
        "message_stop"
    }
}

#[cfg(test)]
mod tests {
    use minions_core::Message;

    use super::*;

    #[test]
    fn requests_carry_the_key_and_version_without_io() {
        let adapter = AnthropicAdapter {
            model: "claude".into(),
            url: "http://127.0.0.1:1/v1/messages".into(),
            key: ApiKey::new("sk-ant"),
            default_max_tokens: 64,
        };
        let request = ChatRequest::new(vec![Message::user("q")]);
        let wire = adapter
            .authorize(
                adapter
                    .chat_request(&request, &(), StructuredLevel::Schema, false)
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(wire.headers["x-api-key"], "sk-ant");
        assert!(wire.headers["x-api-key"].is_sensitive());
        assert_eq!(wire.headers["anthropic-version"], API_VERSION);
        assert_eq!(wire.json_body().unwrap()["max_tokens"], 64);
    }
}
