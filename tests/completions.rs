//! `completion/complete`: prompt arguments and template variables complete
//! from the caller's own account (bounded, prefix-matched, cached briefly
//! per key) or from fixed lists.

mod common;

use common::sandbox::Sandbox;
use common::{Options, TestServer};
use digistore24_mcp::sandbox::{READONLY_KEY, SandboxConfig, WRITABLE_KEY};
use serde_json::json;

#[tokio::test]
async fn arguments_complete_from_the_callers_account() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = TestServer::start(&format!("{}/api/call", sandbox.base), Options::default()).await;
    let client = server.client(Some(READONLY_KEY)).await;
    let products = common::call(&client, "listProducts", json!({})).await.structured_content.unwrap();
    let first = products["products"][0].clone();
    let all = client.complete_resource_argument("digistore24://products/{product_id}", "product_id", "", None).await.unwrap();
    assert_eq!(all.values.len(), products["products"].as_array().unwrap().len(), "every product id");
    assert_eq!(all.has_more, Some(false));
    let by_name = first["name"].as_str().unwrap()[..5].to_lowercase();
    let named = client.complete_prompt_argument("voucher_campaign", "product_ids", &by_name, None).await.unwrap();
    assert!(named.values.contains(&first["id"].as_str().unwrap().to_owned()), "names match too: {named:?}");
    let emails = client.complete_prompt_argument("customer_lookup", "email", "paul", None).await.unwrap();
    assert!(!emails.values.is_empty() && emails.values.iter().all(|e| e.starts_with("paul")), "{emails:?}");
    assert!(emails.values.len() <= 100);
    let purchases = client.complete_resource_argument("digistore24://purchases/{purchase_id}", "purchase_id", "", None).await.unwrap();
    assert_eq!(purchases.values.len(), 100, "at most 100");
    assert_eq!(purchases.has_more, Some(true));
    assert!(purchases.total.unwrap() > 100);
    let topics = client.complete_resource_argument("digistore24://guide/{topic}", "topic", "pa", None).await.unwrap();
    assert_eq!(topics.values, vec!["paging".to_owned()]);
    let events = client.complete_prompt_argument("watch_sales", "event", "on_re", None).await.unwrap();
    assert_eq!(events.values, vec!["on_refund".to_owned(), "on_rebill_cancelled".to_owned(), "on_rebill_resumed".to_owned()]);
    let unknown = client.complete_prompt_argument("test_prompt_with_arguments", "arg1", "x", None).await.unwrap();
    assert!(unknown.values.is_empty(), "unknown prompts get no suggestions, not an error");
}

#[tokio::test]
async fn account_lists_are_cached_briefly_per_key() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = TestServer::start(&format!("{}/api/call", sandbox.base), Options::default()).await;
    let writer = server.client(Some(WRITABLE_KEY)).await;
    let template = "digistore24://products/{product_id}";
    let before = writer.complete_resource_argument(template, "product_id", "", None).await.unwrap();
    let created = common::call(&writer, "createProduct", json!({"data": {"name": "Completion cache probe"}})).await;
    assert_eq!(created.is_error, Some(false), "{}", common::text(&created));
    let new_id = created.structured_content.unwrap()["product_id"].to_string().trim_matches('"').to_owned();
    let again = writer.complete_resource_argument(template, "product_id", "", None).await.unwrap();
    assert_eq!(before, again, "within a minute the same key's list comes from the cache");
    assert!(!again.values.contains(&new_id));
    // The read-only key of the same sandbox account has its own entry, fetched now.
    let reader = server.client(Some(READONLY_KEY)).await;
    let theirs = reader.complete_resource_argument(template, "product_id", "", None).await.unwrap();
    assert!(theirs.values.contains(&new_id), "{new_id} in {theirs:?}");
}
