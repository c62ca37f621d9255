//! From settings to models, documents and protocol options.

use std::path::Path;
use std::sync::Arc;

use minions::protocol::{Budget, CommonOptions, Privacy};
use minions::{
    ChatModel, Embedder, MinionOptions, MinionsOptions, ModelSettings, ModelSpec, Pricing,
    chat_model, embedder,
};
use minions_ingest::{Document, IngestOptions};

use crate::cli::Retrieval;
use crate::error::CliError;
use crate::settings::Effective;

/// The models of a run.
pub(crate) struct Models {
    pub local: Arc<dyn ChatModel>,
    pub remote: Arc<dyn ChatModel>,
    pub embedder: Option<Arc<dyn Embedder>>,
}

pub(crate) fn spec(text: &str, what: &str) -> Result<ModelSpec, CliError> {
    text.parse::<ModelSpec>()
        .map_err(|e| CliError::usage(format!("{what} model: {e}")))
}

/// Builds the local and remote models (and the embedder, for embedding
/// retrieval). Nothing is contacted yet; a missing key or an unknown provider
/// fails here, naming what to set.
pub(crate) fn models(settings: &Effective) -> Result<Models, CliError> {
    let local_spec = spec(settings.local(), "local")?;
    let remote_spec = spec(settings.remote(), "remote")?;
    let local_settings = ModelSettings {
        endpoints: settings.values.local_endpoints.clone().unwrap_or_default(),
        per_endpoint_limit: settings.values.local_concurrency.unwrap_or(4),
        ..ModelSettings::default()
    };
    let local = chat_model(&local_spec, &local_settings)?;
    let remote = chat_model(&remote_spec, &ModelSettings::default())?;
    let embedder = match (settings.values.retrieval, &settings.values.embedding_model) {
        (Some(Retrieval::Embedding), Some(name)) => Some(embedder(
            &spec(name, "embedding")?,
            &ModelSettings::default(),
        )?),
        (Some(Retrieval::Embedding), None) => {
            return Err(CliError::usage(
                "--retrieval embedding needs --embedding-model (for example ollama/nomic-embed-text)",
            ));
        }
        _ => None,
    };
    Ok(Models {
        local,
        remote,
        embedder,
    })
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

fn common(settings: &Effective) -> Result<CommonOptions, CliError> {
    let v = &settings.values;
    let defaults = CommonOptions::default();
    if v.max_rounds == Some(0) {
        return Err(CliError::usage("--max-rounds must be at least 1"));
    }
    Ok(CommonOptions {
        max_rounds: v.max_rounds.unwrap_or(defaults.max_rounds),
        budget: Budget {
            max_remote_tokens: v.budget_tokens,
            max_remote_usd: v.budget_usd,
        },
        privacy: Privacy {
            enabled: v.privacy.unwrap_or(false),
            terms: v.redact.clone().unwrap_or_default(),
        },
        pricing: pricing(settings)?,
        remote_temperature: v.remote_temperature.unwrap_or(defaults.remote_temperature),
        remote_max_tokens: v.remote_max_tokens.unwrap_or(defaults.remote_max_tokens),
        local_temperature: v.local_temperature.unwrap_or(defaults.local_temperature),
        local_max_tokens: v.local_max_tokens.unwrap_or(defaults.local_max_tokens),
        ..defaults
    })
}

/// Minion's options.
pub(crate) fn minion_options(settings: &Effective) -> Result<MinionOptions, CliError> {
    Ok(MinionOptions {
        common: common(settings)?,
    })
}

/// Minions' options.
pub(crate) fn minions_options(
    settings: &Effective,
    embedder: Option<Arc<dyn Embedder>>,
) -> Result<MinionsOptions, CliError> {
    let v = &settings.values;
    let defaults = MinionsOptions::default();
    let mut default_chunking = defaults.default_chunking;
    if let Some(size) = v.chunk_size {
        if size < defaults.min_chunk_chars || size > defaults.max_chunk_chars {
            return Err(CliError::usage(format!(
                "--chunk-size must be between {} and {} characters",
                defaults.min_chunk_chars, defaults.max_chunk_chars
            )));
        }
        default_chunking.1 = size;
        default_chunking.2 = default_chunking.2.min(size / 2);
    }
    if v.local_concurrency == Some(0) {
        return Err(CliError::usage("--local-concurrency must be at least 1"));
    }
    Ok(MinionsOptions {
        common: common(settings)?,
        local_concurrency: v.local_concurrency.unwrap_or(defaults.local_concurrency),
        max_jobs_per_round: v.max_jobs_per_round.unwrap_or(defaults.max_jobs_per_round),
        default_chunking,
        embedder,
        ..defaults
    })
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

/// The documents as the protocols take them.
pub(crate) fn context(documents: &[Document]) -> Vec<minions::ContextDocument> {
    documents
        .iter()
        .map(|d| minions::ContextDocument {
            name: d.name.clone(),
            text: d.text.clone(),
            pages: d.pages,
        })
        .collect()
}
