//! Header values that carry keys.

use minions_core::{ApiKey, Error, Result};
use reqwest::header::HeaderValue;

/// A header value for a key, marked sensitive so that HTTP-level logging and
/// `Debug` of the request never show it. A key with characters no header can
/// carry (a newline pasted in the middle) is a configuration error that does
/// not quote the key.
pub fn secret_header(key: &ApiKey, prefix: &str) -> Result<HeaderValue> {
    let mut value = HeaderValue::from_str(&format!("{prefix}{}", key.expose()))
        .map_err(|_| Error::config("the API key contains characters that cannot be sent in a header; check for stray spaces or line breaks"))?;
    value.set_sensitive(true);
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_values_sensitive_and_rejects_bad_keys_without_quoting_them() {
        let value = secret_header(&ApiKey::new("sk-1"), "Bearer ").unwrap();
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().unwrap(), "Bearer sk-1");
        let error = secret_header(&ApiKey::new("sk-a\nb"), "").unwrap_err();
        assert!(!error.to_string().contains("sk-a"));
    }
}
