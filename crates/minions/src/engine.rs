//! The layer every front end runs through: the CLI, `minions serve`,
//! `minions mcp`, the bench and the Python package each build one
//! [`Engine`] from their settings and hand it their requests, so that
//! laying a request's options over the defaults, pricing, the embedder
//! check and telling the run history happen in one place.

use std::sync::Arc;

use minions_core::{ChatModel, Pricing};
use minions_protocol::{
    ContextDocument, Event, Retrieval, RunFailure, RunModels, RunObserver, RunOptions, RunSpec,
    SpecError, Transcript, tell_observer,
};
use tokio::sync::mpsc::UnboundedSender;

/// Why a request's options cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// An option outside its bounds.
    #[error(transparent)]
    Option(#[from] SpecError),
    /// Embedding retrieval asked for with no embedder to run it: refused,
    /// never quietly swapped for BM25.
    #[error(
        "retrieval \"embedding\" needs an embedding model: set --embedding-model or the `embedding_model` setting (for example ollama/nomic-embed-text)"
    )]
    NoEmbedder,
}

/// The models, prices and default run options a front end runs with, and
/// who is told when a run ends. Cheap to clone: the models are shared.
#[derive(Clone)]
pub struct Engine {
    models: RunModels,
    pricing: Pricing,
    options: RunOptions,
    observer: Option<RunObserver>,
}

impl Engine {
    /// An engine over `models`, pricing costs with `pricing`, whose runs
    /// start from `options`.
    pub fn new(models: RunModels, pricing: Pricing, options: RunOptions) -> Self {
        Self {
            models,
            pricing,
            options,
            observer: None,
        }
    }

    /// Tells `observer` of every run when it ends (the run history).
    pub fn with_observer(mut self, observer: RunObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The same engine with another remote model (a request that names
    /// its own).
    pub fn with_remote(&self, remote: Arc<dyn ChatModel>) -> Self {
        let mut engine = self.clone();
        engine.models.remote = remote;
        engine
    }

    /// The models.
    pub fn models(&self) -> &RunModels {
        &self.models
    }

    /// The prices.
    pub fn pricing(&self) -> &Pricing {
        &self.pricing
    }

    /// The options every run starts from.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The checked, priced spec of a run: `over` laid over the engine's
    /// options. Refuses what no run could do, before anything is spent.
    pub fn spec(&self, over: RunOptions) -> Result<RunSpec, RequestError> {
        let spec = self
            .options
            .clone()
            .overlay(over)
            .build()?
            .with_pricing(self.pricing.clone());
        if spec.retrieval() == Retrieval::Embedding && self.models.embedder.is_none() {
            return Err(RequestError::NoEmbedder);
        }
        Ok(spec)
    }

    /// Runs `task` over `documents` as `spec` says (see
    /// [`minions_protocol::run`]), then tells the observer how it ended.
    pub async fn run(
        &self,
        task: &str,
        documents: &[ContextDocument],
        spec: &RunSpec,
        events: Option<UnboundedSender<Event>>,
    ) -> Result<Transcript, RunFailure> {
        let outcome = minions_protocol::run(&self.models, task, documents, spec, events).await;
        tell_observer(self.observer.as_ref(), task, &outcome, spec.privacy());
        outcome
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("models", &self.models)
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use minions_protocol::ProtocolKind;

    use super::*;
    use crate::UnusableModel;

    fn engine(options: RunOptions) -> Engine {
        // Models that fail every call: these tests never reach a model
        // they could not refuse first.
        let model = |name: &str| -> Arc<dyn ChatModel> {
            let spec = name.parse().unwrap_or_else(|e| panic!("{e}"));
            Arc::new(UnusableModel::new(spec, "not in this test"))
        };
        Engine::new(
            RunModels::new(model("openai/gpt-4o"), model("ollama/llama3.2")),
            Pricing::builtin(),
            options,
        )
    }

    #[test]
    fn a_request_is_laid_over_the_defaults_and_checked() {
        let engine = engine(RunOptions::default().max_rounds(5));
        let spec = engine
            .spec(RunOptions::default().protocol(ProtocolKind::Minion))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.protocol(), ProtocolKind::Minion);
        assert_eq!(spec.max_rounds(), 5);
        let refused = engine.spec(RunOptions::default().max_rounds(99));
        assert!(
            matches!(&refused, Err(RequestError::Option(e)) if e.option == "max_rounds"),
            "{refused:?}"
        );
    }

    #[test]
    fn embedding_retrieval_without_an_embedder_is_refused() {
        let options = RunOptions {
            retrieval: Some(Retrieval::Embedding),
            ..RunOptions::default()
        };
        let refused = engine(options.clone()).spec(RunOptions::default());
        assert_eq!(refused.err(), Some(RequestError::NoEmbedder));
        // Set by the request over engine defaults too.
        let refused = engine(RunOptions::default()).spec(options);
        assert!(
            refused
                .err()
                .is_some_and(|e| e.to_string().contains("--embedding-model"))
        );
    }

    #[tokio::test]
    async fn the_observer_hears_of_a_failed_run_with_its_bill() {
        let heard = Arc::new(Mutex::new(Vec::new()));
        let log = heard.clone();
        let engine = engine(RunOptions::default()).with_observer(Arc::new(move |ended| {
            let mut log = log.lock().unwrap_or_else(|p| p.into_inner());
            log.push((ended.task.to_string(), ended.error.map(str::to_string)));
        }));
        let spec = engine
            .spec(RunOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let documents = [ContextDocument::new("doc", "The notice period is 30 days.")];
        let outcome = engine.run("How long?", &documents, &spec, None).await;
        assert!(outcome.is_err(), "unusable models cannot answer");
        let heard = heard.lock().unwrap_or_else(|p| p.into_inner());
        assert_eq!(heard.len(), 1);
        assert_eq!(heard[0].0, "How long?");
        assert!(
            heard[0]
                .1
                .as_deref()
                .is_some_and(|e| e.contains("not in this test"))
        );
    }

    #[test]
    fn another_remote_keeps_the_rest() {
        let engine = engine(RunOptions::default().max_rounds(2));
        let spec: crate::ModelSpec = "anthropic/claude-sonnet-4-5"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        let other = engine.with_remote(Arc::new(UnusableModel::new(spec, "x")));
        assert_eq!(
            other.models().remote.id().to_string(),
            "anthropic/claude-sonnet-4-5"
        );
        assert_eq!(other.models().local.id(), engine.models().local.id());
        assert_eq!(other.options(), engine.options());
    }
}
