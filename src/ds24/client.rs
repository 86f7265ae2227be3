//! The pooled HTTP client that calls Digistore24 (or the sandbox).
//!
//! One `Client` is built at start and shared: reqwest keeps a keep-alive
//! connection pool per host, and every call carries the caller's own key in
//! `X-DS-API-KEY`, never anything stored.

use super::{ApiKey, Envelope, EnvelopeError, FormBody, parse_envelope};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Upper bound for an upstream answer; larger bodies are refused, not buffered.
const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;
/// Longest wait between two attempts of a read, even if Retry-After asks for more.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(5);

/// Connection errors, 5xx and 429 may pass; anything else will not.
fn is_transient(error: &CallError) -> bool {
    match error {
        CallError::Connect(_) => true,
        CallError::Api { status, .. } | CallError::Http { status, .. } => *status == 429 || *status >= 500,
        _ => false,
    }
}

/// How one request to the upstream ended, for an [`Observer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// An answer came, with this HTTP status (an error envelope included).
    Status(u16),
    /// No complete answer in time.
    Timeout,
    /// The connection failed or broke.
    ConnectError,
    /// The answer was too large and dropped.
    TooLarge,
}

/// Told of every request to the upstream (each read retry too): function,
/// how it ended, how long it took. The metrics install one; `ds24` itself
/// knows nothing of metrics.
pub type Observer = fn(&'static str, Attempt, Duration);

/// How to reach the upstream API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL; the function name is appended as the last path segment.
    pub base_url: String,
    /// Timeout of one whole call (connect, send, receive).
    pub timeout: Duration,
    /// Told of every request, if set.
    pub observer: Option<Observer>,
}

/// Why an upstream call failed. Messages never contain the key.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    /// Digistore24 answered with its error envelope (under any HTTP status).
    #[error("Digistore24 error{}: {message}", code.map(|c| format!(" {c}")).unwrap_or_default())]
    Api {
        /// HTTP status of the answer.
        status: u16,
        /// Digistore24's error code, if any.
        code: Option<i64>,
        /// Digistore24's message, key redacted.
        message: String,
    },
    /// A non-2xx status without an envelope (proxy page, gateway error).
    #[error("Digistore24 answered HTTP {status} without an API answer: {snippet}")]
    Http {
        /// HTTP status.
        status: u16,
        /// The first characters of the body.
        snippet: String,
    },
    /// A 2xx answer that is not the envelope.
    #[error("Digistore24 answered HTTP {status} with something that is not an API answer ({reason}): {snippet}")]
    BadResponse {
        /// HTTP status.
        status: u16,
        /// What is wrong with the body.
        reason: EnvelopeError,
        /// The first characters of the body.
        snippet: String,
    },
    /// No complete answer within the timeout.
    #[error("Digistore24 did not answer within {0:?}; the call may or may not have taken effect")]
    Timeout(Duration),
    /// The connection could not be made or broke.
    #[error("could not reach Digistore24: {0}")]
    Connect(String),
    /// The answer exceeded [`MAX_RESPONSE_BYTES`].
    #[error("Digistore24's answer exceeded {MAX_RESPONSE_BYTES} bytes and was dropped")]
    TooLarge,
}

impl CallError {
    /// Short outcome label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Api { .. } => "api_error",
            CallError::Http { .. } => "http_error",
            CallError::BadResponse { .. } => "bad_response",
            CallError::Timeout(_) => "timeout",
            CallError::Connect(_) => "connect_error",
            CallError::TooLarge => "too_large",
        }
    }
}

/// Why the client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientBuildError {
    /// `--api-base-url` is not an absolute http(s) URL.
    #[error("the API base URL `{url}` is not an absolute http or https URL: {reason}")]
    BadBaseUrl { url: String, reason: String },
    /// The HTTP client itself (TLS set-up).
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

/// A cheap-to-clone handle on the shared connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    /// Parsed once: each call's URL is a copy with the function appended,
    /// not a new parse (parsing was ~4 % of a 1 KB call's instructions).
    base_url: Arc<reqwest::Url>,
    timeout: Duration,
    observer: Option<Observer>,
}

impl Client {
    /// Builds the pooled client.
    pub fn new(config: ClientConfig) -> Result<Self, ClientBuildError> {
        let bad = |reason: String| ClientBuildError::BadBaseUrl { url: config.base_url.clone(), reason };
        let base_url = reqwest::Url::parse(config.base_url.trim_end_matches('/')).map_err(|e| bad(e.to_string()))?;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() || base_url.query().is_some() {
            return Err(bad("it must look like https://host/api/call, without a query".into()));
        }
        let http = reqwest::Client::builder()
            .user_agent(concat!("digistore24-mcp/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .pool_idle_timeout(Duration::from_secs(90))
            // Above the default --max-concurrency (1024): calls finishing in waves
            // would otherwise close the surplus and open new ones (TIME-WAIT churn).
            .pool_max_idle_per_host(2048)
            .tcp_nodelay(true)
            .build()?;
        Ok(Client { http, base_url: Arc::new(base_url), timeout: config.timeout, observer: config.observer })
    }

    /// The URL a function is called at: the base URL with the function as its last path segment.
    pub fn url_for(&self, function: &str) -> reqwest::Url {
        let mut url = (*self.base_url).clone();
        url.path_segments_mut().expect("checked in new: the base URL can be a base").pop_if_empty().push(function);
        url
    }

    /// The configured base URL (without a trailing slash).
    pub fn base_url(&self) -> &str {
        self.base_url.as_str().trim_end_matches('/')
    }

    /// Checks that `key` works: calls the catalogue's key-check function
    /// (`ping`), which changes nothing; `Ok` only when Digistore24 answers `success`.
    pub async fn ping(&self, key: &ApiKey) -> Result<Value, CallError> {
        self.call(key, crate::catalog::KEY_CHECK, &FormBody::default()).await
    }

    /// Calls `function` with `body` as `key` once; returns the envelope's `data`.
    pub async fn call(&self, key: &ApiKey, function: &'static str, body: &FormBody) -> Result<Value, CallError> {
        self.attempt(key, function, body).await.map_err(|(e, _)| e)
    }

    /// Like [`Client::call`], but retries up to `retries` times on connection
    /// errors, 5xx and 429 (honouring `Retry-After` up to a cap), with
    /// exponential backoff and jitter. Only for calls that change nothing:
    /// a write is never repeated automatically.
    pub async fn call_read(&self, key: &ApiKey, function: &'static str, body: &FormBody, retries: u32) -> Result<Value, CallError> {
        let mut attempt = 0;
        loop {
            match self.attempt(key, function, body).await {
                Ok(data) => return Ok(data),
                Err((error, retry_after)) if attempt < retries && is_transient(&error) => {
                    let backoff = Duration::from_millis(100 * 2u64.pow(attempt)) + Duration::from_millis(rand::random_range(0..100));
                    let wait = retry_after.unwrap_or(backoff).min(MAX_RETRY_WAIT);
                    tracing::debug!(function, attempt, ?wait, error = %error, "retrying read");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err((error, _)) => return Err(error),
            }
        }
    }

    async fn attempt(&self, key: &ApiKey, function: &'static str, body: &FormBody) -> Result<Value, (CallError, Option<Duration>)> {
        let started = std::time::Instant::now();
        let result = self.send(key, function, body).await;
        if let Some(observe) = self.observer {
            let attempt = match &result {
                Ok(_) => Attempt::Status(200),
                Err((CallError::Api { status, .. } | CallError::Http { status, .. } | CallError::BadResponse { status, .. }, _)) => {
                    Attempt::Status(*status)
                }
                Err((CallError::Timeout(_), _)) => Attempt::Timeout,
                Err((CallError::Connect(_), _)) => Attempt::ConnectError,
                Err((CallError::TooLarge, _)) => Attempt::TooLarge,
            };
            observe(function, attempt, started.elapsed());
        }
        result
    }

    async fn send(&self, key: &ApiKey, function: &str, body: &FormBody) -> Result<Value, (CallError, Option<Duration>)> {
        let response = self
            .http
            .post(self.url_for(function))
            .header("X-DS-API-KEY", key.expose())
            .header(reqwest::header::ACCEPT, "application/json")
            .header(reqwest::header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=utf-8")
            .body(body.to_urlencoded())
            .send()
            .await
            .map_err(|e| (self.transport_error(key, e), None))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = read_bounded(response).await.map_err(|e| match e {
            ReadError::TooLarge => (CallError::TooLarge, None),
            ReadError::Transport(e) => (self.transport_error(key, e), None),
        })?;
        let error = match parse_envelope(&bytes) {
            Ok(Envelope::Success(data)) if (200..300).contains(&status) => return Ok(data),
            Ok(Envelope::Success(_)) => CallError::Http { status, snippet: snippet(key, &bytes) },
            Ok(Envelope::Error { code, message }) => CallError::Api { status, code, message: key.redact(&message) },
            Err(_) if !(200..300).contains(&status) => CallError::Http { status, snippet: snippet(key, &bytes) },
            Err(reason) => CallError::BadResponse { status, reason, snippet: snippet(key, &bytes) },
        };
        Err((error, retry_after))
    }

    fn transport_error(&self, key: &ApiKey, error: reqwest::Error) -> CallError {
        if error.is_timeout() {
            return CallError::Timeout(self.timeout);
        }
        // reqwest's message names the URL (no key in it) and the cause chain.
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        CallError::Connect(key.redact(&text))
    }
}

enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

async fn read_bounded(mut response: reqwest::Response) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n as usize > MAX_RESPONSE_BYTES) {
        return Err(ReadError::TooLarge);
    }
    let mut out = Vec::with_capacity(response.content_length().unwrap_or(1024).min(1 << 20) as usize);
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if out.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(ReadError::TooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

fn snippet(key: &ApiKey, bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]);
    key.redact(text.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base_url: &str) -> Result<Client, ClientBuildError> {
        Client::new(ClientConfig { base_url: base_url.into(), timeout: Duration::from_secs(1), observer: None })
    }

    #[test]
    fn the_function_is_the_last_path_segment_of_the_base_url() {
        for base in ["https://www.digistore24.com/api/call", "https://www.digistore24.com/api/call/", "http://127.0.0.1:8080/api/call"] {
            let url = client(base).unwrap().url_for("listProducts");
            assert_eq!(url.as_str(), format!("{}/listProducts", base.trim_end_matches('/')));
        }
        assert_eq!(client("http://127.0.0.1:8080").unwrap().url_for("ping").as_str(), "http://127.0.0.1:8080/ping");
        assert_eq!(client("http://127.0.0.1:8080/api/call/").unwrap().base_url(), "http://127.0.0.1:8080/api/call");
    }

    #[test]
    fn a_base_url_that_cannot_take_a_function_is_refused_at_start() {
        for base in ["", "not a url", "/api/call", "ftp://example.com/api", "mailto:vendor@example.com", "https://example.com/api?x=1"] {
            let error = client(base).err().unwrap_or_else(|| panic!("{base:?} was accepted"));
            assert!(matches!(error, ClientBuildError::BadBaseUrl { .. }), "{base:?}: {error}");
            assert!(error.to_string().contains("base URL"), "{error}");
        }
    }
}
