//! The token bound: no answer is over `--max-result-tokens` (cl100k), and a
//! cut answer goes on without a gap, exactly as under the byte bound.

mod common;

use common::sandbox::Sandbox;
use common::{Options, TestServer};
use digistore24_mcp::mcp::DEFAULT_MAX_RESULT_TOKENS;
use digistore24_mcp::sandbox::{READONLY_KEY, SandboxConfig};
use serde_json::json;
use std::collections::HashSet;

#[tokio::test]
async fn no_answer_is_over_the_token_bound_and_following_the_hints_misses_nothing() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let base = format!("{}/api/call", sandbox.base);
    let bpe = tiktoken_rs::cl100k_base().unwrap();
    for max_tokens in [3_000, DEFAULT_MAX_RESULT_TOKENS] {
        // The byte bound far away: only tokens cut.
        let options = Options { max_result_bytes: Some(4 << 20), max_result_tokens: Some(max_tokens), ..Options::default() };
        let server = TestServer::start(&base, options).await;
        let client = server.client(Some(READONLY_KEY)).await;
        let mut arguments = json!({"from": "start", "page_size": 500, "fields": ["*"]});
        let (mut seen, mut cuts, mut item_count) = (HashSet::new(), 0, None);
        for _ in 0..500 {
            let result = common::call(&client, "listPurchases", arguments.clone()).await;
            let tokens = bpe.encode_with_special_tokens(&common::text(&result)).len();
            assert!(tokens <= max_tokens, "{tokens} tokens over the bound of {max_tokens}");
            let data = result.structured_content.unwrap();
            item_count = item_count.or_else(|| data["item_count"].as_u64());
            for purchase in data["purchase_list"].as_array().unwrap() {
                assert!(seen.insert(purchase["id"].as_str().unwrap().to_owned()), "listed twice");
            }
            let next = match data.get("_truncated") {
                Some(cut) => {
                    cuts += 1;
                    assert_eq!(cut["max_result_tokens"], max_tokens);
                    cut["next_arguments"].clone()
                }
                None => data["_paging"]["next_arguments"].clone(),
            };
            if !next.is_object() {
                break;
            }
            assert_eq!(next["fields"], json!(["*"]), "continuations keep the fields");
            arguments = next;
        }
        assert!(cuts > 0, "pages of 500 full purchases are over {max_tokens} tokens");
        assert_eq!(Some(seen.len() as u64), item_count, "bound {max_tokens}: every purchase once");
    }
}
