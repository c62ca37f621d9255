//! minions-rs in one dependency.
//!
//! Re-exports the core types, and turns `provider/model` names into ready
//! models with [`chat_model`] and [`embedder`], configured from the
//! environment variables users already have (`OPENAI_API_KEY`,
//! `OLLAMA_HOST`, ...). One cargo feature per provider crate, all on by
//! default: `openai` (OpenAI and every OpenAI-compatible provider and local
//! server), `anthropic`, `ollama`. A build with
//! `default-features = false, features = ["ollama", "openai"]` does not
//! compile the Anthropic crate at all.
//!
//! ```no_run
//! use minions::{ChatModel, ChatRequest, Message, ModelSpec, chat_model_from_env};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let local = chat_model_from_env(&"ollama/llama3.2".parse::<ModelSpec>()?)?;
//! let answer = local.chat(&ChatRequest::new(vec![Message::user("Say hi")])).await?;
//! println!("{}", answer.content);
//! # Ok(())
//! # }
//! ```

mod engine;
mod pool;
mod registry;
mod unusable;

pub use engine::{Engine, RequestError};
pub use minions_core::*;
/// The shared HTTP layer (client, retries, streaming decoders).
pub use minions_http as http;
pub use minions_http::{
    ConnectionOverrides, ConnectionSettings, EmbeddingSupport, HttpConfig, ProviderDescriptor,
    RetryPolicy,
};
/// The on-device model (`gguf/PATH`, `gguf/hf.co/OWNER/REPO:QUANT`).
#[cfg(feature = "llama")]
pub use minions_llama as llama;
/// The Minion and Minions protocols.
pub use minions_protocol as protocol;
pub use minions_protocol::{
    ContextDocument, ProtocolKind, RunFailure, RunModels, RunOptions, RunResult, RunSpec,
    Transcript, run,
};
/// Exact token counts (shadows `minions_core::tokens`, whose free
/// approximation it re-exports).
pub use minions_tokens as tokens;
pub use pool::LocalPool;
pub use registry::{
    ModelSettings, chat_model, chat_model_from_env, check_provider, embedder, key_var,
    known_providers, native_provider, native_providers, parse_endpoints,
};
pub use unusable::UnusableModel;

/// The Anthropic client crate.
#[cfg(feature = "anthropic")]
pub use minions_anthropic as anthropic;
/// The Ollama client crate.
#[cfg(feature = "ollama")]
pub use minions_ollama as ollama;
/// The OpenAI-compatible client crate.
#[cfg(feature = "openai")]
pub use minions_openai as openai;
