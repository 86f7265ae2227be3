//! Handlers of the `vouchers` toolset: discount codes and their check.
//!
//! Owns: the voucher field rules. Must not touch: HTTP, orders that used a
//! code.

use super::common::{Ctx, Res};
use crate::sandbox::args::{Args, money, split_csv, yn};
use crate::sandbox::dates::{Bound, fmt_dt};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;

/// listVouchers: every discount code.
pub fn list_vouchers(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(json!({"coupons": a.vouchers.values().map(views::voucher).collect::<Vec<_>>(), "are_returned_data_public": "N"}))
}

/// getVoucher: one discount code.
pub fn get_voucher(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let v = a.voucher_or_404(args.req_str("code")?)?;
    Ok(json!({"coupon": views::voucher(v)}))
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
    let mut v = a.voucher_or_404(args.req_str("code")?)?.clone();
    let id = v.id;
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
    let v = a.remove_voucher(args.req_str("code")?)?;
    Ok(json!({"discount_code_id": v.id.to_string(), "code": v.code, "is_deleted": "Y"}))
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
