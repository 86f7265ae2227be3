//! Long lists without gaps: an agent that starts at page 1 and always calls
//! `_truncated.next_arguments` when an answer was cut (else
//! `_paging.next_arguments`) sees every record exactly once, whatever the
//! page size and the answer-size bound.

mod common;

use common::sandbox::Sandbox;
use common::{Options, TestServer};
use digistore24_mcp::sandbox::{SandboxConfig, WRITABLE_KEY};
use serde_json::{Value, json};
use std::collections::HashSet;

#[tokio::test]
async fn following_the_hints_lists_every_purchase_exactly_once() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let base = format!("{}/api/call", sandbox.base);
    for max_result_bytes in [8 * 1024, 20 * 1024, digistore24_mcp::mcp::DEFAULT_MAX_RESULT_BYTES] {
        let server = TestServer::start(&base, Options { max_result_bytes: Some(max_result_bytes), ..Options::default() }).await;
        let client = server.client(Some(WRITABLE_KEY)).await;
        for page_size in [50, 100, 500] {
            let mut arguments = json!({"from": "start", "page_size": page_size, "page_no": 1});
            let (mut seen, mut order, mut cuts, mut item_count) = (HashSet::new(), 0usize, 0, None);
            for _ in 0..1000 {
                let data = common::call(&client, "listPurchases", arguments.clone()).await.structured_content.expect("data");
                item_count = item_count.or_else(|| data["item_count"].as_u64());
                for purchase in data["purchase_list"].as_array().expect("a list") {
                    let id = purchase["id"].as_str().expect("an id").to_owned();
                    assert!(seen.insert(id.clone()), "{id} listed twice (page_size {page_size}, bound {max_result_bytes})");
                    order += 1;
                }
                let next = match data.get("_truncated") {
                    Some(cut) => {
                        cuts += 1;
                        &cut["next_arguments"]
                    }
                    None => &data["_paging"]["next_arguments"],
                };
                match next {
                    Value::Object(_) => arguments = next.clone(),
                    _ => break,
                }
            }
            let item_count = item_count.expect("the sandbox says how many purchases there are") as usize;
            assert!(item_count >= 300, "{item_count}");
            assert_eq!(seen.len(), item_count, "page_size {page_size}, bound {max_result_bytes}: every record once");
            assert_eq!(order, item_count);
            if max_result_bytes == 8 * 1024 {
                assert!(cuts > 0, "an 8 KiB bound must cut pages of {page_size}");
            }
        }
    }
}
