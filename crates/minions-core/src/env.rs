//! Every environment variable minions-rs reads, in one place.
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
/// Azure OpenAI API key.
pub const AZURE_OPENAI_API_KEY: &str = "AZURE_OPENAI_API_KEY";
/// Azure OpenAI resource endpoint, `https://NAME.openai.azure.com/`.
pub const AZURE_OPENAI_ENDPOINT: &str = "AZURE_OPENAI_ENDPOINT";
/// Azure OpenAI API version, for example `2024-02-15-preview`.
pub const AZURE_OPENAI_API_VERSION: &str = "AZURE_OPENAI_API_VERSION";
/// Anthropic API key.
pub const ANTHROPIC_API_KEY: &str = "ANTHROPIC_API_KEY";
/// Anthropic base URL override.
pub const ANTHROPIC_BASE_URL: &str = "ANTHROPIC_BASE_URL";
/// Together AI API key.
pub const TOGETHER_API_KEY: &str = "TOGETHER_API_KEY";
/// Together AI base URL override.
pub const TOGETHER_BASE_URL: &str = "TOGETHER_BASE_URL";
/// OpenRouter API key.
pub const OPENROUTER_API_KEY: &str = "OPENROUTER_API_KEY";
/// OpenRouter base URL override.
pub const OPENROUTER_BASE_URL: &str = "OPENROUTER_BASE_URL";
/// Perplexity API key.
pub const PERPLEXITY_API_KEY: &str = "PERPLEXITY_API_KEY";
/// Perplexity base URL override.
pub const PERPLEXITY_BASE_URL: &str = "PERPLEXITY_BASE_URL";
/// Groq API key.
pub const GROQ_API_KEY: &str = "GROQ_API_KEY";
/// Groq base URL override.
pub const GROQ_BASE_URL: &str = "GROQ_BASE_URL";
/// DeepSeek API key.
pub const DEEPSEEK_API_KEY: &str = "DEEPSEEK_API_KEY";
/// DeepSeek base URL override.
pub const DEEPSEEK_BASE_URL: &str = "DEEPSEEK_BASE_URL";
/// Mistral API key.
pub const MISTRAL_API_KEY: &str = "MISTRAL_API_KEY";
/// Mistral base URL override.
pub const MISTRAL_BASE_URL: &str = "MISTRAL_BASE_URL";
/// xAI API key.
pub const XAI_API_KEY: &str = "XAI_API_KEY";
/// xAI base URL override.
pub const XAI_BASE_URL: &str = "XAI_BASE_URL";
/// Google Gemini API key (used with Gemini's OpenAI-compatible endpoint).
pub const GEMINI_API_KEY: &str = "GEMINI_API_KEY";
/// Gemini base URL override.
pub const GEMINI_BASE_URL: &str = "GEMINI_BASE_URL";
/// Fireworks AI API key.
pub const FIREWORKS_API_KEY: &str = "FIREWORKS_API_KEY";
/// Fireworks AI base URL override.
pub const FIREWORKS_BASE_URL: &str = "FIREWORKS_BASE_URL";
/// Cerebras API key.
pub const CEREBRAS_API_KEY: &str = "CEREBRAS_API_KEY";
/// Cerebras base URL override.
pub const CEREBRAS_BASE_URL: &str = "CEREBRAS_BASE_URL";
/// SambaNova API key.
pub const SAMBANOVA_API_KEY: &str = "SAMBANOVA_API_KEY";
/// SambaNova base URL override.
pub const SAMBANOVA_BASE_URL: &str = "SAMBANOVA_BASE_URL";

/// Ollama server address (`host:port` or a URL), as the `ollama` CLI reads it.
pub const OLLAMA_HOST: &str = "OLLAMA_HOST";
/// Tokasaurus server base URL.
pub const TOKASAURUS_BASE_URL: &str = "TOKASAURUS_BASE_URL";
/// vLLM server base URL.
pub const VLLM_BASE_URL: &str = "VLLM_BASE_URL";
/// Optional key for a vLLM server started with `--api-key`.
pub const VLLM_API_KEY: &str = "VLLM_API_KEY";
/// SGLang server base URL.
pub const SGLANG_BASE_URL: &str = "SGLANG_BASE_URL";
/// llama.cpp server (`llama-server`) base URL.
pub const LLAMACPP_BASE_URL: &str = "LLAMACPP_BASE_URL";
/// LM Studio server base URL.
pub const LMSTUDIO_BASE_URL: &str = "LMSTUDIO_BASE_URL";
/// Lemonade server base URL.
pub const LEMONADE_BASE_URL: &str = "LEMONADE_BASE_URL";
/// Docker Model Runner base URL.
pub const DOCKER_MODEL_RUNNER_BASE_URL: &str = "DOCKER_MODEL_RUNNER_BASE_URL";
/// `mlx_lm.server` base URL.
pub const MLX_BASE_URL: &str = "MLX_BASE_URL";

/// Reads a variable, treating unset, blank and non-UTF-8 values alike as
/// absent. Surrounding whitespace is trimmed.
pub fn read(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|value| value.trim().to_string())
        .filter(|value| !value.is_empty())
}
