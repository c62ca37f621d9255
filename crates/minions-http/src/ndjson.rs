//! Newline-delimited JSON, as Ollama streams it.

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use minions_core::Error;
use serde::de::DeserializeOwned;

use crate::error_capture::root_cause;

/// Splits a byte stream into lines.
///
/// Splitting happens on bytes (`\n`), before any UTF-8 decoding, so a chunk
/// boundary inside a multi-byte character can never corrupt it. `\r\n` and
/// blank lines are tolerated.
#[derive(Debug, Default)]
pub struct NdjsonDecoder {
    buffer: BytesMut,
    /// How far `buffer` is known to hold no newline, so each byte is
    /// scanned once however the chunks fall.
    scanned: usize,
}

impl NdjsonDecoder {
    /// An empty decoder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next complete, non-blank line, without its line ending.
    pub fn next_line(&mut self) -> Option<Bytes> {
        loop {
            let newline = self.buffer[self.scanned..].iter().position(|&b| b == b'\n');
            let Some(offset) = newline else {
                self.scanned = self.buffer.len();
                return None;
            };
            let mut line = self.buffer.split_to(self.scanned + offset + 1);
            self.scanned = 0;
            line.truncate(line.len() - 1);
            if line.last() == Some(&b'\r') {
                line.truncate(line.len() - 1);
            }
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some(line.freeze());
            }
        }
    }

    /// What is left after the stream ended: a last line without a newline,
    /// or `None` when only whitespace remains.
    pub fn finish(&mut self) -> Option<Bytes> {
        self.scanned = 0;
        let rest = self.buffer.split().freeze();
        (!rest.iter().all(u8::is_ascii_whitespace)).then_some(rest)
    }
}

/// Decodes a byte stream of newline-delimited JSON into values of `T`.
///
/// A line that is not valid JSON (or not a `T`) is an [`Error::Decode`]
/// naming the line; a connection that drops, or a stream that ends in the
/// middle of a line, is an [`Error::Stream`].
pub fn ndjson_lines<T, S, B, E>(
    provider: &str,
    bytes: S,
) -> impl Stream<Item = Result<T, Error>> + Send + use<T, S, B, E>
where
    T: DeserializeOwned + Send,
    S: Stream<Item = Result<B, E>> + Send + Unpin,
    B: AsRef<[u8]> + Send,
    E: std::error::Error + Send + 'static,
{
    struct State<S> {
        bytes: S,
        decoder: NdjsonDecoder,
        provider: String,
        done: bool,
    }
    let state = State {
        bytes,
        decoder: NdjsonDecoder::new(),
        provider: provider.to_string(),
        done: false,
    };
    futures::stream::unfold(state, |mut state| async move {
        loop {
            if state.done {
                return None;
            }
            if let Some(line) = state.decoder.next_line() {
                let item = parse_line(&state.provider, &line, false);
                return Some((item, state));
            }
            match state.bytes.next().await {
                Some(Ok(chunk)) => state.decoder.push(chunk.as_ref()),
                Some(Err(error)) => {
                    state.done = true;
                    let error = Error::stream(
                        &state.provider,
                        format!(
                            "the connection dropped in the middle of the stream ({})",
                            root_cause(&error)
                        ),
                    );
                    return Some((Err(error), state));
                }
                None => {
                    state.done = true;
                    let rest = state.decoder.finish()?;
                    let item = parse_line(&state.provider, &rest, true);
                    return Some((item, state));
                }
            }
        }
    })
}

fn parse_line<T: DeserializeOwned>(provider: &str, line: &[u8], last: bool) -> Result<T, Error> {
    serde_json::from_slice(line).map_err(|e| {
        let text = String::from_utf8_lossy(line);
        if last && e.is_eof() {
            Error::stream(provider, "the stream ended in the middle of a line")
        } else {
            Error::decode(
                provider,
                format!("invalid JSON line in the stream ({e})"),
                text,
            )
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_lines_and_skips_blank_ones() {
        let mut decoder = NdjsonDecoder::new();
        decoder.push(b"{\"a\":1}\r\n\n  \n{\"b\"");
        assert_eq!(decoder.next_line().as_deref(), Some(&b"{\"a\":1}"[..]));
        assert_eq!(decoder.next_line(), None);
        decoder.push(b":2}\n{\"c\":3}");
        assert_eq!(decoder.next_line().as_deref(), Some(&b"{\"b\":2}"[..]));
        assert_eq!(decoder.next_line(), None);
        assert_eq!(decoder.finish().as_deref(), Some(&b"{\"c\":3}"[..]));
        assert_eq!(decoder.finish(), None);
    }
}
