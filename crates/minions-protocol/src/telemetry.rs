//! Spans for tracing backends, named and attributed after OpenTelemetry's
//! GenAI semantic conventions: one `invoke_agent` span per run, one `chat`
//! span per model call under it. They carry model names, token counts,
//! costs and error kinds, never a prompt, a document or an answer.
//!
//! They are ordinary `tracing` spans with the target [`TARGET`]; nothing
//! is exported unless the program installs a layer for them (the CLI's
//! `otel` feature does, with OTLP).

use minions_core::{ChatModel, ChatRequest, ChatResponse, Error};
use tracing::Span;
use tracing::field::Empty;

use crate::{ProtocolKind, RunFailure, Transcript};

/// The `tracing` target of these spans: filter on it to export them.
pub const TARGET: &str = "minions::genai";

/// Which model of the run a call went to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Side {
    Remote,
    Local,
}

impl Side {
    fn as_str(self) -> &'static str {
        match self {
            Side::Remote => "remote",
            Side::Local => "local",
        }
    }
}

/// The run's span. Its usage, cost and outcome are recorded at the end by
/// [`record_run`].
pub(crate) fn run_span(kind: ProtocolKind, remote: &dyn ChatModel, local: &dyn ChatModel) -> Span {
    let remote = remote.id();
    tracing::info_span!(
        target: TARGET,
        "invoke_agent",
        otel.name = format!("invoke_agent {}", kind.as_str()),
        gen_ai.operation.name = "invoke_agent",
        gen_ai.agent.name = kind.as_str(),
        gen_ai.provider.name = %remote.provider,
        gen_ai.request.model = %remote.model,
        minions.local.model = %local.id(),
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        minions.local.input_tokens = Empty,
        minions.local.output_tokens = Empty,
        minions.cost_usd = Empty,
        minions.remote_only_cost_usd = Empty,
        minions.stop = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    )
}

/// Records how the run ended on its span.
pub(crate) fn record_run(span: &Span, outcome: &Result<Transcript, RunFailure>) {
    let (transcript, error) = match outcome {
        Ok(transcript) => (transcript, None),
        Err(failure) => (failure.transcript.as_ref(), Some(&failure.error)),
    };
    let result = &transcript.result;
    span.record(
        "gen_ai.usage.input_tokens",
        result.remote_usage.prompt_tokens,
    );
    span.record(
        "gen_ai.usage.output_tokens",
        result.remote_usage.completion_tokens,
    );
    span.record(
        "minions.local.input_tokens",
        result.local_usage.prompt_tokens,
    );
    span.record(
        "minions.local.output_tokens",
        result.local_usage.completion_tokens,
    );
    span.record("minions.cost_usd", result.remote_cost.total_usd());
    span.record("minions.remote_only_cost_usd", result.remote_only.cost_usd);
    span.record("minions.stop", result.stop.kind());
    if let Some(error) = error {
        span.record("error.type", error.kind());
        span.record("otel.status_code", "ERROR");
    }
}

/// One model call, in its own span under the run's.
pub(crate) async fn chat(
    model: &dyn ChatModel,
    side: Side,
    request: &ChatRequest,
) -> Result<ChatResponse, Error> {
    use tracing::Instrument;
    let id = model.id();
    let span = tracing::info_span!(
        target: TARGET,
        "chat",
        otel.name = format!("chat {}", id.model),
        otel.kind = "client",
        gen_ai.operation.name = "chat",
        gen_ai.provider.name = %id.provider,
        gen_ai.request.model = %id.model,
        gen_ai.request.max_tokens = request.max_tokens,
        gen_ai.request.temperature = request.temperature.map(f64::from),
        minions.side = side.as_str(),
        gen_ai.response.model = Empty,
        gen_ai.usage.input_tokens = Empty,
        gen_ai.usage.output_tokens = Empty,
        error.type = Empty,
        otel.status_code = Empty,
    );
    let reply = model.chat(request).instrument(span.clone()).await;
    match &reply {
        Ok(response) => {
            span.record("gen_ai.response.model", response.model.as_str());
            span.record("gen_ai.usage.input_tokens", response.usage.prompt_tokens);
            span.record(
                "gen_ai.usage.output_tokens",
                response.usage.completion_tokens,
            );
        }
        Err(error) => {
            span.record("error.type", error.kind().as_str());
            span.record("otel.status_code", "ERROR");
        }
    }
    reply
}
