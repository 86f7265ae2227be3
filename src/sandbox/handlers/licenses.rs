//! Handlers of the `licenses` toolset: license key checks.
//!
//! Owns: the answer only. Must not touch: HTTP, account state (only reads).

use super::common::{Ctx, Res};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::booking::add_interval;
use crate::sandbox::dates::{fmt_date, fmt_opt_date, fmt_opt_dt};
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;

fn normalize_key(k: &str) -> String {
    k.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// validateLicenseKey: whether a license key belongs to an order that is paid up.
pub fn validate_license_key(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let key = args.req_str("license_key")?;
    let p = a.purchase_or_404(id)?;
    let found = p.license_key.as_deref().is_some_and(|k| normalize_key(k) == normalize_key(key));
    let last_payment = a.purchase_transactions(&p.id).filter(|t| t.kind == TxKind::Payment).last();
    let last_tx = a.purchase_transactions(&p.id).last();
    let paid_until = match (p.next_payment_at, p.is_recurring(), last_payment) {
        (Some(n), _, _) => Some(n),
        (None, true, Some(t)) => Some(add_interval(
            t.created_at.date(),
            if p.other_billing_intervals.is_empty() { "1_month" } else { &p.other_billing_intervals },
        )),
        _ => None,
    };
    let paid_up = p.refunded_at.is_none()
        && !a.purchase_transactions(&p.id).any(|t| t.kind == TxKind::Chargeback)
        && match p.billing_status.as_str() {
            "paying" | "completed" => true,
            "aborted" => paid_until.is_some_and(|d| d >= ctx.now.date()),
            _ => false,
        };
    Ok(json!({
        "is_license_valid": yn(found && paid_up),
        "is_license_key_found": yn(found),
        "purchase_id": p.id,
        "license_key": if found { p.license_key.clone().unwrap_or_default() } else { String::new() },
        "product_id": p.product_id().to_string(),
        "product_name": a.product_name(p.product_id()),
        "billing_tatus": p.billing_status,
        "billing_tatus_msg": views::billing_status_msg(&p.billing_status),
        "last_payment_at": fmt_opt_dt(last_payment.map(|t| t.created_at)),
        "last_payment_at_msg": last_payment.map(|t| fmt_date(t.created_at.date())).unwrap_or_default(),
        "next_payment_at": fmt_opt_date(p.next_payment_at),
        "next_payment_at_msg": fmt_opt_date(p.next_payment_at),
        "last_transaction_type": last_tx.map(|t| t.kind.as_str()).unwrap_or(""),
        "last_transaction_type_msg": last_tx.map(|t| t.kind.label()).unwrap_or(""),
        "paid_until": fmt_opt_date(paid_until),
        "paid_until_msg": fmt_opt_date(paid_until),
    }))
}
