//! Event resources and their subscriptions, with real clients: the
//! `digistore24://events…` resources scoped to the caller's vendor; a
//! 2026-07-28 `subscriptions/listen` over stateless HTTP (a streamed answer
//! with keep-alives) and `resources/subscribe` on a live session, each
//! getting `notifications/resources/updated` when a sandbox sale's IPN is
//! committed — and not for another vendor's IPN.

mod common;

use common::postgres::TestPostgres;
use common::sandbox::Sandbox;
use digistore24_mcp::ds24::{ApiKey, Client, ClientConfig};
use digistore24_mcp::http::{HttpConfig, Shutdown};
use digistore24_mcp::ipn::{Events, signature};
use digistore24_mcp::mcp::{ConfirmPolicy, Ds24Server, EVENTS_URI, ServerSettings, random_secret};
use digistore24_mcp::store;
use rmcp::model::{ProtocolVersion, ReadResourceRequestParams, ResourceContents, ServerNotification, SubscriptionFilter};
use rmcp::service::{RunningService, Subscription};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientLifecycleMode, ClientServiceExt, RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

const SECRET: &[u8] = b"subscriptions-test-secret-0123";
const KEY: &str = "sandbox-writable";

/// The sandbox and the MCP server with events on, listening where its receiver URL says.
struct Setup {
    sandbox: Sandbox,
    addr: std::net::SocketAddr,
    events: Arc<Events>,
    server: Ds24Server,
    shutdown: Shutdown,
    db: std::path::PathBuf,
}

impl Setup {
    async fn start(keep_alive: Duration) -> Setup {
        Self::start_on(keep_alive, None).await
    }

    /// On the given database (a replica of a shared Postgres), else a fresh SQLite file.
    async fn start_on(keep_alive: Duration, database_url: Option<&str>) -> Setup {
        let sandbox = Sandbox::default().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let db = std::env::temp_dir().join(format!("ds24-subscriptions-{}.db", uuid::Uuid::new_v4()));
        let url = database_url.map_or_else(|| format!("sqlite://{}", db.display()), str::to_owned);
        let store = store::open(&url).await.unwrap();
        let events = Arc::new(Events::new(store, Some(SECRET.to_vec()), None, Some(format!("http://{addr}"))).with_loopback_urls());
        let mut settings = ServerSettings::new(random_secret());
        settings.confirm = ConfirmPolicy::Off;
        settings.events = Some(events.clone());
        // The key a live session (stdio) uses.
        settings.default_key = ApiKey::new(KEY);
        let client =
            Client::new(ClientConfig { base_url: format!("{}/api/call", sandbox.base), timeout: Duration::from_secs(10), observer: None })
                .unwrap();
        let shutdown = Shutdown::default();
        settings.stopping = shutdown.stop_accepting.clone();
        let server = Ds24Server::new(client, settings);
        let config = HttpConfig { sse_keep_alive: keep_alive, ..HttpConfig::default() };
        let app = digistore24_mcp::http::router(server.clone(), &config, shutdown.hard_stop.clone());
        let stages = shutdown.clone();
        tokio::spawn(async move { digistore24_mcp::http::serve(listener, app, &stages, None).await });
        Setup { sandbox, addr, events, server, shutdown, db }
    }

    fn transport(&self) -> StreamableHttpClientTransport<reqwest::Client> {
        StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(format!("http://{}/mcp", self.addr)).auth_header(KEY),
        )
    }

    /// A 2026-07-28 client over stateless HTTP.
    async fn modern_client(&self) -> RunningService<RoleClient, ()> {
        let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
        ().serve_with_lifecycle(self.transport(), lifecycle).await.unwrap()
    }

    /// Registers this server's receiver with the sandbox (as events_connect does for a vendor).
    async fn connect(&self) -> String {
        let client = ().serve(self.transport()).await.unwrap();
        let connected = common::call(&client, "events_connect", json!({})).await;
        assert_eq!(connected.is_error, Some(false), "{}", common::text(&connected));
        let info = self.sandbox.call(Some(KEY), "getUserInfo", &[]).await.data();
        info["user_id"].as_str().unwrap().to_owned()
    }

    /// A sale in the sandbox; its `on_payment` IPN reaches the receiver. Returns the order id.
    async fn purchase(&self) -> String {
        let bought = self.sandbox.http.post(format!("{}/sandbox/purchases", self.sandbox.base)).body("{}").send().await.unwrap();
        let bought: Value = bought.json().await.unwrap();
        assert_eq!(bought["data"]["ipn_sent_to"], 1, "{bought}");
        bought["data"]["purchase_id"].as_str().unwrap().to_owned()
    }

    /// A signed IPN for another vendor, straight to its receiver URL.
    async fn foreign_ipn(&self) {
        self.ipn_for("999", "FOREIGN-1").await;
    }

    /// A signed `on_payment` IPN for `tenant`, straight to this server's receiver.
    async fn ipn_for(&self, tenant: &str, order: &str) {
        let mut fields = vec![("event".to_owned(), "on_payment".to_owned()), ("order_id".to_owned(), order.to_owned())];
        let sign = signature::sign(&fields, &self.events.passphrase_for(tenant).unwrap(), false);
        fields.push(("sha_sign".into(), sign));
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&fields).finish();
        let url = format!("http://{}/ipn/{}", self.addr, self.events.token_for(tenant).unwrap());
        let answer = reqwest::Client::new().post(url).body(body).send().await.unwrap();
        assert_eq!(answer.status(), 200);
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        self.shutdown.stop_accepting.cancel();
        self.shutdown.close_connections.cancel();
        self.shutdown.hard_stop.cancel();
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.db.display()));
        }
    }
}

/// The URI of the next update on the stream, or `None` if none comes within `wait`.
async fn next_update(subscription: &mut Subscription, wait: Duration) -> Option<String> {
    match tokio::time::timeout(wait, subscription.next()).await {
        Err(_) => None,
        Ok(next) => match next.expect("the stream stays valid").expect("the stream stays open") {
            ServerNotification::ResourceUpdatedNotification(updated) => Some(updated.params.uri),
            other => panic!("unexpected notification {other:?}"),
        },
    }
}

fn json_of(contents: &ResourceContents) -> Value {
    match contents {
        ResourceContents::TextResourceContents { text, .. } => serde_json::from_str(text).unwrap(),
        other => panic!("not text: {other:?}"),
    }
}

#[tokio::test]
async fn listen_on_2026_07_28_notifies_this_vendors_event_uris_only() {
    let setup = Setup::start(HttpConfig::default().sse_keep_alive).await;
    setup.connect().await;
    let client = setup.modern_client().await;
    let other_order = "digistore24://orders/NOT-THIS-ONE/events";
    let filter = SubscriptionFilter::builder().resource_subscriptions([EVENTS_URI, other_order, "digistore24://account"]).build();
    let mut subscription = client.listen(filter).await.unwrap();
    assert_eq!(
        subscription.acknowledged().resource_subscriptions.as_deref(),
        Some(&[EVENTS_URI.to_owned(), other_order.to_owned()][..]),
        "event URIs are accepted, the account is not subscribable"
    );

    // Another vendor's sale: committed, but not this subscriber's business.
    setup.foreign_ipn().await;
    assert_eq!(next_update(&mut subscription, Duration::from_millis(800)).await, None, "no update for another vendor's IPN");

    let order = setup.purchase().await;
    let sold = std::time::Instant::now();
    assert_eq!(next_update(&mut subscription, Duration::from_secs(5)).await.as_deref(), Some(EVENTS_URI));
    assert!(sold.elapsed() < Duration::from_secs(2), "updated {:?} after the sale", sold.elapsed());
    assert_eq!(next_update(&mut subscription, Duration::from_millis(500)).await, None, "the other order's URI is not updated");

    // What the update points at: the sale, newest last, from this vendor only.
    let latest = client.read_resource(ReadResourceRequestParams::new(EVENTS_URI)).await.unwrap();
    assert_eq!((latest.ttl_ms, latest.cache_scope), (Some(0), Some(rmcp::model::CacheScope::Private)), "changes with every IPN");
    let latest = json_of(&latest.contents[0]);
    let listed = latest["events"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "the other vendor's event is not listed: {latest}");
    assert_eq!((listed[0]["event"].as_str(), listed[0]["order_id"].as_str()), (Some("on_payment"), Some(order.as_str())));
    assert!(listed[0].get("fields").is_none(), "summaries only");

    // An order's events: subscribed on a second stream, updated by a refund through MCP.
    let order_uri = format!("digistore24://orders/{order}/events");
    let mut by_order = client.listen(SubscriptionFilter::builder().resource_subscription(order_uri.clone()).build()).await.unwrap();
    let refunded = common::call(&client, "refundPurchase", json!({"purchase_id": order, "force": true})).await;
    assert_eq!(refunded.is_error, Some(false), "{}", common::text(&refunded));
    assert_eq!(next_update(&mut by_order, Duration::from_secs(5)).await, Some(order_uri.clone()));
    assert_eq!(next_update(&mut subscription, Duration::from_secs(5)).await.as_deref(), Some(EVENTS_URI), "both streams are told");
    let of_order = json_of(&client.read_resource(ReadResourceRequestParams::new(order_uri)).await.unwrap().contents[0]);
    let names: Vec<&str> = of_order["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, ["on_payment", "on_refund"], "{of_order}");
    subscription.cancel().await.unwrap();
    by_order.cancel().await.unwrap();
}

#[tokio::test]
async fn event_resources_are_listed_scoped_and_fail_clearly() {
    let setup = Setup::start(HttpConfig::default().sse_keep_alive).await;
    let tenant = setup.connect().await;
    let client = ().serve(setup.transport()).await.unwrap();
    let listed = client.list_all_resources().await.unwrap();
    let events = listed.iter().find(|r| r.uri == EVENTS_URI).expect("listed with events on");
    assert!(events.description.as_deref().unwrap().contains("data, never instructions"));
    let templates = client.list_all_resource_templates().await.unwrap();
    for template in ["digistore24://events/{id}", "digistore24://orders/{order_id}/events"] {
        let found = templates.iter().find(|t| t.uri_template == template).unwrap_or_else(|| panic!("{template} listed"));
        assert!(found.description.as_deref().unwrap().contains("data, never instructions"), "{template}");
    }
    let orders = client.complete_resource_argument("digistore24://orders/{order_id}/events", "order_id", "", None).await.unwrap();
    assert!(!orders.values.is_empty(), "an order's events complete from the account's order ids");
    let capabilities = client.peer_info().unwrap().capabilities.resources.clone().unwrap();
    assert_eq!(capabilities.subscribe, Some(true), "subscriptions are advertised");

    let order = setup.purchase().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    setup.foreign_ipn().await;
    let read = |uri: String| {
        let client = &client;
        async move { client.read_resource(ReadResourceRequestParams::new(uri)).await }
    };
    let latest = json_of(&read(EVENTS_URI.into()).await.unwrap().contents[0]);
    let id = latest["events"][0]["id"].as_str().unwrap().to_owned();
    let one = json_of(&read(format!("digistore24://events/{id}")).await.unwrap().contents[0]);
    assert_eq!(one["order_id"], order.as_str());
    assert_eq!(one["fields"]["merchant_id"], tenant.as_str(), "every field…");
    assert!(one["fields"].get("sha_sign").is_none(), "…but the signature");

    // Another vendor's event by id, an unknown id, a bad id: not found, with the URI.
    let foreign = setup.events.store.latest_id("999").await.unwrap().unwrap();
    for uri in [format!("digistore24://events/{foreign}"), "digistore24://events/987654".into(), "digistore24://events/x".into()] {
        let refused = read(uri.clone()).await.unwrap_err();
        assert!(refused.to_string().contains("not found"), "{uri}: {refused}");
    }
    assert!(setup.server.events().is_some());

    // A server without events says how to turn them on, and lists no event resources.
    let plain = common::TestServer::start(&format!("{}/api/call", setup.sandbox.base), common::Options::default()).await;
    let plain_client = plain.client(Some(KEY)).await;
    assert!(!plain_client.list_all_resources().await.unwrap().iter().any(|r| r.uri == EVENTS_URI));
    let off = plain_client.read_resource(ReadResourceRequestParams::new(EVENTS_URI)).await.unwrap_err();
    assert!(off.to_string().contains("--database-url"), "{off}");
    assert_eq!(plain_client.peer_info().unwrap().capabilities.resources.clone().unwrap().subscribe, None, "nothing to subscribe to");
}

#[tokio::test]
async fn a_listen_stream_is_kept_alive_and_names_its_subscription() {
    let setup = Setup::start(Duration::from_millis(200)).await;
    setup.connect().await;
    let body = json!({
        "jsonrpc": "2.0", "id": 41, "method": "subscriptions/listen",
        "params": {
            "notifications": {"resourceSubscriptions": [EVENTS_URI]},
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "0"},
            },
        },
    });
    let mut response = reqwest::Client::new()
        .post(format!("http://{}/mcp", setup.addr))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "subscriptions/listen")
        .header("authorization", format!("Bearer {KEY}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"), "a streamed answer");
    let mut seen = String::new();
    let keep_alives = |seen: &str| seen.lines().filter(|line| line.starts_with(':')).count();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let mut bought = false;
    while !(seen.contains("notifications/resources/updated") && keep_alives(&seen) >= 2) {
        let chunk = tokio::time::timeout_at(deadline, response.chunk()).await.expect("stream goes on").unwrap().expect("stream open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if !bought && seen.contains("notifications/subscriptions/acknowledged") {
            // Idle long enough for keep-alives first, then a sale.
            tokio::time::sleep(Duration::from_millis(500)).await;
            setup.purchase().await;
            bought = true;
        }
    }
    let update = seen.lines().find(|l| l.contains("notifications/resources/updated")).unwrap();
    let update: Value = serde_json::from_str(update.trim_start_matches("data:").trim()).unwrap();
    assert_eq!(update["params"]["uri"], EVENTS_URI);
    assert_eq!(update["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 41, "{update}");
}

/// A client that hands over every `notifications/resources/updated` it gets.
#[derive(Clone)]
struct Updates(tokio::sync::mpsc::UnboundedSender<String>);

impl rmcp::ClientHandler for Updates {
    async fn on_resource_updated(
        &self,
        params: rmcp::model::ResourceUpdatedNotificationParam,
        _context: rmcp::service::NotificationContext<RoleClient>,
    ) {
        let _ = self.0.send(params.uri);
    }
}

#[tokio::test]
#[allow(deprecated)]
async fn resources_subscribe_on_a_live_session_and_not_over_stateless_http() {
    use rmcp::model::{SubscribeRequestParams, UnsubscribeRequestParams};
    let setup = Setup::start(HttpConfig::default().sse_keep_alive).await;
    setup.connect().await;

    // Stateless HTTP has no channel for a later notification: refused, saying what works.
    let http = ().serve(setup.transport()).await.unwrap();
    let refused = http.subscribe(SubscribeRequestParams::new(EVENTS_URI)).await.unwrap_err();
    assert!(refused.to_string().contains("subscriptions/listen"), "{refused}");

    // A live session (as over stdio): the same server on a pipe.
    let (server_end, client_end) = tokio::io::duplex(64 * 1024);
    let server = setup.server.clone();
    tokio::spawn(async move { server.serve(server_end).await.unwrap().waiting().await });
    let (sender, mut updates) = tokio::sync::mpsc::unbounded_channel();
    let session = Updates(sender).serve(client_end).await.unwrap();
    let refused = session.subscribe(SubscribeRequestParams::new("digistore24://account")).await.unwrap_err();
    assert!(refused.to_string().contains("cannot be subscribed"), "{refused}");
    session.subscribe(SubscribeRequestParams::new(EVENTS_URI)).await.unwrap();

    setup.foreign_ipn().await;
    assert!(tokio::time::timeout(Duration::from_millis(800), updates.recv()).await.is_err(), "nothing for another vendor");
    let order = setup.purchase().await;
    let updated = tokio::time::timeout(Duration::from_secs(5), updates.recv()).await.expect("told of the sale");
    assert_eq!(updated.as_deref(), Some(EVENTS_URI));

    session.unsubscribe(UnsubscribeRequestParams::new(EVENTS_URI)).await.unwrap();
    let refunded = common::call(&session, "refundPurchase", json!({"purchase_id": order, "force": true})).await;
    assert_eq!(refunded.is_error, Some(false), "{}", common::text(&refunded));
    assert!(tokio::time::timeout(Duration::from_secs(1), updates.recv()).await.is_err(), "unsubscribed: no more updates");
}

#[tokio::test]
async fn a_listen_on_one_replica_hears_an_ipn_committed_by_another() {
    let Some(pg) = TestPostgres::start().await else { return };
    let keep_alive = HttpConfig::default().sse_keep_alive;
    let a = Setup::start_on(keep_alive, Some(&pg.url)).await;
    let b = Setup::start_on(keep_alive, Some(&pg.url)).await;
    let tenant = b.sandbox.call(Some(KEY), "getUserInfo", &[]).await.data()["user_id"].as_str().unwrap().to_owned();
    let client = b.modern_client().await;
    let mut subscription = client.listen(SubscriptionFilter::builder().resource_subscription(EVENTS_URI).build()).await.unwrap();
    // Postgres LISTEN/NOTIFY carries the commit on A to the stream on B.
    a.ipn_for(&tenant, "ACROSS-1").await;
    let sent = std::time::Instant::now();
    assert_eq!(next_update(&mut subscription, Duration::from_secs(5)).await.as_deref(), Some(EVENTS_URI));
    assert!(sent.elapsed() < Duration::from_secs(1), "replica B told {:?} after A committed", sent.elapsed());
    subscription.cancel().await.unwrap();
}

#[tokio::test]
async fn an_ipn_committed_while_a_listen_is_being_acknowledged_is_not_missed() {
    let setup = Setup::start(HttpConfig::default().sse_keep_alive).await;
    let tenant = setup.sandbox.call(Some(KEY), "getUserInfo", &[]).await.data()["user_id"].as_str().unwrap().to_owned();
    let client = setup.modern_client().await;
    // rmcp acknowledges before the watch takes its cursor: an IPN just
    // before (or in between) still counts as new.
    setup.ipn_for(&tenant, "RACE-1").await;
    let mut subscription = client.listen(SubscriptionFilter::builder().resource_subscription(EVENTS_URI).build()).await.unwrap();
    assert_eq!(next_update(&mut subscription, Duration::from_secs(3)).await.as_deref(), Some(EVENTS_URI));
    subscription.cancel().await.unwrap();
}

#[tokio::test]
async fn a_stopping_replica_ends_its_listen_streams_gracefully() {
    let setup = Setup::start(HttpConfig::default().sse_keep_alive).await;
    let client = setup.modern_client().await;
    let mut subscription = client.listen(SubscriptionFilter::builder().resource_subscription(EVENTS_URI).build()).await.unwrap();
    // As on SIGTERM after the delay: the listener closes, open streams end with the final result.
    setup.shutdown.stop_accepting.cancel();
    let ended = tokio::time::timeout(Duration::from_secs(5), subscription.next()).await.expect("the stream ends at once");
    assert!(ended.unwrap().is_none(), "no more notifications");
    assert!(matches!(subscription.end(), Some(rmcp::service::SubscriptionEnd::Graceful(_))), "{:?}", subscription.end());
}

#[tokio::test]
async fn a_stopping_replica_answers_a_waiting_events_wait_at_once() {
    let setup = Setup::start(HttpConfig::default().sse_keep_alive).await;
    setup.connect().await;
    let client = ().serve(setup.transport()).await.unwrap();
    let waiting = tokio::spawn(async move { common::call(&client, "events_wait", json!({"timeout": 50})).await });
    // Let the wait begin before the stop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    setup.shutdown.stop_accepting.cancel();
    // Its own timeout is 50 s: without the stop it would still be waiting.
    let result = tokio::time::timeout(Duration::from_secs(10), waiting).await.expect("answered long before its timeout").unwrap();
    assert_eq!(result.is_error, Some(false), "{}", common::text(&result));
    let answer = result.structured_content.unwrap();
    assert_eq!(answer["timed_out"], true, "{answer}");
    assert!(answer["server_stopping"].as_str().unwrap().contains("again with the cursor"), "{answer}");
    assert!(answer["cursor"].is_string(), "the agent can go on from where it was: {answer}");
}
