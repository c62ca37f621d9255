//! Anthropic's Messages API for minions-rs.
//!
//! System prompts go in the separate `system` field, keys in `x-api-key`, and
//! every request carries `anthropic-version`. Answers come as JSON or as the
//! SSE event sequence; usage counts cache reads and writes as prompt tokens
//! and reports reads as cached. A 529 ("overloaded") is retried like a 503.
//! Structured output uses a forced tool call whose input schema is the
//! requested schema, falling back to asking for JSON in the system prompt if
//! the API rejects the tool.
//!
//! ```no_run
//! use minions_anthropic::AnthropicBuilder;
//! use minions_core::{ChatModel, ChatRequest, Message};
//!
//! # async fn demo() -> minions_core::Result<()> {
//! let model = AnthropicBuilder::new("claude-sonnet-4-5").with_env().build()?; // reads ANTHROPIC_API_KEY
//! let answer = model.chat(&ChatRequest::new(vec![Message::user("Say hi")])).await?;
//! println!("{}", answer.content);
//! # Ok(())
//! # }
//! ```

mod adapter;
mod client;
mod provider;
mod wire;

pub use adapter::{API_VERSION, AnthropicAdapter};
pub use client::{AnthropicBuilder, AnthropicClient, DEFAULT_BASE_URL, DEFAULT_MAX_TOKENS};
/// The connection setters (`base_url`, `api_key`, `http_config`, `retry`) of the builder.
pub use minions_http::ConnectionSettings;
pub use provider::{API_KEY_VAR, BASE_URL_VAR, DESCRIPTOR};
