//! This crate's entry in the provider registry.

use std::sync::Arc;

use minions_core::env;
use minions_http::{ConnectionOverrides, EmbeddingSupport, ProviderDescriptor};

use crate::adapter::PROVIDER;
use crate::{AnthropicBuilder, DEFAULT_BASE_URL};

/// The variable that holds the API key.
pub const API_KEY_VAR: &str = "ANTHROPIC_API_KEY";
/// The variable that overrides the base URL.
pub const BASE_URL_VAR: &str = "ANTHROPIC_BASE_URL";

/// Anthropic, as the registry, `minions providers` and `minions config`
/// see it.
pub const DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: PROVIDER,
    local: false,
    key_var: Some(API_KEY_VAR),
    location_var: Some(BASE_URL_VAR),
    location: || env::read(BASE_URL_VAR).unwrap_or_else(|| DEFAULT_BASE_URL.to_string()),
    chat: |spec, overrides: &ConnectionOverrides| {
        let builder = overrides.apply(AnthropicBuilder::new(spec.model.clone()));
        Ok(Arc::new(builder.with_env().build()?))
    },
    embeddings: EmbeddingSupport::Unsupported("Anthropic has no embeddings API"),
};
