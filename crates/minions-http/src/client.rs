//! The HTTP client every provider uses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use minions_core::{Error, Result, excerpt};
use reqwest::{Request, Response};
use serde::de::DeserializeOwned;

use crate::RetryPolicy;
use crate::error_capture::{ErrorContext, MAX_ERROR_BODY, http_error, root_cause, transport_error};

/// Timeouts and identity of the underlying reqwest client.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HttpConfig {
    /// Limit for opening a connection.
    pub connect_timeout: Duration,
    /// Limit for silence while waiting for the next bytes. There is no total
    /// timeout: a local model may stream for many minutes, and that is fine
    /// as long as it keeps sending. For a non-streamed answer this bounds the
    /// time to the whole answer, so it is generous by default.
    pub read_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(600),
            user_agent: concat!("minions-rs/", env!("CARGO_PKG_VERSION")).to_string(),
        }
    }
}

impl HttpConfig {
    fn build(&self) -> Result<reqwest::Client> {
        crate::install_crypto_provider();
        reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .user_agent(self.user_agent.clone())
            .tcp_nodelay(true)
            .build()
            .map_err(|e| Error::config(format!("cannot build the HTTP client: {}", root_cause(&e))))
    }
}

/// The process-wide client for the default configuration, so that every
/// provider shares one connection pool.
fn shared_default() -> Result<reqwest::Client> {
    static SHARED: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(client) = SHARED.get() {
        return Ok(client.clone());
    }
    let client = HttpConfig::default().build()?;
    Ok(SHARED.get_or_init(|| client).clone())
}

/// An HTTP client bound to one provider: it names the provider in errors,
/// knows which variable holds its key (for hints), and retries by the
/// provider's [`RetryPolicy`].
#[derive(Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
    provider: String,
    key_var: Option<String>,
    connect_hint: Option<String>,
    retry: RetryPolicy,
    config: HttpConfig,
    server: Arc<ServerSeen>,
}

/// What a client (and its clones) has seen of its server, for the retry
/// window: whether the server ever answered, and whether the user has been
/// told about the outage going on.
#[derive(Debug, Default)]
struct ServerSeen {
    answered: AtomicBool,
    outage_told: AtomicBool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("provider", &self.provider)
            .field("retry", &self.retry)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Builds an [`HttpClient`].
#[derive(Debug, Clone)]
pub struct HttpClientBuilder {
    provider: String,
    key_var: Option<String>,
    connect_hint: Option<String>,
    retry: RetryPolicy,
    config: HttpConfig,
}

impl HttpClientBuilder {
    /// The environment variable that holds this provider's key, named in
    /// hints for 401 and 403 answers.
    pub fn key_var(mut self, var: impl Into<String>) -> Self {
        self.key_var = Some(var.into());
        self
    }

    /// What to tell the user when the server cannot be reached, for example
    /// "is `ollama serve` running?".
    pub fn connect_hint(mut self, hint: impl Into<String>) -> Self {
        self.connect_hint = Some(hint.into());
        self
    }

    /// The retry policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Timeouts and user agent. A non-default configuration gets its own
    /// connection pool.
    pub fn config(mut self, config: HttpConfig) -> Self {
        self.config = config;
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<HttpClient> {
        let inner = if self.config == HttpConfig::default() {
            shared_default()?
        } else {
            self.config.build()?
        };
        Ok(HttpClient {
            inner,
            provider: self.provider,
            key_var: self.key_var,
            connect_hint: self.connect_hint,
            retry: self.retry,
            config: self.config,
            server: Arc::default(),
        })
    }
}

impl HttpClient {
    /// A builder for a client of the named provider.
    pub fn builder(provider: impl Into<String>) -> HttpClientBuilder {
        HttpClientBuilder {
            provider: provider.into(),
            key_var: None,
            connect_hint: None,
            retry: RetryPolicy::default(),
            config: HttpConfig::default(),
        }
    }

    /// A client with the default configuration and retry policy.
    pub fn new(provider: impl Into<String>) -> Result<Self> {
        Self::builder(provider).build()
    }

    /// The provider named in errors.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// The retry policy in force.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The underlying reqwest client, to build requests with.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// Sends a request, retrying what is retryable, and returns the response
    /// once a success status and its headers have arrived. The body is not
    /// read yet, so streams start flowing at once.
    ///
    /// Nothing is retried after a success status: a stream that breaks off
    /// later is the caller's error to report, never a silent re-send.
    pub async fn send(&self, request: Request) -> Result<Response> {
        let url = request.url().clone();
        let started = Instant::now();
        let mut attempt: u32 = 1;
        loop {
            let this_try = request.try_clone().ok_or_else(|| {
                Error::config("internal error: a request with a streaming body cannot be retried")
            })?;
            let error = match self.inner.execute(this_try).await {
                Ok(response) if response.status().is_success() => {
                    self.server.answered.store(true, Ordering::Relaxed);
                    if self.server.outage_told.swap(false, Ordering::Relaxed) {
                        tracing::warn!("{}: answering again", self.provider);
                    }
                    return Ok(response);
                }
                Ok(response) => {
                    self.server.answered.store(true, Ordering::Relaxed);
                    self.error_from_response(response).await
                }
                Err(error) => transport_error(
                    &self.provider,
                    &url,
                    &error,
                    self.connect_hint.as_deref(),
                    (self.config.connect_timeout, self.config.read_timeout),
                ),
            };
            if !error.is_retryable() {
                return Err(error);
            }
            self.wait_to_retry(attempt, started, error).await?;
            attempt += 1;
        }
    }

    /// After attempt number `attempt` of a request first tried at `started`
    /// failed with a retryable `error`: waits as the policy says and
    /// returns, or returns the error to give up with when the attempts (or
    /// the retry window) are used up (the error itself after one attempt,
    /// [`Error::RetriesExhausted`] after more). Serves [`Self::send`] and
    /// retries it cannot make itself: a whole answer that broke off while
    /// being read (see [`crate::ProviderClient::chat`]).
    ///
    /// The retry window applies once the server has answered at all: a
    /// server that is not there at the start fails as soon as usual.
    pub async fn wait_to_retry(&self, attempt: u32, started: Instant, error: Error) -> Result<()> {
        let windowed = self.server.answered.load(Ordering::Relaxed);
        let delay =
            self.retry
                .delay_within(attempt, error.retry_after(), started.elapsed(), windowed);
        let Some(delay) = delay else {
            if attempt == 1 {
                return Err(error);
            }
            return Err(Error::RetriesExhausted {
                provider: self.provider.clone(),
                attempts: attempt,
                last: Box::new(error),
            });
        };
        // One short line per retry, below the default level: the final
        // error (if any) says everything once; -v shows the retries.
        let what = match error.status() {
            Some(status) => format!("HTTP {status}"),
            None => error.kind().as_str().to_string(),
        };
        tracing::info!(
            "{}: {what}, retry {attempt} in {} ms",
            self.provider,
            delay.as_millis()
        );
        // Past the usual attempts, the wait may be long: one line says so,
        // once per outage however many requests wait on it.
        if let Some(window) = self.retry.retry_window
            && windowed
            && attempt >= self.retry.max_attempts
            && !self.server.outage_told.swap(true, Ordering::Relaxed)
        {
            tracing::warn!(
                "{}: {what}; retrying for up to {} s in all, in case the server is restarting or loading its model",
                self.provider,
                window.as_secs()
            );
        }
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// Sends a request (with retries) and decodes the JSON answer.
    pub async fn send_json<T: DeserializeOwned>(&self, request: Request) -> Result<T> {
        let response = self.send(request).await?;
        let body = self.read_body(response).await?;
        serde_json::from_slice(&body).map_err(|e| {
            let text = String::from_utf8_lossy(&body);
            let detail = if e.is_eof() {
                format!("the answer is cut off ({e})")
            } else {
                format!("unexpected JSON ({e})")
            };
            Error::decode(&self.provider, detail, text)
        })
    }

    /// Reads a whole body. A connection that drops while the body is read is
    /// a [`Error::Stream`], never a short answer.
    pub async fn read_body(&self, response: Response) -> Result<Bytes> {
        let mut stream = response.bytes_stream();
        let mut body = BytesMut::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.broken_body(&e))?;
            body.extend_from_slice(&chunk);
        }
        Ok(body.freeze())
    }

    /// The error for a body that broke off while being read.
    pub fn broken_body(&self, error: &reqwest::Error) -> Error {
        if error.is_timeout() {
            return Error::stream(
                &self.provider,
                format!(
                    "nothing arrived for {}s in the middle of the answer",
                    self.config.read_timeout.as_secs()
                ),
            );
        }
        Error::stream(
            &self.provider,
            format!(
                "the connection dropped in the middle of the answer ({})",
                root_cause(error)
            ),
        )
    }

    async fn error_from_response(&self, response: Response) -> Error {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = read_capped(response, MAX_ERROR_BODY).await;
        let context = ErrorContext {
            provider: &self.provider,
            key_var: self.key_var.as_deref(),
        };
        let error = http_error(&context, status, &headers, &body);
        tracing::debug!(provider = %self.provider, status, body = %excerpt(&body, 500), "error response");
        error
    }
}

/// Reads at most `limit` bytes of a body as (lossy) text. A body that breaks
/// off is returned as far as it came: for an error answer that is enough.
async fn read_capped(response: Response, limit: usize) -> String {
    let mut stream = response.bytes_stream();
    let mut body = Vec::new();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = limit.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= limit {
            break;
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}
