//! OpenAI's Chat Completions wire format as a sans-IO adapter.

use minions_core::structured::StructuredLevel;
use minions_core::{ApiKey, ChatRequest, ChatResponse, Result};
use minions_http::reqwest::header::HeaderValue;
use minions_http::{Frame, FrameUpdate, Framing, ProviderAdapter, WireRequest, secret_header};

use crate::preset::{AuthStyle, Preset};
use crate::wire::{self, ChatBody};

/// What an OpenAI-compatible endpoint needs to be spoken to.
#[derive(Debug)]
pub struct OpenAiAdapter {
    pub(crate) preset: &'static Preset,
    pub(crate) model: String,
    pub(crate) chat_url: String,
    pub(crate) embeddings_url: String,
    pub(crate) key: Option<ApiKey>,
    pub(crate) headers: Vec<(String, String)>,
    /// The base URL (`.../v1`).
    pub(crate) base: String,
    /// What one llama.cpp slot holds, once `/props` said.
    pub(crate) slot_context: std::sync::OnceLock<u32>,
}

impl OpenAiAdapter {
    /// The preset this endpoint speaks as.
    pub fn preset(&self) -> &'static Preset {
        self.preset
    }
}

impl ProviderAdapter for OpenAiAdapter {
    type Context = ();

    fn provider(&self) -> &'static str {
        self.preset.name
    }

    fn authorize(&self, mut request: WireRequest) -> Result<WireRequest> {
        if let Some(key) = &self.key {
            request = match self.preset.auth {
                AuthStyle::Bearer => {
                    request.header("authorization", secret_header(key, "Bearer ")?)?
                }
                AuthStyle::AzureApiKey => request.header("api-key", secret_header(key, "")?)?,
            };
        }
        for (name, value) in &self.headers {
            let value = HeaderValue::from_str(value).map_err(|_| {
                minions_core::Error::config(format!(
                    "the value of header `{name}` can't be sent over HTTP"
                ))
            })?;
            request = request.header(name, value)?;
        }
        Ok(request)
    }

    fn chat_request(
        &self,
        request: &ChatRequest,
        _context: &(),
        level: StructuredLevel,
        stream: bool,
    ) -> Result<WireRequest> {
        let body = ChatBody::new(&self.model, request, self.preset, level, stream);
        WireRequest::post_json(&self.chat_url, &body)
    }

    fn parse_chat(&self, body: &[u8]) -> Result<ChatResponse> {
        wire::parse_chat(self.preset.name, body)
    }

    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn parse_frame(&self, frame: Frame, answer: &mut ChatResponse) -> Result<FrameUpdate> {
        let Frame::Event(event) = frame else {
            return Ok(FrameUpdate::default());
        };
        if event.data.trim() == "[DONE]" {
            return Ok(FrameUpdate::done());
        }
        let update = wire::parse_stream_chunk(self.preset.name, &event.data)?;
        if let Some(model) = update.model {
            answer.model = model;
        }
        if let Some(usage) = update.usage {
            answer.usage = usage;
        }
        if update.finish_reason.is_some() {
            answer.finish_reason = update.finish_reason;
        }
        Ok(FrameUpdate::text(update.text))
    }

    fn end_marker(&self) -> &'static str {
        "[DONE]"
    }
}

#[cfg(test)]
mod tests {
    use minions_core::{Message, ResponseFormat};
    use serde_json::json;

    use super::*;
    use crate::preset;

    fn adapter(name: &str, key: Option<&str>) -> OpenAiAdapter {
        OpenAiAdapter {
            preset: preset(name).unwrap(),
            model: "m".into(),
            chat_url: "http://127.0.0.1:1/v1/chat/completions".into(),
            embeddings_url: "http://127.0.0.1:1/v1/embeddings".into(),
            key: key.map(ApiKey::new),
            headers: vec![("X-Extra".into(), "1".into())],
            base: "http://127.0.0.1:1/v1".into(),
            slot_context: std::sync::OnceLock::new(),
        }
    }

    #[test]
    fn requests_are_written_without_io() {
        let openai = adapter("openai", Some("sk-test"));
        let request = ChatRequest::new(vec![Message::user("q")])
            .with_response_format(ResponseFormat::json_schema("s", json!({"type": "object"})));
        let wire = openai
            .authorize(
                openai
                    .chat_request(&request, &(), StructuredLevel::Schema, true)
                    .unwrap(),
            )
            .unwrap();
        assert_eq!(wire.url, "http://127.0.0.1:1/v1/chat/completions");
        assert_eq!(wire.headers["authorization"], "Bearer sk-test");
        assert!(wire.headers["authorization"].is_sensitive());
        assert_eq!(wire.headers["x-extra"], "1");
        let body = wire.json_body().unwrap();
        assert_eq!(body["stream"], true);
        assert_eq!(body["response_format"]["type"], "json_schema");

        let azure = adapter("azure", Some("az"));
        let wire = azure.authorize(WireRequest::get("http://x")).unwrap();
        assert_eq!(wire.headers["api-key"], "az");
        assert!(wire.headers.get("authorization").is_none());
    }

    #[test]
    fn frames_build_the_answer_and_done_ends_it() {
        let openai = adapter("openai", None);
        let mut answer = ChatResponse::new("", Default::default(), "m");
        let event = |data: &str| {
            Frame::Event(minions_http::SseEvent {
                event: "message".into(),
                data: data.into(),
                id: String::new(),
            })
        };
        let update = openai
            .parse_frame(
                event(r#"{"choices":[{"delta":{"content":"hi"},"finish_reason":"stop"}],"model":"m2"}"#),
                &mut answer,
            )
            .unwrap();
        assert_eq!(update, FrameUpdate::text("hi"));
        assert_eq!(answer.model, "m2");
        assert!(answer.finish_reason.is_some());
        assert!(
            openai
                .parse_frame(event(" [DONE]"), &mut answer)
                .unwrap()
                .done
        );
        assert!(
            openai
                .parse_frame(event(r#"{"error":{"message":"boom"}}"#), &mut answer)
                .is_err()
        );
    }
}
