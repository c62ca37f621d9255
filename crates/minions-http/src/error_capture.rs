//! Turning failed HTTP exchanges into [`minions_core::Error`]s that say what
//! happened and what to do.

use std::time::{Duration, SystemTime};

use minions_core::{Error, HttpError, TimeoutPhase, excerpt};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// Error bodies are read up to this size; the rest is not worth the memory.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

/// Headers providers use for their request id, most common first.
const REQUEST_ID_HEADERS: [&str; 4] = ["x-request-id", "request-id", "x-amzn-requestid", "cf-ray"];

/// How long the server asked us to wait: `retry-after-ms` (OpenAI, Azure)
/// first, then `Retry-After` as seconds (integer or decimal) or as an HTTP
/// date. A date in the past means "now".
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(ms) = text("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let value = text("retry-after")?;
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The URL without query string or user info, for error messages: some
/// providers accept keys as query parameters, and those must never be shown.
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut clean = url.clone();
    clean.set_query(None);
    clean.set_fragment(None);
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.to_string()
}

/// The provider's request id, if it sent one.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok())
        .map(str::to_string)
}

/// Finds the message and code in the error bodies providers send:
/// OpenAI `{"error": {"message", "type", "code"}}`, Anthropic
/// `{"type": "error", "error": {"type", "message"}}`, Ollama
/// `{"error": "..."}`, and FastAPI-style `{"detail": ...}`.
fn message_and_code(body: &str) -> (Option<String>, Option<String>) {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return (None, None);
    };
    let as_text = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    };
    match json.get("error") {
        Some(Value::String(message)) => (Some(message.clone()), None),
        Some(error @ Value::Object(_)) => {
            let message = error.get("message").and_then(as_text);
            // `code` is more specific than `type` when both are present
            // (OpenAI: type "insufficient_quota"/code "insufficient_quota",
            // or type "invalid_request_error"/code "context_length_exceeded").
            let code = error
                .get("code")
                .and_then(as_text)
                .or_else(|| error.get("type").and_then(as_text));
            (message, code)
        }
        _ => {
            let message = json
                .get("message")
                .or_else(|| json.get("detail"))
                .and_then(as_text);
            (message, json.get("code").and_then(as_text))
        }
    }
}

/// Generic advice for a status; provider crates add their own on top.
fn status_hint(status: u16, code: Option<&str>, key_var: Option<&str>) -> Option<String> {
    let key = key_var
        .map(|var| format!("`{var}`"))
        .unwrap_or_else(|| "the API key".into());
    match (status, code) {
        (_, Some("insufficient_quota")) => Some(
            "the account is out of credit or over its quota: check billing with the provider"
                .into(),
        ),
        (401, _) => Some(format!("check that {key} is set to a valid key")),
        (403, _) => Some(format!(
            "{key} is not allowed to use this model or endpoint"
        )),
        (404, _) => Some("check the model name and the base URL".into()),
        (413, _) => {
            Some("the request is too large: use smaller chunks or a shorter context".into())
        }
        _ => None,
    }
}

/// What the HTTP client knows about the call when an error response arrives.
pub(crate) struct ErrorContext<'a> {
    pub provider: &'a str,
    pub key_var: Option<&'a str>,
}

/// Builds the error for a non-success response from its parts.
pub(crate) fn http_error(
    context: &ErrorContext<'_>,
    status: u16,
    headers: &HeaderMap,
    body: &str,
) -> Error {
    let (message, code) = message_and_code(body);
    let message = message.unwrap_or_else(|| {
        if body.trim().is_empty() {
            "(empty body)".to_string()
        } else {
            excerpt(body.trim(), 200)
        }
    });
    let hint = status_hint(status, code.as_deref(), context.key_var);
    HttpError {
        provider: context.provider.to_string(),
        status,
        message,
        code,
        body_excerpt: excerpt(body, 500),
        request_id: request_id(headers),
        retry_after: parse_retry_after(headers),
        hint,
    }
    .into()
}

/// Maps a transport error from reqwest.
pub(crate) fn transport_error(
    provider: &str,
    url: &reqwest::Url,
    error: &reqwest::Error,
    connect_hint: Option<&str>,
    timeouts: (Duration, Duration),
) -> Error {
    let url_text = redact_url(url);
    let (connect_timeout, read_timeout) = timeouts;
    if error.is_timeout() {
        let phase = if error.is_connect() {
            TimeoutPhase::Connect
        } else {
            TimeoutPhase::Read
        };
        let after = match phase {
            TimeoutPhase::Connect => connect_timeout,
            TimeoutPhase::Read => read_timeout,
        };
        return Error::Timeout {
            provider: provider.to_string(),
            url: url_text,
            phase,
            after,
        };
    }
    if error.is_builder() {
        return Error::config(format!(
            "invalid request to {provider} at {url_text}: {}",
            root_cause(error)
        ));
    }
    let detail = if error.is_connect() {
        root_cause(error)
    } else {
        format!(
            "the connection closed before the answer started ({})",
            root_cause(error)
        )
    };
    Error::Connect {
        provider: provider.to_string(),
        url: url_text,
        detail,
        hint: connect_hint.map(str::to_string),
    }
}

/// The innermost error message: "Connection refused (os error 111)" rather
/// than "error sending request for url (...)", which would repeat the URL
/// with its query string.
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(source) = current.source() {
        current = source;
    }
    current.to_string()
}

#[cfg(test)]
mod tests {
    use reqwest::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn retry_after_in_all_its_spellings() {
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "2")])),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "1.5")])),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after(&headers(&[
                ("retry-after", "10"),
                ("retry-after-ms", "250")
            ])),
            Some(Duration::from_millis(250))
        );
        let soon = SystemTime::now() + Duration::from_secs(30);
        let date = httpdate::fmt_http_date(soon);
        let parsed = parse_retry_after(&headers(&[("retry-after", &date)])).unwrap();
        assert!(
            parsed > Duration::from_secs(27) && parsed <= Duration::from_secs(30),
            "{parsed:?}"
        );
        let past = httpdate::fmt_http_date(SystemTime::now() - Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse_retry_after(&headers(&[("retry-after", "soon")])),
            None
        );
        assert_eq!(parse_retry_after(&headers(&[("retry-after", "-1")])), None);
        assert_eq!(parse_retry_after(&headers(&[])), None);
    }

    #[test]
    fn reads_the_error_bodies_of_each_provider() {
        let context = ErrorContext {
            provider: "openai",
            key_var: Some("OPENAI_API_KEY"),
        };
        let openai = r#"{"error": {"message": "You exceeded your current quota", "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}"#;
        let err = http_error(
            &context,
            429,
            &headers(&[("x-request-id", "req_9")]),
            openai,
        );
        assert_eq!(err.status(), Some(429));
        assert!(!err.is_retryable());
        let text = err.to_string();
        assert!(
            text.contains("You exceeded your current quota") && text.contains("req_9"),
            "{text}"
        );
        assert!(text.contains("billing"), "{text}");

        let anthropic =
            r#"{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}"#;
        let err = http_error(&context, 529, &headers(&[("request-id", "r1")]), anthropic);
        assert!(err.is_retryable());
        assert!(
            err.to_string().contains("(overloaded_error): Overloaded"),
            "{err}"
        );

        let ollama = r#"{"error": "model \"llama3.2\" not found, try pulling it first"}"#;
        let err = http_error(&context, 404, &headers(&[]), ollama);
        assert!(err.to_string().contains("try pulling it first"), "{err}");

        let err = http_error(&context, 401, &headers(&[]), "<html>nope</html>");
        let text = err.to_string();
        assert!(
            text.contains("<html>nope</html>") && text.contains("`OPENAI_API_KEY`"),
            "{text}"
        );

        let err = http_error(&context, 502, &headers(&[]), "");
        assert!(err.to_string().contains("(empty body)"), "{err}");
    }

    #[test]
    fn urls_lose_their_secrets() {
        let url =
            reqwest::Url::parse("https://user:pw@example.test/v1/models?key=SECRET#x").unwrap();
        assert_eq!(redact_url(&url), "https://example.test/v1/models");
    }
}
