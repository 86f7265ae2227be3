//! The usage dashboards through the real HTTP server on the in-process
//! sandbox: sign-in and its cookie, sign-out, bad cookies, `/api/usage` and
//! the CSV, the operator's page, escaping and German. The reports come from
//! a test double of `UsageStore` with known numbers, so these tests check
//! what the pages and the API do with a report, not how it is recorded.

use digistore24_mcp::dashboard::session::Session;
use digistore24_mcp::dashboard::{Dashboard, DashboardConfig, NotRecorded, SESSION_TTL};
use digistore24_mcp::ds24::{ApiKey, Client, ClientConfig};
use digistore24_mcp::http::{HttpConfig, Shutdown, router, serve};
use digistore24_mcp::ipn::Events;
use digistore24_mcp::mcp::{ConfirmPolicy, Ds24Server, ServerSettings};
use digistore24_mcp::oauth::artifacts::{Access, Grant, SealedKey};
use digistore24_mcp::oauth::{self, KeyRing, Kind, OAuth, OAuthConfig, Scope};
use digistore24_mcp::sandbox::{self, SandboxConfig};
use digistore24_mcp::store::usage::{
    Bucket, Confirmations, Counts, OperatorReport, Period, RecentCall, ReplicaHealth, TenantUsage, ToolUsage, UsageReport, UsageRow,
    UsageStore,
};
use digistore24_mcp::store::{self, NewEvent, StoreError};
use futures::future::BoxFuture;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const RING: &str = "d1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
const OPERATOR_TOKEN: &str = "operator-token-for-tests-0123";
const SCRIPT_TOOL: &str = "<script>alert(1)</script>";

/// Known numbers for the read-only sandbox key's tenant, nothing for anyone
/// else; remembers which tenants were asked for.
#[derive(Default)]
struct Fixed {
    asked: Mutex<Vec<String>>,
}

fn counts(calls: i64, success: i64, tool_error: i64, upstream_error: i64) -> Counts {
    Counts { calls, success, tool_error, upstream_error, ..Counts::default() }
}

fn known_report(period: Period) -> UsageReport {
    let step = period.granularity.millis();
    let series = (0..)
        .map(|i| period.from_ms + i * step)
        .take_while(|s| *s < period.to_ms)
        .enumerate()
        .map(|(i, start_ms)| Bucket { start_ms, counts: if i == 0 { counts(45, 37, 5, 3) } else { Counts::default() } })
        .collect();
    UsageReport {
        period,
        totals: counts(45, 37, 5, 3),
        series,
        tools: vec![
            ToolUsage { tool: "listProducts".into(), counts: counts(37, 37, 0, 0), p50_ms: 4.0, p95_ms: 15.0 },
            ToolUsage { tool: "createVoucher".into(), counts: counts(5, 0, 5, 0), p50_ms: 1.0, p95_ms: 2.0 },
            ToolUsage { tool: SCRIPT_TOOL.into(), counts: counts(3, 0, 0, 3), p50_ms: 30.0, p95_ms: 80.0 },
        ],
        recent: vec![RecentCall {
            at_ms: period.from_ms,
            tool: "createVoucher".into(),
            class: "tool_error".into(),
            detail: "read_only_key".into(),
            duration_ms: 1.2,
        }],
        confirmations: Confirmations { asked: 1, accepted: 1, declined: 0 },
        events: vec![],
    }
}

impl UsageStore for Fixed {
    fn insert_usage<'a>(&'a self, _batch: &'a str, _rows: &'a [UsageRow]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn usage_report<'a>(
        &'a self,
        tenant: &'a str,
        vendor: Option<&'a str>,
        period: Period,
    ) -> BoxFuture<'a, Result<UsageReport, StoreError>> {
        self.asked.lock().unwrap().push(tenant.to_owned());
        let known = tenant == readonly_tenant();
        Box::pin(async move { if known { Ok(known_report(period)) } else { NotRecorded.usage_report(tenant, vendor, period).await } })
    }
    fn operator_report(&self, period: Period) -> BoxFuture<'_, Result<OperatorReport, StoreError>> {
        let report = known_report(period);
        Box::pin(async move {
            Ok(OperatorReport {
                period,
                totals: report.totals.clone(),
                series: report.series,
                tenants: vec![TenantUsage {
                    tenant: readonly_tenant(),
                    vendor_id: Some("4711".into()),
                    counts: report.totals,
                    last_call_ms: period.from_ms,
                }],
                tools: report.tools.clone(),
                slowest: report.tools,
                upstream_codes: vec![("7".into(), 3)],
                replicas: vec![ReplicaHealth {
                    replica: "replica-a".into(),
                    last_seen_ms: period.to_ms,
                    rows_dropped: 2,
                    rows_written: 45,
                }],
            })
        })
    }
    fn heartbeat<'a>(&'a self, _health: &'a ReplicaHealth) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }
    fn prune_usage(&self, _raw: i64, _hourly: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async { Ok(0) })
    }
}

fn readonly_tenant() -> String {
    ApiKey::new(sandbox::READONLY_KEY).unwrap().tenant_id()
}

struct Setup {
    base: String,
    store: Arc<Fixed>,
    shutdown: Shutdown,
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.shutdown.stop_accepting.cancel();
        self.shutdown.close_connections.cancel();
        self.shutdown.hard_stop.cancel();
    }
}

async fn start(operator_token: Option<&str>, secure_cookies: bool) -> Setup {
    start_with(operator_token, secure_cookies, false).await
}

/// A temporary SQLite event store (deleted when dropped).
struct TempEvents {
    events: Arc<Events>,
    path: std::path::PathBuf,
}

impl Drop for TempEvents {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.path.display()));
        }
    }
}

async fn temp_events() -> TempEvents {
    let path = std::env::temp_dir().join(format!("ds24-dashboard-{}-{}.db", std::process::id(), uuid::Uuid::new_v4()));
    let store = store::open(&format!("sqlite://{}", path.display())).await.unwrap();
    TempEvents { events: Arc::new(Events::new(store, Some(b"0123456789abcdef".to_vec()), None, None)), path }
}

/// With `oauth`, an OAuth server sealing with [`RING`] (public URL http://127.0.0.1).
async fn start_with(operator_token: Option<&str>, secure_cookies: bool, oauth: bool) -> Setup {
    start_full(operator_token, secure_cookies, oauth, None).await
}

async fn start_full(operator_token: Option<&str>, secure_cookies: bool, oauth: bool, events: Option<Arc<Events>>) -> Setup {
    let (sandbox_addr, _task) = sandbox::spawn(SandboxConfig::default(), ([127, 0, 0, 1], 0).into()).await.unwrap();
    let client =
        Client::new(ClientConfig { base_url: format!("http://{sandbox_addr}/api/call"), timeout: Duration::from_secs(10), observer: None })
            .unwrap();
    let store = Arc::new(Fixed::default());
    let oauth = oauth.then(|| {
        let config = OAuthConfig {
            public_url: "http://127.0.0.1".into(),
            ring: KeyRing::parse(RING).unwrap(),
            access_ttl: oauth::ACCESS_TTL,
            refresh_ttl: oauth::REFRESH_TTL,
            grant_ttl: oauth::GRANT_TTL,
            redirect_schemes: vec![],
            clients: vec![],
            sandbox_hint: true,
            cimd_allow_loopback: false,
            developer_key: None,
            ledger: oauth::Ledger::default(),
        };
        Arc::new(OAuth::new(config, client.clone()).unwrap())
    });
    let dashboard = Dashboard::new(DashboardConfig {
        usage: store.clone(),
        events,
        ring: KeyRing::parse(RING).unwrap(),
        client: client.clone(),
        secure_cookies,
        operator_token: operator_token.map(str::to_owned),
        sandbox_hint: true,
        session_ttl: SESSION_TTL,
        oauth,
    });
    let settings = ServerSettings { confirm: ConfirmPolicy::Off, ..ServerSettings::new(b"0123456789abcdef".to_vec()) };
    let server = Ds24Server::new(client, settings);
    let shutdown = Shutdown::default();
    let http = HttpConfig { dashboard: Some(Arc::new(dashboard)), ..HttpConfig::default() };
    let app = router(server, &http, shutdown.hard_stop.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let stages = shutdown.clone();
    tokio::spawn(async move { serve(listener, app, &stages, None).await });
    Setup { base, store, shutdown }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The `Set-Cookie` line of cookie `name`.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(SET_COOKIE).iter().filter_map(|v| v.to_str().ok()).find(|v| v.starts_with(&format!("{name}="))).map(str::to_owned)
}

/// The value a `Set-Cookie` line sets.
fn value(line: &str) -> String {
    line.split(';').next().unwrap().split_once('=').unwrap().1.to_owned()
}

/// A form-encoded POST (with the `cookie` header when given).
fn post_form(url: String, cookie: Option<String>, pairs: &[(&str, &str)]) -> reqwest::RequestBuilder {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
    let request = http().post(url).header("content-type", "application/x-www-form-urlencoded").body(body);
    match cookie {
        Some(cookie) => request.header("cookie", cookie),
        None => request,
    }
}

/// The hidden `csrf` field of a page.
fn csrf_field(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("the page has a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

impl Setup {
    /// Opens the sign-in page and posts `key`: the answer, and the form cookie it needed.
    async fn sign_in(&self, key: &str) -> reqwest::Response {
        let page = http().get(format!("{}/dashboard/sign-in", self.base)).send().await.unwrap();
        assert_eq!(page.status(), 200);
        let form_cookie = value(&set_cookie(page.headers(), "ds24dash_csrf").expect("the form sets its cookie"));
        let csrf = csrf_field(&page.text().await.unwrap());
        post_form(
            format!("{}/dashboard/sign-in", self.base),
            Some(format!("ds24dash_csrf={form_cookie}")),
            &[("csrf", csrf.as_str()), ("lang", "en"), ("api_key", key)],
        )
        .send()
        .await
        .unwrap()
    }

    /// A signed-in session cookie of `key` (`name=value`).
    async fn session(&self, key: &str) -> String {
        let answer = self.sign_in(key).await;
        assert_eq!(answer.status(), 303);
        format!("ds24dash_session={}", value(&set_cookie(answer.headers(), "ds24dash_session").unwrap()))
    }

    async fn get(&self, path: &str, headers: &[(&str, &str)]) -> (u16, HeaderMap, String) {
        let mut request = http().get(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.text().await.unwrap())
    }
}

#[tokio::test]
async fn sign_in_sets_a_sealed_session_cookie_that_holds_no_key() {
    let setup = start(None, false).await;
    let answer = setup.sign_in(sandbox::READONLY_KEY).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/dashboard?lang=en");
    let line = set_cookie(answer.headers(), "ds24dash_session").expect("a session cookie");
    assert!(line.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=43200"), "{line}");
    assert!(!line.contains("Secure"), "plain http: no Secure flag: {line}");
    assert!(!line.contains("sandbox") && !line.contains("readonly"), "{line}");
    // Opened with the server's ring: the tenant id and vendor id, never the key.
    let session: Session =
        KeyRing::parse(RING).unwrap().open(Kind::DashboardSession, &value(&line), digistore24_mcp::oauth::now()).unwrap();
    assert_eq!(session.tenant, readonly_tenant());
    assert!(session.vendor_id.as_deref().is_some_and(|v| !v.is_empty()), "{session:?}");
    let payload = serde_json::to_string(&session).unwrap();
    assert!(!payload.contains(sandbox::READONLY_KEY), "{payload}");
    // The form's one-time cookie is cleared.
    assert!(set_cookie(answer.headers(), "ds24dash_csrf").unwrap().contains("Max-Age=0"));

    let secure = start(None, true).await;
    let line = set_cookie(secure.sign_in(sandbox::READONLY_KEY).await.headers(), "ds24dash_session").unwrap();
    assert!(line.ends_with("; Secure"), "https: Secure: {line}");
}

#[tokio::test]
async fn a_wrong_key_or_a_form_from_elsewhere_is_refused() {
    let setup = start(None, false).await;
    let answer = setup.sign_in("sandbox-no-such-key").await;
    assert_eq!(answer.status(), 400);
    assert!(set_cookie(answer.headers(), "ds24dash_session").is_none());
    assert!(answer.text().await.unwrap().contains("did not accept this API key"));
    // Without the form's cookie (another site posting a key in): no session.
    let forged = post_form(format!("{}/dashboard/sign-in", setup.base), None, &[("csrf", "guess"), ("api_key", sandbox::READONLY_KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert!(set_cookie(forged.headers(), "ds24dash_session").is_none());
}

#[tokio::test]
async fn sign_out_needs_the_sessions_own_form_and_clears_the_cookie() {
    let setup = start(None, false).await;
    let cookie = setup.session(sandbox::READONLY_KEY).await;
    let (status, _, page) = setup.get("/dashboard", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    let csrf = csrf_field(&page);
    let post = |csrf: String| post_form(format!("{}/dashboard/sign-out", setup.base), Some(cookie.clone()), &[("csrf", &csrf)]).send();
    assert_eq!(post("not-the-value".into()).await.unwrap().status(), 403, "a cross-site sign-out is refused");
    let out = post(csrf).await.unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/dashboard/sign-in?lang=en");
    let cleared = set_cookie(out.headers(), "ds24dash_session").unwrap();
    assert!(cleared.starts_with("ds24dash_session=;") && cleared.contains("Max-Age=0") && cleared.contains("Path=/;"), "{cleared}");
}

#[tokio::test]
async fn a_missing_expired_or_tampered_cookie_leads_to_the_sign_in() {
    let setup = start(None, false).await;
    let (status, headers, _) = setup.get("/dashboard", &[]).await;
    assert_eq!((status, headers["location"].to_str().unwrap()), (303, "/dashboard/sign-in"));
    let ring = KeyRing::parse(RING).unwrap();
    let session = Session { tenant: readonly_tenant(), vendor_id: None, csrf: "x".into() };
    let expired = ring.seal(Kind::DashboardSession, &session, digistore24_mcp::oauth::now() - 1);
    let good = value(&setup.session(sandbox::READONLY_KEY).await);
    let mut tampered = good.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    // Another kind of artifact sealed by the same ring does not open as a session either.
    let other_kind = ring.seal(Kind::KeyRequest, &session, u64::MAX);
    for bad in [expired, tampered, other_kind] {
        let (status, headers, _) = setup.get("/dashboard", &[("cookie", &format!("ds24dash_session={bad}"))]).await;
        assert_eq!(status, 303, "{bad}");
        assert_eq!(headers["location"], "/dashboard/sign-in");
        assert!(set_cookie(&headers, "ds24dash_session").unwrap().contains("Max-Age=0"), "the bad cookie is cleared");
        let (status, _, _) = setup.get("/api/usage", &[("cookie", &format!("ds24dash_session={bad}"))]).await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn the_page_shows_the_reports_numbers_escaped_and_under_a_strict_csp() {
    let setup = start(None, false).await;
    let cookie = setup.session(sandbox::READONLY_KEY).await;
    let (status, headers, page) = setup.get("/dashboard?period=24h", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    assert!(page.contains("data-metric=\"calls\"><dt>Calls</dt><dd>45</dd>"), "{page}");
    assert!(page.contains("data-metric=\"errors\"><dt>Errors</dt><dd>8</dd>"));
    assert_eq!(page.matches("<g class=\"bar\"").count(), 24, "one bar per hour");
    assert!(page.contains("<td class=\"num\" data-col=\"calls\">37</td>"));
    assert!(!page.contains("<script>alert(1)"), "a tool name is text, never markup");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("empty-state"));
    // The tenant came from the cookie, not from the query.
    let (_, _, _) = setup.get(&format!("/dashboard?tenant={}", "someone-else"), &[("cookie", &cookie)]).await;
    assert!(setup.store.asked.lock().unwrap().iter().all(|t| *t == readonly_tenant()));
    // Another tenant sees the empty state, not these numbers.
    let other = setup.session(sandbox::WRITABLE_KEY).await;
    let (_, _, page) = setup.get("/dashboard", &[("cookie", &other)]).await;
    assert!(page.contains("id=\"empty-state\"") && !page.contains("listProducts"), "{page}");
    let (status, headers, body) = setup.get("/dashboard/assets/dashboard.js", &[]).await;
    assert_eq!((status, headers["content-type"].to_str().unwrap()), (200, "text/javascript; charset=utf-8"));
    assert!(body.contains("period-form"));
}

#[tokio::test]
async fn german_by_accept_language_or_the_lang_switch() {
    let setup = start(None, false).await;
    let cookie = setup.session(sandbox::READONLY_KEY).await;
    let (_, _, page) = setup.get("/dashboard", &[("cookie", &cookie), ("accept-language", "de-DE,de;q=0.9")]).await;
    assert!(page.contains("<html lang=\"de\">") && page.contains("Aufrufe im Zeitverlauf") && page.contains("Abmelden"), "{page}");
    let (_, _, page) = setup.get("/dashboard?lang=de", &[("cookie", &cookie), ("accept-language", "en")]).await;
    assert!(page.contains("<html lang=\"de\">") && page.contains("17,8 %"));
    let (_, _, page) = setup.get("/dashboard/sign-in?lang=de", &[]).await;
    assert!(page.contains("Beim Nutzungs-Dashboard anmelden") && page.contains("Digistore24-API-Schlüssel"), "{page}");
}

#[tokio::test]
async fn the_api_answers_with_a_key_or_the_session_and_401_without() {
    let setup = start(None, false).await;
    let bearer = format!("Bearer {}", sandbox::READONLY_KEY);
    let (status, headers, body) = setup.get("/api/usage?granularity=hour", &[("authorization", &bearer)]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(report["tenant"], readonly_tenant());
    assert_eq!(report["totals"]["calls"], 45);
    assert_eq!(report["totals"]["errors"], 8);
    assert_eq!(report["tools"][0]["tool"], "listProducts");
    assert_eq!(report["period"]["granularity"], "hour");
    assert!(!body.contains(sandbox::READONLY_KEY));
    let (status, _, body) = setup.get("/api/usage", &[("x-ds-api-key", sandbox::READONLY_KEY)]).await;
    assert_eq!(status, 200, "{body}");
    let cookie = setup.session(sandbox::READONLY_KEY).await;
    let (status, _, body) = setup.get("/api/usage?from=2026-11-01&to=2026-11-08", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((report["series"].as_array().unwrap().len(), report["period"]["granularity"].as_str()), (7, Some("day")));
    let (status, headers, _) = setup.get("/api/usage", &[]).await;
    assert_eq!(status, 401);
    assert!(headers.contains_key("www-authenticate"));
    let (status, _, _) = setup.get("/api/usage", &[("authorization", "Bearer sandbox-no-such-key")]).await;
    assert_eq!(status, 401, "a key Digistore24 refuses gets nothing");
    for (query, says) in [
        ("from=2020-01-01", "at most 400 days"),
        ("granularity=week", "hour or day"),
        ("tenant=someone-else", "unknown parameter tenant"),
        ("from=tomorrow", "from must be"),
    ] {
        let (status, _, body) = setup.get(&format!("/api/usage?{query}"), &[("authorization", &bearer)]).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.contains(says), "{query}: {body}");
    }
    assert!(setup.store.asked.lock().unwrap().iter().all(|t| *t == readonly_tenant()));
}

#[tokio::test]
async fn the_csv_has_the_header_and_one_row_per_tool() {
    let setup = start(None, false).await;
    let cookie = setup.session(sandbox::READONLY_KEY).await;
    let (status, headers, body) = setup.get("/dashboard/usage.csv?period=7d&sort=tool", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], "tool,calls,errors,success,dry_run,confirmation_requested,rate_limited,tool_error,upstream_error,p50_ms,p95_ms");
    assert_eq!(lines.len(), 4, "{body}");
    assert_eq!(lines[1], "<script>alert(1)</script>,3,3,0,0,0,0,0,3,30.0,80.0");
    assert_eq!(lines[3], "listProducts,37,0,37,0,0,0,0,0,4.0,15.0");
    let (status, _, body) = setup.get("/api/usage?format=csv", &[("authorization", &format!("Bearer {}", sandbox::READONLY_KEY))]).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("tool,calls,errors,"));
    let (status, _, _) = setup.get("/dashboard/usage.csv", &[]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_operator_page_is_off_without_a_token_and_needs_it_with_one() {
    let off = start(None, false).await;
    let (status, _, _) = off.get("/dashboard/operator", &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = off.get("/dashboard/operator", &[("authorization", &format!("Bearer {OPERATOR_TOKEN}"))]).await;
    assert_eq!(status, 404, "no token configured: no page, whatever is sent");

    let on = start(Some(OPERATOR_TOKEN), false).await;
    let (status, headers, page) = on.get("/dashboard/operator", &[]).await;
    assert_eq!(status, 401);
    assert!(page.contains("name=\"token\"") && page.contains("Operator token"), "the sign-in form: {page}");
    let (form_cookie, csrf) = (value(&set_cookie(&headers, "ds24dash_csrf").unwrap()), csrf_field(&page));
    let (status, _, _) = on.get("/dashboard/operator", &[("authorization", "Bearer not-the-operator-token")]).await;
    assert_eq!(status, 401);
    let (status, _, page) = on.get("/dashboard/operator", &[("authorization", &format!("Bearer {OPERATOR_TOKEN}"))]).await;
    assert_eq!(status, 200);
    assert!(page.contains(&format!("data-tenant=\"{}\"", readonly_tenant())), "{page}");
    assert!(page.contains("data-metric=\"rows-dropped\"><dt>Rows dropped</dt><dd>2</dd>"));
    assert!(page.contains("replica-a") && !page.contains(sandbox::READONLY_KEY));
    assert!(!page.contains("<script>alert(1)"));
    // The form: a wrong token is refused, the right one starts an operator session.
    let post = |token: &'static str| {
        post_form(
            format!("{}/dashboard/operator/sign-in", on.base),
            Some(format!("ds24dash_csrf={form_cookie}")),
            &[("csrf", csrf.as_str()), ("token", token)],
        )
        .send()
    };
    assert_eq!(post("operator-token-wrong-0000").await.unwrap().status(), 401);
    let signed_in = post(OPERATOR_TOKEN).await.unwrap();
    assert_eq!(signed_in.status(), 303);
    let line = set_cookie(signed_in.headers(), "ds24dash_operator").unwrap();
    assert!(line.contains("HttpOnly; SameSite=Lax") && !line.contains(OPERATOR_TOKEN), "{line}");
    let (status, _, page) = on.get("/dashboard/operator", &[("cookie", &format!("ds24dash_operator={}", value(&line)))]).await;
    assert_eq!(status, 200);
    assert!(page.contains("id=\"sign-out\""), "a cookie session can sign out");
    let operator_cookie = format!("ds24dash_operator={}", value(&line));
    let sign_out = |csrf: String| {
        post_form(format!("{}/dashboard/operator/sign-out", on.base), Some(operator_cookie.clone()), &[("csrf", &csrf)]).send()
    };
    assert_eq!(sign_out("forged".into()).await.unwrap().status(), 403);
    let out = sign_out(csrf_field(&page)).await.unwrap();
    assert_eq!(out.status(), 303);
    assert!(set_cookie(out.headers(), "ds24dash_operator").unwrap().contains("Max-Age=0"), "the operator cookie is cleared");
    // A customer's session is not an operator's.
    let customer = on.session(sandbox::READONLY_KEY).await;
    let (status, _, _) = on.get("/dashboard/operator", &[("cookie", &customer)]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_api_takes_an_oauth_access_token_as_mcp_does() {
    let setup = start_with(None, false, true).await;
    let key = ApiKey::new(sandbox::READONLY_KEY).unwrap();
    let grant = Grant {
        key: SealedKey::new(&key),
        scope: Scope::Read,
        resource: "http://127.0.0.1/mcp".into(),
        client_id: "test-client".into(),
        grant_id: "g1".into(),
        grant_exp: oauth::now() + 3600,
    };
    let token = KeyRing::parse(RING).unwrap().seal(Kind::Access, &Access { grant }, oauth::now() + 3600);
    let (status, _, body) = setup.get("/api/usage", &[("authorization", &format!("Bearer {token}"))]).await;
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((report["tenant"].as_str(), report["totals"]["calls"].as_i64()), (Some(readonly_tenant().as_str()), Some(45)));
    let forged = format!("{token}x");
    let (status, _, _) = setup.get("/api/usage", &[("authorization", &format!("Bearer {forged}"))]).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn the_period_form_works_without_javascript() {
    let setup = start(None, false).await;
    let cookie = setup.session(sandbox::READONLY_KEY).await;
    let (status, _, page) =
        setup.get("/dashboard?lang=en&sort=calls&period=custom&from=2026-11-01&to=2026-11-03", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    assert!(page.contains("<form class=\"period\" id=\"period-form\" method=\"get\" action=\"/dashboard\">"), "{page}");
    assert_eq!(page.matches("<g class=\"bar\"").count(), 3, "three days, one bar each");
    assert!(page.contains("<option value=\"custom\" selected>") && page.contains("value=\"2026-11-03\""));
    let (status, _, body) = setup.get("/dashboard?period=custom&from=2026-11-03&to=2026-11-01", &[("cookie", &cookie)]).await;
    assert_eq!(status, 400);
    assert!(body.contains("before the start date"), "{body}");
}

#[tokio::test]
async fn the_ipn_section_shows_the_vendors_events_as_text() {
    let events = temp_events().await;
    let setup = start_full(None, false, false, Some(events.events.clone())).await;
    let cookie = setup.session(sandbox::READONLY_KEY).await;
    let sealed = cookie.trim_start_matches("ds24dash_session=");
    let session: Session = KeyRing::parse(RING).unwrap().open(Kind::DashboardSession, sealed, oauth::now()).unwrap();
    let vendor = session.vendor_id.clone().unwrap();
    let at = store::now_ms() - 60_000;
    for (name, hash, tenant) in
        [("on_payment", "h1", vendor.as_str()), ("<script>x</script>", "h2", vendor.as_str()), ("on_refund", "h3", "another-vendor")]
    {
        let event = NewEvent {
            tenant: tenant.into(),
            content_hash: hash.into(),
            event: name.into(),
            order_id: None,
            transaction_id: None,
            product_id: None,
            test_mode: false,
            received_at: at,
            summary: serde_json::json!({}),
            fields: serde_json::json!({}),
        };
        events.events.store.insert(&event).await.unwrap();
    }
    let (status, _, page) = setup.get("/dashboard", &[("cookie", &cookie)]).await;
    assert_eq!(status, 200);
    let section = &page[page.find("id=\"events\"").unwrap()..];
    assert!(section.contains("<code>on_payment</code> 1"), "{section}");
    assert!(section.contains("&lt;script&gt;x&lt;/script&gt;") && !section.contains("<script>x"), "{section}");
    assert!(!section.contains("on_refund"), "another vendor's events stay out: {section}");
}
