//! Handlers of the `transactions` and `payouts` toolsets: the money movements,
//! single-transaction refunds, fraud reports, commissions and payouts.
//!
//! Owns: the payout schedule (earnings of a month are paid out on the 15th of
//! the following month), which statistics reuse. Must not touch: HTTP, other
//! accounts.

use super::purchases::{SearchFilter, refund_all, refund_period_check, time_window};
use super::views;
use super::{Ctx, Page, Res};
use crate::sandbox::args::{Args, Cents, money, split_csv};
use crate::sandbox::dates::{add_months, fmt_date, fmt_dt, month_start};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::seed::RESELLERS;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Day on which the earnings of a transaction are paid out.
pub fn payout_date(t: NaiveDateTime) -> NaiveDate {
    add_months(month_start(t.date()), 1).with_day(15).expect("15th exists")
}

/// listTransactions: payments, refunds and chargebacks in a window, with totals.
pub fn list_transactions(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (from, to) = time_window(args, ctx)?;
    let filter = SearchFilter::from_args(args.obj("search"))?;
    let sort_by = args.one_of("sort_by", &["date", "earning", "amount"])?.unwrap_or("date");
    let desc = args.one_of("sort_order", &["asc", "desc"])?.unwrap_or("asc") == "desc";
    let mut items: Vec<&Transaction> = a
        .transactions
        .iter()
        .filter(|t| t.created_at >= from && t.created_at <= to && filter.matches_type(t.kind))
        .filter(|t| a.purchase(&t.purchase_id).is_some_and(|p| filter.matches_purchase(a, p)))
        .collect();
    items.sort_by(|x, y| {
        let o = match sort_by {
            "earning" => x.vendor.cmp(&y.vendor),
            "amount" => x.amount.cmp(&y.amount),
            _ => x.created_at.cmp(&y.created_at),
        }
        .then_with(|| x.created_at.cmp(&y.created_at))
        .then_with(|| x.id.cmp(&y.id));
        if desc { o.reverse() } else { o }
    });
    let mut sums: BTreeMap<&str, (usize, Cents, Cents, Cents)> = BTreeMap::new();
    for t in &items {
        let e = sums.entry(t.currency.as_str()).or_default();
        e.0 += 1;
        e.1 += t.amount;
        e.2 += t.vat;
        e.3 += t.vendor;
    }
    let amounts: Map<String, Value> = sums
        .iter()
        .map(|(c, (n, total, vat, earned))| {
            (c.to_string(), json!({"count": n, "total_amount": money(*total), "vat_amount": money(*vat), "earned_amount": money(*earned)}))
        })
        .collect();
    let page = Page::from_args(args, items.len(), 500, 1000, false)?;
    let list: Vec<Value> = items[page.range()].iter().map(|t| views::transaction(a, t)).collect();
    let mut data = Map::new();
    data.insert("from".into(), json!(fmt_dt(from)));
    data.insert("to".into(), json!(fmt_dt(to)));
    page.write(&mut data);
    data.insert("summary".into(), json!({"count": items.len(), "amounts": amounts}));
    data.insert("transaction_list".into(), json!(list));
    Ok(Value::Object(data))
}

fn transaction_index(a: &Account, args: Args<'_>) -> Result<usize, ApiError> {
    let raw = args.req_str("transaction_id")?;
    raw.parse::<u64>().ok().and_then(|id| a.tx_index.get(&id).copied()).ok_or_else(|| ApiError::no_such("Transaction", raw))
}

/// refundTransaction: refunds what is left of one payment.
pub fn refund_transaction(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let idx = transaction_index(a, args)?;
    let force = args.bool_or("force", false)?;
    let request = args.date("request_date", ctx.now)?.unwrap_or(ctx.now.date());
    let t = a.transactions[idx].clone();
    if t.kind != TxKind::Payment {
        return Err(ApiError::params(format!(
            "Transaction '{}' is a {}, not a payment; only payments can be refunded",
            t.id,
            t.kind.as_str()
        )));
    }
    let p = a.purchase_or_404(&t.purchase_id)?.clone();
    let blank = |status: &str, modified: &str, note: String, error_reason: &str| {
        json!({
            "status": status,
            "modified": modified,
            "note": note,
            "pending_reason": "",
            "pending_reason_msg": "",
            "pending_until": "",
            "action_url": "",
            "error_reason": error_reason,
            "processed_at": "",
        })
    };
    let remaining = t.amount - a.refunded_of(&t);
    if remaining <= 0 {
        return Ok(blank("error", "N", format!("Transaction '{}' has already been refunded", t.id), "refund_completed"));
    }
    if !force && let Err(why) = refund_period_check(a, &p, t.created_at, request) {
        return Ok(blank("refused", "N", format!("Refund refused: {why}"), ""));
    }
    ensure_room(a.transactions.len() + 100, "transactions")?;
    let refund_id = a.book_reversal(idx, remaining, TxKind::Refund, ctx.now, "Refund via API");
    let anything_left = a.purchase_transactions(&p.id).filter(|x| x.kind == TxKind::Payment).any(|x| x.amount - a.refunded_of(x) > 0);
    if !anything_left {
        refund_all(a, &p.id, ctx, "Refund via API");
    }
    let mut v = blank("completed", "Y", format!("Refunded {} {} of transaction '{}'", money(remaining), t.currency, t.id), "");
    v["processed_at"] = json!(fmt_dt(ctx.now));
    v["refund_transaction_id"] = json!(refund_id.to_string());
    v["purchase_id"] = json!(p.id);
    Ok(v)
}

/// reportFraud: records a fraud report against the buyer or affiliate of a transaction.
pub fn report_fraud(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let idx = transaction_index(a, args)?;
    let who = args.one_of("who", &["buyer", "affiliate"])?.ok_or_else(|| ApiError::missing("who"))?.to_string();
    let comment = args.req_str("comment")?.to_string();
    let t = a.transactions[idx].clone();
    let mut v = json!({
        "buyer_status": "info", "buyer_message": "Not reported", "buyer_code": "not_created",
        "affiliate_status": "info", "affiliate_message": "Not reported", "affiliate_code": "not_created",
    });
    let repeated = a.fraud_reports.iter().any(|r| r.transaction_id == t.id && r.who == who);
    let (status, message, code) = if who == "affiliate" && t.affiliate_id.is_none() {
        ("failure", "This transaction has no affiliate to report".to_string(), "not_created")
    } else if repeated {
        ("warning", format!("The {who} of transaction {} was already reported", t.id), "rerequest")
    } else {
        if a.fraud_reports.len() >= MAX_ITEMS {
            a.fraud_reports.remove(0);
        }
        a.fraud_reports.push(FraudReport { transaction_id: t.id, who: who.clone(), comment, created_at: ctx.now });
        ("success", format!("The {who} of transaction {} was reported for review", t.id), "created_entry")
    };
    v[format!("{who}_status")] = json!(status);
    v[format!("{who}_message")] = json!(message);
    v[format!("{who}_code")] = json!(code);
    Ok(v)
}

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

/// Paid-out vendor earnings per (payout day, currency), for payout days up to `today`.
pub fn payouts(a: &Account, today: NaiveDate) -> BTreeMap<(NaiveDate, String), (Cents, Cents, Cents)> {
    let mut out: BTreeMap<(NaiveDate, String), (Cents, Cents, Cents)> = BTreeMap::new();
    for t in a.transactions.iter().filter(|t| !t.is_test) {
        let day = payout_date(t.created_at);
        if day <= today {
            let e = out.entry((day, t.currency.clone())).or_default();
            e.0 += t.vendor;
            e.1 += t.amount;
            e.2 += t.fee;
        }
    }
    out
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
