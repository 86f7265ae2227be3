//! Request middleware of the MCP routes (and the request id of every route).
//!
//! Owns: the request id and access log line, the in-flight count, attaching
//! this request's [`CallContext`] (key, narrowing, request id: the only way
//! data reaches the MCP handler), the JSON-RPC body check, and the
//! concurrency limit.
//! Must not touch: tool logic ([`crate::mcp`]) or the shape of error
//! answers (see `errors.rs`); nothing here keeps state between requests.

use super::errors::{INVALID_REQUEST, PARSE_ERROR, SERVER_ERROR, jsonrpc_error, missing_key};
use super::{AppState, Readiness, narrowing};
use crate::ds24::ApiKey;
use crate::mcp::{CallContext, GrantContext, GrantProblem, Narrowing, Slot, Transport, known_era};
use crate::oauth::{Authenticated, Scope};
use crate::ops::metrics;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

/// The key a request brings: `Authorization: Bearer KEY` or `X-DS-API-KEY`.
pub fn key_from_headers(headers: &HeaderMap) -> Option<ApiKey> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .and_then(ApiKey::new);
    bearer.or_else(|| headers.get("x-ds-api-key").and_then(|v| v.to_str().ok()).and_then(ApiKey::new))
}

/// Puts this request's [`CallContext`] into its extensions, where the
/// MCP handler reads it (400 for a bad narrowing, 401 without any key).
/// With OAuth on, one of our access tokens brings its sealed key and scope,
/// a request without credentials gets the sign-in challenge, and a grant
/// problem the pipeline reports becomes 401/403; a raw key works as without OAuth.
pub(super) async fn attach_key(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let mut narrowing = match narrowing(request.uri().path(), request.headers()) {
        Ok(narrowing) => narrowing,
        Err(message) => return jsonrpc_error(StatusCode::BAD_REQUEST, INVALID_REQUEST, &message),
    };
    let path = request.uri().path().to_owned();
    let authenticated = match state.oauth.as_deref() {
        Some(oauth) => Some(oauth.authenticate(request.headers(), &path).await),
        None => None,
    };
    let (key, grant) = match authenticated {
        Some(Authenticated::Refused(response)) => return response,
        Some(Authenticated::Token { key, scope, grant_id }) => {
            let read_only = scope == Scope::Read;
            if read_only {
                narrowing = Some(narrowing.map_or_else(Narrowing::read_grant, Narrowing::and_read_only));
            }
            (Some(key), Some(GrantContext { read_only, grant_id, ..GrantContext::default() }))
        }
        // With OAuth on, the server's default key never stands in for missing
        // credentials: the client must be told to sign in.
        Some(Authenticated::NotOurs) => match key_from_headers(request.headers()) {
            Some(key) => (Some(key), None),
            None => return state.oauth.as_deref().map(|o| o.challenge(&path)).unwrap_or_else(missing_key),
        },
        None => (state.server.key_for(key_from_headers(request.headers())), None),
    };
    let Some(key) = key else { return missing_key() };
    let request_id = request.extensions().get::<RequestId>().map(|id| id.0.clone());
    let problem = grant.as_ref().map(|g| g.problem.clone());
    // Over stateless HTTP the server can never ask the client mid-call.
    let slot = request.extensions().get::<Slot>().cloned();
    // The usage record's era: the version the request speaks (the header every request after the first carries).
    let era = request.headers().get("mcp-protocol-version").and_then(|v| v.to_str().ok()).and_then(known_era).unwrap_or_default();
    let transport = Transport::Http;
    request.extensions_mut().insert(CallContext {
        key: Some(key),
        narrowing,
        request_id,
        can_ask_mid_call: false,
        grant,
        slot,
        era,
        transport,
    });
    let response = next.run(request).await;
    match (problem.as_ref().and_then(|p| p.get()), state.oauth.as_deref()) {
        (Some(GrantProblem::KeyRejected), Some(oauth)) => {
            oauth.invalid_token(&path, "Digistore24 no longer accepts the key of this sign-in; sign in again")
        }
        (Some(GrantProblem::InsufficientScope), Some(oauth)) => oauth.insufficient_scope(&path),
        _ => response,
    }
}

/// The id of the HTTP request (from `X-Request-Id` or generated).
#[derive(Debug, Clone)]
struct RequestId(String);

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

/// Takes `X-Request-Id` (or makes one), hands it to the handler, returns it,
/// and logs one line per HTTP request.
pub(super) async fn request_id(State(readiness): State<Readiness>, mut request: Request, next: Next) -> Response {
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
pub(super) async fn check_jsonrpc_body(State(limit): State<usize>, request: Request, next: Next) -> Response {
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
        Err(_) => return jsonrpc_error(StatusCode::PAYLOAD_TOO_LARGE, INVALID_REQUEST, &format!("request body larger than {limit} bytes")),
    };
    // A borrowing probe: checks the syntax of the whole body and reads only
    // `jsonrpc`, without building a tree (rmcp parses the message itself).
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        jsonrpc: Option<std::borrow::Cow<'a, str>>,
    }
    let refusal = |code: i64, message: &str| jsonrpc_error(StatusCode::BAD_REQUEST, code, message);
    let not_a_message = || refusal(INVALID_REQUEST, "Invalid Request: expected one JSON-RPC 2.0 message object");
    let not_json = |e: serde_json::Error| refusal(PARSE_ERROR, &format!("Parse error: the body is not valid JSON ({e})"));
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') if serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok() => {
            return refusal(INVALID_REQUEST, "Invalid Request: JSON-RPC batches are not supported; send one message per request");
        }
        Some(b'{') => match serde_json::from_slice::<Probe>(&bytes) {
            Ok(probe) if probe.jsonrpc.as_deref() == Some("2.0") => {}
            Ok(_) => return not_a_message(),
            Err(e) => return not_json(e),
        },
        _ => {
            return match serde_json::from_slice::<serde::de::IgnoredAny>(&bytes) {
                Ok(_) => not_a_message(),
                Err(e) => not_json(e),
            };
        }
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes))).await
}

/// Refuses MCP requests beyond the concurrency limit at once (no queue).
pub(super) async fn limit_concurrency(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let Some(slots) = &state.slots else { return next.run(request).await };
    match slots.clone().try_acquire_owned() {
        Ok(permit) => {
            // Held until the answer, unless the call gives it back while it only waits.
            let slot = Slot::holding(permit);
            request.extensions_mut().insert(slot.clone());
            let response = next.run(request).await;
            // rmcp may keep the request's parts a little longer; the slot is free now.
            slot.release();
            response
        }
        Err(_) => {
            metrics::rate_limited("concurrency");
            let mut response =
                jsonrpc_error(StatusCode::SERVICE_UNAVAILABLE, SERVER_ERROR, "server busy: too many requests at once; retry shortly");
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            response
        }
    }
}
