//! Types and traits shared by every minions-rs crate.
//!
//! This crate has no HTTP code. It defines what a chat model is
//! ([`ChatModel`]), what goes in and out of one ([`ChatRequest`],
//! [`ChatResponse`], [`Usage`]), how models are named ([`ModelSpec`]), what
//! they cost ([`Pricing`]), how to count tokens ([`tokens`]), how to pull JSON
//! out of free-form model text ([`json`]), and the error type every provider
//! returns ([`Error`]).
//!
//! ```
//! use minions_core::json::extract_as;
//! use minions_core::{ModelSpec, Pricing, Usage};
//!
//! // Models are named as users name them in MINIONS_REMOTE.
//! let remote: ModelSpec = "openai/gpt-4o".parse()?;
//! let cost = Pricing::builtin().cost(&remote, &Usage::new(1_000_000, 0));
//! assert_eq!(cost.total_usd(), 2.5);
//!
//! // JSON comes back from models wrapped in prose and fences; we find it.
//! #[derive(serde::Deserialize)]
//! struct Decision { decision: String }
//! let said = "Sure!\n```json\n{\"decision\": \"final\"}\n```";
//! assert_eq!(extract_as::<Decision>(said)?.decision, "final");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod env;
mod error;
pub mod json;
mod message;
mod model;
pub mod presets;
pub mod pricing;
mod request;
mod response;
mod secret;
mod spec;
pub mod structured;
pub mod tokens;

pub use error::{Error, ErrorKind, HttpError, Result, TimeoutPhase, excerpt};
pub use message::{Message, Role};
pub use model::{
    Capabilities, ChatModel, ChatStream, Embedder, Embeddings, ModelId, Probe, StreamEvent,
};
pub use pricing::{Cost, Price, Pricing};
pub use request::{ChatRequest, ResponseFormat};
pub use response::{ChatResponse, FinishReason, Usage};
pub use secret::ApiKey;
pub use spec::{ModelSpec, ModelSpecError};
