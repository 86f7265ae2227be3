//! Safety with other people's money: narrowing per request, confirmation of
//! destructive calls (MRTR and elicitation), dry runs, caps, bounded answers.

mod common;

use common::{Answer, FakeUpstream, MCP_HEADERS, Options, TestServer, call, post_raw, text};
use digistore24_mcp::mcp::{ConfirmPolicy, Limits, ToolFilter};
use serde_json::{Value, json};

async fn setup(options: Options) -> (FakeUpstream, TestServer) {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), options).await;
    (upstream, server)
}

/// A stateless 2026-07-28 JSON-RPC request, as a modern client sends it.
async fn modern(url: &str, key: &str, method: &str, params: Value, elicitation: bool) -> Value {
    let mut params = params;
    let caps = if elicitation { json!({"elicitation": {"form": {}}}) } else { json!({}) };
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
        "io.modelcontextprotocol/clientInfo": {"name": "raw-test", "version": "0"},
    });
    let name = params["name"].as_str().unwrap_or_default().to_owned();
    let body = json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string();
    let auth = format!("Bearer {key}");
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("mcp-protocol-version", "2026-07-28"));
    headers.push(("mcp-method", method));
    headers.push(("mcp-name", &name));
    headers.push(("authorization", &auth));
    let (status, _, body) = post_raw(url, &headers, &body).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

async fn list_names(url: &str, extra: &[(&str, &str)]) -> (u16, Vec<String>) {
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("mcp-protocol-version", "2025-06-18"));
    headers.extend_from_slice(extra);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}).to_string();
    let (status, _, body) = post_raw(url, &headers, &body).await;
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let names =
        body["result"]["tools"].as_array().map(|t| t.iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()).unwrap_or_default();
    (status, names)
}

#[tokio::test]
async fn narrowing_by_header_and_path_only_removes_tools() {
    let operator = ToolFilter { toolsets: Some(["purchases".into(), "products".into()].into()), ..ToolFilter::default() };
    let (_upstream, server) = setup(Options { filter: operator, default_key: Some("k"), ..Options::default() }).await;
    let base = format!("http://{}", server.addr);
    let (_, all) = list_names(&server.url(), &[]).await;
    assert!(all.contains(&"refundPurchase".to_string()) && all.contains(&"listProducts".to_string()));
    assert!(!all.contains(&"listVouchers".to_string()));

    let (_, ro) = list_names(&server.url(), &[("x-mcp-readonly", "true")]).await;
    assert!(ro.contains(&"listPurchases".to_string()) && !ro.contains(&"refundPurchase".to_string()));
    let (_, ro_path) = list_names(&format!("{base}/mcp/readonly"), &[]).await;
    assert_eq!(ro, ro_path);

    let (_, products) = list_names(&format!("{base}/mcp/x/products"), &[]).await;
    assert!(products.contains(&"listProducts".to_string()) && !products.contains(&"listPurchases".to_string()));
    let (_, products_ro) = list_names(&format!("{base}/mcp/x/products/readonly"), &[]).await;
    assert!(products_ro.contains(&"listProducts".to_string()) && !products_ro.contains(&"deleteProduct".to_string()));

    let (_, two) = list_names(&server.url(), &[("x-mcp-tools", "listPurchases,getPurchase")]).await;
    assert_eq!(two, vec!["getPurchase", "listPurchases"]);

    // A header can never bring back what the operator left out.
    let (_, widened) = list_names(&server.url(), &[("x-mcp-toolsets", "vouchers,products")]).await;
    assert!(!widened.iter().any(|t| t.contains("Voucher")), "{widened:?}");
    assert!(widened.contains(&"listProducts".to_string()));
    let (_, widened) = list_names(&server.url(), &[("x-mcp-tools", "listVouchers")]).await;
    assert!(widened.is_empty(), "{widened:?}");

    let (status, _) = list_names(&server.url(), &[("x-mcp-toolsets", "nonsense")]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn narrowing_applies_to_calls_too() {
    let (upstream, server) = setup(Options::default()).await;
    let base = format!("http://{}", server.addr);
    let call_body = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "refundPurchase", "arguments": {"purchase_id": "A1"}}}).to_string();
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("mcp-protocol-version", "2025-06-18"));
    headers.push(("authorization", "Bearer k"));
    let (_, _, body) = post_raw(&format!("{base}/mcp/readonly"), &headers, &call_body).await;
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["result"]["isError"], true);
    assert!(body["result"]["content"][0]["text"].as_str().unwrap().contains("/readonly"), "{body}");
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn dry_run_shows_the_exact_request_and_sends_nothing() {
    let (upstream, server) = setup(Options { confirm: ConfirmPolicy::Destructive, ..Options::default() }).await;
    let client = server.client(Some("123-secret-dry")).await;
    let result = call(&client, "refundPartially", json!({"purchase_id": "ABC123", "amount": "10.00", "dry_run": true})).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    let preview = result.structured_content.unwrap();
    assert_eq!(preview["sent"], false);
    assert_eq!(preview["request"]["url"], format!("{}/refundPartially", upstream.base_url()));
    assert_eq!(preview["request"]["body"], "purchase_id=ABC123&amount=10.00");
    assert_eq!(preview["request"]["fields"], json!([["purchase_id", "ABC123"], ["amount", "10.00"]]));
    assert!(preview["would"].as_str().unwrap().contains("Refund 10.00"));
    assert!(!preview.to_string().contains("123-secret-dry"), "key leaked into the preview");
    assert!(upstream.requests().is_empty(), "a dry run reached the upstream");
    // Writes take it too (the instructions say so), even where the schema does not list it.
    let write = call(&client, "createVoucher", json!({"data": {"code": "X"}, "dry_run": true})).await;
    assert_eq!(write.structured_content.unwrap()["request"]["body"], "data%5Bcode%5D=X");
    assert!(upstream.requests().is_empty());
    // Reads take no dry_run: it is an unknown argument there.
    let read = call(&client, "listProducts", json!({"dry_run": true})).await;
    assert_eq!(read.is_error, Some(true));
}

#[tokio::test]
async fn money_caps_and_product_allow_list_are_checked_before_sending() {
    let limits = Limits {
        max_refund: Some("50".parse().unwrap()),
        max_charge: Some("100".parse().unwrap()),
        allowed_product_ids: Some(["1".into()].into()),
    };
    let (upstream, server) = setup(Options { limits, ..Options::default() }).await;
    let client = server.client(Some("k")).await;
    let over = call(&client, "refundPartially", json!({"purchase_id": "A", "amount": "50.01"})).await;
    assert_eq!(over.is_error, Some(true));
    assert!(text(&over).contains("--max-refund-amount 50"), "{}", text(&over));
    let product = call(&client, "updateProduct", json!({"product_id": 2, "data": {"name_intern": "x"}})).await;
    assert!(text(&product).contains("--allow-product-ids"), "{}", text(&product));
    assert!(upstream.requests().is_empty());
    let within = call(&client, "refundPartially", json!({"purchase_id": "A", "amount": "50.00"})).await;
    assert_eq!(within.is_error, Some(false), "{}", text(&within));
    // A full refund is checked against the order's amount, looked up first.
    upstream.clear();
    upstream.answer_with(Answer::Raw(200, r#"{"result":"success","data":{"id":"A","amount":"99.00","currency":"EUR"}}"#));
    let full = call(&client, "refundPurchase", json!({"purchase_id": "A"})).await;
    assert!(text(&full).contains("99.00"), "{}", text(&full));
    let functions: Vec<String> = upstream.requests().into_iter().map(|r| r.function).collect();
    assert_eq!(functions, vec!["getPurchase"], "only the lookup may go out");
}

#[tokio::test]
async fn large_answers_are_cut_and_say_how_to_get_the_rest() {
    let (upstream, server) = setup(Options { max_result_bytes: Some(4096), ..Options::default() }).await;
    let list: Vec<Value> = (0..200).map(|i| json!({"id": format!("P{i}"), "amount": "9.00"})).collect();
    let body: &'static str = Box::leak(json!({"result": "success", "data": {"purchase_list": list}}).to_string().into_boxed_str());
    upstream.answer_with(Answer::Raw(200, body));
    let client = server.client(Some("k")).await;
    let result = call(&client, "listPurchases", json!({"page_size": 200})).await;
    let data = result.structured_content.unwrap();
    let shown = data["purchase_list"].as_array().unwrap().len();
    assert!(shown > 0 && shown < 200);
    assert_eq!(data["_truncated"]["records_left_out"], 200 - shown);
    // The hint continues on the same page where the cut was, not on page 2.
    assert_eq!(data["_truncated"]["next_arguments"], json!({"page_size": 200, "skip": shown}));
    assert!(serde_json::to_string(&data).unwrap().len() <= 4096);
    // The continuation is served from the same upstream page and sends no `skip` upstream.
    let rest = call(&client, "listPurchases", data["_truncated"]["next_arguments"].clone()).await;
    let rest = rest.structured_content.unwrap();
    assert_eq!(rest["purchase_list"][0]["id"], format!("P{shown}"), "the first record left out comes first");
    assert!(upstream.requests().iter().all(|r| !r.body.contains("skip")));
}

fn refund_call(extra: Value) -> Value {
    let mut params = json!({"name": "refundPurchase", "arguments": {"purchase_id": "ABC123"}});
    if let Value::Object(extra) = extra {
        params.as_object_mut().unwrap().extend(extra);
    }
    params
}

fn accept() -> Value {
    json!({"confirm": {"action": "accept", "content": {"confirm": true}}})
}

#[tokio::test]
async fn mrtr_confirmation_accept_decline_and_forgeries() {
    let secret = b"shared-secret-of-all-replicas-000".to_vec();
    let options = Options { confirm: ConfirmPolicy::Destructive, state_secret: Some(secret.clone()), ..Options::default() };
    let upstream = FakeUpstream::start().await;
    upstream.answer_with(Answer::Raw(
        200,
        r#"{"result":"success","data":{"id":"ABC123","amount":"49.00","currency":"EUR","buyer":{"email":"jane@example.com"}}}"#,
    ));
    let replica_a = TestServer::start(&upstream.base_url(), options.clone()).await;
    let replica_b = TestServer::start(&upstream.base_url(), options.clone()).await;
    let other_secret =
        TestServer::start(&upstream.base_url(), Options { state_secret: Some(b"another-secret-entirely-0000000000".to_vec()), ..options })
            .await;

    // 1. First round: input required, with the exact effect in plain words.
    let first = modern(&replica_a.url(), "key-a", "tools/call", refund_call(json!({})), true).await;
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    let message = result["inputRequests"]["confirm"]["params"]["message"].as_str().unwrap();
    assert!(message.contains("Refund order ABC123 in full, 49.00 EUR, to jane@example.com"), "{message}");
    let state = result["requestState"].as_str().unwrap().to_owned();
    let sent = |u: &FakeUpstream| u.requests().iter().filter(|r| r.function == "refundPurchase").count();
    assert_eq!(sent(&upstream), 0);

    // 2. Declined: nothing sent.
    let declined = modern(
        &replica_a.url(),
        "key-a",
        "tools/call",
        refund_call(json!({"requestState": state, "inputResponses": {"confirm": {"action": "decline"}}})),
        true,
    )
    .await;
    assert_eq!(declined["result"]["isError"], true);
    assert_eq!(sent(&upstream), 0);

    // 3. Forgeries: tampered state, other key, other arguments, other secret.
    let mut tampered = state.clone();
    tampered.insert(tampered.len() / 2, 'x');
    for (url, key, params) in [
        (replica_a.url(), "key-a", refund_call(json!({"requestState": tampered, "inputResponses": accept()}))),
        (replica_a.url(), "key-b", refund_call(json!({"requestState": state, "inputResponses": accept()}))),
        (
            replica_a.url(),
            "key-a",
            json!({"name": "refundPurchase", "arguments": {"purchase_id": "OTHER9"}, "requestState": state, "inputResponses": accept()}),
        ),
        (other_secret.url(), "key-a", refund_call(json!({"requestState": state, "inputResponses": accept()}))),
    ] {
        let answer = modern(&url, key, "tools/call", params, true).await;
        assert_eq!(answer["result"]["isError"], true, "{answer}");
        assert!(answer["result"]["content"][0]["text"].as_str().unwrap().contains("expired or does not match"), "{answer}");
    }
    assert_eq!(sent(&upstream), 0, "no forged confirmation may reach Digistore24");

    // 4. Accepted on another replica (same secret): sent exactly once.
    let done =
        modern(&replica_b.url(), "key-a", "tools/call", refund_call(json!({"requestState": state, "inputResponses": accept()})), true)
            .await;
    assert_eq!(done["result"]["isError"], false, "{done}");
    assert_eq!(sent(&upstream), 1);
    assert_eq!(upstream.requests().last().unwrap().key.as_deref(), Some("key-a"));
}

#[tokio::test]
async fn clients_that_cannot_be_asked_are_refused_with_a_reason() {
    let (upstream, server) = setup(Options { confirm: ConfirmPolicy::Destructive, default_key: Some("k"), ..Options::default() }).await;
    // A 2026-07-28 client without elicitation.
    let answer = modern(&server.url(), "k", "tools/call", refund_call(json!({})), false).await;
    assert_eq!(answer["result"]["isError"], true);
    let text_ = answer["result"]["content"][0]["text"].as_str().unwrap();
    assert!(text_.contains("--confirm off") && text_.contains("not sent"), "{text_}");
    // A legacy client over stateless HTTP.
    let client = server.client(Some("k")).await;
    let result = call(&client, "stopRebilling", json!({"purchase_id": "A1"})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("not sent"));
    assert!(!upstream.requests().iter().any(|r| r.function == "stopRebilling" || r.function == "refundPurchase"));
    // Writes that are not destructive pass under the default policy.
    let write = call(&client, "createVoucher", json!({"data": {"code": "X"}})).await;
    assert_eq!(write.is_error, Some(false), "{}", text(&write));
}

#[tokio::test]
async fn expired_confirmation_is_refused() {
    let ttl = std::time::Duration::from_millis(300);
    let (upstream, server) =
        setup(Options { confirm: ConfirmPolicy::Destructive, confirmation_ttl: Some(ttl), ..Options::default() }).await;
    let first = modern(&server.url(), "key-a", "tools/call", refund_call(json!({})), true).await;
    let state = first["result"]["requestState"].as_str().unwrap().to_owned();
    tokio::time::sleep(ttl * 2).await;
    let answer =
        modern(&server.url(), "key-a", "tools/call", refund_call(json!({"requestState": state, "inputResponses": accept()})), true).await;
    assert_eq!(answer["result"]["isError"], true, "{answer}");
    assert!(!upstream.requests().iter().any(|r| r.function == "refundPurchase"));
}

/// A stdio client that answers every elicitation with `accept` (or declines).
#[derive(Clone)]
struct Answering {
    accept: bool,
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl rmcp::ClientHandler for Answering {
    fn get_info(&self) -> rmcp::model::ClientConfig {
        rmcp::model::ClientConfig::new(
            rmcp::model::ClientCapabilities::builder().enable_elicitation().build(),
            rmcp::model::Implementation::new("answering-test-client", "0"),
        )
    }

    async fn create_elicitation(
        &self,
        request: rmcp::model::ElicitRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::ElicitResult, rmcp::ErrorData> {
        if let rmcp::model::ElicitRequestParams::FormElicitationParams { message, .. } = request {
            self.asked.lock().unwrap().push(message);
        }
        Ok(if self.accept {
            rmcp::model::ElicitResult::new(rmcp::model::ElicitationAction::Accept).with_content(json!({"confirm": true}))
        } else {
            rmcp::model::ElicitResult::new(rmcp::model::ElicitationAction::Decline)
        })
    }
}

#[tokio::test]
async fn stdio_clients_are_asked_through_elicitation() {
    use rmcp::ServiceExt;
    use rmcp::transport::TokioChildProcess;
    for accept in [false, true] {
        let upstream = FakeUpstream::start().await;
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_digistore24-mcp"));
        command.arg("stdio").env("DS24_API_KEY", "k").env("DS24_API_BASE_URL", upstream.base_url()).env("RUST_LOG", "warn");
        let handler = Answering { accept, asked: Default::default() };
        let client = handler.clone().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
        let result = call(&client, "stopRebilling", json!({"purchase_id": "ABC123"})).await;
        let asked = handler.asked.lock().unwrap().clone();
        assert_eq!(asked, vec!["Please confirm: Stop the subscription payments of order ABC123."]);
        let stops = upstream.requests().iter().filter(|r| r.function == "stopRebilling").count();
        if accept {
            assert_eq!(result.is_error, Some(false), "{}", text(&result));
            assert_eq!(stops, 1);
        } else {
            assert_eq!(result.is_error, Some(true));
            assert!(text(&result).contains("did not confirm"));
            assert_eq!(stops, 0, "a declined call sends nothing");
        }
        client.cancel().await.unwrap();
    }
}
