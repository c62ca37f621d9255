//! What a native provider crate tells the registry about itself: one
//! [`ProviderDescriptor`] value per crate, so that the registry, `minions
//! providers` and `minions config` iterate over descriptors instead of
//! naming each provider. (The OpenAI-compatible presets are plain data in
//! `minions_core::presets`, built by `minions-openai`.)

use std::sync::Arc;

use minions_core::{ApiKey, ChatModel, Embedder, ModelSpec, Result};

use crate::{ConnectionSettings, HttpConfig, RetryPolicy};

/// What a caller set for one model beyond the environment; each field left
/// unset keeps the provider's variable or default.
#[derive(Debug, Clone, Default)]
pub struct ConnectionOverrides {
    /// Base URL, overriding the provider's variable and default.
    pub base_url: Option<String>,
    /// API key, overriding the provider's variable.
    pub api_key: Option<ApiKey>,
    /// Timeouts.
    pub http: Option<HttpConfig>,
    /// How failed requests are retried.
    pub retry: Option<RetryPolicy>,
    /// Azure OpenAI's API version (other providers ignore it).
    pub api_version: Option<String>,
}

impl ConnectionOverrides {
    /// Lays what was set over a provider builder.
    pub fn apply<B: ConnectionSettings>(&self, mut builder: B) -> B {
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url.clone());
        }
        if let Some(key) = &self.api_key {
            builder = builder.api_key(key.clone());
        }
        if let Some(http) = &self.http {
            builder = builder.http_config(http.clone());
        }
        if let Some(retry) = &self.retry {
            builder = builder.retry(retry.clone());
        }
        builder
    }
}

/// Builds a provider's chat model for `provider/model`.
pub type ChatConstructor = fn(&ModelSpec, &ConnectionOverrides) -> Result<Arc<dyn ChatModel>>;
/// Builds a provider's embedding model for `provider/model`.
pub type EmbedderConstructor = fn(&ModelSpec, &ConnectionOverrides) -> Result<Arc<dyn Embedder>>;

/// Whether a provider embeds text.
#[derive(Clone, Copy)]
pub enum EmbeddingSupport {
    /// It does, through this constructor.
    Supported(EmbedderConstructor),
    /// It does not; the text says why (`"Anthropic has no embeddings API"`).
    Unsupported(&'static str),
}

/// One native provider: its name, where it runs, the variables that
/// configure it, and how its models are built.
#[derive(Clone, Copy)]
pub struct ProviderDescriptor {
    /// The name users write in `provider/model`.
    pub name: &'static str,
    /// Runs on the user's own machine or network (no key, no bill).
    pub local: bool,
    /// The variable that holds the key, when calls need one.
    pub key_var: Option<&'static str>,
    /// The variable that says where the provider is.
    pub location_var: Option<&'static str>,
    /// Where requests go now (the variable's value or the default), as
    /// `minions providers` shows it.
    pub location: fn() -> String,
    /// Builds a chat model.
    pub chat: ChatConstructor,
    /// Builds an embedding model, or says why there is none.
    pub embeddings: EmbeddingSupport,
}

impl std::fmt::Debug for ProviderDescriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderDescriptor")
            .field("name", &self.name)
            .field("local", &self.local)
            .field("key_var", &self.key_var)
            .field("location_var", &self.location_var)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Builder(crate::Connection);

    impl ConnectionSettings for Builder {
        fn connection(&mut self) -> &mut crate::Connection {
            &mut self.0
        }
    }

    #[test]
    fn overrides_replace_only_what_they_set() {
        let before = Builder::default().base_url("http://kept");
        let after = ConnectionOverrides {
            api_key: Some(ApiKey::new("k")),
            ..ConnectionOverrides::default()
        }
        .apply(before);
        assert_eq!(after.0.base_url.as_deref(), Some("http://kept"));
        assert!(after.0.api_key.is_some());
        let moved = ConnectionOverrides {
            base_url: Some("http://new".into()),
            ..ConnectionOverrides::default()
        }
        .apply(after);
        assert_eq!(moved.0.base_url.as_deref(), Some("http://new"));
    }
}
