//! One run: its status, its events as they arrive, and how it ended.

use std::sync::Mutex;

use minions::protocol::{ProtocolError, RunFailure, StopReason};
use minions::{RunResult, Transcript};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunStatus {
    /// Going.
    Running,
    /// Answered (or stopped by a budget with what it had).
    Done,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

/// One run and everything it has emitted so far.
pub struct RunEntry {
    /// The id.
    pub id: String,
    /// When it started (Unix seconds).
    pub created: u64,
    pub(crate) state: Mutex<RunState>,
    pub(crate) changed: Notify,
    pub(crate) cancel: CancellationToken,
}

pub(crate) struct RunState {
    pub(crate) status: RunStatus,
    pub(crate) events: Vec<Value>,
    pub(crate) result: Option<RunResult>,
    pub(crate) error: Option<(u16, String)>,
}

impl RunEntry {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, RunState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Status, result and error.
    pub fn snapshot(&self) -> (RunStatus, Option<RunResult>, Option<(u16, String)>) {
        let state = self.lock();
        (state.status, state.result.clone(), state.error.clone())
    }

    /// Events from `from` on, and whether the run has ended.
    pub fn events_since(&self, from: usize) -> (Vec<Value>, bool) {
        let state = self.lock();
        (
            state
                .events
                .get(from..)
                .map(<[Value]>::to_vec)
                .unwrap_or_default(),
            state.status != RunStatus::Running,
        )
    }

    /// Waits for events after the first `seen` ones, or for the end of the
    /// run; returns them and whether the run has ended.
    pub async fn next_events(&self, seen: usize) -> (Vec<Value>, bool) {
        loop {
            // Registered before looking, so no change is missed.
            let changed = self.changed.notified();
            let (events, ended) = self.events_since(seen);
            if !events.is_empty() || ended {
                return (events, ended);
            }
            changed.await;
        }
    }

    /// Waits for the end of the run.
    pub async fn finished(&self) {
        loop {
            let notified = self.changed.notified();
            if self.lock().status != RunStatus::Running {
                return;
            }
            notified.await;
        }
    }

    /// Cancels the run.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// A guard that cancels the run when dropped (a client that went away).
    pub fn cancel_on_drop(&self) -> tokio_util::sync::DropGuard {
        self.cancel.clone().drop_guard()
    }
}

impl RunEntry {
    /// Stores how a run ended. A failed or cancelled run keeps its result
    /// too, so what it spent is reported.
    pub(crate) fn record(&self, outcome: Result<Transcript, RunFailure>) {
        let mut state = self.lock();
        match outcome {
            Ok(transcript) => {
                state.status = RunStatus::Done;
                state.result = Some(transcript.result);
            }
            Err(RunFailure { error, transcript }) => {
                let status = match (&error, &transcript.result.stop) {
                    (_, StopReason::Cancelled) => 499,
                    (
                        ProtocolError::EmptyContext
                        | ProtocolError::EmptyTask
                        | ProtocolError::ContextTooLarge { .. },
                        _,
                    ) => 400,
                    _ => 502,
                };
                state.status = if status == 499 {
                    RunStatus::Cancelled
                } else {
                    RunStatus::Failed
                };
                let message = if status == 499 {
                    "the run was cancelled".to_string()
                } else {
                    error.to_string()
                };
                state.error = Some((status, message));
                state.result = Some(transcript.result);
            }
        }
    }
}
