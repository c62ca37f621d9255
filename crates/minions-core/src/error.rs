//! The error every model call returns.

use std::fmt;
use std::time::Duration;

/// Result with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// HTTP statuses worth another try: timeouts, rate limits, and server-side
/// trouble (529 is Anthropic's "overloaded").
const RETRYABLE_STATUSES: [u16; 7] = [408, 429, 500, 502, 503, 504, 529];

/// Which part of a call ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Opening the connection; nothing was sent, so a retry is safe.
    Connect,
    /// Waiting for the next bytes of the answer.
    Read,
}

/// A coarse classification of [`Error`], for exit codes and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The provider answered with an error status.
    Http,
    /// The provider could not be reached.
    Connect,
    /// The provider stopped answering.
    Timeout,
    /// A streamed answer broke off.
    Stream,
    /// The answer could not be understood.
    Decode,
    /// Retries ran out.
    RetriesExhausted,
    /// Our own configuration is wrong (missing key, bad URL, unknown provider).
    Config,
    /// The request cannot succeed as asked (prompt too long, model missing).
    InvalidRequest,
    /// The caller cancelled.
    Cancelled,
}

impl ErrorKind {
    /// The kind's name in snake case (`http`, `retries_exhausted`), for
    /// logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http => "http",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Stream => "stream",
            ErrorKind::Decode => "decode",
            ErrorKind::RetriesExhausted => "retries_exhausted",
            ErrorKind::Config => "config",
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Cancelled => "cancelled",
        }
    }
}

/// Everything that can go wrong when calling a model.
///
/// Every variant names the provider, and messages say what to do next. API
/// keys never appear here: body excerpts come from the server's answer, never
/// from our request.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The provider answered with an HTTP error status. Boxed, because it
    /// carries the most detail and errors should stay small to move around.
    Http(Box<HttpError>),
    /// The provider could not be reached.
    Connect {
        /// Provider name.
        provider: String,
        /// The address we tried.
        url: String,
        /// What the network stack said.
        detail: String,
        /// What the user can do about it (start the server, check the URL).
        hint: Option<String>,
    },
    /// No answer arrived in time.
    Timeout {
        /// Provider name.
        provider: String,
        /// The address we tried.
        url: String,
        /// Connecting or reading.
        phase: TimeoutPhase,
        /// The limit that ran out.
        after: Duration,
    },
    /// A streamed answer broke off before its end marker.
    Stream {
        /// Provider name.
        provider: String,
        /// What happened.
        detail: String,
    },
    /// The answer arrived but could not be decoded.
    Decode {
        /// Provider name.
        provider: String,
        /// What was wrong with it.
        detail: String,
        /// The start of the offending body.
        body_excerpt: String,
    },
    /// A retryable error kept happening until the retry budget ran out.
    RetriesExhausted {
        /// Provider name.
        provider: String,
        /// How many attempts were made in total.
        attempts: u32,
        /// The error of the last attempt.
        last: Box<Error>,
    },
    /// Our configuration is wrong: a missing key, a bad URL, an unknown
    /// provider. The message says which setting to change.
    Config(String),
    /// The request cannot succeed as asked: a prompt longer than the model's
    /// context, a model that is not installed.
    InvalidRequest {
        /// Provider name.
        provider: String,
        /// What is wrong and what to do.
        message: String,
    },
    /// The caller cancelled the call.
    Cancelled,
}

/// An HTTP error answer from a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// Provider name, for example `openai`.
    pub provider: String,
    /// The HTTP status code.
    pub status: u16,
    /// The provider's own error message, or a short excerpt of the body.
    pub message: String,
    /// The provider's error code or type (`insufficient_quota`,
    /// `overloaded_error`, ...), when it gave one.
    pub code: Option<String>,
    /// The start of the response body, for debugging.
    pub body_excerpt: String,
    /// The provider's request id, to quote to its support.
    pub request_id: Option<String>,
    /// How long the provider asked us to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// What the user can do about it, when we know.
    pub hint: Option<String>,
}

impl HttpError {
    /// Whether the provider said the account is out of credit, which no
    /// amount of waiting fixes.
    pub fn is_out_of_credit(&self) -> bool {
        self.code.as_deref() == Some("insufficient_quota")
            || self.message.contains("insufficient_quota")
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} returned HTTP {}", self.provider, self.status)?;
        if let Some(reason) = status_reason(self.status) {
            write!(f, " {reason}")?;
        }
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " [request id {id}]")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; {hint}")?;
        }
        Ok(())
    }
}

impl From<HttpError> for Error {
    fn from(error: HttpError) -> Self {
        Error::Http(Box::new(error))
    }
}

impl Error {
    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Error::Config(message.into())
    }

    /// A request that cannot succeed as asked.
    pub fn invalid_request(provider: impl Into<String>, message: impl Into<String>) -> Self {
        Error::InvalidRequest {
            provider: provider.into(),
            message: message.into(),
        }
    }

    /// An answer that could not be decoded.
    pub fn decode(
        provider: impl Into<String>,
        detail: impl Into<String>,
        body: impl AsRef<str>,
    ) -> Self {
        Error::Decode {
            provider: provider.into(),
            detail: detail.into(),
            body_excerpt: excerpt(body.as_ref(), 300),
        }
    }

    /// A stream that broke off.
    pub fn stream(provider: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::Stream {
            provider: provider.into(),
            detail: detail.into(),
        }
    }

    /// The coarse kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Http(_) => ErrorKind::Http,
            Error::Connect { .. } => ErrorKind::Connect,
            Error::Timeout { .. } => ErrorKind::Timeout,
            Error::Stream { .. } => ErrorKind::Stream,
            Error::Decode { .. } => ErrorKind::Decode,
            Error::RetriesExhausted { .. } => ErrorKind::RetriesExhausted,
            Error::Config(_) => ErrorKind::Config,
            Error::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Error::Cancelled => ErrorKind::Cancelled,
        }
    }

    /// The provider involved, when there is one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Error::Http(http) => Some(&http.provider),
            Error::Connect { provider, .. }
            | Error::Timeout { provider, .. }
            | Error::Stream { provider, .. }
            | Error::Decode { provider, .. }
            | Error::RetriesExhausted { provider, .. }
            | Error::InvalidRequest { provider, .. } => Some(provider),
            Error::Config(_) | Error::Cancelled => None,
        }
    }

    /// The HTTP status, for HTTP errors (also through exhausted retries).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Http(http) => Some(http.status),
            Error::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Whether the same request may succeed if sent again.
    ///
    /// True for 408, 429, 500, 502, 503, 504 and 529, except a 429 that says
    /// the account is out of credit (`insufficient_quota`), which no amount of
    /// waiting fixes; true for failures to connect and connect timeouts, where
    /// nothing reached the server. False for everything else, including
    /// validation errors, undecodable answers and broken streams (bytes
    /// already arrived, and a retry would silently duplicate work).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Http(http) => {
                RETRYABLE_STATUSES.contains(&http.status) && !http.is_out_of_credit()
            }
            Error::Connect { .. } => true,
            Error::Timeout { phase, .. } => *phase == TimeoutPhase::Connect,
            _ => false,
        }
    }

    /// How long the provider asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Http(http) => http.retry_after,
            _ => None,
        }
    }

    /// Whether this means the server is not there at all (as opposed to
    /// answering badly), also through exhausted retries. The protocols stop a
    /// run at once on this instead of spending more on the remote model.
    pub fn is_unreachable(&self) -> bool {
        match self {
            Error::Connect { .. } => true,
            Error::Timeout { phase, .. } => *phase == TimeoutPhase::Connect,
            Error::RetriesExhausted { last, .. } => last.is_unreachable(),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Http(http) => http.fmt(f),
            Error::Connect {
                provider,
                url,
                detail,
                hint,
            } => {
                write!(f, "cannot reach {provider} at {url}: {detail}")?;
                if let Some(hint) = hint {
                    write!(f, "; {hint}")?;
                }
                Ok(())
            }
            Error::Timeout {
                provider,
                url,
                phase,
                after,
            } => match phase {
                TimeoutPhase::Connect => write!(
                    f,
                    "cannot reach {provider} at {url}: no connection within {}s; check the URL and that the server is up",
                    after.as_secs_f32()
                ),
                TimeoutPhase::Read => write!(
                    f,
                    "{provider} at {url} sent nothing for {}s; the model may be overloaded, or raise the read timeout",
                    after.as_secs_f32()
                ),
            },
            Error::Stream { provider, detail } => {
                write!(
                    f,
                    "{provider}'s answer broke off before it finished: {detail}"
                )
            }
            Error::Decode {
                provider,
                detail,
                body_excerpt,
            } => {
                write!(f, "could not understand {provider}'s answer: {detail}")?;
                if !body_excerpt.is_empty() {
                    write!(f, " (body starts: {body_excerpt:?})")?;
                }
                Ok(())
            }
            Error::RetriesExhausted {
                provider,
                attempts,
                last,
            } => write!(
                f,
                "gave up on {provider} after {attempts} attempts; last error: {last}"
            ),
            Error::Config(message) => f.write_str(message),
            Error::InvalidRequest { provider, message } => write!(f, "{provider}: {message}"),
            Error::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::RetriesExhausted { last, .. } => Some(last.as_ref()),
            _ => None,
        }
    }
}

/// The standard reason phrase of the statuses providers actually send.
fn status_reason(status: u16) -> Option<&'static str> {
    Some(match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        529 => "Overloaded",
        _ => return None,
    })
}

/// The first `max_chars` characters of `text`, with `…` when cut. Never
/// splits a character.
pub fn excerpt(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(status: u16, code: Option<&str>) -> Error {
        HttpError {
            provider: "openai".into(),
            status,
            message: "something".into(),
            code: code.map(str::to_string),
            body_excerpt: String::new(),
            request_id: Some("req_1".into()),
            retry_after: None,
            hint: None,
        }
        .into()
    }

    #[test]
    fn classifies_retryable_statuses() {
        for status in RETRYABLE_STATUSES {
            assert!(http(status, None).is_retryable(), "{status}");
        }
        for status in [400, 401, 403, 404, 413, 422] {
            assert!(!http(status, None).is_retryable(), "{status}");
        }
        assert!(!http(429, Some("insufficient_quota")).is_retryable());
    }

    #[test]
    fn messages_name_provider_status_and_request_id() {
        let text = http(429, Some("rate_limit_exceeded")).to_string();
        assert_eq!(
            text,
            "openai returned HTTP 429 Too Many Requests (rate_limit_exceeded): something [request id req_1]"
        );
        let exhausted = Error::RetriesExhausted {
            provider: "openai".into(),
            attempts: 5,
            last: Box::new(http(503, None)),
        };
        assert!(exhausted.to_string().contains("after 5 attempts"));
        assert_eq!(exhausted.status(), Some(503));
        assert_eq!(exhausted.kind(), ErrorKind::RetriesExhausted);
    }

    #[test]
    fn excerpt_never_splits_characters() {
        assert_eq!(excerpt("héllo wörld", 4), "héll…");
        assert_eq!(excerpt("short", 10), "short");
    }
}
