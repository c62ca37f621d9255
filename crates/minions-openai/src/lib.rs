//! OpenAI Chat Completions and embeddings, and every OpenAI-compatible
//! provider as a [`Preset`]: OpenAI, Azure, Together, OpenRouter, Perplexity,
//! Groq, DeepSeek, Mistral, xAI, Gemini, Fireworks, Cerebras, SambaNova, and
//! the local servers tokasaurus, vLLM, SGLang, llama.cpp, LM Studio,
//! Lemonade, Docker Model Runner and mlx_lm.server.
//!
//! ```no_run
//! use minions_core::{ChatModel, ChatRequest, Message};
//! use minions_openai::OpenAiBuilder;
//!
//! # async fn demo() -> minions_core::Result<()> {
//! // Reads OPENAI_API_KEY and OPENAI_BASE_URL, as the OpenAI SDKs do.
//! let model = OpenAiBuilder::new("openai", "gpt-4o")?.with_env().build()?;
//! let answer = model.chat(&ChatRequest::new(vec![Message::user("Say hi")])).await?;
//! println!("{}", answer.content);
//! # Ok(())
//! # }
//! ```
//!
//! Structured output uses `response_format: json_schema` where the preset
//! supports it; a server that rejects it gets `json_object` plus the schema in
//! the prompt, then the prompt alone, and the client remembers the step down.

mod adapter;
mod client;
/// The presets live in the core (one entry each); re-exported here.
mod preset {
    pub use minions_core::presets::*;
}
mod probe;
mod wire;

pub use adapter::OpenAiAdapter;
pub use client::{AZURE_DEFAULT_API_VERSION, OpenAiBuilder, OpenAiClient};
/// The connection setters (`base_url`, `api_key`, `http_config`, `retry`) of the builder.
pub use minions_http::ConnectionSettings;
pub use preset::{AuthStyle, PRESETS, Preset, preset};
