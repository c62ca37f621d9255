//! Server-sent events, as OpenAI and Anthropic stream them.

use eventsource_stream::{EventStreamError, Eventsource};
use futures::{Stream, StreamExt};
use minions_core::Error;

use crate::error_capture::root_cause;

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field; `"message"` when the server sent none.
    pub event: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The `id:` field, empty when absent.
    pub id: String,
}

/// Decodes a byte stream into server-sent events.
///
/// Chunks may split lines and UTF-8 characters anywhere; the decoder buffers
/// as needed. A transport error (the connection dropped) becomes an
/// [`Error::Stream`]. The decoder does not know which event ends a provider's
/// stream (`[DONE]`, `message_stop`): the provider checks that it saw it, so
/// that a stream closed early is reported instead of returning half an answer.
pub fn sse_events<S, B, E>(
    provider: &str,
    bytes: S,
) -> impl Stream<Item = Result<SseEvent, Error>> + Send + use<S, B, E>
where
    S: Stream<Item = Result<B, E>> + Send,
    B: AsRef<[u8]> + Send,
    E: std::error::Error + Send + 'static,
{
    let provider = provider.to_string();
    bytes.eventsource().map(move |item| match item {
        Ok(event) => Ok(SseEvent {
            event: if event.event.is_empty() {
                "message".to_string()
            } else {
                event.event
            },
            data: event.data,
            id: event.id,
        }),
        Err(EventStreamError::Transport(error)) => Err(Error::stream(
            &provider,
            format!(
                "the connection dropped in the middle of the stream ({})",
                root_cause(&error)
            ),
        )),
        Err(EventStreamError::Utf8(error)) => Err(Error::decode(
            &provider,
            format!("the event stream is not valid UTF-8 ({error})"),
            "",
        )),
        Err(EventStreamError::Parser(error)) => Err(Error::decode(
            &provider,
            format!("malformed event stream ({error})"),
            "",
        )),
    })
}
