//! Scripted assistant sessions: for each prompt, the calls its message tells
//! an assistant to make, run on the sandbox through the official client.
//! Each session must answer the prompt's question, and the test prints the
//! cl100k tokens of all its answers with the prompt's `fields` (and the
//! lists' compact defaults) against the same calls with `fields: ["*"]`.
//! `tests/clients/python_sessions.py` runs the same scripts through the
//! official Python SDK (run.sh, group python): change both together.

mod common;

use common::sandbox::Sandbox;
use common::{Options, TestServer};
use digistore24_mcp::sandbox::{SandboxConfig, WRITABLE_KEY};
use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde_json::{Value, json};

/// One session's calls in order; `fields` as the prompt asks for them.
fn script(prompt: &str, email: &str, purchase_id: &str) -> Vec<(&'static str, Value)> {
    match prompt {
        "sales_report" => vec![
            ("listTransactions", json!({"from": "-30d", "to": "now"})),
            (
                "listPurchases",
                json!({"from": "-30d", "to": "now", "search": {"order_type": "live"},
                       "fields": ["id", "product_id", "product_name", "amount", "currency", "affiliate_name", "created_at"]}),
            ),
        ],
        "customer_lookup" => vec![
            ("listPurchasesOfEmail", json!({"email": email})),
            (
                "getPurchase",
                json!({"purchase_id": purchase_id, "fields": ["id", "created_at", "product_name", "amount", "currency",
                       "billing_status", "refund_status", "next_payment_at", "rebilling_active", "transaction_list"]}),
            ),
            ("listTransactions", json!({"from": "start", "search": {"email": email}})),
        ],
        "refund_order" => vec![
            (
                "getPurchase",
                json!({"purchase_id": purchase_id, "fields": ["id", "created_at", "buyer_email", "amount", "currency",
                       "order_type", "refund_status", "billing_type", "rebilling_active"]}),
            ),
            ("refundPurchase", json!({"purchase_id": purchase_id, "dry_run": true})),
        ],
        "voucher_campaign" => vec![
            ("listProducts", json!({})),
            ("createVoucher", json!({"data": {"code": "SESSION25", "product_ids": "all", "first_rate": "25"}, "dry_run": true})),
        ],
        "failed_rebills" => vec![
            ("listRebillingStatusChanges", json!({"from": "-30d"})),
            (
                "listPurchases",
                json!({"from": "start", "search": {"billing_type": "subscription"},
                       "fields": ["id", "buyer_email", "product_name", "amount", "currency", "billing_status",
                                  "rebilling_active", "next_payment_at", "rebill_stop_noted_at"]}),
            ),
        ],
        other => panic!("no script for {other}"),
    }
}

/// Runs the calls, following every continuation; the answers and their tokens.
async fn run(client: &RunningService<RoleClient, ()>, calls: &[(&str, Value)], all_fields: bool) -> (Vec<Value>, usize) {
    let bpe = tiktoken_rs::cl100k_base().unwrap();
    let (mut answers, mut tokens) = (Vec::new(), 0);
    for (tool, arguments) in calls {
        let mut arguments = arguments.clone();
        let reads = digistore24_mcp::catalog::lookup(tool).unwrap().effect.is_read();
        if all_fields && reads {
            arguments["fields"] = json!(["*"]);
        }
        for _ in 0..50 {
            let result = common::call(client, tool, arguments.clone()).await;
            assert_eq!(result.is_error, Some(false), "{tool}: {}", common::text(&result));
            tokens += bpe.encode_with_special_tokens(&common::text(&result)).len();
            let data = result.structured_content.unwrap();
            let next =
                data.get("_truncated").map(|t| t["next_arguments"].clone()).unwrap_or_else(|| data["_paging"]["next_arguments"].clone());
            answers.push(data);
            if !next.is_object() {
                break;
            }
            arguments = next;
        }
    }
    (answers, tokens)
}

#[tokio::test]
async fn every_prompt_is_answered_and_fields_make_the_answers_smaller() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = TestServer::start(&format!("{}/api/call", sandbox.base), Options::default()).await;
    let client = server.client(Some(WRITABLE_KEY)).await;
    let recent =
        common::call(&client, "listPurchases", json!({"from": "-90d", "search": {"order_type": "live", "billing_type": "single_payment"}}))
            .await
            .structured_content
            .unwrap();
    let order =
        recent["purchase_list"].as_array().unwrap().iter().find(|p| p["refund_status"] != "refunded").expect("an unrefunded order").clone();
    let (email, purchase_id) = (order["buyer_email"].as_str().unwrap(), order["id"].as_str().unwrap());
    for prompt in ["sales_report", "customer_lookup", "refund_order", "voucher_campaign", "failed_rebills"] {
        let calls = script(prompt, email, purchase_id);
        let (everything, before) = run(&client, &calls, true).await;
        let (answers, after) = run(&client, &calls, false).await;
        println!(
            "{prompt}: {} calls ({} answers), {before} tokens with fields [\"*\"], {after} tokens as the prompt asks ({:.2})",
            calls.len(),
            answers.len(),
            after as f64 / before as f64
        );
        assert!(after < before, "{prompt}: fields make the answers smaller");
        assert!(answers.len() <= everything.len(), "{prompt}: no more answers than without fields");
        let first = &answers[0];
        match prompt {
            "sales_report" => assert!(first["summary"]["amounts"].is_object(), "totals per currency: {first}"),
            "customer_lookup" => {
                assert!(first.to_string().contains(purchase_id), "the customer's orders");
                assert_eq!(answers[1]["id"], purchase_id);
                assert!(answers[1]["transaction_list"].is_array(), "payments and refunds of the order");
            }
            "refund_order" => {
                assert_eq!((first["amount"].is_string(), first["currency"].is_string()), (true, true), "amount with currency: {first}");
                assert_eq!(answers[1]["sent"], false, "a dry run sends nothing");
            }
            "voucher_campaign" => {
                assert!(first["products"][0]["is_active"].is_string(), "which products are active");
                assert_eq!(answers[1]["dry_run"], true);
            }
            "failed_rebills" => {
                let purchases = answers.iter().skip(1).flat_map(|a| a["purchase_list"].as_array().cloned().unwrap_or_default());
                assert!(
                    purchases.filter(|p| p["billing_status"] == "aborted" || p["rebilling_active"] == "N").count() > 0,
                    "stopped rebills found"
                );
            }
            _ => unreachable!(),
        }
    }
}
