//! Where the library's `tracing` output goes: log lines on stderr (quiet by
//! default, `-v` for more, `RUST_LOG` wins), and with the `otel` feature and
//! `OTEL_EXPORTER_OTLP_ENDPOINT` set, the protocol's GenAI spans (one per
//! run, one per model call; never a prompt or a document) to an
//! OpenTelemetry collector over OTLP/HTTP.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

/// Flushes the spans still buffered when the command ends.
pub(crate) struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider.take()
            && let Err(error) = provider.shutdown()
        {
            tracing::warn!("traces: the last spans were not sent: {error}");
        }
    }
}

/// Sets up logging (and traces, where built and asked for).
pub(crate) fn init(verbose: u8) -> Telemetry {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(
            std::env::var_os("NO_COLOR").is_none()
                && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        )
        .with_target(false)
        .with_filter(filter);
    #[cfg_attr(not(feature = "otel"), allow(unused_mut))]
    let mut layers: Vec<Box<dyn Layer<Registry> + Send + Sync>> = vec![logs.boxed()];
    #[cfg(feature = "otel")]
    let (provider, problem) = match traces() {
        Ok(Some((provider, layer))) => {
            layers.push(layer);
            (Some(provider), None)
        }
        Ok(None) => (None, None),
        Err(problem) => (None, Some(problem)),
    };
    let _ = tracing_subscriber::registry().with(layers).try_init();
    #[cfg(feature = "otel")]
    if let Some(problem) = problem {
        tracing::warn!("traces are off: {problem}");
    }
    Telemetry {
        #[cfg(feature = "otel")]
        provider,
    }
}

/// The exporter and the layer that feeds it, when an OTLP endpoint is set
/// (the standard variables: `OTEL_EXPORTER_OTLP_ENDPOINT` or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`,
/// `OTEL_SERVICE_NAME`, ...).
#[cfg(feature = "otel")]
#[allow(clippy::type_complexity)]
fn traces() -> Result<
    Option<(
        opentelemetry_sdk::trace::SdkTracerProvider,
        Box<dyn Layer<Registry> + Send + Sync>,
    )>,
    String,
> {
    use opentelemetry::trace::TracerProvider as _;
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return Ok(None);
    }
    // The exporter's HTTP client is a reqwest client too: it needs the
    // process's TLS provider before it is built.
    minions::http::install_crypto_provider();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| e.to_string())?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if !set("OTEL_SERVICE_NAME") {
        resource = resource.with_service_name("minions");
    }
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build();
    // Only the protocol's GenAI spans: their names and attributes follow
    // the conventions, and none carries text from a prompt or a document.
    let only_genai = tracing_subscriber::filter::Targets::new()
        .with_target(minions::protocol::telemetry::TARGET, tracing::Level::INFO);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("minions"))
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_level(false)
        .with_filter(only_genai)
        .boxed();
    Ok(Some((provider, layer)))
}
