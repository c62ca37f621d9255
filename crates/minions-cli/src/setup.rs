//! From settings to models, documents and protocol options.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use minions::protocol::Retrieval;
use minions::{
    ChatModel, Engine, ModelSettings, ModelSpec, Pricing, RetryPolicy, RunModels, RunOptions,
    UnusableModel, chat_model, embedder,
};
use minions_ingest::{Document, IngestOptions};

use crate::error::CliError;
use crate::settings::Effective;

/// How long a local server that answered before may fail before a run
/// gives up on it: long enough for a restart or a model load.
const DEFAULT_LOCAL_RETRY_SECS: u64 = 30;

/// Parses a `provider/model` name and checks that the provider is one we
/// know, so every command gives the same verdict on the same name.
pub(crate) fn spec(text: &str, what: &str) -> Result<ModelSpec, CliError> {
    let spec = text
        .parse::<ModelSpec>()
        .map_err(|e| CliError::usage(format!("{what} model: {e}")))?;
    minions::check_provider(&spec).map_err(|e| CliError::usage(format!("{what} model: {e}")))?;
    Ok(spec)
}

/// The engine every command runs through: the local and remote models
/// (and the embedder, for embedding retrieval), the prices and the run
/// options of the settings. Nothing is contacted yet; a missing key or an
/// unknown provider fails here, naming what to set.
pub(crate) fn engine(settings: &Effective) -> Result<Engine, CliError> {
    let (local, remote) = model_specs(settings)?;
    let local = chat_model(&local, &local_settings(settings))?;
    let remote = chat_model(&remote, &ModelSettings::default())?;
    engine_over(settings, RunModels::new(remote, local))
}

/// Like [`engine`], for a server that must start anyway (`minions mcp`): a
/// model that cannot be built (a missing key) becomes an [`UnusableModel`]
/// that fails every run at its preflight with the reason, which is also
/// returned, so that the client sees the tools and gets the reason as a
/// tool's error. Names that are wrong (an unknown provider) still stop it.
pub(crate) fn engine_or_reason(settings: &Effective) -> Result<(Engine, Option<String>), CliError> {
    let (local_spec, remote_spec) = model_specs(settings)?;
    let mut reasons = Vec::new();
    let mut build = |spec: ModelSpec, settings: &ModelSettings| -> Arc<dyn ChatModel> {
        match chat_model(&spec, settings) {
            Ok(model) => model,
            Err(error) => {
                let reason = error.to_string();
                reasons.push(reason.clone());
                Arc::new(UnusableModel::new(spec, reason))
            }
        }
    };
    let local = build(local_spec, &local_settings(settings));
    let remote = build(remote_spec, &ModelSettings::default());
    let engine = engine_over(settings, RunModels::new(remote, local))?;
    Ok((engine, (!reasons.is_empty()).then(|| reasons.join("; "))))
}

fn model_specs(settings: &Effective) -> Result<(ModelSpec, ModelSpec), CliError> {
    Ok((
        spec(settings.local(), "local")?,
        spec(settings.remote(), "remote")?,
    ))
}

/// The local model's connection: its endpoints, and the retry window that
/// bridges a restart (`local_retry_secs`).
fn local_settings(settings: &Effective) -> ModelSettings {
    let retry_window = settings
        .values
        .local_retry_secs
        .unwrap_or(DEFAULT_LOCAL_RETRY_SECS);
    ModelSettings {
        endpoints: settings.values.local_endpoints.clone().unwrap_or_default(),
        per_endpoint_limit: settings.values.run.local_concurrency.unwrap_or(4) as usize,
        ..ModelSettings::default()
    }
    .retry(RetryPolicy::for_local_server(Duration::from_secs(
        retry_window,
    )))
}

/// The engine over `run`, with the embedder embedding retrieval needs. Its
/// options are checked here, by the engine's own rules, so that a bad value
/// (or embedding retrieval without an embedding model) stops a command
/// before documents are read or a server starts.
pub(crate) fn engine_over(settings: &Effective, mut run: RunModels) -> Result<Engine, CliError> {
    if let (Some(Retrieval::Embedding), Some(name)) = (
        settings.values.run.retrieval,
        &settings.values.embedding_model,
    ) {
        run.embedder = Some(embedder(
            &spec(name, "embedding")?,
            &ModelSettings::default(),
        )?);
    }
    let engine = Engine::new(run, pricing(settings)?, settings.values.run.clone());
    engine
        .spec(RunOptions::default())
        .map_err(|e| CliError::usage(e.to_string()))?;
    Ok(engine)
}

/// Downloads the local model first when it is an embedded model named by a
/// Hugging Face reference (`gguf/hf.co/OWNER/REPO:QUANT`), with a progress
/// bar on stderr; a model already in the cache is used as it is. Every
/// other model is left alone.
#[cfg(feature = "embedded")]
pub(crate) async fn fetch_local_model(settings: &Effective) -> Result<(), CliError> {
    use minions::llama::hub::{Hub, HubModel, cache_dir};
    let spec = spec(settings.local(), "local")?;
    let Some(model) = (spec.provider == minions::llama::PROVIDER)
        .then(|| HubModel::parse(&spec.model))
        .flatten()
    else {
        return Ok(());
    };
    let hub = Hub::from_env()?;
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{msg} {bar:30} {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("downloading {model}"));
    let path = hub
        .fetch(&model, &cache_dir(), |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await;
    bar.finish_and_clear();
    let path = path?;
    tracing::info!(path = %path.display(), "{model} is in the cache");
    Ok(())
}

/// Without the embedded model there is nothing to fetch.
#[cfg(not(feature = "embedded"))]
pub(crate) async fn fetch_local_model(_settings: &Effective) -> Result<(), CliError> {
    Ok(())
}

/// The price table, with the file named by the `pricing` setting or
/// `MINIONS_PRICING`.
pub(crate) fn pricing(settings: &Effective) -> Result<Pricing, CliError> {
    let file = settings
        .values
        .pricing
        .clone()
        .or_else(|| minions::env::read(minions::env::MINIONS_PRICING));
    match file {
        Some(path) => Pricing::builtin()
            .with_overrides_file(Path::new(&path))
            .map_err(|e| CliError::usage(e.to_string())),
        None => Ok(Pricing::builtin()),
    }
}

/// Loads every context input.
pub(crate) async fn documents(
    inputs: &[String],
    settings: &Effective,
) -> Result<Vec<Document>, CliError> {
    let mut options = IngestOptions::default();
    if let Some(bytes) = settings.values.max_input_bytes {
        options.max_bytes = bytes;
    }
    if inputs.iter().filter(|i| *i == "-").count() > 1 {
        return Err(CliError::usage("stdin (-) can be given only once"));
    }
    check_inputs(inputs)?;
    let mut documents = Vec::new();
    for input in inputs {
        let document = minions_ingest::load(input, &options).await?;
        for note in &document.notes {
            tracing::info!("{note}");
        }
        documents.push(document);
    }
    Ok(documents)
}

/// The documents as the protocols take them. Each text moves into its
/// shared form one document at a time, so at most one extra copy of one
/// document exists, briefly.
pub(crate) fn context(documents: Vec<Document>) -> Vec<minions::ContextDocument> {
    documents
        .into_iter()
        .map(minions::ContextDocument::from)
        .collect()
}

/// Refuses a context input that is no file but reads like a question,
/// with the fix.
pub(crate) fn check_inputs(inputs: &[String]) -> Result<(), CliError> {
    match inputs.iter().find(|i| reads_like_a_question(i)) {
        Some(input) => Err(CliError::usage(format!(
            "no file `{input}`, and it reads like a question: give the question as the argument and each file with its own -c, for example: minions ask \"{input}\" -c FILE"
        ))),
        None => Ok(()),
    }
}

/// An input that is not a path, a URL or stdin, but has the shape of a
/// question: several words, or a question mark.
fn reads_like_a_question(input: &str) -> bool {
    let words = input.split_whitespace().count();
    input != "-"
        && !input.contains("://")
        && !Path::new(input).exists()
        && (words >= 3 || (words >= 2 && input.trim_end().ends_with('?')))
}
