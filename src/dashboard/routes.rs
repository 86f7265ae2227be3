//! The dashboard's routes and what each does: sign-in and sign-out (forms
//! with double-submit CSRF values), the customer's page, the CSV, the JSON
//! API, the operator's page and the two static assets.
//!
//! Owns: the order of the checks of each request (credentials first, then
//! parameters) and the status codes: a page without a valid session
//! redirects to the sign-in (clearing a bad cookie), the API answers 401,
//! a bad parameter 400, the operator's page 404 when it is off. Must not
//! touch: the MCP routes or the reports' queries.

use super::Dashboard;
use super::api::{self, SortBy};
use super::render::{self, CustomerView, EventsView, OperatorView};
use super::session::{self, Cookie, KeyProblem, OPERATOR_COOKIE, OperatorSession, SESSION_COOKIE, Session};
use crate::ds24::ApiKey;
use crate::oauth::page::{self, DashboardSignInView, Lang};
use crate::oauth::{Authenticated, Kind};
use crate::store::now_ms;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// Largest form body (a key or a token and two short fields).
const MAX_BODY: usize = 16 * 1024;

/// The dashboard's routes.
pub fn routes(dashboard: Arc<Dashboard>) -> Router {
    Router::new()
        .route("/dashboard", get(customer_page))
        .route("/dashboard/", get(|| async { Redirect::permanent("/dashboard") }))
        .route("/dashboard/sign-in", get(sign_in_page).post(sign_in))
        .route("/dashboard/sign-out", post(sign_out))
        .route("/dashboard/usage.csv", get(usage_csv))
        .route("/api/usage", get(usage_api))
        .route("/dashboard/operator", get(operator_page))
        .route("/dashboard/operator/sign-in", post(operator_sign_in))
        .route("/dashboard/operator/sign-out", post(operator_sign_out))
        .route("/dashboard/assets/dashboard.css", get(|| async { asset("text/css; charset=utf-8", render::STYLE) }))
        .route("/dashboard/assets/dashboard.js", get(|| async { asset("text/javascript; charset=utf-8", render::SCRIPT) }))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(MAX_BODY))
        .with_state(dashboard)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=3600"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

/// Query or form parameters; the last of a repeated one wins.
fn params(raw: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(raw).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

fn query(raw: Option<String>) -> HashMap<String, String> {
    params(raw.unwrap_or_default().as_bytes())
}

fn lang_of(params: &HashMap<String, String>, headers: &HeaderMap) -> Lang {
    Lang::from_choice(params.get("lang").map(String::as_str), headers)
}

/// 303 to `to`, with the given cookies set or cleared.
fn see_other(to: &str, cookies: &[HeaderValue]) -> Response {
    let mut response = Redirect::to(to).into_response();
    for cookie in cookies {
        response.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn with_lang(path: &str, lang: Lang) -> String {
    format!("{path}?lang={}", lang.code())
}

/// `path`, keeping `?lang=` only when the request chose one (else the
/// next page follows `Accept-Language` again).
fn keeping_lang(path: &str, params: &HashMap<String, String>, lang: Lang) -> String {
    if params.contains_key("lang") { with_lang(path, lang) } else { path.to_owned() }
}

/// A sign-in page (customer or operator) with a fresh double-submit value.
fn sign_in_form(dashboard: &Dashboard, lang: Lang, operator: bool, error: Option<&str>, status: StatusCode) -> Response {
    let csrf = session::random_value();
    let view = DashboardSignInView { lang, csrf: &csrf, error, sandbox_hint: dashboard.config.sandbox_hint, operator };
    let mut response = page::respond(status, page::dashboard_sign_in(&view), None);
    response.headers_mut().append(header::SET_COOKIE, dashboard.config.form_cookie(&csrf));
    response
}

fn plain_error(status: StatusCode, message: &str) -> Response {
    let mut response =
        (status, axum::Json(json!({"error": status.canonical_reason().unwrap_or("error"), "message": message}))).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn sign_in_page(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let params = query(raw);
    let lang = lang_of(&params, &headers);
    if let Cookie::Valid(_) = dashboard.config.session(&headers) {
        return see_other(&keeping_lang("/dashboard", &params, lang), &[]);
    }
    sign_in_form(&dashboard, lang, false, None, StatusCode::OK)
}

/// The pasted key: checked with Digistore24 once, then only its tenant id
/// and the vendor id go into the sealed cookie.
async fn sign_in(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = params(&body);
    let lang = lang_of(&form, &headers);
    if !dashboard.config.form_is_ours(&headers, form.get("csrf").map(String::as_str)) {
        return sign_in_form(&dashboard, lang, false, Some(page::form_expired(lang)), StatusCode::FORBIDDEN);
    }
    let Some(key) = form.get("api_key").and_then(|k| ApiKey::new(k)) else {
        return sign_in_form(&dashboard, lang, false, Some(page::no_key(lang)), StatusCode::BAD_REQUEST);
    };
    let vendor_id = match session::check_key(&dashboard.config.client, &key).await {
        Ok(vendor_id) => vendor_id,
        Err(KeyProblem::Rejected) => {
            tracing::info!(target: "digistore24_mcp::dashboard", key = key.fingerprint(), "dashboard sign-in refused: Digistore24 did not accept the key");
            return sign_in_form(&dashboard, lang, false, Some(page::wrong_key(lang)), StatusCode::BAD_REQUEST);
        }
        Err(KeyProblem::Unreachable) => {
            return sign_in_form(&dashboard, lang, false, Some(page::upstream_down(lang)), StatusCode::BAD_GATEWAY);
        }
    };
    if let (Some(events), Some(vendor)) = (&dashboard.config.events, &vendor_id) {
        events.remember_tenant(&key, vendor);
    }
    let session = Session { tenant: key.tenant_id(), vendor_id, csrf: session::random_value() };
    tracing::info!(target: "digistore24_mcp::dashboard", key = key.fingerprint(), "dashboard: signed in");
    see_other(&with_lang("/dashboard", lang), &[dashboard.config.start_session(&session), dashboard.config.clear(session::CSRF_COOKIE)])
}

async fn sign_out(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = params(&body);
    let lang = lang_of(&form, &headers);
    match dashboard.config.session(&headers) {
        // Another site cannot sign someone out: the form carries the session's own value.
        Cookie::Valid(session) if !form.get("csrf").is_some_and(|c| session::same_secret(c, &session.csrf)) => {
            plain_error(StatusCode::FORBIDDEN, "this sign-out form is not from this session")
        }
        _ => see_other(&with_lang("/dashboard/sign-in", lang), &[dashboard.config.clear(SESSION_COOKIE)]),
    }
}

/// The customer's session for a page, or the redirect to the sign-in
/// (clearing a cookie that is expired or not ours).
fn page_session(
    dashboard: &Dashboard,
    headers: &HeaderMap,
    params: &HashMap<String, String>,
    lang: Lang,
) -> Result<Session, Box<Response>> {
    let sign_in = keeping_lang("/dashboard/sign-in", params, lang);
    match dashboard.config.session(headers) {
        Cookie::Valid(session) => Ok(session),
        Cookie::Missing => Err(Box::new(see_other(&sign_in, &[]))),
        Cookie::Invalid => Err(Box::new(see_other(&sign_in, &[dashboard.config.clear(SESSION_COOKIE)]))),
    }
}

async fn events_view(dashboard: &Dashboard, vendor_id: Option<&str>) -> EventsView {
    let (Some(events), Some(vendor)) = (&dashboard.config.events, vendor_id) else {
        return EventsView {
            on: dashboard.config.events.is_some(),
            vendor_known: false,
            last: None,
            last_24h: vec![],
            last_7d: vec![],
            last_test_ms: None,
            rejections: vec![],
        };
    };
    let store = &events.store;
    let now = now_ms();
    let logged = |e: crate::store::StoreError| tracing::warn!(target: "digistore24_mcp::dashboard", error = %e, "events status failed");
    EventsView {
        on: true,
        vendor_known: true,
        last: store.latest(vendor, None).await.map_err(logged).ok().flatten(),
        last_24h: store.counts(vendor, now - 86_400_000).await.map_err(logged).unwrap_or_default(),
        last_7d: store.counts(vendor, now - 7 * 86_400_000).await.map_err(logged).unwrap_or_default(),
        last_test_ms: store.latest(vendor, Some("connection_test")).await.map_err(logged).ok().flatten().map(|e| e.received_at),
        rejections: events.rejections_of(vendor).into_iter().rev().map(|r| (r.at, r.reason)).collect(),
    }
}

async fn customer_page(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let params = query(raw);
    let lang = lang_of(&params, &headers);
    let session = match page_session(&dashboard, &headers, &params, lang) {
        Ok(session) => session,
        Err(redirect) => return *redirect,
    };
    let (chosen, sort) = match (api::page_period(&params, now_ms()), SortBy::parse(params.get("sort").map(String::as_str))) {
        (Ok(chosen), Ok(sort)) => (chosen, sort),
        (Err(message), _) | (_, Err(message)) => return plain_error(StatusCode::BAD_REQUEST, &message),
    };
    let report = match dashboard.config.usage.usage_report(&session.tenant, session.vendor_id.as_deref(), chosen.period).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(target: "digistore24_mcp::dashboard", error = %e, "usage report failed");
            return plain_error(StatusCode::SERVICE_UNAVAILABLE, "the usage database is unavailable right now; try again shortly");
        }
    };
    let events = events_view(&dashboard, session.vendor_id.as_deref()).await;
    let view = CustomerView {
        lang,
        tenant: &session.tenant,
        vendor_id: session.vendor_id.as_deref(),
        csrf: &session.csrf,
        chosen: &chosen,
        sort,
        report: &report,
        events: &events,
    };
    render::respond(StatusCode::OK, render::customer_page(&view))
}

/// Who `/api/usage` and the CSV report on: a key sent as on `/mcp` (its
/// tenant id), else the session cookie. Never a parameter.
async fn api_tenant(dashboard: &Dashboard, headers: &HeaderMap) -> Result<(String, Option<String>), Box<Response>> {
    let mut key = session::key_from_headers(headers);
    // One of our OAuth access tokens carries the key sealed inside, as on /mcp.
    if let Some(oauth) = &dashboard.config.oauth
        && session::bearer(headers).is_some_and(|b| b.starts_with(Kind::Access.prefix()))
    {
        match oauth.authenticate(headers, "/mcp").await {
            Authenticated::Token { key: sealed, .. } => key = Some(sealed),
            Authenticated::Refused(response) => return Err(Box::new(response)),
            Authenticated::NotOurs => {}
        }
    }
    if let Some(key) = key {
        return match dashboard.vendors.vendor_of(&dashboard.config.client, &key).await {
            Ok(vendor) => Ok((key.tenant_id(), vendor)),
            Err(_) => Err(Box::new(plain_error(StatusCode::UNAUTHORIZED, "Digistore24 did not accept this API key"))),
        };
    }
    match dashboard.config.session(headers) {
        Cookie::Valid(session) => Ok((session.tenant, session.vendor_id)),
        _ => {
            let mut response = plain_error(
                StatusCode::UNAUTHORIZED,
                "sign in at /dashboard/sign-in, or send your Digistore24 API key as `Authorization: Bearer YOUR_KEY` or `X-DS-API-KEY: YOUR_KEY`",
            );
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"digistore24-mcp\""));
            Err(Box::new(response))
        }
    }
}

fn csv_answer(body: String) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"digistore24-mcp-usage.csv\""));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}

async fn usage_api(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let (tenant, vendor_id) = match api_tenant(&dashboard, &headers).await {
        Ok(who) => who,
        Err(response) => return *response,
    };
    let asked = match api::api_query(&query(raw), now_ms()) {
        Ok(asked) => asked,
        Err(message) => return plain_error(StatusCode::BAD_REQUEST, &message),
    };
    let report = match dashboard.config.usage.usage_report(&tenant, vendor_id.as_deref(), asked.period).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(target: "digistore24_mcp::dashboard", error = %e, "usage report failed");
            return plain_error(StatusCode::SERVICE_UNAVAILABLE, "the usage database is unavailable right now; try again shortly");
        }
    };
    if asked.csv {
        return csv_answer(api::tools_csv(&report.tools, asked.sort));
    }
    let mut response = axum::Json(api::report_json(&tenant, vendor_id.as_deref(), &report, asked.sort)).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The table of the page's period as CSV (same parameters as the page).
async fn usage_csv(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    let (tenant, vendor_id) = match api_tenant(&dashboard, &headers).await {
        Ok(who) => who,
        Err(response) => return *response,
    };
    let params = query(raw);
    let (chosen, sort) = match (api::page_period(&params, now_ms()), SortBy::parse(params.get("sort").map(String::as_str))) {
        (Ok(chosen), Ok(sort)) => (chosen, sort),
        (Err(message), _) | (_, Err(message)) => return plain_error(StatusCode::BAD_REQUEST, &message),
    };
    match dashboard.config.usage.usage_report(&tenant, vendor_id.as_deref(), chosen.period).await {
        Ok(report) => csv_answer(api::tools_csv(&report.tools, sort)),
        Err(e) => {
            tracing::warn!(target: "digistore24_mcp::dashboard", error = %e, "usage report failed");
            plain_error(StatusCode::SERVICE_UNAVAILABLE, "the usage database is unavailable right now; try again shortly")
        }
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

async fn operator_page(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Response {
    if dashboard.config.operator_token.is_none() {
        return not_found();
    }
    let params = query(raw);
    let lang = lang_of(&params, &headers);
    let csrf = if dashboard.config.operator_bearer(&headers) {
        None
    } else {
        match dashboard.config.operator_session(&headers) {
            Cookie::Valid(session) => Some(session.csrf),
            _ if session::bearer(&headers).is_some() => return plain_error(StatusCode::UNAUTHORIZED, "this is not the operator token"),
            _ => return sign_in_form(&dashboard, lang, true, None, StatusCode::UNAUTHORIZED),
        }
    };
    let (chosen, sort) = match (api::page_period(&params, now_ms()), SortBy::parse(params.get("sort").map(String::as_str))) {
        (Ok(chosen), Ok(sort)) => (chosen, sort),
        (Err(message), _) | (_, Err(message)) => return plain_error(StatusCode::BAD_REQUEST, &message),
    };
    let report = match dashboard.config.usage.operator_report(chosen.period).await {
        Ok(report) => report,
        Err(e) => {
            tracing::warn!(target: "digistore24_mcp::dashboard", error = %e, "operator report failed");
            return plain_error(StatusCode::SERVICE_UNAVAILABLE, "the usage database is unavailable right now; try again shortly");
        }
    };
    let view = OperatorView { lang, csrf: csrf.as_deref(), chosen: &chosen, sort, report: &report, now_ms: now_ms() };
    render::respond(StatusCode::OK, render::operator_page(&view))
}

async fn operator_sign_in(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, body: Bytes) -> Response {
    if dashboard.config.operator_token.is_none() {
        return not_found();
    }
    let form = params(&body);
    let lang = lang_of(&form, &headers);
    if !dashboard.config.form_is_ours(&headers, form.get("csrf").map(String::as_str)) {
        return sign_in_form(&dashboard, lang, true, Some(page::form_expired(lang)), StatusCode::FORBIDDEN);
    }
    if !form.get("token").is_some_and(|t| dashboard.config.is_operator_token(t)) {
        tracing::warn!(target: "digistore24_mcp::dashboard", "operator sign-in refused: wrong token");
        return sign_in_form(&dashboard, lang, true, Some(page::wrong_operator_token(lang)), StatusCode::UNAUTHORIZED);
    }
    let session = OperatorSession { csrf: session::random_value() };
    tracing::info!(target: "digistore24_mcp::dashboard", "operator signed in");
    see_other(
        &with_lang("/dashboard/operator", lang),
        &[dashboard.config.start_operator_session(&session), dashboard.config.clear(session::CSRF_COOKIE)],
    )
}

async fn operator_sign_out(State(dashboard): State<Arc<Dashboard>>, headers: HeaderMap, body: Bytes) -> Response {
    if dashboard.config.operator_token.is_none() {
        return not_found();
    }
    let form = params(&body);
    let lang = lang_of(&form, &headers);
    match dashboard.config.operator_session(&headers) {
        Cookie::Valid(session) if !form.get("csrf").is_some_and(|c| session::same_secret(c, &session.csrf)) => {
            plain_error(StatusCode::FORBIDDEN, "this sign-out form is not from this session")
        }
        _ => see_other(&with_lang("/dashboard/operator", lang), &[dashboard.config.clear(OPERATOR_COOKIE)]),
    }
}
