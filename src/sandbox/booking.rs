//! Booking orders and their money movements, the one place that writes them.
//!
//! Owns: new orders with their first payment ([`new_order`], used by billing on
//! demand, add-on changes and upgrades), refunding an order in full and the
//! refund period, the order state after a refund (also used by seeding),
//! billing-interval arithmetic, and the payout schedule that follows from the
//! transactions. Must not touch: HTTP, argument handling, answer shapes.

use super::args::Cents;
use super::dates::{add_months, fmt_date, month_start};
use super::error::ApiError;
use super::model::*;
use super::reference::vat_rate;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
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

/// Books a new order with its first payment (dated `now`) and returns its id.
pub fn new_order(a: &mut Account, spec: OrderSpec, now: NaiveDateTime) -> Result<String, ApiError> {
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
    let next = recurring.then(|| spec.next_payment_at.unwrap_or_else(|| add_interval(now.date(), &spec.first_billing_interval)));
    let p = Purchase {
        id: id.clone(),
        created_at: now,
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
            created_at: now,
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

/// Refunds what is left of every payment of an order; returns the new transaction ids and the total.
pub fn refund_all(a: &mut Account, id: &str, now: NaiveDateTime, note: &str) -> (Vec<u64>, Cents) {
    let payments: Vec<usize> = a
        .tx_by_purchase
        .get(id)
        .map(|v| v.iter().copied().filter(|&i| a.transactions[i].kind == TxKind::Payment).collect())
        .unwrap_or_default();
    let mut ids = Vec::new();
    let mut total = 0;
    for idx in payments {
        let remaining = a.transactions[idx].amount - a.refunded_of(&a.transactions[idx]);
        if remaining > 0 {
            ids.push(a.book_reversal(idx, remaining, TxKind::Refund, now, note));
            total += remaining;
        }
    }
    if let Some(mut p) = a.purchase(id).cloned() {
        refund_purchase_state(a, &mut p, now);
        if let Some(slot) = a.purchase_mut(id) {
            *slot = p;
        }
    }
    for d in a.deliveries.values_mut().filter(|d| d.purchase_id == id && (d.kind == "request" || d.kind == "in_progress")) {
        d.kind = "cancel".into();
        d.modified_at = now;
    }
    for e in a.etickets.values_mut().filter(|e| e.purchase_id == id) {
        e.is_blocked = true;
    }
    (ids, total)
}

/// The refund-policy check shared by the refund functions: `Err` text when the period is over.
pub fn refund_period_check(a: &Account, p: &Purchase, paid_at: chrono::NaiveDateTime, request: chrono::NaiveDate) -> Result<(), String> {
    let days = a.products.get(&p.product_id()).map(|x| x.refund_days).unwrap_or(14);
    let last_day = (paid_at + Duration::days(days)).date();
    if request > last_day {
        Err(format!("the refund period of {days} days for order '{}' ended on {}; pass force=Y to refund anyway", p.id, fmt_date(last_day)))
    } else {
        Ok(())
    }
}

/// Applies the state change of a full refund to an order (status, rebilling, events).
pub fn refund_purchase_state(a: &mut Account, p: &mut Purchase, at: NaiveDateTime) {
    let was_active = p.rebilling_active;
    p.billing_status = "aborted".into();
    p.rebilling_active = false;
    p.next_payment_at = None;
    p.refunded_at = Some(at);
    if p.is_recurring() && p.rebill_stop_noted_at.is_none() {
        p.rebill_stop_noted_at = Some(at);
    }
    let paid = a.purchase_transactions(&p.id).filter(|t| t.kind == TxKind::Payment).count() as i64;
    if was_active {
        a.add_rebill_event(&p.id, at, paid, "rebill_cancelled");
    }
    a.add_rebill_event(&p.id, at, paid, "last_paid_day");
}

/// Day on which the earnings of a transaction are paid out.
pub fn payout_date(t: NaiveDateTime) -> NaiveDate {
    add_months(month_start(t.date()), 1).with_day(15).expect("15th exists")
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
