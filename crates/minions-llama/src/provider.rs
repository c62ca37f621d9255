//! This crate's entry in the provider registry (with the `native` engine
//! only: without it there is no model to build).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minions_core::Error;
use minions_http::{EmbeddingSupport, ProviderDescriptor};

use crate::hub::HubModel;
use crate::{EmbeddedModel, LlamaSettings, PROVIDER};

/// `~/x` as a path under the home directory; other paths as they are.
fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// The on-device model, as the registry and `minions providers` see it.
/// Connection settings do not apply: nothing goes over the network.
pub const DESCRIPTOR: ProviderDescriptor = ProviderDescriptor {
    name: PROVIDER,
    local: true,
    key_var: None,
    location_var: None,
    location: || {
        "in this process: gguf/PATH or gguf/hf.co/OWNER/REPO:QUANT (MINIONS_LLAMA_*)".to_string()
    },
    chat: |spec, _overrides| {
        let settings = LlamaSettings::from_env().map_err(Error::config)?;
        Ok(match HubModel::parse(&spec.model) {
            Some(hub) => Arc::new(EmbeddedModel::from_hub(hub, settings)),
            None => Arc::new(EmbeddedModel::new(expand_home(&spec.model), settings)?),
        })
    },
    embeddings: EmbeddingSupport::Unsupported("the embedded model does not embed"),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_home_path_is_expanded_and_others_are_kept() {
        assert_eq!(expand_home("/m.gguf"), PathBuf::from("/m.gguf"));
        if let Some(home) = std::env::var_os("HOME") {
            assert_eq!(expand_home("~/m.gguf"), Path::new(&home).join("m.gguf"));
        }
    }
}
