//! Every OpenAI-compatible provider we know, with its defaults: one entry
//! each. Plain data, here in the core so that every build knows the names
//! (and can say which feature to turn on) even without `minions-openai`,
//! whose client reads them.

use crate::env;

/// How a preset authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthStyle {
    /// `Authorization: Bearer KEY`.
    Bearer,
    /// Azure's `api-key: KEY` header.
    AzureApiKey,
}

/// An OpenAI-compatible provider: where it lives, which variables configure
/// it, and what it can do.
///
/// Capability flags are what the provider documents; where a server turns out
/// to reject `json_schema`, the client steps down to JSON mode and then to
/// prompt-only JSON and remembers that for the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Preset {
    /// The provider name users write in `provider/model`.
    pub name: &'static str,
    /// Other spellings accepted for `name`.
    pub aliases: &'static [&'static str],
    /// Base URL, ending before `/chat/completions`. Empty for Azure, whose URL
    /// comes from `AZURE_OPENAI_ENDPOINT`.
    pub default_base_url: &'static str,
    /// The variable that holds the key.
    pub key_var: Option<&'static str>,
    /// The variable that overrides the base URL.
    pub base_url_var: Option<&'static str>,
    /// Whether calls fail without a key (cloud) or work without one (local).
    pub key_required: bool,
    /// A server on the user's own machine or network.
    pub local: bool,
    /// Accepts `response_format: {"type": "json_schema"}`.
    pub json_schema: bool,
    /// Accepts `response_format: {"type": "json_object"}`.
    pub json_mode: bool,
    /// Takes a `schema` inside a `json_object` response format (Together,
    /// Fireworks).
    pub json_object_schema: bool,
    /// Honours `stream_options.include_usage`.
    pub stream_usage: bool,
    /// Wants `max_completion_tokens` (and no `temperature`) for reasoning
    /// models (o-series, GPT-5).
    pub reasoning_params: bool,
    /// How the key is sent.
    pub auth: AuthStyle,
}

const CLOUD: Preset = Preset {
    name: "",
    aliases: &[],
    default_base_url: "",
    key_var: None,
    base_url_var: None,
    key_required: true,
    local: false,
    json_schema: true,
    json_mode: true,
    json_object_schema: false,
    stream_usage: true,
    reasoning_params: false,
    auth: AuthStyle::Bearer,
};

const LOCAL: Preset = Preset {
    key_required: false,
    local: true,
    ..CLOUD
};

/// All presets. `azure` is special: its URL is built from
/// `AZURE_OPENAI_ENDPOINT`, the deployment (the model name) and
/// `AZURE_OPENAI_API_VERSION`.
pub const PRESETS: &[Preset] = &[
    Preset {
        name: "openai",
        default_base_url: "https://api.openai.com/v1",
        key_var: Some(env::OPENAI_API_KEY),
        base_url_var: Some(env::OPENAI_BASE_URL),
        reasoning_params: true,
        ..CLOUD
    },
    Preset {
        name: "azure",
        aliases: &["azure-openai", "azure_openai"],
        key_var: Some("AZURE_OPENAI_API_KEY"),
        base_url_var: Some(env::AZURE_OPENAI_ENDPOINT),
        reasoning_params: true,
        auth: AuthStyle::AzureApiKey,
        ..CLOUD
    },
    Preset {
        name: "together",
        default_base_url: "https://api.together.xyz/v1",
        key_var: Some(env::TOGETHER_API_KEY),
        base_url_var: Some("TOGETHER_BASE_URL"),
        json_schema: false,
        json_object_schema: true,
        ..CLOUD
    },
    Preset {
        name: "openrouter",
        default_base_url: "https://openrouter.ai/api/v1",
        key_var: Some("OPENROUTER_API_KEY"),
        base_url_var: Some("OPENROUTER_BASE_URL"),
        ..CLOUD
    },
    Preset {
        name: "perplexity",
        default_base_url: "https://api.perplexity.ai",
        key_var: Some("PERPLEXITY_API_KEY"),
        base_url_var: Some("PERPLEXITY_BASE_URL"),
        json_mode: false,
        ..CLOUD
    },
    Preset {
        name: "groq",
        default_base_url: "https://api.groq.com/openai/v1",
        key_var: Some("GROQ_API_KEY"),
        base_url_var: Some("GROQ_BASE_URL"),
        json_schema: false,
        ..CLOUD
    },
    Preset {
        name: "deepseek",
        default_base_url: "https://api.deepseek.com/v1",
        key_var: Some("DEEPSEEK_API_KEY"),
        base_url_var: Some("DEEPSEEK_BASE_URL"),
        json_schema: false,
        ..CLOUD
    },
    Preset {
        name: "mistral",
        default_base_url: "https://api.mistral.ai/v1",
        key_var: Some("MISTRAL_API_KEY"),
        base_url_var: Some("MISTRAL_BASE_URL"),
        ..CLOUD
    },
    Preset {
        name: "xai",
        aliases: &["grok"],
        default_base_url: "https://api.x.ai/v1",
        key_var: Some("XAI_API_KEY"),
        base_url_var: Some("XAI_BASE_URL"),
        ..CLOUD
    },
    Preset {
        name: "gemini",
        aliases: &["google"],
        default_base_url: "https://generativelanguage.googleapis.com/v1beta/openai",
        key_var: Some("GEMINI_API_KEY"),
        base_url_var: Some("GEMINI_BASE_URL"),
        ..CLOUD
    },
    Preset {
        name: "fireworks",
        default_base_url: "https://api.fireworks.ai/inference/v1",
        key_var: Some("FIREWORKS_API_KEY"),
        base_url_var: Some("FIREWORKS_BASE_URL"),
        json_object_schema: true,
        ..CLOUD
    },
    Preset {
        name: "cerebras",
        default_base_url: "https://api.cerebras.ai/v1",
        key_var: Some(env::CEREBRAS_API_KEY),
        base_url_var: Some("CEREBRAS_BASE_URL"),
        ..CLOUD
    },
    Preset {
        name: "sambanova",
        default_base_url: "https://api.sambanova.ai/v1",
        key_var: Some("SAMBANOVA_API_KEY"),
        base_url_var: Some("SAMBANOVA_BASE_URL"),
        json_schema: false,
        ..CLOUD
    },
    Preset {
        name: "tokasaurus",
        default_base_url: "http://127.0.0.1:10210/v1",
        base_url_var: Some("TOKASAURUS_BASE_URL"),
        json_schema: false,
        json_mode: false,
        stream_usage: false,
        ..LOCAL
    },
    Preset {
        name: "vllm",
        default_base_url: "http://127.0.0.1:8000/v1",
        key_var: Some("VLLM_API_KEY"),
        base_url_var: Some(env::VLLM_BASE_URL),
        ..LOCAL
    },
    Preset {
        name: "sglang",
        default_base_url: "http://127.0.0.1:30000/v1",
        base_url_var: Some("SGLANG_BASE_URL"),
        ..LOCAL
    },
    Preset {
        name: "llamacpp",
        aliases: &["llama.cpp", "llama-cpp", "llama_cpp"],
        default_base_url: "http://127.0.0.1:8080/v1",
        base_url_var: Some(env::LLAMACPP_BASE_URL),
        ..LOCAL
    },
    Preset {
        name: "lmstudio",
        aliases: &["lm-studio", "lm_studio"],
        default_base_url: "http://127.0.0.1:1234/v1",
        base_url_var: Some("LMSTUDIO_BASE_URL"),
        // LM Studio rejects `json_object`; it takes `json_schema` only.
        json_mode: false,
        ..LOCAL
    },
    Preset {
        name: "lemonade",
        default_base_url: "http://127.0.0.1:8000/api/v1",
        base_url_var: Some("LEMONADE_BASE_URL"),
        json_schema: false,
        ..LOCAL
    },
    Preset {
        name: "docker",
        aliases: &["docker-model-runner", "dmr"],
        default_base_url: "http://127.0.0.1:12434/engines/v1",
        base_url_var: Some("DOCKER_MODEL_RUNNER_BASE_URL"),
        ..LOCAL
    },
    Preset {
        name: "mlx",
        aliases: &["mlx-lm", "mlx_lm"],
        default_base_url: "http://127.0.0.1:8080/v1",
        base_url_var: Some("MLX_BASE_URL"),
        json_schema: false,
        json_mode: false,
        stream_usage: false,
        ..LOCAL
    },
];

/// The preset for a provider name or alias (case-insensitive).
pub fn preset(name: &str) -> Option<&'static Preset> {
    let name = name.trim().to_ascii_lowercase();
    PRESETS
        .iter()
        .find(|p| p.name == name || p.aliases.contains(&name.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_is_complete_and_unique() {
        let mut names = std::collections::HashSet::new();
        for preset in PRESETS {
            assert!(names.insert(preset.name), "duplicate {}", preset.name);
            for alias in preset.aliases {
                assert!(names.insert(alias), "duplicate alias {alias}");
            }
            assert!(
                preset.base_url_var.is_some(),
                "{} has no base URL variable",
                preset.name
            );
            if preset.name != "azure" {
                assert!(
                    preset.default_base_url.starts_with("http"),
                    "{}",
                    preset.name
                );
            }
            if preset.key_required {
                assert!(
                    preset.key_var.is_some(),
                    "{} needs a key variable",
                    preset.name
                );
            }
            if preset.local {
                assert!(
                    preset.default_base_url.starts_with("http://127.0.0.1"),
                    "{}",
                    preset.name
                );
            }
        }
        assert_eq!(PRESETS.len(), 21);
    }

    #[test]
    fn finds_presets_by_alias() {
        assert_eq!(preset("LLAMA.CPP").map(|p| p.name), Some("llamacpp"));
        assert_eq!(
            preset("docker-model-runner").map(|p| p.name),
            Some("docker")
        );
        assert!(
            preset("ollama").is_none(),
            "Ollama has its own native crate"
        );
    }
}
