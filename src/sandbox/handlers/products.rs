//! Handlers of the `products` toolset: listing, reading, creating, changing,
//! copying and deleting products, and the product types.
//!
//! Owns: the product field rules (names per language, deprecated `amount`,
//! refused `tag` on update, 47-character note, approval requests per reseller).
//! Must not touch: HTTP, orders and money (deleting a product never touches its
//! orders).

use super::common::{Ctx, Res, check_public_https, product_arg, product_arg_mut, set_if_changed};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::reference::{PRODUCT_TYPES, RESELLERS};
use crate::sandbox::views;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// listProducts: every product that is not deleted, by name or by group.
pub fn list_products(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let sort_by = args.one_of("sort_by", &["name", "group"])?.unwrap_or("name");
    let mut items: Vec<&Product> = a.products.values().filter(|p| !p.is_deleted).collect();
    match sort_by {
        "group" => items.sort_by_key(|p| {
            let g = p.product_group_id.and_then(|g| a.product_groups.get(&g));
            (g.map(|g| g.position).unwrap_or(i64::MAX), g.map(|g| g.id).unwrap_or(u64::MAX), p.name.to_lowercase(), p.id)
        }),
        _ => items.sort_by_key(|p| (p.name.to_lowercase(), p.id)),
    }
    let list: Vec<Value> = items.iter().map(|p| views::product_summary(a, p)).collect();
    Ok(json!({"products": list}))
}

/// getProduct: the full product record.
pub fn get_product(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let raw = args.req_str("product_id")?;
    let show_deleted = args.bool_or("show_deleted", false)?;
    let p = raw
        .parse::<u64>()
        .ok()
        .and_then(|id| a.products.get(&id))
        .filter(|p| show_deleted || !p.is_deleted)
        .ok_or_else(|| ApiError::no_such("Product", raw))?;
    Ok(json!({"product": views::product_full(a, p)}))
}

/// Applies `data[...]` fields to a product. `update` selects updateProduct's rules.
fn apply_product_fields(a: &Account, p: &mut Product, data: Args<'_>, update: bool) -> Result<bool, ApiError> {
    let mut m = false;
    if data.sent("amount") {
        return Err(ApiError::params(
            "data[amount] is deprecated: prices live in payment plans (createPaymentplan) or travel with createBuyUrl",
        ));
    }
    if update && data.sent("tag") {
        return Err(ApiError::params("data[tag] cannot be changed with updateProduct"));
    }
    if !update && let Some(t) = data.raw_str("tag") {
        set_if_changed(&mut p.tag, t.trim().to_string(), &mut m);
    }
    if let Some(n) = data.str("name_intern") {
        if n.chars().count() > 63 {
            return Err(ApiError::params("data[name_intern] may have at most 63 characters"));
        }
        set_if_changed(&mut p.name_intern, n.to_string(), &mut m);
    }
    for key in data.keys() {
        let lang_name = key.strip_prefix("name_").filter(|l| l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase()));
        if let Some(lang) = lang_name
            && let Some(v) = data.str(key)
        {
            if v.chars().count() > 63 {
                return Err(ApiError::params(format!("data[{key}] may have at most 63 characters")));
            }
            let old = p.names.insert(lang.to_string(), v.to_string());
            m |= old.as_deref() != Some(v);
        }
        let lang_desc = key.strip_prefix("description_").filter(|l| l.len() == 2 && l.chars().all(|c| c.is_ascii_lowercase()));
        if let Some(lang) = lang_desc
            && let Some(v) = data.raw_str(key)
        {
            let old = p.descriptions.insert(lang.to_string(), v.to_string());
            m |= old.as_deref() != Some(v);
        }
    }
    if let Some(lang) = data.str("language") {
        let first = lang.split(',').next().unwrap_or("de").trim().to_ascii_lowercase();
        if first.len() != 2 {
            return Err(ApiError::params(format!("Invalid language '{lang}' in data[language]; use a two-letter code such as de or en")));
        }
        set_if_changed(&mut p.language, first, &mut m);
    }
    if let Some(n) = data.str("name") {
        if n.chars().count() > 63 {
            return Err(ApiError::params("data[name] may have at most 63 characters"));
        }
        let lang = p.language.clone();
        let old = p.names.insert(lang, n.to_string());
        m |= old.as_deref() != Some(n);
    }
    if let Some(d) = data.raw_str("description") {
        let lang = p.language.clone();
        let old = p.descriptions.insert(lang, d.to_string());
        m |= old.as_deref() != Some(d);
    }
    for (field, slot) in
        [("salespage_url", &mut p.salespage_url), ("upsell_salespage_url", &mut p.upsell_salespage_url), ("image_url", &mut p.image_url)]
    {
        if let Some(u) = data.raw_str(field) {
            set_if_changed(slot, u.trim().to_string(), &mut m);
        }
    }
    if let Some(u) = data.raw_str("thankyou_url") {
        let u = u.trim();
        if !u.is_empty() {
            check_public_https("data[thankyou_url]", u)?;
        }
        set_if_changed(&mut p.thankyou_url, u.to_string(), &mut m);
    }
    if let Some(t) = data.int("product_type_id")? {
        if !PRODUCT_TYPES.iter().any(|x| x.0 as i64 == t) {
            return Err(ApiError::params(format!("Invalid data[product_type_id] {t}; see listProductTypes for the allowed ids")));
        }
        set_if_changed(&mut p.product_type_id, t as u64, &mut m);
    }
    if let Some(c) = data.str("currency") {
        let list: Vec<String> = c.split(',').map(|x| x.trim().to_ascii_uppercase()).filter(|x| !x.is_empty()).collect();
        if list.iter().any(|x| x.len() != 3 || !x.chars().all(|c| c.is_ascii_alphabetic())) {
            return Err(ApiError::params(format!("Invalid data[currency] '{c}'; use three-letter codes such as EUR or USD,EUR")));
        }
        set_if_changed(&mut p.currency, list.join(","), &mut m);
    }
    match data.value("approval_status") {
        Some(Value::Object(per_reseller)) => {
            for (reseller, status) in per_reseller {
                let rid: u8 = reseller.parse().ok().filter(|r| RESELLERS.iter().any(|x| x.0 == *r)).ok_or_else(|| {
                    ApiError::params(format!(
                        "Unknown reseller '{reseller}' in data[approval_status]; use 1 (DE), 2 (US), 3 (UK) or 4 (IE)"
                    ))
                })?;
                let s = status.as_str().unwrap_or("").trim();
                if !["new", "pending"].contains(&s) {
                    return Err(ApiError::params(format!(
                        "Invalid value '{s}' for data[approval_status][{reseller}]; allowed: new, pending"
                    )));
                }
                let old = p.approval.insert(rid, s.to_string());
                m |= old.as_deref() != Some(s);
            }
        }
        Some(Value::String(s)) if !s.trim().is_empty() => {
            let s = s.trim();
            let (targets, status): (Vec<u8>, &str) = match s.split_once(':') {
                Some((r, st)) => (
                    vec![r.trim().parse().map_err(|_| ApiError::params(format!("Invalid reseller in data[approval_status] '{s}'")))?],
                    st.trim(),
                ),
                None => (RESELLERS.iter().map(|r| r.0).collect(), s),
            };
            if !["new", "pending"].contains(&status) {
                return Err(ApiError::params(format!("Invalid value '{status}' for data[approval_status]; allowed: new, pending")));
            }
            for rid in targets {
                let old = p.approval.insert(rid, status.to_string());
                m |= old.as_deref() != Some(status);
            }
        }
        _ => {}
    }
    let commission_field = if update { "affiliate_commision" } else { "affiliate_commission" };
    let commission = match data.amount(commission_field)? {
        Some(c) => Some(c),
        // Accept the other spelling too, the way a lenient PHP backend would not; but only when the published one is absent.
        None if update => data.amount("affiliate_commission")?,
        None => None,
    };
    if let Some(c) = commission {
        if !(0..=10_000).contains(&c) {
            return Err(ApiError::params(format!("data[{commission_field}] must be a percentage between 0 and 100")));
        }
        set_if_changed(&mut p.affiliate_commission, c, &mut m);
    }
    if let Some(b) = data.one_of("buyer_type", &["consumer", "business"])? {
        set_if_changed(&mut p.buyer_type, b.to_string(), &mut m);
    }
    if let Some(b) = data.bool("is_address_input_mandatory")? {
        set_if_changed(&mut p.is_address_input_mandatory, b, &mut m);
    }
    if let Some(b) = data.bool("add_order_data_to_thankyou_page_url")? {
        set_if_changed(&mut p.add_order_data_to_thankyou_page_url, b, &mut m);
    }
    if update && let Some(b) = data.bool("is_active")? {
        set_if_changed(&mut p.is_active, b, &mut m);
    }
    if let Some(g) = data.int("product_group_id")? {
        if g == 0 {
            set_if_changed(&mut p.product_group_id, None, &mut m);
        } else if a.product_groups.contains_key(&(g as u64)) {
            set_if_changed(&mut p.product_group_id, Some(g as u64), &mut m);
        } else {
            return Err(ApiError::no_such("Product group", g));
        }
    }
    if let Some(q) = data.int("default_quantity")? {
        if q < 1 {
            return Err(ApiError::params("data[default_quantity] must be at least 1"));
        }
        set_if_changed(&mut p.default_quantity, q, &mut m);
    }
    if let Some(q) = data.int("max_quantity")? {
        if q < 1 {
            return Err(ApiError::params("data[max_quantity] must be at least 1"));
        }
        set_if_changed(&mut p.max_quantity, q, &mut m);
    }
    if let Some(n) = data.raw_str("note") {
        let kept: String = n.trim().chars().take(47).collect();
        set_if_changed(&mut p.note, kept, &mut m);
    }
    let display = p.names.get(&p.language).or_else(|| p.names.values().next()).cloned().unwrap_or_else(|| p.name_intern.clone());
    if p.name != display {
        p.name = display;
    }
    Ok(m)
}

/// createProduct: a new product from `data[...]`.
pub fn create_product(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.products.len(), "products")?;
    let data = args.obj("data");
    let has_name = data.str("name").is_some()
        || data.str("name_intern").is_some()
        || data.keys().any(|k| k.starts_with("name_") && data.str(k).is_some());
    if !has_name {
        return Err(ApiError::params("A product needs a name: give data[name], data[name_intern] or data[name_XX] (e.g. name_de)"));
    }
    let language = data
        .str("language")
        .map(|l| l.split(',').next().unwrap_or("de").trim().to_ascii_lowercase())
        .unwrap_or_else(|| a.vendor.language.clone());
    let mut p = Product {
        id: 0,
        name: String::new(),
        name_intern: String::new(),
        names: BTreeMap::new(),
        descriptions: BTreeMap::new(),
        note: String::new(),
        tag: String::new(),
        language,
        product_group_id: None,
        product_type_id: 2,
        currency: a.vendor.currency.clone(),
        salespage_url: String::new(),
        upsell_salespage_url: String::new(),
        thankyou_url: String::new(),
        image_url: String::new(),
        approval: RESELLERS.iter().map(|r| (r.0, "new".to_string())).collect(),
        affiliate_commission: 5000,
        affiliate_commission_fix: 0,
        buyer_type: "consumer".into(),
        is_address_input_mandatory: false,
        add_order_data_to_thankyou_page_url: false,
        is_active: true,
        is_deleted: false,
        default_quantity: 1,
        max_quantity: 1,
        refund_days: 60,
        downloads: Vec::new(),
        created_at: ctx.now,
        modified_at: ctx.now,
    };
    apply_product_fields(a, &mut p, data, false)?;
    if p.name_intern.is_empty() {
        p.name_intern = p.name.clone();
    }
    if p.names.is_empty() {
        p.names.insert(p.language.clone(), p.name_intern.clone());
        p.name = p.name_intern.clone();
    }
    let id = a.next_id("product");
    p.id = id;
    a.products.insert(id, p);
    Ok(json!({"product_id": id.to_string()}))
}

/// updateProduct: changes the given `data[...]` fields.
pub fn update_product(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (id, p) = product_arg(a, args)?;
    if !args.has_obj("data") {
        return Err(ApiError::missing("data"));
    }
    let mut p = p.clone();
    let modified = apply_product_fields(a, &mut p, args.obj("data"), true)?;
    if modified {
        p.modified_at = ctx.now;
    }
    a.products.insert(id, p);
    Ok(json!({"modified": yn(modified)}))
}

/// copyProduct: duplicates a product (and its payment plans) with optional overrides.
pub fn copy_product(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (src, original) = product_arg(a, args)?;
    ensure_room(a.products.len(), "products")?;
    let mut p = original.clone();
    p.approval = RESELLERS.iter().map(|r| (r.0, "new".to_string())).collect();
    for name in p.names.values_mut() {
        *name = format!("{name} (copy)").chars().take(63).collect();
    }
    p.name_intern = format!("{} (copy)", p.name_intern).chars().take(63).collect();
    let data = args.obj("data");
    apply_product_fields(a, &mut p, data, true)?;
    let id = a.next_id("product");
    p.id = id;
    p.created_at = ctx.now;
    p.modified_at = ctx.now;
    a.products.insert(id, p);
    let plans: Vec<PaymentPlan> = a.payment_plans.values().filter(|pp| pp.product_id == src).cloned().collect();
    for mut pp in plans {
        if a.payment_plans.len() >= MAX_ITEMS {
            break;
        }
        pp.id = a.next_id("payment_plan");
        pp.product_id = id;
        pp.created_at = ctx.now;
        pp.modified_at = ctx.now;
        a.payment_plans.insert(pp.id, pp);
    }
    Ok(json!({"product_id": id.to_string()}))
}

/// deleteProduct: removes a product (its orders stay untouched).
pub fn delete_product(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (id, p) = product_arg_mut(a, args)?;
    p.is_deleted = true;
    p.is_active = false;
    p.modified_at = ctx.now;
    let sold = a.purchases.iter().any(|p| p.items.iter().any(|i| i.product_id == id));
    a.upsells.remove(&id);
    Ok(json!({
        "product_id": id.to_string(),
        "is_deleted": "Y",
        "note": if sold { "The product was deleted; its existing orders remain" } else { "The product was deleted" },
    }))
}

/// listProductTypes: the product type ids.
pub fn list_product_types(_a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let items: Vec<Value> =
        PRODUCT_TYPES.iter().map(|(id, name, cat)| json!({"id": id.to_string(), "name": name, "category": cat})).collect();
    Ok(json!({"items": items}))
}
