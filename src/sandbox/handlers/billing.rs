//! Handlers of the `billing` toolset: billing on demand, triggered rebilling
//! payments, stopping and resuming rebilling, and the rebilling event log.
//!
//! Owns: [`new_order`], the one place where a new order and its first payment are
//! booked (also used by add-on changes and upgrades), and billing-interval
//! arithmetic. Must not touch: HTTP, other accounts.

use super::views;
use super::{Ctx, Page, Res};
use crate::sandbox::args::{Args, Cents, money, yn};
use crate::sandbox::dates::{add_months, fmt_date, fmt_dt, fmt_opt_date};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::seed::vat_rate;
use chrono::{Duration, NaiveDate};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Payment methods that allow later automatic charges.
pub fn rebill_capable(pay_method: &str) -> bool {
    matches!(pay_method, "creditcard" | "paypal" | "elv" | "test")
}

/// Checks a billing interval code such as `1_month`, `14_day`, `1_year`, `2_week`.
pub fn valid_interval(s: &str) -> bool {
    let Some((n, unit)) = s.split_once('_') else { return false };
    n.parse::<u32>().is_ok_and(|n| (1..=36).contains(&n)) && matches!(unit, "day" | "week" | "month" | "year")
}

/// The date one interval after `d` (unknown codes count as one month).
pub fn add_interval(d: NaiveDate, interval: &str) -> NaiveDate {
    let (n, unit) = interval.split_once('_').unwrap_or(("1", "month"));
    let n: u32 = n.parse().unwrap_or(1);
    match unit {
        "day" => d + Duration::days(i64::from(n)),
        "week" => d + Duration::weeks(i64::from(n)),
        "year" => add_months(d, n * 12),
        _ => add_months(d, n),
    }
}

/// What a new order consists of.
#[derive(Debug, Clone)]
pub struct OrderSpec {
    /// Buyer.
    pub buyer_id: u64,
    /// Lines: (product id, quantity, first amount, follow-up amount), gross for all units.
    pub items: Vec<(u64, i64, Cents, Cents)>,
    /// Currency.
    pub currency: String,
    /// 0 subscription, 1 single, >= 2 instalments.
    pub number_of_installments: i64,
    /// Interval to the second payment.
    pub first_billing_interval: String,
    /// Interval of later payments.
    pub other_billing_intervals: String,
    /// Payment method.
    pub pay_method: String,
    /// Test order.
    pub is_test: bool,
    /// Country (VAT).
    pub country: String,
    /// Affiliate.
    pub affiliate_id: Option<u64>,
    /// Campaign key.
    pub campaignkey: String,
    /// Vendor tracking key.
    pub trackingkey: String,
    /// Custom field.
    pub custom: String,
    /// `regular`, `billing_on_demand`, `addon_change`, `upgrade`.
    pub order_type: String,
    /// Order it came from.
    pub parent: Option<String>,
    /// Stored payment plan used.
    pub payment_plan_id: Option<u64>,
    /// Placeholders.
    pub placeholders: BTreeMap<String, String>,
    /// Voucher used.
    pub voucher_code: String,
    /// Overrides the computed next payment date.
    pub next_payment_at: Option<NaiveDate>,
}

impl OrderSpec {
    /// A spec that reuses buyer, payment method and tracking of an existing order.
    pub fn like(base: &Purchase, order_type: &str) -> OrderSpec {
        OrderSpec {
            buyer_id: base.buyer_id,
            items: Vec::new(),
            currency: base.currency.clone(),
            number_of_installments: 1,
            first_billing_interval: "1_month".into(),
            other_billing_intervals: "1_month".into(),
            pay_method: base.pay_method.clone(),
            is_test: base.is_test,
            country: base.country.clone(),
            affiliate_id: base.affiliate_id,
            campaignkey: base.campaignkey.clone(),
            trackingkey: base.trackingkey.clone(),
            custom: base.custom.clone(),
            order_type: order_type.into(),
            parent: Some(base.id.clone()),
            payment_plan_id: None,
            placeholders: BTreeMap::new(),
            voucher_code: String::new(),
            next_payment_at: None,
        }
    }
}

/// Books a new order with its first payment (dated now) and returns its id.
pub fn new_order(a: &mut Account, spec: OrderSpec, ctx: &Ctx<'_>) -> Result<String, ApiError> {
    ensure_room(a.purchases.len(), "orders")?;
    ensure_room(a.transactions.len(), "transactions")?;
    let id = a.new_purchase_id();
    let first: Cents = spec.items.iter().map(|i| i.2).sum();
    let other: Cents = spec.items.iter().map(|i| i.3).sum();
    let vat = vat_rate(&spec.country);
    let main_product = spec.items.first().map(|i| i.0).unwrap_or(0);
    let commission = spec.affiliate_id.map(|aff| {
        a.affiliations
            .get(&(aff, main_product))
            .and_then(|s| s.commission_rate)
            .unwrap_or_else(|| a.products.get(&main_product).map(|p| p.affiliate_commission).unwrap_or(0))
    });
    let mut items = Vec::new();
    for (pid, qty, f, o) in &spec.items {
        let item_id = a.next_id("item");
        items.push(PurchaseItem { id: item_id, product_id: *pid, quantity: *qty, first_amount: *f, other_amounts: *o });
    }
    let recurring = spec.number_of_installments != 1;
    let next = recurring.then(|| spec.next_payment_at.unwrap_or_else(|| add_interval(ctx.now.date(), &spec.first_billing_interval)));
    let p = Purchase {
        id: id.clone(),
        created_at: ctx.now,
        buyer_id: spec.buyer_id,
        items,
        payment_plan_id: spec.payment_plan_id,
        currency: spec.currency.clone(),
        first_amount: first,
        other_amounts: other,
        number_of_installments: spec.number_of_installments,
        first_billing_interval: if recurring { spec.first_billing_interval.clone() } else { String::new() },
        other_billing_intervals: if recurring { spec.other_billing_intervals.clone() } else { String::new() },
        vat_rate: vat,
        country: spec.country.clone(),
        pay_method: spec.pay_method.clone(),
        is_test: spec.is_test,
        order_type: spec.order_type.clone(),
        affiliate_id: spec.affiliate_id,
        campaignkey: spec.campaignkey.clone(),
        trackingkey: spec.trackingkey.clone(),
        custom: spec.custom.clone(),
        click_id: String::new(),
        utm: BTreeMap::new(),
        billing_status: if recurring { "paying".into() } else { "completed".into() },
        rebilling_active: recurring,
        next_payment_at: next,
        rebill_stop_noted_at: None,
        cancel_policy: String::new(),
        balance: 0,
        license_key: None,
        refunded_at: None,
        unlock_invoices: false,
        voucher_code: spec.voucher_code.clone(),
        mails_sent: 1,
        member_access: Vec::new(),
        placeholders: spec.placeholders.clone(),
        parent_purchase_id: spec.parent.clone(),
        upgraded_to: None,
    };
    a.add_purchase(p);
    if first > 0 {
        let (vat_amt, fee, aff, vendor) = split_payment(first, vat, commission, 0);
        let tid = a.next_id("transaction");
        a.add_transaction(Transaction {
            id: tid,
            purchase_id: id.clone(),
            kind: TxKind::Payment,
            created_at: ctx.now,
            currency: spec.currency.clone(),
            amount: first,
            vat: vat_amt,
            fee,
            affiliate: aff,
            vendor,
            pay_method: spec.pay_method.clone(),
            pay_sequence_no: 1,
            parent_id: None,
            product_id: main_product,
            buyer_id: spec.buyer_id,
            affiliate_id: spec.affiliate_id,
            is_test: spec.is_test,
            note: String::new(),
        });
    }
    Ok(id)
}

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
        spec.affiliate_id = Some(a.find_affiliate(aff).ok_or_else(|| ApiError::no_such("Affiliate", aff))?.id);
    }
    if let Some(c) = tracking.str("campaignkey") {
        spec.campaignkey = c.to_string();
    }
    if let Some(t) = tracking.str("trackingkey") {
        spec.trackingkey = t.to_string();
    }
    if let Some(code) = settings.str("voucher_code") {
        let vid = a.find_voucher_id(code).ok_or_else(|| ApiError::no_such("Voucher", code))?;
        spec.voucher_code = a.vouchers[&vid].code.clone();
    }
    spec.placeholders = args.entries("placeholders").into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect();
    let new_id = new_order(a, spec, ctx)?;
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
    let q = a.purchase_mut(id).expect("exists");
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
    let id = a.next_id("rebill_event");
    if a.rebill_events.len() >= MAX_ITEMS {
        a.rebill_events.remove(0);
    }
    a.rebill_events.push(RebillEvent {
        id,
        purchase_id: purchase_id.to_string(),
        created_at: ctx.now,
        pay_sequence_no: paid,
        kind: kind.into(),
    });
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
    let q = a.purchase_mut(id).expect("exists");
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
    let q = a.purchase_mut(id).expect("exists");
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
    let (from, to) = super::purchases::time_window(args, ctx)?;
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
    let mut data = Map::new();
    data.insert("from".into(), json!(fmt_dt(from)));
    data.insert("to".into(), json!(fmt_dt(to)));
    data.insert("items".into(), json!(items));
    page.write(&mut data);
    Ok(Value::Object(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert!(valid_interval("1_month") && valid_interval("14_day") && valid_interval("1_year") && valid_interval("2_week"));
        assert!(!valid_interval("month") && !valid_interval("0_month") && !valid_interval("1_fortnight"));
        let d = NaiveDate::from_ymd_opt(2024, 1, 31).unwrap();
        assert_eq!(add_interval(d, "1_month"), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
        assert_eq!(add_interval(d, "7_day"), NaiveDate::from_ymd_opt(2024, 2, 7).unwrap());
        assert_eq!(add_interval(d, "1_year"), NaiveDate::from_ymd_opt(2025, 1, 31).unwrap());
    }
}
