//! From `provider/model` to a ready model.

use std::sync::Arc;

use minions_core::{ApiKey, ChatModel, Embedder, Error, ModelSpec, Result, env};
use minions_http::{
    ConnectionOverrides, EmbeddingSupport, HttpConfig, ProviderDescriptor, RetryPolicy,
};

use crate::LocalPool;

/// Lists the providers with a crate of their own (not OpenAI-compatible
/// presets), one line each: the `minions` feature that compiles the crate
/// in, the provider's name, and the crate's descriptor. It makes
/// `NATIVE_NAMES` (every native name with its feature, compiled in or not,
/// so that a build without one can say which feature to turn on) and
/// [`native_providers`] (the descriptors compiled in).
macro_rules! native_providers {
    ($($feature:literal: $name:literal => $descriptor:path;)*) => {
        const NATIVE_NAMES: &[(&str, &str)] = &[$(($name, $feature)),*];

        // One push per feature that is on: a `vec![]` cannot leave out the
        // entries whose feature is off.
        /// Every native provider compiled into this build, in the
        /// registry's order.
        #[allow(clippy::vec_init_then_push)]
        pub fn native_providers() -> Vec<&'static ProviderDescriptor> {
            #[allow(unused_mut)]
            let mut compiled = Vec::new();
            $(
                #[cfg(feature = $feature)]
                compiled.push(&$descriptor);
            )*
            compiled
        }
    };
}

native_providers! {
    "anthropic": "anthropic" => minions_anthropic::DESCRIPTOR;
    "ollama": "ollama" => minions_ollama::DESCRIPTOR;
    "llama": "gguf" => minions_llama::DESCRIPTOR;
}

/// The descriptor of a native provider compiled into this build.
pub fn native_provider(name: &str) -> Option<&'static ProviderDescriptor> {
    native_providers().into_iter().find(|d| d.name == name)
}

/// Settings for one model beyond what the environment says: its
/// connection, laid over the provider's variables and defaults, and the
/// endpoints of a local model served more than once.
#[derive(Debug, Clone, Default)]
pub struct ModelSettings {
    /// Base URL, key, timeouts, retries and API version, each overriding
    /// the provider's own when set.
    pub connection: ConnectionOverrides,
    /// Several endpoints of one local model: requests are spread over them
    /// (see [`LocalPool`]). Overrides the base URL.
    pub endpoints: Vec<String>,
    /// Requests at once per endpoint of a pool; 0 means 4.
    pub per_endpoint_limit: usize,
}

impl ModelSettings {
    /// With this base URL.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.connection.base_url = Some(url.into());
        self
    }

    /// With this API key.
    pub fn api_key(mut self, key: ApiKey) -> Self {
        self.connection.api_key = Some(key);
        self
    }

    /// With these timeouts.
    pub fn http(mut self, config: HttpConfig) -> Self {
        self.connection.http = Some(config);
        self
    }

    /// With this retry policy ([`RetryPolicy::for_local_server`] suits a
    /// local model).
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.connection.retry = Some(retry);
        self
    }

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
    let mut names: Vec<&'static str> = native_providers().iter().map(|d| d.name).collect();
    #[cfg(feature = "openai")]
    names.extend(minions_openai::PRESETS.iter().map(|p| p.name));
    names.sort_unstable();
    names
}

/// The variable that holds a provider's key (native or preset), if it
/// takes one.
pub fn key_var(provider: &str) -> Option<&'static str> {
    match native_provider(provider) {
        Some(native) => native.key_var,
        None => minions_core::presets::preset(provider).and_then(|p| p.key_var),
    }
}

/// Whether a provider name is one minions-rs knows, compiled in or not,
/// and the feature that compiles it in. The OpenAI-compatible presets are
/// plain data in the core, so a build without `openai` still knows them.
fn known_anywhere(provider: &str) -> Option<&'static str> {
    if let Some((_, feature)) = NATIVE_NAMES.iter().find(|(name, _)| *name == provider) {
        return Some(feature);
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
            let one = ConnectionOverrides {
                base_url: Some(url.clone()),
                ..settings.connection.clone()
            };
            endpoints.push((url.clone(), single_chat_model(spec, &one)?));
        }
        return Ok(Arc::new(LocalPool::new(endpoints, limit)?));
    }
    let mut one = settings.connection.clone();
    if let Some(url) = settings.endpoints.first() {
        one.base_url = Some(url.clone());
    }
    single_chat_model(spec, &one)
}

/// Builds the chat model `spec` names from the environment alone.
pub fn chat_model_from_env(spec: &ModelSpec) -> Result<Arc<dyn ChatModel>> {
    chat_model(spec, &ModelSettings::default())
}

fn single_chat_model(
    spec: &ModelSpec,
    connection: &ConnectionOverrides,
) -> Result<Arc<dyn ChatModel>> {
    if let Some(native) = native_provider(&spec.provider) {
        return (native.chat)(spec, connection);
    }
    #[cfg(feature = "openai")]
    if minions_openai::preset(&spec.provider).is_some() {
        return Ok(Arc::new(openai(spec, connection)?));
    }
    Err(unknown(spec))
}

#[cfg(feature = "openai")]
fn openai(
    spec: &ModelSpec,
    overrides: &ConnectionOverrides,
) -> Result<minions_openai::OpenAiClient> {
    let mut builder = minions_openai::OpenAiBuilder::new(&spec.provider, spec.model.clone())?;
    if let Some(version) = &overrides.api_version {
        builder = builder.api_version(version.clone());
    }
    overrides.apply(builder).with_env().build()
}

/// Builds the embedding model `spec` names (a native provider that embeds,
/// such as Ollama, or any OpenAI-compatible provider with an embeddings
/// endpoint).
pub fn embedder(spec: &ModelSpec, settings: &ModelSettings) -> Result<Arc<dyn Embedder>> {
    if let Some(native) = native_provider(&spec.provider) {
        return match native.embeddings {
            EmbeddingSupport::Supported(build) => build(spec, &settings.connection),
            EmbeddingSupport::Unsupported(why) => Err(Error::config(format!(
                "`{spec}`: {why}; use an Ollama or OpenAI-compatible embedding model"
            ))),
        };
    }
    #[cfg(feature = "openai")]
    if minions_openai::preset(&spec.provider).is_some() {
        return Ok(Arc::new(openai(spec, &settings.connection)?));
    }
    Err(unknown(spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_compiled_descriptor_is_listed_under_its_own_name() {
        for native in native_providers() {
            assert!(
                NATIVE_NAMES.iter().any(|(name, _)| *name == native.name),
                "{} is built under another name than its registry line says",
                native.name
            );
        }
    }

    #[test]
    fn keys_are_named_by_descriptors_and_presets() {
        #[cfg(feature = "anthropic")]
        assert_eq!(key_var("anthropic"), Some("ANTHROPIC_API_KEY"));
        #[cfg(feature = "ollama")]
        assert_eq!(key_var("ollama"), None);
        assert_eq!(key_var("groq"), Some("GROQ_API_KEY"));
        assert_eq!(key_var("no-such-provider"), None);
    }

    #[cfg(feature = "anthropic")]
    #[test]
    fn a_provider_without_embeddings_says_what_to_use() {
        let spec = ModelSpec::new("anthropic", "claude-sonnet-4-5");
        let error = embedder(&spec, &ModelSettings::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(error.contains("no embeddings API"), "{error}");
        assert!(error.contains("Ollama or OpenAI-compatible"), "{error}");
    }
}
