//! The HTTP layer shared by every provider crate.
//!
//! - [`HttpClient`]: one pooled reqwest client (rustls, no native TLS) with a
//!   connect timeout and an idle read timeout but no total timeout, so a slow
//!   local model's long answer is never cut off.
//! - [`RetryPolicy`]: the only place in minions-rs that retries. It retries
//!   408, 429 (not `insufficient_quota`), 500, 502, 503, 504, 529 and
//!   failures to connect, with exponential backoff and jitter, honouring
//!   `Retry-After` (seconds or an HTTP date) and `retry-after-ms`.
//! - [`sse_events`] and [`ndjson_lines`]: streaming decoders that never split
//!   a UTF-8 character and turn a dropped connection into an error.
//! - [`ProviderAdapter`] and [`ProviderClient`]: a provider is a sans-IO
//!   adapter (write the request, read the answer, read one stream frame,
//!   explain an error); one generic client sends for all of them.
//! - Error capture: HTTP errors keep the status, the provider's message and
//!   code, a body excerpt, the request id and `Retry-After`.

pub mod access;
mod adapter;
mod body;
mod client;
mod error_capture;
mod model;
mod ndjson;
mod provider;
mod provider_client;
mod retry;
mod settings;
mod sse;
mod tls;

pub use adapter::{Frame, FrameUpdate, Framing, ProviderAdapter, WireRequest};
pub use body::{ExtraFields, WireMessage, wire_messages};
pub use client::{HttpClient, HttpClientBuilder, HttpConfig};
pub use error_capture::{parse_retry_after, redact_url};
pub use model::{EmbeddingHooks, ModelHooks, ProviderModel};
pub use ndjson::{NdjsonDecoder, ndjson_lines};
pub use provider::{
    ChatConstructor, ConnectionOverrides, EmbedderConstructor, EmbeddingSupport, ProviderDescriptor,
};
pub use provider_client::ProviderClient;
pub use retry::RetryPolicy;
pub use settings::{Connection, ConnectionSettings, checked_base_url, require_key};
pub use sse::{SseEvent, sse_events};
pub use tls::install_crypto_provider;

mod secret_header;
pub use secret_header::secret_header;

/// Re-exported so provider crates build requests against the same reqwest.
pub use reqwest;
