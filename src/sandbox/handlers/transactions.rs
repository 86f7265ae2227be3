//! Handlers of the `transactions` toolset: the money movements,
//! single-transaction refunds and fraud reports.
//!
//! Owns: refunds of one payment. Must not touch: HTTP, other accounts.

use super::common::{Ctx, Page, Res, SearchFilter, time_window, window_answer};
use crate::sandbox::args::{Args, Cents, money};
use crate::sandbox::booking::{refund_all, refund_period_check};
use crate::sandbox::dates::fmt_dt;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

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
    let mut data = window_answer(from, to, &page);
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
        refund_all(a, &p.id, ctx.now, "Refund via API");
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
