//! What a chat model answers.

use std::iter::Sum;
use std::ops::{Add, AddAssign};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why the model stopped generating.
///
/// Decoding is lenient: every provider spells these differently, and an
/// unknown value becomes [`FinishReason::Other`] instead of failing the whole
/// response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The token limit was reached; the answer is probably cut short.
    Length,
    /// The provider's content filter stopped the answer.
    ContentFilter,
    /// The model called a tool.
    ToolCalls,
    /// Anything else, kept as the provider spelled it.
    Other(String),
}

impl FinishReason {
    /// Maps a provider's spelling onto the enum. Knows OpenAI (`stop`,
    /// `length`, `content_filter`, `tool_calls`), Anthropic (`end_turn`,
    /// `stop_sequence`, `max_tokens`, `tool_use`, `refusal`) and Ollama
    /// (`stop`, `length`, `load`) names.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "stop" | "end_turn" | "stop_sequence" | "eos" => FinishReason::Stop,
            "length" | "max_tokens" | "model_length" => FinishReason::Length,
            "content_filter" | "refusal" | "safety" => FinishReason::ContentFilter,
            "tool_calls" | "tool_use" | "function_call" => FinishReason::ToolCalls,
            other => FinishReason::Other(other.to_string()),
        }
    }

    /// The canonical (OpenAI) spelling.
    pub fn as_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::Other(other) => other,
        }
    }

    /// Whether the answer was cut off by the token limit.
    pub fn is_truncated(&self) -> bool {
        matches!(self, FinishReason::Length)
    }
}

impl std::fmt::Display for FinishReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FinishReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for FinishReason {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Ok(FinishReason::parse(&raw))
    }
}

/// Tokens spent by one or more calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens read, including cached ones.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens generated.
    #[serde(default)]
    pub completion_tokens: u64,
    /// The part of `prompt_tokens` served from the provider's prompt cache
    /// (billed at a discount by most providers).
    #[serde(default)]
    pub cached_prompt_tokens: u64,
}

impl Usage {
    /// Usage with the given prompt and completion tokens and no cache hits.
    pub fn new(prompt_tokens: u64, completion_tokens: u64) -> Self {
        Self {
            prompt_tokens,
            completion_tokens,
            cached_prompt_tokens: 0,
        }
    }

    /// Prompt plus completion tokens.
    pub fn total_tokens(&self) -> u64 {
        self.prompt_tokens.saturating_add(self.completion_tokens)
    }

    /// Whether no tokens were counted at all.
    pub fn is_zero(&self) -> bool {
        *self == Usage::default()
    }
}

impl Add for Usage {
    type Output = Usage;

    fn add(self, rhs: Usage) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens.saturating_add(rhs.prompt_tokens),
            completion_tokens: self.completion_tokens.saturating_add(rhs.completion_tokens),
            cached_prompt_tokens: self
                .cached_prompt_tokens
                .saturating_add(rhs.cached_prompt_tokens),
        }
    }
}

impl AddAssign for Usage {
    fn add_assign(&mut self, rhs: Usage) {
        *self = *self + rhs;
    }
}

impl Sum for Usage {
    fn sum<I: Iterator<Item = Usage>>(iter: I) -> Usage {
        iter.fold(Usage::default(), Add::add)
    }
}

impl<'a> Sum<&'a Usage> for Usage {
    fn sum<I: Iterator<Item = &'a Usage>>(iter: I) -> Usage {
        iter.copied().sum()
    }
}

/// A model's answer to one [`ChatRequest`](crate::ChatRequest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The generated text (for structured output: the JSON text).
    pub content: String,
    /// Why generation stopped, when the provider said.
    pub finish_reason: Option<FinishReason>,
    /// Tokens spent.
    pub usage: Usage,
    /// The model that answered, as the provider named it.
    pub model: String,
}

impl ChatResponse {
    /// A response that stopped normally.
    pub fn new(content: impl Into<String>, usage: Usage, model: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            finish_reason: Some(FinishReason::Stop),
            usage,
            model: model.into(),
        }
    }

    /// Whether the answer was cut off by the token limit.
    pub fn is_truncated(&self) -> bool {
        self.finish_reason
            .as_ref()
            .is_some_and(FinishReason::is_truncated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finish_reason_is_lenient() {
        let parsed: Vec<FinishReason> = serde_json::from_str(
            r#"["stop","end_turn","max_tokens","length","tool_use","weird_new_reason"]"#,
        )
        .unwrap();
        assert_eq!(
            parsed,
            vec![
                FinishReason::Stop,
                FinishReason::Stop,
                FinishReason::Length,
                FinishReason::Length,
                FinishReason::ToolCalls,
                FinishReason::Other("weird_new_reason".into()),
            ]
        );
        assert_eq!(
            serde_json::to_string(&FinishReason::Length).unwrap(),
            r#""length""#
        );
    }

    #[test]
    fn usage_adds_and_sums() {
        let a = Usage {
            prompt_tokens: 10,
            completion_tokens: 2,
            cached_prompt_tokens: 4,
        };
        let b = Usage::new(5, 1);
        assert_eq!((a + b).total_tokens(), 18);
        let mut c = a;
        c += b;
        assert_eq!(c, a + b);
        let total: Usage = [a, b, b].into_iter().sum();
        assert_eq!(total.prompt_tokens, 20);
        assert_eq!(total.cached_prompt_tokens, 4);
        let by_ref: Usage = [a, b].iter().sum();
        assert_eq!(by_ref, a + b);
        assert!(Usage::default().is_zero());
    }

    #[test]
    fn usage_saturates_instead_of_overflowing() {
        let big = Usage::new(u64::MAX, u64::MAX);
        assert_eq!((big + big).prompt_tokens, u64::MAX);
    }
}
