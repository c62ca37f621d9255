//! What a fake server answers.

use std::time::Duration;

use minions_core::{FinishReason, Usage};

/// A scripted answer to one request.
///
/// [`Reply::Chat`] is protocol-neutral: the server renders it in the wire
/// format of the route that was hit (OpenAI, Anthropic or Ollama), streamed
/// or not as the request asked. The other variants are faults.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Reply {
    /// A normal chat answer.
    Chat(ChatReply),
    /// Embedding vectors, one per input. Without a scripted reply, the
    /// embedding routes answer with deterministic vectors of the inputs.
    Embeddings(Vec<Vec<f32>>),
    /// An error status, with headers (`Retry-After`, ...) and a body. Use
    /// [`Reply::status`] for a body in the provider's error format.
    Status {
        /// HTTP status.
        status: u16,
        /// Extra response headers.
        headers: Vec<(String, String)>,
        /// The body, sent as is.
        body: String,
    },
    /// Any body with any status and content type: malformed or truncated
    /// JSON, an event stream without its end marker, HTML from a proxy.
    Raw {
        /// HTTP status.
        status: u16,
        /// `Content-Type`.
        content_type: String,
        /// The body, sent as is, followed by a clean end of the response.
        body: Vec<u8>,
    },
    /// Wait, then answer.
    Delayed(Duration, Box<Reply>),
    /// Close the connection without sending anything.
    Hangup,
}

impl Reply {
    /// A chat answer with this text.
    pub fn text(content: impl Into<String>) -> Self {
        Reply::Chat(ChatReply::new(content))
    }

    /// A chat answer whose text is this JSON.
    pub fn json(value: &serde_json::Value) -> Self {
        Reply::Chat(ChatReply::new(value.to_string()))
    }

    /// An error status whose body is rendered in the error format of the
    /// route that was hit, with this message.
    pub fn status(status: u16, message: impl Into<String>) -> Self {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: error_marker(&message.into()),
        }
    }

    /// A 429 with `Retry-After: seconds`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Reply::Status {
            status: 429,
            headers: vec![("retry-after".into(), retry_after_secs.to_string())],
            body: error_marker("Rate limit reached, please retry later"),
        }
    }

    /// A 200 JSON body cut off in the middle.
    pub fn truncated_json() -> Self {
        Reply::Raw {
            status: 200,
            content_type: "application/json".into(),
            body: br#"{"id": "cut", "choices": [{"index": 0, "message": {"role": "assistant", "content": "The answ"#.to_vec(),
        }
    }

    /// A 200 body that is not JSON at all.
    pub fn malformed_json() -> Self {
        Reply::Raw {
            status: 200,
            content_type: "application/json".into(),
            body: b"<html><body>502 upstream hiccup</body></html>".to_vec(),
        }
    }

    /// This reply after a delay.
    pub fn after(self, delay: Duration) -> Self {
        Reply::Delayed(delay, Box::new(self))
    }

    /// Adds a response header to a [`Reply::Status`].
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        if let Reply::Status { headers, .. } = &mut self {
            headers.push((name.into(), value.into()));
        }
        self
    }
}

/// Marks a status body as "render me in the route's error format".
const ERROR_MARKER: &str = "\u{0}testkit-error:";

fn error_marker(message: &str) -> String {
    format!("{ERROR_MARKER}{message}")
}

/// The message of a marked status body, if it is one.
pub(crate) fn marked_error(body: &str) -> Option<&str> {
    body.strip_prefix(ERROR_MARKER)
}

impl From<ChatReply> for Reply {
    fn from(reply: ChatReply) -> Self {
        Reply::Chat(reply)
    }
}

/// A chat answer and how to deliver it.
#[derive(Debug, Clone)]
pub struct ChatReply {
    /// The text. For an Anthropic request that forces a tool (how Anthropic
    /// does structured output), JSON text is delivered as the tool's input.
    pub content: String,
    /// Why generation stopped; rendered in each provider's spelling
    /// (`length` is `max_tokens` for Anthropic).
    pub finish_reason: FinishReason,
    /// Token counts to report; estimated from the text when `None`.
    pub usage: Option<Usage>,
    /// The model name to report; the requested one when `None`.
    pub model: Option<String>,
    /// Characters per streamed delta.
    pub chunk_chars: usize,
    /// Pause between streamed chunks.
    pub chunk_delay: Option<Duration>,
    /// Fault: drop the connection after this many content chunks (streamed)
    /// or after half the body (not streamed).
    pub drop_after_chunks: Option<usize>,
    /// Fault: end a stream cleanly but without its end marker (`[DONE]`,
    /// `message_stop`, `"done": true`).
    pub omit_stream_end: bool,
    /// Fault: in the middle of a stream, send the provider's in-band error
    /// event with this message and stop.
    pub mid_stream_error: Option<String>,
}

impl ChatReply {
    /// A normal answer with this text.
    pub fn new(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            finish_reason: FinishReason::Stop,
            usage: None,
            model: None,
            chunk_chars: 8,
            chunk_delay: None,
            drop_after_chunks: None,
            omit_stream_end: false,
            mid_stream_error: None,
        }
    }

    /// Reports `finish_reason: length` (the token limit was hit).
    pub fn truncated_by_length(mut self) -> Self {
        self.finish_reason = FinishReason::Length;
        self
    }

    /// Reports these token counts.
    pub fn with_usage(mut self, usage: Usage) -> Self {
        self.usage = Some(usage);
        self
    }

    /// Reports this model name.
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Streams in chunks of this many characters.
    pub fn chunked(mut self, chars: usize) -> Self {
        self.chunk_chars = chars.max(1);
        self
    }

    /// Pauses between streamed chunks.
    pub fn with_chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = Some(delay);
        self
    }

    /// Drops the connection mid-body.
    pub fn drop_after(mut self, chunks: usize) -> Self {
        self.drop_after_chunks = Some(chunks);
        self
    }

    /// Ends the stream without its end marker.
    pub fn without_stream_end(mut self) -> Self {
        self.omit_stream_end = true;
        self
    }

    /// Sends an in-band error in the middle of the stream.
    pub fn with_mid_stream_error(mut self, message: impl Into<String>) -> Self {
        self.mid_stream_error = Some(message.into());
        self
    }

    /// The text in streaming deltas of `chunk_chars` characters.
    pub(crate) fn chunks(&self) -> Vec<String> {
        let chars: Vec<char> = self.content.chars().collect();
        chars
            .chunks(self.chunk_chars.max(1))
            .map(|c| c.iter().collect())
            .collect()
    }
}
