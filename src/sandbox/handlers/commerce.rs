//! Handlers of the selling-setup toolsets: `buy_urls`, `vouchers`, `orderforms`,
//! `upgrades`, `conversion_tools` and `shipping`.
//!
//! Owns: checkout links, discount codes, order-form designs, upgrade paths and
//! upgrade orders, conversion widgets and shipping cost rules. Must not touch:
//! HTTP, other accounts; new orders go through `billing::new_order`.

use super::billing::{OrderSpec, new_order, rebill_capable};
use super::views;
use super::{Ctx, Res, check_url_arg};
use crate::sandbox::args::{Args, Cents, money, split_csv, yn};
use crate::sandbox::dates::{Bound, fmt_dt, fmt_opt_date, parse_offset, parse_point};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

// ── buy URLs ──────────────────────────────────────────────────────────────

/// createBuyUrl: a signed, time-limited checkout link.
pub fn create_buy_url(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.buy_urls.len(), "buy URLs")?;
    let product = a.product_by_text(args.req_str("product_id")?)?.clone();
    let urls = args.obj("urls");
    for f in ["thankyou_url", "fallback_url", "upgrade_error_url"] {
        check_url_arg(urls, f)?;
    }
    let valid_until = match args.str("valid_until").unwrap_or("24h") {
        v if v.eq_ignore_ascii_case("forever") => None,
        v => {
            let t = parse_offset(v, ctx.now)
                .map(Ok)
                .unwrap_or_else(|| parse_point(v, ctx.now, Bound::Upper))
                .map_err(|e| ApiError::params(format!("Argument valid_until: {e} (or 'forever')")))?;
            if t <= ctx.now {
                return Err(ApiError::params(format!(
                    "Argument valid_until '{v}' lies in the past; use a lifetime such as 24h, 7d or forever"
                )));
            }
            Some(t)
        }
    };
    let tracking = args.obj("tracking");
    if let Some(aff) = tracking.str("affiliate") {
        a.find_affiliate(aff).ok_or_else(|| ApiError::no_such("Affiliate", aff))?;
    }
    let plan = args.obj("payment_plan");
    for f in ["first_amount", "other_amounts"] {
        if plan.amount(f)?.is_some_and(|x| x < 0) {
            return Err(ApiError::params(format!("payment_plan[{f}] must not be negative")));
        }
    }
    if let Some(n) = plan.int("number_of_installments")?
        && n < 0
    {
        return Err(ApiError::params("payment_plan[number_of_installments] must be 0 or more"));
    }
    let upgrade_status = match plan.str("upgrade_order_id") {
        None => "none",
        Some(order) if a.purchase(order).is_some() => "ok",
        Some(_) => "error",
    };
    for (i, v) in args.list("addons").iter().enumerate() {
        let ad = Args::element(v);
        if let Some(pid) = ad.str("product_id") {
            a.product_by_text(pid).map_err(|e| ApiError::not_found(format!("{} (addons[{i}][product_id])", e.message)))?;
        }
    }
    let mut snapshot = Map::new();
    for k in args.keys().filter(|k| k.as_str() != "product_id") {
        if let Some(v) = args.value(k) {
            snapshot.insert(k.clone(), v.clone());
        }
    }
    let id = a.next_id("buy_url");
    let secret = a.new_secret(20);
    let url = format!("{CHECKOUT_URL}/product/{}/?ds24id={id}-{secret}", product.id);
    a.buy_urls.insert(
        id,
        BuyUrl {
            id,
            product_id: product.id,
            url: url.clone(),
            valid_until,
            settings: Value::Object(snapshot),
            upgrade_status: upgrade_status.into(),
            created_at: ctx.now,
            modified_at: ctx.now,
        },
    );
    Ok(json!({
        "id": id.to_string(),
        "url": url,
        "valid_until": valid_until.map(fmt_dt).unwrap_or_else(|| "forever".into()),
        "upgrade_status": upgrade_status,
    }))
}

/// listBuyUrls: the links made with createBuyUrl.
pub fn list_buy_urls(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(json!({"items": a.buy_urls.values().map(views::buy_url).collect::<Vec<_>>()}))
}

/// deleteBuyUrl: invalidates a link.
pub fn delete_buy_url(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let raw = args.req_str("id")?;
    let id = raw.parse::<u64>().ok().filter(|i| a.buy_urls.contains_key(i)).ok_or_else(|| ApiError::no_such("Buy URL", raw))?;
    a.buy_urls.remove(&id);
    Ok(json!({"id": id.to_string(), "is_deleted": "Y"}))
}

// ── vouchers ──────────────────────────────────────────────────────────────

/// listVouchers: every discount code.
pub fn list_vouchers(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(json!({"coupons": a.vouchers.values().map(views::voucher).collect::<Vec<_>>(), "are_returned_data_public": "N"}))
}

fn voucher_id(a: &Account, args: Args<'_>) -> Result<u64, ApiError> {
    let code = args.req_str("code")?;
    a.find_voucher_id(code).ok_or_else(|| ApiError::no_such("Voucher", code))
}

/// getVoucher: one discount code.
pub fn get_voucher(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = voucher_id(a, args)?;
    Ok(json!({"coupon": views::voucher(&a.vouchers[&id])}))
}

fn valid_code(code: &str) -> bool {
    (1..=40).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn apply_voucher_fields(a: &Account, v: &mut Voucher, data: Args<'_>, ctx: &Ctx<'_>) -> Result<bool, ApiError> {
    let before = format!("{v:?}");
    if let Some(code) = data.str("code") {
        if !valid_code(code) {
            return Err(ApiError::params(format!("Invalid voucher code '{code}': use up to 40 letters, digits, - or _")));
        }
        if a.vouchers.values().any(|o| o.id != v.id && o.code.eq_ignore_ascii_case(code)) {
            return Err(ApiError::params(format!("The voucher code '{code}' is already in use")));
        }
        v.code = code.to_string();
    }
    if let Some(ids) = data.str("product_ids") {
        if ids.eq_ignore_ascii_case("all") {
            v.product_ids = None;
        } else {
            let mut list = Vec::new();
            for part in split_csv(ids) {
                list.push(a.product_by_text(part)?.id);
            }
            v.product_ids = Some(list);
        }
    }
    if data.sent("valid_from") {
        v.valid_from = data.point("valid_from", ctx.now, Bound::Lower)?;
    }
    if data.sent("expires_at") {
        v.expires_at = data.point("expires_at", ctx.now, Bound::Upper)?;
    }
    for (field, slot, pct) in [
        ("first_rate", &mut v.first_rate, true),
        ("other_rates", &mut v.other_rates, true),
        ("first_amount", &mut v.first_amount, false),
        ("other_amounts", &mut v.other_amounts, false),
    ] {
        if let Some(x) = data.amount(field)? {
            if x < 0 || (pct && x > 10_000) {
                return Err(ApiError::params(format!(
                    "data[{field}] must be {}",
                    if pct { "a percentage between 0 and 100" } else { "0 or more" }
                )));
            }
            *slot = x;
        }
    }
    if let Some(c) = data.str("currency") {
        v.currency = c.to_ascii_uppercase();
    }
    if let Some(b) = data.bool("is_count_limited")? {
        v.is_count_limited = b;
    }
    if let Some(n) = data.int("count_left")? {
        if n < 0 {
            return Err(ApiError::params("data[count_left] must be 0 or more"));
        }
        v.count_left = n;
    }
    if let Some(p) = data.one_of("upgrade_policy", &["valid", "other_only", "not_valid"])? {
        v.upgrade_policy = p.to_string();
    }
    if v.first_rate == 0 && v.other_rates == 0 && v.first_amount == 0 && v.other_amounts == 0 {
        return Err(ApiError::params(
            "A voucher needs a discount: give data[first_rate], data[other_rates], data[first_amount] or data[other_amounts]",
        ));
    }
    Ok(before != format!("{v:?}"))
}

/// createVoucher: a new discount code.
pub fn create_voucher(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.vouchers.len(), "vouchers")?;
    let data = args.obj("data");
    data.req_str("code")?;
    let mut v = Voucher {
        id: 0,
        code: String::new(),
        product_ids: None,
        valid_from: None,
        expires_at: None,
        first_rate: 0,
        other_rates: 0,
        first_amount: 0,
        other_amounts: 0,
        currency: a.vendor.currency.clone(),
        is_count_limited: false,
        count_left: 1,
        upgrade_policy: "valid".into(),
        is_test: false,
        created_at: ctx.now,
        modified_at: ctx.now,
    };
    apply_voucher_fields(a, &mut v, data, ctx)?;
    v.id = a.next_id("voucher");
    let (id, code) = (v.id, v.code.clone());
    a.vouchers.insert(id, v);
    Ok(json!({"discount_code_id": id.to_string(), "code": code}))
}

/// updateVoucher: changes (or renames) a discount code.
pub fn update_voucher(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = voucher_id(a, args)?;
    let mut v = a.vouchers[&id].clone();
    let m = apply_voucher_fields(a, &mut v, args.obj("data"), ctx)?;
    if m {
        v.modified_at = ctx.now;
    }
    let code = v.code.clone();
    a.vouchers.insert(id, v);
    Ok(json!({"discount_code_id": id.to_string(), "code": code, "modified": yn(m)}))
}

/// deleteVoucher: removes a discount code.
pub fn delete_voucher(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = voucher_id(a, args)?;
    let v = a.vouchers.remove(&id).expect("checked");
    Ok(json!({"discount_code_id": id.to_string(), "code": v.code, "is_deleted": "Y"}))
}

/// validateCouponCode: whether a code can be used now, and its value.
pub fn validate_coupon_code(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let code = args.req_str("code")?;
    let Some(id) = a.find_voucher_id(code) else {
        return Ok(json!({"status": "error", "status_msg": format!("The voucher code '{code}' is not valid"), "code": code}));
    };
    let v = &a.vouchers[&id];
    let problem = if v.valid_from.is_some_and(|t| t > ctx.now) {
        Some(format!("The voucher code is valid from {}", fmt_dt(v.valid_from.expect("some"))))
    } else if v.expires_at.is_some_and(|t| t < ctx.now) {
        Some(format!("The voucher code expired on {}", fmt_dt(v.expires_at.expect("some"))))
    } else if v.is_count_limited && v.count_left <= 0 {
        Some("The voucher code has been used up".to_string())
    } else {
        None
    };
    let amount = if v.first_amount > 0 { v.first_amount } else { v.first_rate };
    Ok(json!({
        "status": if problem.is_some() { "error" } else { "success" },
        "status_msg": problem.unwrap_or_else(|| "The voucher code is valid".into()),
        "code": v.code,
        "currency": v.currency,
        "coupon_id": v.id.to_string(),
        "amount_left": money(if v.is_count_limited { amount * v.count_left } else { amount }),
        "amount_total": money(amount),
        "is_test_payment": yn(v.is_test),
    }))
}

// ── order forms ───────────────────────────────────────────────────────────

/// listOrderforms: the order-form designs, optionally of one layout.
pub fn list_orderforms(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let layout = args.one_of("layout", &["all", "orderform_responsive", "orderform_widget", "orderform_legacy"])?.unwrap_or("all");
    let want = layout.strip_prefix("orderform_");
    let list: Vec<Value> = a
        .orderforms
        .values()
        .filter(|o| want.is_none_or(|w| o.layout == w))
        .map(|o| json!({"id": o.id.to_string(), "name": o.name, "layout": o.layout, "created_at": fmt_dt(o.created_at), "modified_at": fmt_dt(o.modified_at)}))
        .collect();
    Ok(json!({"orderforms": list, "layout": layout}))
}

fn orderform_id(a: &Account, args: Args<'_>) -> Result<u64, ApiError> {
    let raw = args.req_str("orderform_id")?;
    raw.parse::<u64>().ok().filter(|i| a.orderforms.contains_key(i)).ok_or_else(|| ApiError::no_such("Order form", raw))
}

/// getOrderform: one design with all settings.
pub fn get_orderform(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = orderform_id(a, args)?;
    Ok(json!({"orderform": views::orderform(&a.orderforms[&id])}))
}

/// getOrderformMetas: the option lists and placeholders for editing order forms.
pub fn get_orderform_metas(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let positions = json!({"before_playplan": "Before the payment plan", "after_payplan": "After the payment plan", "before_checkout": "Before checkout", "before_pay_button": "Before the pay button", "after_pay_button": "After the pay button"});
    let images = |usage: &str| -> Map<String, Value> {
        a.images.values().filter(|i| i.usage_type == usage).map(|i| (i.id.clone(), json!(i.name))).collect()
    };
    let products: Map<String, Value> = a.products.values().filter(|p| !p.is_deleted).map(|p| (p.id.to_string(), json!(p.name))).collect();
    Ok(json!({
        "placeholders": {
            "images": {"[[RED_ARROW]]": format!("<img src='{SITE_URL}/images/orderform/red_arrow_right.png' alt='' class='order_bump_icon' />")},
            "other": {"[[INPUT]]": "", "[[PRICE]]": "123 €"},
        },
        "options": {
            "image": {"orderform_header": images("orderform_header"), "orderform_favicon": images("orderform_favicon"), "orderform_widget_tab": images("orderform_widget_tab")},
            "background_style": {"white": "White", "blue": "Blue"},
            "step_count": {"1": "One step", "2": "Two steps", "3": "Three steps"},
            "tab_style": {"bigtabs": "Text", "image": "Upload images", "image_url": "Images by URL"},
            "shipping_position": {"after_cart": "After the cart", "before_cart": "Before the cart"},
            "summary_positions": positions,
            "refund_waiver_position": positions,
            "orderbump_position": positions,
            "flex_elements_order": {"order_bumper,order_summary,refund_waiver": "Order bump, summary, refund waiver", "order_summary,order_bumper,refund_waiver": "Summary, order bump, refund waiver"},
            "layout": {"widget": "Widget", "legacy": "Legacy"},
            "product": products,
        },
        "form_metas": {"custom_css": {"max_length": 65535}, "name": {"max_length": 63}},
    }))
}

const ORDERFORM_ENUMS: &[(&str, &[&str])] = &[
    ("background_style", &["white", "blue"]),
    ("step_count", &["1", "2", "3"]),
    ("shipping_position", &["after_cart", "before_cart"]),
    ("tab_style", &["bigtabs", "image", "image_url"]),
    ("order_bump_style", &["none", "dashed"]),
    ("orderbump_position", &["before_playplan", "after_payplan", "before_checkout", "before_pay_button", "after_pay_button"]),
    ("refund_waiver_position", &["before_playplan", "after_payplan", "before_checkout", "before_pay_button", "after_pay_button"]),
];

fn apply_orderform_fields(a: &Account, o: &mut Orderform, data: Args<'_>) -> Result<bool, ApiError> {
    let before = format!("{o:?}");
    if let Some(n) = data.str("name") {
        if n.chars().count() > 63 {
            return Err(ApiError::params("data[name] may have at most 63 characters"));
        }
        o.name = n.to_string();
    }
    if let Some(l) = data.one_of("layout", &["widget", "legacy"])? {
        o.layout = l.to_string();
    }
    for (field, allowed) in ORDERFORM_ENUMS {
        data.one_of(field, allowed)?;
    }
    if let Some(pid) = data.str("product_id") {
        a.product_by_text(pid)?;
    }
    if let Some(ppid) = data.str("paymentplan_id") {
        ppid.parse::<u64>().ok().filter(|i| a.payment_plans.contains_key(i)).ok_or_else(|| ApiError::no_such("Payment plan", ppid))?;
    }
    for flag in ["is_active", "is_default"] {
        if let Some(b) = data.bool(flag)? {
            o.settings.insert(flag.to_string(), json!(yn(b)));
        }
    }
    for k in data.keys() {
        if matches!(k.as_str(), "name" | "layout" | "is_active" | "is_default" | "id" | "created_at" | "modified_at") {
            continue;
        }
        if let Some(v) = data.value(k) {
            o.settings.insert(k.clone(), v.clone());
        }
    }
    Ok(before != format!("{o:?}"))
}

/// createOrderform: a new order-form design.
pub fn create_orderform(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.orderforms.len(), "order forms")?;
    let data = args.obj("data");
    data.req_str("name")?;
    let mut o = Orderform {
        id: 0,
        name: String::new(),
        layout: "widget".into(),
        settings: BTreeMap::new(),
        created_at: ctx.now,
        modified_at: ctx.now,
    };
    o.settings.insert("is_active".into(), json!("Y"));
    o.settings.insert("is_default".into(), json!("N"));
    apply_orderform_fields(a, &mut o, data)?;
    o.id = a.next_id("orderform");
    let id = o.id;
    a.orderforms.insert(id, o);
    Ok(json!({"orderform_id": id.to_string()}))
}

/// updateOrderform: changes a design.
pub fn update_orderform(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = orderform_id(a, args)?;
    let mut o = a.orderforms[&id].clone();
    let m = apply_orderform_fields(a, &mut o, args.obj("data"))?;
    if m {
        o.modified_at = ctx.now;
    }
    a.orderforms.insert(id, o);
    Ok(json!({"is_modified": yn(m)}))
}

/// deleteOrderform: removes a design.
pub fn delete_orderform(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = orderform_id(a, args)?;
    a.orderforms.remove(&id);
    Ok(json!({"orderform_id": id.to_string(), "is_deleted": "Y"}))
}

// ── upgrades ──────────────────────────────────────────────────────────────

/// listUpgrades: every upgrade definition.
pub fn list_upgrades(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(json!({"upgrades": a.upgrades.values().map(|u| views::upgrade(a, u)).collect::<Vec<_>>()}))
}

/// Resolves `NNN` or `NNN-authkey`.
fn upgrade_by_text(a: &Account, raw: &str) -> Result<u64, ApiError> {
    let (id_part, key) = match raw.split_once('-') {
        Some((i, k)) => (i, Some(k)),
        None => (raw, None),
    };
    id_part
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|id| a.upgrades.get(&id))
        .filter(|u| key.is_none_or(|k| k == u.authkey))
        .map(|u| u.id)
        .ok_or_else(|| ApiError::no_such("Upgrade", raw))
}

fn upgrade_type_for(u: &Upgrade, product_id: u64) -> Option<&'static str> {
    if u.upgrade_from.contains(&product_id) {
        Some("upgrade")
    } else if u.downgrade_from.contains(&product_id) {
        Some("downgrade")
    } else if u.special_offer_for.contains(&product_id) {
        Some("special_offer")
    } else {
        None
    }
}

/// getUpgrade: one upgrade, and whether given orders can use it.
pub fn get_upgrade(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = upgrade_by_text(a, args.req_str("upgrade_id")?)?;
    let u = &a.upgrades[&id];
    let mut data = Map::new();
    data.insert("item".into(), views::upgrade(a, u));
    let orders = args.csv("order_ids");
    if !orders.is_empty() {
        let mut possible = None;
        let mut one_click = false;
        for o in orders {
            let p = a.purchase_or_404(o)?;
            if let Some(t) = upgrade_type_for(u, p.product_id()).filter(|_| u.is_active && p.refunded_at.is_none()) {
                possible.get_or_insert(t);
                one_click |= rebill_capable(&p.pay_method);
            }
        }
        data.insert(
            "check".into(),
            json!({
                "is_upgrade_possible": yn(possible.is_some()),
                "is_one_click_payment_possible": yn(possible.is_some() && one_click),
                "possible_upgrade_type": possible.unwrap_or(""),
            }),
        );
    }
    Ok(Value::Object(data))
}

fn product_list(a: &Account, args: Args<'_>, name: &str) -> Result<Vec<u64>, ApiError> {
    let mut out = Vec::new();
    for part in args.csv(name) {
        out.push(a.product_by_text(part)?.id);
    }
    Ok(out)
}

/// createUpgrade: an upgrade path to a target product.
pub fn create_upgrade(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.upgrades.len(), "upgrades")?;
    let name = args.req_str("name")?.to_string();
    let to = a.product_by_text(args.req_str("to_product_id")?)?.id;
    let upgrade_from = product_list(a, args, "upgrade_from")?;
    let downgrade_from = product_list(a, args, "downgrade_from")?;
    let special_offer_for = product_list(a, args, "special_offer_for")?;
    let fallback = match args.str("fallback_product_id") {
        Some(f) => Some(a.product_by_text(f)?.id),
        None => None,
    };
    let is_active = args.bool_or("is_active", true)?;
    let keys = args.one_of("buyer_readonly_keys", &["none", "email", "email_and_name", "all"])?.unwrap_or("none").to_string();
    let id = a.next_id("upgrade");
    let authkey = a.new_secret(12);
    a.upgrades.insert(
        id,
        Upgrade {
            id,
            name,
            authkey,
            to_product_id: to,
            upgrade_from,
            downgrade_from,
            special_offer_for,
            fallback_product_id: fallback,
            is_active,
            buyer_readonly_keys: keys,
            created_at: ctx.now,
            modified_at: ctx.now,
        },
    );
    Ok(json!({"upgrade_id": id.to_string()}))
}

/// deleteUpgrade: removes an upgrade path.
pub fn delete_upgrade(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = upgrade_by_text(a, args.req_str("upgrade_id")?)?;
    a.upgrades.remove(&id);
    Ok(json!({"upgrade_id": id.to_string(), "is_deleted": "Y"}))
}

/// createUpgradePurchase: carries out an upgrade on one of the given orders.
pub fn create_upgrade_purchase(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let ids = args.csv("purchase_ids");
    if ids.is_empty() {
        return Err(ApiError::missing("purchase_ids"));
    }
    let uid = upgrade_by_text(a, args.req_str("upgrade_id")?)?;
    let u = a.upgrades[&uid].clone();
    if !u.is_active {
        return Err(ApiError::params(format!("Upgrade {uid} is not active")));
    }
    let mut chosen = None;
    for id in &ids {
        let p = a.purchase_or_404(id)?;
        if p.refunded_at.is_some() || p.upgraded_to.is_some() {
            continue;
        }
        if let Some(t) = upgrade_type_for(&u, p.product_id()) {
            chosen = Some((p.clone(), t));
            break;
        }
    }
    let Some((base, kind)) = chosen else {
        return Err(ApiError::params(format!(
            "None of the orders {} can use upgrade {uid}: it applies to owners of products {}",
            ids.join(","),
            u.upgrade_from.iter().chain(&u.downgrade_from).chain(&u.special_offer_for).map(|i| i.to_string()).collect::<Vec<_>>().join(",")
        )));
    };
    if !rebill_capable(&base.pay_method) {
        return Err(ApiError::params(format!(
            "Order '{}' was paid with {}, which cannot be charged without the buyer",
            base.id, base.pay_method
        )));
    }
    let mut plans: Vec<PaymentPlan> =
        a.payment_plans.values().filter(|pp| pp.product_id == u.to_product_id && pp.is_active).cloned().collect();
    plans.sort_by_key(|pp| (pp.position, pp.id));
    let plan = match args.str("payment_plan_id") {
        None => plans.first().cloned(),
        Some(raw) => {
            let n: u64 = raw.parse().map_err(|_| ApiError::no_such("Payment plan", raw))?;
            plans
                .iter()
                .find(|pp| pp.id == n)
                .or_else(|| (n >= 1).then(|| plans.get(n as usize - 1)).flatten())
                .cloned()
                .map(Some)
                .ok_or_else(|| ApiError::no_such("Payment plan", raw))?
        }
    }
    .ok_or_else(|| ApiError::params(format!("Target product {} has no active payment plan to upgrade to", u.to_product_id)))?;
    let mut qty = 1;
    for (k, v) in args.entries("quantities") {
        let q: i64 = v
            .as_str()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| ApiError::params(format!("quantities[{k}] must be a whole number")))?;
        if q < 1 {
            return Err(ApiError::params(format!("quantities[{k}] must be at least 1")));
        }
        if k == "1" || k == u.to_product_id.to_string() {
            qty = q;
        }
    }
    let credit: Cents = if kind == "upgrade" && base.is_recurring() && base.rebilling_active { base.other_amounts } else { 0 };
    let first = (plan.first_amount * qty - credit).max(0);
    let mut spec = OrderSpec::like(&base, "upgrade");
    spec.items = vec![(u.to_product_id, qty, first, plan.other_amounts * qty)];
    spec.number_of_installments = plan.number_of_installments;
    spec.first_billing_interval =
        if plan.first_billing_interval.is_empty() { "1_month".into() } else { plan.first_billing_interval.clone() };
    spec.other_billing_intervals =
        if plan.other_billing_intervals.is_empty() { spec.first_billing_interval.clone() } else { plan.other_billing_intervals.clone() };
    spec.payment_plan_id = Some(plan.id);
    let new_id = new_order(a, spec, ctx)?;
    if kind != "special_offer"
        && let Some(old) = a.purchase_mut(&base.id)
    {
        old.rebilling_active = false;
        old.next_payment_at = None;
        old.rebill_stop_noted_at = Some(ctx.now);
        if old.is_recurring() {
            old.billing_status = "aborted".into();
        }
        old.upgraded_to = Some(new_id.clone());
    }
    let np = a.purchase_or_404(&new_id)?;
    Ok(json!({
        "new_purchase": {
            "id": np.id,
            "billing_status": np.billing_status,
            "paid_amount": money(np.first_amount),
            "next_payment_at": fmt_opt_date(np.next_payment_at),
            "next_amount": money(if np.is_recurring() { np.other_amounts } else { 0 }),
            "currency": np.currency,
        },
        "upgrade_info": {
            "upgrade_type": kind,
            "upgrade_amount_left": "0.00",
            "upgrade_amount_total": money(credit),
            "upgraded_purchase_id": base.id,
        },
    }))
}

// ── conversion tools ──────────────────────────────────────────────────────

const TOOL_TYPES: &[&str] = &["smartupgrade", "socialproof_box", "socialproof_bubble", "countdown", "trust_badge"];

fn plural(kind: &str) -> String {
    if kind.ends_with('x') { format!("{kind}es") } else { format!("{kind}s") }
}

/// listConversionTools: one list per requested tool type.
pub fn list_conversion_tools(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let types = args.csv("type");
    if types.is_empty() {
        return Err(ApiError::missing("type"));
    }
    let mut data = Map::new();
    for t in types {
        let t = t.to_ascii_lowercase();
        if !TOOL_TYPES.contains(&t.as_str()) {
            return Err(ApiError::params(format!("Invalid value '{t}' in type; allowed: {}", TOOL_TYPES.join(", "))));
        }
        let list: Vec<Value> = a.conversion_tools.values().filter(|c| c.kind == t).map(views::conversion_tool).collect();
        data.insert(plural(&t), json!(list));
    }
    Ok(Value::Object(data))
}

/// listSmartUpgrades: the smart-upgrade widgets.
pub fn list_smart_upgrades(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(
        json!({"smartupgrades": a.conversion_tools.values().filter(|c| c.kind == "smartupgrade").map(views::conversion_tool).collect::<Vec<_>>()}),
    )
}

/// getSmartupgrade: one smart-upgrade widget, rendered for orders when given.
pub fn get_smartupgrade(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let raw = args.req_str("smartupgrade_id")?;
    let tool = raw
        .parse::<u64>()
        .ok()
        .and_then(|id| a.conversion_tools.get(&id))
        .filter(|c| c.kind == "smartupgrade")
        .ok_or_else(|| ApiError::no_such("Smart upgrade", raw))?;
    let mut v = views::conversion_tool(tool);
    let orders = args.csv("purchase_id");
    if !orders.is_empty() {
        for o in &orders {
            a.purchase_or_404(o)?;
        }
        let target = tool.upgrade_to_product_id.map(|p| a.product_name(p)).unwrap_or_default();
        v["html"] = json!(format!(
            "<div class=\"ds24-smartupgrade\" data-id=\"{}\"><h3>{}</h3><p>Upgrade now to {target}.</p><a href=\"{SITE_URL}/smartupgrade/{}-{}/{}\">Upgrade</a></div>",
            tool.id,
            tool.name,
            tool.id,
            tool.authkey,
            orders.join(",")
        ));
    }
    Ok(v)
}

// ── shipping cost policies ────────────────────────────────────────────────

/// listShippingCostPolicies: every shipping cost rule.
pub fn list_shipping_cost_policies(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let mut list: Vec<&ShippingPolicy> = a.shipping_policies.values().collect();
    list.sort_by_key(|p| (p.position, p.id));
    Ok(json!({"items": list.into_iter().map(views::shipping_policy).collect::<Vec<_>>()}))
}

fn policy_id(a: &Account, args: Args<'_>) -> Result<u64, ApiError> {
    let raw = args.req_str("policy_id")?;
    raw.parse::<u64>().ok().filter(|i| a.shipping_policies.contains_key(i)).ok_or_else(|| ApiError::no_such("Shipping cost policy", raw))
}

/// getShippingCostPolicy: one rule.
pub fn get_shipping_cost_policy(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = policy_id(a, args)?;
    Ok(json!({"policy": views::shipping_policy(&a.shipping_policies[&id])}))
}

fn apply_policy_fields(a: &Account, p: &mut ShippingPolicy, data: Args<'_>) -> Result<bool, ApiError> {
    let before = format!("{p:?}");
    if let Some(n) = data.str("name") {
        p.name = n.chars().take(63).collect();
    }
    for k in data.keys() {
        if let Some(lang) =
            k.strip_prefix("label_").filter(|l| (2..=5).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic() || c == '-'))
            && let Some(v) = data.str(k)
            && (p.labels.len() < 50 || p.labels.contains_key(&lang.to_ascii_lowercase()))
        {
            p.labels.insert(lang.to_ascii_lowercase(), v.chars().take(63).collect());
        }
    }
    if let Some(x) = data.int("position")? {
        p.position = x;
    }
    if let Some(b) = data.bool("is_active")? {
        p.is_active = b;
    }
    if let Some(ids) = data.str("for_product_ids") {
        if ids.eq_ignore_ascii_case("all") {
            p.for_product_ids = "all".into();
        } else {
            let mut list = Vec::new();
            for part in split_csv(ids) {
                list.push(a.product_by_text(part)?.id.to_string());
            }
            p.for_product_ids = list.join(",");
        }
    }
    if let Some(c) = data.str("for_countries") {
        p.for_countries = if c.eq_ignore_ascii_case("all") {
            "all".into()
        } else {
            split_csv(c).iter().map(|x| x.to_ascii_uppercase()).collect::<Vec<_>>().join(",")
        };
    }
    if let Some(c) = data.str("for_currencies") {
        p.for_currencies = if c.eq_ignore_ascii_case("all") {
            "all".into()
        } else {
            split_csv(c).iter().map(|x| x.to_ascii_uppercase()).collect::<Vec<_>>().join(",")
        };
    }
    if let Some(f) = data.one_of("fee_type", &["total_fee", "fee_per_unit"])? {
        p.fee_type = f.into();
    }
    if let Some(b) = data.one_of("billing_cycle", &["once", "monthly"])? {
        p.billing_cycle = b.into();
    }
    if let Some(c) = data.str("currency") {
        p.currency = c.to_ascii_uppercase();
    }
    let levels = match data.int("scale_level_count")? {
        Some(n) if !(1..=5).contains(&n) => return Err(ApiError::params("data[scale_level_count] must be between 1 and 5")),
        Some(n) => n as usize,
        None => p.scales.len().max(1),
    };
    let mut scales = Vec::with_capacity(levels);
    for n in 1..=levels {
        let old = p.scales.get(n - 1).copied();
        let from = if n == 1 { 1 } else { data.int(&format!("scale_{n}_from"))?.or(old.map(|o| o.0)).unwrap_or(n as i64) };
        let amount = data.amount(&format!("scale_{n}_amount"))?.or(old.map(|o| o.1)).unwrap_or(0);
        if amount < 0 {
            return Err(ApiError::params(format!("data[scale_{n}_amount] must not be negative")));
        }
        if let Some(&(prev, _)) = scales.last()
            && from <= prev
        {
            return Err(ApiError::params(format!("data[scale_{n}_from] must be larger than the previous level's quantity ({prev})")));
        }
        scales.push((from, amount));
    }
    p.scales = scales;
    Ok(before != format!("{p:?}"))
}

/// createShippingCostPolicy: a new shipping cost rule.
pub fn create_shipping_cost_policy(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.shipping_policies.len(), "shipping cost policies")?;
    let data = args.obj("data");
    let n = a.shipping_policies.len() + 1;
    let mut p = ShippingPolicy {
        id: 0,
        name: format!("Shipping policy {n}"),
        labels: BTreeMap::new(),
        position: 100,
        is_active: true,
        for_product_ids: "all".into(),
        for_countries: "all".into(),
        for_currencies: "all".into(),
        fee_type: "total_fee".into(),
        billing_cycle: "once".into(),
        currency: a.vendor.currency.clone(),
        scales: vec![(1, 0)],
        created_at: ctx.now,
        modified_at: ctx.now,
    };
    apply_policy_fields(a, &mut p, data)?;
    p.id = a.next_id("shipping_policy");
    let id = p.id;
    a.shipping_policies.insert(id, p);
    Ok(json!({"policy_id": id.to_string()}))
}

/// updateShippingCostPolicy: changes a rule.
pub fn update_shipping_cost_policy(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = policy_id(a, args)?;
    let mut p = a.shipping_policies[&id].clone();
    let m = apply_policy_fields(a, &mut p, args.obj("data"))?;
    if m {
        p.modified_at = ctx.now;
    }
    a.shipping_policies.insert(id, p);
    Ok(json!({"is_modified": yn(m)}))
}

/// deleteShippingCostPolicy: removes a rule.
pub fn delete_shipping_cost_policy(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = policy_id(a, args)?;
    a.shipping_policies.remove(&id);
    Ok(json!({"policy_id": id.to_string(), "is_deleted": "Y"}))
}
