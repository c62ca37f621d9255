//! Runs: started in the background, observable while they go.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use minions::protocol::Event;
use minions::{
    ChatModel, ContextDocument, MinionOptions, MinionsOptions, ModelSettings, ModelSpec, Pricing,
    RunResult,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};
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

/// Protocol options a request may set; everything else keeps its default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOptions {
    /// `minion` or `minions` (the model name decides for chat completions).
    pub protocol: Option<String>,
    /// A different remote model, as `provider/model` (its key comes from the
    /// server's environment).
    pub remote: Option<String>,
    /// Rounds at most.
    pub max_rounds: Option<u32>,
    /// Minions: jobs in flight.
    pub local_concurrency: Option<usize>,
    /// Minions: jobs per round.
    pub max_jobs_per_round: Option<usize>,
    /// Minions: suggested chunk size in characters.
    pub chunk_size: Option<usize>,
    /// Remote dollar cap.
    pub budget_usd: Option<f64>,
    /// Remote token cap.
    pub budget_tokens: Option<u64>,
    /// Redact personal data before the remote sees it.
    pub privacy: Option<bool>,
    /// Terms to redact.
    pub redact: Option<Vec<String>>,
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

/// Every run of the server.
pub struct Runs {
    runs: Mutex<HashMap<String, Arc<RunEntry>>>,
    finished: Mutex<VecDeque<String>>,
    slots: Arc<Semaphore>,
    limit: usize,
    counter: std::sync::atomic::AtomicU64,
}

impl Runs {
    /// At most `limit` runs at once.
    pub fn new(limit: usize) -> Self {
        Self {
            runs: Mutex::default(),
            finished: Mutex::default(),
            slots: Arc::new(Semaphore::new(limit.max(1))),
            limit: limit.max(1),
            counter: std::sync::atomic::AtomicU64::new(0),
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
        self.limit - self.slots.available_permits()
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

    /// Starts a run in the background, or refuses with 429 when the server
    /// is at its limit.
    pub fn start(
        self: &Arc<Self>,
        models: &ServerModels,
        task: String,
        documents: Vec<ContextDocument>,
        options: RunOptions,
    ) -> Result<Arc<RunEntry>, ApiError> {
        let protocol = options.protocol.clone().unwrap_or_else(|| "minions".into());
        if protocol != "minion" && protocol != "minions" {
            return Err(ApiError::bad_request(format!(
                "unknown protocol `{protocol}`: use minion or minions"
            )));
        }
        if task.trim().is_empty() {
            return Err(ApiError::bad_request(
                "the task is empty: say what you want to know",
            ));
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
        let permit = self
            .slots
            .clone()
            .try_acquire_owned()
            .map_err(|_| ApiError::busy(self.limit))?;
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
        let local = models.local.clone();
        let pricing = models.pricing.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let outcome = execute(
                &*remote,
                &*local,
                &task,
                &documents,
                &protocol,
                &options,
                pricing,
                run.cancel.clone(),
                sender,
            )
            .await;
            // The run's sender is gone, so the collector ends once it has
            // stored every event: only then is the end announced, so that no
            // subscriber sees the end before the last events.
            let _ = collecting.await;
            {
                let mut state = run.lock();
                match outcome {
                    Ok(result) => {
                        state.status = RunStatus::Done;
                        state.result = Some(result);
                    }
                    Err(minions::protocol::ProtocolError::Cancelled) => {
                        state.status = RunStatus::Cancelled;
                        state.error = Some((499, "the run was cancelled".into()));
                    }
                    Err(error) => {
                        state.status = RunStatus::Failed;
                        let status = match error {
                            minions::protocol::ProtocolError::EmptyContext
                            | minions::protocol::ProtocolError::EmptyTask => 400,
                            _ => 502,
                        };
                        state.error = Some((status, error.to_string()));
                    }
                }
            }
            run.changed.notify_waiters();
            runs.forget_old(run.id.clone());
        });
        Ok(entry)
    }
}

#[allow(clippy::too_many_arguments)]
async fn execute(
    remote: &dyn ChatModel,
    local: &dyn ChatModel,
    task: &str,
    documents: &[ContextDocument],
    protocol: &str,
    options: &RunOptions,
    pricing: Pricing,
    cancel: CancellationToken,
    events: tokio::sync::mpsc::UnboundedSender<Event>,
) -> Result<RunResult, minions::protocol::ProtocolError> {
    let mut minions_options = MinionsOptions::default();
    let common = &mut minions_options.common;
    common.pricing = pricing;
    common.cancel = Some(cancel);
    if let Some(rounds) = options.max_rounds {
        common.max_rounds = rounds.clamp(1, 20);
    }
    common.budget.max_remote_usd = options.budget_usd;
    common.budget.max_remote_tokens = options.budget_tokens;
    common.privacy.enabled = options.privacy.unwrap_or(false);
    common.privacy.terms = options.redact.clone().unwrap_or_default();
    if let Some(n) = options.local_concurrency {
        minions_options.local_concurrency = n.clamp(1, 64);
    }
    if let Some(n) = options.max_jobs_per_round {
        minions_options.max_jobs_per_round = n.max(1);
    }
    if let Some(size) = options.chunk_size {
        minions_options.default_chunking.1 = size.clamp(
            minions_options.min_chunk_chars,
            minions_options.max_chunk_chars,
        );
    }
    let transcript = if protocol == "minion" {
        let options = MinionOptions {
            common: minions_options.common.clone(),
        };
        minions::run_minion(remote, local, task, documents, &options, Some(events)).await?
    } else {
        minions::run_minions(
            remote,
            local,
            task,
            documents,
            &minions_options,
            Some(events),
        )
        .await?
    };
    Ok(transcript.result)
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
                    text: document.text,
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
