//! Prometheus metrics at `GET /metrics`: runs by protocol and outcome,
//! tokens and cost per side, what remote-only would have cost and what was
//! saved, the queue, run and model-wait times, and the provider errors that
//! ended runs. Names follow Prometheus' conventions (`minions_` prefix,
//! base units, `_total` for counters, added by the encoder).

use std::sync::atomic::AtomicU64;

use minions::protocol::ProtocolError;
use minions::protocol::{Event, RunFailure, RunResult, Transcript};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

type Labels = Vec<(String, String)>;
type Dollars = Counter<f64, AtomicU64>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Buckets from 0.1 s to about 1.7 hours: a cloud call takes a second, a
/// local model over a long document can take an hour.
fn seconds_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.1, 3.0, 11))
}

/// The server's metrics.
pub(crate) struct Metrics {
    registry: Registry,
    runs: Family<Labels, Counter>,
    tokens: Family<Labels, Counter>,
    remote_cost: Family<Labels, Dollars>,
    remote_only_cost: Dollars,
    saved: Dollars,
    run_seconds: Family<Labels, Histogram>,
    wait_seconds: Family<Labels, Histogram>,
    call_seconds: Family<Labels, Histogram>,
    calls: Family<Labels, Counter>,
    provider_errors: Family<Labels, Counter>,
    pub(crate) queue_depth: Gauge,
    pub(crate) running: Gauge,
    pub(crate) queue_wait: Histogram,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("minions");
        let runs = Family::<Labels, Counter>::default();
        registry.register(
            "runs",
            "Runs that ended, by protocol and outcome (answered, not_found, fallback, budget, failed, cancelled)",
            runs.clone(),
        );
        let tokens = Family::<Labels, Counter>::default();
        registry.register(
            "tokens",
            "Tokens by side (remote, local), model and kind (prompt, cached_prompt, completion)",
            tokens.clone(),
        );
        let remote_cost = Family::<Labels, Dollars>::default();
        registry.register_with_unit(
            "remote_cost",
            "What the remote model cost, by model",
            Unit::Other("usd".into()),
            remote_cost.clone(),
        );
        let remote_only_cost = Dollars::default();
        registry.register_with_unit(
            "remote_only_cost",
            "What reading everything remotely would have cost, over the runs that answered",
            Unit::Other("usd".into()),
            remote_only_cost.clone(),
        );
        let saved = Dollars::default();
        registry.register_with_unit(
            "saved",
            "Remote-only cost minus what was spent, over the runs that answered",
            Unit::Other("usd".into()),
            saved.clone(),
        );
        let run_seconds = Family::<Labels, Histogram>::new_with_constructor(seconds_histogram);
        registry.register_with_unit(
            "run_duration",
            "How long runs took, by protocol",
            Unit::Seconds,
            run_seconds.clone(),
        );
        let wait_seconds = Family::<Labels, Histogram>::new_with_constructor(seconds_histogram);
        registry.register_with_unit(
            "model_wait",
            "Per run, time spent waiting for each side's model (remote, local)",
            Unit::Seconds,
            wait_seconds.clone(),
        );
        let call_seconds = Family::<Labels, Histogram>::new_with_constructor(seconds_histogram);
        registry.register_with_unit(
            "model_call_duration",
            "How long each model call took, by side (a Minions job with re-asks counts once, whole)",
            Unit::Seconds,
            call_seconds.clone(),
        );
        let calls = Family::<Labels, Counter>::default();
        registry.register("model_calls", "Model calls by side", calls.clone());
        let provider_errors = Family::<Labels, Counter>::default();
        registry.register(
            "provider_errors",
            "Provider errors that ended a run (after retries), by side and kind",
            provider_errors.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register(
            "queue_depth",
            "Requests waiting for a free run slot",
            queue_depth.clone(),
        );
        let running = Gauge::default();
        registry.register("runs_in_progress", "Runs going now", running.clone());
        let queue_wait = seconds_histogram();
        registry.register_with_unit(
            "queue_wait",
            "How long requests waited for a run slot",
            Unit::Seconds,
            queue_wait.clone(),
        );
        Self {
            registry,
            runs,
            tokens,
            remote_cost,
            remote_only_cost,
            saved,
            run_seconds,
            wait_seconds,
            call_seconds,
            calls,
            provider_errors,
            queue_depth,
            running,
            queue_wait,
        }
    }

    /// Counts a run that ended.
    pub(crate) fn run_ended(&self, outcome: &Result<Transcript, RunFailure>) {
        let result: &RunResult = match outcome {
            Ok(transcript) => &transcript.result,
            Err(failure) => &failure.transcript.result,
        };
        let protocol = result.protocol.as_str();
        // The last round's forced answer is an answer too.
        let outcome_label = match result.stop.kind() {
            "max_rounds" => "answered",
            kind => kind,
        };
        self.runs
            .get_or_create(&labels(&[
                ("protocol", protocol),
                ("outcome", outcome_label),
            ]))
            .inc();
        for (side, model, usage) in [
            ("remote", &result.remote_model, &result.remote_usage),
            ("local", &result.local_model, &result.local_usage),
        ] {
            for (kind, n) in [
                ("prompt", usage.prompt_tokens),
                ("cached_prompt", usage.cached_prompt_tokens),
                ("completion", usage.completion_tokens),
            ] {
                self.tokens
                    .get_or_create(&labels(&[("side", side), ("model", model), ("kind", kind)]))
                    .inc_by(n);
            }
        }
        let spent = result.remote_cost.total_usd();
        self.remote_cost
            .get_or_create(&labels(&[("model", &result.remote_model)]))
            .inc_by(spent);
        if result.answered() {
            self.remote_only_cost.inc_by(result.remote_only.cost_usd);
            self.saved.inc_by(result.remote_only.cost_usd - spent);
        }
        self.run_seconds
            .get_or_create(&labels(&[("protocol", protocol)]))
            .observe(result.timing.total.as_secs_f64());
        for (side, wait, calls) in [
            ("remote", result.timing.remote, result.remote_calls),
            ("local", result.timing.local, result.local_calls),
        ] {
            self.wait_seconds
                .get_or_create(&labels(&[("side", side)]))
                .observe(wait.as_secs_f64());
            self.calls
                .get_or_create(&labels(&[("side", side)]))
                .inc_by(u64::from(calls));
        }
        let events = match outcome {
            Ok(transcript) => &transcript.events,
            Err(failure) => &failure.transcript.events,
        };
        for event in events {
            let (side, seconds) = match event {
                Event::RemoteMessage { seconds, .. } => ("remote", *seconds),
                Event::LocalMessage { seconds, .. } | Event::JobFinished { seconds, .. } => {
                    ("local", *seconds)
                }
                _ => continue,
            };
            self.call_seconds
                .get_or_create(&labels(&[("side", side)]))
                .observe(seconds);
        }
        if let Err(failure) = outcome
            && let Some((side, kind)) = provider_error(&failure.error)
        {
            self.provider_errors
                .get_or_create(&labels(&[("side", side), ("kind", kind)]))
                .inc();
        }
    }

    /// The metrics in Prometheus' text format.
    pub(crate) fn render(&self) -> String {
        let mut text = String::new();
        if let Err(error) = encode(&mut text, &self.registry) {
            tracing::warn!("cannot encode the metrics: {error}");
        }
        text
    }
}

/// The side and kind of a provider error that ended a run (`http`,
/// `connect`, `timeout`, `retries_exhausted`, ...).
fn provider_error(error: &ProtocolError) -> Option<(&'static str, &'static str)> {
    error.provider_side().map(|side| (side, error.kind()))
}
