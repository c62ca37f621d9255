//! From `provider/model` to a ready model.

use std::sync::Arc;

use minions_core::{ApiKey, ChatModel, Embedder, Error, ModelSpec, Result, env};
use minions_http::{HttpConfig, RetryPolicy};

use crate::LocalPool;

/// Providers with a crate of their own (not OpenAI-compatible presets).
const NATIVE: &[&str] = &["anthropic", "ollama"];

/// Settings for one model beyond what the environment says.
#[derive(Debug, Clone, Default)]
pub struct ModelSettings {
    /// Base URL, overriding the provider's variable and default.
    pub base_url: Option<String>,
    /// API key, overriding the provider's variable.
    pub api_key: Option<ApiKey>,
    /// Several endpoints of one local model: requests are spread over them
    /// (see [`LocalPool`]). Overrides `base_url`.
    pub endpoints: Vec<String>,
    /// Requests at once per endpoint of a pool; 0 means 4.
    pub per_endpoint_limit: usize,
    /// Timeouts.
    pub http: Option<HttpConfig>,
    /// How failed requests are retried (the provider's default when unset;
    /// [`RetryPolicy::for_local_server`] suits a local model).
    pub retry: Option<RetryPolicy>,
    /// Azure OpenAI's API version, overriding `AZURE_OPENAI_API_VERSION`
    /// (other providers have none and ignore it).
    pub api_version: Option<String>,
}

impl ModelSettings {
    /// Reads `MINIONS_LOCAL_ENDPOINTS` (comma-separated URLs) into
    /// `endpoints`, if set and nothing was set explicitly.
    pub fn with_local_endpoints_from_env(mut self) -> Self {
        if self.endpoints.is_empty()
            && let Some(list) = env::read(env::MINIONS_LOCAL_ENDPOINTS)
        {
            self.endpoints = parse_endpoints(&list);
        }
        self
    }
}

/// Splits `http://a:11434, http://b:11434` into URLs.
pub fn parse_endpoints(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Every provider name this build knows, sorted.
pub fn known_providers() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    #[cfg(feature = "openai")]
    names.extend(minions_openai::PRESETS.iter().map(|p| p.name));
    #[cfg(feature = "anthropic")]
    names.push("anthropic");
    #[cfg(feature = "ollama")]
    names.push("ollama");
    #[cfg(feature = "llama")]
    names.push(minions_llama::PROVIDER);
    names.sort_unstable();
    names
}

/// Whether a provider name is one minions-rs knows, compiled in or not,
/// and the feature that compiles it in. The OpenAI-compatible presets are
/// plain data in the core, so a build without `openai` still knows them.
fn known_anywhere(provider: &str) -> Option<&'static str> {
    if provider == "gguf" {
        return Some("llama");
    }
    if NATIVE.contains(&provider) {
        return Some(if provider == "anthropic" {
            "anthropic"
        } else {
            "ollama"
        });
    }
    minions_core::presets::preset(provider).map(|_| "openai")
}

/// Checks that this build knows `spec`'s provider, so that every front end
/// gives the same verdict in the same words: an unknown name lists the
/// known ones, a known one that is not compiled in names its feature.
pub fn check_provider(spec: &ModelSpec) -> Result<()> {
    let provider = spec.provider.as_str();
    // A preset's other spellings (`azure-openai`) build it too.
    let preset_alias =
        cfg!(feature = "openai") && minions_core::presets::preset(provider).is_some();
    if known_providers().contains(&provider) || preset_alias {
        Ok(())
    } else {
        Err(unknown(spec))
    }
}

fn unknown(spec: &ModelSpec) -> Error {
    match known_anywhere(&spec.provider) {
        Some(feature) => Error::config(format!(
            "provider `{}` (in `{spec}`) is not compiled into this build: enable the `{feature}` feature of the `minions` crate",
            spec.provider
        )),
        None => Error::config(format!(
            "unknown provider `{}` in `{spec}`; known providers: {}",
            spec.provider,
            known_providers().join(", ")
        )),
    }
}

/// Builds the chat model `spec` names, configured from the environment plus
/// `settings`. With several endpoints in `settings`, a [`LocalPool`] over
/// them.
///
/// Errors name what to fix: an unknown provider lists the known ones, a
/// missing key names its variable.
pub fn chat_model(spec: &ModelSpec, settings: &ModelSettings) -> Result<Arc<dyn ChatModel>> {
    if settings.endpoints.len() > 1 {
        let limit = if settings.per_endpoint_limit == 0 {
            4
        } else {
            settings.per_endpoint_limit
        };
        let mut endpoints = Vec::new();
        for url in &settings.endpoints {
            let one = ModelSettings {
                base_url: Some(url.clone()),
                endpoints: Vec::new(),
                ..settings.clone()
            };
            endpoints.push((url.clone(), single_chat_model(spec, &one)?));
        }
        return Ok(Arc::new(LocalPool::new(endpoints, limit)?));
    }
    let mut one = settings.clone();
    if let Some(url) = settings.endpoints.first() {
        one.base_url = Some(url.clone());
    }
    single_chat_model(spec, &one)
}

/// Builds the chat model `spec` names from the environment alone.
pub fn chat_model_from_env(spec: &ModelSpec) -> Result<Arc<dyn ChatModel>> {
    chat_model(spec, &ModelSettings::default())
}

#[allow(unused_variables)]
fn single_chat_model(spec: &ModelSpec, settings: &ModelSettings) -> Result<Arc<dyn ChatModel>> {
    match spec.provider.as_str() {
        #[cfg(feature = "ollama")]
        "ollama" => Ok(Arc::new(ollama(spec, settings)?)),
        #[cfg(feature = "anthropic")]
        "anthropic" => Ok(Arc::new(
            connect(
                minions_anthropic::AnthropicClient::builder(spec.model.clone()),
                settings,
            )
            .with_env()
            .build()?,
        )),
        #[cfg(feature = "llama")]
        "gguf" => {
            let settings = minions_llama::LlamaSettings::from_env().map_err(Error::config)?;
            match minions_llama::hub::HubModel::parse(&spec.model) {
                Some(hub) => Ok(Arc::new(minions_llama::EmbeddedModel::from_hub(
                    hub, settings,
                ))),
                None => Ok(Arc::new(minions_llama::EmbeddedModel::new(
                    expand_home(&spec.model),
                    settings,
                )?)),
            }
        }
        #[cfg(feature = "openai")]
        provider if minions_openai::preset(provider).is_some() => {
            Ok(Arc::new(openai(spec, settings)?))
        }
        _ => Err(unknown(spec)),
    }
}

/// `~/x` as a path under the home directory; other paths as they are.
#[cfg(feature = "llama")]
fn expand_home(path: &str) -> std::path::PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => std::path::Path::new(&home).join(rest),
        _ => std::path::PathBuf::from(path),
    }
}

#[cfg(feature = "ollama")]
fn ollama(spec: &ModelSpec, settings: &ModelSettings) -> Result<minions_ollama::OllamaClient> {
    connect(
        minions_ollama::OllamaClient::builder(spec.model.clone()),
        settings,
    )
    .with_env()
    .build()
}

#[cfg(feature = "openai")]
fn openai(spec: &ModelSpec, settings: &ModelSettings) -> Result<minions_openai::OpenAiClient> {
    let mut builder = minions_openai::OpenAiClient::builder(&spec.provider, spec.model.clone())?;
    if let Some(version) = &settings.api_version {
        builder = builder.api_version(version.clone());
    }
    connect(builder, settings).with_env().build()
}

/// Lays what `settings` set over a provider builder.
#[allow(dead_code)] // unused when no provider feature is on
fn connect<B: minions_http::ConnectionSettings>(mut builder: B, settings: &ModelSettings) -> B {
    if let Some(url) = &settings.base_url {
        builder = builder.base_url(url.clone());
    }
    if let Some(key) = &settings.api_key {
        builder = builder.api_key(key.clone());
    }
    if let Some(http) = &settings.http {
        builder = builder.http_config(http.clone());
    }
    if let Some(retry) = &settings.retry {
        builder = builder.retry(retry.clone());
    }
    builder
}

/// Builds the embedding model `spec` names (Ollama, or any OpenAI-compatible
/// provider with an embeddings endpoint).
#[allow(unused_variables)]
pub fn embedder(spec: &ModelSpec, settings: &ModelSettings) -> Result<Arc<dyn Embedder>> {
    match spec.provider.as_str() {
        #[cfg(feature = "ollama")]
        "ollama" => Ok(Arc::new(ollama(spec, settings)?)),
        "anthropic" => Err(Error::config(format!(
            "`{spec}`: Anthropic has no embeddings API; use an Ollama or OpenAI-compatible embedding model"
        ))),
        "gguf" => Err(Error::config(format!(
            "`{spec}`: the embedded model does not embed; use an Ollama or OpenAI-compatible embedding model"
        ))),
        #[cfg(feature = "openai")]
        provider if minions_openai::preset(provider).is_some() => {
            Ok(Arc::new(openai(spec, settings)?))
        }
        _ => Err(unknown(spec)),
    }
}
