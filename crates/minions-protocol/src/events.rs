//! Everything a run does, as events on one channel.

use std::sync::{Arc, Mutex};

use minions_core::Usage;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::UnboundedSender;

use crate::DocumentMetadata;
use crate::findings::Findings;
use crate::plan::Plan;

/// One step of a run. The CLI's progress display, the server's live stream
/// and the transcript all read the same events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// The run began.
    RunStarted {
        /// `minion` or `minions`.
        protocol: String,
        /// The task.
        task: String,
        /// What the remote model is told about the documents.
        documents: Vec<DocumentMetadata>,
        /// The remote model.
        remote: String,
        /// The local model.
        local: String,
    },
    /// The remote model said something.
    RemoteMessage {
        /// The round.
        round: u32,
        /// Which step: `question`, `decision`, `plan`, `synthesis`.
        step: String,
        /// What it said (its raw text).
        content: String,
        /// Tokens of this call.
        usage: Usage,
        /// How long the call took, in seconds (0 in transcripts written
        /// before it was recorded).
        #[serde(default)]
        seconds: f64,
    },
    /// The local model answered (Minion).
    LocalMessage {
        /// The round.
        round: u32,
        /// What it said.
        content: String,
        /// Tokens of this call.
        usage: Usage,
        /// How long the call took, in seconds.
        #[serde(default)]
        seconds: f64,
    },
    /// A plan was accepted (Minions).
    Plan {
        /// The round.
        round: u32,
        /// The plan.
        plan: Plan,
        /// How many jobs it makes.
        jobs: usize,
    },
    /// A plan was sent back.
    PlanRejected {
        /// The round.
        round: u32,
        /// Why.
        reason: String,
    },
    /// A plan asked for more jobs than a round may run and was narrowed to
    /// the best-matching chunks (Minions).
    PlanNarrowed {
        /// The round.
        round: u32,
        /// What was done.
        reason: String,
    },
    /// A local job started.
    JobStarted {
        /// The round.
        round: u32,
        /// The job's number in the round.
        job: usize,
        /// The task id.
        task: String,
        /// The chunk, as `document#index`.
        chunk: String,
    },
    /// A local job ended.
    JobFinished {
        /// The round.
        round: u32,
        /// The job's number in the round.
        job: usize,
        /// The task id.
        task: String,
        /// The chunk.
        chunk: String,
        /// The answer, `None` when the chunk held nothing relevant or the
        /// job failed.
        answer: Option<String>,
        /// The worker's citation.
        citation: Option<String>,
        /// The worker's explanation.
        explanation: Option<String>,
        /// Why the job failed, if it did.
        error: Option<String>,
        /// Tokens of this job.
        usage: Usage,
        /// How long the job took, re-asks included, in seconds.
        #[serde(default)]
        seconds: f64,
    },
    /// A round ended (Minions): the findings sent to the remote model.
    RoundFinished {
        /// The round.
        round: u32,
        /// The aggregated findings.
        findings: Findings,
    },
    /// Text was redacted before reaching the remote model.
    Redacted {
        /// The round.
        round: u32,
        /// Kind of data and how many occurrences.
        counts: Vec<(String, usize)>,
    },
    /// Usage so far.
    Usage {
        /// Remote tokens so far.
        remote: Usage,
        /// Local tokens so far.
        local: Usage,
        /// Remote dollars so far.
        remote_cost_usd: f64,
    },
    /// A budget cap stopped the run.
    BudgetStop {
        /// Which cap, and the figures.
        reason: String,
    },
    /// The remote model gave no usable final answer; the run answers with
    /// its latest usable answer or the local findings.
    Fallback {
        /// Why.
        reason: String,
    },
    /// The run failed.
    Failed {
        /// The error, in one line.
        error: String,
    },
    /// The final answer.
    Answer {
        /// The answer.
        answer: String,
    },
}

/// Where events go: kept for the transcript, and sent to a listener if
/// there is one. Cheap to clone, so concurrent jobs can report directly.
#[derive(Debug, Clone, Default)]
pub(crate) struct EventLog {
    events: Arc<Mutex<Vec<Event>>>,
    sink: Option<UnboundedSender<Event>>,
}

impl EventLog {
    pub(crate) fn new(sink: Option<UnboundedSender<Event>>) -> Self {
        Self {
            events: Arc::default(),
            sink,
        }
    }

    pub(crate) fn emit(&self, event: Event) {
        if let Some(sink) = &self.sink {
            // A listener that went away is not the run's problem.
            let _ = sink.send(event.clone());
        }
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(event);
    }

    pub(crate) fn events(&self) -> Vec<Event> {
        self.events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}
