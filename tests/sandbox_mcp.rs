//! Every tool of the catalogue through the MCP server against the sandbox:
//! valid arguments succeed with data of the documented shape; with the
//! read-only key every write is refused, and the refusal reaches the client
//! as `isError: true`. Plus state scenarios seen through MCP.

mod common;

use common::samples::{collect_samples, derive_args};
use common::sandbox::Sandbox;
use common::{Options, TestServer, call, text};
use digistore24_mcp::catalog::{self, Effect};
use digistore24_mcp::sandbox::{READONLY_KEY, SandboxConfig, WRITABLE_KEY, form};
use rmcp::RoleClient;
use rmcp::service::RunningService;
use serde_json::{Value, json};

/// The documented list key of some list functions' answers.
const SHAPES: &[(&str, &str)] = &[
    ("listPurchases", "purchase_list"),
    ("listTransactions", "transaction_list"),
    ("listProducts", "products"),
    ("listBuyers", "items"),
    ("listVouchers", "coupons"),
    ("listUpgrades", "upgrades"),
    ("listEtickets", "etickets"),
    ("listDeliveries", "delivery"),
    ("getPurchase", "buyer"),
    ("ping", "server_time"),
];

async fn setup() -> (Sandbox, TestServer) {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = TestServer::start(&format!("{}/api/call", sandbox.base), Options::default()).await;
    (sandbox, server)
}

#[tokio::test]
async fn every_tool_succeeds_through_mcp_and_every_write_is_refused_read_only() {
    let (sandbox, server) = setup().await;
    let samples = collect_samples(&sandbox).await;
    let writable = server.client(Some(WRITABLE_KEY)).await;
    let readonly = server.client(Some(READONLY_KEY)).await;
    let mut failures = Vec::new();
    let mut refused = 0;
    for f in catalog::FUNCTIONS {
        // The sample arguments are form pairs; the sandbox's own PHP decoder
        // turns them into the nested JSON an agent would send.
        let args = form::decode_pairs(derive_args(f, &samples)).unwrap();
        if f.effect != Effect::Read {
            let result = call(&readonly, f.name, args.clone()).await;
            if result.is_error == Some(true) && text(&result).contains("Digistore24 error 8") {
                refused += 1;
            } else {
                failures.push(format!("{} with the read-only key: {}", f.name, text(&result)));
            }
        }
        let result = call(&writable, f.name, args.clone()).await;
        let data = result.structured_content.clone().unwrap_or(Value::Null);
        let has_data = data.as_object().is_some_and(|d| !d.is_empty());
        if result.is_error != Some(false) || !has_data {
            failures.push(format!("{} {args}: {}", f.name, text(&result).chars().take(300).collect::<String>()));
            continue;
        }
        if let Some((_, key)) = SHAPES.iter().find(|(name, _)| *name == f.name)
            && data.get(*key).is_none()
        {
            failures.push(format!("{}: answer lacks `{key}`", f.name));
        }
    }
    let writes = catalog::FUNCTIONS.iter().filter(|f| f.effect != Effect::Read).count();
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
    assert_eq!(refused, writes);
}

/// `"49.00"` / `"-12.34"` as hundredths, so amounts compare exactly.
fn cents(amount: &Value) -> i64 {
    let s = amount.as_str().unwrap_or_else(|| panic!("an amount as a string, got {amount}"));
    let (units, hundredths) = s.split_once('.').unwrap_or((s, "0"));
    let sign = if units.starts_with('-') { -1 } else { 1 };
    let units: i64 = units.trim_start_matches('-').parse().unwrap();
    sign * (units * 100 + format!("{hundredths:0<2}").parse::<i64>().unwrap())
}

/// The all-time figures of one currency in a `statsSalesSummary` answer.
async fn all_time_figures(client: &RunningService<RoleClient, ()>, currency: &str) -> (i64, u64) {
    let summary = call(client, "statsSalesSummary", json!({})).await.structured_content.unwrap();
    let figures = &summary["for"]["all"]["amounts"][currency];
    assert!(figures.is_object(), "no all-time figures in {currency}: {summary}");
    (cents(&figures["total_brutto_amount"]), figures["sales_count"].as_u64().unwrap())
}

#[tokio::test]
async fn refund_changes_stats_seen_through_mcp() {
    let (_sandbox, server) = setup().await;
    let client = server.client(Some(WRITABLE_KEY)).await;
    let list = call(&client, "listPurchases", json!({"from": "-90d", "search": {"billing_type": "single_payment"}})).await;
    let purchases = list.structured_content.unwrap()["purchase_list"].as_array().unwrap().clone();
    let target = purchases.iter().find(|p| p["order_type"] == "live").expect("a live order");
    let id = target["id"].as_str().unwrap();
    let currency = target["currency"].as_str().expect("the order's currency").to_owned();
    let (brutto_before, sales_before) = all_time_figures(&client, &currency).await;

    let refund = call(&client, "refundPurchase", json!({"purchase_id": id, "force": true})).await;
    assert_eq!(refund.is_error, Some(false), "{}", text(&refund));
    let answer = refund.structured_content.unwrap();
    assert_eq!(answer["currency"], currency.as_str());
    let refunded = cents(&answer["refunded_amount"]);
    assert!(refunded > 0, "a live single payment has something to refund: {answer}");

    // The refund is booked as a negative transaction: the all-time gross drops
    // by exactly the refunded amount, and the sale still counts as one.
    let (brutto_after, sales_after) = all_time_figures(&client, &currency).await;
    assert_eq!(brutto_after, brutto_before - refunded, "all-time gross in {currency}");
    assert_eq!(sales_after, sales_before, "a refund is not a sale");

    let tx = call(&client, "listTransactions", json!({"from": "start", "search": {"purchase_id": id}})).await;
    let kinds: Vec<String> = tx.structured_content.unwrap()["transaction_list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["transaction_type"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(kinds.iter().any(|k| k.contains("refund")), "{kinds:?}");
}
