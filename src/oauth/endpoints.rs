//! The OAuth endpoints: protected-resource metadata (RFC 9728),
//! authorization-server metadata (RFC 8414), `/authorize` (the sign-in
//! page and its form), `/token` (code and refresh grants) and `/register`
//! (stateless dynamic client registration, RFC 7591).
//!
//! Owns: the parameters and answers of each endpoint and the checks between
//! them (client, exact redirect, PKCE S256, resource, grant end). Never
//! logs a token, a code, a form body or a key (the key's fingerprint and
//! the grant id only). Must not touch: the MCP routes.

use super::artifacts::{Access, Code, Grant, KeyRequest, Refresh, RegisteredClient, SealedKey, SignInRequest};
use super::clients::{self, KnownClient};
use super::page::{self, Lang, Refused, SignInView};
use super::{CODE_TTL, Kind, OAuth, SCOPE_READ, SCOPE_WRITE, SIGN_IN_TTL, Scope, now, random_id};
use crate::ds24::{ApiKey, CallError, FormBody};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

const CSRF_COOKIE: &str = "ds24mcp_signin";
const KEY_REQUEST_COOKIE: &str = "ds24mcp_keyreq";
/// Largest body of `/authorize`, `/token` and `/register`.
const MAX_BODY: usize = 64 * 1024;
const MAX_REDIRECT_URIS: usize = 10;
const MAX_REDIRECT_BYTES: usize = 2000;

/// The OAuth routes, all at the origin's root (some clients synthesize those paths).
pub fn routes(oauth: Arc<OAuth>) -> Router {
    // Browser-based clients (the MCP Inspector's web UI) discover, register and
    // fetch tokens from their own origin; these answers carry no cookies, so any
    // origin may read them. The sign-in pages are navigated to, never fetched.
    let cors = tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([axum::http::Method::GET, axum::http::Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::HeaderName::from_static("mcp-protocol-version")])
        .max_age(std::time::Duration::from_secs(3600));
    let for_any_origin = Router::new()
        .route("/.well-known/oauth-protected-resource", get(resource_metadata_root))
        .route("/.well-known/oauth-protected-resource/{*path}", get(resource_metadata))
        .route("/.well-known/oauth-authorization-server", get(server_metadata))
        .route("/.well-known/openid-configuration", get(server_metadata))
        .route("/token", post(token))
        .route("/register", post(register))
        .route("/revoke", post(revoke))
        .layer(cors);
    Router::new()
        .route("/authorize", get(authorize).post(sign_in))
        .route("/authorize/connect", post(connect))
        .route("/authorize/return", get(key_returned))
        .merge(for_any_origin)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .with_state(oauth)
}

/// Whether `path` (with a leading slash) is one of the MCP paths.
fn is_mcp_path(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    matches!(segments.as_slice(), ["mcp"] | ["mcp", "readonly"] | ["mcp", "x", _] | ["mcp", "x", _, "readonly"])
        && segments.iter().all(|s| !s.is_empty())
}

fn resource_body(oauth: &OAuth, path: &str) -> Value {
    json!({
        "resource": format!("{}{path}", oauth.issuer),
        "authorization_servers": [oauth.issuer],
        "scopes_supported": [SCOPE_READ, SCOPE_WRITE],
        "bearer_methods_supported": ["header"],
        "resource_name": "Digistore24 (MCP)",
        "resource_documentation": "https://github.com/digistore24-mcp",
    })
}

async fn resource_metadata_root(State(oauth): State<Arc<OAuth>>) -> Response {
    json_answer(StatusCode::OK, resource_body(&oauth, "/mcp"))
}

async fn resource_metadata(State(oauth): State<Arc<OAuth>>, Path(path): Path<String>) -> Response {
    let path = format!("/{path}");
    if !is_mcp_path(&path) {
        return json_answer(
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "error_description": format!("no protected resource at {path}")}),
        );
    }
    json_answer(StatusCode::OK, resource_body(&oauth, &path))
}

async fn server_metadata(State(oauth): State<Arc<OAuth>>) -> Response {
    let issuer = &oauth.issuer;
    let mut body = json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}/authorize"),
            "token_endpoint": format!("{issuer}/token"),
            "registration_endpoint": format!("{issuer}/register"),
            "scopes_supported": [SCOPE_READ, SCOPE_WRITE, "offline_access"],
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "client_id_metadata_document_supported": true,
            "authorization_response_iss_parameter_supported": true,
            "service_documentation": format!("{issuer}/health"),
    });
    // Revocation needs the shared ledger; without it the endpoint is not advertised.
    if oauth.config.ledger.enforces() {
        body["revocation_endpoint"] = json!(format!("{issuer}/revoke"));
        body["revocation_endpoint_auth_methods_supported"] = json!(["none", "client_secret_basic", "client_secret_post"]);
    }
    json_answer(StatusCode::OK, body)
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Parameters of a query or form body; a repeated parameter makes it `None`
/// (RFC 6749 §3.1: parameters must not be repeated).
fn params(raw: &[u8]) -> Option<HashMap<String, String>> {
    let mut out = HashMap::new();
    for (name, value) in form_urlencoded::parse(raw) {
        if out.insert(name.into_owned(), value.into_owned()).is_some() {
            return None;
        }
    }
    Some(out)
}

/// A client by its id: a metadata document URL (fetched under SSRF rules),
/// one we issued, or one the operator registered. `Err` says why a document failed.
async fn find_client(oauth: &OAuth, client_id: &str) -> Result<Option<KnownClient>, String> {
    if oauth.documents.describes(client_id) {
        return oauth.documents.client(client_id).await.map(Some);
    }
    Ok(clients::find(oauth.ring(), &oauth.config.clients, client_id))
}

fn error_page(lang: Lang, status: StatusCode, message: &str) -> Response {
    page::respond(status, page::error_page(lang, message), None)
}

/// Sends the browser back to a trusted redirect with an OAuth error.
fn redirect_error(oauth: &OAuth, redirect_uri: &str, state: Option<&str>, error: &str, description: &str) -> Response {
    let pairs = [("error", Some(error)), ("error_description", Some(description)), ("state", state), ("iss", Some(oauth.issuer()))];
    redirect_with(redirect_uri, &pairs)
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, Option<&str>)]) -> Response {
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(Lang::En, StatusCode::BAD_REQUEST, "The redirect URI is not valid.");
    };
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            if let Some(value) = value {
                query.append_pair(name, value);
            }
        }
    }
    let mut response = Redirect::to(url.as_str()).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// What the sign-in page names as the place it returns to, and what CSP's
/// `form-action` must allow for the redirect after the form.
fn return_target(redirect_uri: &str) -> (String, String) {
    match url::Url::parse(redirect_uri) {
        Ok(url) if url.scheme() == "http" || url.scheme() == "https" => {
            let host = url.host_str().unwrap_or("").to_owned();
            let shown = match url.port() {
                Some(port) if clients::is_loopback_host(&host) => format!("{host}:{port} (this computer)"),
                _ => host,
            };
            (shown, url.origin().ascii_serialization())
        }
        Ok(url) => (format!("{}://{}", url.scheme(), url.host_str().unwrap_or("")), format!("{}:", url.scheme())),
        Err(_) => (redirect_uri.to_owned(), "'none'".to_owned()),
    }
}

/// The resource a sign-in is for: the one asked for (on this server, an MCP
/// path or the origin), else the whole MCP endpoint.
fn resource_of(oauth: &OAuth, asked: Option<&str>) -> Result<String, String> {
    let Some(asked) = asked.filter(|r| !r.is_empty()) else { return Ok(format!("{}/mcp", oauth.issuer)) };
    let trimmed = asked.trim_end_matches('/');
    if trimmed == oauth.issuer {
        return Ok(trimmed.to_owned());
    }
    match trimmed.strip_prefix(oauth.issuer.as_str()) {
        Some(path) if is_mcp_path(path) => Ok(trimmed.to_owned()),
        _ => Err(format!("the resource {asked} is not served by {}", oauth.issuer)),
    }
}

async fn authorize(State(oauth): State<Arc<OAuth>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let lang = Lang::from_headers(&headers);
    let Some(p) = params(query.unwrap_or_default().as_bytes()) else {
        return error_page(lang, StatusCode::BAD_REQUEST, page::refused(lang, Refused::RepeatedParameter));
    };
    let get = |name: &str| p.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let Some(client_id) = get("client_id") else {
        return error_page(lang, StatusCode::BAD_REQUEST, page::refused(lang, Refused::NoClientId));
    };
    let found = match find_client(&oauth, client_id).await {
        Ok(found) => found,
        Err(why) => {
            tracing::info!(target: "digistore24_mcp::oauth", reason = %why, "client metadata document refused");
            return error_page(lang, StatusCode::BAD_REQUEST, &format!("The application's metadata document cannot be used: {why}."));
        }
    };
    let Some(client) = found else {
        return error_page(lang, StatusCode::BAD_REQUEST, page::refused(lang, Refused::UnknownClient));
    };
    let redirect_uri = match get("redirect_uri") {
        Some(uri) if client.allows_redirect(uri) => uri.to_owned(),
        Some(_) => {
            return error_page(lang, StatusCode::BAD_REQUEST, page::refused(lang, Refused::UnregisteredRedirect));
        }
        None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
        None => return error_page(lang, StatusCode::BAD_REQUEST, page::refused(lang, Refused::NoRedirect)),
    };
    // From here on the redirect is trusted: errors go back to the application.
    let state = get("state");
    if get("response_type") != Some("code") {
        return redirect_error(&oauth, &redirect_uri, state, "unsupported_response_type", "only response_type=code is supported");
    }
    let challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (Some(c), Some("S256")) if (43..=128).contains(&c.len()) => c.to_owned(),
        (Some(_), Some("S256")) => {
            return redirect_error(&oauth, &redirect_uri, state, "invalid_request", "code_challenge has the wrong length");
        }
        _ => {
            return redirect_error(
                &oauth,
                &redirect_uri,
                state,
                "invalid_request",
                "PKCE is required: code_challenge with code_challenge_method=S256",
            );
        }
    };
    let resource = match resource_of(&oauth, get("resource")) {
        Ok(resource) => resource,
        Err(why) => return redirect_error(&oauth, &redirect_uri, state, "invalid_target", &why),
    };
    let scope = Scope::requested(get("scope"));
    let csrf = random_id(18);
    let request = SignInRequest {
        client_id: client.client_id.clone(),
        client_name: client.name.clone(),
        redirect_uri,
        code_challenge: challenge,
        state: state.map(str::to_owned),
        scope,
        resource,
        csrf: csrf.clone(),
    };
    let sealed = oauth.ring().seal(Kind::SignIn, &request, now() + SIGN_IN_TTL.as_secs());
    let mut response = render_sign_in(&oauth, lang, &request, &sealed, None, StatusCode::OK);
    let secure = if oauth.issuer.starts_with("https://") { "; Secure" } else { "" };
    // Lax, not Strict: the browser comes back from Digistore24's approval page
    // (another site) to /authorize/return with a top-level GET.
    let cookie = format!("{CSRF_COOKIE}={csrf}; Path=/authorize; HttpOnly; SameSite=Lax; Max-Age={}{secure}", SIGN_IN_TTL.as_secs());
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn render_sign_in(oauth: &OAuth, lang: Lang, request: &SignInRequest, sealed: &str, error: Option<&str>, status: StatusCode) -> Response {
    let (return_host, mut form_target) = return_target(&request.redirect_uri);
    let connect = oauth.config.developer_key.is_some();
    if connect && let Ok(upstream) = url::Url::parse(oauth.client.base_url()) {
        // "Connect with Digistore24" redirects the form to Digistore24's approval page.
        form_target = format!("{form_target} {}", upstream.origin().ascii_serialization());
    }
    let client_name = request.client_name.clone().unwrap_or_else(|| return_host.clone());
    let view = SignInView {
        lang,
        client_name: &client_name,
        return_host: &return_host,
        write: request.scope == Scope::Write,
        request: sealed,
        error,
        sandbox_hint: oauth.config.sandbox_hint,
        connect,
    };
    page::respond(status, page::sign_in(&view), Some(&form_target))
}

/// The sign-in request a form (or return URL) carries, if it is ours, fresh
/// and comes with the cookie set with its page (double submit: another site
/// cannot post a key into someone's sign-in). Returns the sealed text too,
/// which the page carries on.
fn signed_in_request<'a>(
    oauth: &OAuth,
    headers: &HeaderMap,
    params: &'a HashMap<String, String>,
    lang: Lang,
) -> Result<(&'a str, SignInRequest), Box<Response>> {
    let sealed = params.get("request").map(String::as_str).unwrap_or("");
    let Ok(request) = oauth.ring().open::<SignInRequest>(Kind::SignIn, sealed, now()) else {
        return Err(Box::new(error_page(lang, StatusCode::BAD_REQUEST, page::expired(lang))));
    };
    let cookie_ok = super::request_cookie(headers, CSRF_COOKIE).is_some_and(|c| constant_time_eq(c.as_bytes(), request.csrf.as_bytes()));
    if !cookie_ok {
        return Err(Box::new(error_page(lang, StatusCode::FORBIDDEN, page::expired(lang))));
    }
    Ok((sealed, request))
}

/// The sign-in form: checks the CSRF cookie and the key, then sends the
/// browser back to the application with a code.
async fn sign_in(State(oauth): State<Arc<OAuth>>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::from_headers(&headers);
    let Some(form) = params(&body) else { return error_page(lang, StatusCode::BAD_REQUEST, page::expired(lang)) };
    let (sealed, request) = match signed_in_request(&oauth, &headers, &form, lang) {
        Ok(opened) => opened,
        Err(response) => return *response,
    };
    let Some(key) = form.get("api_key").and_then(|k| ApiKey::new(k)) else {
        return render_sign_in(&oauth, lang, &request, sealed, Some(page::no_key(lang)), StatusCode::BAD_REQUEST);
    };
    finish_sign_in(&oauth, lang, &request, sealed, key).await
}

/// Checks `key` with Digistore24, limits the scope to what it allows, and
/// redirects to the application with a code.
async fn finish_sign_in(oauth: &OAuth, lang: Lang, request: &SignInRequest, sealed: &str, key: ApiKey) -> Response {
    let info = match oauth.client.call(&key, crate::catalog::ACCOUNT_INFO, &FormBody::default()).await {
        Ok(info) => info,
        Err(CallError::Api { code: Some(2), .. } | CallError::Api { status: 401, .. }) => {
            tracing::info!(target: "digistore24_mcp::oauth", key = key.fingerprint(), "sign-in refused: Digistore24 did not accept the key");
            return render_sign_in(oauth, lang, request, sealed, Some(page::wrong_key(lang)), StatusCode::BAD_REQUEST);
        }
        Err(error) => {
            tracing::warn!(target: "digistore24_mcp::oauth", key = key.fingerprint(), error = error.kind(), "sign-in: key check failed");
            return render_sign_in(oauth, lang, request, sealed, Some(page::upstream_down(lang)), StatusCode::BAD_GATEWAY);
        }
    };
    let key_scope = match info.get("api_key_permissions").and_then(Value::as_str) {
        Some("readonly" | "read-only" | "read") => Scope::Read,
        _ => Scope::Write,
    };
    let issued = now();
    let grant = Grant {
        key: SealedKey::new(&key),
        scope: request.scope.min(key_scope),
        resource: request.resource.clone(),
        client_id: request.client_id.clone(),
        grant_id: random_id(9),
        grant_exp: issued + oauth.config.grant_ttl.as_secs(),
    };
    tracing::info!(
        target: "digistore24_mcp::oauth",
        grant = %grant.grant_id,
        key = key.fingerprint(),
        scope = grant.scope.as_str(),
        "sign-in: grant issued"
    );
    let code = Code { grant, redirect_uri: request.redirect_uri.clone(), code_challenge: request.code_challenge.clone() };
    let code = oauth.ring().seal(Kind::Code, &code, issued + CODE_TTL.as_secs());
    let mut response =
        redirect_with(&request.redirect_uri, &[("code", Some(&code)), ("state", request.state.as_deref()), ("iss", Some(oauth.issuer()))]);
    // Redirect::to is 303 See Other: the browser follows it with GET.
    for name in [CSRF_COOKIE, KEY_REQUEST_COOKIE] {
        if let Ok(value) = HeaderValue::from_str(&format!("{name}=; Path=/authorize; HttpOnly; SameSite=Lax; Max-Age=0")) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// "Connect with Digistore24": starts a key request with the operator's
/// developer key and sends the vendor to Digistore24 to approve it.
async fn connect(State(oauth): State<Arc<OAuth>>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::from_headers(&headers);
    let Some(form) = params(&body) else { return error_page(lang, StatusCode::BAD_REQUEST, page::expired(lang)) };
    let (sealed, request) = match signed_in_request(&oauth, &headers, &form, lang) {
        Ok(opened) => opened,
        Err(response) => return *response,
    };
    let Some(developer_key) = &oauth.config.developer_key else {
        return render_sign_in(&oauth, lang, &request, sealed, Some(page::upstream_down(lang)), StatusCode::NOT_FOUND);
    };
    let back = |cancelled: bool| {
        let mut url = url::Url::parse(&format!("{}/authorize/return", oauth.issuer)).expect("the issuer is a URL");
        url.query_pairs_mut().append_pair("request", sealed);
        if cancelled {
            url.query_pairs_mut().append_pair("cancelled", "1");
        }
        url.to_string()
    };
    let permissions = if request.scope == Scope::Write { "writable" } else { "readonly" };
    let app = request.client_name.clone().unwrap_or_else(|| return_target(&request.redirect_uri).0);
    let body = FormBody {
        fields: vec![
            ("permissions".into(), permissions.into()),
            ("return_url".into(), back(false)),
            ("cancel_url".into(), back(true)),
            ("site_url".into(), oauth.issuer.clone()),
            ("comment".into(), format!("MCP connection for {}", app.chars().take(60).collect::<String>())),
        ],
    };
    let answer = match oauth.client.call(developer_key, crate::catalog::KEY_REQUEST, &body).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(target: "digistore24_mcp::oauth", error = error.kind(), "key request failed");
            return render_sign_in(&oauth, lang, &request, sealed, Some(page::upstream_down(lang)), StatusCode::BAD_GATEWAY);
        }
    };
    let request_url = answer.get("request_url").and_then(Value::as_str).filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    let (Some(request_url), Some(token)) = (request_url, answer.get("request_token").and_then(Value::as_str)) else {
        return render_sign_in(&oauth, lang, &request, sealed, Some(page::upstream_down(lang)), StatusCode::BAD_GATEWAY);
    };
    let pending = KeyRequest { token: token.to_owned(), csrf: request.csrf.clone() };
    let pending = oauth.ring().seal(Kind::KeyRequest, &pending, now() + SIGN_IN_TTL.as_secs());
    let secure = if oauth.issuer.starts_with("https://") { "; Secure" } else { "" };
    let mut response = Redirect::to(request_url).into_response();
    let cookie =
        format!("{KEY_REQUEST_COOKIE}={pending}; Path=/authorize; HttpOnly; SameSite=Lax; Max-Age={}{secure}", SIGN_IN_TTL.as_secs());
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// Back from Digistore24's approval page: fetches the approved key and
/// finishes the sign-in with it.
async fn key_returned(State(oauth): State<Arc<OAuth>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let lang = Lang::from_headers(&headers);
    let Some(p) = params(query.unwrap_or_default().as_bytes()) else {
        return error_page(lang, StatusCode::BAD_REQUEST, page::expired(lang));
    };
    let (sealed, request) = match signed_in_request(&oauth, &headers, &p, lang) {
        Ok(opened) => opened,
        Err(response) => return *response,
    };
    let pending =
        super::request_cookie(&headers, KEY_REQUEST_COOKIE).and_then(|c| oauth.ring().open::<KeyRequest>(Kind::KeyRequest, c, now()).ok());
    let (Some(pending), Some(developer_key)) = (pending.filter(|k| k.csrf == request.csrf), &oauth.config.developer_key) else {
        return error_page(lang, StatusCode::FORBIDDEN, page::expired(lang));
    };
    if p.contains_key("cancelled") {
        return render_sign_in(&oauth, lang, &request, sealed, Some(page::key_request_cancelled(lang)), StatusCode::OK);
    }
    let body = FormBody { fields: vec![("token".into(), pending.token)] };
    let answer = match oauth.client.call(developer_key, crate::catalog::KEY_RETRIEVE, &body).await {
        Ok(answer) => answer,
        Err(error) => {
            tracing::warn!(target: "digistore24_mcp::oauth", error = error.kind(), "retrieving the requested key failed");
            return render_sign_in(&oauth, lang, &request, sealed, Some(page::upstream_down(lang)), StatusCode::BAD_GATEWAY);
        }
    };
    let status = answer.get("request_status").and_then(Value::as_str).unwrap_or("");
    match (status, answer.get("api_key").and_then(Value::as_str).and_then(ApiKey::new)) {
        ("completed", Some(key)) => finish_sign_in(&oauth, lang, &request, sealed, key).await,
        ("pending", _) => render_sign_in(&oauth, lang, &request, sealed, Some(page::key_request_pending(lang)), StatusCode::OK),
        _ => render_sign_in(&oauth, lang, &request, sealed, Some(page::key_request_cancelled(lang)), StatusCode::OK),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An RFC 6749 §5.2 error answer.
fn token_error(status: StatusCode, error: &str, description: &str) -> Response {
    let mut response = json_answer(status, json!({"error": error, "error_description": description}));
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"digistore24-mcp\""));
    }
    response
}

fn invalid_grant(why: &str) -> Response {
    token_error(StatusCode::BAD_REQUEST, "invalid_grant", why)
}

/// The client of a `/token` request, authenticated the way it registered.
async fn token_client(oauth: &OAuth, headers: &HeaderMap, form: &HashMap<String, String>) -> Result<KnownClient, Box<Response>> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |s: &str| form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
            Some((decode(id)?, decode(secret)?))
        });
    let (client_id, secret) = match &basic {
        Some((id, secret)) => (Some(id.clone()), Some(secret.clone())),
        None => (form.get("client_id").cloned(), form.get("client_secret").cloned()),
    };
    let unknown = || Box::new(token_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client; register again"));
    let Some(client_id) = client_id.filter(|c| !c.is_empty()) else { return Err(unknown()) };
    let Ok(Some(client)) = find_client(oauth, &client_id).await else { return Err(unknown()) };
    match secret.filter(|s| !s.is_empty()) {
        Some(secret) if !oauth.ring().check_client_secret(&client_id, &secret) => {
            Err(Box::new(token_error(StatusCode::UNAUTHORIZED, "invalid_client", "the client secret is wrong")))
        }
        None if client.confidential => {
            Err(Box::new(token_error(StatusCode::UNAUTHORIZED, "invalid_client", "this client must authenticate")))
        }
        _ => Ok(client),
    }
}

async fn token(State(oauth): State<Arc<OAuth>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(form) = params(&body) else { return token_error(StatusCode::BAD_REQUEST, "invalid_request", "a parameter was given twice") };
    let client = match token_client(&oauth, &headers, &form).await {
        Ok(client) => client,
        Err(response) => return *response,
    };
    let get = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let issued = now();
    let (grant, generation) = match get("grant_type") {
        Some("authorization_code") => {
            let Some(code) = get("code") else { return token_error(StatusCode::BAD_REQUEST, "invalid_request", "code is missing") };
            let code: Code = match oauth.ring().open(Kind::Code, code, issued) {
                Ok(code) => code,
                Err(why) => {
                    tracing::info!(target: "digistore24_mcp::oauth", reason = %why, "token: code refused");
                    return invalid_grant("the code is invalid or expired");
                }
            };
            if code.grant.client_id != client.client_id {
                return invalid_grant("the code was issued to another client");
            }
            if get("redirect_uri").is_some_and(|r| r != code.redirect_uri) {
                return invalid_grant("redirect_uri does not match the authorization request");
            }
            let Some(verifier) = get("code_verifier") else { return invalid_grant("code_verifier is missing (PKCE)") };
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if !(43..=128).contains(&verifier.len()) || !constant_time_eq(computed.as_bytes(), code.code_challenge.as_bytes()) {
                return invalid_grant("code_verifier does not match the code_challenge (PKCE)");
            }
            if get("resource").is_some_and(|r| r.trim_end_matches('/') != code.grant.resource.trim_end_matches('/')) {
                return token_error(StatusCode::BAD_REQUEST, "invalid_target", "resource does not match the authorization request");
            }
            match oauth.config.ledger.first_use_of_code(get("code").unwrap_or(""), CODE_TTL.as_secs() * 2).await {
                Ok(true) => {}
                Ok(false) => {
                    // A code used twice was probably stolen: end what the first use got.
                    tracing::warn!(target: "digistore24_mcp::oauth", grant = %code.grant.grant_id, "code used twice: grant revoked");
                    let _ = oauth.config.ledger.revoke(&code.grant.grant_id, code.grant.grant_exp, issued).await;
                    return invalid_grant("the code was already used");
                }
                Err(_) => return token_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again in a moment"),
            }
            (code.grant, 0)
        }
        Some("refresh_token") => {
            let Some(refresh) = get("refresh_token") else {
                return token_error(StatusCode::BAD_REQUEST, "invalid_request", "refresh_token is missing");
            };
            let refresh: Refresh = match oauth.ring().open(Kind::Refresh, refresh, issued) {
                Ok(refresh) => refresh,
                Err(why) => {
                    tracing::info!(target: "digistore24_mcp::oauth", reason = %why, "token: refresh token refused");
                    return invalid_grant("the refresh token is invalid or expired; sign in again");
                }
            };
            let mut grant = refresh.grant;
            if grant.client_id != client.client_id {
                return invalid_grant("the refresh token was issued to another client");
            }
            if issued >= grant.grant_exp {
                return invalid_grant("the grant has ended; sign in again");
            }
            if let Ok(true) = oauth.config.ledger.is_revoked(&grant.grant_id).await {
                return invalid_grant("the sign-in was revoked; sign in again");
            }
            if get("resource").is_some_and(|r| r.trim_end_matches('/') != grant.resource.trim_end_matches('/')) {
                return token_error(StatusCode::BAD_REQUEST, "invalid_target", "resource does not match the grant");
            }
            // A refresh may narrow the scope, never widen it.
            if let Some(scope) = get("scope") {
                grant.scope = grant.scope.min(Scope::requested(Some(scope)));
            }
            let ttl = grant.grant_exp.saturating_sub(issued);
            match oauth.config.ledger.next_refresh_generation(&grant.grant_id, refresh.generation, ttl).await {
                Ok(Some(next)) => (grant, next),
                Ok(None) => {
                    // An old refresh token came back after newer ones were used: stolen; end the grant.
                    tracing::warn!(target: "digistore24_mcp::oauth", grant = %grant.grant_id, "refresh token replayed: grant revoked");
                    let _ = oauth.config.ledger.revoke(&grant.grant_id, grant.grant_exp, issued).await;
                    return invalid_grant("the refresh token was already replaced; sign in again");
                }
                Err(_) => return token_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again in a moment"),
            }
        }
        Some(other) => {
            return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", &format!("grant_type {other} is not supported"));
        }
        None => return token_error(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is missing"),
    };
    let config = &oauth.config;
    let access_exp = issued + config.access_ttl.as_secs();
    let refresh_exp = (issued + config.refresh_ttl.as_secs()).min(grant.grant_exp);
    let scope = grant.scope.as_str();
    tracing::info!(target: "digistore24_mcp::oauth", grant = %grant.grant_id, grant_type = get("grant_type").unwrap_or(""), "token issued");
    let access = oauth.ring().seal(Kind::Access, &Access { grant: grant.clone() }, access_exp);
    let refresh = oauth.ring().seal(Kind::Refresh, &Refresh { grant, generation }, refresh_exp);
    let mut response = json_answer(
        StatusCode::OK,
        json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": config.access_ttl.as_secs(),
            "refresh_token": refresh,
            "scope": scope,
        }),
    );
    response.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// RFC 7009: ends the grant of an access or refresh token on every replica
/// (with Redis; the route answers 503 without). Unknown tokens get 200 too.
async fn revoke(State(oauth): State<Arc<OAuth>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(form) = params(&body) else { return token_error(StatusCode::BAD_REQUEST, "invalid_request", "a parameter was given twice") };
    let client = match token_client(&oauth, &headers, &form).await {
        Ok(client) => client,
        Err(response) => return *response,
    };
    if !oauth.config.ledger.enforces() {
        return token_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "revocation needs Redis (--redis-url) on this server",
        );
    }
    let Some(token) = form.get("token").filter(|t| !t.is_empty()) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "token is missing");
    };
    let issued = now();
    let grant = oauth
        .ring()
        .open::<Access>(Kind::Access, token, issued)
        .map(|a| a.grant)
        .or_else(|_| oauth.ring().open::<Refresh>(Kind::Refresh, token, issued).map(|r| r.grant));
    if let Ok(grant) = grant
        && grant.client_id == client.client_id
    {
        if oauth.config.ledger.revoke(&grant.grant_id, grant.grant_exp, issued).await.is_err() {
            return token_error(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again in a moment");
        }
        tracing::info!(target: "digistore24_mcp::oauth", grant = %grant.grant_id, "grant revoked");
    }
    json_answer(StatusCode::OK, json!({}))
}

fn registration_error(error: &str, description: &str) -> Response {
    json_answer(StatusCode::BAD_REQUEST, json!({"error": error, "error_description": description}))
}

/// Stateless registration: the client id is the sealed registration itself.
async fn register(State(oauth): State<Arc<OAuth>>, body: Bytes) -> Response {
    let Ok(Value::Object(meta)) = serde_json::from_slice::<Value>(&body) else {
        return registration_error("invalid_client_metadata", "the body must be a JSON object");
    };
    let redirect_uris: Vec<String> = match meta.get("redirect_uris") {
        Some(Value::Array(uris)) if !uris.is_empty() && uris.len() <= MAX_REDIRECT_URIS => {
            match uris.iter().map(|u| u.as_str().map(str::to_owned)).collect::<Option<Vec<_>>>() {
                Some(uris) => uris,
                None => return registration_error("invalid_redirect_uri", "redirect_uris must be strings"),
            }
        }
        _ => return registration_error("invalid_redirect_uri", &format!("give 1 to {MAX_REDIRECT_URIS} redirect_uris")),
    };
    // The client id carries them sealed and travels in /authorize URLs: keep it short.
    if redirect_uris.iter().map(String::len).sum::<usize>() > MAX_REDIRECT_BYTES {
        return registration_error(
            "invalid_redirect_uri",
            &format!("the redirect URIs are longer than {MAX_REDIRECT_BYTES} characters together"),
        );
    }
    for uri in &redirect_uris {
        if let Some(problem) = clients::redirect_problem(uri, &oauth.config.redirect_schemes) {
            return registration_error("invalid_redirect_uri", &problem);
        }
    }
    let auth_method = meta.get("token_endpoint_auth_method").and_then(Value::as_str).unwrap_or("client_secret_basic").to_owned();
    if !matches!(auth_method.as_str(), "none" | "client_secret_basic" | "client_secret_post") {
        return registration_error("invalid_client_metadata", &format!("token_endpoint_auth_method {auth_method} is not supported"));
    }
    let grant_types = meta.get("grant_types").cloned().unwrap_or_else(|| json!(["authorization_code", "refresh_token"]));
    let grant_ok =
        grant_types.as_array().is_some_and(|g| g.iter().all(|t| matches!(t.as_str(), Some("authorization_code" | "refresh_token"))));
    if !grant_ok {
        return registration_error("invalid_client_metadata", "grant_types may hold authorization_code and refresh_token only");
    }
    let client_name = meta.get("client_name").and_then(Value::as_str).map(|n| n.chars().take(100).collect::<String>());
    let registered =
        RegisteredClient { redirect_uris: redirect_uris.clone(), client_name: client_name.clone(), auth_method: auth_method.clone() };
    let client_id = oauth.ring().seal(Kind::Client, &registered, u64::MAX);
    let mut answer = json!({
        "client_id": client_id,
        "client_id_issued_at": now(),
        "redirect_uris": redirect_uris,
        "token_endpoint_auth_method": auth_method,
        "grant_types": grant_types,
        "response_types": ["code"],
    });
    if let Some(name) = client_name {
        answer["client_name"] = json!(name);
    }
    if let Some(scope) = meta.get("scope") {
        answer["scope"] = scope.clone();
    }
    if auth_method != "none" {
        answer["client_secret"] = json!(oauth.ring().client_secret(&client_id));
        answer["client_secret_expires_at"] = json!(0);
    }
    tracing::info!(target: "digistore24_mcp::oauth", client = registered.client_name.as_deref().unwrap_or("-"), "client registered");
    json_answer(StatusCode::CREATED, answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcp_paths_are_the_endpoint_and_its_narrowings() {
        for path in ["/mcp", "/mcp/readonly", "/mcp/x/products", "/mcp/x/products,purchases/readonly"] {
            assert!(is_mcp_path(path), "{path}");
        }
        for path in ["/", "/mcp/", "/mcp/x", "/mcp/x//readonly", "/token", "/mcp/other"] {
            assert!(!is_mcp_path(path), "{path}");
        }
    }

    #[test]
    fn repeated_parameters_are_refused() {
        assert!(params(b"a=1&b=2").is_some());
        assert!(params(b"a=1&a=2").is_none());
    }
}
