//! Rendering replies in each provider's wire format.

pub(crate) mod anthropic;
pub(crate) mod ollama;
pub(crate) mod openai;

use std::time::Duration;

use bytes::Bytes;
use minions_core::Usage;
use serde_json::Value;

use crate::RecordedRequest;
use crate::reply::ChatReply;

/// One step of a response body.
#[derive(Debug, Clone)]
pub(crate) enum Piece {
    /// Bytes to send.
    Data(Bytes),
    /// A pause.
    Sleep(Duration),
    /// Abort the connection here.
    Fail,
}

/// A pause before a dropped connection. While the body is pending, hyper
/// flushes what it buffered, so the client really receives the headers and
/// the first bytes before the connection drops, as in a real mid-body failure.
const FLUSH_PAUSE: Piece = Piece::Sleep(Duration::from_millis(5));

/// A response ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub pieces: Vec<Piece>,
}

impl Rendered {
    /// A complete JSON body.
    pub(crate) fn json(status: u16, body: &Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            pieces: vec![Piece::Data(Bytes::from(body.to_string()))],
        }
    }

    /// A JSON body that stops halfway and drops the connection.
    pub(crate) fn json_dropped_halfway(body: &Value) -> Self {
        let text = body.to_string();
        let half = text.len() / 2;
        Self {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            pieces: vec![
                Piece::Data(Bytes::from(text[..half].to_string())),
                FLUSH_PAUSE,
                Piece::Fail,
            ],
        }
    }

    /// A streamed body.
    pub(crate) fn stream(content_type: &str, pieces: Vec<Piece>) -> Self {
        Self {
            status: 200,
            headers: vec![
                ("content-type".into(), content_type.into()),
                ("cache-control".into(), "no-cache".into()),
            ],
            pieces,
        }
    }
}

/// Builds a streamed body from events, applying the reply's delay and faults.
pub(crate) struct StreamPlan<'a> {
    reply: &'a ChatReply,
    pieces: Vec<Piece>,
}

/// What the plan says to do after a content chunk.
pub(crate) enum Next {
    Continue,
    /// Send the provider's in-band error with this message, then end.
    InBandError(String),
    /// The connection was dropped; stop.
    Dropped,
}

impl<'a> StreamPlan<'a> {
    pub(crate) fn new(reply: &'a ChatReply) -> Self {
        Self {
            reply,
            pieces: Vec::new(),
        }
    }

    /// Sends an event that is not a content chunk (start, stop markers).
    pub(crate) fn send(&mut self, bytes: impl Into<Bytes>) {
        self.pieces.push(Piece::Data(bytes.into()));
    }

    /// Sends content chunk number `index` (0-based) of `total`, and says what
    /// the faults want next.
    pub(crate) fn send_chunk(
        &mut self,
        index: usize,
        total: usize,
        bytes: impl Into<Bytes>,
    ) -> Next {
        if let Some(delay) = self.reply.chunk_delay {
            self.pieces.push(Piece::Sleep(delay));
        }
        self.pieces.push(Piece::Data(bytes.into()));
        let sent = index + 1;
        if self.reply.drop_after_chunks.is_some_and(|n| sent >= n) {
            self.pieces.push(FLUSH_PAUSE);
            self.pieces.push(Piece::Fail);
            return Next::Dropped;
        }
        if let Some(message) = &self.reply.mid_stream_error
            && sent >= total.div_ceil(2)
        {
            return Next::InBandError(message.clone());
        }
        Next::Continue
    }

    pub(crate) fn finish(self) -> Vec<Piece> {
        self.pieces
    }
}

/// Token counts for a reply: the scripted ones, or an estimate of four
/// characters a token.
pub(crate) fn usage_for(reply: &ChatReply, request: &RecordedRequest) -> Usage {
    reply.usage.unwrap_or_else(|| {
        let prompt = request.prompt_text().chars().count().div_ceil(4) as u64;
        let completion = reply.content.chars().count().div_ceil(4) as u64;
        Usage::new(prompt.max(1), completion.max(1))
    })
}

/// The model to report: the scripted one, or the one asked for.
pub(crate) fn model_for(reply: &ChatReply, request: &RecordedRequest) -> String {
    reply
        .model
        .clone()
        .or_else(|| request.model())
        .unwrap_or_else(|| "testkit-model".into())
}

/// Deterministic unit vectors for texts: words hashed into 16 buckets. Equal
/// texts get equal vectors; texts sharing words get similar ones.
pub(crate) fn hash_embedding(text: &str) -> Vec<f32> {
    const DIM: usize = 16;
    let mut vector = vec![0.0f32; DIM];
    for word in text.split_whitespace() {
        let hash = word
            .to_lowercase()
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        vector[(hash % DIM as u64) as usize] += 1.0;
    }
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    } else {
        vector[0] = 1.0;
    }
    vector
}

/// The inputs of an embeddings request (`input` as a string or an array).
pub(crate) fn embedding_inputs(body: &Value) -> Vec<String> {
    match body.get("input") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| item.to_string())
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A fixed timestamp keeps recorded transcripts reproducible.
pub(crate) const CREATED: u64 = 1_750_000_000;
