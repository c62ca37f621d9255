//! One run specification: every option a user can set, its default, its
//! bounds, and one validation that the CLI, the server, the bench and the
//! MCP server all share, so the same input gets the same verdict, in the
//! same words, wherever it comes from.

use std::time::Duration;

use minions_chunk::ChunkUnit;
use minions_core::Pricing;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::{History, ProtocolKind};

/// Which retrieval Minions offers its planner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Retrieval {
    /// BM25 keyword retrieval.
    #[default]
    Bm25,
    /// Embedding retrieval too (the run needs an embedder).
    Embedding,
    /// Every chunk: the planner is offered no retrieval (oversized plans are
    /// still narrowed by BM25, see `docs/protocol.md`).
    None,
}

impl std::str::FromStr for Retrieval {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "bm25" => Ok(Retrieval::Bm25),
            "embedding" | "embeddings" => Ok(Retrieval::Embedding),
            "none" => Ok(Retrieval::None),
            other => Err(format!(
                "unknown retrieval `{other}`: use bm25, embedding or none"
            )),
        }
    }
}

/// A setting outside its bounds: names the option and what it allows.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{option} must be {allowed}, not {value}")]
pub struct SpecError {
    /// The option, as its config key (`max_rounds`).
    pub option: &'static str,
    /// What is allowed (`between 1 and 20`).
    pub allowed: String,
    /// What was given.
    pub value: String,
}

/// The bounds of one numeric option, kept beside its default so that help
/// texts, validation and docs read the same numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// The config key.
    pub option: &'static str,
    /// Smallest allowed value.
    pub min: f64,
    /// Largest allowed value.
    pub max: f64,
    /// The default.
    pub default: f64,
}

impl Bound {
    const fn new(option: &'static str, min: f64, max: f64, default: f64) -> Self {
        Self {
            option,
            min,
            max,
            default,
        }
    }

    fn check<T: Copy + Into<f64> + ToString>(&self, value: Option<T>) -> Result<f64, SpecError> {
        let Some(value) = value else {
            return Ok(self.default);
        };
        let number: f64 = value.into();
        if number.is_finite() && number >= self.min && number <= self.max {
            Ok(number)
        } else {
            Err(SpecError {
                option: self.option,
                allowed: format!("between {} and {}", self.min, self.max),
                value: value.to_string(),
            })
        }
    }
}

/// Every bound, in one table.
pub mod bounds {
    use super::Bound;

    /// Rounds at most.
    pub const MAX_ROUNDS: Bound = Bound::new("max_rounds", 1.0, 20.0, 3.0);
    /// Local jobs in flight at once (Minions).
    pub const LOCAL_CONCURRENCY: Bound = Bound::new("local_concurrency", 1.0, 256.0, 4.0);
    /// Jobs one round may run (Minions).
    pub const MAX_JOBS_PER_ROUND: Bound = Bound::new("max_jobs_per_round", 1.0, 10_000.0, 128.0);
    /// Suggested chunk size in characters (Minions).
    pub const CHUNK_SIZE: Bound = Bound::new("chunk_size", 500.0, 12_000.0, 3_000.0);
    /// Remote dollar cap.
    pub const BUDGET_USD: Bound = Bound::new("budget_usd", 0.000_001, 1_000_000.0, 0.0);
    /// Remote token cap.
    pub const BUDGET_TOKENS: Bound = Bound::new("budget_tokens", 1.0, 1e15, 0.0);
    /// Remote spend cap as a multiple of the remote-only estimate; 0 is off.
    pub const MAX_COST_RATIO: Bound = Bound::new("max_cost_ratio", 0.0, 1_000.0, 1.0);
    /// Sampling temperature, either side.
    pub const TEMPERATURE: Bound = Bound::new("temperature", 0.0, 2.0, 0.0);
    /// Remote answer limit in tokens.
    pub const REMOTE_MAX_TOKENS: Bound = Bound::new("remote_max_tokens", 64.0, 128_000.0, 2048.0);
    /// Local answer limit in tokens (a job's reply, a Minion answer).
    pub const LOCAL_MAX_TOKENS: Bound = Bound::new("local_max_tokens", 16.0, 32_768.0, 384.0);
    /// The longest run of the documents' characters the remote may see.
    pub const MAX_VERBATIM_CHARS: Bound = Bound::new("max_verbatim_chars", 0.0, 100_000.0, 120.0);
    /// Time one local call may take, in seconds.
    pub const LOCAL_TIMEOUT_SECS: Bound = Bound::new("local_timeout_secs", 1.0, 86_400.0, 300.0);
}

/// What a user may set for a run; `None` keeps the default. This is the
/// shape the CLI's flags, `MINIONS_*` variables and `minions.toml`, the
/// server's request JSON and the MCP tools all map onto; [`RunOptions::build`]
/// validates it into a [`RunSpec`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct RunOptions {
    /// The protocol (default minions).
    pub protocol: Option<ProtocolKind>,
    /// Rounds at most; the last one must give the final answer (default 3).
    pub max_rounds: Option<u32>,
    /// Minions: local jobs in flight at once (default 4).
    pub local_concurrency: Option<u32>,
    /// Minions: jobs one round may run; bigger plans are narrowed by
    /// retrieval (default 128).
    pub max_jobs_per_round: Option<u32>,
    /// Minions: suggested chunk size in characters (default 3000).
    pub chunk_size: Option<u32>,
    /// Minions: retrieval offered to the planner (default bm25).
    pub retrieval: Option<Retrieval>,
    /// Stop before remote spend could exceed this many dollars.
    pub budget_usd: Option<f64>,
    /// Stop before remote tokens could exceed this many.
    pub budget_tokens: Option<u64>,
    /// Stop before remote spend exceeds this multiple of what reading the
    /// whole context remotely would cost (default 1; 0 turns it off).
    pub max_cost_ratio: Option<f64>,
    /// Redact personal data before anything reaches the remote model.
    pub privacy: Option<bool>,
    /// Further terms to redact.
    pub redact: Option<Vec<String>>,
    /// The longest run of the documents' own characters that the local
    /// side's words may carry to the remote; longer runs become `[...]`
    /// (default 120; 0 turns the bound off).
    pub max_verbatim_chars: Option<u32>,
    /// Remote sampling temperature (default 0).
    pub remote_temperature: Option<f32>,
    /// Remote answer limit in tokens (default 2048).
    pub remote_max_tokens: Option<u32>,
    /// Local sampling temperature (default 0).
    pub local_temperature: Option<f32>,
    /// Local answer limit in tokens (default 384).
    pub local_max_tokens: Option<u32>,
    /// Time one local call may take, in seconds (default 300).
    pub local_timeout_secs: Option<u32>,
    /// Minions: run the jobs that read one chunk one after another on one
    /// lane, so a server with a prompt cache (llama.cpp, vLLM, Ollama)
    /// reads the chunk once for all of them (default true).
    pub chunk_affinity: Option<bool>,
    /// Minions: let the remote model plan round 1 too, instead of running
    /// the task as written on the chunks that best match it (default
    /// false; see `docs/protocol.md`).
    pub plan_first_round: Option<bool>,
}

impl RunOptions {
    /// The option names, as config keys and JSON fields.
    pub fn keys() -> Vec<String> {
        serde_json::to_value(RunOptions::default())
            .ok()
            .and_then(|v| v.as_object().map(|o| o.keys().cloned().collect()))
            .unwrap_or_default()
    }

    /// Reads options from a JSON object, refusing a key that is no option
    /// (`also_known` names keys the caller takes out first, so the message
    /// lists them too). Values are checked by [`RunOptions::build`].
    pub fn from_json_object(
        object: serde_json::Map<String, serde_json::Value>,
        also_known: &[&str],
    ) -> Result<Self, String> {
        let known = Self::keys();
        if let Some(key) = object.keys().find(|k| !known.contains(k)) {
            let mut names: Vec<String> = also_known.iter().map(|k| k.to_string()).collect();
            names.extend(known);
            return Err(format!(
                "unknown option `{key}`; known options: {}",
                names.join(", ")
            ));
        }
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|e| e.to_string())
    }

    /// Sets the protocol.
    pub fn protocol(mut self, kind: ProtocolKind) -> Self {
        self.protocol = Some(kind);
        self
    }

    /// Sets the rounds.
    pub fn max_rounds(mut self, rounds: u32) -> Self {
        self.max_rounds = Some(rounds);
        self
    }

    /// Sets the local jobs in flight.
    pub fn local_concurrency(mut self, jobs: u32) -> Self {
        self.local_concurrency = Some(jobs);
        self
    }

    /// Sets the job cap per round.
    pub fn max_jobs_per_round(mut self, jobs: u32) -> Self {
        self.max_jobs_per_round = Some(jobs);
        self
    }

    /// Sets the suggested chunk size.
    pub fn chunk_size(mut self, chars: u32) -> Self {
        self.chunk_size = Some(chars);
        self
    }

    /// Sets the dollar cap.
    pub fn budget_usd(mut self, usd: f64) -> Self {
        self.budget_usd = Some(usd);
        self
    }

    /// Sets the token cap.
    pub fn budget_tokens(mut self, tokens: u64) -> Self {
        self.budget_tokens = Some(tokens);
        self
    }

    /// Sets the cap relative to the remote-only estimate (0 is off).
    pub fn max_cost_ratio(mut self, ratio: f64) -> Self {
        self.max_cost_ratio = Some(ratio);
        self
    }

    /// Turns the privacy filter on, with extra terms.
    pub fn privacy(mut self, enabled: bool, terms: Vec<String>) -> Self {
        self.privacy = Some(enabled);
        self.redact = Some(terms);
        self
    }

    /// Sets the local answer limit.
    pub fn local_max_tokens(mut self, tokens: u32) -> Self {
        self.local_max_tokens = Some(tokens);
        self
    }

    /// Sets the remote answer limit.
    pub fn remote_max_tokens(mut self, tokens: u32) -> Self {
        self.remote_max_tokens = Some(tokens);
        self
    }

    /// Minions: whether the remote model plans round 1 too (by default
    /// round 1 runs the task as written on the best-matching chunks).
    pub fn plan_first_round(mut self, plan: bool) -> Self {
        self.plan_first_round = Some(plan);
        self
    }

    /// Layers `over` on top of `self`: every option `over` sets wins.
    pub fn overlay(self, over: RunOptions) -> RunOptions {
        RunOptions {
            protocol: over.protocol.or(self.protocol),
            max_rounds: over.max_rounds.or(self.max_rounds),
            local_concurrency: over.local_concurrency.or(self.local_concurrency),
            max_jobs_per_round: over.max_jobs_per_round.or(self.max_jobs_per_round),
            chunk_size: over.chunk_size.or(self.chunk_size),
            retrieval: over.retrieval.or(self.retrieval),
            budget_usd: over.budget_usd.or(self.budget_usd),
            budget_tokens: over.budget_tokens.or(self.budget_tokens),
            max_cost_ratio: over.max_cost_ratio.or(self.max_cost_ratio),
            privacy: over.privacy.or(self.privacy),
            redact: over.redact.or(self.redact),
            max_verbatim_chars: over.max_verbatim_chars.or(self.max_verbatim_chars),
            remote_temperature: over.remote_temperature.or(self.remote_temperature),
            remote_max_tokens: over.remote_max_tokens.or(self.remote_max_tokens),
            local_temperature: over.local_temperature.or(self.local_temperature),
            local_max_tokens: over.local_max_tokens.or(self.local_max_tokens),
            local_timeout_secs: over.local_timeout_secs.or(self.local_timeout_secs),
            chunk_affinity: over.chunk_affinity.or(self.chunk_affinity),
            plan_first_round: over.plan_first_round.or(self.plan_first_round),
        }
    }

    /// Checks every option against its bounds and fills in the defaults.
    pub fn build(&self) -> Result<RunSpec, SpecError> {
        use bounds::*;
        let temperature = |option: &'static str, value: Option<f32>| {
            Bound {
                option,
                ..TEMPERATURE
            }
            .check(value)
            .map(|t| t as f32)
        };
        let optional = |bound: Bound, value: Option<f64>| match value {
            Some(v) => bound.check(Some(v)).map(Some),
            None => Ok(None),
        };
        Ok(RunSpec {
            protocol: self.protocol.unwrap_or_default(),
            max_rounds: MAX_ROUNDS.check(self.max_rounds)? as u32,
            local_concurrency: LOCAL_CONCURRENCY.check(self.local_concurrency)? as usize,
            max_jobs_per_round: MAX_JOBS_PER_ROUND.check(self.max_jobs_per_round)? as usize,
            chunk_size: CHUNK_SIZE.check(self.chunk_size)? as usize,
            retrieval: self.retrieval.unwrap_or_default(),
            budget_usd: optional(BUDGET_USD, self.budget_usd)?,
            budget_tokens: optional(BUDGET_TOKENS, self.budget_tokens.map(|t| t as f64))?
                .map(|t| t as u64),
            max_cost_ratio: MAX_COST_RATIO.check(self.max_cost_ratio)?,
            privacy: self.privacy.unwrap_or(false),
            redact: self.redact.clone().unwrap_or_default(),
            max_verbatim_chars: MAX_VERBATIM_CHARS.check(self.max_verbatim_chars)? as usize,
            remote_temperature: temperature("remote_temperature", self.remote_temperature)?,
            remote_max_tokens: REMOTE_MAX_TOKENS.check(self.remote_max_tokens)? as u32,
            local_temperature: temperature("local_temperature", self.local_temperature)?,
            local_max_tokens: LOCAL_MAX_TOKENS.check(self.local_max_tokens)? as u32,
            local_timeout: Duration::from_secs(
                LOCAL_TIMEOUT_SECS.check(self.local_timeout_secs)? as u64
            ),
            chunk_affinity: self.chunk_affinity.unwrap_or(true),
            plan_first_round: self.plan_first_round.unwrap_or(false),
            pricing: Pricing::builtin(),
            history: History::default(),
            cancel: None,
            limits: Limits::default(),
        })
    }
}

/// Internal limits that users do not set, with their defaults.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Limits {
    pub num_tasks_per_round: usize,
    pub min_chunk_chars: usize,
    pub max_chunk_chars: usize,
    pub chunk_unit: ChunkUnit,
    pub chunk_overlap: usize,
    pub max_samples: u32,
    pub findings_token_budget: usize,
    pub max_replans: u32,
    pub max_json_retries: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            num_tasks_per_round: 4,
            min_chunk_chars: bounds::CHUNK_SIZE.min as usize,
            max_chunk_chars: bounds::CHUNK_SIZE.max as usize,
            chunk_unit: ChunkUnit::Chars,
            chunk_overlap: 100,
            max_samples: 3,
            findings_token_budget: 4000,
            max_replans: 2,
            max_json_retries: 2,
        }
    }
}

/// A validated run specification: every option within its bounds. Made by
/// [`RunOptions::build`]; the runtime parts (prices, conversation history,
/// cancellation) are set with the `with_` methods.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub(crate) protocol: ProtocolKind,
    pub(crate) max_rounds: u32,
    pub(crate) local_concurrency: usize,
    pub(crate) max_jobs_per_round: usize,
    pub(crate) chunk_size: usize,
    pub(crate) retrieval: Retrieval,
    pub(crate) budget_usd: Option<f64>,
    pub(crate) budget_tokens: Option<u64>,
    pub(crate) max_cost_ratio: f64,
    pub(crate) privacy: bool,
    pub(crate) redact: Vec<String>,
    pub(crate) max_verbatim_chars: usize,
    pub(crate) remote_temperature: f32,
    pub(crate) remote_max_tokens: u32,
    pub(crate) local_temperature: f32,
    pub(crate) local_max_tokens: u32,
    pub(crate) local_timeout: Duration,
    pub(crate) chunk_affinity: bool,
    pub(crate) plan_first_round: bool,
    pub(crate) pricing: Pricing,
    pub(crate) history: History,
    pub(crate) cancel: Option<CancellationToken>,
    pub(crate) limits: Limits,
}

impl Default for RunSpec {
    fn default() -> Self {
        // The defaults are within their own bounds, so this cannot fail; the
        // fallback keeps it total anyway.
        match RunOptions::default().build() {
            Ok(spec) => spec,
            Err(error) => unreachable!("defaults out of bounds: {error}"),
        }
    }
}

impl RunSpec {
    /// Options from which this spec can be built again (for transcripts and
    /// settings displays).
    pub fn protocol(&self) -> ProtocolKind {
        self.protocol
    }

    /// Rounds at most.
    pub fn max_rounds(&self) -> u32 {
        self.max_rounds
    }

    /// Local jobs in flight at once.
    pub fn local_concurrency(&self) -> usize {
        self.local_concurrency
    }

    /// The retrieval offered to the planner.
    pub fn retrieval(&self) -> Retrieval {
        self.retrieval
    }

    /// Whether the privacy filter is on.
    pub fn privacy(&self) -> bool {
        self.privacy
    }

    /// The prices used for costs and the dollar budget.
    pub fn pricing(&self) -> &Pricing {
        &self.pricing
    }

    /// Uses these prices.
    pub fn with_pricing(mut self, pricing: Pricing) -> Self {
        self.pricing = pricing;
        self
    }

    /// Shows the remote model these earlier questions and answers.
    pub fn with_history(mut self, history: History) -> Self {
        self.history = history;
        self
    }

    /// Cancels the run when `token` fires; the run still reports what it
    /// spent.
    pub fn with_cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// Caps the chunk size a plan may ask for, for a local model whose
    /// context window holds fewer characters than the default maximum.
    pub fn with_max_chunk_chars(mut self, chars: usize) -> Self {
        let chars = chars.max(self.limits.min_chunk_chars);
        self.limits.max_chunk_chars = self.limits.max_chunk_chars.min(chars);
        self.chunk_size = self.chunk_size.min(self.limits.max_chunk_chars);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_documented() {
        let spec = RunOptions::default().build().unwrap_or_default();
        assert_eq!(spec.max_rounds, 3);
        assert_eq!(spec.protocol, ProtocolKind::Minions);
        assert_eq!(spec.max_cost_ratio, 1.0);
        assert!(RunOptions::keys().contains(&"max_rounds".to_string()));
    }

    #[test]
    fn out_of_range_values_name_the_option_and_the_range() {
        let error = RunOptions::default().max_rounds(0).build().err();
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some("max_rounds must be between 1 and 20, not 0")
        );
        let error = RunOptions {
            remote_temperature: Some(f32::NAN),
            ..RunOptions::default()
        }
        .build()
        .err();
        assert_eq!(error.map(|e| e.option), Some("remote_temperature"));
        assert!(RunOptions::default().chunk_size(100).build().is_err());
        assert!(RunOptions::default().budget_usd(0.0).build().is_err());
        assert!(RunOptions::default().max_cost_ratio(0.0).build().is_ok());
    }

    #[test]
    fn overlay_prefers_the_upper_layer() {
        let base = RunOptions::default().max_rounds(2).chunk_size(1000);
        let top = RunOptions::default().max_rounds(5);
        let merged = base.overlay(top);
        assert_eq!(
            (merged.max_rounds, merged.chunk_size),
            (Some(5), Some(1000))
        );
    }
}
