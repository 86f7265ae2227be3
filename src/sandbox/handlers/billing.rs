//! Handlers of the `billing` toolset: billing on demand, triggered rebilling
//! payments, stopping and resuming rebilling, and the rebilling event log.
//!
//! Owns: the rules for charging an order's stored payment method again. Must
//! not touch: HTTP, other accounts; new orders are booked by
//! `booking::new_order`.

use super::common::{Ctx, Page, Res, time_window, window_answer};
use crate::sandbox::args::{Args, money, yn};
use crate::sandbox::booking::{OrderSpec, add_interval, new_order, rebill_capable, valid_interval};
use crate::sandbox::dates::{add_months, fmt_date, fmt_dt, fmt_opt_date};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use chrono::NaiveDate;
use serde_json::{Value, json};

fn reference_order(a: &Account, id: &str) -> Result<Purchase, ApiError> {
    let p = a.purchase_or_404(id)?.clone();
    if !rebill_capable(&p.pay_method) {
        return Err(ApiError::params(format!(
            "Order '{id}' was paid with {}, which does not allow later charges; use an order paid by credit card, PayPal or direct debit",
            p.pay_method
        )));
    }
    if p.refunded_at.is_some() || a.purchase_transactions(id).any(|t| t.kind == TxKind::Chargeback) {
        return Err(ApiError::params(format!("Order '{id}' was refunded or charged back; its payment method can no longer be charged")));
    }
    Ok(p)
}

/// createBillingOnDemand: charges the stored payment method of an order for a new product.
pub fn create_billing_on_demand(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let base = reference_order(a, args.req_str("purchase_id")?)?;
    let product = a.product_by_text(args.req_str("product_id")?)?.clone();
    let plan = args.obj("payment_plan");
    let settings = args.obj("settings");
    let stored = a.payment_plans.values().find(|pp| pp.product_id == product.id && pp.is_active).cloned();
    let n = plan.int("number_of_installments")?.or(stored.as_ref().map(|s| s.number_of_installments)).unwrap_or(1);
    if n < 0 {
        return Err(ApiError::params("Argument payment_plan[number_of_installments] must be 0 or more"));
    }
    let first = match plan.amount("first_amount")? {
        Some(x) => x,
        None => stored.as_ref().map(|s| s.first_amount).ok_or_else(|| {
            ApiError::params(format!("Product {} has no stored payment plan; give payment_plan[first_amount]", product.id))
        })?,
    };
    let other = plan.amount("other_amounts")?.or(stored.as_ref().map(|s| s.other_amounts)).unwrap_or(if n == 1 { 0 } else { first });
    if first < 0 || other < 0 {
        return Err(ApiError::params("Amounts in payment_plan must not be negative"));
    }
    let quantity = settings.int("quantity")?.unwrap_or(1);
    if quantity < 1 {
        return Err(ApiError::params("Argument settings[quantity] must be at least 1"));
    }
    let currency = plan.str("currency").map(str::to_ascii_uppercase).unwrap_or_else(|| base.currency.clone());
    let interval = plan.str("first_billing_interval").unwrap_or("1_month").to_string();
    let other_interval = plan.str("other_billing_intervals").unwrap_or(&interval).to_string();
    for (label, iv) in [("payment_plan[first_billing_interval]", &interval), ("payment_plan[other_billing_intervals]", &other_interval)] {
        if !valid_interval(iv) {
            return Err(ApiError::params(format!("Invalid billing interval '{iv}' in {label}; use e.g. 7_day, 1_month, 12_month")));
        }
    }
    let mut spec = OrderSpec::like(&base, "billing_on_demand");
    spec.items = vec![(product.id, quantity, first * quantity, other * quantity)];
    for (i, v) in args.list("addons").iter().enumerate() {
        let ad = Args::element(v);
        let pid = ad.str("product_id").ok_or_else(|| ApiError::missing(&format!("addons[{i}][product_id]")))?;
        let ap = a.product_by_text(pid)?;
        let qty = ad.int("quantity")?.unwrap_or(1).max(1);
        let f = ad.amount("first_amount")?.or(ad.amount("single_amount")?).unwrap_or(0);
        let o = ad.amount("other_amounts")?.unwrap_or(0);
        spec.items.push((ap.id, qty, f * qty, o * qty));
    }
    spec.currency = currency.clone();
    spec.number_of_installments = n;
    spec.first_billing_interval = interval;
    spec.other_billing_intervals = other_interval;
    spec.payment_plan_id = stored.as_ref().filter(|_| !plan.has_obj_any()).map(|s| s.id);
    let tracking = args.obj("tracking");
    if let Some(c) = tracking.str("custom") {
        spec.custom = c.to_string();
    }
    if let Some(aff) = tracking.str("affiliate") {
        spec.affiliate_id = Some(a.affiliate_or_404(aff)?.id);
    }
    if let Some(c) = tracking.str("campaignkey") {
        spec.campaignkey = c.to_string();
    }
    if let Some(t) = tracking.str("trackingkey") {
        spec.trackingkey = t.to_string();
    }
    if let Some(code) = settings.str("voucher_code") {
        let vid = a.voucher_or_404(code)?.id;
        spec.voucher_code = a.vouchers[&vid].code.clone();
    }
    spec.placeholders = args.entries("placeholders").into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect();
    let new_id = new_order(a, spec, ctx.now)?;
    let np = a.purchase_or_404(&new_id)?;
    let mut answer = views::created_purchase(&new_id, np);
    answer.insert("paid_amount".into(), json!(money(np.first_amount)));
    answer.insert("currency".into(), json!(currency));
    Ok(Value::Object(answer))
}

/// createRebillingPayment: books the next recurring payment of an order now.
pub fn create_rebilling_payment(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let p = a.purchase_or_404(id)?.clone();
    if !p.is_recurring() || !p.rebilling_active {
        return Err(ApiError::params(format!("Rebilling of order '{id}' is not active, so no payment can be triggered")));
    }
    ensure_room(a.transactions.len(), "transactions")?;
    let paid = a.purchase_transactions(id).filter(|t| t.kind == TxKind::Payment).count() as i64;
    let gross = (p.other_amounts + p.balance).max(0);
    let commission = p.affiliate_id.map(|aff| {
        a.affiliations
            .get(&(aff, p.product_id()))
            .and_then(|s| s.commission_rate)
            .unwrap_or_else(|| a.products.get(&p.product_id()).map(|x| x.affiliate_commission).unwrap_or(0))
    });
    let (vat, fee, aff, vendor) = split_payment(gross, p.vat_rate, commission, 0);
    let tid = a.next_id("transaction");
    a.add_transaction(Transaction {
        id: tid,
        purchase_id: p.id.clone(),
        kind: TxKind::Payment,
        created_at: ctx.now,
        currency: p.currency.clone(),
        amount: gross,
        vat,
        fee,
        affiliate: aff,
        vendor,
        pay_method: p.pay_method.clone(),
        pay_sequence_no: paid + 1,
        parent_id: None,
        product_id: p.product_id(),
        buyer_id: p.buyer_id,
        affiliate_id: p.affiliate_id,
        is_test: p.is_test,
        note: String::new(),
    });
    let q = a.purchase_mut_or_404(id)?;
    q.balance = 0;
    if q.number_of_installments >= 2 && paid + 1 >= q.number_of_installments {
        q.billing_status = "completed".into();
        q.rebilling_active = false;
        q.next_payment_at = None;
    } else {
        q.billing_status = "paying".into();
        q.next_payment_at = Some(add_interval(ctx.now.date(), &q.other_billing_intervals));
    }
    Ok(json!({
        "purchase_id": id,
        "transaction_id": tid.to_string(),
        "amount": money(gross),
        "currency": q.currency,
        "payment_status": "completed",
        "payment_message": "",
        "billing_status": q.billing_status,
        "next_payment_at": fmt_opt_date(q.next_payment_at),
        "payment_data_update_url": format!("{SITE_URL}/order/{id}/payment"),
    }))
}

fn push_event(a: &mut Account, purchase_id: &str, kind: &str, ctx: &Ctx<'_>) {
    let paid = a.purchase_transactions(purchase_id).filter(|t| t.kind == TxKind::Payment).count() as i64;
    if a.rebill_events.len() >= MAX_ITEMS {
        a.rebill_events.remove(0);
    }
    a.add_rebill_event(purchase_id, ctx.now, paid, kind);
}

/// Last day of a minimum term that is still running, if any (`12m_0` = 12 months).
fn minimum_term_end(p: &Purchase) -> Option<NaiveDate> {
    let months: u32 = p.cancel_policy.split('_').next()?.strip_suffix('m')?.parse().ok()?;
    Some(add_months(p.created_at.date(), months))
}

/// stopRebilling: cancels recurring payments now, or at the end of a minimum term.
pub fn stop_rebilling(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let force = args.bool_or("force", false)?;
    let _ignore_refund = args.bool_or("ignore_refund_possibility", false)?;
    let p = a.purchase_or_404(id)?.clone();
    if !p.is_recurring() {
        return Err(ApiError::params(format!("Order '{id}' is a single payment and has no rebilling to stop")));
    }
    let answer = |p: &Purchase, modified: bool, note: &str, code: &str, now_: bool, later: bool, before: String| {
        json!({
            "modified": yn(modified),
            "note": note,
            "code": code,
            "billing_status": p.billing_status,
            "billing_status_msg": views::billing_status_msg(&p.billing_status),
            "next_payment_at": fmt_opt_date(p.next_payment_at),
            "rebilling_active": yn(p.rebilling_active),
            "is_cancelled_now": yn(now_),
            "is_cancelled_later": yn(later),
            "can_cancel_before": before,
        })
    };
    if !p.rebilling_active {
        return Ok(answer(&p, false, "Rebilling was already stopped", "stopped_now", true, false, String::new()));
    }
    let term_end = minimum_term_end(&p).filter(|d| *d > ctx.now.date());
    let q = a.purchase_mut_or_404(id)?;
    q.rebill_stop_noted_at = Some(ctx.now);
    let result = match term_end {
        Some(end) if !force => {
            // Payments continue until the minimum term ends.
            q.rebilling_active = false;

            answer(
                q,
                true,
                &format!("Rebilling stops at the end of the minimum term on {}", fmt_date(end)),
                "stopped_later",
                false,
                true,
                fmt_date(end),
            )
        }
        _ => {
            q.rebilling_active = false;
            q.billing_status = "aborted".into();
            q.next_payment_at = None;
            answer(q, true, "Rebilling was stopped", "stopped_now", true, false, String::new())
        }
    };
    push_event(a, id, "rebill_cancelled", ctx);
    Ok(result)
}

/// startRebilling: resumes stopped recurring payments.
pub fn start_rebilling(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let p = a.purchase_or_404(id)?.clone();
    if !p.is_recurring() {
        return Err(ApiError::params(format!("Order '{id}' is a single payment and has no rebilling to resume")));
    }
    if p.refunded_at.is_some() || a.purchase_transactions(id).any(|t| t.kind == TxKind::Chargeback) {
        return Err(ApiError::params(format!("Order '{id}' was refunded or charged back; its rebilling cannot be resumed")));
    }
    let paid = a.purchase_transactions(id).filter(|t| t.kind == TxKind::Payment).count() as i64;
    if p.number_of_installments >= 2 && paid >= p.number_of_installments {
        return Err(ApiError::params(format!("All {} installments of order '{id}' are paid; nothing to resume", p.number_of_installments)));
    }
    let modified = !p.rebilling_active;
    let q = a.purchase_mut_or_404(id)?;
    if modified {
        q.rebilling_active = true;
        q.billing_status = "paying".into();
        q.rebill_stop_noted_at = None;
        let due = add_interval(ctx.now.date(), &q.other_billing_intervals);
        q.next_payment_at = Some(q.next_payment_at.filter(|d| *d > ctx.now.date()).unwrap_or(due));
    }
    let v = json!({
        "modified": yn(modified),
        "note": if modified { "Rebilling was resumed" } else { "Rebilling is already active" },
        "billing_status": q.billing_status,
        "billing_status_msg": views::billing_status_msg(&q.billing_status),
        "next_payment_at": q.next_payment_at.map(|d| format!("{} 00:00:00", fmt_date(d))).unwrap_or_default(),
        "rebilling_active": yn(q.rebilling_active),
    });
    if modified {
        push_event(a, id, "rebill_resumed", ctx);
    }
    Ok(v)
}

/// listRebillingStatusChanges: rebilling events inside a time window, paged.
pub fn list_rebilling_status_changes(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (from, to) = time_window(args, ctx)?;
    let events: Vec<&RebillEvent> = a.rebill_events.iter().filter(|e| e.created_at >= from && e.created_at <= to).collect();
    let page = Page::from_args(args, events.len(), 100, 1000, false)?;
    let items: Vec<Value> = events[page.range()]
        .iter()
        .map(|e| {
            let p = a.purchase(&e.purchase_id);
            json!({
                "id": e.id.to_string(),
                "purchase_id": e.purchase_id,
                "created_at": fmt_dt(e.created_at),
                "pay_sequence_no": e.pay_sequence_no.to_string(),
                "type": e.kind,
                "type_msg": match e.kind.as_str() {
                    "rebill_cancelled" => "Rebilling cancelled",
                    "rebill_resumed" => "Rebilling resumed",
                    _ => "Last paid day",
                },
                "product_id": p.map(|p| p.product_id().to_string()).unwrap_or_default(),
                "buyer_email": p.and_then(|p| a.buyers.get(&p.buyer_id)).map(|b| b.email.clone()).unwrap_or_default(),
            })
        })
        .collect();
    let mut data = window_answer(from, to, &page);
    data.insert("items".into(), json!(items));
    Ok(Value::Object(data))
}
