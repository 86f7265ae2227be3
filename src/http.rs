//! The HTTP application: MCP over stateless Streamable HTTP at `/mcp`, plus
//! `/health` and `/test-api-key`.
//!
//! Owns: routes, the per-request API key (taken from that request alone and
//! handed to the MCP handler through request extensions), Host/Origin
//! policy, body limits and the listener (with `TCP_NODELAY`).
//! Must not touch: tool logic (see [`crate::mcp`]) or upstream encoding
//! (see [`crate::ds24`]). Nothing here keeps state between requests, so any
//! replica can answer any request.

use crate::ds24::{ApiKey, CallError, FormBody};
use crate::catalog::{FUNCTIONS, TOOLSETS};
use crate::mcp::{Ds24Server, Narrowing, ToolFilter};
use std::collections::HashSet;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
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
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig { allowed_hosts: Vec::new(), allowed_origins: Vec::new(), max_body_bytes: 4 * 1024 * 1024 }
    }
}

const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
const LOOPBACK_ORIGINS: [&str; 6] =
    ["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*", "https://localhost:*", "https://127.0.0.1:*", "https://[::1]:*"];

#[derive(Clone)]
struct AppState {
    server: Ds24Server,
    started: Instant,
}

/// Builds the whole application router.
pub fn router(server: Ds24Server, config: &HttpConfig, shutdown: CancellationToken) -> Router {
    let mut mcp_config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(config.max_body_bytes)
        .with_cancellation_token(shutdown);
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
    let state = AppState { server, started: Instant::now() };
    // The narrowing paths serve the same stateless service; the middleware
    // reads the narrowing from the path and headers.
    let mcp_routes = Router::new()
        .route_service("/mcp", mcp.clone())
        .route_service("/mcp/readonly", mcp.clone())
        .route_service("/mcp/x/{toolsets}", mcp.clone())
        .route_service("/mcp/x/{toolsets}/readonly", mcp)
        .layer(middleware::from_fn_with_state(state.clone(), attach_key));
    Router::new()
        .route("/health", get(health))
        .route("/test-api-key", get(test_api_key).post(test_api_key))
        .with_state(state)
        .merge(mcp_routes)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(config.max_body_bytes))
}

/// Serves `app` on `listener` until `shutdown` fires; sets `TCP_NODELAY` on
/// every accepted socket (without it, SSE-framed answers stall ~40 ms).
pub async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await
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

async fn attach_key(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    match narrowing(request.uri().path(), request.headers()) {
        Ok(Some(narrowing)) => {
            request.extensions_mut().insert(narrowing);
        }
        Ok(None) => {}
        Err(message) => return jsonrpc_error(StatusCode::BAD_REQUEST, -32600, &message),
    }
    // The key is this request's own; the server-wide key is only a fallback.
    match key_from_headers(request.headers()).or_else(|| state.server.default_key().cloned()) {
        Some(key) => {
            request.extensions_mut().insert(key);
            next.run(request).await
        }
        None => missing_key(),
    }
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

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
    }))
}

async fn test_api_key(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(key) = key_from_headers(&headers).or_else(|| state.server.default_key().cloned()) else {
        return missing_key();
    };
    match state.server.client().call(&key, "ping", &FormBody::default()).await {
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
