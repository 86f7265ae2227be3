//! Running it as a hosted service: metrics, readiness, request ids, rate
//! limits, retries, cache, concurrency, TLS, graceful shutdown, and keys that
//! never show up in logs or metrics.

mod common;

use common::{Answer, FakeUpstream, MCP_HEADERS, Options, TestServer, call, post_raw, text};
use digistore24_mcp::ds24::{ApiKey, Client, ClientConfig, FormBody};
use digistore24_mcp::ops::cache::ResponseCache;
use digistore24_mcp::ops::limit::{RateLimit, RateLimiter};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

fn ping_body() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ping", "arguments": {}}}).to_string()
}

fn headers_with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = MCP_HEADERS.to_vec();
    h.push(("mcp-protocol-version", "2025-06-18"));
    h.extend_from_slice(extra);
    h
}

#[tokio::test]
async fn metrics_count_calls_without_any_key() {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), Options::default()).await;
    let client = server.client(Some("123-metrics-secret")).await;
    call(&client, "listProducts", json!({})).await;
    upstream.answer_with(Answer::Raw(500, "oops"));
    call(&client, "getProduct", json!({"product_id": 1})).await;
    call(&client, "getPurchase", json!({})).await;
    let text_ = reqwest::get(format!("http://{}/metrics", server.addr)).await.unwrap().text().await.unwrap();
    for needle in [
        r#"ds24_mcp_tool_calls_total{tool="listProducts",outcome="success"}"#,
        r#"ds24_mcp_tool_calls_total{tool="getProduct",outcome="upstream_error"}"#,
        r#"ds24_mcp_tool_calls_total{tool="getPurchase",outcome="tool_error"}"#,
        r#"ds24_mcp_upstream_requests_total{function="getProduct",status="500"}"#,
        "ds24_mcp_tool_call_duration_seconds_bucket",
        "ds24_mcp_upstream_request_duration_seconds_bucket",
        r#"ds24_mcp_requests_total{method="tools/call",outcome="ok"}"#,
        "ds24_mcp_inflight_requests",
        "ds24_mcp_build_info",
    ] {
        assert!(text_.contains(needle), "missing {needle} in\n{text_}");
    }
    assert!(!text_.contains("metrics-secret"));
}

#[tokio::test]
async fn ready_request_id_and_concurrency_limit() {
    let upstream = FakeUpstream::start().await;
    let http = digistore24_mcp::http::HttpConfig { max_concurrency: 1, ..Default::default() };
    let readiness = http.readiness.clone();
    let server = TestServer::start(&upstream.base_url(), Options { http: Some(http), default_key: Some("k"), ..Options::default() }).await;
    let base = format!("http://{}", server.addr);
    assert_eq!(reqwest::get(format!("{base}/ready")).await.unwrap().status(), 200);

    let (_, headers, _) = post_raw(&server.url(), &headers_with(&[("x-request-id", "req-42")]), &ping_body()).await;
    assert_eq!(headers["x-request-id"], "req-42");
    let (_, headers, _) = post_raw(&server.url(), &headers_with(&[]), &ping_body()).await;
    assert_eq!(headers["x-request-id"].len(), 36, "a generated uuid");

    upstream.answer_with(Answer::Slow(Duration::from_millis(500)));
    let url = server.url();
    let slow = tokio::spawn(async move { post_raw(&url, &headers_with(&[]), &ping_body()).await.0 });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, headers, _) = post_raw(&server.url(), &headers_with(&[]), &ping_body()).await;
    assert_eq!(status, 503, "the second concurrent request is shed");
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(slow.await.unwrap(), 200);

    readiness.drain();
    assert_eq!(reqwest::get(format!("{base}/ready")).await.unwrap().status(), 503);
    assert_eq!(reqwest::get(format!("{base}/health")).await.unwrap().status(), 200);
}

#[tokio::test]
async fn rate_limit_is_per_key_and_says_when_to_retry() {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), Options::default()).await;
    let limiter = Arc::new(RateLimiter::in_memory(RateLimit { per_second: 1.0, burst: 2.0 }));
    let server = {
        drop(server);
        common::TestServer::start_with(&upstream.base_url(), Options::default(), |s| s.limiter = Some(limiter.clone())).await
    };
    let a = server.client(Some("key-a")).await;
    let b = server.client(Some("key-b")).await;
    for _ in 0..2 {
        assert_eq!(call(&a, "ping", json!({})).await.is_error, Some(false));
    }
    let limited = call(&a, "ping", json!({})).await;
    assert_eq!(limited.is_error, Some(true));
    assert!(text(&limited).contains("retry after"), "{}", text(&limited));
    assert_eq!(call(&b, "ping", json!({})).await.is_error, Some(false), "another key is not limited");
    assert_eq!(upstream.requests().len(), 3);
    // The whole-request endpoint answers 429 with Retry-After.
    let response = reqwest::Client::new().get(format!("http://{}/test-api-key", server.addr)).bearer_auth("key-a").send().await.unwrap();
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn reads_are_retried_and_writes_never() {
    let upstream = FakeUpstream::start().await;
    upstream.answer_with(Answer::Raw(503, "busy"));
    let client = Client::new(ClientConfig {
        base_url: upstream.base_url(),
        timeout: Duration::from_secs(5),
        observer: Some(digistore24_mcp::ops::metrics::upstream),
    })
    .unwrap();
    let key = ApiKey::new("k").unwrap();
    assert!(client.call_read(&key, "listProducts", &FormBody::default(), 2).await.is_err());
    assert_eq!(upstream.requests().len(), 3, "one try and two retries");
    upstream.clear();
    assert!(client.call(&key, "createVoucher", &FormBody::default()).await.is_err());
    assert_eq!(upstream.requests().len(), 1);
    // Through the server: a write that fails with 503 reaches Digistore24 once.
    upstream.clear();
    let server = TestServer::start(&upstream.base_url(), Options::default()).await;
    let mcp = server.client(Some("k")).await;
    call(&mcp, "createVoucher", json!({"data": {"code": "X"}})).await;
    assert_eq!(upstream.requests().len(), 1);
    call(&mcp, "listVouchers", json!({})).await;
    assert_eq!(upstream.requests().len(), 4);
    // A read that recovers succeeds.
    upstream.clear();
    upstream.answer_with(Answer::Raw(429, r#"{"result":"error","message":"slow down"}"#));
    let fail_then_ok = tokio::spawn({
        let client = client.clone();
        async move { client.call_read(&ApiKey::new("k").unwrap(), "ping", &FormBody::default(), 3).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    upstream.answer_with(Answer::Echo);
    assert!(fail_then_ok.await.unwrap().is_ok());
}

#[tokio::test]
async fn reference_data_is_cached_per_key() {
    let upstream = FakeUpstream::start().await;
    let cache = Arc::new(ResponseCache::in_memory(Duration::from_secs(60)));
    let server = TestServer::start_with(&upstream.base_url(), Options::default(), |s| s.cache = Some(cache.clone())).await;
    let a = server.client(Some("key-a")).await;
    let b = server.client(Some("key-b")).await;
    for _ in 0..3 {
        let r = call(&a, "listCountries", json!({})).await;
        assert_eq!(r.structured_content.unwrap()["key"], "key-a");
    }
    assert_eq!(upstream.requests().len(), 1);
    let r = call(&b, "listCountries", json!({})).await;
    assert_eq!(r.structured_content.unwrap()["key"], "key-b", "never another key's cached answer");
    call(&a, "listProducts", json!({})).await;
    call(&a, "listProducts", json!({})).await;
    assert_eq!(upstream.requests().len(), 4, "other functions are not cached");
}

#[tokio::test]
async fn serves_tls() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let dir = std::env::temp_dir().join(format!("ds24-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let upstream = FakeUpstream::start().await;
    let (mut child, addr) =
        spawn_server(&upstream, &["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()], &[]);
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let health: Value = client.get(format!("https://localhost:{}/health", addr.port())).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    child.kill().unwrap();
}

/// Starts the real binary against `upstream`; returns it and its address.
fn spawn_server(upstream: &FakeUpstream, args: &[&str], env: &[(&str, &str)]) -> (Child, std::net::SocketAddr) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_digistore24-mcp"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--api-base-url", &upstream.base_url(), "--log-format", "json"])
        .args(args)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    // Keep draining stdout so the server never writes into a closed pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let url = first.split_whitespace().find(|w| w.starts_with("http")).expect("the first line names the URL");
    let addr = url.split("://").nth(1).unwrap().trim_end_matches("/mcp").parse().unwrap();
    (child, addr)
}

#[tokio::test]
async fn graceful_shutdown_finishes_calls_in_flight() {
    let upstream = FakeUpstream::start().await;
    upstream.answer_with(Answer::Slow(Duration::from_millis(1500)));
    let (child, addr) = spawn_server(&upstream, &["--shutdown-delay-secs", "1"], &[("DS24_API_KEY", "k")]);
    let url = format!("http://{addr}/mcp");
    let in_flight = tokio::spawn({
        let url = url.clone();
        async move { post_raw(&url, &headers_with(&[]), &ping_body()).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    send_sigterm(&child);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let ready = reqwest::get(format!("http://{addr}/ready")).await.unwrap();
    assert_eq!(ready.status(), 503, "draining");
    let (status, _, body) = in_flight.await.unwrap();
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["result"]["isError"], false, "{body}");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "exit 0 after draining: {:?}", output.status);
}

/// SIGTERM, as an orchestrator sends it, through `kill(1)`: the test needs
/// no `unsafe` foreign call for it.
fn send_sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill(1) runs");
    assert!(status.success(), "kill -TERM {}: {status}", child.id());
}

#[tokio::test]
async fn no_key_in_any_log_line_error_or_metric() {
    let secret = "987-THISKEYMUSTNEVERAPPEAR";
    let upstream = FakeUpstream::start().await;
    let (child, addr) = spawn_server(&upstream, &["--rate-limit-rps", "1", "--rate-limit-burst", "1"], &[]);
    let url = format!("http://{addr}/mcp");
    let auth = format!("Bearer {secret}");
    let bodies = [
        ping_body(),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "getPurchase", "arguments": {"purchase_id": 5, "bogus": 1}}}).to_string(),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "listProducts", "arguments": {}}}).to_string(),
        "{not json".to_string(),
    ];
    let mut seen = String::new();
    for answer in [
        Answer::Raw(200, r#"{"result":"error","code":2,"message":"Invalid API key 987-THISKEYMUSTNEVERAPPEAR"}"#),
        Answer::Raw(500, "987-THISKEYMUSTNEVERAPPEAR"),
        Answer::Echo,
    ] {
        upstream.answer_with(answer);
        for body in &bodies {
            let (_, _, text_) = post_raw(&url, &headers_with(&[("authorization", &auth)]), body).await;
            seen.push_str(&text_);
        }
        let r = reqwest::Client::new().get(format!("http://{addr}/test-api-key")).bearer_auth(secret).send().await.unwrap();
        seen.push_str(&r.text().await.unwrap());
    }
    let metrics = reqwest::get(format!("http://{addr}/metrics")).await.unwrap().text().await.unwrap();
    assert!(metrics.contains("ds24_mcp_log_lines_dropped_total 0"), "the log writer reports its drops: {metrics}");
    // A graceful stop flushes the log writer's buffer.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill(1) runs");
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("tool call"), "the log has tool call lines: {logs}");
    for (what, text_) in [("log", logs.as_ref()), ("metrics", metrics.as_str())] {
        let leaks: Vec<&str> = text_.lines().filter(|l| l.contains("THISKEYMUSTNEVERAPPEAR")).collect();
        assert!(leaks.is_empty(), "the key appeared in the {what}: {leaks:#?}");
    }
    // Answers never echo the key either, even when Digistore24 does.
    let echoed = seen.matches("THISKEYMUSTNEVERAPPEAR").count();
    assert!(seen.contains("[redacted]"), "upstream messages that echo the key are redacted");
    assert_eq!(echoed, 0, "answers: {seen}");
    for line in logs.lines().filter(|l| l.contains("tool call")) {
        let line: Value = serde_json::from_str(line).expect("JSON log lines");
        assert!(line["request_id"].is_string() && line["tool"].is_string() && line["duration_ms"].is_number(), "{line}");
    }
}
