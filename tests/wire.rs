//! Golden tests of what goes upstream: one per defect class found in the
//! anchor server, each asserting the exact form body Digistore24 receives.

mod common;

use common::{Answer, FakeUpstream, Options, TestServer, call, text};
use serde_json::json;

async fn setup() -> (FakeUpstream, TestServer) {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), Options::default()).await;
    (upstream, server)
}

/// Sends one call and returns the decoded body the upstream received.
async fn sent(tool: &str, args: serde_json::Value) -> Vec<(String, String)> {
    let (upstream, server) = setup().await;
    let client = server.client(Some("123-golden")).await;
    let result = call(&client, tool, args).await;
    assert_ne!(result.is_error, Some(true), "{tool} failed: {}", text(&result));
    let request = upstream.last();
    assert_eq!(request.function, tool);
    request.fields
}

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[tokio::test]
async fn request_shape_is_a_form_post_with_the_key_header() {
    let (upstream, server) = setup().await;
    let client = server.client(Some("123-shape")).await;
    call(&client, "getPurchase", json!({"purchase_id": "ABC123"})).await;
    let r = upstream.last();
    assert_eq!(r.content_type.as_deref(), Some("application/x-www-form-urlencoded; charset=utf-8"));
    assert_eq!(r.accept.as_deref(), Some("application/json"));
    assert_eq!(r.key.as_deref(), Some("123-shape"));
    assert_eq!(r.body, "purchase_id=ABC123");
}

#[tokio::test]
async fn lists_of_objects_use_indexed_brackets_not_object_object() {
    let fields = sent(
        "createBuyUrl",
        json!({"product_id": "123", "addons": [
            {"product_id": "456", "first_amount": "27.99"},
            {"product_id": "789", "default_quantity": 2}
        ]}),
    )
    .await;
    assert_eq!(
        fields,
        pairs(&[
            ("product_id", "123"),
            ("addons[0][product_id]", "456"),
            ("addons[0][first_amount]", "27.99"),
            ("addons[1][product_id]", "789"),
            ("addons[1][default_quantity]", "2"),
        ])
    );
    assert!(!fields.iter().any(|(_, v)| v.contains("[object")));
}

#[tokio::test]
async fn nesting_survives_below_one_level() {
    let fields = sent(
        "createBuyUrl",
        json!({"product_id": "1", "settings": {"pay_methods": ["paypal", "creditcard"], "force_rebilling": true},
               "buyer": {"email": "jane@example.com", "country": "DE"}, "placeholders": {"TITLE": "Gold"}}),
    )
    .await;
    assert_eq!(
        fields,
        pairs(&[
            ("product_id", "1"),
            ("buyer[email]", "jane@example.com"),
            ("buyer[country]", "DE"),
            ("placeholders[TITLE]", "Gold"),
            ("settings[force_rebilling]", "Y"),
            ("settings[pay_methods][0]", "paypal"),
            ("settings[pay_methods][1]", "creditcard"),
        ])
    );
}

#[tokio::test]
async fn data_wrapper_applies_wherever_the_function_takes_data() {
    for (tool, args, expected) in [
        (
            "createVoucher",
            json!({"data": {"code": "SPRING", "first_rate": "10"}}),
            vec![("data[code]", "SPRING"), ("data[first_rate]", "10")],
        ),
        ("updateBuyer", json!({"buyer_id": 7, "data": {"first_name": "Jane"}}), vec![("buyer_id", "7"), ("data[first_name]", "Jane")]),
        ("createProductGroup", json!({"data": {"name": "Courses"}}), vec![("data[name]", "Courses")]),
        (
            "updatePaymentplan",
            json!({"paymentplan_id": 3, "data": {"first_amount": "9.00"}}),
            vec![("paymentplan_id", "3"), ("data[first_amount]", "9.00")],
        ),
        ("createShippingCostPolicy", json!({"data": {"name": "EU"}}), vec![("data[name]", "EU")]),
        ("updatePurchase", json!({"purchase_id": "A1", "data": {"custom": "x"}}), vec![("purchase_id", "A1"), ("data[custom]", "x")]),
    ] {
        assert_eq!(sent(tool, args).await, pairs(&expected), "{tool}");
    }
}

#[tokio::test]
async fn top_level_functions_get_no_data_wrapper() {
    let fields = sent("createUpgrade", json!({"name": "To Pro", "to_product_id": 55, "is_active": true})).await;
    assert_eq!(fields, pairs(&[("name", "To Pro"), ("to_product_id", "55"), ("is_active", "Y")]));
    let fields =
        sent("ipnSetup", json!({"ipn_url": "https://example.com/ipn", "name": "shop", "product_ids": "all", "timing": "delayed"})).await;
    assert_eq!(fields, pairs(&[("ipn_url", "https://example.com/ipn"), ("name", "shop"), ("product_ids", "all"), ("timing", "delayed")]));
    let fields = sent("createUpgradePurchase", json!({"purchase_ids": "A1", "upgrade_id": "9", "quantities": {"1": 5}})).await;
    assert_eq!(fields, pairs(&[("purchase_ids", "A1"), ("upgrade_id", "9"), ("quantities[1]", "5")]));
}

#[tokio::test]
async fn no_duplicated_no_default_no_placeholder_fields() {
    // The anchor injected position=10 and sent literal default text.
    let fields = sent("createProductGroup", json!({"data": {"name": "Only name"}})).await;
    assert_eq!(fields, pairs(&[("data[name]", "Only name")]));
    let fields = sent("listPurchases", json!({})).await;
    assert!(fields.is_empty(), "nothing given, nothing sent: {fields:?}");
    let fields = sent("refundPurchase", json!({"purchase_id": "A1"})).await;
    assert_eq!(fields, pairs(&[("purchase_id", "A1")]));
}

#[tokio::test]
async fn fields_keep_their_names() {
    // The anchor renamed updateVoucher's code on the way.
    let fields = sent("updateVoucher", json!({"code": "OLD", "data": {"code": "NEW", "first_rate": "5"}})).await;
    assert_eq!(fields, pairs(&[("code", "OLD"), ("data[code]", "NEW"), ("data[first_rate]", "5")]));
    let fields = sent("updateProduct", json!({"product_id": 1, "data": {"affiliate_commision": "30"}})).await;
    assert_eq!(fields, pairs(&[("product_id", "1"), ("data[affiliate_commision]", "30")]));
}

#[tokio::test]
async fn search_filters_are_sent() {
    let fields = sent(
        "listPurchases",
        json!({"from": "-30d", "to": "now", "search": {"email": "jane@example.com", "product_id": "1,2"}, "page_no": 2}),
    )
    .await;
    assert_eq!(
        fields,
        pairs(&[("from", "-30d"), ("to", "now"), ("search[product_id]", "1,2"), ("search[email]", "jane@example.com"), ("page_no", "2"),])
    );
}

#[tokio::test]
async fn stats_sales_sends_no_invalid_default_period() {
    assert!(sent("statsSales", json!({})).await.is_empty());
    assert_eq!(sent("statsSales", json!({"period": "month"})).await, pairs(&[("period", "month")]));
    let (upstream, server) = setup().await;
    let client = server.client(Some("k")).await;
    let result = call(&client, "statsSales", json!({"period": "week"})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(text(&result).contains("`period` must be one of"), "{}", text(&result));
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn create_buy_url_arguments_are_validated_before_sending() {
    let (upstream, server) = setup().await;
    let client = server.client(Some("k")).await;
    for (args, needle) in [
        (json!({}), "missing required argument `product_id`"),
        (json!({"product_id": "1", "buyer": {"salutation": "X"}}), "`buyer.salutation` must be one of"),
        (json!({"product_id": "1", "payment_plan": {"first_amount": "abc"}}), "`payment_plan.first_amount` must be a decimal"),
        (json!({"product_id": "1", "addons": [{"default_quantity": "two"}]}), "`addons[0].default_quantity` must be a whole number"),
        (json!({"product_id": "1", "colour": "red"}), "unknown argument `colour`"),
    ] {
        let result = call(&client, "createBuyUrl", args).await;
        assert_eq!(result.is_error, Some(true));
        assert!(text(&result).contains(needle), "{}", text(&result));
    }
    assert!(upstream.requests().is_empty(), "invalid calls must not reach Digistore24");
}

#[tokio::test]
async fn language_can_be_passed_to_any_function() {
    assert_eq!(sent("ping", json!({"language": "de"})).await, pairs(&[("language", "de")]));
    assert_eq!(sent("getProduct", json!({"product_id": 5, "language": "en"})).await, pairs(&[("product_id", "5"), ("language", "en")]));
}

#[tokio::test]
async fn booleans_go_as_y_and_n() {
    let fields = sent("stopRebilling", json!({"purchase_id": "A1", "force": false, "ignore_refund_possibility": "yes"})).await;
    assert_eq!(fields, pairs(&[("purchase_id", "A1"), ("force", "N"), ("ignore_refund_possibility", "Y")]));
}

#[tokio::test]
async fn upstream_error_envelope_is_an_error_not_success() {
    let (upstream, server) = setup().await;
    let client = server.client(Some("k")).await;
    upstream.answer_with(Answer::Raw(200, r#"{"api_version":"1.2","result":"error","code":4,"message":"Purchase 'ZZ' not found"}"#));
    let result = call(&client, "getPurchase", json!({"purchase_id": "ZZ"})).await;
    assert_eq!(result.is_error, Some(true));
    assert!(result.structured_content.is_none());
    let message = text(&result);
    assert!(message.contains("Digistore24 error 4") && message.contains("Purchase 'ZZ' not found"), "{message}");
}

#[tokio::test]
async fn stdio_transport_sends_the_key_from_the_environment() {
    use rmcp::ServiceExt;
    use rmcp::transport::TokioChildProcess;
    let upstream = FakeUpstream::start().await;
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_digistore24-mcp"));
    command.arg("stdio").env("DS24_API_KEY", "123-from-env").env("DS24_API_BASE_URL", upstream.base_url()).env("RUST_LOG", "warn");
    let client = ().serve(TokioChildProcess::new(command).unwrap()).await.unwrap();
    let result = call(&client, "listProducts", json!({})).await;
    assert_ne!(result.is_error, Some(true), "{}", text(&result));
    assert_eq!(result.structured_content.unwrap()["key"], "123-from-env");
    assert_eq!(upstream.last().key.as_deref(), Some("123-from-env"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn well_formed_ids_lists_and_formats_go_as_given() {
    // Comma lists, `all`, numeric ids as JSON numbers, ISO-8601 with zone and
    // a negative balance change all pass the stricter checks unchanged.
    assert_eq!(sent("getPurchase", json!({"purchase_id": "A1,B2, C3"})).await, pairs(&[("purchase_id", "A1,B2, C3")]));
    assert_eq!(sent("getPurchaseDownloads", json!({"purchase_id": 12345})).await, pairs(&[("purchase_id", "12345")]));
    assert_eq!(
        sent("getAffiliateCommission", json!({"affiliate_id": "jane@example.com", "product_ids": "all"})).await,
        pairs(&[("affiliate_id", "jane@example.com"), ("product_ids", "all")])
    );
    assert_eq!(
        sent("listRebillingStatusChanges", json!({"from": "2024-01-31T12:00:00+02:00", "page_size": 2147483647})).await,
        pairs(&[("from", "2024-01-31T12:00:00+02:00"), ("page_size", "2147483647")])
    );
    assert_eq!(
        sent("addBalanceToPurchase", json!({"purchase_id": "A1", "amount": "-5.50"})).await,
        pairs(&[("purchase_id", "A1"), ("amount", "-5.50")])
    );
    assert_eq!(
        sent("statsAffiliateToplist", json!({"from": "2024-01", "to": "2024-12"})).await,
        pairs(&[("from", "2024-01"), ("to", "2024-12")])
    );
}
