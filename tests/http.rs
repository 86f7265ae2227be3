//! The HTTP front and the MCP handler end to end: keys and tenants, error
//! mapping, protocol versions, limits, service endpoints.

mod common;

use common::{Answer, FakeUpstream, MCP_HEADERS, Options, TestServer, call, post_raw, send_raw, text};
use digistore24_mcp::http::HttpConfig;
use digistore24_mcp::mcp::ToolFilter;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::Duration;

async fn setup(options: Options) -> (FakeUpstream, TestServer) {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), options).await;
    (upstream, server)
}

fn initialize(version: &str) -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "0"}}})
    .to_string()
}

#[tokio::test]
async fn sixty_four_tenants_never_see_each_others_key() {
    let (upstream, server) = setup(Options::default()).await;
    let server = std::sync::Arc::new(server);
    let mut tasks = Vec::new();
    for tenant in 0..64 {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let key = format!("{tenant}-tenant-key");
            let client = server.client(Some(&key)).await;
            let mut mismatches = 0;
            for round in 0..5 {
                let result = call(&client, "getPurchase", json!({"purchase_id": format!("T{tenant}R{round}")})).await;
                let data = result.structured_content.expect("success");
                if data["key"] != key.as_str() {
                    mismatches += 1;
                }
            }
            mismatches
        }));
    }
    let mut mismatches = 0;
    for task in tasks {
        mismatches += task.await.unwrap();
    }
    assert_eq!(mismatches, 0, "an answer carried another tenant's key");
    let requests = upstream.requests();
    assert_eq!(requests.len(), 64 * 5, "none lost, none duplicated");
    for r in &requests {
        // The upstream request for tenant N's purchase carried tenant N's key.
        let purchase = &r.fields[0].1;
        let tenant = purchase.trim_start_matches('T').split('R').next().unwrap();
        assert_eq!(r.key.as_deref(), Some(format!("{tenant}-tenant-key").as_str()), "misrouted: {purchase}");
    }
}

#[tokio::test]
async fn key_comes_from_bearer_or_header_and_overrides_the_server_key() {
    let (upstream, server) = setup(Options { default_key: Some("server-side"), ..Options::default() }).await;
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ping", "arguments": {}}}).to_string();
    let with = |extra: Vec<(&'static str, &'static str)>| {
        let mut headers = MCP_HEADERS.to_vec();
        headers.push(("mcp-protocol-version", "2025-06-18"));
        headers.extend(extra);
        headers
    };
    for (headers, expected) in [
        (with(vec![("authorization", "Bearer own-bearer")]), "own-bearer"),
        (with(vec![("x-ds-api-key", "own-header")]), "own-header"),
        (with(vec![]), "server-side"),
    ] {
        let (status, _, _) = post_raw(&server.url(), &headers, &ping).await;
        assert_eq!(status, 200);
        assert_eq!(upstream.last().key.as_deref(), Some(expected));
    }
}

#[tokio::test]
async fn no_key_at_all_is_401_with_a_how_to() {
    let (upstream, server) = setup(Options::default()).await;
    let (status, headers, body) = post_raw(&server.url(), &MCP_HEADERS, &initialize("2025-06-18")).await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("Authorization: Bearer"));
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn failures_are_tool_errors_with_digistore24_code_and_never_the_key() {
    let (upstream, server) = setup(Options { timeout: Some(Duration::from_millis(300)), ..Options::default() }).await;
    let key = "123-verysecretkey";
    let client = server.client(Some(key)).await;
    let cases = [
        (Answer::Raw(200, r#"{"result":"error","code":"8","message":"Permission denied for 123-verysecretkey"}"#), "Digistore24 error 8"),
        (Answer::Raw(401, r#"{"result":"error","code":2,"message":"Invalid API key"}"#), "Check the API key"),
        (Answer::Raw(500, "<html>Internal Server Error</html>"), "HTTP 500"),
        (Answer::Raw(502, ""), "HTTP 502"),
        (Answer::Raw(200, "<html>maintenance</html>"), "not JSON"),
        (Answer::Raw(200, r#"{"data":{}}"#), "no `result` field"),
        (Answer::Slow(Duration::from_secs(2)), "did not answer within"),
    ];
    for (answer, needle) in cases {
        upstream.answer_with(answer.clone());
        let result = call(&client, "listProducts", json!({})).await;
        let message = text(&result);
        assert_eq!(result.is_error, Some(true), "{answer:?} must be an error: {message}");
        assert!(message.contains(needle), "{answer:?}: {message}");
        assert!(!message.contains("verysecret"), "key leaked: {message}");
    }
}

#[tokio::test]
async fn refused_connection_is_a_tool_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/api/call", listener.local_addr().unwrap());
    drop(listener);
    let server = TestServer::start(&dead, Options::default()).await;
    let client = server.client(Some("k")).await;
    let result = call(&client, "ping", json!({})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("could not reach Digistore24"), "{}", text(&result));
}

#[tokio::test]
async fn success_has_structured_content_and_the_same_json_as_text() {
    let (_upstream, server) = setup(Options::default()).await;
    let client = server.client(Some("k")).await;
    let result = call(&client, "ping", json!({})).await;
    assert_eq!(result.is_error, Some(false));
    let structured = result.structured_content.clone().unwrap();
    assert_eq!(structured["function"], "ping");
    let as_text: Value = serde_json::from_str(&text(&result)).unwrap();
    assert_eq!(as_text, structured);
}

#[tokio::test]
async fn unknown_tool_is_invalid_params_and_anchor_aliases_work_unlisted() {
    let (upstream, server) = setup(Options::default()).await;
    let client = server.client(Some("k")).await;
    let mut params = rmcp::model::CallToolRequestParams::new("noSuchTool");
    params.arguments = Some(Default::default());
    let err = client.call_tool(params).await.unwrap_err().to_string();
    assert!(err.contains("-32602") || err.to_lowercase().contains("invalid"), "{err}");

    let raw = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "noSuchTool", "arguments": {}}}).to_string();
    let mut headers = MCP_HEADERS.to_vec();
    headers.extend([("mcp-protocol-version", "2025-06-18"), ("authorization", "Bearer k")]);
    let (_, _, body) = post_raw(&server.url(), &headers, &raw).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], -32602, "{body}");

    let result = call(&client, "GetGetpurchase", json!({"purchase_id": "A1"})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    assert_eq!(upstream.last().function, "getPurchase");
    let names: HashSet<String> = client.list_all_tools().await.unwrap().into_iter().map(|t| t.name.to_string()).collect();
    assert!(names.contains("getPurchase") && !names.contains("GetGetpurchase"));
}

#[tokio::test]
async fn read_only_and_toolsets_bound_list_and_calls() {
    let filter = ToolFilter { read_only: true, toolsets: Some(["purchases".to_string()].into()), tools: None };
    let (upstream, server) = setup(Options { filter, ..Options::default() }).await;
    let client = server.client(Some("k")).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(!tools.is_empty());
    assert!(tools.iter().all(|t| t.annotations.as_ref().unwrap().read_only_hint == Some(true)));
    assert!(tools.iter().any(|t| t.name == "listPurchases"));
    assert!(!tools.iter().any(|t| t.name == "listProducts" || t.name == "refundPurchase"));
    let refused = call(&client, "refundPurchase", json!({"purchase_id": "A1"})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("--read-only"), "{}", text(&refused));
    let refused = call(&client, "listProducts", json!({})).await;
    assert!(text(&refused).contains("--toolsets"), "{}", text(&refused));
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn every_protocol_version_is_negotiated() {
    let (_upstream, server) = setup(Options { default_key: Some("k"), ..Options::default() }).await;
    for version in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let (status, _, body) = post_raw(&server.url(), &MCP_HEADERS, &initialize(version)).await;
        assert_eq!(status, 200, "{version}: {body}");
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["result"]["protocolVersion"], version);
        assert_eq!(body["result"]["serverInfo"]["name"], "digistore24-mcp");
    }
    // 2026-07-28 has no handshake: the official client discovers and lists statelessly.
    use rmcp::model::ProtocolVersion;
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::{ClientLifecycleMode, ClientServiceExt};
    let client = ()
        .serve_with_lifecycle(
            StreamableHttpClientTransport::from_uri(server.url()),
            ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] },
        )
        .await
        .unwrap();
    let all = digistore24_mcp::catalog::all_tools().count();
    assert_eq!(client.list_all_tools().await.unwrap().len(), all);
    let result = call(&client, "ping", json!({})).await;
    assert_eq!(result.is_error, Some(false));
}

#[tokio::test]
async fn origin_host_and_body_limits() {
    let http =
        HttpConfig { max_body_bytes: 64 * 1024, allowed_origins: vec!["https://app.example.com:443".into()], ..HttpConfig::default() };
    let (_upstream, server) = setup(Options { default_key: Some("k"), http: Some(http), ..Options::default() }).await;
    let init = initialize("2025-06-18");
    let with = |extra: (&'static str, &'static str)| {
        let mut h = MCP_HEADERS.to_vec();
        h.push(extra);
        h
    };
    assert_eq!(post_raw(&server.url(), &with(("origin", "https://evil.example")), &init).await.0, 403);
    assert_eq!(post_raw(&server.url(), &with(("origin", "https://app.example.com")), &init).await.0, 200);
    assert_eq!(post_raw(&server.url(), &with(("origin", "http://localhost:3000")), &init).await.0, 200);
    let (status, _, _) = post_raw(&server.url(), &MCP_HEADERS, &"x".repeat(100 * 1024)).await;
    assert_eq!(status, 413);
    // Still up afterwards.
    assert_eq!(post_raw(&server.url(), &MCP_HEADERS, &init).await.0, 200);
    let response = reqwest::Client::new()
        .post(server.url())
        .header("host", "evil.example")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(init)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 403, "a foreign Host must be refused");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().contains("--allowed-host"), "{body}");
}

/// Asserts the JSON-RPC error shape every refusal under /mcp has, and returns the message.
fn assert_jsonrpc_error(what: &str, expected: u16, (status, headers, body): &(u16, reqwest::header::HeaderMap, String)) -> String {
    assert_eq!(*status, expected, "{what}: {body}");
    let content_type = headers.get("content-type").map(|v| v.to_str().unwrap()).unwrap_or("(none)");
    assert!(content_type.starts_with("application/json"), "{what}: content-type {content_type}");
    let body: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body}"));
    assert_eq!(body["jsonrpc"], "2.0", "{what}: {body}");
    assert!(body["id"].is_null(), "{what}: {body}");
    assert!(body["error"]["code"].as_i64().is_some_and(|c| (-32768..=-32000).contains(&c)), "{what}: {body}");
    let message = body["error"]["message"].as_str().unwrap_or_else(|| panic!("{what}: no message: {body}")).to_owned();
    assert!(message.len() > 20, "{what}: a message that says what to do: {message}");
    message
}

#[tokio::test]
async fn every_refusal_under_mcp_is_a_json_rpc_error_that_says_what_to_do() {
    let http = HttpConfig { max_body_bytes: 64 * 1024, max_concurrency: 1, ..HttpConfig::default() };
    let (upstream, keyless) = setup(Options { http: Some(http.clone()), ..Options::default() }).await;
    let server = TestServer::start(&upstream.base_url(), Options { default_key: Some("k"), http: Some(http), ..Options::default() }).await;
    let base = format!("http://{}", server.addr);
    let init = initialize("2025-06-18");
    let list = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}).to_string();
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut headers = MCP_HEADERS.to_vec();
        headers.extend_from_slice(extra);
        headers
    };
    for path in ["/mcp", "/mcp/readonly", "/mcp/x/products", "/mcp/x/products/readonly"] {
        let url = format!("{base}{path}");
        let get = send_raw("GET", &url, &[("accept", "text/event-stream")], "").await;
        let message = assert_jsonrpc_error(&format!("GET {path}"), 405, &get);
        assert_eq!(get.1["allow"], "POST", "GET {path}");
        assert!(message.contains("POST"), "{message}");
        assert_jsonrpc_error(&format!("DELETE {path}"), 405, &send_raw("DELETE", &url, &[], "").await);
        let message = assert_jsonrpc_error(
            &format!("{path} Accept"),
            406,
            &send_raw("POST", &url, &[MCP_HEADERS[0], ("accept", "text/html")], &init).await,
        );
        assert!(message.contains("text/event-stream"), "{message}");
        let plain = [("content-type", "text/plain"), MCP_HEADERS[1]];
        let message = assert_jsonrpc_error(&format!("{path} Content-Type"), 415, &send_raw("POST", &url, &plain, &init).await);
        assert!(message.contains("application/json"), "{message}");
        let version = with(&[("mcp-protocol-version", "1999-01-01")]);
        let message = assert_jsonrpc_error(&format!("{path} version"), 400, &send_raw("POST", &url, &version, &list).await);
        assert!(message.contains("2025-11-25"), "the known versions are listed: {message}");
        let origin = with(&[("origin", "https://evil.example")]);
        let message = assert_jsonrpc_error(&format!("{path} Origin"), 403, &send_raw("POST", &url, &origin, &init).await);
        assert!(message.contains("--allowed-origin"), "{message}");
        let message =
            assert_jsonrpc_error(&format!("{path} Host"), 403, &send_raw("POST", &url, &with(&[("host", "evil.example")]), &init).await);
        assert!(message.contains("--allowed-host"), "{message}");
        let big = "x".repeat(100 * 1024);
        let message = assert_jsonrpc_error(&format!("{path} body"), 413, &send_raw("POST", &url, &MCP_HEADERS, &big).await);
        assert!(message.contains("65536"), "{message}");
        assert_jsonrpc_error(
            &format!("{path} no key"),
            401,
            &send_raw("POST", &keyless.url().replace("/mcp", path), &MCP_HEADERS, &init).await,
        );
    }
    assert_jsonrpc_error("bad narrowing", 400, &send_raw("POST", &format!("{base}/mcp/x/nonsense"), &MCP_HEADERS, &init).await);
    for path in ["/mcp/", "/mcp/nope", "/mcp/x/products/extra", "/mcp/readonly/x"] {
        let message =
            assert_jsonrpc_error(&format!("POST {path}"), 404, &send_raw("POST", &format!("{base}{path}"), &MCP_HEADERS, &init).await);
        assert!(message.contains("/mcp/x/{toolsets}"), "{message}");
    }
    // 503: the one slot is taken by a slow call.
    upstream.answer_with(Answer::Slow(Duration::from_millis(500)));
    let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "ping", "arguments": {}}}).to_string();
    let headers = with(&[("mcp-protocol-version", "2025-06-18")]);
    let url = server.url();
    let (slow_headers, slow_ping) = (headers.clone(), ping.clone());
    let slow = tokio::spawn(async move { send_raw("POST", &url, &slow_headers, &slow_ping).await.0 });
    tokio::time::sleep(Duration::from_millis(150)).await;
    let busy = send_raw("POST", &server.url(), &headers, &ping).await;
    assert_jsonrpc_error("busy", 503, &busy);
    assert_eq!(busy.1["retry-after"], "1");
    assert_eq!(slow.await.unwrap(), 200);
    // 429 under /mcp: tool-call rate limits are tool errors (see tests/ops.rs), so no
    // route here answers 429; `http::errors` unit tests show a plain 429 would be rewritten.
}

#[tokio::test]
async fn cors_preflight_and_answers_for_allowed_origins_only() {
    let http = HttpConfig { allowed_origins: vec!["https://app.example.com".into()], ..HttpConfig::default() };
    let (_upstream, server) = setup(Options { default_key: Some("k"), http: Some(http), ..Options::default() }).await;
    let base = format!("http://{}", server.addr);
    for origin in ["https://app.example.com", "http://127.0.0.1:5173"] {
        let preflight = [
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "content-type, mcp-protocol-version, Mcp-Param-Purchase_Id, x-mcp-toolsets, cookie"),
        ];
        let (status, headers, _) = send_raw("OPTIONS", &server.url(), &preflight, "").await;
        assert_eq!(status, 200, "{origin}");
        assert_eq!(headers["access-control-allow-origin"], origin);
        assert!(headers["vary"].to_str().unwrap().to_lowercase().contains("origin"));
        assert_eq!(headers["access-control-allow-methods"], "POST");
        let allowed = headers["access-control-allow-headers"].to_str().unwrap();
        for name in ["content-type", "mcp-protocol-version", "mcp-param-purchase_id", "x-mcp-toolsets"] {
            assert!(allowed.contains(name), "{name} in {allowed}");
        }
        assert!(!allowed.contains("cookie"), "only MCP headers are allowed: {allowed}");

        let mut actual = MCP_HEADERS.to_vec();
        actual.push(("origin", origin));
        let (status, headers, _) = send_raw("POST", &server.url(), &actual, &initialize("2025-06-18")).await;
        assert_eq!(status, 200);
        assert_eq!(headers["access-control-allow-origin"], origin);
        let exposed = headers["access-control-expose-headers"].to_str().unwrap();
        for name in ["www-authenticate", "x-request-id", "retry-after", "mcp-protocol-version"] {
            assert!(exposed.contains(name), "{name} in {exposed}");
        }
        // An error answer is readable by the page too.
        let (status, headers, _) = send_raw("GET", &server.url(), &[("origin", origin)], "").await;
        assert_eq!((status, headers["access-control-allow-origin"].to_str().unwrap()), (405, origin));

        let key_preflight = [("origin", origin), ("access-control-request-method", "GET")];
        let (status, headers, _) = send_raw("OPTIONS", &format!("{base}/test-api-key"), &key_preflight, "").await;
        assert_eq!(status, 200);
        assert_eq!(headers["access-control-allow-origin"], origin);
        assert_eq!(headers["access-control-allow-methods"], "GET,POST");
    }
    let evil = [("origin", "https://evil.example"), ("access-control-request-method", "POST")];
    for url in [server.url(), format!("{base}/mcp/readonly"), format!("{base}/test-api-key")] {
        let refused = send_raw("OPTIONS", &url, &evil, "").await;
        assert!(!refused.1.contains_key("access-control-allow-origin"), "{url}");
        assert_jsonrpc_error(&format!("preflight {url}"), 403, &refused);
    }
    let refused =
        send_raw("GET", &format!("{base}/test-api-key"), &[("origin", "https://evil.example"), ("authorization", "Bearer k")], "").await;
    assert_eq!(refused.0, 403);
}

#[tokio::test]
async fn health_and_test_api_key() {
    let (upstream, server) = setup(Options::default()).await;
    let base = format!("http://{}", server.addr);
    let health: Value = reqwest::get(format!("{base}/health")).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert!(health["uptime_seconds"].is_u64() && health["version"].is_string());

    let http = reqwest::Client::new();
    let ok = http.get(format!("{base}/test-api-key")).bearer_auth("123-good").send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json::<Value>().await.unwrap()["valid"], true);
    assert_eq!(upstream.last().function, "ping");
    assert_eq!(upstream.last().key.as_deref(), Some("123-good"));

    upstream.answer_with(Answer::Raw(200, r#"{"result":"error","code":2,"message":"Invalid API key"}"#));
    let bad = http.get(format!("{base}/test-api-key")).header("x-ds-api-key", "123-bad").send().await.unwrap();
    assert_eq!(bad.status(), 401);
    let body: Value = bad.json().await.unwrap();
    assert_eq!((body["valid"].clone(), body["code"].clone()), (json!(false), json!(2)));
}

#[tokio::test]
async fn malformed_json_batches_and_non_messages_are_json_rpc_errors() {
    let (upstream, server) = setup(Options { default_key: Some("k"), ..Options::default() }).await;
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("mcp-protocol-version", "2025-11-25"));
    for (body, status, code) in [
        (r#"{"jsonrpc": "2.0", "id": 1, "method": "tools/list", "#, 400, -32700),
        (r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#, 400, -32600),
        (r#"{"hello": "world"}"#, 400, -32600),
        (r#""just a string""#, 400, -32600),
    ] {
        let (got, response_headers, text_) = post_raw(&server.url(), &headers, body).await;
        assert_eq!(got, status, "{body}: {text_}");
        let answer: Value = serde_json::from_str(&text_).unwrap();
        assert_eq!(answer["error"]["code"], code, "{body}: {answer}");
        assert!(response_headers["content-type"].to_str().unwrap().starts_with("application/json"));
    }
    // Unknown method.
    let (_, _, text_) = post_raw(&server.url(), &headers, r#"{"jsonrpc":"2.0","id":5,"method":"no/such"}"#).await;
    let answer: Value = serde_json::from_str(&text_).unwrap();
    assert_eq!(answer["error"]["code"], -32601, "{answer}");
    assert!(upstream.requests().is_empty());
}
