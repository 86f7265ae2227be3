//! Resources: the account, the catalogue, one record by id and the guides,
//! each read through the tool-call pipeline (operator filter, key, fields, metrics).

mod common;

use common::sandbox::Sandbox;
use common::{Options, TestServer};
use digistore24_mcp::mcp::{GUIDES, ToolFilter};
use digistore24_mcp::sandbox::{READONLY_KEY, SandboxConfig};
use rmcp::model::{CacheScope, ProtocolVersion, ReadResourceRequestParams, ResourceContents};
use serde_json::{Value, json};

async fn start(sandbox: &Sandbox, options: Options) -> TestServer {
    TestServer::start(&format!("{}/api/call", sandbox.base), options).await
}

fn text(contents: &ResourceContents) -> (String, Option<String>) {
    match contents {
        ResourceContents::TextResourceContents { text, mime_type, .. } => (text.clone(), mime_type.clone()),
        other => panic!("not text: {other:?}"),
    }
}

#[tokio::test]
async fn every_listed_resource_reads_and_templates_fill_in_ids() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = start(&sandbox, Options::default()).await;
    let client = server.client(Some(READONLY_KEY)).await;
    let listed = client.list_all_resources().await.unwrap();
    assert!(listed.len() >= 2 + GUIDES.len(), "{listed:?}");
    for resource in &listed {
        let read = client.read_resource(ReadResourceRequestParams::new(resource.uri.clone())).await.unwrap();
        let (body, mime) = text(&read.contents[0]);
        assert!(!body.is_empty(), "{}", resource.uri);
        assert_eq!(mime, resource.mime_type, "{}", resource.uri);
    }
    let read = |uri: String| {
        let client = &client;
        async move {
            let read = client.read_resource(ReadResourceRequestParams::new(uri)).await.unwrap();
            serde_json::from_str::<Value>(&text(&read.contents[0]).0).unwrap()
        }
    };
    let unhinted = client.read_resource(ReadResourceRequestParams::new("digistore24://account")).await.unwrap();
    assert_eq!((unhinted.ttl_ms, unhinted.cache_scope), (None, None), "2025-11-25 has no caching hints");
    let account = read("digistore24://account".into()).await;
    assert_eq!(account["getUserInfo"]["api_key_permissions"], "readonly", "who the key is and what it may do");
    assert!(account["getGlobalSettings"].is_object());
    let products = read("digistore24://products".into()).await;
    assert!(products["_fields"]["left_out"].is_array(), "the catalogue, compact: {products}");
    let product_id = products["products"][0]["id"].as_str().unwrap().to_owned();
    let product = read(format!("digistore24://products/{product_id}")).await;
    assert_eq!(product["product"]["id"], product_id.as_str());
    let purchases = common::call(&client, "listPurchases", json!({"from": "-30d"})).await.structured_content.unwrap();
    let purchase = &purchases["purchase_list"][0];
    let read_purchase = read(format!("digistore24://purchases/{}", purchase["id"].as_str().unwrap())).await;
    assert_eq!(read_purchase["id"], purchase["id"]);
    assert!(read_purchase["buyer"].is_object(), "a get answer in full");
    let templates = client.list_all_resource_templates().await.unwrap();
    let buyer_id = read_purchase["buyer"]["id"].as_str().unwrap();
    assert!(templates.iter().any(|t| t.uri_template == "digistore24://buyers/{buyer_id}"));
    assert_eq!(read(format!("digistore24://buyers/{buyer_id}")).await["buyer"]["id"], buyer_id);
}

#[tokio::test]
async fn on_2026_07_28_reads_of_account_data_are_private_and_guides_public() {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    use rmcp::{ClientLifecycleMode, ClientServiceExt};
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = start(&sandbox, Options::default()).await;
    let config = StreamableHttpClientTransportConfig::with_uri(server.url()).auth_header(READONLY_KEY);
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
    let client = ().serve_with_lifecycle(StreamableHttpClientTransport::from_config(config), lifecycle).await.unwrap();
    let account = client.read_resource(ReadResourceRequestParams::new("digistore24://account")).await.unwrap();
    assert_eq!((account.ttl_ms, account.cache_scope), (Some(60_000), Some(CacheScope::Private)), "a minute, this client only");
    let guide = client.read_resource(ReadResourceRequestParams::new("digistore24://guide/paging")).await.unwrap();
    assert_eq!(guide.cache_scope, Some(CacheScope::Public));
    let listed = client.list_resources(None).await.unwrap();
    assert!(listed.ttl_ms.is_some() && listed.cache_scope.is_some());
    let prompts = client.list_prompts(None).await.unwrap();
    assert!(prompts.ttl_ms.is_some() && prompts.cache_scope.is_some());
}

#[tokio::test]
async fn unknown_resources_are_invalid_params_with_the_uri() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = start(&sandbox, Options::default()).await;
    let body = |uri: &str| json!({"jsonrpc": "2.0", "id": 1, "method": "resources/read", "params": {"uri": uri}}).to_string();
    let headers = [common::MCP_HEADERS[0], common::MCP_HEADERS[1], ("authorization", "Bearer sandbox-readonly")];
    for uri in ["digistore24://nothing", "digistore24://purchases/NOPE1234", "digistore24://guide/nonsense", "file:///etc/passwd"] {
        let (status, _, text) = common::post_raw(&server.url(), &headers, &body(uri)).await;
        let answer: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"));
        assert_eq!(answer["error"]["code"], -32602, "{uri}: {answer}");
        assert_eq!(answer["error"]["data"]["uri"], uri, "{uri}: {answer}");
    }
}

#[tokio::test]
async fn reads_go_through_the_pipeline_and_its_filter() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    // An operator without the purchases toolset: the template exists, the read is refused.
    let filter = ToolFilter::parse(Some(["products", "account", "system"]), None::<[&str; 0]>, false).unwrap();
    let server = start(&sandbox, Options { filter, ..Options::default() }).await;
    let client = server.client(Some(READONLY_KEY)).await;
    let refused = client.read_resource(ReadResourceRequestParams::new("digistore24://purchases/ABC")).await.unwrap_err();
    assert!(refused.to_string().contains("not enabled"), "{refused}");
    let account = client.read_resource(ReadResourceRequestParams::new("digistore24://account")).await.unwrap();
    assert!(text(&account.contents[0]).0.contains("api_key_permissions"), "the toolsets it needs are enabled");
    let guide = client.read_resource(ReadResourceRequestParams::new("digistore24://guide/amounts")).await.unwrap();
    assert!(text(&guide.contents[0]).0.contains("per currency"));
}
