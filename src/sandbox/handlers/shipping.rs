//! Handlers of the `shipping` toolset: shipping cost policies.
//!
//! Owns: the policy field rules. Must not touch: HTTP, orders.

use super::common::{Ctx, IdArg, Res};
use crate::sandbox::args::{Args, split_csv, yn};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;
use std::collections::BTreeMap;

/// listShippingCostPolicies: every shipping cost rule.
pub fn list_shipping_cost_policies(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let mut list: Vec<&ShippingPolicy> = a.shipping_policies.values().collect();
    list.sort_by_key(|p| (p.position, p.id));
    Ok(json!({"items": list.into_iter().map(views::shipping_policy).collect::<Vec<_>>()}))
}

const POLICY_ID: IdArg = IdArg { name: "policy_id", what: "Shipping cost policy" };

/// getShippingCostPolicy: one rule.
pub fn get_shipping_cost_policy(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, p) = POLICY_ID.find(&a.shipping_policies, args)?;
    Ok(json!({"policy": views::shipping_policy(p)}))
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
    let (id, p) = POLICY_ID.find(&a.shipping_policies, args)?;
    let mut p = p.clone();
    let m = apply_policy_fields(a, &mut p, args.obj("data"))?;
    if m {
        p.modified_at = ctx.now;
    }
    a.shipping_policies.insert(id, p);
    Ok(json!({"is_modified": yn(m)}))
}

/// deleteShippingCostPolicy: removes a rule.
pub fn delete_shipping_cost_policy(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, _) = POLICY_ID.take(&mut a.shipping_policies, args)?;
    Ok(json!({"policy_id": id.to_string(), "is_deleted": "Y"}))
}
