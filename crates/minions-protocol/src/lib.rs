//! The Minion and Minions protocols.
//!
//! A small *local* model reads the documents; a frontier *remote* model
//! plans and concludes without ever reading them, so the remote bill covers
//! a few thousand tokens instead of the whole context.
//!
//! [`run`] runs either protocol ([`ProtocolKind`]) from one validated
//! [`RunSpec`] (built from [`RunOptions`]):
//!
//! - Minion: the remote model chats with one local model that holds
//!   the whole context (cheapest; good for focused questions).
//! - Minions: the remote model plans small extraction tasks as JSON,
//!   local jobs run them concurrently over chunks, the findings are
//!   aggregated deterministically, and the remote model synthesizes (more
//!   robust on long documents and multi-part questions).
//!
//! No model-written code is executed; every model output that drives control
//! flow is parsed against a schema, with bounded retries. Both protocols
//! emit [`Event`]s for every step, count usage and cost, honour budgets and
//! a cap relative to the remote-only cost, can redact personal data, and
//! return a [`Transcript`] with the [`RunResult`], including what a
//! remote-only call would have cost; a run that fails still returns what it
//! spent ([`RunFailure`]). `docs/protocol.md` describes both in full.

mod context;
pub mod descriptions;
mod elsewhere;
mod error;
mod events;
mod evidence;
mod exact_tokens;
mod final_answer;
mod findings;
mod grounding;
mod history;
mod input;
mod kind;
mod ledger;
mod local_call;
mod minion;
pub mod minions;
mod passages;
mod plan;
mod privacy;
pub mod prompts;
pub mod replies;
mod result;
mod run;
mod spec;
mod subject;
pub mod telemetry;
mod verbatim;

pub use context::{ContextDocument, DocumentMetadata};
pub use error::ProtocolError;
pub use events::Event;
pub use history::{History, Turn};
pub use kind::{ProtocolKind, UnknownProtocol};
pub use result::{
    DocumentSize, JobStats, ReadingEstimate, RemoteOnlyEstimate, RunResult, StopReason, Timing,
    Transcript,
};
pub use run::{RunEnded, RunFailure, RunModels, RunObserver, run, tell_observer};
pub use spec::{Bound, Retrieval, RunOptions, RunSpec, SpecError, bounds};
pub use tokio_util::sync::CancellationToken;
