//! Several endpoints of one local model behind one [`ChatModel`].

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use minions_core::{
    Capabilities, ChatModel, ChatRequest, ChatResponse, ChatStream, Error, ModelId, Probe, Result,
};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// How long an endpoint that refused a connection is skipped.
const DOWN_FOR: Duration = Duration::from_secs(30);

struct Endpoint {
    label: String,
    model: Arc<dyn ChatModel>,
    /// Requests sent or waiting for a slot here.
    in_flight: AtomicUsize,
    slots: Semaphore,
    down_until: Mutex<Option<Instant>>,
}

impl Endpoint {
    fn is_down(&self, now: Instant) -> bool {
        self.down_until
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|until| until > now)
    }

    fn mark_down(&self, now: Instant) {
        *self.down_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(now + DOWN_FOR);
    }
}

/// Decrements an endpoint's in-flight count however the call ends
/// (including cancellation).
struct InFlight<'a>(&'a AtomicUsize);

impl<'a> InFlight<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// One local model served by several endpoints (many Ollama boxes, several
/// vLLM replicas).
///
/// Each request goes to the endpoint with the fewest requests in flight
/// (ties rotate), waits for one of that endpoint's slots (a per-endpoint
/// concurrency cap), and if the endpoint cannot be reached, is sent to the
/// next one; the unreachable endpoint is skipped for 30 s. Other errors are
/// returned as they are: a 400 from one replica would be a 400 from all.
pub struct LocalPool {
    id: ModelId,
    endpoints: Vec<Endpoint>,
    next: AtomicUsize,
}

impl std::fmt::Debug for LocalPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let labels: Vec<&str> = self.endpoints.iter().map(|e| e.label.as_str()).collect();
        f.debug_struct("LocalPool")
            .field("id", &self.id)
            .field("endpoints", &labels)
            .finish()
    }
}

impl LocalPool {
    /// A pool over `(label, model)` pairs, each endpoint taking at most
    /// `per_endpoint_limit` requests at once.
    pub fn new(
        endpoints: Vec<(String, Arc<dyn ChatModel>)>,
        per_endpoint_limit: usize,
    ) -> Result<Self> {
        let Some((_, first)) = endpoints.first() else {
            return Err(Error::config("a local pool needs at least one endpoint"));
        };
        let id = first.id().clone();
        let limit = per_endpoint_limit.max(1);
        Ok(Self {
            id,
            endpoints: endpoints
                .into_iter()
                .map(|(label, model)| Endpoint {
                    label,
                    model,
                    in_flight: AtomicUsize::new(0),
                    slots: Semaphore::new(limit),
                    down_until: Mutex::new(None),
                })
                .collect(),
            next: AtomicUsize::new(0),
        })
    }

    /// The number of endpoints.
    pub fn len(&self) -> usize {
        self.endpoints.len()
    }

    /// Whether the pool is empty (never, once built).
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// Requests in flight per endpoint label, for progress displays.
    pub fn load(&self) -> Vec<(String, usize)> {
        self.endpoints
            .iter()
            .map(|e| (e.label.clone(), e.in_flight.load(Ordering::SeqCst)))
            .collect()
    }

    /// Endpoints in the order to try: reachable ones by fewest in flight
    /// (ties rotate so that an idle pool still spreads), then the ones
    /// marked down, as a last resort.
    fn order(&self) -> Vec<usize> {
        let n = self.endpoints.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let now = Instant::now();
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| {
            let endpoint = &self.endpoints[i];
            (
                endpoint.is_down(now),
                endpoint.in_flight.load(Ordering::SeqCst),
                (i + n - start) % n,
            )
        });
        order
    }

    async fn on_each<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut(Arc<dyn ChatModel>) -> Fut,
        Fut: std::future::Future<Output = Result<T>>,
    {
        let mut last_error = None;
        for index in self.order() {
            let endpoint = &self.endpoints[index];
            let _in_flight = InFlight::enter(&endpoint.in_flight);
            let _slot = endpoint
                .slots
                .acquire()
                .await
                .map_err(|_| Error::config("the local pool was closed"))?;
            match call(endpoint.model.clone()).await {
                Err(error) if error.is_unreachable() => {
                    tracing::info!(endpoint = %endpoint.label, "endpoint unreachable; trying the next one");
                    endpoint.mark_down(Instant::now());
                    last_error = Some(error);
                }
                other => return other,
            }
        }
        Err(last_error.unwrap_or_else(|| Error::config("the local pool has no endpoints")))
    }
}

#[async_trait]
impl ChatModel for LocalPool {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse> {
        self.on_each(|model| async move { model.chat(request).await })
            .await
    }

    /// The stream's slot is held only until the stream starts: a pool caps
    /// connections being set up, and a started stream is the endpoint's.
    async fn chat_stream(&self, request: &ChatRequest) -> Result<ChatStream> {
        self.on_each(|model| async move { model.chat_stream(request).await })
            .await
    }

    /// Probes every endpoint: fine when one is, marking the dead ones down;
    /// the last error when none is. The window is the smallest reported.
    async fn probe(&self) -> Result<Probe> {
        let mut merged: Option<Probe> = None;
        let mut last_error = None;
        for endpoint in &self.endpoints {
            match endpoint.model.probe().await {
                Ok(probe) => {
                    let merged = merged.get_or_insert_with(Probe::default);
                    merged.checked.extend(
                        probe
                            .checked
                            .iter()
                            .map(|c| format!("{}: {c}", endpoint.label)),
                    );
                    merged.model_available = merged.model_available.or(probe.model_available);
                    merged.context_tokens = match (merged.context_tokens, probe.context_tokens) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Err(error) => {
                    if error.is_unreachable() {
                        endpoint.mark_down(Instant::now());
                    }
                    last_error = Some(error);
                }
            }
        }
        match (merged, last_error) {
            (Some(probe), _) => Ok(probe),
            (None, Some(error)) => Err(error),
            (None, None) => Ok(Probe::default()),
        }
    }

    fn capabilities(&self) -> Capabilities {
        self.endpoints
            .first()
            .map(|e| e.model.capabilities())
            .unwrap_or_default()
    }

    fn id(&self) -> &ModelId {
        &self.id
    }
}
