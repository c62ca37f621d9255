//! Every knob of the protocols, with documented defaults.

use std::sync::Arc;

use minions_chunk::ChunkUnit;
use minions_core::{Embedder, Pricing};
use tokio_util::sync::CancellationToken;

use crate::History;

/// Caps on what the remote model may cost. Before a remote call that would
/// cross a cap (counting the call's prompt and its `max_tokens`), the run
/// stops with what it has and says so in the result.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Budget {
    /// Remote tokens (prompt plus completion) for the whole run.
    pub max_remote_tokens: Option<u64>,
    /// Remote dollars for the whole run, priced with the pricing table.
    pub max_remote_usd: Option<f64>,
}

/// The privacy filter: findings are scanned before anything reaches the
/// remote model.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Privacy {
    /// Redact emails, phone numbers, card numbers, national ids and IP
    /// addresses.
    pub enabled: bool,
    /// Further terms to redact wherever they appear (names, project code
    /// names), matched without regard to case.
    pub terms: Vec<String>,
}

/// Options shared by both protocols.
#[derive(Clone)]
pub struct CommonOptions {
    /// Rounds at most (Minion: local answers; Minions: plan, execute,
    /// synthesize cycles). The last round must end with a final answer.
    /// Default 3.
    pub max_rounds: u32,
    /// Caps on remote spend. Default: none.
    pub budget: Budget,
    /// The privacy filter. Default: off.
    pub privacy: Privacy,
    /// Prices for the cost figures and the dollar budget. Default: built-in.
    pub pricing: Pricing,
    /// Remote sampling temperature. Default 0.0.
    pub remote_temperature: f32,
    /// Remote answer limit in tokens. Default 2048.
    pub remote_max_tokens: u32,
    /// Local sampling temperature. Default 0.0.
    pub local_temperature: f32,
    /// Local answer limit in tokens. Default 1024.
    pub local_max_tokens: u32,
    /// How many times a remote answer that is not the JSON asked for is sent
    /// back with the reason. Default 2.
    pub max_json_retries: u32,
    /// Cancels the run from outside (dropping the run's future works too).
    pub cancel: Option<CancellationToken>,
    /// Earlier questions and answers of a conversation, shown to the remote
    /// model so that follow-up questions make sense. Default: none.
    pub history: History,
}

impl Default for CommonOptions {
    fn default() -> Self {
        Self {
            max_rounds: 3,
            budget: Budget::default(),
            privacy: Privacy::default(),
            pricing: Pricing::builtin(),
            remote_temperature: 0.0,
            remote_max_tokens: 2048,
            local_temperature: 0.0,
            local_max_tokens: 1024,
            max_json_retries: 2,
            cancel: None,
            history: History::default(),
        }
    }
}

impl std::fmt::Debug for CommonOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommonOptions")
            .field("max_rounds", &self.max_rounds)
            .field("budget", &self.budget)
            .field("privacy", &self.privacy.enabled)
            .finish_non_exhaustive()
    }
}

/// Options of the Minion protocol.
#[derive(Debug, Clone, Default)]
pub struct MinionOptions {
    /// Shared options.
    pub common: CommonOptions,
}

/// Options of the Minions protocol.
#[derive(Clone)]
pub struct MinionsOptions {
    /// Shared options.
    pub common: CommonOptions,
    /// Local jobs in flight at once. Default 4, which suits one Ollama
    /// server (raise `OLLAMA_NUM_PARALLEL` to match) or a small pool.
    pub local_concurrency: usize,
    /// Jobs one round may run; a plan asking for more is sent back.
    /// Default 128.
    pub max_jobs_per_round: usize,
    /// Tasks one plan may hold. Default 4.
    pub num_tasks_per_round: usize,
    /// Smallest chunk size a plan may ask for, in characters. Default 500.
    pub min_chunk_chars: usize,
    /// Largest chunk size a plan may ask for, in characters (token chunks
    /// are held to a quarter of it). Default 12,000, which fits a 4k-token
    /// local context with room for the instructions.
    pub max_chunk_chars: usize,
    /// Chunking suggested to the planner. Default characters, 3,000, overlap 100.
    pub default_chunking: (ChunkUnit, usize, usize),
    /// Samples per job a plan may ask for. Default 3.
    pub max_samples: u32,
    /// Tokens of aggregated findings the remote model may see per round;
    /// the best-supported answers go first. Default 4,000.
    pub findings_token_budget: usize,
    /// Times an invalid plan is sent back with the reason. Default 2.
    pub max_replans: u32,
    /// Enables `{"embedding": {"top_k": N}}` selection.
    pub embedder: Option<Arc<dyn Embedder>>,
}

impl Default for MinionsOptions {
    fn default() -> Self {
        Self {
            common: CommonOptions::default(),
            local_concurrency: 4,
            max_jobs_per_round: 128,
            num_tasks_per_round: 4,
            min_chunk_chars: 500,
            max_chunk_chars: 12_000,
            default_chunking: (ChunkUnit::Chars, 3000, 100),
            max_samples: 3,
            findings_token_budget: 4000,
            max_replans: 2,
            embedder: None,
        }
    }
}

impl std::fmt::Debug for MinionsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MinionsOptions")
            .field("common", &self.common)
            .field("local_concurrency", &self.local_concurrency)
            .field("max_jobs_per_round", &self.max_jobs_per_round)
            .field("num_tasks_per_round", &self.num_tasks_per_round)
            .field(
                "embedder",
                &self.embedder.as_ref().map(|e| e.id().to_string()),
            )
            .finish_non_exhaustive()
    }
}
