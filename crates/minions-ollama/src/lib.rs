//! Ollama's native API for minions-rs.
//!
//! Why native rather than Ollama's OpenAI-compatible endpoint: `num_ctx`.
//! Ollama silently truncates prompts longer than its context setting, whose
//! default is small. This client sizes `num_ctx` from each prompt (estimated
//! tokens, plus the answer's `max_tokens`, plus a margin, rounded up),
//! checks it against the model's own context length from `/api/show`, and
//! fails with both numbers when the prompt cannot fit, instead of letting
//! the model read half a document.
//!
//! ```no_run
//! use minions_core::{ChatModel, ChatRequest, Message};
//! use minions_ollama::OllamaBuilder;
//!
//! # async fn demo() -> minions_core::Result<()> {
//! let model = OllamaBuilder::new("llama3.2").with_env().build()?; // OLLAMA_HOST or 127.0.0.1:11434
//! let answer = model.chat(&ChatRequest::new(vec![Message::user("Say hi")])).await?;
//! println!("{}", answer.content);
//! # Ok(())
//! # }
//! ```

mod adapter;
mod client;
mod provider;
mod wire;

pub use adapter::OllamaAdapter;
pub use client::{DEFAULT_BASE_URL, OllamaApi, OllamaBuilder, OllamaClient};
/// The connection setters (`base_url`, `api_key`, `http_config`, `retry`) of the builder.
pub use minions_http::ConnectionSettings;
pub use provider::{DESCRIPTOR, HOST_VAR};
pub use wire::OllamaOptions;
