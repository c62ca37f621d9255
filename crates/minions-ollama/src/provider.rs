//! This crate's entry in the provider registry.

use std::sync::Arc;

use minions_core::env;
use minions_http::{ConnectionOverrides, EmbeddingSupport, ProviderDescriptor};

use crate::adapter::PROVIDER;
use crate::wire::base_url_from_host;
use crate::{DEFAULT_BASE_URL, OllamaBuilder, OllamaClient};

/// The variable that says where Ollama listens (`host:port` or a URL), as
/// the `ollama` CLI reads it.
pub const HOST_VAR: &str = "OLLAMA_HOST";

fn client(
    spec: &minions_core::ModelSpec,
    overrides: &ConnectionOverrides,
) -> minions_core::Result<OllamaClient> {
    overrides
        .apply(OllamaBuilder::new(spec.model.clone()))
        .with_env()
        .build()
}

/// Ollama, as the registry, `minions providers` and `minions config` see it.
pub const DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: PROVIDER,
    local: true,
    key_var: None,
    location_var: Some(HOST_VAR),
    location: || {
        env::read(HOST_VAR)
            .map(|host| base_url_from_host(&host))
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
    },
    chat: |spec, overrides| Ok(Arc::new(client(spec, overrides)?)),
    embeddings: EmbeddingSupport::Supported(|spec, overrides| {
        Ok(Arc::new(client(spec, overrides)?))
    }),
};
