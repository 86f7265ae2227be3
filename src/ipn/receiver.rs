//! The HTTP receiver: `POST /ipn/{token}` (per tenant, token derived from
//! `--ipn-secret`), `GET`/`HEAD` on the same URL for Digistore24's check,
//! and the single-tenant `POST /ipn` (`--ipn-passphrase`).
//!
//! Owns: the order of the checks (token → rate limit → size → form →
//! signature → commit) and the answers: `OK` only after the commit, 404 for
//! a bad token (before anything else), 429 with `Retry-After` past the
//! receiver's own rate limit (per URL token; per client address for bad
//! tokens and the single-tenant URL), 4xx for anything malformed or forged,
//! 503 when the database fails so that Digistore24 retries. Must not touch: MCP.

use super::{Events, MAX_IPN_BODY_BYTES, signature, summary};
use crate::ops::metrics;
use crate::store::{Inserted, now_ms};
use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use sha2::{Digest, Sha256};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The peer address axum's listener attaches (absent in tests without one).
type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// The receiver's routes, with their own body cap.
pub fn routes(events: Arc<Events>) -> Router {
    Router::new()
        .route("/ipn/{token}", get(check_url).post(receive_for_token))
        .route("/ipn", post(receive_single))
        .layer(DefaultBodyLimit::max(MAX_IPN_BODY_BYTES))
        .with_state(events)
}

fn text(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// Digistore24 fetches the URL with GET when it is registered and wants 200.
async fn check_url(State(events): State<Arc<Events>>, Path(token): Path<String>) -> Response {
    match events.tenant_of(&token) {
        Some(_) => text(StatusCode::OK, "OK"),
        None => text(StatusCode::NOT_FOUND, "unknown IPN URL"),
    }
}

async fn receive_for_token(
    State(events): State<Arc<Events>>,
    Path(token): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Checked without the database.
    let Some(tenant) = events.tenant_of(&token) else {
        // Guessing tokens costs the guesser's address, not a vendor's URL.
        let address = client_address(peer, &headers);
        if let Some(limited) = throttle(&events, None, format!("ipn:bad-token:{address}"), &format!("bad URL tokens from {address}")).await
        {
            return limited;
        }
        events.reject(None, "unknown URL token".into());
        return text(StatusCode::NOT_FOUND, "unknown IPN URL");
    };
    let bucket = format!("ipn:url:{}", hex::encode(&Sha256::digest(token.as_bytes())[..16]));
    if let Some(limited) = throttle(&events, Some(&tenant), bucket, "this IPN URL").await {
        return limited;
    }
    let Some(passphrase) = events.passphrase_for(&tenant) else { return text(StatusCode::NOT_FOUND, "unknown IPN URL") };
    receive(&events, Some(tenant), &passphrase, body).await
}

async fn receive_single(
    State(events): State<Arc<Events>>,
    peer: Peer,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let address = client_address(peer, &headers);
    if let Some(limited) = throttle(&events, None, format!("ipn:single:{address}"), &format!("POST /ipn from {address}")).await {
        return limited;
    }
    let Some(passphrase) = events.single_passphrase().map(str::to_owned) else {
        events.reject(None, "POST /ipn without --ipn-passphrase".into());
        return text(StatusCode::NOT_FOUND, "no single-tenant IPN URL here (see --ipn-passphrase)");
    };
    receive(&events, None, &passphrase, body).await
}

/// 429 with `Retry-After` (whole seconds) when the bucket is empty; nothing
/// is read or stored, and the rejection is logged and counted.
async fn throttle(events: &Events, tenant: Option<&str>, bucket: String, what: &str) -> Option<Response> {
    let wait = events.limiter.as_ref()?.check_id(bucket).await.err()?;
    let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
    events.reject(tenant, format!("rate limited: too many IPNs for {what}; asked to retry after {seconds} s"));
    let headers = [(header::RETRY_AFTER, seconds.to_string()), (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned())];
    Some((StatusCode::TOO_MANY_REQUESTS, headers, "too many IPNs; retry later").into_response())
}

/// Who sent a request: the peer, or — when the peer is a proxy on this host
/// or a private network — the address it appended to `X-Forwarded-For`.
fn client_address(peer: Peer, headers: &HeaderMap) -> String {
    let Some(Extension(ConnectInfo(peer))) = peer else { return "unknown".into() };
    let proxied = match peer.ip() {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.is_unique_local(),
    };
    let forwarded = || headers.get("x-forwarded-for")?.to_str().ok()?.rsplit(',').next()?.trim().parse::<IpAddr>().ok();
    match proxied.then(forwarded).flatten() {
        Some(client) => client.to_string(),
        None => peer.ip().to_string(),
    }
}

/// The tenant of a single-tenant IPN that names no `merchant_id`.
pub const UNKNOWN_MERCHANT: &str = "unknown";

/// Verifies and stores one IPN. `tenant` is the token's; the single-tenant
/// URL takes the signed `merchant_id`.
async fn receive(events: &Events, tenant: Option<String>, passphrase: &str, body: Result<Bytes, BytesRejection>) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let status = rejection.status();
            events.reject(tenant.as_deref(), format!("body not read: {}", rejection.body_text()));
            return (status, "body too large or unreadable").into_response();
        }
    };
    let fields = match signature::parse_form(&body) {
        Ok(fields) => fields,
        Err(malformed) => {
            events.reject(tenant.as_deref(), format!("malformed body: {malformed}"));
            return text(StatusCode::BAD_REQUEST, "malformed IPN body");
        }
    };
    if let Err(bad) = signature::verify(&fields, passphrase) {
        events.reject(tenant.as_deref(), format!("signature refused: {bad}"));
        return text(StatusCode::FORBIDDEN, "signature refused");
    }
    // Signed, so trusted; only Digistore24's bare test vectors lack it.
    let tenant = tenant.unwrap_or_else(|| {
        fields.iter().find(|(n, v)| n == "merchant_id" && !v.is_empty()).map_or_else(|| UNKNOWN_MERCHANT.to_owned(), |(_, m)| m.clone())
    });
    let event = summary::new_event(&tenant, &fields, now_ms());
    match events.store.insert(&event).await {
        Ok(inserted) => {
            let outcome = if inserted == Inserted::Duplicate { "duplicate" } else { "stored" };
            metrics::ipn(outcome);
            tracing::info!(target: "digistore24_mcp::ipn", tenant, event = event.event, outcome, "IPN received");
            text(StatusCode::OK, "OK")
        }
        Err(e) => {
            metrics::ipn("failed");
            tracing::error!(target: "digistore24_mcp::ipn", tenant, error = %e, "IPN not stored; answering 503 so Digistore24 retries");
            text(StatusCode::SERVICE_UNAVAILABLE, "temporarily unavailable")
        }
    }
}
