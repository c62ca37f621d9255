//! The one entry point that runs any protocol.

use std::sync::Arc;

use minions_core::{ChatModel, Embedder, Probe};
use minions_tokens::{Encoding, count_tokens};
use tokio::sync::mpsc::UnboundedSender;

use crate::context::joined_context;
use crate::events::{Event, EventLog};
use crate::ledger::Ledger;
use crate::{
    ContextDocument, DocumentMetadata, ProtocolError, ProtocolKind, RunSpec, Transcript, minion,
    minions,
};

/// The models a run uses.
#[derive(Clone)]
pub struct RunModels {
    /// The remote model: plans and concludes, never sees the documents.
    pub remote: Arc<dyn ChatModel>,
    /// The local model: reads the documents.
    pub local: Arc<dyn ChatModel>,
    /// For embedding retrieval in Minions (`retrieval = embedding`).
    pub embedder: Option<Arc<dyn Embedder>>,
}

impl RunModels {
    /// A remote and a local model, no embedder.
    pub fn new(remote: Arc<dyn ChatModel>, local: Arc<dyn ChatModel>) -> Self {
        Self {
            remote,
            local,
            embedder: None,
        }
    }

    /// Adds an embedder for embedding retrieval.
    pub fn with_embedder(mut self, embedder: Arc<dyn Embedder>) -> Self {
        self.embedder = Some(embedder);
        self
    }
}

impl std::fmt::Debug for RunModels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunModels")
            .field("remote", &self.remote.id().to_string())
            .field("local", &self.local.id().to_string())
            .finish_non_exhaustive()
    }
}

/// What a front end learns when a run ends, however it ended.
#[derive(Debug, Clone, Copy)]
pub struct RunEnded<'a> {
    /// The question.
    pub task: &'a str,
    /// What the run did and spent.
    pub result: &'a crate::RunResult,
    /// Its error, when it failed.
    pub error: Option<&'a str>,
    /// Whether the run's privacy filter was on (keep the question only
    /// as a hash).
    pub private: bool,
}

/// Called once for each run when it ends (the server and `minions mcp`
/// keep their runs' records with it).
pub type RunObserver = Arc<dyn Fn(&RunEnded<'_>) + Send + Sync>;

/// Tells `observer` (if any) how the run of `task` ended.
pub fn tell_observer(
    observer: Option<&RunObserver>,
    task: &str,
    outcome: &Result<Transcript, RunFailure>,
    private: bool,
) {
    let Some(observer) = observer else {
        return;
    };
    let (result, error) = match outcome {
        Ok(transcript) => (&transcript.result, None),
        Err(failure) => (&failure.transcript.result, Some(failure.error.to_string())),
    };
    observer(&RunEnded {
        task,
        result,
        error: error.as_deref(),
        private,
    });
}

/// A run that ended without an answer: the error, and the transcript of
/// what it did and spent up to then (its result's `stop` says failed or
/// cancelled).
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RunFailure {
    /// Why the run ended.
    #[source]
    pub error: ProtocolError,
    /// What it did and spent.
    pub transcript: Box<Transcript>,
}

/// Runs the protocol `spec` names over `documents` to answer `task`.
///
/// Before the first remote call, both models are probed (reachable, key
/// accepted, model served, context window), so a dead local server or a
/// context that cannot fit costs nothing. Every step is sent to `events`.
/// However the run ends, its usage is reported: an answer (possibly a
/// budget stop or a fallback built from the local findings, see
/// [`crate::StopReason`]) in the [`Transcript`], or a [`RunFailure`] holding
/// the transcript of what was spent. Cancelling `spec`'s token ends the run
/// the same way, with [`ProtocolError::Cancelled`].
pub async fn run(
    models: &RunModels,
    task: &str,
    documents: &[ContextDocument],
    spec: &RunSpec,
    events: Option<UnboundedSender<Event>>,
) -> Result<Transcript, RunFailure> {
    use tracing::Instrument;
    let span =
        crate::telemetry::run_span(spec.protocol, models.remote.as_ref(), models.local.as_ref());
    let outcome = run_untraced(models, task, documents, spec, events)
        .instrument(span.clone())
        .await;
    crate::telemetry::record_run(&span, &outcome);
    outcome
}

async fn run_untraced(
    models: &RunModels,
    task: &str,
    documents: &[ContextDocument],
    spec: &RunSpec,
    events: Option<UnboundedSender<Event>>,
) -> Result<Transcript, RunFailure> {
    let log = EventLog::new(events);
    // Counted once, with the remote model's tokenizer: the remote model is
    // told these numbers, and the remote-only estimate is their sum.
    let encoding = Encoding::for_model(&models.remote.id().model);
    let metadata: Vec<DocumentMetadata> = documents
        .iter()
        .map(|d| d.metadata_with_tokens(count_tokens(&d.text, encoding)))
        .collect();
    let context_tokens: usize = metadata.iter().map(|m| m.estimated_tokens).sum();
    let joined = joined_context(documents);
    let input = crate::input::RunInput {
        documents,
        metadata: metadata.clone(),
        joined,
        embedder: models.embedder.as_deref(),
    };
    let mut ledger = Ledger::open(
        (models.remote.as_ref(), models.local.as_ref()),
        spec,
        task,
        context_tokens,
        metadata,
        log,
    );
    ledger.verbatim = crate::verbatim::VerbatimGuard::new(documents, spec.max_verbatim_chars);
    let checked = if task.trim().is_empty() {
        Err(ProtocolError::EmptyTask)
    } else if documents.iter().all(|d| d.text.trim().is_empty()) {
        Err(ProtocolError::EmptyContext)
    } else {
        Ok(())
    };
    let outcome = match checked {
        Err(error) => Err(error),
        Ok(()) => {
            let work = async {
                preflight(&mut ledger).await?;
                if let Some(name) = crate::subject::unmentioned(documents, &input.joined, task) {
                    tracing::info!(%name, "the documents never mention a name the task asks about");
                    return Ok(never_mentioned(&name));
                }
                match spec.protocol {
                    ProtocolKind::Minion => minion::run(&mut ledger, &input).await,
                    ProtocolKind::Minions => minions::run(&mut ledger, &input).await,
                }
            };
            match &spec.cancel {
                Some(token) => tokio::select! {
                    () = token.cancelled() => Err(ProtocolError::Cancelled),
                    outcome = work => outcome,
                },
                None => work.await,
            }
        }
    };
    match outcome {
        Ok(outcome) => Ok(ledger.finish(outcome)),
        Err(error) => {
            let transcript = Box::new(ledger.fail(&error));
            Err(RunFailure { error, transcript })
        }
    }
}

/// Probes both models before anything is paid for, and checks that a
/// Minion local call has room for some of the documents.
async fn preflight(ledger: &mut Ledger<'_>) -> Result<(), ProtocolError> {
    let failed = |side: &'static str| move |error| ProtocolError::Preflight { side, error };
    let local: Probe = ledger.local.probe().await.map_err(failed("local"))?;
    ledger.remote.probe().await.map_err(failed("remote"))?;
    let window = local
        .context_tokens
        .or(ledger.local.capabilities().max_context_tokens);
    ledger.local_context_tokens = window;
    if let (Some(window), ProtocolKind::Minion) = (window, ledger.spec.protocol) {
        let fixed = crate::input::fixed_local_tokens(ledger);
        if fixed + crate::input::MIN_EXCERPT_TOKENS > window as usize {
            return Err(ProtocolError::ContextTooLarge {
                model: ledger.local.id().to_string(),
                needed: fixed + crate::input::MIN_EXCERPT_TOKENS,
                window,
            });
        }
    }
    Ok(())
}

/// The end of a run whose task asks about a name (`name`) that no document
/// mentions: the documents cannot say, and no model is asked. The answer
/// says which name, so that a user who spelled it otherwise can ask again.
fn never_mentioned(name: &str) -> crate::ledger::Outcome {
    crate::ledger::Outcome {
        answer: format!(
            "The documents do not say: they never mention \"{name}\", which the question asks about. \
If they call it otherwise, ask again with their name for it."
        ),
        stop: crate::StopReason::NotFound,
        rounds: 0,
    }
}
