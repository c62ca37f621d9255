//! What a round of local jobs found, as the remote model and the events
//! see it. Shared by the Minions protocol (which builds it) and the events
//! (which carry it), so neither imports the other.

use serde::{Deserialize, Serialize};

/// Identical answers merged, with where they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergedAnswer {
    /// The answer (as the first job wrote it).
    pub answer: String,
    /// The chunks that gave it, as `document#index`.
    pub chunks: Vec<String>,
    /// Distinct citations, at most three.
    pub citations: Vec<String>,
    /// The headings of the sections its chunks start in (at most two), so
    /// that the remote model can tell which release, chapter or entry a
    /// figure belongs to.
    #[serde(default)]
    pub sections: Vec<String>,
    /// The first job's explanation.
    pub explanation: String,
    /// Whether some job's citation for it was found in its chunk; an
    /// unverified answer is shown as such and does not count as answered.
    #[serde(default)]
    pub verified: bool,
}

/// What one task found this round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskFindings {
    /// The task id.
    pub id: String,
    /// Its instruction.
    pub instruction: String,
    /// Jobs run.
    pub jobs: usize,
    /// Jobs whose chunk held nothing.
    pub empty: usize,
    /// Jobs that failed.
    pub failed: usize,
    /// Distinct failure reasons, at most three.
    pub failures: Vec<String>,
    /// Answers, likeliest first: verified ones, then those from the chunks
    /// that best match the task or the question.
    pub answers: Vec<MergedAnswer>,
    /// Answers left out of `answers` because only the first few are shown.
    #[serde(default)]
    pub not_shown: usize,
}

impl TaskFindings {
    /// Chunks whose answer was verified (or, with `false`, was not).
    pub fn chunks_answered(&self, verified: bool) -> usize {
        self.answers
            .iter()
            .filter(|a| a.verified == verified)
            .map(|a| a.chunks.len())
            .sum()
    }
}

/// A round's findings.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Findings {
    /// Per task, in plan order.
    pub tasks: Vec<TaskFindings>,
    /// Answers left out to fit the token budget.
    pub omitted: usize,
}
