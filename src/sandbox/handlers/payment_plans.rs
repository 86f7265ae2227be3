//! Handlers of the `payment_plans` toolset: stored payment plans of a product.
//!
//! Owns: the plan field rules. Must not touch: HTTP, orders already using a
//! plan.

use super::common::{Ctx, IdArg, Res, product_arg, set_if_changed};
use crate::sandbox::args::{Args, Cents, money, yn};
use crate::sandbox::booking::valid_interval;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;

/// listPaymentPlans: the stored plans of one product.
pub fn list_payment_plans(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, _) = product_arg(a, args)?;
    let mut plans: Vec<&PaymentPlan> = a.payment_plans.values().filter(|pp| pp.product_id == id).collect();
    plans.sort_by_key(|pp| (pp.position, pp.id));
    Ok(json!({"product_id": id.to_string(), "items": plans.iter().map(|pp| views::payment_plan(a, pp)).collect::<Vec<_>>()}))
}

fn apply_plan_fields(pp: &mut PaymentPlan, data: Args<'_>) -> Result<bool, ApiError> {
    let mut m = false;
    let amount = |name: &str| -> Result<Option<Cents>, ApiError> {
        match data.amount(name)? {
            Some(x) if x < 0 => Err(ApiError::params(format!("data[{name}] must not be negative"))),
            other => Ok(other),
        }
    };
    if let Some(x) = amount("first_amount")? {
        set_if_changed(&mut pp.first_amount, x, &mut m);
    }
    if let Some(x) = amount("other_amounts")? {
        set_if_changed(&mut pp.other_amounts, x, &mut m);
    }
    if let Some(c) = data.str("currency") {
        if c.len() != 3 {
            return Err(ApiError::params(format!("Invalid data[currency] '{c}'; use a three-letter code")));
        }
        set_if_changed(&mut pp.currency, c.to_ascii_uppercase(), &mut m);
    }
    if let Some(n) = data.int("number_of_installments")? {
        if !(0..=36).contains(&n) {
            return Err(ApiError::params("data[number_of_installments] must be 0 (subscription), 1 (single payment) or 2..36"));
        }
        set_if_changed(&mut pp.number_of_installments, n, &mut m);
    }
    for (field, slot) in
        [("first_billing_interval", &mut pp.first_billing_interval), ("other_billing_intervals", &mut pp.other_billing_intervals)]
    {
        if let Some(iv) = data.str(field) {
            if !valid_interval(iv) {
                return Err(ApiError::params(format!(
                    "Invalid billing interval '{iv}' in data[{field}]; use e.g. 7_day, 1_month, 12_month"
                )));
            }
            set_if_changed(slot, iv.to_string(), &mut m);
        }
    }
    if let Some(b) = data.bool("is_active")? {
        set_if_changed(&mut pp.is_active, b, &mut m);
    }
    if let Some(c) =
        data.one_of("cancel_policy", &["6m_0", "6m_6m", "6m_12m", "12m_0", "12m_3m", "12m_6m", "12m_12m", "24m_0", "24m_6m", "24m_12m"])?
    {
        set_if_changed(&mut pp.cancel_policy, c.to_string(), &mut m);
    }
    if let Some(p) = data.int("position")? {
        set_if_changed(&mut pp.position, p, &mut m);
    }
    if let Some(b) = data.bool("is_switching_allowed")? {
        set_if_changed(&mut pp.is_switching_allowed, b, &mut m);
    }
    if pp.number_of_installments != 1 {
        if pp.first_billing_interval.is_empty() {
            pp.first_billing_interval = "1_month".into();
        }
        if pp.other_billing_intervals.is_empty() {
            pp.other_billing_intervals = pp.first_billing_interval.clone();
        }
        if pp.other_amounts == 0 {
            pp.other_amounts = pp.first_amount;
        }
    }
    Ok(m)
}

/// createPaymentplan: a stored price plan for a product.
pub fn create_paymentplan(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.payment_plans.len(), "payment plans")?;
    let product_id = a.product_by_text(args.req_str("product_id")?)?.id;
    let data = args.obj("data");
    data.req_amount("first_amount")?;
    let position = a.payment_plans.values().filter(|pp| pp.product_id == product_id).map(|pp| pp.position).max().unwrap_or(0) + 10;
    let mut pp = PaymentPlan {
        id: 0,
        product_id,
        first_amount: 0,
        other_amounts: 0,
        currency: a.vendor.currency.clone(),
        first_billing_interval: String::new(),
        other_billing_intervals: String::new(),
        number_of_installments: 1,
        is_active: true,
        cancel_policy: String::new(),
        position,
        is_switching_allowed: false,
        created_at: ctx.now,
        modified_at: ctx.now,
    };
    apply_plan_fields(&mut pp, data)?;
    pp.id = a.next_id("payment_plan");
    let id = pp.id;
    a.payment_plans.insert(id, pp);
    Ok(json!({"is_valid": "Y", "paymentplan_id": id.to_string()}))
}

const PAYMENT_PLAN_ID: IdArg = IdArg { name: "paymentplan_id", what: "Payment plan" };

/// updatePaymentplan: changes a stored plan.
pub fn update_paymentplan(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (_, pp) = PAYMENT_PLAN_ID.find_mut(&mut a.payment_plans, args)?;
    let m = apply_plan_fields(pp, args.obj("data"))?;
    if m {
        pp.modified_at = ctx.now;
    }
    Ok(json!({"is_modified": yn(m), "first_amount": money(pp.first_amount)}))
}

/// deletePaymentplan: removes a stored plan.
pub fn delete_paymentplan(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, pp) = PAYMENT_PLAN_ID.take(&mut a.payment_plans, args)?;
    Ok(json!({"paymentplan_id": id.to_string(), "product_id": pp.product_id.to_string(), "is_deleted": "Y"}))
}
