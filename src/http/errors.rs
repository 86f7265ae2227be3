//! The JSON-RPC error answers of the HTTP front.
//!
//! Owns: the shape of every refusal (`{"jsonrpc":"2.0","id":null,"error":…}`
//! with `Content-Type: application/json`) and [`json_errors`], the one
//! middleware around the MCP routes that rewrites any other non-2xx answer
//! (rmcp's plain-text refusals, axum's empty 404/405, tower-http's 413) into
//! that shape, keeping its status and headers and saying what to do.
//! Must not touch: deciding *whether* to refuse (the middleware and rmcp do).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::model::ProtocolVersion;
use serde_json::json;

/// JSON-RPC "Parse error": the body is not valid JSON.
pub(super) const PARSE_ERROR: i64 = -32700;
/// JSON-RPC "Invalid Request": the HTTP request itself is wrong.
pub(super) const INVALID_REQUEST: i64 = -32600;
/// Implementation-defined server error: busy, limited, not ready.
pub(super) const SERVER_ERROR: i64 = -32000;
/// JSON-RPC "Internal error".
const INTERNAL_ERROR: i64 = -32603;

/// A JSON-RPC error answer with no id (the request was refused before one was read).
pub(super) fn jsonrpc_error(status: StatusCode, code: i64, message: &str) -> Response {
    let body = json!({"jsonrpc": "2.0", "id": null, "error": {"code": code, "message": message}});
    (status, axum::Json(body)).into_response()
}

/// 401 with `WWW-Authenticate` and how to send a key.
pub(super) fn missing_key() -> Response {
    let message = "Missing Digistore24 API key: send it as `Authorization: Bearer YOUR_KEY` or `X-DS-API-KEY: YOUR_KEY`.";
    let mut response = jsonrpc_error(StatusCode::UNAUTHORIZED, -32001, message);
    response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer realm=\"digistore24-mcp\""));
    response
}

/// Rewrites every non-2xx answer that is not JSON yet into a JSON-RPC error
/// with the same status and headers. `max_body_bytes` goes into the 413 advice.
pub(super) async fn json_errors(State(max_body_bytes): State<usize>, request: Request, next: Next) -> Response {
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if status.as_u16() < 400 || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    // The refusals rewritten here are one short line; more is not read.
    let detail = axum::body::to_bytes(body, 4096).await.map(|b| String::from_utf8_lossy(&b).trim().to_owned()).unwrap_or_default();
    let context = Context { method: &method, path: &path, host: &host, origin: &origin, max_body_bytes, headers: &parts.headers };
    let (code, message) = advice(status, &detail, &context);
    let mut rewritten = jsonrpc_error(status, code, &message);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH && name != header::TRANSFER_ENCODING {
            rewritten.headers_mut().append(name, value.clone());
        }
    }
    rewritten
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"))
}

/// What the refused request looked like, for the advice.
struct Context<'a> {
    method: &'a Method,
    path: &'a str,
    host: &'a str,
    origin: &'a str,
    max_body_bytes: usize,
    headers: &'a HeaderMap,
}

/// The JSON-RPC code and a message saying what went wrong and what to do.
fn advice(status: StatusCode, detail: &str, request: &Context<'_>) -> (i64, String) {
    let retry = || request.headers.get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()).unwrap_or("1").to_owned();
    match status {
        StatusCode::BAD_REQUEST if detail.contains("MCP-Protocol-Version") => {
            let known: Vec<&str> = ProtocolVersion::KNOWN_VERSIONS.iter().map(|v| v.as_str()).collect();
            let detail = detail.strip_prefix("Bad Request: ").unwrap_or(detail);
            (INVALID_REQUEST, format!("Bad Request: {detail}; send one of {} (or no MCP-Protocol-Version header)", known.join(", ")))
        }
        StatusCode::BAD_REQUEST => (INVALID_REQUEST, format!("Bad Request: {}", or(detail, "the request is not a valid MCP request"))),
        StatusCode::FORBIDDEN if detail.contains("Host") => (
            INVALID_REQUEST,
            format!(
                "Forbidden: Host `{}` is not allowed; use a loopback address, or the operator allows it with --allowed-host (DS24_ALLOWED_HOSTS)",
                request.host
            ),
        ),
        StatusCode::FORBIDDEN => (INVALID_REQUEST, origin_refused(request.origin)),
        StatusCode::NOT_FOUND => (
            INVALID_REQUEST,
            format!(
                "Not Found: no MCP endpoint at {}; use /mcp, /mcp/readonly, /mcp/x/{{toolsets}} or /mcp/x/{{toolsets}}/readonly",
                request.path
            ),
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            INVALID_REQUEST,
            format!(
                "Method Not Allowed: {} {}; this server is stateless (no event stream to GET, no session to DELETE): send each JSON-RPC message with POST",
                request.method, request.path
            ),
        ),
        StatusCode::NOT_ACCEPTABLE => {
            (INVALID_REQUEST, "Not Acceptable: send `Accept: application/json, text/event-stream` (both types are required)".to_owned())
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            INVALID_REQUEST,
            format!(
                "Payload Too Large: the body is larger than {} bytes; send a smaller request (the operator sets the limit with --max-body-bytes)",
                request.max_body_bytes
            ),
        ),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            (INVALID_REQUEST, "Unsupported Media Type: send the JSON-RPC message with `Content-Type: application/json`".to_owned())
        }
        StatusCode::TOO_MANY_REQUESTS => {
            (SERVER_ERROR, format!("Too Many Requests: rate limit for this API key reached; retry after {} s", retry()))
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            (SERVER_ERROR, format!("Service Unavailable: the server cannot answer now; retry after {} s", retry()))
        }
        _ if status.is_client_error() => (INVALID_REQUEST, format!("{status}: {}", or(detail, "the request was refused"))),
        _ => (INTERNAL_ERROR, format!("{status}: {}; retry later", or(detail, "the server could not answer"))),
    }
}

/// The 403 answer for a browser origin outside the allow-list.
pub(super) fn origin_refused(origin: &str) -> String {
    format!(
        "Forbidden: Origin `{origin}` is not allowed; open the page from a loopback origin, or the operator allows it with --allowed-origin {} (DS24_ALLOWED_ORIGINS)",
        if origin.is_empty() { "ORIGIN" } else { origin }
    )
}

fn or<'a>(detail: &'a str, fallback: &'a str) -> &'a str {
    if detail.is_empty() { fallback } else { detail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::any;
    use tower::ServiceExt;

    async fn answer_of(
        status: StatusCode,
        extra: Option<(header::HeaderName, &'static str)>,
    ) -> (StatusCode, HeaderMap, serde_json::Value) {
        let app = Router::new()
            .route(
                "/mcp",
                any(move || async move {
                    let mut response = (status, "plain words").into_response();
                    if let Some((name, value)) = extra.clone() {
                        response.headers_mut().insert(name, header::HeaderValue::from_static(value));
                    }
                    response
                }),
            )
            .layer(axum::middleware::from_fn_with_state(1024usize, json_errors));
        let response = app.oneshot(Request::builder().uri("/mcp").body(Body::empty()).unwrap()).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, 1 << 16).await.unwrap();
        (parts.status, parts.headers, serde_json::from_slice(&body).unwrap())
    }

    #[tokio::test]
    async fn a_plain_429_becomes_json_rpc_and_keeps_retry_after() {
        let (status, headers, body) = answer_of(StatusCode::TOO_MANY_REQUESTS, Some((header::RETRY_AFTER, "7"))).await;
        assert_eq!(status, 429);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(headers[header::RETRY_AFTER], "7");
        assert_eq!(body["jsonrpc"], "2.0");
        assert!(body["id"].is_null());
        assert_eq!(body["error"]["code"], SERVER_ERROR);
        assert!(body["error"]["message"].as_str().unwrap().contains("retry after 7 s"), "{body}");
    }

    #[tokio::test]
    async fn server_errors_become_internal_errors() {
        let (status, headers, body) = answer_of(StatusCode::BAD_GATEWAY, None).await;
        assert_eq!(status, 502);
        assert_eq!(headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(body["error"]["code"], INTERNAL_ERROR);
        assert!(body["error"]["message"].as_str().unwrap().contains("plain words"), "{body}");
    }
}
