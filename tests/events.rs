//! IPN events: the store contract on both backends (SQLite and a real
//! PostgreSQL), and the receiver over real HTTP — Digistore24's own
//! signature vectors, forged and malformed bodies, duplicates, bad tokens,
//! database failure.

mod common;

use common::postgres::TestPostgres;
use common::{Options, TestServer};
use digistore24_mcp::ipn::{Events, signature};
use digistore24_mcp::ops::limit::{RateLimit, RateLimiter};
use digistore24_mcp::store::{self, EventQuery, EventStore, Inserted, NewEvent};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn temp_sqlite_url() -> (String, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("ds24-events-{}-{}.db", std::process::id(), uuid::Uuid::new_v4()));
    (format!("sqlite://{}", path.display()), path)
}

fn event(tenant: &str, name: &str, order: &str, hash: &str, at: i64, test: bool) -> NewEvent {
    NewEvent {
        tenant: tenant.into(),
        content_hash: hash.into(),
        event: name.into(),
        order_id: Some(order.into()),
        transaction_id: Some(format!("T-{hash}")),
        product_id: Some("42".into()),
        test_mode: test,
        received_at: at,
        summary: json!({"event": name, "order_id": order}),
        fields: json!({"event": name, "order_id": order}),
    }
}

/// What every backend must do the same way.
async fn store_contract(store: Arc<dyn EventStore>) {
    let now = store::now_ms();
    let mut wake = store.wakeups();
    let first = store.insert(&event("v1", "on_payment", "A", "h1", now - 1000, false)).await.unwrap();
    let Inserted::New(first_id) = first else { panic!("first insert is new: {first:?}") };
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), wake.recv()).await.unwrap().unwrap(), "v1", "a commit wakes its tenant");
    assert_eq!(store.insert(&event("v1", "on_payment", "A", "h1", now, false)).await.unwrap(), Inserted::Duplicate, "same content: no row");
    store.insert(&event("v1", "on_refund", "A", "h2", now, false)).await.unwrap();
    store.insert(&event("v1", "on_payment", "B", "h3", now, true)).await.unwrap();
    store.insert(&event("v2", "on_payment", "A", "h1", now, false)).await.unwrap();

    let all = |q: EventQuery| {
        let store = store.clone();
        async move { store.list(&EventQuery { tenant: "v1".into(), limit: 100, ..q }).await.unwrap() }
    };
    let listed = all(EventQuery::default()).await;
    assert_eq!(listed.iter().map(|e| e.event.as_str()).collect::<Vec<_>>(), ["on_payment", "on_refund"], "oldest first, test orders out");
    assert!(listed.iter().all(|e| e.tenant == "v1"), "scoped to the tenant");
    assert_eq!(all(EventQuery { include_test: true, ..Default::default() }).await.len(), 3);
    assert_eq!(all(EventQuery { events: vec!["on_refund".into()], ..Default::default() }).await.len(), 1);
    assert_eq!(all(EventQuery { events: vec!["on_pay".into()], ..Default::default() }).await.len(), 0, "whole names only");
    assert_eq!(all(EventQuery { order_id: Some("B".into()), include_test: true, ..Default::default() }).await.len(), 1);
    assert_eq!(all(EventQuery { after: Some(first_id), ..Default::default() }).await.len(), 1);
    assert_eq!(all(EventQuery { from: Some(now), ..Default::default() }).await.len(), 1);
    assert_eq!(all(EventQuery { to: Some(now), ..Default::default() }).await.len(), 1);
    let limited = store.list(&EventQuery { tenant: "v1".into(), limit: 1, include_test: true, ..Default::default() }).await.unwrap();
    assert_eq!(limited.len(), 1);
    let recent = store.recent("v1", 2).await.unwrap();
    let recent: Vec<_> = recent.iter().map(|e| (e.event.as_str(), e.order_id.as_deref())).collect();
    assert_eq!(recent, [("on_refund", Some("A")), ("on_payment", Some("B"))], "the newest two, newest last, test orders in");

    let got = store.get("v1", first_id).await.unwrap().expect("stored");
    assert_eq!((got.order_id.as_deref(), got.fields["order_id"].as_str()), (Some("A"), Some("A")));
    assert!(store.get("v2", first_id).await.unwrap().is_none(), "another tenant's event is invisible");
    assert!(store.latest_id("v1").await.unwrap().unwrap() > first_id);
    assert_eq!(store.latest_id("nobody").await.unwrap(), None);
    let counts = store.counts("v1", now - 10_000).await.unwrap();
    assert_eq!(counts, [("on_payment".to_string(), 2), ("on_refund".to_string(), 1)]);
    assert_eq!(store.prune(now).await.unwrap(), 1, "only the older event goes");
    assert!(store.get("v1", first_id).await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_store_keeps_the_contract_and_survives_a_reopen() {
    let (url, path) = temp_sqlite_url();
    store_contract(store::open(&url).await.unwrap()).await;
    // Migrations are recorded: opening again neither fails nor loses rows.
    let again = store::open(&url).await.unwrap();
    assert!(again.latest_id("v1").await.unwrap().is_some());
    drop(again);
    remove_sqlite(&path);
}

#[tokio::test]
async fn postgres_store_keeps_the_contract() {
    let Some(pg) = TestPostgres::start().await else { return };
    store_contract(store::open(&pg.url).await.unwrap()).await;
    // A second pool (another replica) opens the migrated database and is
    // woken by the first one's commits through LISTEN/NOTIFY.
    let a = store::open(&pg.url).await.unwrap();
    let b = store::open(&pg.url).await.unwrap();
    let mut wake = b.wakeups();
    a.insert(&event("v9", "on_refund", "Z", "hz", store::now_ms(), false)).await.unwrap();
    assert_eq!(tokio::time::timeout(Duration::from_secs(5), wake.recv()).await.unwrap().unwrap(), "v9");
}

#[tokio::test]
async fn unreachable_or_unknown_databases_fail_clearly_at_start() {
    let refused = store::open("postgres://nobody@127.0.0.1:1/none").await.err().expect("nothing listens on port 1");
    assert!(refused.to_string().contains("database error"), "{refused}");
    let unknown = store::open("mysql://x").await.err().unwrap();
    assert!(unknown.to_string().contains("sqlite://"), "{unknown}");
    let missing_dir = store::open("sqlite:///nonexistent-dir/x/y.db").await.err().unwrap();
    assert!(missing_dir.to_string().contains("database error"), "{missing_dir}");
}

// ── The receiver ─────────────────────────────────────────────────────────

const SECRET: &[u8] = b"test-ipn-secret-0123456789";

struct Receiver {
    server: TestServer,
    events: Arc<Events>,
    http: reqwest::Client,
    db: std::path::PathBuf,
}

impl Receiver {
    async fn start(single_passphrase: Option<&str>) -> Receiver {
        Self::start_limited(single_passphrase, None).await
    }

    /// With the receiver's own rate limit (`--ipn-rate-limit-rps`/`-burst`).
    async fn start_limited(single_passphrase: Option<&str>, limit: Option<RateLimit>) -> Receiver {
        let (url, path) = temp_sqlite_url();
        let store = store::open(&url).await.unwrap();
        let mut events = Events::new(store, Some(SECRET.to_vec()), single_passphrase.map(str::to_owned), None);
        if let Some(limit) = limit {
            events = events.with_rate_limit(Arc::new(RateLimiter::in_memory(limit)));
        }
        let events = Arc::new(events);
        let shared = events.clone();
        let server = TestServer::start_with("http://127.0.0.1:9/api/call", Options::default(), |s| s.events = Some(shared)).await;
        Receiver { server, events, http: reqwest::Client::new(), db: path }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.server.addr)
    }

    async fn post(&self, path: &str, body: impl Into<reqwest::Body>) -> (u16, String) {
        let response =
            self.http.post(self.url(path)).header("content-type", "application/x-www-form-urlencoded").body(body).send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn rows(&self, tenant: &str) -> usize {
        self.events
            .store
            .list(&EventQuery { tenant: tenant.into(), limit: 1000, include_test: true, ..Default::default() })
            .await
            .unwrap()
            .len()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        remove_sqlite(&self.db);
    }
}

/// Deletes a test's SQLite file and its WAL companions.
fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn encode(fields: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish()
}

fn signed(pairs: &[(&str, &str)], passphrase: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let sign = signature::sign(&fields, passphrase, false);
    fields.push(("sha_sign".into(), sign));
    fields
}

#[tokio::test]
async fn every_digistore24_vector_passes_the_real_receiver() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/reference/ipn-vectors.json");
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("SKIPPED: {path} is absent");
        return;
    };
    let vectors: Value = serde_json::from_str(&text).unwrap();
    let passphrase = vectors["passphrase"].as_str().unwrap();
    let receiver = Receiver::start(Some(passphrase)).await;
    let list = vectors["vectors"].as_array().unwrap();
    assert!(list.len() >= 9);
    for vector in list {
        let name = vector["name"].as_str().unwrap();
        let expected = vector["expected"].as_str().unwrap();
        let mut fields: Vec<(String, String)> = vector["params"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("sha_sign"))
            .map(|(n, v)| (n.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        fields.push(("sha_sign".into(), expected.into()));
        assert_eq!(receiver.post("/ipn", encode(&fields)).await, (200, "OK".into()), "vector {name}");
        // The same vector with one signed value changed is refused.
        let forged: Vec<(String, String)> = fields
            .iter()
            .map(|(n, v)| if n == "sha_sign" || v.is_empty() { (n.clone(), v.clone()) } else { (n.clone(), format!("{v}x")) })
            .collect();
        assert_eq!(receiver.post("/ipn", encode(&forged)).await.0, 403, "forged vector {name}");
    }
}

#[tokio::test]
async fn the_per_tenant_url_verifies_stores_once_and_refuses_the_rest() {
    let receiver = Receiver::start(None).await;
    let token = receiver.events.token_for("1234").unwrap();
    let passphrase = receiver.events.passphrase_for("1234").unwrap();
    let path = format!("/ipn/{token}");
    // Digistore24's URL check, and HEAD.
    assert_eq!(receiver.http.get(receiver.url(&path)).send().await.unwrap().status(), 200);
    assert_eq!(receiver.http.head(receiver.url(&path)).send().await.unwrap().status(), 200);
    let wrong = format!("/ipn/1234-{}", "0".repeat(32));
    assert_eq!(receiver.http.get(receiver.url(&wrong)).send().await.unwrap().status(), 404);
    // Another tenant's token does not open this tenant's URL.
    let other = receiver.events.token_for("999").unwrap();
    assert_ne!(other.split('-').nth(1), token.split('-').nth(1));

    let fields = signed(&[("event", "on_payment"), ("order_id", "ORD-9"), ("amount", "0"), ("note", " spaced ")], &passphrase);
    assert_eq!(receiver.post(&path, encode(&fields)).await, (200, "OK".into()));
    assert_eq!(receiver.post(&path, encode(&fields)).await, (200, "OK".into()), "a retry is OK too");
    assert_eq!(receiver.rows("1234").await, 1, "…but adds no row");
    let stored = &receiver.events.store.list(&EventQuery { tenant: "1234".into(), limit: 10, ..Default::default() }).await.unwrap()[0];
    assert_eq!(stored.fields["note"], " spaced ", "values kept as received");
    assert_eq!(stored.fields["amount"], "0");
    assert!(stored.fields.get("sha_sign").is_none(), "the signature is not kept");

    // Wrong token, forged signature, passphrase of another tenant, unsigned,
    // malformed, oversized: all refused, nothing stored.
    assert_eq!(receiver.post(&wrong, encode(&fields)).await.0, 404);
    let mut forged = fields.clone();
    forged[1].1 = "ORD-10".into();
    assert_eq!(receiver.post(&path, encode(&forged)).await.0, 403);
    let foreign = signed(&[("event", "on_payment"), ("order_id", "ORD-11")], &receiver.events.passphrase_for("999").unwrap());
    assert_eq!(receiver.post(&path, encode(&foreign)).await.0, 403);
    assert_eq!(receiver.post(&path, "event=on_payment&order_id=X").await.0, 403);
    assert_eq!(receiver.post(&path, format!("{}&order_id=again", encode(&fields))).await.0, 400, "duplicate field");
    assert_eq!(receiver.post(&path, b"event=on_payment&order_id=%FF".to_vec()).await.0, 400, "not UTF-8");
    let big = signed(&[("event", "on_payment"), ("custom", &"x".repeat(70 * 1024))], &passphrase);
    assert_eq!(receiver.post(&path, encode(&big)).await.0, 413);
    assert_eq!(receiver.post("/ipn", encode(&fields)).await.0, 404, "no single-tenant URL without --ipn-passphrase");
    assert_eq!(receiver.rows("1234").await, 1);
    let reasons: Vec<String> = receiver.events.rejections_of("1234").into_iter().map(|r| r.reason).collect();
    assert!(reasons.iter().any(|r| r.contains("does not match")) && reasons.iter().any(|r| r.contains("twice")), "{reasons:?}");
}

#[tokio::test]
async fn the_receivers_own_rate_limit_answers_429_stores_nothing_and_spares_others() {
    // Slow refill, so the test sees the bucket empty: 3 at once, then one per 20 s.
    let receiver = Receiver::start_limited(Some("single-pass"), Some(RateLimit { per_second: 0.05, burst: 3.0 })).await;
    let url_of = |tenant: &str| format!("/ipn/{}", receiver.events.token_for(tenant).unwrap());
    let ipn = |tenant: &str, n: usize| {
        let passphrase = receiver.events.passphrase_for(tenant).unwrap();
        encode(&signed(&[("event", "on_payment"), ("order_id", &format!("L-{n}"))], &passphrase))
    };
    for n in 0..3 {
        assert_eq!(receiver.post(&url_of("1234"), ipn("1234", n)).await, (200, "OK".into()), "within the burst");
    }
    let over = receiver
        .http
        .post(receiver.url(&url_of("1234")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(ipn("1234", 3))
        .send()
        .await
        .unwrap();
    assert_eq!(over.status(), 429);
    let retry_after: u64 = over.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry_after), "Digistore24 is told when to retry: {retry_after}");
    assert_eq!(receiver.rows("1234").await, 3, "nothing stored past the limit");
    let reasons: Vec<String> = receiver.events.rejections_of("1234").into_iter().map(|r| r.reason).collect();
    assert!(reasons.iter().any(|r| r.contains("rate limited")), "logged with its reason: {reasons:?}");
    // Another vendor's URL has its own bucket.
    assert_eq!(receiver.post(&url_of("555"), ipn("555", 0)).await.0, 200);

    // Bad tokens and the single-tenant URL are limited per client address
    // (behind a local proxy: the address it forwards).
    let from = |address: &'static str, path: String, body: String| {
        let request = receiver.http.post(receiver.url(&path)).header("x-forwarded-for", address).body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let bad = format!("/ipn/1234-{}", "0".repeat(32));
    for _ in 0..3 {
        assert_eq!(from("203.0.113.7", bad.clone(), ipn("1234", 9)).await, 404);
    }
    assert_eq!(from("203.0.113.7", bad.clone(), ipn("1234", 9)).await, 429, "a token guesser is slowed down");
    assert_eq!(from("198.51.100.2", bad.clone(), ipn("1234", 9)).await, 404, "…and only that one");
    assert_eq!(receiver.post(&url_of("777"), ipn("777", 0)).await.0, 200, "a genuine URL is not affected by guessing");
    let single =
        |n: usize| encode(&signed(&[("event", "on_refund"), ("order_id", &format!("S-{n}")), ("merchant_id", "42")], "single-pass"));
    for n in 0..3 {
        assert_eq!(from("203.0.113.7", "/ipn".into(), single(n)).await, 200);
    }
    assert_eq!(from("203.0.113.7", "/ipn".into(), single(3)).await, 429);
    assert_eq!(from("198.51.100.2", "/ipn".into(), single(4)).await, 200);
    assert_eq!(receiver.rows("42").await, 4);
}

#[tokio::test]
async fn a_failing_database_answers_503_so_digistore24_retries() {
    let receiver = Receiver::start(Some("pass-phrase")).await;
    let fields = signed(&[("event", "on_refund"), ("order_id", "O1"), ("merchant_id", "77")], "pass-phrase");
    assert_eq!(receiver.post("/ipn", encode(&fields)).await, (200, "OK".into()));
    assert_eq!(receiver.rows("77").await, 1, "single-tenant IPNs belong to their signed merchant_id");
    // The table vanishes under the receiver (as when the database is gone).
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", receiver.db.display())).await.unwrap();
    sqlx::raw_sql("DROP TABLE ipn_events").execute(&pool).await.unwrap();
    let other = signed(&[("event", "on_refund"), ("order_id", "O2"), ("merchant_id", "77")], "pass-phrase");
    assert_eq!(receiver.post("/ipn", encode(&other)).await.0, 503);
}

// ── The `events` tools through MCP, on both backends ─────────────────────

/// The sandbox's writable key and the tenant its getUserInfo names.
async fn sandbox_tenant(sandbox: &common::sandbox::Sandbox) -> String {
    let info = sandbox.call(Some("sandbox-writable"), "getUserInfo", &[]).await.data();
    info["user_id"].as_str().unwrap().to_owned()
}

async fn tools_flow(database_url: &str) {
    let sandbox = common::sandbox::Sandbox::default().await;
    let store = store::open(database_url).await.unwrap();
    let events = Arc::new(Events::new(store, Some(SECRET.to_vec()), None, Some("https://mcp.example.com/".into())));
    let shared = events.clone();
    let server = TestServer::start_with(&format!("{}/api/call", sandbox.base), Options::default(), |s| s.events = Some(shared)).await;
    let client = server.client(Some("sandbox-writable")).await;
    let tenant = sandbox_tenant(&sandbox).await;

    let manual = common::call(&client, "events_connect", json!({"manual": true})).await;
    assert_eq!(manual.is_error, Some(false), "{}", common::text(&manual));
    let manual = manual.structured_content.unwrap();
    let url = manual["ipn_url"].as_str().unwrap();
    assert_eq!(url, format!("https://mcp.example.com/ipn/{}", events.token_for(&tenant).unwrap()));
    let passphrase = manual["sha_passphrase"].as_str().unwrap().to_owned();
    let path = url.trim_start_matches("https://mcp.example.com").to_owned();

    // A wait started first returns the IPN as soon as it is committed.
    let waiting = {
        let client = server.client(Some("sandbox-writable")).await;
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let result = common::call(&client, "events_wait", json!({"event": "on_refund", "timeout": 20})).await;
            (result, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let http = reqwest::Client::new();
    let post = |fields: Vec<(String, String)>, path: String| {
        let http = http.clone();
        let url = format!("http://{}{path}", server.addr);
        async move { http.post(url).body(encode(&fields)).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(signed(&[("event", "on_payment"), ("order_id", "ORD-1")], &passphrase), path.clone()).await, 200);
    let sent = std::time::Instant::now();
    let refund =
        signed(&[("event", "on_refund"), ("order_id", "ORD-1"), ("buyer_email", "b@example.com"), ("amount", "9.00")], &passphrase);
    assert_eq!(post(refund, path.clone()).await, 200);
    let (woken, _) = waiting.await.unwrap();
    assert!(sent.elapsed() < Duration::from_secs(1), "the wait returned {:?} after the IPN", sent.elapsed());
    let woken = woken.structured_content.unwrap();
    assert_eq!(woken["events"].as_array().unwrap().len(), 1, "{woken}");
    assert_eq!(woken["events"][0]["event"], "on_refund", "the filter skipped on_payment");
    assert_eq!(woken["events"][0]["order_id"], "ORD-1");
    let cursor = woken["cursor"].as_str().unwrap().to_owned();

    // Another vendor's IPN is not this caller's event.
    let other = events.token_for("999").unwrap();
    assert_eq!(
        post(signed(&[("event", "on_refund"), ("order_id", "X")], &events.passphrase_for("999").unwrap()), format!("/ipn/{other}")).await,
        200
    );

    let listed = common::call(&client, "events_list", json!({})).await.structured_content.unwrap();
    let names: Vec<&str> = listed["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["on_payment", "on_refund"], "oldest first, own tenant only: {listed}");
    let id = listed["events"][1]["id"].as_str().unwrap();
    let one = common::call(&client, "events_get", json!({"id": id})).await.structured_content.unwrap();
    assert_eq!(one["fields"]["buyer_email"], "b@example.com");
    assert!(one["fields"].get("sha_sign").is_none());
    let foreign_id = events.store.latest_id("999").await.unwrap().unwrap().to_string();
    let foreign = common::call(&client, "events_get", json!({"id": foreign_id})).await;
    assert_eq!(foreign.is_error, Some(true), "another tenant's event is not found");

    // Nothing new: the wait ends empty with the same cursor.
    let empty = common::call(&client, "events_wait", json!({"cursor": cursor, "timeout": 1})).await.structured_content.unwrap();
    assert_eq!(
        (empty["events"].as_array().unwrap().len(), empty["cursor"].as_str(), empty["timed_out"].as_bool()),
        (0, Some(cursor.as_str()), Some(true))
    );

    let status = common::call(&client, "events_status", json!({})).await.structured_content.unwrap();
    assert_eq!(status["last_24h"], json!({"on_payment": 1, "on_refund": 1}), "{status}");
    assert_eq!(status["last_event"]["event"], "on_refund");
    assert_eq!(status["database"], events.store.backend());
}

#[tokio::test]
async fn events_tools_work_on_sqlite() {
    let (url, path) = temp_sqlite_url();
    tools_flow(&url).await;
    remove_sqlite(&path);
}

#[tokio::test]
async fn events_tools_work_on_postgres() {
    let Some(pg) = TestPostgres::start().await else { return };
    tools_flow(&pg.url).await;
}

#[tokio::test]
async fn events_tools_say_how_to_turn_them_on() {
    let sandbox = common::sandbox::Sandbox::default().await;
    let server = TestServer::start(&format!("{}/api/call", sandbox.base), Options::default()).await;
    let client = server.client(Some("sandbox-writable")).await;
    for tool in digistore24_mcp::catalog::LOCAL_TOOLS {
        let args = if tool.name == "events_get" { json!({"id": "1"}) } else { json!({}) };
        let result = common::call(&client, tool.name, args).await;
        assert_eq!(result.is_error, Some(true), "{}", tool.name);
        assert!(common::text(&result).contains("--database-url"), "{}: {}", tool.name, common::text(&result));
    }
}

#[tokio::test]
async fn an_idle_wait_does_not_hold_a_concurrency_slot() {
    let sandbox = common::sandbox::Sandbox::default().await;
    let (url, path) = temp_sqlite_url();
    let events = Arc::new(Events::new(store::open(&url).await.unwrap(), Some(SECRET.to_vec()), None, None));
    let http = digistore24_mcp::http::HttpConfig { max_concurrency: 1, ..Default::default() };
    let options = Options { http: Some(http), ..Options::default() };
    let server = TestServer::start_with(&format!("{}/api/call", sandbox.base), options, |s| s.events = Some(events)).await;
    let client = server.client(Some("sandbox-writable")).await;
    // Learn the tenant first, so the wait below only waits.
    assert_eq!(common::call(&client, "events_status", json!({})).await.is_error, Some(false));
    let waiter = server.client(Some("sandbox-writable")).await;
    let waiting = tokio::spawn(async move { common::call(&waiter, "events_wait", json!({"timeout": 3})).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Bounded: without the slot given back the client would retry the 503 for long.
    let during = tokio::time::timeout(Duration::from_secs(2), common::call(&client, "events_status", json!({})))
        .await
        .expect("answered at once, not kept out by the waiting call");
    assert_eq!(during.is_error, Some(false), "served while the other call waits: {}", common::text(&during));
    assert!(!waiting.is_finished(), "the wait is still waiting");
    assert_eq!(waiting.await.unwrap().structured_content.unwrap()["timed_out"], true);
    remove_sqlite(&path);
}

// ── The whole loop offline: the sandbox sends IPNs ───────────────────────

/// The MCP server with events on, listening where its receiver URL says.
struct Loop {
    addr: std::net::SocketAddr,
    events: Arc<Events>,
    shutdown: digistore24_mcp::http::Shutdown,
}

impl Loop {
    async fn start(upstream_base: &str, database_url: &str) -> Loop {
        Self::start_with(upstream_base, database_url, digistore24_mcp::mcp::ConfirmPolicy::Off).await
    }

    async fn start_with(upstream_base: &str, database_url: &str, confirm: digistore24_mcp::mcp::ConfirmPolicy) -> Loop {
        use digistore24_mcp::ds24::{Client, ClientConfig};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let store = store::open(database_url).await.unwrap();
        let events = Arc::new(Events::new(store, Some(SECRET.to_vec()), None, Some(format!("http://{addr}"))).with_loopback_urls());
        let client =
            Client::new(ClientConfig { base_url: upstream_base.into(), timeout: Duration::from_secs(10), observer: None }).unwrap();
        let mut settings = digistore24_mcp::mcp::ServerSettings::new(digistore24_mcp::mcp::random_secret());
        settings.confirm = confirm;
        settings.events = Some(events.clone());
        let server = digistore24_mcp::mcp::Ds24Server::new(client, settings);
        let shutdown = digistore24_mcp::http::Shutdown::default();
        let app = digistore24_mcp::http::router(server, &Default::default(), shutdown.hard_stop.clone());
        let stages = shutdown.clone();
        tokio::spawn(async move { digistore24_mcp::http::serve(listener, app, &stages, None).await });
        Loop { addr, events, shutdown }
    }

    async fn client(&self) -> rmcp::service::RunningService<rmcp::RoleClient, ()> {
        use rmcp::ServiceExt;
        use rmcp::transport::StreamableHttpClientTransport;
        use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
        let config = StreamableHttpClientTransportConfig::with_uri(format!("http://{}/mcp", self.addr)).auth_header("sandbox-writable");
        ().serve(StreamableHttpClientTransport::from_config(config)).await.unwrap()
    }

    /// Starts an `events_wait` for `event` now; yields its answer.
    async fn wait_for(&self, event: &str) -> tokio::task::JoinHandle<Value> {
        let client = self.client().await;
        let args = json!({"event": event, "timeout": 20});
        let handle = tokio::spawn(async move { common::call(&client, "events_wait", args).await.structured_content.unwrap() });
        // Let the wait take its cursor before the IPN is triggered.
        tokio::time::sleep(Duration::from_millis(300)).await;
        handle
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        self.shutdown.stop_accepting.cancel();
        self.shutdown.close_connections.cancel();
        self.shutdown.hard_stop.cancel();
    }
}

async fn sandbox_loop(database_url: &str) {
    let sandbox = common::sandbox::Sandbox::default().await;
    let server = Loop::start(&format!("{}/api/call", sandbox.base), database_url).await;
    let client = server.client().await;
    let tenant = sandbox_tenant(&sandbox).await;

    // The sandbox checks a URL with GET first, as Digistore24 does: a wrong token is a 404.
    let wrong = format!("http://{}/ipn/{tenant}-{}", server.addr, "0".repeat(32));
    let refused = sandbox.call(Some("sandbox-writable"), "ipnSetup", &[("ipn_url", &wrong), ("name", "x"), ("product_ids", "all")]).await;
    assert!(refused.text.contains("HTTP 404"), "{}", refused.text);

    let connected = common::call(&client, "events_connect", json!({})).await;
    assert_eq!(connected.is_error, Some(false), "{}", common::text(&connected));
    let receiver = connected.structured_content.unwrap()["receiver_url"].as_str().unwrap().to_owned();
    assert_eq!(receiver, server.events.url_for(&tenant).unwrap());
    let info = common::call(&client, "ipnInfo", json!({"domain_id": "digistore24mcp"})).await.structured_content.unwrap();
    assert_eq!(info["have_settings"], "Y", "the sandbox stored the connection: {info}");

    // A sandbox purchase: on_payment reaches the waiting agent.
    let waiting = server.wait_for("on_payment").await;
    let bought = sandbox.http.post(format!("{}/sandbox/purchases", sandbox.base)).body("{}").send().await.unwrap();
    let sent = std::time::Instant::now();
    let bought: Value = bought.json().await.unwrap();
    let order = bought["data"]["purchase_id"].as_str().unwrap().to_owned();
    assert_eq!(bought["data"]["ipn_sent_to"], 1, "{bought}");
    let paid = waiting.await.unwrap();
    assert!(sent.elapsed() < Duration::from_secs(1), "woken {:?} after the purchase", sent.elapsed());
    assert_eq!((paid["events"][0]["event"].as_str(), paid["events"][0]["order_id"].as_str()), (Some("on_payment"), Some(order.as_str())));
    assert_eq!(paid["events"][0]["test_mode"], true);

    // A refund through MCP: on_refund for that order within a second.
    let waiting = server.wait_for("on_refund").await;
    let started = std::time::Instant::now();
    let refunded = common::call(&client, "refundPurchase", json!({"purchase_id": order, "force": true})).await;
    assert_eq!(refunded.is_error, Some(false), "{}", common::text(&refunded));
    let refund = waiting.await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(1), "on_refund took {:?}", started.elapsed());
    assert_eq!(
        (refund["events"][0]["event"].as_str(), refund["events"][0]["order_id"].as_str()),
        (Some("on_refund"), Some(order.as_str()))
    );
    let stored = server
        .events
        .store
        .list(&EventQuery { tenant: tenant.clone(), limit: 100, include_test: true, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(stored.len(), 2, "one row per IPN: {stored:?}");
    assert_eq!(stored[1].fields["merchant_id"], tenant.as_str());

    // Disconnected: the sandbox forgets the connection.
    let gone = common::call(&client, "events_disconnect", json!({})).await;
    assert_eq!(gone.is_error, Some(false), "{}", common::text(&gone));
    let info = common::call(&client, "ipnInfo", json!({"domain_id": "digistore24mcp"})).await.structured_content.unwrap();
    assert_eq!(info["have_settings"], "N");
}

#[tokio::test]
async fn sandbox_ipns_reach_a_waiting_agent_on_sqlite() {
    let (url, path) = temp_sqlite_url();
    sandbox_loop(&url).await;
    remove_sqlite(&path);
}

#[tokio::test]
async fn sandbox_ipns_reach_a_waiting_agent_on_postgres() {
    let Some(pg) = TestPostgres::start().await else { return };
    sandbox_loop(&pg.url).await;
}

#[tokio::test]
async fn two_replicas_on_one_postgres_share_events_and_store_once() {
    let Some(pg) = TestPostgres::start().await else { return };
    let sandbox = common::sandbox::Sandbox::default().await;
    let upstream = format!("{}/api/call", sandbox.base);
    let a = Loop::start(&upstream, &pg.url).await;
    let b = Loop::start(&upstream, &pg.url).await;
    let tenant = sandbox_tenant(&sandbox).await;
    // Same --ipn-secret: either replica verifies the other's URL.
    let token = a.events.token_for(&tenant).unwrap();
    assert_eq!(b.events.tenant_of(&token).as_deref(), Some(tenant.as_str()));
    let passphrase = a.events.passphrase_for(&tenant).unwrap();

    // Learn the tenant on B first, so its wait only waits.
    assert_eq!(common::call(&b.client().await, "events_status", json!({})).await.is_error, Some(false));
    let waiting = b.wait_for("on_refund").await;
    let http = reqwest::Client::new();
    let refund = encode(&signed(&[("event", "on_refund"), ("order_id", "R-1"), ("transaction_id", "77")], &passphrase));
    let sent = std::time::Instant::now();
    let to_a = http.post(format!("http://{}/ipn/{token}", a.addr)).body(refund.clone()).send().await.unwrap();
    assert_eq!(to_a.status(), 200);
    let woken = waiting.await.unwrap();
    assert!(sent.elapsed() < Duration::from_secs(1), "replica B woke {:?} after A committed", sent.elapsed());
    assert_eq!(woken["events"][0]["order_id"], "R-1");

    // Digistore24 retrying on both replicas at once: OK from both, one row.
    let payment = encode(&signed(&[("event", "on_payment"), ("order_id", "R-2")], &passphrase));
    let sends = (0..10).map(|i| {
        let (http, body) = (http.clone(), payment.clone());
        let addr = if i % 2 == 0 { a.addr } else { b.addr };
        let url = format!("http://{addr}/ipn/{token}");
        tokio::spawn(async move { http.post(url).body(body).send().await.unwrap().status().as_u16() })
    });
    for send in sends.collect::<Vec<_>>() {
        assert_eq!(send.await.unwrap(), 200);
    }
    let rows = a
        .events
        .store
        .list(&EventQuery { tenant: tenant.clone(), order_id: Some("R-2".into()), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "concurrent identical IPNs on two replicas give one row");
}

#[tokio::test]
async fn connect_and_disconnect_follow_the_confirmation_policy() {
    let sandbox = common::sandbox::Sandbox::default().await;
    let (url, path) = temp_sqlite_url();
    let policy = "writes".parse().unwrap();
    let server = Loop::start_with(&format!("{}/api/call", sandbox.base), &url, policy).await;
    let client = server.client().await;
    // This client cannot be asked mid-call, so a call needing confirmation is refused, unsent.
    for tool in ["events_connect", "events_disconnect"] {
        let refused = common::call(&client, tool, json!({})).await;
        assert_eq!(refused.is_error, Some(true), "{tool}");
        assert!(common::text(&refused).contains("confirm"), "{tool}: {}", common::text(&refused));
    }
    let info = common::call(&client, "ipnInfo", json!({"domain_id": "digistore24mcp"})).await.structured_content.unwrap();
    assert_eq!(info["have_settings"], "N", "nothing was registered");
    remove_sqlite(&path);
}
