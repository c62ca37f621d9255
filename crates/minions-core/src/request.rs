//! What a caller asks of a chat model.

use serde::{Deserialize, Serialize};

use crate::Message;

/// How the model should shape its answer.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    /// Free text (the default).
    #[default]
    Text,
    /// Any JSON object ("JSON mode").
    Json,
    /// JSON that follows a schema. Providers that cannot enforce a schema fall
    /// back to JSON mode, then to asking for JSON in the prompt.
    JsonSchema {
        /// A short identifier for the schema (OpenAI requires one).
        name: String,
        /// The JSON Schema itself.
        schema: serde_json::Value,
    },
}

impl ResponseFormat {
    /// A schema-constrained format.
    pub fn json_schema(name: impl Into<String>, schema: serde_json::Value) -> Self {
        Self::JsonSchema {
            name: name.into(),
            schema,
        }
    }

    /// Whether any kind of JSON was asked for.
    pub fn wants_json(&self) -> bool {
        !matches!(self, ResponseFormat::Text)
    }
}

/// A request to a chat model.
///
/// Optional fields left as `None` are not sent, so the provider's defaults
/// apply.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation so far, oldest first.
    pub messages: Vec<Message>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// Upper bound on generated tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// A sampling seed, where the provider takes one (OpenAI-compatible
    /// servers, llama.cpp, Ollama; Anthropic has none and it is not sent).
    /// A retry with another seed gets another answer, even from a server
    /// that would otherwise repeat itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Shape of the answer.
    #[serde(default)]
    pub response_format: ResponseFormat,
    /// Sequences that end generation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Provider-specific fields merged into the request body as they are
    /// (for example `{"top_p": 0.9}` or Ollama's `{"options": {"seed": 1}}`).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl ChatRequest {
    /// A request with these messages and provider defaults for everything else.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }

    /// Sets the temperature.
    pub fn with_temperature(mut self, temperature: f32) -> Self {
        self.temperature = Some(temperature);
        self
    }

    /// Sets the maximum number of generated tokens.
    pub fn with_max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }

    /// Sets the sampling seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets the response format.
    pub fn with_response_format(mut self, format: ResponseFormat) -> Self {
        self.response_format = format;
        self
    }

    /// Total characters over all messages; a cheap size measure for logs and
    /// token estimates.
    pub fn content_chars(&self) -> usize {
        self.messages
            .iter()
            .map(|m| m.content.chars().count())
            .sum()
    }
}
