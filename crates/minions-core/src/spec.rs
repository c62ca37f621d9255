//! `provider/model` names, as users write them in `MINIONS_LOCAL` and flags.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A model named as `provider/model`, for example `ollama/llama3.2` or
/// `openrouter/meta-llama/llama-3.3-70b-instruct`.
///
/// The split is at the first `/`, so model names that contain slashes (as on
/// OpenRouter and Together) survive intact. The provider is lowercased; the
/// model is kept as written because some providers are case sensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelSpec {
    /// Provider name, for example `openai` or `ollama`.
    pub provider: String,
    /// Model name as the provider knows it.
    pub model: String,
}

/// Why a `provider/model` string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelSpecError {
    /// Nothing was given.
    #[error("empty model name: write it as `provider/model`, for example `ollama/llama3.2`")]
    Empty,
    /// No `/` in the string.
    #[error(
        "model `{0}` does not name its provider: write it as `provider/model`, for example `openai/{0}` or `ollama/{0}`"
    )]
    MissingProvider(String),
    /// `/model` with nothing before the slash.
    #[error("model `{0}` has an empty provider before the `/`: write it as `provider/model`")]
    EmptyProvider(String),
    /// `provider/` with nothing after the slash.
    #[error("model `{0}` has an empty model name after the `/`: write it as `provider/model`")]
    EmptyModel(String),
}

impl ModelSpec {
    /// A spec from its two parts.
    pub fn new(provider: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            provider: provider.into().to_ascii_lowercase(),
            model: model.into(),
        }
    }

    /// Parses `provider/model`.
    pub fn parse(text: &str) -> Result<Self, ModelSpecError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ModelSpecError::Empty);
        }
        let Some((provider, model)) = text.split_once('/') else {
            return Err(ModelSpecError::MissingProvider(text.to_string()));
        };
        let (provider, model) = (provider.trim(), model.trim());
        if provider.is_empty() {
            return Err(ModelSpecError::EmptyProvider(text.to_string()));
        }
        if model.is_empty() {
            return Err(ModelSpecError::EmptyModel(text.to_string()));
        }
        Ok(Self::new(provider, model))
    }
}

impl fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

impl FromStr for ModelSpec {
    type Err = ModelSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for ModelSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ModelSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_slash() {
        let spec: ModelSpec = "OpenRouter/meta-llama/llama-3.3-70b-instruct"
            .parse()
            .unwrap();
        assert_eq!(spec.provider, "openrouter");
        assert_eq!(spec.model, "meta-llama/llama-3.3-70b-instruct");
        assert_eq!(
            spec.to_string(),
            "openrouter/meta-llama/llama-3.3-70b-instruct"
        );
    }

    #[test]
    fn keeps_tags_and_case_of_the_model() {
        let spec = ModelSpec::parse(" ollama/Llama3.2:3b-Q4 ").unwrap();
        assert_eq!(spec, ModelSpec::new("ollama", "Llama3.2:3b-Q4"));
    }

    #[test]
    fn rejects_bad_specs_with_a_hint() {
        assert_eq!(ModelSpec::parse("  "), Err(ModelSpecError::Empty));
        let err = ModelSpec::parse("gpt-4o").unwrap_err();
        assert!(err.to_string().contains("openai/gpt-4o"), "{err}");
        assert!(matches!(
            ModelSpec::parse("/x"),
            Err(ModelSpecError::EmptyProvider(_))
        ));
        assert!(matches!(
            ModelSpec::parse("openai/"),
            Err(ModelSpecError::EmptyModel(_))
        ));
    }

    #[test]
    fn round_trips_through_serde() {
        let spec = ModelSpec::new("anthropic", "claude-sonnet-4-5");
        let json = serde_json::to_string(&spec).unwrap();
        assert_eq!(json, r#""anthropic/claude-sonnet-4-5""#);
        assert_eq!(serde_json::from_str::<ModelSpec>(&json).unwrap(), spec);
        assert!(serde_json::from_str::<ModelSpec>(r#""nope""#).is_err());
    }
}
