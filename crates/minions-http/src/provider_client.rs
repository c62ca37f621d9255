//! The one client every provider sends through: it turns an adapter's
//! [`WireRequest`]s into HTTP, retries, steps down the structured-output
//! level when a server rejects it, and drives streams frame by frame.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use minions_core::structured::{DowngradeMemory, StructuredLevel, send_with_downgrades};
use minions_core::{
    Capabilities, ChatRequest, ChatResponse, ChatStream, Error, ErrorKind, Result, StreamEvent,
};
use reqwest::{Request, Response};
use serde::de::DeserializeOwned;

use crate::adapter::{Frame, Framing, ProviderAdapter, WireRequest};
use crate::{HttpClient, ndjson_lines, sse_events};

/// A provider's adapter bound to the shared transport.
pub struct ProviderClient<A> {
    adapter: Arc<A>,
    http: HttpClient,
    structured: DowngradeMemory,
}

impl<A> std::fmt::Debug for ProviderClient<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderClient")
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl<A: ProviderAdapter> ProviderClient<A> {
    /// A client that sends `adapter`'s requests with `http`, starting at the
    /// structured-output level `capabilities` allow.
    pub fn new(adapter: A, http: HttpClient, capabilities: &Capabilities) -> Self {
        Self {
            adapter: Arc::new(adapter),
            http,
            structured: DowngradeMemory::for_capabilities(capabilities),
        }
    }

    /// The adapter.
    pub fn adapter(&self) -> &A {
        &self.adapter
    }

    /// The transport.
    pub fn http(&self) -> &HttpClient {
        &self.http
    }

    /// The structured-output level in use now (it drops when a server
    /// rejects a level, and stays dropped).
    pub fn structured_level(&self) -> StructuredLevel {
        self.structured.current()
    }

    /// The HTTP request for `request`, with the provider's authentication.
    fn build(&self, request: WireRequest) -> Result<Request> {
        let request = self.adapter.authorize(request)?;
        let mut builder = self
            .http
            .reqwest()
            .request(request.method, &request.url)
            .headers(request.headers);
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        builder.build().map_err(|e| {
            Error::config(format!(
                "cannot build a request to {}: {e}",
                self.adapter.provider()
            ))
        })
    }

    /// Sends a request with the provider's authentication, retrying what is
    /// retryable; returns once a success status arrived.
    pub async fn send(&self, request: WireRequest) -> Result<Response> {
        self.http
            .send(self.build(request)?)
            .await
            .map_err(|e| self.adapter.classify_error(e))
    }

    /// Sends a request and reads the whole body.
    pub async fn send_for_body(&self, request: WireRequest) -> Result<Bytes> {
        let response = self.send(request).await?;
        self.http.read_body(response).await
    }

    /// Sends a request and decodes its JSON answer.
    pub async fn send_json<T: DeserializeOwned>(&self, request: WireRequest) -> Result<T> {
        self.http
            .send_json(self.build(request)?)
            .await
            .map_err(|e| self.adapter.classify_error(e))
    }

    async fn send_chat(
        &self,
        request: &ChatRequest,
        context: &A::Context,
        stream: bool,
    ) -> Result<Response> {
        send_with_downgrades(
            &self.structured,
            &request.response_format,
            self.adapter.provider(),
            |level| async move {
                let wire = self.adapter.chat_request(request, context, level, stream)?;
                self.send(wire).await
            },
        )
        .await
    }

    /// One chat answer, read whole. An answer whose connection drops while
    /// it is being read is asked for again, with the same backoff and bounds
    /// as a 503: nothing of it reached the caller, so nothing is duplicated
    /// (the official OpenAI and Anthropic SDKs retry such errors too). A
    /// streamed answer is never re-sent: its caller has seen part of it.
    pub async fn chat(&self, request: &ChatRequest, context: &A::Context) -> Result<ChatResponse> {
        let started = std::time::Instant::now();
        let mut attempt = 1;
        loop {
            let response = self.send_chat(request, context, false).await?;
            let error = match self.http.read_body(response).await {
                Ok(body) => return self.adapter.parse_chat(&body),
                Err(error) if error.kind() == ErrorKind::Stream => error,
                Err(error) => return Err(error),
            };
            self.http
                .wait_to_retry(attempt, started, error)
                .await
                .map_err(|e| self.adapter.classify_error(e))?;
            attempt += 1;
        }
    }

    /// One chat answer, streamed: deltas, then `Done` with the whole answer.
    /// A stream that ends before the provider's end marker is an error,
    /// never a short answer.
    pub async fn chat_stream(
        &self,
        request: &ChatRequest,
        context: &A::Context,
        model: &str,
    ) -> Result<ChatStream> {
        let response = self.send_chat(request, context, true).await?;
        let provider = self.adapter.provider();
        let bytes = response.bytes_stream();
        let frames: FrameStream = match self.adapter.framing() {
            Framing::Sse => Box::pin(sse_events(provider, bytes).map(|e| e.map(Frame::Event))),
            Framing::Ndjson => Box::pin(
                ndjson_lines::<serde_json::Value, _, _, _>(provider, bytes)
                    .map(|l| l.map(Frame::Line)),
            ),
        };
        Ok(Box::pin(drive(
            Arc::clone(&self.adapter),
            frames,
            model.to_string(),
        )))
    }
}

type FrameStream = std::pin::Pin<Box<dyn Stream<Item = Result<Frame>> + Send>>;

/// Feeds frames to the adapter until it says the answer is done.
fn drive<A: ProviderAdapter>(
    adapter: Arc<A>,
    frames: FrameStream,
    model: String,
) -> impl Stream<Item = Result<StreamEvent>> + Send {
    struct State<A> {
        adapter: Arc<A>,
        frames: FrameStream,
        answer: ChatResponse,
        finished: bool,
    }
    let state = State {
        adapter,
        frames,
        answer: ChatResponse {
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
            let frame = match state.frames.next().await {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => {
                    state.finished = true;
                    return Some((Err(error), state));
                }
                None => {
                    state.finished = true;
                    let error = Error::stream(
                        state.adapter.provider(),
                        format!(
                            "the stream ended before its last chunk ({})",
                            state.adapter.end_marker()
                        ),
                    );
                    return Some((Err(error), state));
                }
            };
            let update = match state.adapter.parse_frame(frame, &mut state.answer) {
                Ok(update) => update,
                Err(error) => {
                    state.finished = true;
                    return Some((Err(error), state));
                }
            };
            state.answer.content.push_str(&update.text);
            if update.done {
                // Text on the last frame is already part of the answer.
                state.finished = true;
                let done = std::mem::replace(
                    &mut state.answer,
                    ChatResponse::new("", Default::default(), ""),
                );
                return Some((Ok(StreamEvent::Done(done)), state));
            }
            if !update.text.is_empty() {
                return Some((Ok(StreamEvent::Delta(update.text)), state));
            }
        }
    })
}
