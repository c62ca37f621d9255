//! The checks every provider builder makes before it builds a client, in
//! one place so that the messages read the same for every provider.

use minions_core::{ApiKey, Error, ModelId, Result};

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
