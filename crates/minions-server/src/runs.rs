//! Runs: started in the background, observable while they go.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use minions::protocol::{Event, ProtocolError};
use minions::{ContextDocument, Engine, ModelSettings, ModelSpec};
use serde_json::Value;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::ApiError;
use crate::metrics::Metrics;
use crate::request_options::RequestOptions;
use crate::run_entry::{RunEntry, RunState, RunStatus};

/// Finished runs kept for `GET /v1/runs/{id}`; older ones are forgotten.
const KEEP_FINISHED: usize = 100;

/// What the server runs with.
#[derive(Clone)]
pub struct ServerModels {
    /// The models (an embedder for `retrieval = "embedding"`, set with
    /// `--embedding-model`; without one that retrieval is refused, never
    /// quietly swapped), prices, the server's own run options (a request's
    /// are laid over them), and the observer told of every run when it
    /// ends (`minions serve` keeps the run history with it).
    pub engine: Engine,
    /// The run history file the observer writes to, read back for
    /// `GET /v1/history` and the page's past runs (`None`: history off).
    pub history: Option<std::path::PathBuf>,
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
    metrics: Arc<Metrics>,
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
            metrics: Arc::new(Metrics::new()),
        }
    }

    /// The server's metrics.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A run slot: at once if one is free, else after waiting in the queue
    /// (bounded in depth and time); 429 with Retry-After otherwise.
    async fn slot(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        use std::sync::atomic::Ordering;
        if let Ok(permit) = self.slots.clone().try_acquire_owned() {
            self.metrics.queue_wait.observe(0.0);
            return Ok(permit);
        }
        let busy = || ApiError::busy(self.limits.concurrent);
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.queue_depth {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        self.metrics.queue_depth.inc();
        let began = std::time::Instant::now();
        let waited =
            tokio::time::timeout(self.limits.queue_wait, self.slots.clone().acquire_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        self.metrics.queue_depth.dec();
        self.metrics
            .queue_wait
            .observe(began.elapsed().as_secs_f64());
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
            .engine
            .spec(options.run)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        if task.trim().is_empty() {
            return Err(ApiError::bad_request(ProtocolError::EmptyTask.to_string()));
        }
        if documents.iter().all(|d| d.text.trim().is_empty()) {
            return Err(ApiError::bad_request(
                "no document text: send at least one document",
            ));
        }
        let engine = match &options.remote {
            Some(name) => {
                let spec: ModelSpec = name
                    .parse()
                    .map_err(|e| ApiError::bad_request(format!("remote: {e}")))?;
                let remote = minions::chat_model(&spec, &ModelSettings::default())
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
                models.engine.with_remote(remote)
            }
            None => models.engine.clone(),
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
        let spec = spec.with_cancel(run.cancel.clone());
        tokio::spawn(async move {
            let _permit = permit;
            runs.metrics.running.inc();
            let outcome = engine.run(&task, &documents, &spec, Some(sender)).await;
            runs.metrics.running.dec();
            runs.metrics.run_ended(&outcome);
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
