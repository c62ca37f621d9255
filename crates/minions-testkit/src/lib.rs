//! Fake provider servers and scripted models for tests and benchmarks.
//!
//! - [`FakeServer`]: one HTTP/1 server on 127.0.0.1 (random port) that speaks
//!   OpenAI Chat Completions and embeddings, Anthropic Messages, and
//!   Ollama's `/api/chat`, `/api/embed`, `/api/show`, `/api/tags`, each in its
//!   real wire format, streamed (SSE / NDJSON) or not. It is scripted with a
//!   queue of [`Reply`]s or a responder closure, records every request, and
//!   injects faults: error statuses with headers, delays, connections dropped
//!   before the answer or mid-body, malformed or truncated JSON, streams
//!   without their end marker, in-band stream errors, `finish_reason:
//!   length`, and llama.cpp's rejection of `json_schema`.
//! - [`ScriptedModel`]: an in-process [`minions_core::ChatModel`] for tests
//!   that need no HTTP.
//!
//! Nothing here ever talks to anything but loopback.

pub mod adversary;
pub mod conformance;
mod proxy;
pub mod real_models;
mod recorded;
mod reply;
mod scripted;
mod server;
mod wire;

pub use proxy::{Exchange, RecordingProxy};
pub use recorded::RecordedRequest;
pub use reply::{ChatReply, Reply};
pub use scripted::{ScriptedModel, text_response};
pub use server::{FakeServer, FakeServerBuilder, Responder, unused_local_url};
