//! What a run produces.

use std::time::Duration;

use minions_core::{Cost, ModelSpec, Pricing, Usage};
use minions_tokens::{Encoding, count_tokens};
use serde::{Deserialize, Serialize};

use crate::ProtocolKind;
use crate::events::Event;

/// Why the run ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StopReason {
    /// The remote model gave its final answer.
    Answered,
    /// The last round forced the final answer.
    MaxRounds,
    /// A budget cap stopped the run; the answer is the best one so far (maybe
    /// none).
    Budget {
        /// Which cap, and the figures.
        reason: String,
    },
    /// The remote model never gave a usable final answer; the answer is its
    /// latest usable one or is built from what the local models found.
    Fallback {
        /// Why the remote model's replies could not be used.
        reason: String,
    },
    /// The run failed; the answer is empty and the usage is what was spent.
    Failed {
        /// The error, in one line.
        error: String,
    },
    /// The run was cancelled; the usage is what was spent.
    Cancelled,
    /// The answer is that the documents do not say. Minions: the local jobs
    /// read every part of the documents (or every part the last round
    /// could) and none found an answer in its chunk, with no remote call to
    /// write it. Minion: every local answer named figures the documents
    /// never hold, and the remote model would answer with nothing else.
    NotFound,
}

impl StopReason {
    /// Whether the run produced an answer it stands by (possibly a fallback).
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            StopReason::Answered
                | StopReason::MaxRounds
                | StopReason::Fallback { .. }
                | StopReason::NotFound
        )
    }

    /// Whether a run that stopped so, with this answer, answered: a stop it
    /// stands by and an answer that is not empty. Only such a run saved
    /// anything (its savings ratio, the history's `saved_usd`, the metrics).
    pub fn answers(&self, answer: &str) -> bool {
        self.is_success() && !answer.trim().is_empty()
    }

    /// The stop's name, as its JSON `kind` spells it (`answered`,
    /// `max_rounds`, `budget`, `fallback`, `failed`, `cancelled`,
    /// `not_found`).
    pub fn kind(&self) -> &'static str {
        match self {
            StopReason::Answered => "answered",
            StopReason::MaxRounds => "max_rounds",
            StopReason::Budget { .. } => "budget",
            StopReason::Fallback { .. } => "fallback",
            StopReason::Failed { .. } => "failed",
            StopReason::Cancelled => "cancelled",
            StopReason::NotFound => "not_found",
        }
    }

    /// Why, for the stops that say: a budget's figures, a fallback's cause,
    /// a failure's error.
    pub fn detail(&self) -> Option<&str> {
        match self {
            StopReason::Budget { reason } | StopReason::Fallback { reason } => Some(reason),
            StopReason::Failed { error } => Some(error),
            _ => None,
        }
    }
}

/// Where the time went. Remote and local time overlap nothing in these
/// protocols except that Minions' local jobs overlap each other: local time
/// is wall time of the local phases, not the sum of the jobs.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timing {
    /// The whole run.
    #[serde(with = "seconds")]
    pub total: Duration,
    /// Waiting for the remote model.
    #[serde(with = "seconds")]
    pub remote: Duration,
    /// Waiting for the local model.
    #[serde(with = "seconds")]
    pub local: Duration,
    /// Everything else: chunking, retrieval, aggregation, our code.
    #[serde(with = "seconds")]
    pub overhead: Duration,
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        duration: &Duration,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(duration.as_secs_f64())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Duration, D::Error> {
        let secs = f64::deserialize(deserializer)?;
        Ok(Duration::try_from_secs_f64(secs).unwrap_or_default())
    }
}

/// Local job counts (Minions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JobStats {
    /// Jobs run.
    pub total: usize,
    /// Jobs that found an answer in their chunk, with a citation found in it.
    pub answered: usize,
    /// Jobs that gave an answer whose citation is not in their chunk.
    #[serde(default)]
    pub unverified: usize,
    /// Jobs whose chunk held nothing relevant.
    pub empty: usize,
    /// Jobs whose answer is not in their chunk (a number or most of its
    /// words are not there): guesses, dropped before the remote sees them.
    #[serde(default)]
    pub guesses: usize,
    /// Jobs that failed (after a repair attempt).
    pub failed: usize,
}

/// One document's size as the remote model would read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentSize {
    /// The document's name.
    pub name: String,
    /// Characters.
    pub chars: usize,
    /// Tokens, counted with the remote model's tokenizer.
    pub tokens: usize,
}

/// What reading documents once with the remote model would cost in input
/// tokens (`minions estimate`, the MCP `estimate` tool).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReadingEstimate {
    /// Each document, in order.
    pub documents: Vec<DocumentSize>,
    /// Characters in all.
    pub chars: usize,
    /// Tokens in all.
    pub tokens: usize,
    /// The input cost, when a price for the remote model is known.
    pub input_cost_usd: Option<f64>,
}

impl ReadingEstimate {
    /// Counts `(name, text)` documents for `remote` and prices them.
    pub fn of<'a>(
        documents: impl IntoIterator<Item = (&'a str, &'a str)>,
        remote: &ModelSpec,
        pricing: &Pricing,
    ) -> Self {
        let encoding = Encoding::for_model(&remote.model);
        let documents: Vec<DocumentSize> = documents
            .into_iter()
            .map(|(name, text)| DocumentSize {
                name: name.to_string(),
                chars: text.chars().count(),
                tokens: count_tokens(text, encoding),
            })
            .collect();
        let chars = documents.iter().map(|d| d.chars).sum();
        let tokens: usize = documents.iter().map(|d| d.tokens).sum();
        let input_cost_usd = pricing
            .price(remote)
            .map(|p| p.cost(&Usage::new(tokens as u64, 0)).total_usd());
        Self {
            documents,
            chars,
            tokens,
            input_cost_usd,
        }
    }
}

/// What sending the whole context to the remote model would have cost.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RemoteOnlyEstimate {
    /// Prompt tokens: the documents and the task, counted with the remote
    /// model's tokenizer.
    pub prompt_tokens: u64,
    /// Completion tokens assumed: a typical 300-token reply, the same in
    /// the cost cap and in the summary.
    pub completion_tokens: u64,
    /// Their price.
    pub cost_usd: f64,
}

impl RemoteOnlyEstimate {
    /// Estimates one remote call that reads `context` and `task` and writes
    /// `answer`.
    pub fn estimate(
        pricing: &Pricing,
        remote: &ModelSpec,
        context: &str,
        task: &str,
        answer: &str,
    ) -> Self {
        let encoding = Encoding::for_model(&remote.model);
        let prompt_tokens = Self::prompt_tokens(
            count_tokens(context, encoding),
            count_tokens(task, encoding),
        );
        let completion_tokens = count_tokens(answer, encoding).max(1) as u64;
        Self::priced(pricing, remote, prompt_tokens, completion_tokens)
    }

    /// The prompt of a remote-only call: the documents, the task, and chat
    /// framing with a short instruction (a few dozen tokens).
    pub(crate) fn prompt_tokens(context_tokens: usize, task_tokens: usize) -> u64 {
        (context_tokens + task_tokens + 40) as u64
    }

    /// A remote-only call of these sizes, priced.
    pub(crate) fn priced(
        pricing: &Pricing,
        remote: &ModelSpec,
        prompt_tokens: u64,
        completion_tokens: u64,
    ) -> Self {
        let cost_usd = pricing
            .cost(remote, &Usage::new(prompt_tokens, completion_tokens))
            .total_usd();
        Self {
            prompt_tokens,
            completion_tokens,
            cost_usd,
        }
    }
}

/// The outcome of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Which protocol ran.
    pub protocol: ProtocolKind,
    /// The answer (empty when a budget stopped the run before any).
    pub answer: String,
    /// Why the run ended.
    pub stop: StopReason,
    /// Rounds run.
    pub rounds: u32,
    /// The remote model.
    pub remote_model: String,
    /// The local model.
    pub local_model: String,
    /// Tokens the remote model reported, summed over every call (retries
    /// included).
    pub remote_usage: Usage,
    /// Tokens the local model reported, summed over every call.
    pub local_usage: Usage,
    /// Remote calls made.
    pub remote_calls: u32,
    /// Local calls made.
    pub local_calls: u32,
    /// Remote replies that were not usable and were asked for again.
    #[serde(default)]
    pub remote_reasks: u32,
    /// What the remote calls cost.
    pub remote_cost: Cost,
    /// What reading the whole context remotely would have cost.
    pub remote_only: RemoteOnlyEstimate,
    /// `remote_only.cost_usd / remote_cost`: how many times cheaper this run
    /// was (`None` when either is zero, for example with unpriced models).
    pub savings_ratio: Option<f64>,
    /// Where the time went.
    pub timing: Timing,
    /// Local jobs (Minions).
    pub jobs: JobStats,
    /// Redactions made before text reached the remote model, by kind.
    pub redactions: Vec<(String, usize)>,
}

impl RunResult {
    /// Whether the run answered (see [`StopReason::answers`]).
    pub fn answered(&self) -> bool {
        self.stop.answers(&self.answer)
    }

    /// What the run spent and how it ended, in a few lines for people (the
    /// CLI prints it after the answer; the MCP tools send it with it).
    pub fn summary(&self) -> String {
        let result = self;
        // Cached prompt tokens are priced at the cached rate; say how many.
        let cached = match result.remote_usage.cached_prompt_tokens {
            0 => String::new(),
            n => format!(", {n} of them cached"),
        };
        let remote = format!(
            "remote {}: {} call(s), {} tokens ({} in{cached}, {} out), ${:.4}",
            result.remote_model,
            result.remote_calls,
            result.remote_usage.total_tokens(),
            result.remote_usage.prompt_tokens,
            result.remote_usage.completion_tokens,
            result.remote_cost.total_usd()
        );
        let local = format!(
            "local {}: {} call(s), {} tokens",
            result.local_model,
            result.local_calls,
            result.local_usage.total_tokens()
        );
        let savings = match result.savings_ratio {
            Some(ratio) => format!("{ratio:.1}x cheaper"),
            None if !result.stop.is_success() => "no answer, so no savings".to_string(),
            None => "no price known to compare".to_string(),
        };
        let estimate = format!(
            "remote-only estimate: {} prompt tokens, ${:.4} ({savings})",
            result.remote_only.prompt_tokens, result.remote_only.cost_usd
        );
        let timing = format!(
            "time: {:.1}s (remote {:.1}s, local {:.1}s, other {:.2}s)",
            result.timing.total.as_secs_f64(),
            result.timing.remote.as_secs_f64(),
            result.timing.local.as_secs_f64(),
            result.timing.overhead.as_secs_f64()
        );
        let mut lines = vec![remote, local, estimate, timing];
        if result.jobs.total > 0 {
            lines.insert(
                2,
                format!(
                    "jobs: {} ({} answered, {} unverified, {} guesses dropped, {} found nothing, {} failed)",
                    result.jobs.total,
                    result.jobs.answered,
                    result.jobs.unverified,
                    result.jobs.guesses,
                    result.jobs.empty,
                    result.jobs.failed
                ),
            );
        }
        match &result.stop {
            StopReason::Budget { reason } => lines.push(format!("stopped by the budget: {reason}")),
            StopReason::Fallback { reason } => {
                lines.push(format!("answer built from the local findings: {reason}"))
            }
            // The error itself is the run's `Err` (the CLI prints it once,
            // last): repeating it here printed every failure twice.
            StopReason::Failed { .. } => {
                lines.push("failed before an answer (the error says why)".into())
            }
            StopReason::Cancelled => lines.push("cancelled".into()),
            StopReason::NotFound => {
                lines.push("the local side found no answer the documents support".into())
            }
            StopReason::Answered | StopReason::MaxRounds => {}
        }
        if !result.redactions.is_empty() {
            let kinds: Vec<String> = result
                .redactions
                .iter()
                .map(|(kind, n)| match kind.as_str() {
                    "verbatim" => format!("{n} long quote(s) of the documents elided"),
                    other => format!("{n} {other}"),
                })
                .collect();
            lines.push(format!("kept from the remote: {}", kinds.join(", ")));
        }
        if result.remote_reasks > 0 {
            lines.push(format!(
                "remote replies asked for again: {}",
                result.remote_reasks
            ));
        }
        lines.join("\n")
    }

    /// The result as one JSON object for machines (`minions ask --json`,
    /// the MCP tools' structured content): every field, the total remote
    /// cost as `remote_cost_usd`, and `error` (null when the run ended
    /// well).
    pub fn report(&self, error: Option<&str>) -> serde_json::Value {
        let mut value = serde_json::to_value(self)
            .unwrap_or_else(|e| serde_json::json!({"error": e.to_string()}));
        if let Some(object) = value.as_object_mut() {
            object.insert(
                "remote_cost_usd".into(),
                serde_json::json!(self.remote_cost.total_usd()),
            );
            object.insert("error".into(), serde_json::json!(error));
        }
        value
    }
}

/// A whole run, for saving: the result and every event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Format version.
    pub version: u32,
    /// The task.
    pub task: String,
    /// The result.
    pub result: RunResult,
    /// Every event, in order.
    pub events: Vec<Event>,
}

impl Transcript {
    /// Writes the transcript as pretty JSON, atomically: to a temporary file
    /// in the same directory, then renamed over `path`, so a crash never
    /// leaves half a file where a good one was.
    pub fn write_atomic(&self, path: &std::path::Path) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let directory = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or_else(|| std::path::Path::new("."));
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = directory.join(format!(".{file_name}.{}.tmp", std::process::id()));
        std::fs::write(&temporary, json)?;
        std::fs::rename(&temporary, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }
}

#[cfg(test)]
mod tests {
    use super::StopReason;

    #[test]
    fn stop_kinds_are_the_json_tags_and_answers_need_text() {
        for stop in [
            StopReason::Answered,
            StopReason::MaxRounds,
            StopReason::Budget { reason: "r".into() },
            StopReason::Fallback { reason: "r".into() },
            StopReason::Failed { error: "e".into() },
            StopReason::Cancelled,
            StopReason::NotFound,
        ] {
            let json = serde_json::to_value(&stop).unwrap_or_default();
            assert_eq!(json["kind"], stop.kind());
        }
        assert!(StopReason::Answered.answers("30 days"));
        assert!(!StopReason::Answered.answers("  "));
        assert!(!StopReason::Cancelled.answers("30 days"));
    }
}
