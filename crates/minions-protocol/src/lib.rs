//! The Minion and Minions protocols.
//!
//! A small *local* model reads the documents; a frontier *remote* model
//! plans and concludes without ever reading them, so the remote bill covers
//! a few thousand tokens instead of the whole context.
//!
//! - [`run_minion`]: the remote model chats with one local model that holds
//!   the whole context (cheapest; good for focused questions).
//! - [`run_minions`]: the remote model plans small extraction tasks as JSON,
//!   local jobs run them concurrently over chunks, the findings are
//!   aggregated deterministically, and the remote model synthesizes (more
//!   robust on long documents and multi-part questions).
//!
//! No model-written code is executed; every model output that drives control
//! flow is parsed against a schema, with bounded retries. Both protocols
//! emit [`Event`]s for every step, count usage and cost, honour a
//! [`Budget`], can redact personal data ([`Privacy`]), and return a
//! [`Transcript`] with the [`RunResult`], including what a remote-only call
//! would have cost. `docs/protocol.md` describes both in full.

mod context;
mod error;
mod events;
mod history;
mod ledger;
mod minion;
pub mod minions;
mod options;
mod privacy;
pub mod prompts;
mod result;

pub use context::{ContextDocument, DocumentMetadata};
pub use error::ProtocolError;
pub use events::Event;
pub use history::{History, Turn};
pub use minion::run_minion;
pub use minions::run_minions;
pub use options::{Budget, CommonOptions, MinionOptions, MinionsOptions, Privacy};
pub use result::{
    JobStats, Protocol, RemoteOnlyEstimate, RunResult, StopReason, Timing, Transcript,
};
pub use tokio_util::sync::CancellationToken;

/// Runs `future` unless `cancel` fires first.
async fn cancellable<T>(
    cancel: Option<&CancellationToken>,
    future: impl std::future::Future<Output = Result<T, ProtocolError>>,
) -> Result<T, ProtocolError> {
    match cancel {
        Some(token) => tokio::select! {
            () = token.cancelled() => Err(ProtocolError::Cancelled),
            result = future => result,
        },
        None => future.await,
    }
}
