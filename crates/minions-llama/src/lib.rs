//! An on-device model for minions-rs: a GGUF model run in this process by
//! llama.cpp (through `llama-cpp-2`), so no local server is needed.
//!
//! - [`EmbeddedModel`] implements `ChatModel` like every provider: the
//!   model's own chat template; JSON answers constrained by a grammar made
//!   from the request's schema (so a job's reply always parses), with the
//!   schema in the prompt where no grammar can express it; concurrent
//!   requests decoded together in one batch, up to
//!   [`LlamaSettings::sequences`] at a time; each sequence's window
//!   enforced (a prompt that cannot fit is refused with both numbers);
//!   usage from the real token counts; a request whose caller stops
//!   waiting is dropped from the batch.
//! - [`hub`]: models by Hugging Face reference (`hf.co/OWNER/REPO:QUANT`),
//!   downloaded once into the user's cache, resumed, checksum-verified.
//! - [`LlamaSettings`]: threads, context per sequence, sequences, batch
//!   size and GPU layers, from `MINIONS_LLAMA_*` variables.
//!
//! Building llama.cpp needs cmake, a C++ compiler and libclang, so the
//! engine comes with this crate's `native` feature only (turned on by the
//! `llama` feature of the `minions` crate and `embedded` of the CLI);
//! without it the crate holds just the settings. GPU backends pass through
//! as features (`cuda`, `metal`, `vulkan`).

#[cfg(feature = "native")]
mod backend;
#[cfg(feature = "native")]
mod engine;
pub mod hub;
#[cfg(feature = "native")]
mod model;
#[cfg(feature = "native")]
mod provider;
mod settings;

#[cfg(feature = "native")]
pub use model::{EmbeddedModel, check_gguf};
#[cfg(feature = "native")]
pub use provider::DESCRIPTOR;
pub use settings::LlamaSettings;

/// The provider name: `gguf/PATH`.
pub const PROVIDER: &str = "gguf";
