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
    /// A local call took longer than `local_timeout_secs`.
    #[error(
        "the local model took longer than {seconds} s to answer (local_timeout_secs); use a faster model, a smaller --local-max-tokens, or a larger timeout"
    )]
    LocalTimeout {
        /// The limit.
        seconds: u64,
    },
    /// The local endpoint failed job after job; the run stopped instead of
    /// retrying forever.
    #[error(
        "the local model failed {failures} jobs in a row, the last with: {last}; the run stopped"
    )]
    LocalFailing {
        /// Consecutive failures.
        failures: usize,
        /// The last error.
        last: String,
    },
    /// The context cannot fit the local model's window (Minion sends it
    /// whole); found before any remote call.
    #[error(
        "the context needs about {needed} tokens but {model} holds {window} per request: use --protocol minions (it reads the context in chunks), a model or server with a larger context, or a smaller context"
    )]
    ContextTooLarge {
        /// The local model.
        model: String,
        /// Tokens the prompt needs, estimated.
        needed: usize,
        /// Tokens the model holds per request.
        window: u32,
    },
    /// The pre-flight check of a model failed before any paid call.
    #[error("{side} model check failed before any remote call: {error}")]
    Preflight {
        /// `local` or `remote`.
        side: &'static str,
        /// What went wrong.
        #[source]
        error: minions_core::Error,
    },
    /// The run was cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl ProtocolError {
    /// A short, stable name for the kind of error (`empty_task`,
    /// `timeout`, `http`, ...): a provider error's own kind, or the run's.
    /// Traces (`error.type`) and the server's metrics read this one
    /// classification.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::EmptyContext => "empty_context",
            Self::EmptyTask => "empty_task",
            Self::Remote(e) | Self::Local(e) | Self::LocalUnreachable(e) => e.kind().as_str(),
            Self::Preflight { error, .. } => error.kind().as_str(),
            Self::RemoteOutput { .. } => "remote_output",
            Self::InvalidPlan { .. } => "invalid_plan",
            Self::LocalTimeout { .. } => "timeout",
            Self::LocalFailing { .. } => "local_failing",
            Self::ContextTooLarge { .. } => "context_too_large",
            Self::Cancelled => "cancelled",
        }
    }

    /// The side (`local` or `remote`) whose provider failed, for errors a
    /// model call caused; `None` for the run's own (a bad plan, an empty
    /// task, a cancel).
    pub fn provider_side(&self) -> Option<&'static str> {
        match self {
            Self::Remote(_) => Some("remote"),
            Self::Local(_) | Self::LocalUnreachable(_) | Self::LocalTimeout { .. } => Some("local"),
            Self::Preflight { side, .. } => Some(side),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ProtocolError;

    #[test]
    fn errors_are_classified_once_by_kind_and_side() {
        let timeout = ProtocolError::LocalTimeout { seconds: 30 };
        assert_eq!(
            (timeout.kind(), timeout.provider_side()),
            ("timeout", Some("local"))
        );
        let remote = ProtocolError::Remote(minions_core::Error::config("no key"));
        assert_eq!(remote.provider_side(), Some("remote"));
        assert_eq!(
            remote.kind(),
            minions_core::Error::config("x").kind().as_str()
        );
        let preflight = ProtocolError::Preflight {
            side: "local",
            error: minions_core::Error::config("down"),
        };
        assert_eq!(preflight.provider_side(), Some("local"));
        assert_eq!(
            (
                ProtocolError::Cancelled.kind(),
                ProtocolError::Cancelled.provider_side()
            ),
            ("cancelled", None)
        );
        assert_eq!(ProtocolError::EmptyTask.provider_side(), None);
    }
}
