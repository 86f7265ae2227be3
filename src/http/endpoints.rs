//! The service endpoints: `/health`, `/ready`, `/metrics`, `/test-api-key`.
//!
//! Owns: their answers. Must not touch: the MCP routes or their middleware.

use super::AppState;
use super::errors::missing_key;
use super::middleware::key_from_headers;
use crate::ds24::CallError;
use crate::ops::metrics;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub(super) async fn ready(State(state): State<AppState>) -> Response {
    if state.readiness.is_ready() {
        (StatusCode::OK, axum::Json(json!({"status": "ready"}))).into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "draining"}))).into_response()
    }
}

pub(super) async fn metrics_text() -> Response {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], metrics::render()).into_response()
}

pub(super) async fn health(State(state): State<AppState>) -> impl IntoResponse {
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
    }))
}

pub(super) async fn test_api_key(State(state): State<AppState>, headers: HeaderMap) -> Response {
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
        Ok(data) => {
            // An upstream (or a proxy in between) that echoes the key must not
            // put it into an answer, logs and caches on the way included.
            let data: serde_json::Value = serde_json::from_str(&key.redact(&data.to_string())).unwrap_or(serde_json::Value::Null);
            (StatusCode::OK, axum::Json(json!({"valid": true, "key": key.to_string(), "data": data}))).into_response()
        }
        Err(CallError::Api { code, message, .. }) => {
            (StatusCode::UNAUTHORIZED, axum::Json(json!({"valid": false, "code": code, "message": message}))).into_response()
        }
        Err(other) => {
            let body = json!({"valid": false, "code": null, "message": other.to_string()});
            (StatusCode::BAD_GATEWAY, axum::Json(body)).into_response()
        }
    }
}
