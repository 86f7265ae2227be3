//! Handlers of the `payouts` toolset: commissions and payouts.
//!
//! Owns: the answers only; the payout schedule is `booking::payouts`. Must not
//! touch: HTTP, account state (only reads).

use super::common::{Ctx, Page, Res, time_window};
use crate::sandbox::args::{Args, money, split_csv};
use crate::sandbox::booking::{payout_date, payouts};
use crate::sandbox::dates::{fmt_date, fmt_dt};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::reference::RESELLERS;
use chrono::Datelike;
use serde_json::{Map, Value, json};

/// listCommissions: the vendor's credited shares, with payout dates.
pub fn list_commissions(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (from, to) = time_window(args, ctx)?;
    let types: Vec<String> = split_csv(args.str("transaction_type").unwrap_or("payment,refund,refund_request,chargeback"))
        .into_iter()
        .map(str::to_ascii_lowercase)
        .collect();
    for t in &types {
        if !["payment", "refund", "refund_request", "chargeback"].contains(&t.as_str()) {
            return Err(ApiError::params(format!(
                "Invalid value '{t}' in transaction_type; allowed: payment, refund, refund_request, chargeback"
            )));
        }
    }
    let commission_types: Vec<String> =
        split_csv(args.str("commission_type").unwrap_or("all")).into_iter().map(str::to_ascii_lowercase).collect();
    let vendor_wanted = commission_types.iter().any(|c| matches!(c.as_str(), "all" | "vendor" | "merchant" | "merchant_share"));
    let purchase_id = args.str("purchase_id");
    if let Some(pid) = purchase_id {
        a.purchase_or_404(pid)?;
    }
    let items: Vec<&Transaction> = a
        .transactions
        .iter()
        .filter(|t| vendor_wanted && !t.is_test && t.created_at >= from && t.created_at <= to)
        .filter(|t| types.iter().any(|x| x == t.kind.as_str()))
        .filter(|t| purchase_id.is_none_or(|p| p == t.purchase_id))
        .collect();
    let page = Page::from_args(args, items.len(), 0, 1000, true)?;
    let list: Vec<Value> = items[page.range()]
        .iter()
        .map(|t| {
            json!({
                "id": (t.id * 10 + 1).to_string(),
                "created_at": fmt_dt(t.created_at),
                "amount": money(t.vendor),
                "currency": t.currency,
                "reason": match t.kind { TxKind::Payment => "merchant_share", TxKind::Refund => "merchant_share_refund", TxKind::Chargeback => "merchant_share_chargeback" },
                "commission_type": "vendor",
                "schedule_payout_at": fmt_date(payout_date(t.created_at)),
                "transaction_id": t.id.to_string(),
                "transaction_type": t.kind.as_str(),
                "purchase_id": t.purchase_id,
                "product_id": t.product_id.to_string(),
                "product_name": a.product_name(t.product_id),
            })
        })
        .collect();
    let mut data = Map::new();
    page.write(&mut data);
    data.insert("items".into(), json!(list));
    Ok(Value::Object(data))
}

/// listPayouts: the credit notes issued for past months.
pub fn list_payouts(a: &Account, _args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let today = ctx.now.date();
    let list: Vec<Value> = payouts(a, today)
        .into_iter()
        .rev()
        .map(|((day, currency), (vendor, _gross, fee))| {
            let id = (a.vendor.user_id % 1000) * 1_000_000 + u64::from(day.year_ce().1) * 100 + u64::from(day.month());
            let cur_tag = match currency.as_str() {
                "EUR" => 1,
                "USD" => 2,
                _ => 3,
            };
            let created = day.and_hms_opt(7, 53, 37).expect("valid time");
            json!({
                "id": (id * 10 + cur_tag).to_string(),
                "created_at": fmt_dt(created),
                "processed_at": fmt_dt(created + chrono::Duration::hours(30)),
                "reseller_id": RESELLERS[0].0.to_string(),
                "reseller_name": RESELLERS[0].1,
                "vat_rate": "0.00",
                "vat_regulation": "germany_no_vat",
                "currency": currency,
                "payout_method": "banktransfer",
                "vendor_gross_amount": money(vendor),
                "vendor_net_amount": money(vendor),
                "vendor_vat_amount": "0.00",
                "affiliate_gross_amount": "0.00",
                "affiliate_net_amount": "0.00",
                "affiliate_vat_amount": "0.00",
                "fee_amount": money(fee),
                "fee_vat_amount": "0.00",
                "credit_note_url": format!("{SITE_URL}/creditnote/{}/{}.pdf", id, a.vendor.user_id),
                "commission_list_url": format!("{SITE_URL}/commissions/{}/{}.csv", id, a.vendor.user_id),
            })
        })
        .collect();
    Ok(json!({"payout_list": list}))
}
