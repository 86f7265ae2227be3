//! The built-in sandbox: a stateful, in-memory stand-in for the Digistore24
//! vendor API, so that the server runs without an account or network and every
//! test has a real upstream to talk to.
//!
//! Owns: the HTTP surface of the sandbox (the three `/api/call/...` URL shapes,
//! the admin endpoints `/sandbox/health` and `/sandbox/faults`), API keys and the
//! accounts behind them, the answer envelope, latency and fault injection. The
//! submodules own argument decoding (`form`, `args`, `dates`), the fixed keys
//! (`keys`), reference lists (`reference`), the data model and seeding (`model`,
//! `seed`), booking orders and money (`booking`), answer shapes of records
//! (`views`) and one handler per function (`handlers`).
//! Must not touch: the MCP server, the real Digistore24 client, the catalogue's
//! contents (it is only read, for unknown functions, required arguments, types,
//! enum values and whether a function writes).

pub mod answers;
mod approval;
pub mod args;
pub mod booking;
pub mod dates;
pub mod error;
pub mod faults;
pub mod form;
pub mod handlers;
pub mod keys;
pub mod model;
pub mod notify;
pub mod reference;
pub mod seed;
pub mod views;

use crate::catalog;
use answers::AccountCell;
use args::Args;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use error::ApiError;
use faults::{FaultKind, FaultRequest, Faults};
use handlers::{Ctx, Handler};
use keys::Access;
pub use keys::{READONLY_KEY, WRITABLE_KEY};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// `api_version` written into every answer.
pub const API_VERSION: &str = "1.2";
/// Largest accepted request body; larger ones get HTTP 413.
pub const MAX_BODY_BYTES: usize = 1 << 20;
/// How long a `timeout` fault holds the answer back.
pub const TIMEOUT_FAULT: Duration = Duration::from_secs(60);
/// Most extra keys (and thus accounts) one sandbox serves.
pub const MAX_EXTRA_KEYS: usize = 64;

/// How a sandbox behaves.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Seed of all generated data (same seed, same accounts).
    pub seed: u64,
    /// Delay added to every API answer, in milliseconds.
    pub latency_ms: u64,
    /// Share of API calls (0..1) that fail with HTTP 500 at random.
    pub fault_rate: f64,
    /// Additional keys, each with its own separately seeded account. Each must
    /// start with `sandbox-`; a key containing `readonly` has read access only.
    pub extra_keys: Vec<String>,
}

impl Default for SandboxConfig {
    /// Seed 24, no latency, no faults, no extra keys.
    fn default() -> Self {
        SandboxConfig { seed: 24, latency_ms: 0, fault_rate: 0.0, extra_keys: Vec::new() }
    }
}

impl Sandbox {
    /// Every account, once each (the shared keys point at the same one).
    fn accounts(&self) -> Vec<Arc<AccountCell>> {
        let mut seen: Vec<Arc<AccountCell>> = Vec::new();
        for entry in self.keys.values() {
            if !seen.iter().any(|a| Arc::ptr_eq(a, &entry.account)) {
                seen.push(entry.account.clone());
            }
        }
        seen
    }
}

struct KeyEntry {
    access: Access,
    account: Arc<AccountCell>,
}

struct Sandbox {
    config: SandboxConfig,
    keys: HashMap<String, KeyEntry>,
    /// Keys deleted through `POST /sandbox/keys/revoke`, as a vendor deletes one in Digistore24.
    revoked: RwLock<std::collections::HashSet<String>>,
    accounts: usize,
    faults: Faults,
    started: Instant,
}

impl Sandbox {
    fn new(config: SandboxConfig) -> Sandbox {
        let mut keys = HashMap::new();
        let shared = Arc::new(AccountCell::new(seed::seed_account(config.seed, None)));
        keys.insert(READONLY_KEY.to_string(), KeyEntry { access: Access::ReadOnly, account: shared.clone() });
        keys.insert(WRITABLE_KEY.to_string(), KeyEntry { access: Access::Writable, account: shared });
        let mut accounts = 1;
        for key in &config.extra_keys {
            let key = key.trim();
            if !key.starts_with("sandbox-") || key.len() > 200 || keys.contains_key(key) {
                tracing::warn!(key, "sandbox: ignoring extra key (must start with 'sandbox-', be unique and at most 200 characters)");
                continue;
            }
            if accounts > MAX_EXTRA_KEYS {
                tracing::warn!(key, "sandbox: too many extra keys; ignoring the rest");
                break;
            }
            let access = if key.contains("readonly") { Access::ReadOnly } else { Access::Writable };
            let account = Arc::new(AccountCell::new(seed::seed_account(config.seed, Some(key))));
            keys.insert(key.to_string(), KeyEntry { access, account });
            accounts += 1;
        }
        let faults = Faults::new(config.fault_rate, config.seed);
        Sandbox { config, keys, revoked: RwLock::default(), accounts, faults, started: Instant::now() }
    }

    /// Runs one API call: key, function, permission, arguments, handler;
    /// answers the encoded `data`.
    fn call(&self, key: Option<&str>, function: &str, mut raw: Map<String, Value>, site: &str) -> Result<Bytes, ApiError> {
        let key = key
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| ApiError::bad_key("No API key given: send it in the X-DS-API-KEY header"))?;
        let entry = self.keys.get(key).ok_or_else(|| ApiError::bad_key("Invalid API key"))?;
        if self.revoked.read().unwrap_or_else(|e| e.into_inner()).contains(key) {
            return Err(ApiError::bad_key("Invalid API key: it was deleted"));
        }
        let func = catalog::lookup(function)
            .filter(|f| f.name == function)
            .ok_or_else(|| ApiError::bad_call(format!("Unknown API function '{function}'")))?;
        let handler = handlers::lookup(func.name)
            .ok_or_else(|| ApiError::bad_call(format!("The function '{function}' is not available in the sandbox")))?;
        if entry.access == Access::ReadOnly && func.full_access {
            return Err(ApiError::permission("Your API key has only read access; this function needs full access"));
        }
        args::map_positional(func, &mut raw);
        let now = dates::now();
        args::validate(func, &raw, now)?;
        let ctx = Ctx { now, key, access: entry.access, site };
        let a = Args::new(&raw);
        let mut notices = Vec::new();
        let run = || match handler {
            Handler::Read(f) if answers::CACHEABLE.contains(&func.name) => entry.account.answer(func.name, &raw, |acct| f(acct, a, &ctx)),
            Handler::Read(f) => f(&entry.account.read(), a, &ctx).map(|data| answers::encode(&data)),
            Handler::Write(f) => {
                let mut acct = entry.account.write();
                let result = f(&mut acct, a, &ctx);
                if let Ok(data) = &result {
                    notices = notify::after_write(&acct, func.name, a.str("purchase_id"), data);
                }
                result.map(|data| answers::encode(&data))
            }
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)).unwrap_or_else(|_| {
            tracing::error!(function, "sandbox: handler panicked");
            Err(ApiError::internal("Internal error in the sandbox"))
        });
        notify::send_all(notices);
        result
    }

    /// A test purchase of `product_id` (default: the first product) in the
    /// key's account, as if a buyer had paid: booked, then `on_payment` sent.
    fn purchase(&self, key: &str, product_id: Option<&str>) -> Result<Value, ApiError> {
        let entry = self.keys.get(key).ok_or_else(|| ApiError::bad_key("Invalid API key"))?;
        if entry.access == Access::ReadOnly {
            return Err(ApiError::permission("Your API key has only read access; a purchase needs full access"));
        }
        let mut acct = entry.account.write();
        let product = match product_id {
            Some(id) => acct.product_by_text(id)?.id,
            None => *acct.products.keys().next().ok_or_else(|| ApiError::params("The account has no products"))?,
        };
        let base = acct.purchases.first().cloned().ok_or_else(|| ApiError::params("The account has no buyer to copy"))?;
        let amount = acct
            .payment_plans
            .values()
            .find(|pp| pp.product_id == product)
            .map(|pp| if pp.number_of_installments == 0 { pp.other_amounts } else { pp.first_amount })
            .filter(|a| *a > 0)
            .unwrap_or(4_700);
        let mut spec = booking::OrderSpec::like(&base, "regular");
        spec.items = vec![(product, 1, amount, amount)];
        spec.parent = None;
        spec.is_test = true;
        spec.currency = acct.products.get(&product).map(|p| p.currency.clone()).unwrap_or(spec.currency);
        let id = booking::new_order(&mut acct, spec, dates::now())?;
        let notices = acct.purchase(&id).map(|p| notify::for_order(&acct, p, "on_payment")).unwrap_or_default();
        drop(acct);
        let sent = notices.len();
        notify::send_all(notices);
        Ok(json!({"purchase_id": id, "amount": args::money(amount), "ipn_sent_to": sent}))
    }
}

#[derive(Serialize)]
struct ErrorFrame<'a> {
    api_version: &'static str,
    current_time: String,
    result: &'static str,
    code: u8,
    message: &'a str,
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    r
}

fn success_response(data: &[u8], started: Instant) -> Response {
    let runtime = (started.elapsed().as_secs_f64() * 1000.0).ceil().max(1.0) / 1000.0;
    json_response(StatusCode::OK, success_body(data, &dates::fmt_dt(dates::now()), runtime))
}

/// The success envelope around the encoded `data`, byte for byte what
/// serializing `{api_version, current_time, runtime_seconds, result, data}`
/// gives, without decoding `data` again.
fn success_body(data: &[u8], current_time: &str, runtime_seconds: f64) -> Vec<u8> {
    let mut body = Vec::with_capacity(data.len() + 112);
    body.extend_from_slice(br#"{"api_version":"#);
    // Strings and numbers into a Vec cannot fail to serialize.
    let _ = serde_json::to_writer(&mut body, API_VERSION);
    body.extend_from_slice(br#","current_time":"#);
    let _ = serde_json::to_writer(&mut body, current_time);
    body.extend_from_slice(br#","runtime_seconds":"#);
    let _ = serde_json::to_writer(&mut body, &runtime_seconds);
    body.extend_from_slice(br#","result":"success","data":"#);
    body.extend_from_slice(data);
    body.push(b'}');
    body
}

/// An error envelope; `status` overrides the error's own HTTP status.
fn error_response(e: &ApiError, status: Option<StatusCode>) -> Response {
    let frame = ErrorFrame {
        api_version: API_VERSION,
        current_time: dates::fmt_dt(dates::now()),
        result: "error",
        code: e.code,
        message: &e.message,
    };
    let body = serde_json::to_vec(&frame).unwrap_or_else(|_| br#"{"result":"error","code":0,"message":"error"}"#.to_vec());
    json_response(status.unwrap_or(e.status), body)
}

fn percent_decode(s: &str) -> String {
    form::parse_pairs(format!("x={}", s.replace('+', "%2B")).as_bytes()).pop().map(|(_, v)| v).unwrap_or_default()
}

/// Splits `/api/call/...` into (function, key from the path).
fn parse_call_path(path: &str) -> Result<(String, Option<String>), ApiError> {
    let rest = path.strip_prefix("/api/call/").unwrap_or("");
    let segs: Vec<String> = rest.split('/').filter(|s| !s.is_empty()).map(percent_decode).collect();
    let unsupported = |f: &str| ApiError::bad_call(format!("Unsupported output format '{f}'; the sandbox answers json only"));
    match segs.as_slice() {
        [f] => Ok((f.clone(), None)),
        [f, kw, fmt] if kw == "format" => {
            if fmt.eq_ignore_ascii_case("json") {
                Ok((f.clone(), None))
            } else {
                Err(unsupported(fmt))
            }
        }
        [key, fmt, f] => {
            if fmt.eq_ignore_ascii_case("json") {
                Ok((f.clone(), Some(key.clone())))
            } else {
                Err(unsupported(fmt))
            }
        }
        _ => Err(ApiError::bad_call(
            "Bad API URL; use /api/call/{function}, /api/call/{function}/format/json or /api/call/{api_key}/json/{function}",
        )),
    }
}

/// Turns JSON values into the strings a PHP form would have produced.
fn stringify(v: Value) -> Value {
    match v {
        Value::Null => Value::String(String::new()),
        Value::Bool(b) => Value::String(args::yn(b).to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        Value::String(s) => Value::String(s),
        Value::Array(a) => Value::Array(a.into_iter().map(stringify).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, stringify(v))).collect()),
    }
}

/// Decodes query string and body (form-encoded, or JSON as an unverified extra) into arguments.
fn decode_arguments(query: Option<&str>, content_type: &str, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut pairs = query.map(|q| form::parse_pairs(q.as_bytes())).unwrap_or_default();
    let ct = content_type.to_ascii_lowercase();
    let mut json_body = None;
    if ct.starts_with("application/json") {
        if !body.iter().all(u8::is_ascii_whitespace) {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(m)) => json_body = Some(m),
                _ => return Err(ApiError::params("The JSON body must be an object of arguments")),
            }
        }
    } else if ct.starts_with("multipart/") {
        return Err(ApiError::params("multipart bodies are not supported; send application/x-www-form-urlencoded"));
    } else {
        pairs.extend(form::parse_pairs(body));
    }
    let decoded = form::decode_pairs(pairs).map_err(|e| ApiError::params(format!("Bad request arguments: {e}")))?;
    let Value::Object(mut map) = decoded else { return Ok(Map::new()) };
    if let Some(m) = json_body {
        for (k, v) in m {
            map.insert(k, stringify(v));
        }
    }
    Ok(map)
}

fn fault_response(kind: FaultKind) -> Option<Response> {
    match kind {
        FaultKind::Http500 => Some(error_response(&ApiError::internal("Internal server error (injected by the sandbox)"), None)),
        FaultKind::Http429 => {
            let mut r = error_response(
                &ApiError::bad_call("Too many requests; retry after 2 seconds (injected by the sandbox)"),
                Some(StatusCode::TOO_MANY_REQUESTS),
            );
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            Some(r)
        }
        FaultKind::NotJson => {
            let html = "<!DOCTYPE html>\n<html><head><title>Digistore24 - Maintenance</title></head>\
                        <body><h1>We'll be back soon</h1><p>Digistore24 is being updated (injected by the sandbox).</p></body></html>\n";
            let mut r = Response::new(Body::from(html));
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            Some(r)
        }
        FaultKind::ErrorEnvelope => Some(error_response(
            &ApiError::internal("A temporary error occurred, please try again later (injected by the sandbox)"),
            Some(StatusCode::OK),
        )),
        FaultKind::Timeout => None,
    }
}

async fn api_call(State(sb): State<Arc<Sandbox>>, req: Request) -> Response {
    let started = Instant::now();
    if sb.config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(sb.config.latency_ms)).await;
    }
    let (parts, body) = req.into_parts();
    let (function, path_key) = match parse_call_path(parts.uri.path()) {
        Ok(x) => x,
        Err(e) => return error_response(&e, Some(StatusCode::NOT_FOUND)),
    };
    if let Some(kind) = sb.faults.take(&function) {
        tracing::debug!(function, fault = kind.as_str(), "sandbox: injecting fault");
        match fault_response(kind) {
            Some(r) => return r,
            None => tokio::time::sleep(TIMEOUT_FAULT).await,
        }
    } else if sb.faults.random_failure() {
        return error_response(&ApiError::internal("Internal server error (random fault injected by the sandbox)"), None);
    }
    let bytes = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return error_response(&ApiError::too_large(format!("The request body exceeds {MAX_BODY_BYTES} bytes")), None),
    };
    let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let raw = match decode_arguments(parts.uri.query(), content_type, &bytes) {
        Ok(m) => m,
        Err(e) => return error_response(&e, None),
    };
    let header_key = parts.headers.get("x-ds-api-key").and_then(|v| v.to_str().ok()).map(str::to_string);
    let key = path_key.or(header_key);
    let method = parts.method.clone();
    let site = approval::site_of(&parts.headers);
    // Digistore24 checks a new IPN URL with GET before it stores the
    // connection; the sandbox, offline, checks the URLs on this machine.
    if function == "ipnSetup"
        && let Some(url) = raw.get("ipn_url").and_then(Value::as_str)
        && handlers::ipn::is_loopback_url(url)
        && let Err(why) = notify::check_url(url).await
    {
        return error_response(&ApiError::params(why), None);
    }
    let result = sb.call(key.as_deref(), &function, raw, &site);
    tracing::debug!(%method, function, ok = result.is_ok(), "sandbox call");
    match result {
        Ok(data) => success_response(&data, started),
        Err(e) => error_response(&e, None),
    }
}

async fn health(State(sb): State<Arc<Sandbox>>) -> Json<Value> {
    Json(json!({
        "status": "ok",
        "api_version": API_VERSION,
        "accounts": sb.accounts,
        "keys": sb.keys.len(),
        "pending_faults": sb.faults.pending_count(),
        "latency_ms": sb.config.latency_ms,
        "fault_rate": sb.config.fault_rate,
        "uptime_seconds": sb.started.elapsed().as_secs(),
    }))
}

async fn faults_admin(State(sb): State<Arc<Sandbox>>, method: Method, body: axum::body::Bytes) -> Response {
    match method {
        Method::POST => {
            let req: FaultRequest = match serde_json::from_slice(&body) {
                Ok(r) => r,
                Err(e) => return (StatusCode::BAD_REQUEST, Json(json!({"ok": false, "error": format!("bad JSON: {e}")}))).into_response(),
            };
            match sb.faults.arm(req) {
                Ok(()) => Json(json!({"ok": true, "pending": sb.faults.pending()})).into_response(),
                Err(e) => (StatusCode::BAD_REQUEST, Json(json!({"ok": false, "error": e}))).into_response(),
            }
        }
        Method::DELETE => Json(json!({"ok": true, "cleared": sb.faults.clear()})).into_response(),
        _ => Json(json!({"ok": true, "pending": sb.faults.pending()})).into_response(),
    }
}

/// `POST /sandbox/keys/revoke` with `{"key": "…"}`: from now on the key is
/// refused as Digistore24 refuses a deleted key (error code 2).
async fn revoke_key(State(sb): State<Arc<Sandbox>>, body: axum::body::Bytes) -> Response {
    let key = serde_json::from_slice::<Value>(&body).ok().and_then(|v| v.get("key").and_then(Value::as_str).map(str::to_owned));
    match key.filter(|k| sb.keys.contains_key(k.as_str())) {
        Some(key) => {
            sb.revoked.write().unwrap_or_else(|e| e.into_inner()).insert(key);
            Json(json!({"ok": true})).into_response()
        }
        None => (StatusCode::BAD_REQUEST, Json(json!({"ok": false, "error": "give {\"key\": \"<a sandbox key>\"}"}))).into_response(),
    }
}

/// `POST /sandbox/purchases` `{"product_id"?}` (key in `X-DS-API-KEY`,
/// default the writable one): a buyer "buys", and the IPN goes out.
async fn purchase_admin(State(sb): State<Arc<Sandbox>>, headers: axum::http::HeaderMap, body: axum::body::Bytes) -> Response {
    let request: Value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return (StatusCode::BAD_REQUEST, Json(json!({"ok": false, "error": format!("bad JSON: {e}")}))).into_response(),
        }
    };
    let key = headers.get("x-ds-api-key").and_then(|v| v.to_str().ok()).unwrap_or(WRITABLE_KEY);
    let product = match &request["product_id"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    match sb.purchase(key, product.as_deref()) {
        Ok(data) => Json(json!({"ok": true, "data": data})).into_response(),
        Err(e) => (e.status, Json(json!({"ok": false, "error": e.message}))).into_response(),
    }
}

async fn not_found() -> Response {
    error_response(&ApiError::bad_call("Unknown URL; the API lives under /api/call/{function}"), Some(StatusCode::NOT_FOUND))
}

/// The whole sandbox API as a router: `/api/call/...` (GET and POST), `GET /sandbox/health`
/// and `GET|POST|DELETE /sandbox/faults`. Seeds every account up front.
pub fn router(config: SandboxConfig) -> Router {
    let sb = Arc::new(Sandbox::new(config));
    Router::new()
        .route("/api/call/{*rest}", get(api_call).post(api_call))
        .route("/sandbox/health", get(health))
        .route("/sandbox/faults", get(faults_admin).post(faults_admin).delete(faults_admin))
        .route("/en/api/key/request/{token}", get(approval::page).post(approval::answer))
        .route("/sandbox/keys/revoke", axum::routing::post(revoke_key))
        .route("/sandbox/purchases", axum::routing::post(purchase_admin))
        .fallback(not_found)
        .with_state(sb)
}

/// Binds `listen` (port 0 picks a free port), serves the sandbox in the
/// background and returns the bound address and the server task.
pub async fn spawn(config: SandboxConfig, listen: SocketAddr) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let app = router(config);
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let handle = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "sandbox server stopped");
        }
    });
    Ok((addr, handle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_paths() {
        assert_eq!(parse_call_path("/api/call/ping").unwrap(), ("ping".into(), None));
        assert_eq!(parse_call_path("/api/call/ping/").unwrap(), ("ping".into(), None));
        assert_eq!(parse_call_path("/api/call/ping/format/json").unwrap(), ("ping".into(), None));
        assert_eq!(parse_call_path("/api/call/sandbox-readonly/json/ping").unwrap(), ("ping".into(), Some("sandbox-readonly".into())));
        assert_eq!(parse_call_path("/api/call/my%20key/json/ping").unwrap().1.as_deref(), Some("my key"));
        assert!(parse_call_path("/api/call/ping/format/xml").is_err());
        assert!(parse_call_path("/api/call/").is_err());
        assert!(parse_call_path("/api/call/a/b/c/d").is_err());
    }

    #[test]
    fn arguments_merge_query_and_body() {
        let m = decode_arguments(Some("a=1&data[x]=q"), "application/x-www-form-urlencoded", b"a=2&data[y]=b").unwrap();
        assert_eq!(Value::Object(m), json!({"a":"2","data":{"x":"q","y":"b"}}));
        let m = decode_arguments(None, "application/json", br#"{"n":5,"f":true,"o":{"k":null}}"#).unwrap();
        assert_eq!(Value::Object(m), json!({"n":"5","f":"Y","o":{"k":""}}));
        assert!(decode_arguments(None, "application/json", b"[1]").is_err());
    }

    #[test]
    fn success_envelope_is_what_serializing_the_frame_gave() {
        #[derive(Serialize)]
        struct SuccessFrame<'a> {
            api_version: &'static str,
            current_time: &'a str,
            runtime_seconds: f64,
            result: &'static str,
            data: &'a Value,
        }
        let data = json!({"products": [{"id": "1", "name": "Kurs \"A\" ü\n"}], "n": 2});
        for runtime_seconds in [0.001, 0.012, 1.5, 12.0] {
            let frame = SuccessFrame {
                api_version: API_VERSION,
                current_time: "2026-12-01 11:00:00",
                runtime_seconds,
                result: "success",
                data: &data,
            };
            let spliced = success_body(&answers::encode(&data), "2026-12-01 11:00:00", runtime_seconds);
            assert_eq!(String::from_utf8(spliced).unwrap(), serde_json::to_string(&frame).unwrap());
        }
    }

    #[test]
    fn keys_and_permissions() {
        let sb = Sandbox::new(SandboxConfig {
            extra_keys: vec!["sandbox-t1".into(), "bad-key".into(), "sandbox-t2-readonly".into()],
            ..Default::default()
        });
        assert_eq!(sb.accounts, 3);
        assert_eq!(sb.call(None, "ping", Map::new(), "").unwrap_err().code, 2);
        assert_eq!(sb.call(Some("nope"), "ping", Map::new(), "").unwrap_err().code, 2);
        assert_eq!(sb.call(Some("bad-key"), "ping", Map::new(), "").unwrap_err().code, 2);
        assert!(sb.call(Some(READONLY_KEY), "ping", Map::new(), "").is_ok());
        assert_eq!(sb.call(Some(WRITABLE_KEY), "noSuchFunction", Map::new(), "").unwrap_err().code, 9);
        assert_eq!(sb.call(Some(WRITABLE_KEY), "GetGetpurchase", Map::new(), "").unwrap_err().code, 9, "MCP aliases are not API names");
        assert_eq!(sb.call(Some("sandbox-t2-readonly"), "ping", Map::new(), "").map(|_| ()), Ok(()));
    }
}
