//! Valid arguments for every catalogued function, built from a seeded
//! sandbox account: ids come from list calls, and the records that delete
//! calls remove are created first.

use super::sandbox::{Sandbox, all_purchases, s};
use digistore24_mcp::catalog::{self, Kind};
use digistore24_mcp::sandbox::WRITABLE_KEY;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

/// Ids taken from the seeded account, for building valid arguments.
pub struct Samples {
    pub v: BTreeMap<&'static str, String>,
}

impl Samples {
    pub fn get(&self, k: &str) -> String {
        self.v.get(k).cloned().unwrap_or_else(|| panic!("no sample {k}"))
    }
}

pub async fn collect_samples(sb: &Sandbox) -> Samples {
    let mut v = BTreeMap::new();
    let all = all_purchases(sb, WRITABLE_KEY).await;
    let rebillable = |p: &&Value| {
        ["creditcard", "paypal", "elv"].contains(&p["pay_method"].as_str().unwrap_or(""))
            && p["refund_status"] == "none"
            && p["is_chargeback"] == "N"
    };
    // Each destructive call gets an order of its own, so one call cannot spoil another's.
    let mut used: HashSet<String> = HashSet::new();
    let upgrades = sb.write("listUpgrades", &[]).await["upgrades"].as_array().unwrap().clone();
    let up = upgrades.iter().find(|u| !s(&u["upgrade_from"]).is_empty()).unwrap();
    v.insert("upgrade", s(&up["id"]));
    let from: Vec<String> = s(&up["upgrade_from"]).split(',').map(str::to_string).collect();
    let upgradable = all.iter().filter(rebillable).find(|p| from.contains(&s(&p["product_id"]))).expect("an upgradable order");
    v.insert("upgrade_purchase", s(&upgradable["id"]));
    used.insert(s(&upgradable["id"]));
    let subs: Vec<&Value> = all
        .iter()
        .filter(|p| p["billing_type"] == "subscription" && p["rebilling_active"] == "Y" && !used.contains(&s(&p["id"])))
        .filter(rebillable)
        .collect();
    assert!(subs.len() >= 6, "not enough active subscriptions: {}", subs.len());
    for (i, name) in ["sub_billing", "sub_addon", "sub_rebill", "sub_update", "sub_stop", "sub_other"].iter().enumerate() {
        v.insert(*name, s(&subs[i]["id"]));
        used.insert(s(&subs[i]["id"]));
    }
    let singles: Vec<&Value> = all
        .iter()
        .filter(|p| p["billing_type"] == "single_payment" && p["order_type"] == "live" && !used.contains(&s(&p["id"])))
        .filter(rebillable)
        .collect();
    v.insert("single_refund", s(&singles[0]["id"]));
    v.insert("single_partial", s(&singles[1]["id"]));
    v.insert("purchase", s(&singles[2]["id"]));
    let email = s(&sb.write("getPurchase", &[("purchase_id", &s(&singles[2]["id"]))]).await["buyer"]["email"]);
    v.insert("email", email);
    let with_aff = all.iter().find(|p| p["affiliate_id"] != "").unwrap();
    v.insert("affiliate", s(&with_aff["affiliate_id"]));
    v.insert("affiliate_name", s(&with_aff["affiliate_name"]));
    let other_aff = all.iter().find(|p| p["affiliate_id"] != "" && p["affiliate_id"] != with_aff["affiliate_id"]).unwrap();
    v.insert("affiliate2", s(&other_aff["affiliate_id"]));
    let products = sb.write("listProducts", &[]).await["products"].as_array().unwrap().clone();
    v.insert("product", s(&products[0]["id"]));
    v.insert("product2", s(&products[1]["id"]));
    let event = products.iter().find(|p| p["product_type_id"] == "6").unwrap();
    v.insert("event_product", s(&event["id"]));
    let tx = sb
        .write(
            "listTransactions",
            &[("from", "start"), ("search[transaction_type]", "payment"), ("search[purchase_id]", &s(&singles[3]["id"]))],
        )
        .await;
    v.insert("transaction", s(&tx["transaction_list"][0]["id"]));
    let tx =
        sb.write("listTransactions", &[("from", "start"), ("search[transaction_type]", "payment"), ("search[has_affiliate]", "Y")]).await;
    v.insert("transaction_aff", s(&tx["transaction_list"][0]["id"]));
    v.insert("buyer", s(&sb.write("listBuyers", &[]).await["items"][0]["id"]));
    v.insert("group", s(&sb.write("listProductGroups", &[]).await["items"][0]["id"]));
    v.insert("plan", s(&sb.write("listPaymentPlans", &[("product_id", &v["product"])]).await["items"][0]["id"]));
    v.insert("orderform", s(&sb.write("listOrderforms", &[]).await["orderforms"][0]["id"]));
    v.insert("policy", s(&sb.write("listShippingCostPolicies", &[]).await["items"][0]["id"]));
    v.insert("delivery", s(&sb.write("listDeliveries", &[]).await["delivery"][0]["id"]));
    let ticket = sb.write("listEtickets", &[]).await["etickets"][0].clone();
    v.insert("eticket", s(&ticket["id"]));
    v.insert("eticket_location", s(&ticket["location_id"]));
    v.insert("eticket_template", s(&ticket["template_id"]));
    v.insert("image", s(&sb.write("listImages", &[("usage_type", "product")]).await["images"][0]["id"]));
    v.insert("smartupgrade", s(&sb.write("listSmartUpgrades", &[]).await["smartupgrades"][0]["id"]));
    v.insert("marketplace", s(&sb.write("listMarketplaceEntries", &[]).await["entries"][0]["id"]));
    v.insert("service_proof", s(&sb.write("listServiceProofRequests", &[]).await["items"][0]["id"]));
    // Records the delete functions may remove without disturbing anything else.
    v.insert("del_product", s(&sb.write("createProduct", &[("data[name]", "To delete")]).await["product_id"]));
    v.insert("del_group", s(&sb.write("createProductGroup", &[("data[name]", "To delete")]).await["product_group_id"]));
    v.insert(
        "del_plan",
        s(&sb.write("createPaymentplan", &[("product_id", &v["product"]), ("data[first_amount]", "9.00")]).await["paymentplan_id"]),
    );
    v.insert("del_buyurl", s(&sb.write("createBuyUrl", &[("product_id", &v["product"])]).await["id"]));
    sb.write("createVoucher", &[("data[code]", "DELETEME"), ("data[first_amount]", "5.00")]).await;
    v.insert("del_orderform", s(&sb.write("createOrderform", &[("data[name]", "To delete")]).await["orderform_id"]));
    v.insert("del_upgrade", s(&sb.write("createUpgrade", &[("name", "To delete"), ("to_product_id", &v["product2"])]).await["upgrade_id"]));
    v.insert("del_policy", s(&sb.write("createShippingCostPolicy", &[("data[name]", "To delete")]).await["policy_id"]));
    v.insert(
        "del_image",
        s(&sb.write("createImage", &[("data[name]", "to-delete"), ("data[image-url]", "https://example.com/a.png")]).await["image_id"]),
    );
    v.insert(
        "token",
        s(&sb.write("requestApiKey", &[("permissions", "writable"), ("return_url", "https://example.com/back")]).await["request_token"]),
    );
    Samples { v }
}

/// A valid value for a required argument, by its name.
pub fn by_name(name: &str, s: &Samples) -> Option<String> {
    Some(match name {
        "purchase_id" | "purchase_ids" => s.get("purchase"),
        "product_id" => s.get("product"),
        "product_ids" => s.get("product"),
        "to_product_id" => s.get("product2"),
        "buyer_id" => s.get("buyer"),
        "affiliate_id" | "affiliate" => s.get("affiliate"),
        "referrer_id" => s.get("affiliate2"),
        "affiliate_name" => s.get("affiliate_name"),
        "email" => s.get("email"),
        "transaction_id" => s.get("transaction"),
        "product_group_id" => s.get("group"),
        "paymentplan_id" => s.get("plan"),
        "orderform_id" => s.get("orderform"),
        "policy_id" => s.get("policy"),
        "delivery_id" => s.get("delivery"),
        "eticket_id" => s.get("eticket"),
        "location_id" => s.get("eticket_location"),
        "template_id" => s.get("eticket_template"),
        "image_id" => s.get("image"),
        "smartupgrade_id" => s.get("smartupgrade"),
        "entry_id" => s.get("marketplace"),
        "service_proof_id" => s.get("service_proof"),
        "upgrade_id" => s.get("upgrade"),
        "code" => "WELCOME10".into(),
        "amount" => "2.00".into(),
        "name" => "Sandbox test".into(),
        "comment" => "Test report".into(),
        "who" => "buyer".into(),
        "usage_type" => "product".into(),
        "type" => "smartupgrade,countdown".into(),
        "token" => s.get("token"),
        "domain_id" => "sandbox-crm".into(),
        "ipn_url" => "https://example.com/ipn".into(),
        "return_url" => "https://example.com/back".into(),
        "permissions" => "readonly".into(),
        "license_key" => "AAAA-BBBB-CCCC-DDDD".into(),
        "date" => "today".into(),
        "from" => "2024-01".into(),
        "to" => "now".into(),
        "platform_name" => "Academy".into(),
        "login_name" => "member1".into(),
        "login_url" => "https://example.com/login".into(),
        "number_of_unlocked_lectures" => "3".into(),
        "total_number_of_lectures" => "10".into(),
        "id" => s.get("del_buyurl"),
        _ => return None,
    })
}

/// Arguments a function needs beyond what its required parameters' names give.
pub fn extras(f: &str, s: &Samples) -> Vec<(String, String)> {
    let v = |pairs: &[(&str, String)]| pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect::<Vec<_>>();
    match f {
        "updatePurchase" => v(&[("purchase_id", s.get("sub_update")), ("data[custom]", "crm-42".into())]),
        "addBalanceToPurchase" => v(&[("purchase_id", s.get("sub_update"))]),
        "refundPurchase" => v(&[("purchase_id", s.get("single_refund")), ("force", "Y".into())]),
        "refundPartially" => v(&[("purchase_id", s.get("single_partial"))]),
        "createAddonChangePurchase" => {
            v(&[("purchase_id", s.get("sub_addon")), ("addons[0][product_id]", s.get("product2")), ("addons[0][amount]", "5.00".into())])
        }
        "createBillingOnDemand" => v(&[("purchase_id", s.get("sub_billing")), ("payment_plan[first_amount]", "19.00".into())]),
        "createRebillingPayment" => v(&[("purchase_id", s.get("sub_rebill"))]),
        "startRebilling" | "stopRebilling" => v(&[("purchase_id", s.get("sub_stop"))]),
        "refundTransaction" => v(&[("force", "Y".into())]),
        "reportFraud" => v(&[("transaction_id", s.get("transaction_aff")), ("who", "affiliate".into())]),
        "createProduct" => v(&[("data[name]", "Every-function product".into())]),
        "updateProduct" => v(&[("data[name_intern]", "renamed".into())]),
        "copyProduct" => v(&[("data[name_intern]", "copy".into())]),
        "deleteProduct" => v(&[("product_id", s.get("del_product"))]),
        "createProductGroup" | "updateProductGroup" => v(&[("data[name]", "Group X".into())]),
        "deleteProductGroup" => v(&[("product_group_id", s.get("del_group"))]),
        "updateUpsells" => v(&[("data[y]", s.get("product2"))]),
        "createBuyUrl" => v(&[("buyer[email]", "buyer@example.com".into()), ("settings[pay_methods][0]", "paypal".into())]),
        "deleteBuyUrl" => v(&[("id", s.get("del_buyurl"))]),
        "updateBuyer" => v(&[("data[city]", "Köln".into())]),
        "updateAffiliateCommission" => v(&[("data[commission_rate]", "40".into())]),
        "setAffiliateForEmail" => v(&[("email", "future@example.com".into())]),
        "getAffiliateForEmail" => v(&[("email", "prospect.one@example.com".into())]),
        "createVoucher" => v(&[("data[code]", "EVERYFN".into()), ("data[first_rate]", "10".into())]),
        "updateVoucher" => v(&[("data[other_rates]", "5".into())]),
        "deleteVoucher" => v(&[("code", "DELETEME".into())]),
        "createOrderform" | "updateOrderform" => v(&[("data[name]", "Form X".into())]),
        "deleteOrderform" => v(&[("orderform_id", s.get("del_orderform"))]),
        "createPaymentplan" => v(&[
            ("data[first_amount]", "29.00".into()),
            ("data[number_of_installments]", "0".into()),
            ("data[first_billing_interval]", "1_month".into()),
        ]),
        "updatePaymentplan" => v(&[("data[first_amount]", "31.00".into())]),
        "deletePaymentplan" => v(&[("paymentplan_id", s.get("del_plan"))]),
        "deleteUpgrade" => v(&[("upgrade_id", s.get("del_upgrade"))]),
        "createUpgradePurchase" => v(&[("purchase_ids", s.get("upgrade_purchase"))]),
        "getUpgrade" => v(&[("order_ids", s.get("upgrade_purchase"))]),
        "createShippingCostPolicy" | "updateShippingCostPolicy" => {
            v(&[("data[name]", "Policy X".into()), ("data[scale_1_amount]", "3.90".into())])
        }
        "deleteShippingCostPolicy" => v(&[("policy_id", s.get("del_policy"))]),
        "updateDelivery" => v(&[
            ("data[is_shipped]", "Y".into()),
            ("tracking[0][parcel_service]", "dhl".into()),
            ("tracking[0][tracking_id]", "00340434".into()),
        ]),
        "createEticket" => v(&[("product_id", s.get("event_product")), ("buyer[email]", "guest@example.com".into())]),
        "createImage" => v(&[("data[name]", "logo".into()), ("data[image-url]", "https://example.com/logo.png".into())]),
        "deleteImage" => v(&[("image_id", s.get("del_image"))]),
        "updateServiceProofRequest" => {
            v(&[("data[request_status]", "proof_provided".into()), ("data[message]", "Attended all sessions".into())])
        }
        "statsAffiliateToplist" => v(&[("from", "2020-01".into()), ("to", "2099-12".into())]),
        "statsSales" => v(&[("period", "month".into())]),
        "ipnSetup" => v(&[("product_ids", "all".into())]),
        "validateEticket" => v(&[("date", "2000-01-01".into())]),
        _ => Vec::new(),
    }
}

pub fn derive_args(f: &catalog::Function, s: &Samples) -> Vec<(String, String)> {
    let mut args: Vec<(String, String)> = Vec::new();
    for p in f.params.iter().filter(|p| p.required) {
        match &p.kind {
            Kind::Object(fields) => {
                for q in fields.iter().filter(|q| q.required) {
                    if let Some(val) = by_name(q.name, s) {
                        args.push((format!("{}[{}]", p.name, q.name), val));
                    }
                }
            }
            Kind::Map(_) | Kind::List(_) => {}
            _ => {
                if let Some(val) = by_name(p.name, s) {
                    args.push((p.name.to_string(), val));
                }
            }
        }
    }
    for (k, val) in extras(f.name, s) {
        args.retain(|(x, _)| *x != k);
        args.push((k, val));
    }
    args
}
