//! Ollama's native `/api/chat` wire format as a sans-IO adapter.

use minions_core::structured::StructuredLevel;
use minions_core::{ChatRequest, ChatResponse, Error, Result};
use minions_http::{Frame, FrameUpdate, Framing, ProviderAdapter, WireRequest};

use crate::wire::{self, ChatBody, ChatLine, OllamaOptions};

/// The provider's name in model ids and errors.
pub(crate) const PROVIDER: &str = "ollama";

/// What an Ollama server needs to be spoken to, and what it told us.
#[derive(Debug)]
pub struct OllamaAdapter {
    pub(crate) model: String,
    pub(crate) base: String,
    pub(crate) options: OllamaOptions,
    /// The model's context length, looked up once (see
    /// [`crate::OllamaApi::context_length`]).
    pub(crate) context_length: std::sync::Mutex<Option<KnownContext>>,
    /// Held while the context length is looked up.
    pub(crate) show_lock: tokio::sync::Mutex<()>,
}

/// What `/api/show` told us about the model's context.
#[derive(Debug, Clone, Copy)]
pub(crate) enum KnownContext {
    Length(u32),
    /// `/api/show` answered but named no context length (old servers).
    Unknown,
}

impl KnownContext {
    /// The length, when the server named one.
    pub(crate) fn length(self) -> Option<u32> {
        match self {
            KnownContext::Length(length) => Some(length),
            KnownContext::Unknown => None,
        }
    }
}

impl OllamaAdapter {
    /// The URL of an API path on this server.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn not_pulled(&self) -> Error {
        let model = &self.model;
        Error::invalid_request(
            PROVIDER,
            format!(
                "model `{model}` is not installed in Ollama at {}: run `ollama pull {model}`",
                self.base
            ),
        )
    }
}

impl ProviderAdapter for OllamaAdapter {
    /// `num_ctx`: sized to the request and checked against the model's
    /// window, which takes a look-up (`/api/show`) first.
    type Context = u32;

    fn provider(&self) -> &'static str {
        PROVIDER
    }

    fn chat_request(
        &self,
        request: &ChatRequest,
        num_ctx: &u32,
        level: StructuredLevel,
        stream: bool,
    ) -> Result<WireRequest> {
        let body = ChatBody::new(&self.model, request, *num_ctx, level, stream, &self.options);
        WireRequest::post_json(self.url("/api/chat"), &body)
    }

    fn parse_chat(&self, body: &[u8]) -> Result<ChatResponse> {
        wire::parse_chat(body, &self.model)
    }

    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn parse_frame(&self, frame: Frame, answer: &mut ChatResponse) -> Result<FrameUpdate> {
        let Frame::Line(line) = frame else {
            return Ok(FrameUpdate::default());
        };
        let line: ChatLine = serde_json::from_value(line).map_err(|e| {
            Error::decode(
                PROVIDER,
                format!("invalid JSON line in the stream ({e})"),
                "",
            )
        })?;
        if let Some(message) = &line.error {
            return Err(Error::stream(
                PROVIDER,
                format!("Ollama reported an error mid-stream: {message}"),
            ));
        }
        let update = FrameUpdate {
            text: line.text().to_string(),
            done: line.done,
        };
        if line.done {
            answer.finish_reason = line.finish_reason();
            answer.usage = line.usage();
            if let Some(model) = line.model {
                answer.model = model;
            }
        }
        Ok(update)
    }

    fn end_marker(&self) -> &'static str {
        "\"done\": true"
    }

    /// Turns Ollama's "model not found" 404 into the advice to pull it.
    fn classify_error(&self, error: Error) -> Error {
        match &error {
            Error::Http(http) if http.status == 404 && http.message.contains("not found") => {
                self.not_pulled()
            }
            _ => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use minions_core::Message;
    use serde_json::json;

    use super::*;

    fn adapter() -> OllamaAdapter {
        OllamaAdapter {
            model: "llama3.2".into(),
            base: "http://127.0.0.1:11434".into(),
            options: OllamaOptions::default(),
            context_length: std::sync::Mutex::new(None),
            show_lock: tokio::sync::Mutex::new(()),
        }
    }

    #[test]
    fn requests_carry_num_ctx_without_io() {
        let request = ChatRequest::new(vec![Message::user("q")]);
        let wire = adapter()
            .chat_request(&request, &8192, StructuredLevel::Schema, true)
            .unwrap();
        assert_eq!(wire.url, "http://127.0.0.1:11434/api/chat");
        let body = wire.json_body().unwrap();
        assert_eq!(body["options"]["num_ctx"], 8192);
        assert_eq!(body["stream"], true);
    }

    #[test]
    fn lines_build_the_answer_and_errors_stop_it() {
        let adapter = adapter();
        let mut answer = ChatResponse::new("", Default::default(), "llama3.2");
        let text = adapter
            .parse_frame(
                Frame::Line(json!({"message": {"content": "hi"}, "done": false})),
                &mut answer,
            )
            .unwrap();
        assert_eq!(text, FrameUpdate::text("hi"));
        let done = adapter
            .parse_frame(
                Frame::Line(json!({"message": {"content": ""}, "done": true, "done_reason": "stop", "prompt_eval_count": 5, "eval_count": 2})),
                &mut answer,
            )
            .unwrap();
        assert!(done.done);
        assert_eq!(answer.usage.prompt_tokens, 5);
        let error = adapter
            .parse_frame(Frame::Line(json!({"error": "out of memory"})), &mut answer)
            .unwrap_err();
        assert!(error.to_string().contains("out of memory"));
        let pull = adapter.classify_error(Error::invalid_request(PROVIDER, "x"));
        assert!(!pull.to_string().contains("ollama pull"));
    }
}
