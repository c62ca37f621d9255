//! Runs: started in the background, observable while they go.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use minions::protocol::Event;
use minions::protocol::{ProtocolError, RunFailure, StopReason};
use minions::{
    ChatModel, ContextDocument, ModelSettings, ModelSpec, Pricing, RunModels, RunOptions,
    RunResult, Transcript,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::ApiError;

/// Finished runs kept for `GET /v1/runs/{id}`; older ones are forgotten.
const KEEP_FINISHED: usize = 100;

/// The models and prices the server runs with.
#[derive(Clone)]
pub struct ServerModels {
    /// The local model.
    pub local: Arc<dyn ChatModel>,
    /// The remote model (a request may name another).
    pub remote: Arc<dyn ChatModel>,
    /// Prices for cost figures.
    pub pricing: Pricing,
    /// The server's own run options (from `minions serve`'s settings); a
    /// request's options are laid over them.
    pub options: RunOptions,
}

/// A document in a request: text, or a file's bytes in base64 (PDF, HTML,
/// any text encoding), read as the CLI reads files.
#[derive(Debug, Clone, Deserialize)]
pub struct DocumentInput {
    /// A name for it.
    #[serde(default)]
    pub name: Option<String>,
    /// Its text.
    #[serde(default)]
    pub text: Option<String>,
    /// Or its bytes, base64-encoded (an upload).
    #[serde(default)]
    pub content_base64: Option<String>,
}

/// What a request may set: the run options every front end shares (the
/// same names, bounds and error words as the CLI's flags and
/// `minions.toml`), plus another remote model. Unknown keys are refused.
#[derive(Debug, Clone, Default)]
pub struct RequestOptions {
    /// A different remote model, as `provider/model` (its key comes from the
    /// server's environment).
    pub remote: Option<String>,
    /// The run options.
    pub run: RunOptions,
}

impl<'de> Deserialize<'de> for RequestOptions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut map = serde_json::Map::<String, Value>::deserialize(deserializer)?;
        let remote = match map.remove("remote") {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name),
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "remote must be a string, not {other}"
                )));
            }
        };
        let known = RunOptions::keys();
        if let Some(key) = map.keys().find(|k| !known.contains(k)) {
            return Err(D::Error::custom(format!(
                "unknown option `{key}`; known options: remote, {}",
                known.join(", ")
            )));
        }
        let run = serde_json::from_value(Value::Object(map)).map_err(D::Error::custom)?;
        Ok(Self { remote, run })
    }
}

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
    state: Mutex<RunState>,
    changed: Notify,
    cancel: CancellationToken,
}

struct RunState {
    status: RunStatus,
    events: Vec<Value>,
    result: Option<RunResult>,
    error: Option<(u16, String)>,
}

impl RunEntry {
    fn lock(&self) -> std::sync::MutexGuard<'_, RunState> {
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

/// How many runs go at once, and how many requests may wait for one.
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    /// Runs at once.
    pub concurrent: usize,
    /// Requests waiting for a free run; more get 429 at once.
    pub queue_depth: usize,
    /// How long a request waits in the queue before 429.
    pub queue_wait: std::time::Duration,
}

impl Default for RunLimits {
    fn default() -> Self {
        Self {
            concurrent: 4,
            queue_depth: 64,
            queue_wait: std::time::Duration::from_secs(30),
        }
    }
}

/// Every run of the server.
pub struct Runs {
    runs: Mutex<HashMap<String, Arc<RunEntry>>>,
    finished: Mutex<VecDeque<String>>,
    slots: Arc<Semaphore>,
    limits: RunLimits,
    waiting: std::sync::atomic::AtomicUsize,
    counter: std::sync::atomic::AtomicU64,
}

impl Runs {
    /// Runs within `limits`.
    pub fn new(limits: RunLimits) -> Self {
        let concurrent = limits.concurrent.max(1);
        Self {
            runs: Mutex::default(),
            finished: Mutex::default(),
            slots: Arc::new(Semaphore::new(concurrent)),
            limits: RunLimits {
                concurrent,
                ..limits
            },
            waiting: std::sync::atomic::AtomicUsize::new(0),
            counter: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A run slot: at once if one is free, else after waiting in the queue
    /// (bounded in depth and time); 429 with Retry-After otherwise.
    async fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        use std::sync::atomic::Ordering;
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let busy = || {
            ApiError::busy(
                self.limits.concurrent,
                crate::error::RETRY_AFTER_SECS.parse().unwrap_or(5),
            )
        };
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.queue_depth {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let waited =
            tokio::time::timeout(self.limits.queue_wait, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        match waited {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// A run by id.
    pub fn get(&self, id: &str) -> Option<Arc<RunEntry>> {
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    /// Cancels every run (for shutdown).
    pub fn cancel_all(&self) {
        for run in self.runs.lock().unwrap_or_else(|p| p.into_inner()).values() {
            run.cancel();
        }
    }

    /// Runs still going.
    pub fn running(&self) -> usize {
        self.limits.concurrent - self.slots.available_permits()
    }

    fn forget_old(&self, id: String) {
        let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
        finished.push_back(id);
        while finished.len() > KEEP_FINISHED {
            if let Some(old) = finished.pop_front() {
                self.runs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&old);
            }
        }
    }

    /// Starts a run in the background once a slot is free (waiting in the
    /// queue if need be), or refuses: 400 for options the CLI would refuse
    /// too (same words), 429 with Retry-After when the queue is full.
    pub async fn start(
        self: &Arc<Self>,
        models: &ServerModels,
        task: String,
        documents: Vec<ContextDocument>,
        options: RequestOptions,
    ) -> Result<Arc<RunEntry>, ApiError> {
        let spec = models
            .options
            .clone()
            .overlay(options.run)
            .build()
            .map_err(|e| ApiError::bad_request(e.to_string()))?
            .with_pricing(models.pricing.clone());
        if task.trim().is_empty() {
            return Err(ApiError::bad_request(ProtocolError::EmptyTask.to_string()));
        }
        if documents.iter().all(|d| d.text.trim().is_empty()) {
            return Err(ApiError::bad_request(
                "no document text: send at least one document",
            ));
        }
        let remote = match &options.remote {
            Some(name) => {
                let spec: ModelSpec = name
                    .parse()
                    .map_err(|e| ApiError::bad_request(format!("remote: {e}")))?;
                minions::chat_model(&spec, &ModelSettings::default())
                    .map_err(|e| ApiError::bad_request(e.to_string()))?
            }
            None => models.remote.clone(),
        };
        let permit = self.slot().await?;
        let number = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let created = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let entry = Arc::new(RunEntry {
            id: format!("run_{created:x}{number:04x}"),
            created,
            state: Mutex::new(RunState {
                status: RunStatus::Running,
                events: Vec::new(),
                result: None,
                error: None,
            }),
            changed: Notify::new(),
            cancel: CancellationToken::new(),
        });
        self.runs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(entry.id.clone(), entry.clone());

        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<Event>();
        let collector = entry.clone();
        let collecting = tokio::spawn(async move {
            while let Some(event) = receiver.recv().await {
                let value = serde_json::to_value(&event).unwrap_or(Value::Null);
                collector.lock().events.push(value);
                collector.changed.notify_waiters();
            }
        });
        let run = entry.clone();
        let runs = self.clone();
        let models = RunModels::new(remote, models.local.clone());
        let spec = spec.with_cancel(run.cancel.clone());
        tokio::spawn(async move {
            let _permit = permit;
            let outcome = minions::run(&models, &task, &documents, &spec, Some(sender)).await;
            // The run's sender is gone, so the collector ends once it has
            // stored every event: only then is the end announced, so that no
            // subscriber sees the end before the last events.
            let _ = collecting.await;
            run.record(outcome);
            run.changed.notify_waiters();
            runs.forget_old(run.id.clone());
        });
        Ok(entry)
    }
}

impl RunEntry {
    /// Stores how a run ended. A failed or cancelled run keeps its result
    /// too, so what it spent is reported.
    fn record(&self, outcome: Result<Transcript, RunFailure>) {
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

/// Turns request documents into context documents (uploads are decoded and
/// read like files: PDF pages, HTML text, any common encoding).
pub(crate) fn read_documents(inputs: Vec<DocumentInput>) -> Result<Vec<ContextDocument>, ApiError> {
    let mut documents = Vec::new();
    for (index, input) in inputs.into_iter().enumerate() {
        let name = input
            .name
            .unwrap_or_else(|| format!("document-{}", index + 1));
        match (input.text, input.content_base64) {
            (Some(text), _) => documents.push(ContextDocument::new(name, text)),
            (None, Some(encoded)) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(encoded.trim())
                    .map_err(|e| {
                        ApiError::bad_request(format!(
                            "document `{name}`: content_base64 is not valid base64 ({e})"
                        ))
                    })?;
                let kind = name
                    .rsplit_once('.')
                    .and_then(|(_, ext)| minions_ingest::DocumentKind::from_extension(ext));
                let document = minions_ingest::from_bytes(&name, &bytes, kind)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                documents.push(ContextDocument {
                    name,
                    text: document.text.into(),
                    pages: document.pages,
                });
            }
            (None, None) => {
                return Err(ApiError::bad_request(format!(
                    "document `{name}` has neither text nor content_base64"
                )));
            }
        }
    }
    Ok(documents)
}
