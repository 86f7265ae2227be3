//! The HTTP application: MCP over stateless Streamable HTTP at `/mcp` (and
//! its narrowing paths), plus the service endpoints.
//!
//! Owns: the router and its settings ([`HttpConfig`], [`Readiness`]): which
//! route gets which layers, in which order. The parts live in submodules:
//! `middleware` (request id, key, body check, concurrency), `narrowing`,
//! `errors` (JSON-RPC error answers), `cors` (browser origins),
//! `endpoints` (`/health`, `/ready`, `/metrics`, `/test-api-key`) and
//! `listener` (socket, TLS, graceful stop).
//! Must not touch: tool logic (see [`crate::mcp`]) or upstream encoding
//! (see [`crate::ds24`]). Nothing here keeps state between requests, so any
//! replica can answer any request; the MCP handler gets the request's key
//! and narrowing through request extensions only.

mod cors;
mod endpoints;
mod errors;
mod listener;
mod middleware;
mod narrowing;

pub use listener::{Shutdown, TlsFiles, serve};
pub use middleware::key_from_headers;
pub use narrowing::narrowing;

use crate::mcp::Ds24Server;
use crate::oauth::OAuth;
use crate::ops::metrics;
use axum::Router;
use axum::http::{Method, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::routing::{any, get};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;
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
    /// The OAuth authorization server, when `--oauth` is on.
    pub oauth: Option<Arc<OAuth>>,
    /// The usage dashboards, on whenever a database is open.
    pub dashboard: Option<Arc<crate::dashboard::Dashboard>>,
    /// How often a streamed answer (a `subscriptions/listen`) gets an SSE
    /// comment, so proxies keep an idle stream open.
    pub sse_keep_alive: std::time::Duration,
}

/// Default of [`HttpConfig::sse_keep_alive`]: well under nginx's 60 s read timeout.
pub const SSE_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            allowed_hosts: Vec::new(),
            allowed_origins: Vec::new(),
            max_body_bytes: 4 * 1024 * 1024,
            max_concurrency: 1024,
            readiness: Readiness::default(),
            oauth: None,
            dashboard: None,
            sse_keep_alive: SSE_KEEP_ALIVE,
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

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

#[derive(Clone)]
struct AppState {
    server: Ds24Server,
    started: Instant,
    readiness: Readiness,
    slots: Option<Arc<Semaphore>>,
    oauth: Option<Arc<OAuth>>,
}

/// Builds the whole application router. `hard_stop` aborts MCP requests
/// still running when the shutdown deadline has passed.
pub fn router(server: Ds24Server, config: &HttpConfig, hard_stop: CancellationToken) -> Router {
    metrics::install();
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(Some(config.sse_keep_alive))
        .with_max_request_body_bytes(config.max_body_bytes)
        .with_cancellation_token(hard_stop);
    mcp_config = if config.allowed_hosts.iter().any(|h| h == "*") {
        mcp_config.disable_allowed_hosts()
    } else {
        // The public URL's host is where OAuth clients reach us.
        let public_host = config.oauth.as_ref().and_then(|o| o.public_host());
        mcp_config
            .with_allowed_hosts(LOOPBACK_HOSTS.iter().map(|h| h.to_string()).chain(config.allowed_hosts.iter().cloned()).chain(public_host))
    };
    mcp_config = if config.allowed_origins.iter().any(|o| o == "*") {
        mcp_config.disable_allowed_origins()
    } else {
        mcp_config
            .with_allowed_origins(cors::LOOPBACK_ORIGINS.iter().map(|o| o.to_string()).chain(config.allowed_origins.iter().cloned()))
            .enforce_origin_validation()
    };
    let handler = server.clone();
    let ipn = server.events().map(|events| crate::ipn::receiver::routes(events.clone())).unwrap_or_default();
    // Behind one Arc and called through `handle`: axum clones a route's
    // service for every request (once per middleware layer), and rmcp's
    // clone copies its whole config, allowed hosts and origins included.
    let mcp = Arc::new(StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(NeverSessionManager::default()), mcp_config));
    let mcp = any(move |request: axum::extract::Request| {
        let mcp = mcp.clone();
        async move { mcp.handle(request).await }
    });
    let slots = (config.max_concurrency > 0).then(|| Arc::new(Semaphore::new(config.max_concurrency)));
    let state = AppState { server, started: Instant::now(), readiness: config.readiness.clone(), slots, oauth: config.oauth.clone() };
    let origins = cors::Origins::new(&config.allowed_origins);
    let body_limit = tower_http::limit::RequestBodyLimitLayer::new(config.max_body_bytes);
    // The narrowing paths serve the same stateless service; the middleware
    // reads the narrowing from the path and headers.
    let mcp_routes = Router::new()
        .route("/mcp", mcp.clone())
        .route("/mcp/readonly", mcp.clone())
        .route("/mcp/x/{toolsets}", mcp.clone())
        .route("/mcp/x/{toolsets}/readonly", mcp)
        .layer(from_fn_with_state(state.clone(), middleware::attach_key))
        .layer(from_fn_with_state(config.max_body_bytes, middleware::check_jsonrpc_body))
        .layer(from_fn_with_state(state.clone(), middleware::limit_concurrency))
        // Any other path below /mcp is a 404 in the same JSON shape.
        .route("/mcp/", any(|| async { StatusCode::NOT_FOUND }))
        .route("/mcp/{*rest}", any(|| async { StatusCode::NOT_FOUND }))
        // Inside `json_errors`, so its early 413 is rewritten too.
        .layer(body_limit)
        .layer(from_fn_with_state(config.max_body_bytes, errors::json_errors));
    let mcp_routes = cors::for_browsers(mcp_routes, &origins, &[Method::POST]);
    let test_api_key =
        Router::new().route("/test-api-key", get(endpoints::test_api_key).post(endpoints::test_api_key)).with_state(state.clone());
    let oauth_routes = config.oauth.clone().map(crate::oauth::routes).unwrap_or_default();
    let dashboard_routes = config.dashboard.clone().map(crate::dashboard::routes).unwrap_or_default();
    Router::new()
        .route("/health", get(endpoints::health))
        .route("/ready", get(endpoints::ready))
        .route("/metrics", get(endpoints::metrics_text))
        .with_state(state)
        .merge(cors::for_browsers(test_api_key, &origins, &[Method::GET, Method::POST]))
        .layer(body_limit)
        .merge(mcp_routes)
        .merge(oauth_routes)
        .merge(dashboard_routes)
        // The IPN receiver has its own body cap (crate::ipn) and no API key.
        .merge(ipn)
        .layer(from_fn_with_state(config.readiness.clone(), middleware::request_id))
}
