//! Usage recording, on SQLite and on a real PostgreSQL: a known mix of tool
//! calls through the real MCP endpoint on the sandbox gives exactly those
//! counts in the report; tenants never see each other; the series has every
//! bucket; percentiles from the aggregates stay within a bucket of the truth;
//! pruning keeps the aggregates; a database that is down or failing never
//! fails a tool call and its drops are counted in /metrics; no key is stored.

mod common;

use common::postgres::TestPostgres;
use common::sandbox::Sandbox;
use common::{MCP_HEADERS, Options, TestServer, post_raw};
use digistore24_mcp::ds24::ApiKey;
use digistore24_mcp::mcp::ConfirmPolicy;
use digistore24_mcp::ops::usage::{Recorder, RecorderConfig};
use digistore24_mcp::sandbox::{READONLY_KEY, SandboxConfig, WRITABLE_KEY};
use digistore24_mcp::store::usage::{
    Granularity, OperatorReport, Period, ReplicaHealth, UsageReport, UsageRow, UsageStore, bucket_bounds, duration_bucket,
};
use digistore24_mcp::store::{self, Database, StoreError};
use futures::future::BoxFuture;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OTHER_KEY: &str = "sandbox-other-tenant";
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

fn temp_sqlite_url() -> (String, std::path::PathBuf) {
    let path = std::env::temp_dir().join(format!("ds24-usage-{}-{}.db", std::process::id(), uuid::Uuid::new_v4()));
    (format!("sqlite://{}", path.display()), path)
}

fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn quick_config(replica: &str) -> RecorderConfig {
    RecorderConfig {
        replica: replica.into(),
        batch_wait: Duration::from_millis(20),
        write_attempts: 2,
        write_timeout: Duration::from_secs(2),
        heartbeat_every: Duration::from_millis(200),
        ..RecorderConfig::default()
    }
}

/// The sandbox and an MCP server recording into `usage`.
async fn serve(usage: Arc<dyn UsageStore>) -> (Sandbox, TestServer, Arc<Recorder>) {
    let sandbox = Sandbox::start(SandboxConfig { extra_keys: vec![OTHER_KEY.into()], ..SandboxConfig::default() }).await;
    let recorder = Recorder::start(usage, quick_config("replica-a"));
    let options = Options { confirm: ConfirmPolicy::Destructive, ..Options::default() };
    let attached = recorder.clone();
    let server =
        TestServer::start_with(&format!("{}/api/call", sandbox.base), options, move |settings| settings.usage = Some(attached)).await;
    (sandbox, server, recorder)
}

/// A stateless 2026-07-28 tools/call, as a modern client with elicitation sends it.
async fn call(url: &str, key: &str, tool: &str, params: Value) -> Value {
    let mut params = params;
    params["name"] = json!(tool);
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {"form": {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "usage-test", "version": "0"},
    });
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}).to_string();
    let auth = format!("Bearer {key}");
    let mut headers = MCP_HEADERS.to_vec();
    headers.extend([("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", tool), ("authorization", &auth)]);
    let (status, _, body) = post_raw(url, &headers, &body).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["result"].clone()
}

fn today() -> Period {
    let now = store::now_ms();
    Period { from_ms: now - DAY, to_ms: now + HOUR, granularity: Granularity::Hour }
}

async fn report_of(usage: &dyn UsageStore, key: &str) -> UsageReport {
    usage.usage_report(&ApiKey::new(key).unwrap().tenant_id(), None, today()).await.unwrap()
}

/// The mix of the issue, through /mcp on the sandbox; returns the calls made per key.
async fn known_mix(sandbox: &Sandbox, server: &TestServer) {
    let url = server.url();
    for _ in 0..37 {
        let answer = call(&url, WRITABLE_KEY, "listProducts", json!({"arguments": {}})).await;
        assert_ne!(answer["isError"], true, "{answer}");
    }
    let group = json!({"arguments": {"data": {"name": "Usage test"}}});
    for _ in 0..5 {
        let refused = call(&url, READONLY_KEY, "createProductGroup", group.clone()).await;
        assert_eq!(refused["isError"], true, "a read-only key cannot write: {refused}");
    }
    sandbox.arm(json!({"kind": "http500", "function": "createProductGroup", "count": 3})).await;
    for _ in 0..3 {
        let failed = call(&url, WRITABLE_KEY, "createProductGroup", group.clone()).await;
        assert_eq!(failed["isError"], true, "{failed}");
    }
    let dry = call(&url, WRITABLE_KEY, "createProductGroup", json!({"arguments": {"data": {"name": "x"}, "dry_run": true}})).await;
    assert_eq!(dry["structuredContent"]["dry_run"], true, "{dry}");
    // deleteProduct is destructive: asked, declined; asked again, accepted.
    let product =
        sandbox.write("createProduct", &[("data[name]", "Usage test"), ("data[language]", "en"), ("data[product_type_id]", "2")]).await;
    let product_id = common::sandbox::s(&product["product_id"]);
    let delete = json!({"arguments": {"product_id": product_id}});
    for answer in ["decline", "accept"] {
        let asked = call(&url, WRITABLE_KEY, "deleteProduct", delete.clone()).await;
        assert_eq!(asked["resultType"], "input_required", "{asked}");
        let mut second = delete.clone();
        second["requestState"] = asked["requestState"].clone();
        second["inputResponses"] = if answer == "accept" {
            json!({"confirm": {"action": "accept", "content": {"confirm": true}}})
        } else {
            json!({"confirm": {"action": "decline"}})
        };
        let ended = call(&url, WRITABLE_KEY, "deleteProduct", second).await;
        assert_eq!(ended["isError"] == true, answer == "decline", "{ended}");
    }
    for _ in 0..4 {
        call(&url, OTHER_KEY, "listProducts", json!({"arguments": {}})).await;
    }
}

/// What both backends must do: the mix's counts exactly, tenants apart, no key stored.
async fn recording_contract(database: Database, stored_text: impl AsyncFn() -> Vec<String>) {
    let (sandbox, server, recorder) = serve(database.usage.clone()).await;
    known_mix(&sandbox, &server).await;
    assert!(recorder.flush(Duration::from_secs(10)).await);
    assert_eq!((recorder.rows_written(), recorder.rows_dropped()), (54, 0), "every call is one row, none lost");

    let writable = report_of(database.usage.as_ref(), WRITABLE_KEY).await;
    let t = &writable.totals;
    assert_eq!(t.calls, 37 + 3 + 1 + 4, "{t:?}");
    assert_eq!(t.success, 37 + 1, "37 lists and the accepted delete");
    assert_eq!((t.upstream_error, t.dry_run, t.confirmation_requested, t.tool_error), (3, 1, 2, 1), "{t:?}");
    assert_eq!((writable.confirmations.asked, writable.confirmations.accepted, writable.confirmations.declined), (2, 1, 1));
    let list = writable.tools.iter().find(|t| t.tool == "listProducts").expect("listProducts in the table");
    assert_eq!((list.counts.calls, list.counts.success), (37, 37));
    assert_eq!(writable.tools[0].tool, "listProducts", "most calls first");
    assert!(list.p50_ms > 0.0 && list.p95_ms >= list.p50_ms, "{list:?}");
    assert_eq!(writable.recent.len(), 45, "all 45 calls fit in the last 50");
    assert_eq!(writable.recent[0].tool, "deleteProduct", "newest first");
    assert_eq!(writable.series.iter().map(|b| b.counts.calls).sum::<i64>(), t.calls);

    let readonly = report_of(database.usage.as_ref(), READONLY_KEY).await;
    assert_eq!((readonly.totals.calls, readonly.totals.upstream_error), (5, 5), "the 5 refused writes are the read-only key's");
    assert!(readonly.recent.iter().all(|c| c.tool == "createProductGroup"));
    let other = report_of(database.usage.as_ref(), OTHER_KEY).await;
    assert_eq!((other.totals.calls, other.recent.len()), (4, 4), "another tenant sees only its own calls");
    let nobody = report_of(database.usage.as_ref(), "sandbox-never-used").await;
    assert_eq!(nobody.totals.calls, 0);
    assert!(nobody.series.iter().all(|b| b.counts.calls == 0) && !nobody.series.is_empty(), "an empty period still has its buckets");

    let operator: OperatorReport = database.usage.operator_report(today()).await.unwrap();
    assert_eq!(operator.totals.calls, 54);
    assert_eq!(operator.tenants.len(), 3);
    assert!(operator.tenants.iter().all(|t| t.tenant.len() == 16), "tenants by hash only");
    let codes: i64 = operator.upstream_codes.iter().map(|(_, n)| n).sum();
    assert_eq!(codes, 8, "5 permission refusals and 3 faults: {:?}", operator.upstream_codes);
    assert!(operator.upstream_codes.iter().any(|(code, n)| code == "8" && *n == 5), "{:?}", operator.upstream_codes);
    assert!(!operator.slowest.is_empty() && operator.slowest.len() <= 10);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let operator = database.usage.operator_report(today()).await.unwrap();
    let replica = operator.replicas.iter().find(|r| r.replica == "replica-a").expect("the heartbeat row");
    assert_eq!((replica.rows_written, replica.rows_dropped), (54, 0));

    let texts = stored_text().await;
    assert!(texts.len() >= 54, "every stored text was read: {}", texts.len());
    for key in [WRITABLE_KEY, READONLY_KEY, OTHER_KEY] {
        assert!(texts.iter().all(|t| !t.contains(key)), "the key {key} is stored somewhere");
    }
    assert!(texts.iter().any(|t| t.contains("2026-07-28") && t.contains("http")), "era and transport recorded");
}

/// Rows with known times and durations, straight into the store.
fn row(tenant: &str, at_ms: i64, tool: &str, class: &str, duration_us: i64) -> UsageRow {
    UsageRow {
        at_ms,
        tenant: tenant.into(),
        vendor_id: Some("vendor-1".into()),
        tool: tool.into(),
        class: class.into(),
        detail: class.into(),
        duration_us,
        upstream_us: duration_us / 2,
        answer_bytes: 100,
        upstream_code: None,
        confirmed: None,
        era: "2025-06-18".into(),
        transport: "http".into(),
    }
}

/// The store's side: series buckets, percentiles, pruning, batches that add up.
async fn store_contract(usage: Arc<dyn UsageStore>) {
    let now = store::now_ms();
    let this_hour = now.div_euclid(HOUR) * HOUR;
    let day = Period { from_ms: this_hour - 23 * HOUR, to_ms: this_hour + HOUR, granularity: Granularity::Hour };
    // 200 calls of 1..=200 ms in this hour, two batches that hit the same aggregates.
    let durations: Vec<i64> = (1..=200).map(|ms| ms * 1000).collect();
    let rows: Vec<UsageRow> = durations.iter().map(|&us| row("t1", this_hour + 1, "listPurchases", "success", us)).collect();
    usage.insert_usage("seed-1", &rows[..120]).await.unwrap();
    usage.insert_usage("seed-2", &rows[120..]).await.unwrap();
    // Three hours ago: errors; and another tenant.
    usage.insert_usage("seed-3", &[row("t1", this_hour - 3 * HOUR + 5, "refundPurchase", "tool_error", 3_000)]).await.unwrap();
    usage.insert_usage("seed-4", &[row("t2", this_hour + 2, "listPurchases", "success", 1_000)]).await.unwrap();
    // A retry of a batch that was already committed (its answer lost) adds nothing.
    usage.insert_usage("seed-2", &rows[120..]).await.unwrap();

    let report = usage.usage_report("t1", None, day).await.unwrap();
    assert_eq!(report.series.len(), 24, "one bucket per hour of the day");
    assert_eq!(report.series[23].start_ms, this_hour);
    assert_eq!(report.series[23].counts.calls, 200);
    assert_eq!(report.series[20].counts.tool_error, 1, "three hours ago");
    assert_eq!(report.series.iter().filter(|b| b.counts.calls == 0).count(), 22, "empty hours are there, empty");
    assert_eq!(report.totals.calls, 201);
    let tool = report.tools.iter().find(|t| t.tool == "listPurchases").unwrap();
    for (q, got) in [(0.5, tool.p50_ms), (0.95, tool.p95_ms)] {
        let truth = durations[(q * durations.len() as f64).ceil() as usize - 1];
        let (lower, upper) = bucket_bounds(duration_bucket(truth));
        assert!(got * 1000.0 >= lower as f64 && got * 1000.0 <= upper as f64, "p{q}: {got} ms, truth {truth} µs in [{lower}, {upper}]");
    }
    assert_eq!(report.recent.len(), 50, "the last 50 calls only");
    let week = Period {
        from_ms: this_hour.div_euclid(DAY) * DAY - 6 * DAY,
        to_ms: this_hour.div_euclid(DAY) * DAY + DAY,
        granularity: Granularity::Day,
    };
    let weekly = usage.usage_report("t1", None, week).await.unwrap();
    assert_eq!(weekly.series.len(), 7, "one bucket per day of the week");
    assert_eq!(weekly.totals.calls, 201);
    assert_eq!(usage.usage_report("t2", None, day).await.unwrap().totals.calls, 1, "tenants apart");

    // A raw row 40 days old (its aggregate too); pruning at 30 days keeps the aggregate.
    let old = now - 40 * DAY;
    usage.insert_usage("old-1", &[row("t1", old, "listPurchases", "success", 2_000)]).await.unwrap();
    let old_period = Period { from_ms: old - HOUR, to_ms: old + HOUR, granularity: Granularity::Hour };
    assert_eq!(usage.usage_report("t1", None, old_period).await.unwrap().recent.len(), 1);
    let deleted = usage.prune_usage(now - 30 * DAY, now - 365 * DAY).await.unwrap();
    assert_eq!(deleted, 1, "only the old raw row goes");
    let pruned = usage.usage_report("t1", None, old_period).await.unwrap();
    assert_eq!((pruned.totals.calls, pruned.recent.len()), (1, 0), "the hourly aggregate outlives its raw rows");
    usage.prune_usage(now - 30 * DAY, now - 35 * DAY).await.unwrap();
    assert_eq!(usage.usage_report("t1", None, old_period).await.unwrap().totals.calls, 0, "aggregates go after their retention");
    assert_eq!(usage.usage_report("t1", None, day).await.unwrap().totals.calls, 201, "recent rows stay");

    usage.heartbeat(&ReplicaHealth { replica: "r1".into(), last_seen_ms: now, rows_dropped: 3, rows_written: 7 }).await.unwrap();
    usage.heartbeat(&ReplicaHealth { replica: "r1".into(), last_seen_ms: now + 1, rows_dropped: 4, rows_written: 9 }).await.unwrap();
    let operator = usage.operator_report(day).await.unwrap();
    assert_eq!(operator.replicas, [ReplicaHealth { replica: "r1".into(), last_seen_ms: now + 1, rows_dropped: 4, rows_written: 9 }]);
    let t1 = operator.tenants.iter().find(|t| t.tenant == "t1").unwrap();
    assert_eq!((t1.counts.calls, t1.vendor_id.as_deref()), (201, Some("vendor-1")));
}

async fn sqlite_texts(url: &str) -> Vec<String> {
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let mut texts = Vec::new();
    for sql in TEXT_QUERIES {
        texts.extend(sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await.unwrap());
    }
    texts
}

async fn postgres_texts(url: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let mut texts = Vec::new();
    for sql in TEXT_QUERIES {
        texts.extend(sqlx::query_scalar::<_, String>(sql).fetch_all(&pool).await.unwrap());
    }
    texts
}

/// Every text column of every usage table, one string per row.
const TEXT_QUERIES: [&str; 4] = [
    "SELECT tenant || '|' || COALESCE(vendor_id, '') || '|' || tool || '|' || class || '|' || detail || '|' || \
     COALESCE(upstream_code, '') || '|' || era || '|' || transport FROM usage_calls",
    "SELECT tenant || '|' || tool || '|' || class || '|' || detail || '|' || upstream_code FROM usage_hourly",
    "SELECT tenant || '|' || COALESCE(vendor_id, '') FROM usage_tenants",
    "SELECT replica FROM usage_replicas",
];

#[tokio::test]
async fn sqlite_records_the_known_mix_exactly_and_never_a_key() {
    let (url, path) = temp_sqlite_url();
    let database = store::open_database(&url).await.unwrap();
    recording_contract(database, async || sqlite_texts(&url).await).await;
    remove_sqlite(&path);
}

#[tokio::test]
async fn postgres_records_the_known_mix_exactly_and_never_a_key() {
    let Some(pg) = TestPostgres::start().await else { return };
    let database = store::open_database(&pg.url).await.unwrap();
    recording_contract(database, async || postgres_texts(&pg.url).await).await;
}

#[tokio::test]
async fn sqlite_store_buckets_percentiles_and_pruning() {
    let (url, path) = temp_sqlite_url();
    store_contract(store::open_database(&url).await.unwrap().usage).await;
    remove_sqlite(&path);
}

#[tokio::test]
async fn postgres_store_buckets_percentiles_and_pruning() {
    let Some(pg) = TestPostgres::start().await else { return };
    store_contract(store::open_database(&pg.url).await.unwrap().usage).await;
}

/// A database that hangs on every write (a slow or unreachable server).
struct Hanging;

impl UsageStore for Hanging {
    fn insert_usage<'a>(&'a self, _: &'a str, _: &'a [UsageRow]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(futures::future::pending())
    }
    fn usage_report<'a>(&'a self, _: &'a str, _: Option<&'a str>, _: Period) -> BoxFuture<'a, Result<UsageReport, StoreError>> {
        Box::pin(futures::future::pending())
    }
    fn operator_report(&self, _: Period) -> BoxFuture<'_, Result<OperatorReport, StoreError>> {
        Box::pin(futures::future::pending())
    }
    fn heartbeat<'a>(&'a self, _: &'a ReplicaHealth) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(futures::future::pending())
    }
    fn prune_usage(&self, _: i64, _: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(futures::future::pending())
    }
}

fn metric(text: &str, name: &str) -> f64 {
    text.lines().find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim().parse().ok())).unwrap_or(0.0)
}

async fn metrics_text(server: &TestServer) -> String {
    reqwest::get(format!("http://{}/metrics", server.addr)).await.unwrap().text().await.unwrap()
}

/// Calls keep answering at once while rows pile up, and the drops show in /metrics.
async fn calls_survive(server: &TestServer, recorder: &Recorder, calls: usize) {
    let before = metric(&metrics_text(server).await, "ds24_mcp_usage_rows_dropped_total");
    let started = Instant::now();
    for _ in 0..calls {
        let answer = call(&server.url(), WRITABLE_KEY, "listProducts", json!({"arguments": {}})).await;
        assert_ne!(answer["isError"], true, "a tool call never fails for the database: {answer}");
    }
    assert!(started.elapsed() < Duration::from_secs(20), "calls were held up: {:?}", started.elapsed());
    recorder.flush(Duration::from_secs(15)).await;
    assert!(recorder.rows_dropped() > 0, "drops are counted");
    let after = metric(&metrics_text(server).await, "ds24_mcp_usage_rows_dropped_total");
    assert!(after > before, "and shown in /metrics: {before} → {after}");
}

#[tokio::test]
async fn a_hanging_database_never_slows_or_fails_a_call() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let config = RecorderConfig { capacity: 8, write_timeout: Duration::from_millis(300), ..quick_config("hanging") };
    let recorder = Recorder::start(Arc::new(Hanging), config);
    let attached = recorder.clone();
    let server = TestServer::start_with(&format!("{}/api/call", sandbox.base), Options::default(), move |s| s.usage = Some(attached)).await;
    calls_survive(&server, &recorder, 40).await;
    assert_eq!(recorder.rows_written(), 0);
}

#[tokio::test]
async fn a_stopped_postgres_never_fails_a_call() {
    let Some(pg) = TestPostgres::start().await else { return };
    let database = store::open_database(&pg.url).await.unwrap();
    let (_sandbox, server, recorder) = serve(database.usage.clone()).await;
    call(&server.url(), WRITABLE_KEY, "listProducts", json!({"arguments": {}})).await;
    assert!(recorder.flush(Duration::from_secs(10)).await);
    assert_eq!(recorder.rows_written(), 1);
    drop(pg); // stops the server and deletes its data
    calls_survive(&server, &recorder, 20).await;
}

#[tokio::test]
async fn the_vendor_id_is_filled_once_known_and_brings_the_vendors_events() {
    use digistore24_mcp::ipn::Events;
    use digistore24_mcp::store::NewEvent;
    let (url, path) = temp_sqlite_url();
    let database = store::open_database(&url).await.unwrap();
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let recorder = Recorder::start(database.usage.clone(), quick_config("vendor"));
    let events = Arc::new(Events::new(database.events.clone(), None, None, None));
    let attached = (recorder.clone(), events.clone());
    let server = TestServer::start_with(&format!("{}/api/call", sandbox.base), Options::default(), move |s| {
        s.usage = Some(attached.0);
        s.events = Some(attached.1);
    })
    .await;
    call(&server.url(), WRITABLE_KEY, "listProducts", json!({"arguments": {}})).await;
    let info = call(&server.url(), WRITABLE_KEY, "getUserInfo", json!({"arguments": {}})).await;
    let vendor = common::sandbox::s(&info["structuredContent"]["user_id"]);
    assert!(!vendor.is_empty(), "{info}");
    call(&server.url(), WRITABLE_KEY, "listProducts", json!({"arguments": {}})).await;
    assert!(recorder.flush(Duration::from_secs(10)).await);

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let vendors: Vec<Option<String>> = sqlx::query_scalar("SELECT vendor_id FROM usage_calls ORDER BY id").fetch_all(&pool).await.unwrap();
    assert_eq!(vendors, [None, Some(vendor.clone()), Some(vendor.clone())], "known from getUserInfo on, never asked for the row");

    let now = store::now_ms();
    let event = NewEvent {
        tenant: vendor.clone(),
        content_hash: "h1".into(),
        event: "on_payment".into(),
        order_id: Some("A1".into()),
        transaction_id: None,
        product_id: None,
        test_mode: false,
        received_at: now,
        summary: json!({}),
        fields: json!({}),
    };
    database.events.insert(&event).await.unwrap();
    let tenant = ApiKey::new(WRITABLE_KEY).unwrap().tenant_id();
    let report = database.usage.usage_report(&tenant, Some(&vendor), today()).await.unwrap();
    assert_eq!(report.events.len(), 1, "{:?}", report.events);
    assert_eq!(
        (report.events[0].day_ms, report.events[0].event.as_str(), report.events[0].count),
        (now.div_euclid(DAY) * DAY, "on_payment", 1)
    );
    let operator = database.usage.operator_report(today()).await.unwrap();
    assert_eq!(operator.tenants[0].vendor_id.as_deref(), Some(vendor.as_str()));
    pool.close().await;
    remove_sqlite(&path);
}

/// `serve --sandbox` as an operator runs it: `calls` tool calls, then SIGTERM at once.
fn serve_binary_and_stop(database_url: &str, extra: &[&str], calls: usize) -> std::process::Output {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_digistore24-mcp"))
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0", "--database-url", database_url])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = first.split_whitespace().find(|w| w.starts_with("http")).expect("the first line names the URL").to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let mut headers = MCP_HEADERS.to_vec();
        headers.push(("mcp-protocol-version", "2025-06-18"));
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "listProducts", "arguments": {}}});
        for _ in 0..calls {
            let (status, _, answer) = post_raw(&url, &headers, &body.to_string()).await;
            assert_eq!(status, 200, "{answer}");
        }
    });
    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn a_graceful_stop_writes_the_queued_rows_and_off_records_nothing() {
    let (url, path) = temp_sqlite_url();
    let stopped = tokio::task::spawn_blocking({
        let url = url.clone();
        move || serve_binary_and_stop(&url, &["--replica-name", "graceful"], 30)
    })
    .await
    .unwrap();
    assert!(stopped.status.success(), "{:?}", stopped.status);
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT era, transport FROM usage_calls").fetch_all(&pool).await.unwrap();
    assert_eq!(rows.len(), 30, "every call answered before SIGTERM is stored");
    assert!(rows.iter().all(|(era, transport)| era == "2025-06-18" && transport == "http"), "{rows:?}");
    let replica: String = sqlx::query_scalar("SELECT replica FROM usage_replicas").fetch_one(&pool).await.unwrap();
    assert_eq!(replica, "graceful");
    pool.close().await;

    let off = tokio::task::spawn_blocking({
        let url = url.clone();
        move || serve_binary_and_stop(&url, &["--usage-recording", "off"], 5)
    })
    .await
    .unwrap();
    assert!(off.status.success());
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM usage_calls").fetch_one(&pool).await.unwrap();
    assert_eq!(count, 30, "--usage-recording off adds no row");
    pool.close().await;
    remove_sqlite(&path);
}
