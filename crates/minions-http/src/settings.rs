//! What every provider builder shares: its connection settings with their
//! setters, and the checks made before a client is built, in one place so
//! that the builders and their messages read the same for every provider.

use minions_core::{ApiKey, Error, ModelId, Result};

use crate::{HttpConfig, RetryPolicy};

/// Where a provider is and how to reach it: what every provider builder
/// takes besides its own options.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    /// The base URL; the provider's variable or default when unset.
    pub base_url: Option<String>,
    /// The API key; the provider's variable when unset.
    pub api_key: Option<ApiKey>,
    /// Timeouts and user agent.
    pub http: HttpConfig,
    /// The retry policy.
    pub retry: RetryPolicy,
}

/// The setters every provider builder has, over its [`Connection`].
pub trait ConnectionSettings: Sized {
    /// The builder's connection settings.
    fn connection(&mut self) -> &mut Connection;

    /// The base URL.
    fn base_url(mut self, url: impl Into<String>) -> Self {
        self.connection().base_url = Some(url.into());
        self
    }

    /// The API key (a provider that takes none, such as Ollama, ignores it).
    fn api_key(mut self, key: ApiKey) -> Self {
        self.connection().api_key = Some(key);
        self
    }

    /// Timeouts. A non-default configuration gets its own connection pool.
    fn http_config(mut self, config: HttpConfig) -> Self {
        self.connection().http = config;
        self
    }

    /// The retry policy.
    fn retry(mut self, retry: RetryPolicy) -> Self {
        self.connection().retry = retry;
        self
    }
}

/// The key, or an error that names the variable to set.
pub fn require_key(id: &ModelId, key: Option<ApiKey>, var: &str) -> Result<ApiKey> {
    key.ok_or_else(|| {
        Error::config(format!(
            "{id} needs an API key: set {var} (export {var}=...)"
        ))
    })
}

/// A base URL without its trailing slash, or an error when it is not an
/// http(s) URL that names where it came from (`check_hint`, usually the
/// variable).
pub fn checked_base_url(id: &ModelId, url: &str, check_hint: &str) -> Result<String> {
    let base = url.trim_end_matches('/').to_string();
    if base.starts_with("http://") || base.starts_with("https://") {
        Ok(base)
    } else {
        Err(Error::config(format!(
            "{id}: base URL `{base}` must start with http:// or https:// (check {check_hint})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_to_set() {
        let id = ModelId::new("openai", "gpt-4o");
        let error = require_key(&id, None, "OPENAI_API_KEY").unwrap_err();
        assert!(error.to_string().contains("export OPENAI_API_KEY="));
        assert_eq!(
            checked_base_url(&id, "http://h/v1/", "X").unwrap(),
            "http://h/v1"
        );
        let error = checked_base_url(&id, "h:1", "OPENAI_BASE_URL").unwrap_err();
        assert!(error.to_string().contains("check OPENAI_BASE_URL"));
    }
}
