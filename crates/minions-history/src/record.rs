//! One run's row: built from a run's result, written and read back.

use minions_protocol::RunResult;
use rusqlite::{Row, Transaction, params};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::StoredRun;

/// Which front end ran it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// `minions ask` and `minions chat`.
    Cli,
    /// `minions serve`.
    Server,
    /// `minions mcp`.
    Mcp,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Cli => "cli",
            Source::Server => "server",
            Source::Mcp => "mcp",
        }
    }
}

/// What is kept of one run. Never the documents; the question itself only
/// when privacy is off (its SHA-256 always, so that runs of one question
/// can be grouped).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Unix time the run began.
    pub started_at: i64,
    /// Unix time it ended.
    pub ended_at: i64,
    /// `cli`, `server` or `mcp`.
    pub source: String,
    /// The question, or `None` under `--privacy`.
    pub question: Option<String>,
    /// The question's SHA-256, in hex.
    pub question_sha256: String,
    /// `minion` or `minions`.
    pub protocol: String,
    /// The remote model, as `provider/model`.
    pub remote_model: String,
    /// The local model, as `provider/model`.
    pub local_model: String,
    /// Remote prompt tokens (cached ones included).
    pub remote_prompt_tokens: i64,
    /// The cached part of them.
    pub remote_cached_tokens: i64,
    /// Remote completion tokens.
    pub remote_completion_tokens: i64,
    /// Local prompt tokens.
    pub local_prompt_tokens: i64,
    /// Local completion tokens.
    pub local_completion_tokens: i64,
    /// Remote calls made.
    pub remote_calls: i64,
    /// Local calls made.
    pub local_calls: i64,
    /// Rounds begun.
    pub rounds: i64,
    /// What the remote model cost.
    pub remote_cost_usd: f64,
    /// What reading everything remotely would have cost (the run's own
    /// remote-only estimate).
    pub remote_only_cost_usd: f64,
    /// Remote-only minus spent, for runs that answered; `None` for runs
    /// that did not (they saved nothing).
    pub saved_usd: Option<f64>,
    /// Remote-only over spent, for runs that answered with a priced model.
    pub savings_ratio: Option<f64>,
    /// Whether the run ended with an answer.
    pub answered: bool,
    /// Why it stopped: `answered`, `max_rounds`, `not_found`, `fallback`,
    /// `budget`, `failed`, `cancelled`.
    pub stop: String,
    /// The stop's reason (a budget's figures, a fallback's cause).
    pub stop_detail: Option<String>,
    /// The error of a run that failed.
    pub error: Option<String>,
    /// Seconds the run took.
    pub total_secs: f64,
    /// Seconds spent waiting for the remote model.
    pub remote_secs: f64,
    /// Seconds spent waiting for the local model.
    pub local_secs: f64,
    /// Where its transcript was written, if it was.
    pub transcript: Option<String>,
}

/// A question's SHA-256, in hex.
pub fn question_sha256(question: &str) -> String {
    Sha256::digest(question.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl RunRecord {
    /// The record of a run that ended with `result` (and `error`, when it
    /// failed), `ended_at` being the Unix time it ended. Under `private`
    /// only the question's hash is kept.
    pub fn of(
        result: &RunResult,
        source: Source,
        question: &str,
        private: bool,
        error: Option<&str>,
        ended_at: i64,
    ) -> Self {
        // A run with an error ended `failed` or `cancelled`: not answered.
        let answered = result.answered();
        let spent = result.remote_cost.total_usd();
        let remote_only = result.remote_only.cost_usd;
        let total = result.timing.total.as_secs_f64();
        Self {
            started_at: ended_at - total.round() as i64,
            ended_at,
            source: source.as_str().to_string(),
            question: (!private).then(|| question.to_string()),
            question_sha256: question_sha256(question),
            protocol: result.protocol.as_str().to_string(),
            remote_model: result.remote_model.clone(),
            local_model: result.local_model.clone(),
            remote_prompt_tokens: count(result.remote_usage.prompt_tokens),
            remote_cached_tokens: count(result.remote_usage.cached_prompt_tokens),
            remote_completion_tokens: count(result.remote_usage.completion_tokens),
            local_prompt_tokens: count(result.local_usage.prompt_tokens),
            local_completion_tokens: count(result.local_usage.completion_tokens),
            remote_calls: i64::from(result.remote_calls),
            local_calls: i64::from(result.local_calls),
            rounds: i64::from(result.rounds),
            remote_cost_usd: spent,
            remote_only_cost_usd: remote_only,
            saved_usd: answered.then_some(remote_only - spent),
            savings_ratio: if answered { result.savings_ratio } else { None },
            answered,
            stop: result.stop.kind().to_string(),
            stop_detail: result.stop.detail().map(str::to_string),
            error: error.map(str::to_string),
            total_secs: total,
            remote_secs: result.timing.remote.as_secs_f64(),
            local_secs: result.timing.local.as_secs_f64(),
            transcript: None,
        }
    }

    /// Notes where the run's transcript was written.
    pub fn with_transcript(mut self, path: impl Into<String>) -> Self {
        self.transcript = Some(path.into());
        self
    }
}

/// The columns, in the order [`from_row`] reads them.
pub(crate) const COLUMNS: &str = "id, started_at, ended_at, source, question, question_sha256, \
    protocol, remote_model, local_model, remote_prompt_tokens, remote_cached_tokens, \
    remote_completion_tokens, local_prompt_tokens, local_completion_tokens, remote_calls, \
    local_calls, rounds, remote_cost_usd, remote_only_cost_usd, saved_usd, savings_ratio, \
    answered, stop, stop_detail, error, total_secs, remote_secs, local_secs, transcript";

pub(crate) fn insert(transaction: &Transaction<'_>, run: &RunRecord) -> rusqlite::Result<usize> {
    transaction.execute(
        "INSERT INTO runs (started_at, ended_at, source, question, question_sha256, protocol, \
         remote_model, local_model, remote_prompt_tokens, remote_cached_tokens, \
         remote_completion_tokens, local_prompt_tokens, local_completion_tokens, remote_calls, \
         local_calls, rounds, remote_cost_usd, remote_only_cost_usd, saved_usd, savings_ratio, \
         answered, stop, stop_detail, error, total_secs, remote_secs, local_secs, transcript) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, \
         ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
        params![
            run.started_at,
            run.ended_at,
            run.source,
            run.question,
            run.question_sha256,
            run.protocol,
            run.remote_model,
            run.local_model,
            run.remote_prompt_tokens,
            run.remote_cached_tokens,
            run.remote_completion_tokens,
            run.local_prompt_tokens,
            run.local_completion_tokens,
            run.remote_calls,
            run.local_calls,
            run.rounds,
            run.remote_cost_usd,
            run.remote_only_cost_usd,
            run.saved_usd,
            run.savings_ratio,
            run.answered,
            run.stop,
            run.stop_detail,
            run.error,
            run.total_secs,
            run.remote_secs,
            run.local_secs,
            run.transcript,
        ],
    )
}

pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<StoredRun> {
    Ok(StoredRun {
        id: row.get(0)?,
        record: RunRecord {
            started_at: row.get(1)?,
            ended_at: row.get(2)?,
            source: row.get(3)?,
            question: row.get(4)?,
            question_sha256: row.get(5)?,
            protocol: row.get(6)?,
            remote_model: row.get(7)?,
            local_model: row.get(8)?,
            remote_prompt_tokens: row.get(9)?,
            remote_cached_tokens: row.get(10)?,
            remote_completion_tokens: row.get(11)?,
            local_prompt_tokens: row.get(12)?,
            local_completion_tokens: row.get(13)?,
            remote_calls: row.get(14)?,
            local_calls: row.get(15)?,
            rounds: row.get(16)?,
            remote_cost_usd: row.get(17)?,
            remote_only_cost_usd: row.get(18)?,
            saved_usd: row.get(19)?,
            savings_ratio: row.get(20)?,
            answered: row.get(21)?,
            stop: row.get(22)?,
            stop_detail: row.get(23)?,
            error: row.get(24)?,
            total_secs: row.get(25)?,
            remote_secs: row.get(26)?,
            local_secs: row.get(27)?,
            transcript: row.get(28)?,
        },
    })
}
