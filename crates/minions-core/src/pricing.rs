//! What remote models cost, and what a run cost.
//!
//! Prices are USD per million tokens. The built-in table is a snapshot
//! ([`PRICES_TAKEN`]); providers change prices, so users can override or add
//! entries from a TOML file (see [`Pricing::with_overrides_toml`]) named by
//! `MINIONS_PRICING` or the config file. Local models cost nothing unless the
//! user prices them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{ModelSpec, Usage};

/// When the built-in prices were read off the providers' price pages.
pub const PRICES_TAKEN: &str = "2025-11-15";

/// USD per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    /// Uncached input tokens.
    pub input: f64,
    /// Input tokens served from the prompt cache; the input price when the
    /// provider gives no discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    /// Output tokens.
    pub output: f64,
}

impl Price {
    /// A price with a cache discount.
    pub const fn new(input: f64, cached_input: f64, output: f64) -> Self {
        Self {
            input,
            cached_input: Some(cached_input),
            output,
        }
    }

    /// A price without a cache discount.
    pub const fn flat(input: f64, output: f64) -> Self {
        Self {
            input,
            cached_input: None,
            output,
        }
    }

    /// What `usage` costs at this price.
    pub fn cost(&self, usage: &Usage) -> Cost {
        let cached = usage.cached_prompt_tokens.min(usage.prompt_tokens);
        let uncached = usage.prompt_tokens - cached;
        let per_token = |tokens: u64, per_million: f64| tokens as f64 * per_million / 1_000_000.0;
        Cost {
            input_usd: per_token(uncached, self.input),
            cached_input_usd: per_token(cached, self.cached_input.unwrap_or(self.input)),
            output_usd: per_token(usage.completion_tokens, self.output),
        }
    }

    fn validate(&self) -> Result<(), String> {
        let all = [Some(self.input), self.cached_input, Some(self.output)];
        if all.into_iter().flatten().all(|p| p.is_finite() && p >= 0.0) {
            Ok(())
        } else {
            Err("prices must be finite and not negative".into())
        }
    }
}

/// What some usage cost, in USD.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Cost {
    /// Uncached input tokens.
    pub input_usd: f64,
    /// Cached input tokens.
    pub cached_input_usd: f64,
    /// Output tokens.
    pub output_usd: f64,
}

impl Cost {
    /// The sum of all parts.
    pub fn total_usd(&self) -> f64 {
        self.input_usd + self.cached_input_usd + self.output_usd
    }
}

impl std::ops::Add for Cost {
    type Output = Cost;

    fn add(self, rhs: Cost) -> Cost {
        Cost {
            input_usd: self.input_usd + rhs.input_usd,
            cached_input_usd: self.cached_input_usd + rhs.cached_input_usd,
            output_usd: self.output_usd + rhs.output_usd,
        }
    }
}

impl std::ops::AddAssign for Cost {
    fn add_assign(&mut self, rhs: Cost) {
        *self = *self + rhs;
    }
}

/// Why a price file could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PricingError {
    /// The file could not be read.
    #[error("cannot read price file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid.
    #[error("invalid price file {path}: {message}")]
    Invalid {
        /// The file (or `<string>`).
        path: String,
        /// What is wrong, with line and column from the TOML parser.
        message: String,
    },
}

/// The built-in table: (provider, model, price).
#[rustfmt::skip]
const BUILTIN: &[(&str, &str, Price)] = &[
    ("openai", "gpt-5", Price::new(1.25, 0.125, 10.0)),
    ("openai", "gpt-5-mini", Price::new(0.25, 0.025, 2.0)),
    ("openai", "gpt-5-nano", Price::new(0.05, 0.005, 0.40)),
    ("openai", "gpt-4.1", Price::new(2.0, 0.50, 8.0)),
    ("openai", "gpt-4.1-mini", Price::new(0.40, 0.10, 1.60)),
    ("openai", "gpt-4.1-nano", Price::new(0.10, 0.025, 0.40)),
    ("openai", "gpt-4o", Price::new(2.50, 1.25, 10.0)),
    ("openai", "gpt-4o-mini", Price::new(0.15, 0.075, 0.60)),
    ("openai", "o3", Price::new(2.0, 0.50, 8.0)),
    ("openai", "o3-mini", Price::new(1.10, 0.55, 4.40)),
    ("openai", "o4-mini", Price::new(1.10, 0.275, 4.40)),
    ("anthropic", "claude-opus-4-5", Price::new(5.0, 0.50, 25.0)),
    ("anthropic", "claude-opus-4-1", Price::new(15.0, 1.50, 75.0)),
    ("anthropic", "claude-sonnet-4-5", Price::new(3.0, 0.30, 15.0)),
    ("anthropic", "claude-sonnet-4", Price::new(3.0, 0.30, 15.0)),
    ("anthropic", "claude-haiku-4-5", Price::new(1.0, 0.10, 5.0)),
    ("anthropic", "claude-3-5-haiku", Price::new(0.80, 0.08, 4.0)),
    ("gemini", "gemini-2.5-pro", Price::new(1.25, 0.125, 10.0)),
    ("gemini", "gemini-2.5-flash", Price::new(0.30, 0.03, 2.50)),
    ("gemini", "gemini-2.5-flash-lite", Price::new(0.10, 0.01, 0.40)),
    ("deepseek", "deepseek-chat", Price::new(0.28, 0.028, 0.42)),
    ("deepseek", "deepseek-reasoner", Price::new(0.28, 0.028, 0.42)),
    ("together", "meta-llama/Llama-3.3-70B-Instruct-Turbo", Price::flat(0.88, 0.88)),
    ("together", "deepseek-ai/DeepSeek-V3", Price::flat(1.25, 1.25)),
    ("together", "Qwen/Qwen2.5-72B-Instruct-Turbo", Price::flat(1.20, 1.20)),
    ("together", "openai/gpt-oss-120b", Price::flat(0.15, 0.60)),
    ("groq", "llama-3.3-70b-versatile", Price::flat(0.59, 0.79)),
    ("groq", "llama-3.1-8b-instant", Price::flat(0.05, 0.08)),
    ("groq", "openai/gpt-oss-120b", Price::flat(0.15, 0.75)),
    ("mistral", "mistral-large-latest", Price::flat(2.0, 6.0)),
    ("mistral", "mistral-medium-latest", Price::flat(0.40, 2.0)),
    ("mistral", "mistral-small-latest", Price::flat(0.10, 0.30)),
    ("xai", "grok-4", Price::new(3.0, 0.75, 15.0)),
    ("xai", "grok-4-fast", Price::new(0.20, 0.05, 0.50)),
    ("xai", "grok-3-mini", Price::new(0.30, 0.075, 0.50)),
    ("perplexity", "sonar", Price::flat(1.0, 1.0)),
    ("perplexity", "sonar-pro", Price::flat(3.0, 15.0)),
];

/// Providers that resell other vendors' models under `vendor/model` names
/// (or, for Azure, under deployment names that usually equal the model name).
/// Their models are priced like the vendor's own when no entry of theirs
/// matches.
const RESELLERS: &[&str] = &["openrouter", "azure"];

/// The format of a price file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PriceFile {
    /// When the prices were taken (free text, shown to users).
    taken: Option<String>,
    /// `"provider/model" = { input = .., cached_input = .., output = .. }`.
    #[serde(default)]
    models: BTreeMap<String, Price>,
}

/// A price table: built-in prices plus user overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Pricing {
    /// (provider, normalised model, price). User entries come first so that
    /// they win over built-in ones.
    entries: Vec<(String, String, Price)>,
    taken: String,
}

impl Default for Pricing {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Pricing {
    /// The built-in table.
    pub fn builtin() -> Self {
        Self {
            entries: BUILTIN
                .iter()
                .map(|(provider, model, price)| (provider.to_string(), normalise(model), *price))
                .collect(),
            taken: PRICES_TAKEN.to_string(),
        }
    }

    /// An empty table: every model is free. Useful in tests.
    pub fn empty() -> Self {
        Self {
            entries: Vec::new(),
            taken: String::new(),
        }
    }

    /// When the prices were taken (the override file's `taken` if it set one).
    pub fn taken(&self) -> &str {
        &self.taken
    }

    /// The number of priced models.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no model is priced.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Prices one model, ahead of any existing entry for it.
    pub fn set(&mut self, spec: &ModelSpec, price: Price) {
        self.entries
            .insert(0, (spec.provider.clone(), normalise(&spec.model), price));
    }

    /// Adds the entries of a price file in TOML:
    ///
    /// ```toml
    /// taken = "2026-11-01"
    /// [models."openai/gpt-4o"]
    /// input = 2.5
    /// cached_input = 1.25
    /// output = 10.0
    /// [models."ollama/llama3.2"]   # price a local model, if you want to
    /// input = 0.0
    /// output = 0.0
    /// ```
    pub fn with_overrides_toml(mut self, text: &str, path: &str) -> Result<Self, PricingError> {
        let invalid = |message: String| PricingError::Invalid {
            path: path.to_string(),
            message,
        };
        let file: PriceFile = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for (name, price) in file.models {
            let spec = ModelSpec::parse(&name)
                .map_err(|e| invalid(format!("[models.\"{name}\"]: {e}")))?;
            price
                .validate()
                .map_err(|e| invalid(format!("[models.\"{name}\"]: {e}")))?;
            self.set(&spec, price);
        }
        if let Some(taken) = file.taken {
            self.taken = taken;
        }
        Ok(self)
    }

    /// Adds the entries of a price file on disk.
    pub fn with_overrides_file(self, path: &Path) -> Result<Self, PricingError> {
        let text = std::fs::read_to_string(path).map_err(|source| PricingError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.with_overrides_toml(&text, &path.display().to_string())
    }

    /// The built-in table plus the file named by `MINIONS_PRICING`, if set.
    pub fn from_env() -> Result<Self, PricingError> {
        match crate::env::read(crate::env::MINIONS_PRICING) {
            Some(path) => Self::builtin().with_overrides_file(Path::new(&path)),
            None => Ok(Self::builtin()),
        }
    }

    /// The price of a model, if known.
    ///
    /// Matching is forgiving: case, `.` versus `-` (`claude-sonnet-4.5`), and
    /// dated or tagged snapshots (`gpt-4o-2024-08-06`,
    /// `claude-sonnet-4-5-20250929`) all find the base entry; the longest
    /// matching entry wins, so `gpt-4o-mini` never gets `gpt-4o`'s price.
    /// OpenRouter and Azure models fall back to the vendor's own price.
    pub fn price(&self, spec: &ModelSpec) -> Option<Price> {
        let model = normalise(&spec.model);
        if let Some(price) = self.best_match(Some(&spec.provider), &model) {
            return Some(price);
        }
        if RESELLERS.contains(&spec.provider.as_str()) {
            let bare = model.rsplit('/').next().unwrap_or(&model);
            return self
                .best_match(None, &model)
                .or_else(|| self.best_match(None, bare));
        }
        None
    }

    /// What `usage` of a model cost; zero for unpriced (for example local)
    /// models.
    pub fn cost(&self, spec: &ModelSpec, usage: &Usage) -> Cost {
        self.price(spec).map(|p| p.cost(usage)).unwrap_or_default()
    }

    fn best_match(&self, provider: Option<&str>, model: &str) -> Option<Price> {
        self.entries
            .iter()
            .filter(|(p, _, _)| provider.is_none_or(|want| p == want))
            .filter(|(_, m, _)| is_boundary_prefix(m, model))
            // `max_by_key` keeps the last maximum; iterate reversed so that
            // the earliest (user) entry wins a tie.
            .rev()
            .max_by_key(|(_, m, _)| m.len())
            .map(|(_, _, price)| *price)
    }
}

/// Lowercase, `.` as `-`, so `Claude-Sonnet-4.5` meets `claude-sonnet-4-5`.
fn normalise(model: &str) -> String {
    model.trim().to_ascii_lowercase().replace('.', "-")
}

/// Whether `entry` is `model` or a prefix of it that ends where a suffix
/// (`-2024-08-06`, `:latest`, `@2025`) begins.
fn is_boundary_prefix(entry: &str, model: &str) -> bool {
    match model.strip_prefix(entry) {
        Some("") => true,
        Some(rest) => rest.starts_with(['-', ':', '@']),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(text: &str) -> ModelSpec {
        ModelSpec::parse(text).unwrap()
    }

    #[test]
    fn builtin_table_covers_the_major_vendors() {
        let pricing = Pricing::builtin();
        assert!(pricing.len() >= 20);
        for provider in [
            "openai",
            "anthropic",
            "gemini",
            "deepseek",
            "together",
            "groq",
            "mistral",
            "xai",
        ] {
            assert!(BUILTIN.iter().any(|(p, _, _)| *p == provider), "{provider}");
        }
        for (_, _, price) in BUILTIN {
            price.validate().unwrap();
        }
    }

    #[test]
    fn snapshots_and_spellings_find_their_base_price() {
        let pricing = Pricing::builtin();
        let gpt4o = pricing.price(&spec("openai/gpt-4o")).unwrap();
        assert_eq!(
            pricing.price(&spec("openai/gpt-4o-2024-08-06")),
            Some(gpt4o)
        );
        assert_eq!(
            pricing.price(&spec("openai/gpt-4o-mini")).unwrap().input,
            0.15
        );
        assert_eq!(pricing.price(&spec("openai/o3-mini")).unwrap().input, 1.10);
        let sonnet = pricing
            .price(&spec("anthropic/claude-sonnet-4-5-20250929"))
            .unwrap();
        assert_eq!(sonnet.output, 15.0);
        assert_eq!(
            pricing.price(&spec("openrouter/anthropic/claude-sonnet-4.5")),
            Some(sonnet)
        );
        assert_eq!(pricing.price(&spec("azure/gpt-4o")), Some(gpt4o));
        assert!(pricing.price(&spec("openai/gpt-4")).is_none());
        assert!(pricing.price(&spec("ollama/llama3.2")).is_none());
        // Local servers hosting an open model are not billed like Together.
        assert!(pricing.price(&spec("vllm/openai/gpt-oss-120b")).is_none());
    }

    #[test]
    fn cost_splits_cached_input() {
        let price = Price::new(2.0, 0.5, 8.0);
        let usage = Usage {
            prompt_tokens: 1_000_000,
            completion_tokens: 500_000,
            cached_prompt_tokens: 400_000,
        };
        let cost = price.cost(&usage);
        assert!((cost.input_usd - 1.2).abs() < 1e-9);
        assert!((cost.cached_input_usd - 0.2).abs() < 1e-9);
        assert!((cost.output_usd - 4.0).abs() < 1e-9);
        assert!((cost.total_usd() - 5.4).abs() < 1e-9);
        let flat = Price::flat(1.0, 1.0).cost(&usage);
        assert!((flat.input_usd + flat.cached_input_usd - 1.0).abs() < 1e-9);
        assert_eq!(
            Pricing::builtin()
                .cost(&spec("ollama/llama3.2"), &usage)
                .total_usd(),
            0.0
        );
    }

    #[test]
    fn overrides_win_and_add_models() {
        let text = r#"
            taken = "2026-11-01"
            [models."openai/gpt-4o"]
            input = 1.0
            output = 2.0
            [models."ollama/llama3.2"]
            input = 0.01
            output = 0.02
        "#;
        let pricing = Pricing::builtin()
            .with_overrides_toml(text, "prices.toml")
            .unwrap();
        assert_eq!(pricing.taken(), "2026-11-01");
        assert_eq!(
            pricing.price(&spec("openai/gpt-4o")),
            Some(Price::flat(1.0, 2.0))
        );
        assert_eq!(
            pricing.price(&spec("openai/gpt-4o-2024-05-13")),
            Some(Price::flat(1.0, 2.0))
        );
        assert_eq!(
            pricing.price(&spec("ollama/llama3.2:latest")),
            Some(Price::flat(0.01, 0.02))
        );
    }

    #[test]
    fn bad_price_files_say_what_is_wrong() {
        let err = Pricing::builtin()
            .with_overrides_toml("[models.\"gpt-4o\"]\ninput = 1\noutput = 2\n", "p.toml")
            .unwrap_err();
        assert!(err.to_string().contains("provider/model"), "{err}");
        let err = Pricing::builtin()
            .with_overrides_toml(
                "[models.\"openai/x\"]\ninput = -1.0\noutput = 2.0\n",
                "p.toml",
            )
            .unwrap_err();
        assert!(err.to_string().contains("not negative"), "{err}");
        let err = Pricing::builtin()
            .with_overrides_toml(
                "[models.\"openai/x\"]\ninptu = 1.0\noutput = 2.0\n",
                "p.toml",
            )
            .unwrap_err();
        assert!(err.to_string().contains("inptu"), "{err}");
        let err = Pricing::builtin()
            .with_overrides_file(Path::new("/definitely/not/here.toml"))
            .unwrap_err();
        assert!(matches!(err, PricingError::Read { .. }));
    }
}
