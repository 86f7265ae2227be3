//! Handlers of the `orderforms` toolset: order-form designs and their option
//! lists.
//!
//! Owns: the order-form field rules. Must not touch: HTTP, products.

use super::common::{Ctx, IdArg, Res};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::dates::fmt_dt;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

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

const ORDERFORM_ID: IdArg = IdArg { name: "orderform_id", what: "Order form" };

/// getOrderform: one design with all settings.
pub fn get_orderform(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, o) = ORDERFORM_ID.find(&a.orderforms, args)?;
    Ok(json!({"orderform": views::orderform(o)}))
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
    let (id, o) = ORDERFORM_ID.find(&a.orderforms, args)?;
    let mut o = o.clone();
    let m = apply_orderform_fields(a, &mut o, args.obj("data"))?;
    if m {
        o.modified_at = ctx.now;
    }
    a.orderforms.insert(id, o);
    Ok(json!({"is_modified": yn(m)}))
}

/// deleteOrderform: removes a design.
pub fn delete_orderform(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, _) = ORDERFORM_ID.take(&mut a.orderforms, args)?;
    Ok(json!({"orderform_id": id.to_string(), "is_deleted": "Y"}))
}
