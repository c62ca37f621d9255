//! API keys that never show up where they should not.

use std::fmt;

/// An API key or bearer token.
///
/// `Debug` and `Display` print `ApiKey(***)`, so a key cannot leak through a
/// log line, an error message or a `{:?}` of a config struct. The key itself
/// is only reachable through [`ApiKey::expose`], which the HTTP layer calls
/// when it builds a header. It is deliberately not `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key. Surrounding whitespace (a common copy-paste accident) is
    /// trimmed.
    pub fn new(key: impl Into<String>) -> Self {
        let key = key.into();
        let trimmed = key.trim();
        if trimmed.len() == key.len() {
            Self(key)
        } else {
            Self(trimmed.to_string())
        }
    }

    /// Reads a key from an environment variable; `None` when unset or blank.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .filter(|value| !value.trim().is_empty())
            .map(Self::new)
    }

    /// The key itself. Only for building request headers.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let key = ApiKey::new(" sk-secret-123\n");
        assert_eq!(key.expose(), "sk-secret-123");
        assert!(!format!("{key:?} {key}").contains("secret"));
    }
}
