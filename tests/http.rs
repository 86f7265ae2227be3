//! The HTTP front and the MCP handler end to end: keys and tenants, error
//! mapping, protocol versions, limits, service endpoints.

mod common;

use common::{Answer, FakeUpstream, MCP_HEADERS, Options, TestServer, call, post_raw, text};
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
    assert_eq!(client.list_all_tools().await.unwrap().len(), 123);
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
    assert_ne!(response.status().as_u16(), 200, "a foreign Host must be refused");
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
