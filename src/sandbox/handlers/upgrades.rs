//! Handlers of the `upgrades` toolset: upgrade paths and upgrade orders.
//!
//! Owns: which order may be upgraded to what. Must not touch: HTTP, other
//! accounts; the upgrade order is booked by `booking::new_order`.

use super::common::{Ctx, Res};
use crate::sandbox::args::{Args, Cents, money, yn};
use crate::sandbox::booking::{OrderSpec, new_order, rebill_capable};
use crate::sandbox::dates::fmt_opt_date;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Map, Value, json};

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
    let new_id = new_order(a, spec, ctx.now)?;
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
