//! The HTTP application: MCP over stateless Streamable HTTP at `/mcp`, plus
//! `/health` and `/test-api-key`.
//!
//! Owns: routes, the per-request API key (taken from that request alone and
//! handed to the MCP handler through request extensions), Host/Origin
//! policy, body limits and the listener (with `TCP_NODELAY`).
//! Must not touch: tool logic (see [`crate::mcp`]) or upstream encoding
//! (see [`crate::ds24`]). Nothing here keeps state between requests, so any
//! replica can answer any request.

use crate::catalog::{FUNCTIONS, TOOLSETS};
use crate::ds24::{ApiKey, CallError};
use crate::mcp::{CallContext, Ds24Server, Narrowing, ToolFilter};
use crate::ops::metrics;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Settings of the HTTP front.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Extra `Host` values to accept besides loopback; `*` accepts any.
    pub allowed_hosts: Vec<String>,
    /// Extra browser origins to accept besides loopback; `*` accepts any.
    pub allowed_origins: Vec<String>,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Most MCP requests served at once; more get 503 at once (0 = no limit).
    pub max_concurrency: usize,
    /// Whether `/ready` says yes; cleared while draining.
    pub readiness: Readiness,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            max_concurrency: 1024,
            readiness: Readiness::default(),
        }
    }
}

/// Shared ready flag and count of requests in flight: `/ready` answers 200
/// while ready, 503 once draining starts.
#[derive(Debug, Clone)]
pub struct Readiness {
    ready: Arc<AtomicBool>,
    in_flight: Arc<AtomicUsize>,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness { ready: Arc::new(AtomicBool::new(true)), in_flight: Arc::default() }
    }
}

impl Readiness {
    /// Starts draining: `/ready` answers 503 from now on.
    pub fn drain(&self) {
        self.ready.store(false, Ordering::SeqCst);
    }

    /// Whether the instance takes new traffic.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// HTTP requests being answered right now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }
}

/// Counts one request as in flight until dropped.
struct InFlightGuard(Arc<AtomicUsize>, #[allow(dead_code)] metrics::InFlight);

impl InFlightGuard {
    fn start(readiness: &Readiness) -> Self {
        readiness.in_flight.fetch_add(1, Ordering::SeqCst);
        InFlightGuard(readiness.in_flight.clone(), metrics::InFlight::start())
    }
}

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const LOOPBACK_ORIGINS: [&str; 6] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*", "https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*"];

#[derive(Clone)]
struct AppState {
    server: Ds24Server,
    started: Instant,
    readiness: Readiness,
    slots: Option<Arc<Semaphore>>,
}

/// Builds the whole application router. `hard_stop` aborts MCP requests
/// still running when the shutdown deadline has passed.
pub fn router(server: Ds24Server, config: &HttpConfig, hard_stop: CancellationToken) -> Router {
    metrics::install();
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(config.max_body_bytes)
        .with_cancellation_token(hard_stop);
    mcp_config = if config.allowed_hosts.iter().any(|h| h == "*") {
        mcp_config.disable_allowed_hosts()
    } else {
        mcp_config.with_allowed_hosts(LOOPBACK_HOSTS.iter().map(|h| h.to_string()).chain(config.allowed_hosts.iter().cloned()))
    };
    mcp_config = if config.allowed_origins.iter().any(|o| o == "*") {
        mcp_config.disable_allowed_origins()
    } else {
        mcp_config
            .with_allowed_origins(LOOPBACK_ORIGINS.iter().map(|o| o.to_string()).chain(config.allowed_origins.iter().cloned()))
            .enforce_origin_validation()
    };
    let handler = server.clone();
    let mcp = StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(NeverSessionManager::default()), mcp_config);
    let slots = (config.max_concurrency > 0).then(|| Arc::new(Semaphore::new(config.max_concurrency)));
    let state = AppState { server, started: Instant::now(), readiness: config.readiness.clone(), slots };
    // The narrowing paths serve the same stateless service; the middleware
    // reads the narrowing from the path and headers.
    let mcp_routes = Router::new()
        .route_service("/mcp", mcp.clone())
        .route_service("/mcp/readonly", mcp.clone())
        .route_service("/mcp/x/{toolsets}", mcp.clone())
        .route_service("/mcp/x/{toolsets}/readonly", mcp)
        .layer(middleware::from_fn_with_state(state.clone(), attach_key))
        .layer(middleware::from_fn_with_state(config.max_body_bytes, check_jsonrpc_body))
        .layer(middleware::from_fn_with_state(state.clone(), limit_concurrency));
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .route("/test-api-key", get(test_api_key).post(test_api_key))
        .with_state(state)
        .merge(mcp_routes)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(config.max_body_bytes))
        .layer(middleware::from_fn_with_state(config.readiness.clone(), request_id))
}

/// The stages of a graceful stop, each a token the caller cancels in turn.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    /// Close the listening socket, after taking every connection already
    /// waiting in its queue (those are served, not reset).
    pub stop_accepting: CancellationToken,
    /// Let open connections finish their requests, then close them.
    pub close_connections: CancellationToken,
    /// Abort MCP requests still running (the deadline has passed).
    pub hard_stop: CancellationToken,
}

/// Serves `app` on `listener` (over TLS when `tls` is given) through the
/// stages of `shutdown`. Sets `TCP_NODELAY` on every accepted socket (without
/// it, SSE-framed answers stall ~40 ms).
pub async fn serve(listener: TcpListener, app: Router, shutdown: &Shutdown, tls: Option<TlsFiles<'_>>) -> std::io::Result<()> {
    let close = shutdown.close_connections.clone();
    let stop = shutdown.stop_accepting.clone();
    match tls {
        None => {
            let listener = QueuedListener::spawn(listener, stop, |tcp| async move { Some(tcp) })?;
            axum::serve(listener, app).with_graceful_shutdown(async move { close.cancelled().await }).await
        }
        Some(files) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config(files.cert, files.key)?));
            let listener = QueuedListener::spawn(listener, stop, move |tcp| {
                let acceptor = acceptor.clone();
                async move {
                    match tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp)).await {
                        Ok(Ok(tls)) => Some(tls),
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, "TLS handshake failed");
                            None
                        }
                        Err(_) => {
                            tracing::debug!("TLS handshake timed out");
                            None
                        }
                    }
                }
            })?;
            axum::serve(listener, app).with_graceful_shutdown(async move { close.cancelled().await }).await
        }
    }
}

/// PEM files of a certificate chain and its private key.
#[derive(Debug, Clone, Copy)]
pub struct TlsFiles<'a> {
    /// Certificate chain.
    pub cert: &'a std::path::Path,
    /// Private key.
    pub key: &'a std::path::Path,
}

fn set_nodelay(tcp: &tokio::net::TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::warn!(error = %e, "could not set TCP_NODELAY");
    }
}

fn tls_config(cert_path: &std::path::Path, key_path: &std::path::Path) -> std::io::Result<tokio_rustls::rustls::ServerConfig> {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: &str, e: &dyn std::fmt::Display| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{what}: {e}"));
    let certs = CertificateDer::pem_file_iter(cert_path)
        .map_err(|e| invalid(&format!("cannot read certificate {}", cert_path.display()), &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("bad certificate", &e))?;
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|e| invalid(&format!("cannot read key {}", key_path.display()), &e))?;
    let mut config = tokio_rustls::rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid("certificate and key do not match", &e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Accepts connections in a task of its own and hands them to axum through a
/// queue. The task runs each connection's set-up (a TLS handshake, say) off
/// the accept loop, so one slow client cannot hold up the others; and when
/// `stop` fires it first takes every connection already waiting in the
/// kernel's queue, then closes the socket, so a proxy sees "refused" (and
/// retries elsewhere) instead of a reset on a request it already sent.
struct QueuedListener<Io> {
    ready: tokio::sync::mpsc::Receiver<(Io, std::net::SocketAddr)>,
    local: std::net::SocketAddr,
}

impl<Io: Send + 'static> QueuedListener<Io> {
    fn spawn<F, Fut>(listener: TcpListener, stop: CancellationToken, set_up: F) -> std::io::Result<Self>
    where
        F: Fn(tokio::net::TcpStream) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Option<Io>> + Send + 'static,
    {
        use futures::FutureExt;
        let local = listener.local_addr()?;
        let (tx, ready) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(async move {
            let hand_over = |tcp: tokio::net::TcpStream, peer: std::net::SocketAddr| {
                set_nodelay(&tcp);
                let (sender, connection) = (tx.clone(), set_up(tcp));
                tokio::spawn(async move {
                    if let Some(io) = connection.await {
                        let _ = sender.send((io, peer)).await;
                    }
                });
            };
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((tcp, peer)) => hand_over(tcp, peer),
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        }
                    },
                    _ = stop.cancelled() => {
                        let mut queued = 0;
                        while let Some(Ok((tcp, peer))) = listener.accept().now_or_never() {
                            hand_over(tcp, peer);
                            queued += 1;
                        }
                        tracing::info!(queued, "listener closed");
                        break;
                    }
                }
            }
            // Dropping the listener here closes the socket.
        });
        Ok(QueuedListener { ready, local })
    }
}

impl<Io> axum::serve::Listener for QueuedListener<Io>
where
    Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    type Io = Io;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The listener is closed: nothing more will come.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The key a request brings: `Authorization: Bearer KEY` or `X-DS-API-KEY`.
pub fn key_from_headers(headers: &HeaderMap) -> Option<ApiKey> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .and_then(ApiKey::new);
    bearer.or_else(|| headers.get("x-ds-api-key").and_then(|v| v.to_str().ok()).and_then(ApiKey::new))
}

/// The id of the HTTP request (from `X-Request-Id` or generated).
#[derive(Debug, Clone)]
struct RequestId(String);

/// Hands the MCP handler this request's [`CallContext`]: its key (the
/// server-wide key only as a fallback), its narrowing and its id. Over
/// stateless HTTP the server can never ask the client mid-call.
async fn attach_key(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let narrowing = match narrowing(request.uri().path(), request.headers()) {
        Ok(narrowing) => narrowing,
        Err(message) => return jsonrpc_error(StatusCode::BAD_REQUEST, -32600, &message),
    };
    let Some(key) = state.server.key_for(key_from_headers(request.headers())) else { return missing_key() };
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone());
    request.extensions_mut().insert(CallContext { key: Some(key), narrowing, request_id, can_ask_mid_call: false });
    next.run(request).await
}

/// The narrowing a request asks for with `X-MCP-Toolsets`, `X-MCP-Tools`,
/// `X-MCP-Readonly` or the paths `/mcp/readonly`, `/mcp/x/{toolsets}[/readonly]`.
/// Every part only removes tools; unknown names are an error, not a silent empty list.
pub fn narrowing(path: &str, headers: &HeaderMap) -> Result<Option<Narrowing>, String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let mut filter = ToolFilter::default();
    let mut sources = Vec::new();
    let rest = path.strip_prefix("/mcp").unwrap_or("");
    let (path_toolsets, path_readonly) = match rest.trim_end_matches('/') {
        "" => (None, false),
        "/readonly" => (None, true),
        other => match other.strip_prefix("/x/") {
            Some(x) => match x.strip_suffix("/readonly") {
                Some(sets) => (Some(sets.to_owned()), true),
                None => (Some(x.to_owned()), false),
            },
            None => (None, false),
        },
    };
    let mut toolsets: Option<HashSet<String>> = None;
    for (list, source) in [(path_toolsets.as_deref(), "the URL path"), (header("x-mcp-toolsets"), "header X-MCP-Toolsets")] {
        let Some(list) = list else { continue };
        let named = names(list);
        if let Some(unknown) = named.iter().find(|t| !TOOLSETS.contains(&t.as_str())) {
            return Err(format!("unknown toolset `{unknown}` in {source}; known: {}", TOOLSETS.join(", ")));
        }
        // Two narrowings together leave only what both allow.
        toolsets = Some(match toolsets {
            Some(previous) => previous.intersection(&named).cloned().collect(),
            None => named,
        });
        sources.push(source.to_owned());
    }
    filter.toolsets = toolsets;
    if let Some(list) = header("x-mcp-tools") {
        let named = names(list);
        if let Some(unknown) = named.iter().find(|t| !FUNCTIONS.iter().any(|f| f.name == t.as_str())) {
            return Err(format!("unknown tool `{unknown}` in header X-MCP-Tools"));
        }
        filter.tools = Some(named);
        sources.push("header X-MCP-Tools".into());
    }
    if path_readonly {
        filter.read_only = true;
        sources.push("the URL path /readonly".into());
    }
    if let Some(value) = header("x-mcp-readonly") {
        match crate::ds24::parse_bool(&serde_json::Value::String(value.to_owned())) {
            Some(true) => {
                filter.read_only = true;
                sources.push("header X-MCP-Readonly".into());
            }
            Some(false) => {}
            None => return Err(format!("header X-MCP-Readonly must be true or false, not `{value}`")),
        }
    }
    Ok((!sources.is_empty()).then(|| Narrowing { filter, source: sources.join(" and ") }))
}

fn names(list: &str) -> HashSet<String> {
    list.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect()
}

fn jsonrpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

fn missing_key() -> Response {
    let message = "Missing Digistore24 API key: send it as `Authorization: Bearer YOUR_KEY` or `X-DS-API-KEY: YOUR_KEY`.";
    let mut response = jsonrpc_error(StatusCode::UNAUTHORIZED, -32001, message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer realm=\"digistore24-mcp\""));
    response
}

/// Takes `X-Request-Id` (or makes one), hands it to the handler, returns it,
/// and logs one line per HTTP request.
async fn request_id(State(readiness): State<Readiness>, mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    request.extensions_mut().insert(RequestId(id.clone()));
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = Instant::now();
    let _in_flight = InFlightGuard::start(&readiness);
    let mut response = next.run(request).await;
    // Debug level: the tool call line (info) already carries the request id;
    // an info line per HTTP request cost ~7 % of the CPU under load.
    tracing::debug!(
        target: "digistore24_mcp::http",
        request_id = %id,
        http_method = %method,
        path = %path,
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
        "http request"
    );
    if let Ok(value) = header::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if !readiness.is_ready() {
        // While draining, close each connection after its answer, so a proxy
        // never reuses one just as the listener goes away.
        response.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("close"));
    }
    response
}

/// Reads a JSON POST body completely (bounded) and answers what is not one
/// JSON-RPC message the way JSON-RPC asks: malformed JSON → HTTP 400 with
/// −32700; a batch or a non-message → HTTP 400 with −32600. Reading the body
/// here also keeps keep-alive connections usable after an early refusal.
async fn check_jsonrpc_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
    let is_json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"));
    if request.method() != axum::http::Method::POST || !is_json {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return jsonrpc_error(StatusCode::PAYLOAD_TOO_LARGE, -32600, &format!("request body larger than {limit} bytes")),
    };
    // A borrowing probe: checks the syntax of the whole body and reads only
    // `jsonrpc`, without building a tree (rmcp parses the message itself).
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        jsonrpc: Option<std::borrow::Cow<'a, str>>,
    }
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    match first {
        Some(b'[') if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() => {
            return jsonrpc_error(
                StatusCode::BAD_REQUEST,
                -32600,
                "Invalid Request: JSON-RPC batches are not supported; send one message per request",
            );
        }
        Some(b'{') => match serde_json::from_slice::<Probe>(&bytes) {
            Ok(probe) if probe.jsonrpc.as_deref() == Some("2.0") => {}
            Ok(_) => return jsonrpc_error(StatusCode::BAD_REQUEST, -32600, "Invalid Request: expected one JSON-RPC 2.0 message object"),
            Err(e) => return jsonrpc_error(StatusCode::BAD_REQUEST, -32700, &format!("Parse error: the body is not valid JSON ({e})")),
        },
        _ => match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
            Ok(_) => return jsonrpc_error(StatusCode::BAD_REQUEST, -32600, "Invalid Request: expected one JSON-RPC 2.0 message object"),
            Err(e) => return jsonrpc_error(StatusCode::BAD_REQUEST, -32700, &format!("Parse error: the body is not valid JSON ({e})")),
        },
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Refuses MCP requests beyond the concurrency limit at once (no queue).
async fn limit_concurrency(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(slots) = &state.slots else { return next.run(request).await };
    match slots.clone().try_acquire_owned() {
        Ok(_permit) => next.run(request).await,
        Err(_) => {
            metrics::rate_limited("concurrency");
            let mut response =
                jsonrpc_error(StatusCode::SERVICE_UNAVAILABLE, -32000, "server busy: too many requests at once; retry shortly");
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
    }
}

async fn ready(State(state): State<AppState>) -> Response {
    if state.readiness.is_ready() {
        (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "draining"}))).into_response()
    }
}

async fn metrics_text() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics::render()).into_response()
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
    }))
}

async fn test_api_key(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(key) = state.server.key_for(key_from_headers(&headers)) else {
        return missing_key();
    };
    if let Some(limiter) = state.server.limiter()
        && let Err(wait) = limiter.check(&key).await
    {
        metrics::rate_limited("http");
        let seconds = wait.as_secs().max(1).to_string();
        let body = json!({"valid": null, "message": format!("rate limit for this API key reached; retry after {seconds} s")});
        let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_str(&seconds).expect("digits"));
        return response;
    }
    match state.server.client().ping(&key).await {
        Ok(data) => (StatusCode::OK, axum::Json(json!({"valid": true, "key": key.to_string(), "data": data}))).into_response(),
        Err(CallError::Api { code, message, .. }) => {
            (StatusCode::UNAUTHORIZED, axum::Json(json!({"valid": false, "code": code, "message": message}))).into_response()
        }
        Err(other) => {
            let body = json!({"valid": false, "code": null, "message": other.to_string()});
            (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
        }
    }
}
