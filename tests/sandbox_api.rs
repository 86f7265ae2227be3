//! End-to-end tests of the built-in sandbox over real HTTP: keys and
//! permissions, the three URL shapes, errors, pagination, create/update/delete
//! round trips, refunds and statistics, tenant isolation, fault injection, and a
//! successful call of every catalogued function.

mod common;

use common::samples::{collect_samples, derive_args};
use common::sandbox::{Sandbox, all_purchases, money, s};
use digistore24_mcp::catalog;
use digistore24_mcp::sandbox::{self, READONLY_KEY, SandboxConfig, WRITABLE_KEY};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::time::{Duration, Instant};

// ── keys, permissions, errors ─────────────────────────────────────────────

#[tokio::test]
async fn bad_or_missing_key_is_refused() {
    let sb = Sandbox::default().await;
    for key in [None, Some("wrong-key"), Some("sandbox-unknown")] {
        let a = sb.call(key, "ping", &[]).await;
        assert_eq!(a.status, 401, "{key:?}");
        let (code, msg) = a.error();
        assert_eq!(code, 2);
        assert!(!msg.is_empty());
        let v = a.json();
        assert_eq!(v["api_version"], "1.2");
        assert!(v["current_time"].as_str().unwrap().len() == 19);
    }
}

#[tokio::test]
async fn readonly_key_cannot_write() {
    let sb = Sandbox::default().await;
    let a = sb.call(Some(READONLY_KEY), "createProductGroup", &[("data[name]", "Nope")]).await;
    assert_eq!(a.status, 403);
    let (code, msg) = a.error();
    assert_eq!(code, 8);
    assert!(msg.contains("read access"), "{msg}");
    // Reads that need full access are refused too; the writable key may call them.
    let product = sb.read("listProducts", &[]).await["products"][0]["id"].clone();
    assert_eq!(sb.call(Some(READONLY_KEY), "getUpsells", &[("product_id", &s(&product))]).await.status, 403);
    sb.write("getUpsells", &[("product_id", &s(&product))]).await;
    // Nothing was created by the refused call.
    let groups = sb.read("listProductGroups", &[]).await;
    assert!(groups["items"].as_array().unwrap().iter().all(|g| g["name"] != "Nope"));
}

#[tokio::test]
async fn unknown_function_missing_argument_and_not_found() {
    let sb = Sandbox::default().await;
    let a = sb.call(Some(READONLY_KEY), "listFoo", &[]).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.error().0, 9);

    let a = sb.call(Some(READONLY_KEY), "getPurchase", &[]).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.error(), (3, "Missing required argument: purchase_id".to_string()));

    let a = sb.call(Some(WRITABLE_KEY), "createVoucher", &[("data[first_rate]", "10")]).await;
    assert_eq!(a.status, 400);
    assert_eq!(a.error().1, "Missing required argument: data[code]");

    let a = sb.call(Some(READONLY_KEY), "getPurchase", &[("purchase_id", "NOPE1234")]).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.error(), (4, "Purchase 'NOPE1234' not found".to_string()));

    let a = sb.call(Some(READONLY_KEY), "getProduct", &[("product_id", "1")]).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.error().0, 4);

    // Enum and type checks come from the catalogue.
    let a = sb.call(Some(READONLY_KEY), "listPurchases", &[("sort_order", "sideways")]).await;
    assert_eq!(a.status, 400);
    assert!(a.error().1.contains("sort_order"));
    let a = sb.call(Some(READONLY_KEY), "listPurchases", &[("search[has_affiliate]", "maybe")]).await;
    assert_eq!(a.error().0, 3);
    let a = sb.call(Some(READONLY_KEY), "listPurchases", &[("from", "last tuesday")]).await;
    assert_eq!(a.error().0, 3);
}

#[tokio::test]
async fn three_url_shapes_and_get() {
    let sb = Sandbox::default().await;
    let a = sb.post_url(&format!("{}/api/call/ping", sb.base), Some(READONLY_KEY), String::new()).await;
    assert!(a.data()["server_time"].is_string());
    let a = sb.post_url(&format!("{}/api/call/ping/format/json", sb.base), Some(READONLY_KEY), String::new()).await;
    assert!(a.data()["server_time"].is_string());
    let a = sb.post_url(&format!("{}/api/call/{READONLY_KEY}/json/ping", sb.base), None, String::new()).await;
    assert!(a.data()["server_time"].is_string());
    let a = sb.post_url(&format!("{}/api/call/not-a-key/json/ping", sb.base), None, String::new()).await;
    assert_eq!(a.status, 401);
    // Success envelope frame.
    let v = a.json();
    assert!(v.get("data").is_none());
    let ok = sb.call(Some(READONLY_KEY), "ping", &[]).await.json();
    for k in ["api_version", "current_time", "runtime_seconds", "result", "data"] {
        assert!(ok.get(k).is_some(), "missing {k} in {ok}");
    }
    // GET with the arguments in the query string.
    let r = sb
        .http
        .get(format!("{}/api/call/listPurchases?from=start&page_size=3&search%5Bbilling_type%5D=subscription", sb.base))
        .header("X-DS-API-KEY", READONLY_KEY)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let list = v["data"]["purchase_list"].as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert!(list.iter().all(|p| p["billing_type"] == "subscription"));
    // Positional arguments of the official PHP connector.
    let id = s(&list[0]["id"]);
    let d = sb.read("getPurchase", &[("arg1", &id)]).await;
    assert_eq!(d["id"], id.as_str());
}

#[tokio::test]
async fn oversized_body_gets_413() {
    let sb = Sandbox::default().await;
    let big = format!("data[note]={}", "x".repeat(sandbox::MAX_BODY_BYTES + 10));
    let a = sb.post_url(&format!("{}/api/call/ping", sb.base), Some(READONLY_KEY), big).await;
    assert_eq!(a.status, 413);
    assert_eq!(a.json()["result"], "error");
}

// ── reads ─────────────────────────────────────────────────────────────────

#[tokio::test]
async fn pagination_walks_every_purchase_once() {
    let sb = Sandbox::default().await;
    let everything = all_purchases(&sb, READONLY_KEY).await;
    assert!(everything.len() >= 400, "{}", everything.len());
    let mut seen = Vec::new();
    let mut page = 1;
    loop {
        let d = sb
            .read("listPurchases", &[("from", "start"), ("page_size", "37"), ("page_no", &page.to_string()), ("sort_order", "desc")])
            .await;
        let list = d["purchase_list"].as_array().unwrap();
        seen.extend(list.iter().map(|p| s(&p["id"])));
        assert_eq!(d["item_count"], everything.len());
        if page >= d["page_count"].as_u64().unwrap() as usize {
            break;
        }
        assert_eq!(list.len(), 37);
        page += 1;
    }
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), everything.len());
    assert_eq!(unique.len(), seen.len());
    // Beyond the last page: empty, not an error.
    let d = sb.read("listPurchases", &[("from", "start"), ("page_size", "37"), ("page_no", "999")]).await;
    assert!(d["purchase_list"].as_array().unwrap().is_empty());
    // The default window is the last 24 hours only.
    let recent = sb.read("listPurchases", &[]).await["purchase_list"].as_array().unwrap().len();
    assert!(recent >= 1 && recent < everything.len(), "{recent}");
    // Buyers page the same way.
    let d = sb.read("listBuyers", &[("page_size", "50"), ("page_no", "2")]).await;
    assert_eq!(d["page_no"], 2);
    assert_eq!(d["items"].as_array().unwrap().len(), 50);
    assert!(d["item_count"].as_u64().unwrap() > 100);
}

#[tokio::test]
async fn search_filters_and_date_forms() {
    let sb = Sandbox::default().await;
    let all = all_purchases(&sb, READONLY_KEY).await;
    let with_aff = sb.read("listPurchases", &[("from", "start"), ("page_size", "1000"), ("search[has_affiliate]", "yes")]).await;
    let n = with_aff["purchase_list"].as_array().unwrap().len();
    assert!(n > 0 && n < all.len());
    let one = &all[10];
    let d = sb.read("listPurchases", &[("from", "2000-01-01"), ("to", "now"), ("search[purchase_id]", &s(&one["id"]))]).await;
    assert_eq!(d["purchase_list"].as_array().unwrap().len(), 1);
    let day = &s(&one["created_at"])[..10];
    let d = sb.read("listPurchases", &[("from", day), ("to", day), ("page_size", "1000")]).await;
    assert!(d["purchase_list"].as_array().unwrap().iter().any(|p| p["id"] == one["id"]));
    let d = sb.read("listTransactions", &[("from", "-30d"), ("search[transaction_type]", "payment")]).await;
    assert!(d["transaction_list"].as_array().unwrap().iter().all(|t| t["transaction_type"] == "payment"));
    assert!(d["summary"]["amounts"].is_object());
    assert!(d["page_count"].is_number());
    // Y/N/1/0/true/false all work.
    for flag in ["Y", "1", "true", "T"] {
        let d = sb.read("listPurchases", &[("from", "-2Y"), ("load_transactions", flag), ("page_size", "1")]).await;
        assert!(d["purchase_list"][0]["transaction_list"].is_array(), "{flag}");
    }
}

// ── writes ────────────────────────────────────────────────────────────────

#[tokio::test]
async fn product_create_list_update_get_delete() {
    let sb = Sandbox::default().await;
    let d =
        sb.write("createProduct", &[("data[name]", "Sandbox Test Course"), ("data[language]", "en"), ("data[product_type_id]", "2")]).await;
    let id = s(&d["product_id"]);
    let list = sb.read("listProducts", &[]).await;
    assert!(list["products"].as_array().unwrap().iter().any(|p| p["id"] == id.as_str() && p["name"] == "Sandbox Test Course"));
    let d = sb.write("updateProduct", &[("product_id", &id), ("data[name_en]", "Renamed Course"), ("data[note]", &"n".repeat(60))]).await;
    assert_eq!(d["modified"], "Y");
    let p = sb.read("getProduct", &[("product_id", &id)]).await["product"].clone();
    assert_eq!(p["name"], "Renamed Course");
    assert_eq!(p["note"].as_str().unwrap().len(), 47, "notes are cut to 47 characters");
    // Deprecated and refused fields.
    assert_eq!(sb.call(Some(WRITABLE_KEY), "updateProduct", &[("product_id", &id), ("data[tag]", "x")]).await.status, 400);
    assert_eq!(sb.call(Some(WRITABLE_KEY), "createProduct", &[("data[name]", "x"), ("data[amount]", "9.00")]).await.status, 400);
    sb.write("deleteProduct", &[("product_id", &id)]).await;
    assert_eq!(sb.call(Some(READONLY_KEY), "getProduct", &[("product_id", &id)]).await.status, 404);
    assert!(sb.read("listProducts", &[]).await["products"].as_array().unwrap().iter().all(|p| p["id"] != id.as_str()));
    assert_eq!(sb.read("getProduct", &[("product_id", &id), ("show_deleted", "Y")]).await["product"]["is_deleted"], "Y");
}

#[tokio::test]
async fn voucher_create_list_update_get_delete() {
    let sb = Sandbox::default().await;
    let d = sb
        .write(
            "createVoucher",
            &[("data[code]", "SANDBOX20"), ("data[first_rate]", "20"), ("data[is_count_limited]", "Y"), ("data[count_left]", "5")],
        )
        .await;
    assert_eq!(d["code"], "SANDBOX20");
    let dup = sb.call(Some(WRITABLE_KEY), "createVoucher", &[("data[code]", "sandbox20"), ("data[first_rate]", "5")]).await;
    assert_eq!(dup.status, 400);
    let list = sb.read("listVouchers", &[]).await;
    assert!(list["coupons"].as_array().unwrap().iter().any(|c| c["code"] == "SANDBOX20"));
    let d = sb.write("updateVoucher", &[("code", "SANDBOX20"), ("data[first_rate]", "25.5")]).await;
    assert_eq!(d["modified"], "Y");
    let c = sb.read("getVoucher", &[("code", "SANDBOX20")]).await["coupon"].clone();
    assert_eq!(c["first_rate"], "25.50");
    assert_eq!(c["is_count_limited"], "Y");
    assert_eq!(sb.read("validateCouponCode", &[("code", "SANDBOX20")]).await["status"], "success");
    sb.write("deleteVoucher", &[("code", "SANDBOX20")]).await;
    assert_eq!(sb.call(Some(READONLY_KEY), "getVoucher", &[("code", "SANDBOX20")]).await.status, 404);
}

#[tokio::test]
async fn product_group_create_list_update_get_delete() {
    let sb = Sandbox::default().await;
    let id = s(&sb.write("createProductGroup", &[("data[name]", "Bundles"), ("data[position]", "5")]).await["product_group_id"]);
    assert!(sb.read("listProductGroups", &[]).await["items"].as_array().unwrap().iter().any(|g| g["id"] == id.as_str()));
    assert_eq!(
        sb.write("updateProductGroup", &[("product_group_id", &id), ("data[name]", "Bundles 2"), ("data[is_shown_as_tab]", "true")]).await
            ["is_modified"],
        "Y"
    );
    let g = sb.read("getProductGroup", &[("product_group_id", &id)]).await["product_group"].clone();
    assert_eq!(g["name"], "Bundles 2");
    assert_eq!(g["is_shown_as_tab"], "Y");
    // Products can be moved into it.
    let pid = s(&sb.write("createProduct", &[("data[name_de]", "Bündel"), ("data[product_group_id]", &id)]).await["product_id"]);
    assert_eq!(sb.read("getProduct", &[("product_id", &pid)]).await["product"]["product_group_id"], id.as_str());
    let too_long = "x".repeat(32);
    assert_eq!(sb.call(Some(WRITABLE_KEY), "createProductGroup", &[("data[name]", &too_long)]).await.status, 400);
    sb.write("deleteProductGroup", &[("product_group_id", &id)]).await;
    assert_eq!(sb.call(Some(READONLY_KEY), "getProductGroup", &[("product_group_id", &id)]).await.status, 404);
    assert_eq!(sb.read("getProduct", &[("product_id", &pid)]).await["product"]["product_group_id"], "");
}

#[tokio::test]
async fn refund_changes_stats_and_adds_a_refund_transaction() {
    let sb = Sandbox::default().await;
    let all = all_purchases(&sb, READONLY_KEY).await;
    let p = all
        .iter()
        .rev()
        .find(|p| p["refund_status"] == "none" && p["order_type"] == "live" && p["is_chargeback"] == "N" && money(&p["paid_amount"]) > 0.0)
        .expect("a refundable order")
        .clone();
    let id = s(&p["id"]);
    let cur = s(&p["currency"]);
    let before = sb.read("statsSalesSummary", &[]).await;
    let share = |v: &Value| money(&v["for"]["all"]["amounts"][&cur]["vendor_share_amount"]);
    let brutto = |v: &Value| money(&v["for"]["all"]["amounts"][&cur]["vendor_brutto_amount"]);
    let d = sb.write("refundPurchase", &[("purchase_id", &id), ("force", "Y")]).await;
    assert_eq!(d["modified"], "Y");
    let after = sb.read("statsSalesSummary", &[]).await;
    assert!(share(&after) < share(&before), "{} -> {}", share(&before), share(&after));
    let paid = money(&p["paid_amount"]) - money(&p["refunded_amount"]);
    assert!((brutto(&before) - brutto(&after) - paid).abs() < 0.011, "gross fell by the refunded amount");
    let tx = sb.read("listTransactions", &[("from", "-1h"), ("search[purchase_id]", &id), ("search[transaction_type]", "refund")]).await;
    let refunds = tx["transaction_list"].as_array().unwrap();
    assert!(!refunds.is_empty());
    assert!(refunds.iter().all(|t| money(&t["amount"]) < 0.0));
    let g = sb.read("getPurchase", &[("purchase_id", &id)]).await;
    assert_eq!(g["billing_status"], "aborted");
    assert_eq!(g["refund_status"], "refunded");
    // Refunding twice changes nothing more.
    assert_eq!(sb.write("refundPurchase", &[("purchase_id", &id), ("force", "Y")]).await["modified"], "N");
    // Partial refunds are limited by the payment.
    let other = all
        .iter()
        .find(|q| q["refund_status"] == "none" && q["order_type"] == "live" && q["id"] != p["id"] && money(&q["paid_amount"]) > 5.0)
        .unwrap();
    let oid = s(&other["id"]);
    let d = sb.write("refundPartially", &[("purchase_id", &oid), ("amount", "1.50")]).await;
    assert_eq!(d["refunded_amount"], "1.50");
    assert_eq!(sb.read("getPurchase", &[("purchase_id", &oid)]).await["refund_status"], "partially_refunded");
    assert_eq!(sb.call(Some(WRITABLE_KEY), "refundPartially", &[("purchase_id", &oid), ("amount", "99999")]).await.status, 400);
}

#[tokio::test]
async fn rebilling_stop_and_start_and_buyer_update() {
    let sb = Sandbox::default().await;
    let all = all_purchases(&sb, READONLY_KEY).await;
    let sub = all.iter().find(|p| p["billing_type"] == "subscription" && p["rebilling_active"] == "Y").unwrap();
    let id = s(&sub["id"]);
    let d = sb.write("stopRebilling", &[("purchase_id", &id), ("force", "Y")]).await;
    assert_eq!(d["rebilling_active"], "N");
    assert_eq!(sb.read("getPurchase", &[("purchase_id", &id)]).await["billing_status"], "aborted");
    let events = sb.read("listRebillingStatusChanges", &[("from", "-1h")]).await;
    assert!(events["items"].as_array().unwrap().iter().any(|e| e["purchase_id"] == id.as_str() && e["type"] == "rebill_cancelled"));
    let d = sb.write("startRebilling", &[("purchase_id", &id)]).await;
    assert_eq!(d["rebilling_active"], "Y");
    assert_eq!(sb.read("getPurchase", &[("purchase_id", &id)]).await["billing_status"], "paying");

    let buyer = s(&sb.read("listBuyers", &[]).await["items"][0]["id"]);
    assert_eq!(
        sb.write("updateBuyer", &[("buyer_id", &buyer), ("data[city]", "Sandburg"), ("data[phone_number]", "")]).await["is_modified"],
        "Y"
    );
    let b = sb.read("getBuyer", &[("buyer_id", &buyer)]).await["buyer"].clone();
    assert_eq!(b["city"], "Sandburg");
    assert_eq!(b["phone_no"], "");

    let d = sb.write("createBuyUrl", &[("product_id", &s(&sub["product_id"])), ("valid_until", "2h"), ("tracking[custom]", "t1")]).await;
    assert!(d["url"].as_str().unwrap().starts_with("https://"));
    assert!(d["valid_until"].as_str().unwrap().len() == 19);
    assert!(sb.read("listBuyUrls", &[]).await["items"].as_array().unwrap().iter().any(|u| u["id"] == d["id"]));
    let bad = sb.call(Some(WRITABLE_KEY), "ipnSetup", &[("ipn_url", "http://localhost/ipn"), ("name", "x"), ("product_ids", "all")]).await;
    assert_eq!(bad.status, 400);
    let d = sb
        .write(
            "ipnSetup",
            &[
                ("ipn_url", "https://example.com/ipn"),
                ("name", "Test"),
                ("product_ids", "all"),
                ("domain_id", "test-app"),
                ("sha_passphrase", "random"),
            ],
        )
        .await;
    assert_eq!(d["created"], "Y");
    assert_eq!(sb.read("ipnInfo", &[("domain_id", "test-app")]).await["have_settings"], "Y");
    assert_eq!(
        sb.write(
            "ipnSetup",
            &[("ipn_url", "https://example.com/ipn2"), ("name", "Test"), ("product_ids", "all"), ("domain_id", "test-app")]
        )
        .await["updated"],
        "Y"
    );
    assert_eq!(sb.write("ipnDelete", &[("domain_id", "test-app")]).await["modified"], "Y");
    assert_eq!(sb.read("ipnInfo", &[("domain_id", "test-app")]).await["have_settings"], "N");
    sb.write(
        "setAffiliateForEmail",
        &[
            ("email", "new.buyer@example.com"),
            ("affiliate", &s(&sb.read("getAffiliateForEmail", &[("email", "prospect.one@example.com")]).await["affiliate_name"])),
        ],
    )
    .await;
    assert_ne!(sb.read("getAffiliateForEmail", &[("email", "NEW.BUYER@example.com")]).await["affiliate_id"], "");
}

// ── tenants ───────────────────────────────────────────────────────────────

#[tokio::test]
async fn extra_keys_have_separate_accounts() {
    let config = SandboxConfig {
        extra_keys: vec!["sandbox-tenant-a".into(), "sandbox-tenant-b".into(), "sandbox-tenant-c-readonly".into()],
        ..Default::default()
    };
    let sb = Sandbox::start(config).await;
    let user = |d: Value| s(&d["user_name"]);
    let ua = user(sb.call(Some("sandbox-tenant-a"), "getUserInfo", &[]).await.data());
    let ub = user(sb.call(Some("sandbox-tenant-b"), "getUserInfo", &[]).await.data());
    let ud = user(sb.call(Some(READONLY_KEY), "getUserInfo", &[]).await.data());
    assert!(ua.contains("tenant_a") && ub.contains("tenant_b"), "{ua} {ub}");
    assert!(ua != ub && ua != ud);
    let names = |d: Value| d["products"].as_array().unwrap().iter().map(|p| s(&p["name"])).collect::<HashSet<_>>();
    let pa = sb.call(Some("sandbox-tenant-a"), "listProducts", &[]).await.data();
    let pb = sb.call(Some("sandbox-tenant-b"), "listProducts", &[]).await.data();
    assert!(names(pa.clone()).is_disjoint(&names(pb.clone())));
    assert!(names(pa.clone()).iter().all(|n| n.contains("tenant-a")));
    // Ids of one tenant are unknown to the other.
    let a_product = s(&pa["products"][0]["id"]);
    assert_eq!(sb.call(Some("sandbox-tenant-b"), "getProduct", &[("product_id", &a_product)]).await.status, 404);
    let a_purchase = s(&all_purchases(&sb, "sandbox-tenant-a").await[0]["id"]);
    assert_eq!(sb.call(Some("sandbox-tenant-b"), "getPurchase", &[("purchase_id", &a_purchase)]).await.status, 404);
    assert_eq!(sb.call(Some(READONLY_KEY), "getPurchase", &[("purchase_id", &a_purchase)]).await.status, 404);
    // Writes stay inside their account.
    let g = sb.call(Some("sandbox-tenant-a"), "createProductGroup", &[("data[name]", "Only A")]).await.data();
    let gid = s(&g["product_group_id"]);
    assert_eq!(sb.call(Some("sandbox-tenant-b"), "getProductGroup", &[("product_group_id", &gid)]).await.status, 404);
    let listed = sb.call(Some("sandbox-tenant-b"), "listProductGroups", &[]).await.data();
    assert!(listed["items"].as_array().unwrap().iter().all(|x| x["name"] != "Only A"));
    // A key containing "readonly" has read access only.
    assert_eq!(sb.call(Some("sandbox-tenant-c-readonly"), "createProductGroup", &[("data[name]", "x")]).await.status, 403);
    sb.call(Some("sandbox-tenant-c-readonly"), "listProducts", &[]).await.data();
}

// ── faults ────────────────────────────────────────────────────────────────

#[tokio::test]
async fn every_fault_kind() {
    let sb = Sandbox::default().await;
    sb.arm(json!({"kind": "http500", "function": "listProducts"})).await;
    // Other functions are not affected.
    sb.read("ping", &[]).await;
    let a = sb.call(Some(READONLY_KEY), "listProducts", &[]).await;
    assert_eq!(a.status, 500);
    assert_eq!(a.json()["result"], "error");
    sb.read("listProducts", &[]).await;

    sb.arm(json!({"kind": "http429", "count": 2})).await;
    for _ in 0..2 {
        let a = sb.call(Some(READONLY_KEY), "ping", &[]).await;
        assert_eq!(a.status, 429);
        assert_eq!(a.headers.get("retry-after").unwrap(), "2");
    }
    sb.read("ping", &[]).await;

    sb.arm(json!({"kind": "not_json"})).await;
    let a = sb.call(Some(READONLY_KEY), "ping", &[]).await;
    assert_eq!(a.status, 200);
    assert!(serde_json::from_str::<Value>(&a.text).is_err());
    assert!(a.text.contains("<html"));

    sb.arm(json!({"kind": "error_envelope"})).await;
    let a = sb.call(Some(READONLY_KEY), "ping", &[]).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["result"], "error");

    sb.arm(json!({"kind": "timeout", "function": "ping"})).await;
    let started = Instant::now();
    let r = sb
        .http
        .post(format!("{}/api/call/ping", sb.base))
        .header("X-DS-API-KEY", READONLY_KEY)
        .timeout(Duration::from_millis(800))
        .send()
        .await;
    assert!(r.is_err() && r.unwrap_err().is_timeout());
    assert!(started.elapsed() >= Duration::from_millis(700));

    // Bad fault requests and clearing.
    let r = sb.http.post(format!("{}/sandbox/faults", sb.base)).json(&json!({"kind": "meltdown"})).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 400);
    sb.arm(json!({"kind": "http500", "count": 5})).await;
    let h: Value = sb.http.get(format!("{}/sandbox/health", sb.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["pending_faults"], 1);
    let cleared: Value = sb.http.delete(format!("{}/sandbox/faults", sb.base)).send().await.unwrap().json().await.unwrap();
    assert_eq!(cleared["cleared"], 1);
    sb.read("ping", &[]).await;
}

#[tokio::test]
async fn fault_rate_and_latency_from_config() {
    let sb = Sandbox::start(SandboxConfig { fault_rate: 1.0, ..Default::default() }).await;
    assert_eq!(sb.call(Some(READONLY_KEY), "ping", &[]).await.status, 500);
    let sb = Sandbox::start(SandboxConfig { latency_ms: 150, ..Default::default() }).await;
    let t = Instant::now();
    sb.read("ping", &[]).await;
    assert!(t.elapsed() >= Duration::from_millis(150));
}

// ── every function ────────────────────────────────────────────────────────

#[tokio::test]
async fn every_catalogued_function_answers_with_data() {
    let sb = Sandbox::default().await;
    let samples = collect_samples(&sb).await;
    let mut failures = Vec::new();
    for f in catalog::FUNCTIONS {
        let args = derive_args(f, &samples);
        let a = sb.call_owned(WRITABLE_KEY, f.name, &args).await;
        let v: Value = match serde_json::from_str(&a.text) {
            Ok(v) => v,
            Err(_) => {
                failures.push(format!("{}: not JSON", f.name));
                continue;
            }
        };
        let non_empty = match &v["data"] {
            Value::Object(m) => !m.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => false,
        };
        if a.status != 200 || v["result"] != "success" || !non_empty {
            failures.push(format!("{} ({args:?}) -> {} {}", f.name, a.status, a.text.chars().take(300).collect::<String>()));
        }
    }
    assert!(failures.is_empty(), "{} function(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn state_changes_show_in_later_reads() {
    let sb = Sandbox::default().await;
    let product = s(&sb.read("listProducts", &[]).await["products"][3]["id"]);
    let plan = s(&sb.write("createPaymentplan", &[("product_id", &product), ("data[first_amount]", "12.34")]).await["paymentplan_id"]);
    let plans = sb.read("listPaymentPlans", &[("product_id", &product)]).await;
    assert!(plans["items"].as_array().unwrap().iter().any(|p| p["id"] == plan.as_str() && p["first_amount"] == "12.34"));
    sb.write("updateUpsells", &[("product_id", &product), ("data[y]", &s(&sb.read("listProducts", &[]).await["products"][4]["id"]))]).await;
    assert!(sb.write("getUpsells", &[("product_id", &product)]).await["upsells"]["y"].is_string());
    let o = s(&sb.write("createOrderform", &[("data[name]", "Checkout B"), ("data[step_count]", "2")]).await["orderform_id"]);
    sb.write("updateOrderform", &[("orderform_id", &o), ("data[custom_css]", "body{}")]).await;
    let form = sb.read("getOrderform", &[("orderform_id", &o)]).await["orderform"].clone();
    assert_eq!(form["custom_css"], "body{}");
    assert_eq!(form["step_count"], "2");
    let i = s(&sb.write("createImage", &[("data[name]", "hero"), ("data[image-url]", "https://example.com/hero.jpg")]).await["image_id"]);
    assert_eq!(sb.read("getImage", &[("image_id", &i)]).await["image"]["name"], "hero");
    sb.write("deleteImage", &[("image_id", &i)]).await;
    assert_eq!(sb.call(Some(READONLY_KEY), "getImage", &[("image_id", &i)]).await.status, 404);
    let u = s(&sb
        .write(
            "createUpgrade",
            &[("name", "Up"), ("to_product_id", &product), ("upgrade_from", &s(&sb.read("listProducts", &[]).await["products"][5]["id"]))],
        )
        .await["upgrade_id"]);
    assert!(sb.read("listUpgrades", &[]).await["upgrades"].as_array().unwrap().iter().any(|x| x["id"] == u.as_str()));
    let pol = s(&sb
        .write(
            "createShippingCostPolicy",
            &[
                ("data[name]", "Express"),
                ("data[scale_level_count]", "2"),
                ("data[scale_1_amount]", "9.90"),
                ("data[scale_2_from]", "3"),
                ("data[scale_2_amount]", "4.90"),
                ("data[label_de]", "Express"),
            ],
        )
        .await["policy_id"]);
    let p = sb.read("getShippingCostPolicy", &[("policy_id", &pol)]).await["policy"].clone();
    assert_eq!(p["scale_2_amount"], "4.90");
    assert_eq!(p["label_de"], "Express");
    // Nested list arguments (PHP bracket notation) reach the handler intact.
    let d = sb
        .write(
            "createBuyUrl",
            &[
                ("product_id", &product),
                ("settings[pay_methods][0]", "paypal"),
                ("settings[pay_methods][1]", "creditcard"),
                ("addons[0][product_id]", &product),
                ("valid_until", "forever"),
            ],
        )
        .await;
    assert_eq!(d["valid_until"], "forever");
    let bad = sb.call(Some(WRITABLE_KEY), "createBuyUrl", &[("product_id", &product), ("settings[pay_methods][0]", "bitcoin")]).await;
    assert_eq!(bad.status, 400, "enum values inside lists are checked");
}
