//! Handlers of the `deliveries` toolset: delivery states and parcel tracking of
//! physical products.
//!
//! Owns: delivery state changes. Must not touch: HTTP, orders and money.

use super::common::{Ctx, IdArg, Res};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::dates::Bound;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Value, json};

const DELIVERY_TYPES: &[&str] = &["request", "in_progress", "delivery", "partial_delivery", "return", "cancel"];

/// listDeliveries: physical deliveries, filtered by `search[...]`.
pub fn list_deliveries(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let s = args.obj("search");
    let purchase_ids: Vec<String> = s.csv("purchase_id").into_iter().map(str::to_ascii_uppercase).collect();
    let from = s.point("from", ctx.now, Bound::Lower)?;
    let to = s.point("to", ctx.now, Bound::Upper)?;
    let types: Vec<&str> = s.csv("type");
    for t in &types {
        if !DELIVERY_TYPES.contains(t) {
            return Err(ApiError::params(format!("Invalid value '{t}' in search[type]; allowed: {}", DELIVERY_TYPES.join(", "))));
        }
    }
    let same_address = match s.str("same_address_as") {
        None => None,
        Some(raw) => {
            let d = raw.parse::<u64>().ok().and_then(|id| a.deliveries.get(&id)).ok_or_else(|| ApiError::no_such("Delivery", raw))?;
            let buyer = a.purchase(&d.purchase_id).and_then(|p| a.buyers.get(&p.buyer_id)).map(|b| b.address_id);
            Some(buyer)
        }
    };
    let processed = s.bool("is_processed")?;
    let test = s.bool("is_test_order")?;
    let list: Vec<Value> = a
        .deliveries
        .values()
        .filter(|d| purchase_ids.is_empty() || purchase_ids.contains(&d.purchase_id))
        .filter(|d| from.is_none_or(|f| d.created_at >= f) && to.is_none_or(|t| d.created_at <= t))
        .filter(|d| types.is_empty() || types.contains(&d.kind.as_str()))
        .filter(|d| processed.is_none_or(|p| d.processed_at.is_some() == p))
        .filter(|d| test.is_none_or(|t| d.is_test == t))
        .filter(|d| match same_address {
            None => true,
            Some(addr) => a.purchase(&d.purchase_id).and_then(|p| a.buyers.get(&p.buyer_id)).map(|b| b.address_id) == addr,
        })
        .map(|d| views::delivery(a, d))
        .collect();
    Ok(json!({"delivery": list}))
}

const DELIVERY_ID: IdArg = IdArg { name: "delivery_id", what: "Delivery" };

/// getDelivery: one delivery; optionally flags it as in progress.
pub fn get_delivery(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (id, d) = DELIVERY_ID.find_mut(&mut a.deliveries, args)?;
    let set = args.bool_or("set_in_progress", false)?;
    let (mut done, mut reason) = (false, String::new());
    if set {
        if d.kind == "request" {
            d.kind = "in_progress".into();
            d.processed_at = Some(ctx.now);
            d.processed_by = "api".into();
            d.modified_at = ctx.now;
            done = true;
        } else {
            reason = format!("The delivery is already in state '{}'", d.kind);
        }
    }
    Ok(json!({"delivery": views::delivery(a, &a.deliveries[&id]), "is_set_in_progress": yn(done), "set_in_progress_fail_reason": reason}))
}

/// updateDelivery: state, delivered quantity and parcel tracking numbers.
pub fn update_delivery(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (_, d) = DELIVERY_ID.find_mut(&mut a.deliveries, args)?;
    let notify = args.bool_or("notify_via_email", true)?;
    let data = args.obj("data");
    let kind = data.one_of("type", DELIVERY_TYPES)?.map(str::to_string);
    let shipped = data.bool("is_shipped")?;
    let qty = data.int("quantity_delivered")?;
    let add = data.int("add_quantity_delivered")?;
    let reseller = data.str("is_shipped_by_reseller_from").map(str::to_string);
    let mut ops = Vec::new();
    for (i, v) in args.list("tracking").iter().enumerate() {
        let t = Args::element(v);
        let op = t.one_of("operation", &["create_or_update", "delete"])?.unwrap_or("create_or_update").to_string();
        let tracking_id = t.str("tracking_id").ok_or_else(|| ApiError::missing(&format!("tracking[{i}][tracking_id]")))?.to_string();
        let service = t.str("parcel_service").unwrap_or("other").to_ascii_lowercase();
        let expect = t.date("expect_delivery_at", ctx.now)?;
        let q = t.int("quantity")?;
        ops.push((op, Parcel { parcel_service: service, tracking_id, expect_delivery_at: expect, quantity: q.unwrap_or(0) }));
    }
    let before = format!("{d:?}");
    if let Some(k) = kind {
        d.kind = k;
    }
    match shipped {
        Some(true) => {
            d.kind = "delivery".into();
            d.quantity_delivered = d.quantity;
        }
        Some(false) => d.kind = "cancel".into(),
        None => {}
    }
    if let Some(q) = qty {
        if !(0..=d.quantity).contains(&q) {
            return Err(ApiError::params(format!("data[quantity_delivered] must be between 0 and {}", d.quantity)));
        }
        d.quantity_delivered = q;
    }
    if let Some(q) = add {
        let n = d.quantity_delivered + q;
        if !(0..=d.quantity).contains(&n) {
            return Err(ApiError::params(format!(
                "data[add_quantity_delivered] would make the delivered quantity {n}, outside 0..{}",
                d.quantity
            )));
        }
        d.quantity_delivered = n;
    }
    if let Some(r) = reseller {
        d.shipped_by_reseller_from = r;
    }
    for (op, mut parcel) in ops {
        let pos = d.parcels.iter().position(|p| p.tracking_id == parcel.tracking_id);
        match (op.as_str(), pos) {
            ("delete", Some(i)) => {
                d.parcels.remove(i);
            }
            ("delete", None) => {}
            (_, Some(i)) => {
                if parcel.quantity == 0 {
                    parcel.quantity = d.parcels[i].quantity;
                }
                d.parcels[i] = parcel;
            }
            (_, None) => {
                if d.parcels.len() >= 100 {
                    return Err(ApiError::params("A delivery holds at most 100 parcels"));
                }
                if parcel.quantity == 0 {
                    parcel.quantity = d.quantity;
                }
                d.parcels.push(parcel);
            }
        }
    }
    if d.kind != "request" && d.processed_at.is_none() {
        d.processed_at = Some(ctx.now);
        d.processed_by = "api".into();
    }
    let modified = before != format!("{d:?}");
    if modified {
        d.modified_at = ctx.now;
        if notify {
            d.notifications += 1;
        }
    }
    Ok(json!({"is_modified": yn(modified)}))
}
