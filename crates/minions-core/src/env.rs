//! The environment variables minions-rs reads, beside the providers' own:
//! each preset's entry in [`crate::presets`] names its key and base-URL
//! variables, and each native provider crate exports its own
//! (`minions_anthropic::API_KEY_VAR`, `minions_ollama::HOST_VAR`).
//!
//! Names follow what users of the Python reference implementation and of the
//! providers' own SDKs already have in their shells (`OPENAI_API_KEY`,
//! `MINIONS_LOCAL`, `OLLAMA_HOST`, ...), so an existing setup works as it is.

/// The local model as `provider/model`, for example `ollama/llama3.2`.
pub const MINIONS_LOCAL: &str = "MINIONS_LOCAL";
/// The remote model as `provider/model`, for example `openai/gpt-4o`.
pub const MINIONS_REMOTE: &str = "MINIONS_REMOTE";
/// Path of the `minions.toml` configuration file.
pub const MINIONS_CONFIG: &str = "MINIONS_CONFIG";
/// Path of a TOML file of prices that override the built-in table.
pub const MINIONS_PRICING: &str = "MINIONS_PRICING";
/// Bearer token required by `minions serve` when it binds beyond loopback.
pub const MINIONS_SERVER_TOKEN: &str = "MINIONS_SERVER_TOKEN";
/// Comma-separated endpoints of one local model, spread by least in-flight.
pub const MINIONS_LOCAL_ENDPOINTS: &str = "MINIONS_LOCAL_ENDPOINTS";

/// OpenAI API key.
pub const OPENAI_API_KEY: &str = "OPENAI_API_KEY";
/// OpenAI base URL override (proxies, gateways, compatible servers).
pub const OPENAI_BASE_URL: &str = "OPENAI_BASE_URL";
/// Azure OpenAI resource endpoint, `https://NAME.openai.azure.com/`.
pub const AZURE_OPENAI_ENDPOINT: &str = "AZURE_OPENAI_ENDPOINT";
/// Azure OpenAI API version, for example `2024-02-15-preview`.
pub const AZURE_OPENAI_API_VERSION: &str = "AZURE_OPENAI_API_VERSION";
/// Together AI API key.
pub const TOGETHER_API_KEY: &str = "TOGETHER_API_KEY";
/// Cerebras API key.
pub const CEREBRAS_API_KEY: &str = "CEREBRAS_API_KEY";

/// vLLM server base URL.
pub const VLLM_BASE_URL: &str = "VLLM_BASE_URL";
/// llama.cpp server (`llama-server`) base URL.
pub const LLAMACPP_BASE_URL: &str = "LLAMACPP_BASE_URL";

/// Reads a variable, treating unset, blank and non-UTF-8 values alike as
/// absent. Surrounding whitespace is trimmed.
pub fn read(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}
