//! Why a run failed.

/// What can end a run without an answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// There was nothing to read.
    #[error("the context is empty: give at least one document with text")]
    EmptyContext,
    /// The task was empty.
    #[error("the task is empty: say what you want to know")]
    EmptyTask,
    /// A remote call failed (after the HTTP layer's retries).
    #[error("remote model failed: {0}")]
    Remote(#[source] minions_core::Error),
    /// The local server cannot be reached; the run stopped before spending
    /// more on the remote model.
    #[error("local model unreachable, run stopped: {0}")]
    LocalUnreachable(#[source] minions_core::Error),
    /// A local call failed where the protocol cannot do without it (Minion).
    #[error("local model failed: {0}")]
    Local(#[source] minions_core::Error),
    /// The remote model never produced the JSON asked for.
    #[error("the remote model's {step} was not usable after {attempts} attempts: {reason}")]
    RemoteOutput {
        /// Which step (`plan`, `decision`, `synthesis`, `first question`).
        step: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last reason, with an excerpt of what it said.
        reason: String,
    },
    /// Every plan was invalid.
    #[error("the remote model's plan was still invalid after {attempts} attempts: {reason}")]
    InvalidPlan {
        /// Attempts made.
        attempts: u32,
        /// The last reason.
        reason: String,
    },
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
}
