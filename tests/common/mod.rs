//! Shared test harness: a recording fake Digistore24, the MCP server on a
//! loopback port, and an official `rmcp` client connected to it.
#![allow(dead_code)]

pub mod postgres;
pub mod samples;
pub mod sandbox;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use digistore24_mcp::ds24::{ApiKey, Client, ClientConfig};
use digistore24_mcp::http::{HttpConfig, Shutdown, router, serve};
use digistore24_mcp::mcp::{Bounds, ConfirmPolicy, Ds24Server, Limits, ServerSettings, ToolFilter, random_secret};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many Digistore24 functions (and so tools) there are, as README.md and
/// ARCHITECTURE.md say. Written here once and checked against the catalogue in
/// exactly one test (`tests/tools.rs`); every other test counts
/// `catalog::FUNCTIONS.len()`, so adding a function moves one number.
pub const DOCUMENTED_TOOL_COUNT: usize = 123;

/// One request the fake upstream received.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub function: String,
    pub key: Option<String>,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    /// Raw body as sent.
    pub body: String,
    /// Decoded `(name, value)` pairs, in order.
    pub fields: Vec<(String, String)>,
}

/// What the fake upstream answers.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Success envelope whose data echoes the function and the key it saw.
    Echo,
    /// This status and raw body.
    Raw(u16, &'static str),
    /// Sleep this long, then echo.
    Slow(Duration),
}

#[derive(Clone)]
struct FakeState {
    log: Arc<Mutex<Vec<Recorded>>>,
    answer: Arc<Mutex<Answer>>,
}

/// A recording stand-in for Digistore24.
pub struct FakeUpstream {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Recorded>>>,
    answer: Arc<Mutex<Answer>>,
}

impl FakeUpstream {
    pub async fn start() -> Self {
        let state = FakeState { log: Arc::default(), answer: Arc::new(Mutex::new(Answer::Echo)) };
        let app = Router::new().route("/api/call/{function}", axum::routing::post(record)).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeUpstream { addr, log: state.log, answer: state.answer }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/api/call", self.addr)
    }

    pub fn answer_with(&self, answer: Answer) {
        *self.answer.lock().unwrap() = answer;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.log.lock().unwrap().clone()
    }

    pub fn last(&self) -> Recorded {
        self.requests().pop().expect("the upstream received no request")
    }

    pub fn clear(&self) {
        self.log.lock().unwrap().clear();
    }
}

async fn record(State(state): State<FakeState>, Path(function): Path<String>, headers: HeaderMap, body: Bytes) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = String::from_utf8(body.to_vec()).unwrap();
    let fields = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let key = header("x-ds-api-key");
    state.log.lock().unwrap().push(Recorded {
        function: function.clone(),
        key: key.clone(),
        content_type: header("content-type"),
        accept: header("accept"),
        body,
        fields,
    });
    let answer = state.answer.lock().unwrap().clone();
    let echo = || {
        axum::Json(json!({
            "api_version": "1.2", "current_time": "2026-01-01 00:00:00", "result": "success",
            "data": {"function": function, "key": key}
        }))
        .into_response()
    };
    match answer {
        Answer::Echo => echo(),
        Answer::Raw(status, body) => (StatusCode::from_u16(status).unwrap(), body).into_response(),
        Answer::Slow(delay) => {
            tokio::time::sleep(delay).await;
            echo()
        }
    }
}

/// Options of a test server. Confirmation is off unless a test turns it on:
/// most tests are about the wire, not the policy.
#[derive(Clone)]
pub struct Options {
    pub filter: ToolFilter,
    pub default_key: Option<&'static str>,
    pub timeout: Option<Duration>,
    pub http: Option<HttpConfig>,
    pub confirm: ConfirmPolicy,
    pub limits: Limits,
    pub max_result_bytes: Option<usize>,
    pub max_result_tokens: Option<usize>,
    pub state_secret: Option<Vec<u8>>,
    pub confirmation_ttl: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            filter: ToolFilter::default(),
            default_key: None,
            timeout: None,
            http: None,
            confirm: ConfirmPolicy::Off,
            limits: Limits::default(),
            max_result_bytes: None,
            max_result_tokens: None,
            state_secret: None,
            confirmation_ttl: None,
        }
    }
}

/// The MCP server on a loopback port.
pub struct TestServer {
    pub addr: SocketAddr,
    pub server: Ds24Server,
    shutdown: Shutdown,
}

impl TestServer {
    pub async fn start(upstream_base: &str, options: Options) -> Self {
        Self::start_with(upstream_base, options, |_| {}).await
    }

    /// Like `start`, with a last say over the settings.
    pub async fn start_with(upstream_base: &str, options: Options, adjust: impl FnOnce(&mut ServerSettings)) -> Self {
        let client = Client::new(ClientConfig {
            base_url: upstream_base.to_owned(),
            timeout: options.timeout.unwrap_or(Duration::from_secs(10)),
            observer: Some(digistore24_mcp::ops::metrics::upstream),
        })
        .unwrap();
        let defaults = ServerSettings::new(options.state_secret.unwrap_or_else(random_secret));
        let mut settings = ServerSettings {
            filter: options.filter,
            default_key: options.default_key.and_then(ApiKey::new),
            confirm: options.confirm,
            limits: options.limits,
            result_bounds: Bounds {
                max_bytes: options.max_result_bytes.unwrap_or(defaults.result_bounds.max_bytes),
                max_tokens: options.max_result_tokens.unwrap_or(defaults.result_bounds.max_tokens),
            },
            confirmation_ttl: options.confirmation_ttl.unwrap_or(defaults.confirmation_ttl),
            ..defaults
        };
        adjust(&mut settings);
        let server = Ds24Server::new(client, settings);
        let shutdown = Shutdown::default();
        let app = router(server.clone(), &options.http.unwrap_or_default(), shutdown.hard_stop.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stages = shutdown.clone();
        tokio::spawn(async move { serve(listener, app, &stages, None).await });
        TestServer { addr, server, shutdown }
    }

    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// An official rmcp client speaking Streamable HTTP with `key` as Bearer.
    pub async fn client(&self, key: Option<&str>) -> RunningService<RoleClient, ()> {
        let mut config = StreamableHttpClientTransportConfig::with_uri(self.url());
        if let Some(key) = key {
            config = config.auth_header(key);
        }
        ().serve(StreamableHttpClientTransport::from_config(config)).await.expect("MCP client connects")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.stop_accepting.cancel();
        self.shutdown.close_connections.cancel();
        self.shutdown.hard_stop.cancel();
    }
}

/// Calls a tool and returns its result (panics on a protocol error).
pub async fn call<H: rmcp::Service<RoleClient>>(client: &RunningService<RoleClient, H>, name: &str, args: Value) -> CallToolResult {
    let mut params = CallToolRequestParams::new(name.to_owned());
    params.arguments = args.as_object().cloned();
    client.call_tool(params).await.expect("tools/call answered")
}

/// The text of a tool result's first content block.
pub fn text(result: &CallToolResult) -> String {
    result.content.first().and_then(|c| c.as_text()).map(|t| t.text.clone()).unwrap_or_default()
}

/// A raw JSON-RPC POST to `/mcp`, for protocol-level checks.
pub async fn post_raw(url: &str, headers: &[(&str, &str)], body: &str) -> (u16, HeaderMap, String) {
    send_raw("POST", url, headers, body).await
}

/// One raw request: method, URL, headers, body → status, headers, body text.
pub async fn send_raw(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, HeaderMap, String) {
    let mut request = reqwest::Client::new().request(method.parse().unwrap(), url).body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Headers of a well-formed MCP POST.
pub const MCP_HEADERS: [(&str, &str); 2] = [("content-type", "application/json"), ("accept", "application/json, text/event-stream")];
