//! One local-model call, the same way for both protocols: bounded by
//! `local_timeout_secs`, traced as a `chat` span, and failed calls sorted
//! into the three cases the protocols treat differently (the server is
//! unreachable, the call failed, it took too long). The remote side's
//! counterpart is `Ledger::remote_call`.

use std::time::Duration;

use minions_core::{ChatModel, ChatRequest, ChatResponse, Error};

use crate::ProtocolError;
use crate::telemetry::{self, Side};

/// Why a local call gave no reply.
#[derive(Debug)]
pub(crate) enum LocalFailure {
    /// The server cannot be reached (down, refusing, gone mid-run).
    Unreachable(Error),
    /// It answered with an error.
    Failed(Error),
    /// No reply within the limit.
    TimedOut(Duration),
}

impl LocalFailure {
    /// The run's error for a protocol that cannot do without the call
    /// (Minion).
    pub(crate) fn into_protocol_error(self) -> ProtocolError {
        match self {
            LocalFailure::Unreachable(error) => ProtocolError::LocalUnreachable(error),
            LocalFailure::Failed(error) => ProtocolError::Local(error),
            LocalFailure::TimedOut(limit) => ProtocolError::LocalTimeout {
                seconds: limit.as_secs(),
            },
        }
    }

    /// The reason, in words, for a job that records it and goes on (Minions).
    pub(crate) fn reason(&self) -> String {
        match self {
            LocalFailure::Unreachable(error) | LocalFailure::Failed(error) => error.to_string(),
            LocalFailure::TimedOut(limit) => format!(
                "the local model took longer than {} s (local_timeout_secs)",
                limit.as_secs()
            ),
        }
    }
}

/// Calls the local model once.
pub(crate) async fn call(
    model: &dyn ChatModel,
    request: &ChatRequest,
    limit: Duration,
) -> Result<ChatResponse, LocalFailure> {
    match tokio::time::timeout(limit, telemetry::chat(model, Side::Local, request)).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(error)) if error.is_unreachable() => Err(LocalFailure::Unreachable(error)),
        Ok(Err(error)) => Err(LocalFailure::Failed(error)),
        Err(_) => Err(LocalFailure::TimedOut(limit)),
    }
}
