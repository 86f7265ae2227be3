//! The operator's safety policy: which calls need the user's confirmation,
//! money caps, the product allow-list, and the plain-language summary of what
//! a call will do. Everything here runs before anything is sent upstream.

use crate::catalog::{Effect, Function};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::str::FromStr;

/// Which calls need the user's confirmation before they are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConfirmPolicy {
    /// Never ask.
    Off,
    /// Ask for destructive calls (refunds, cancellations, deletions, charges).
    #[default]
    Destructive,
    /// Ask for every call that changes something.
    Writes,
}

impl ConfirmPolicy {
    /// Whether a call with this effect needs confirmation.
    pub fn requires(self, effect: Effect) -> bool {
        match self {
            ConfirmPolicy::Off => false,
            ConfirmPolicy::Destructive => effect == Effect::Destructive,
            ConfirmPolicy::Writes => effect != Effect::Read,
        }
    }
}

impl FromStr for ConfirmPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "off" => Ok(ConfirmPolicy::Off),
            "destructive" => Ok(ConfirmPolicy::Destructive),
            "writes" => Ok(ConfirmPolicy::Writes),
            other => Err(format!("unknown confirmation policy `{other}`; use destructive, writes or off")),
        }
    }
}

/// Operator limits on money and products.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Largest refund (or credit) one call may make.
    pub max_refund: Option<Decimal>,
    /// Largest charge one call may make.
    pub max_charge: Option<Decimal>,
    /// Products that changing calls may name; `None` = any.
    pub allowed_product_ids: Option<HashSet<String>>,
}

impl Limits {
    /// Whether checking a call needs the order's record (its amount).
    pub fn needs_purchase(&self, function: &Function) -> bool {
        self.max_refund.is_some() && function.name == "refundPurchase"
    }
}

/// Money a call moves, as far as it can be known before sending it.
#[derive(Debug, Clone, PartialEq)]
pub enum MoneyMove {
    /// Money back to the buyer (refunds, credits); `None` when unknown.
    Refund(Option<Decimal>),
    /// Money from the buyer (charges, debits); `None` when unknown.
    Charge(Option<Decimal>),
}

/// Parses an amount argument as a decimal (never a float).
pub fn decimal(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// What money `function` moves with `args`; `purchase` is the order's record
/// when it was fetched first.
pub fn money_move(function: &Function, args: &Map<String, Value>, purchase: Option<&Value>) -> Option<MoneyMove> {
    let sum = |values: Vec<Option<Decimal>>| -> Option<Decimal> {
        if values.is_empty() || values.iter().any(Option::is_none) {
            return None;
        }
        Some(values.into_iter().flatten().sum())
    };
    match function.name {
        "refundPurchase" => Some(MoneyMove::Refund(purchase.and_then(|p| decimal(p.get("amount"))))),
        "refundPartially" => Some(MoneyMove::Refund(decimal(args.get("amount")))),
        "refundTransaction" => Some(MoneyMove::Refund(None)),
        "updateServiceProofRequest" => {
            let refunds = args.get("data").and_then(|d| d.get("request_status")).and_then(Value::as_str) == Some("exec_refund");
            refunds.then_some(MoneyMove::Refund(None))
        }
        "addBalanceToPurchase" => match decimal(args.get("amount")) {
            Some(a) if a.is_sign_negative() => Some(MoneyMove::Refund(Some(-a))),
            other => Some(MoneyMove::Charge(other)),
        },
        "createBillingOnDemand" => {
            let mut parts = vec![decimal(args.get("payment_plan").and_then(|p| p.get("first_amount")))];
            for addon in args.get("addons").and_then(Value::as_array).into_iter().flatten() {
                parts.push(decimal(addon.get("first_amount")).or_else(|| decimal(addon.get("single_amount"))));
            }
            Some(MoneyMove::Charge(sum(parts)))
        }
        "createAddonChangePurchase" => {
            let parts = args.get("addons").and_then(Value::as_array).into_iter().flatten().map(|a| decimal(a.get("amount"))).collect();
            Some(MoneyMove::Charge(sum(parts)))
        }
        "createRebillingPayment" | "createUpgradePurchase" => Some(MoneyMove::Charge(None)),
        _ => None,
    }
}

/// Checks the operator's limits; `Err` is a message naming the limit.
pub fn check_limits(function: &Function, args: &Map<String, Value>, purchase: Option<&Value>, limits: &Limits) -> Result<(), String> {
    match money_move(function, args, purchase) {
        Some(MoneyMove::Refund(amount)) if limits.max_refund.is_some() => {
            over(function, amount, limits.max_refund.unwrap(), "--max-refund-amount", "refund")?
        }
        Some(MoneyMove::Charge(amount)) if limits.max_charge.is_some() => {
            over(function, amount, limits.max_charge.unwrap(), "--max-charge-amount", "charge")?
        }
        _ => {}
    }
    if let Some(allowed) = &limits.allowed_product_ids
        && function.effect != Effect::Read
    {
        let mut named = Vec::new();
        collect_product_ids(&Value::Object(args.clone()), &mut named);
        for id in named {
            if !allowed.contains(&id) {
                return Err(format!(
                    "{} refused: product {id} is not in the operator's --allow-product-ids list; nothing was sent.",
                    function.name
                ));
            }
        }
    }
    Ok(())
}

fn over(function: &Function, amount: Option<Decimal>, cap: Decimal, flag: &str, what: &str) -> Result<(), String> {
    match amount {
        Some(amount) if amount > cap => {
            Err(format!("{} refused: the {what} of {amount} is over the operator's limit {flag} {cap}; nothing was sent.", function.name))
        }
        Some(_) => Ok(()),
        None => Err(format!(
            "{} refused: the operator set {flag} {cap} and the amount of this {what} cannot be known before it is made; nothing was sent.",
            function.name
        )),
    }
}

/// Argument names that identify products.
const PRODUCT_ID_FIELDS: [&str; 5] = ["product_id", "product_ids", "to_product_id", "for_product_ids", "orderbump_product_id"];

fn collect_product_ids(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if PRODUCT_ID_FIELDS.contains(&k.as_str()) {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    out.extend(text.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
                } else {
                    collect_product_ids(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_product_ids(v, out)),
        _ => {}
    }
}

/// Whether [`summarize`] says more with the order's record (amount, buyer).
pub fn summary_uses_purchase(function: &Function) -> bool {
    matches!(function.name, "refundPurchase" | "refundPartially")
}

/// A plain-language sentence of what the call will do, for confirmation
/// prompts and dry runs, e.g. "Refund order ABC123 in full, 49.00 EUR, to jane@example.com".
pub fn summarize(function: &Function, args: &Map<String, Value>, purchase: Option<&Value>) -> String {
    let arg = |name: &str| args.get(name).map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()));
    let order = arg("purchase_id").unwrap_or_else(|| "?".into());
    let currency = purchase.and_then(|p| p.get("currency")).and_then(Value::as_str).unwrap_or("");
    let amount = purchase.and_then(|p| p.get("amount")).and_then(Value::as_str).map(|a| format!(", {a} {currency}").trim_end().to_owned());
    let email = purchase
        .and_then(|p| p.get("buyer").and_then(|b| b.get("email")).or_else(|| p.get("email")))
        .and_then(Value::as_str)
        .map(|e| format!(", to {e}"));
    match function.name {
        "refundPurchase" => format!("Refund order {order} in full{}{}", amount.unwrap_or_default(), email.unwrap_or_default()),
        "refundPartially" => {
            format!("Refund {} {currency} of order {order}{}", arg("amount").unwrap_or_default(), email.unwrap_or_default())
                .replace("  ", " ")
        }
        "refundTransaction" => format!("Refund transaction {}", arg("transaction_id").unwrap_or_default()),
        "stopRebilling" => format!("Stop the subscription payments of order {order}"),
        "startRebilling" => format!("Restart the subscription payments of order {order}"),
        "createRebillingPayment" => format!("Charge the next subscription payment of order {order} now"),
        "createBillingOnDemand" => format!("Charge the buyer of order {order} for product {}", arg("product_id").unwrap_or_default()),
        "addBalanceToPurchase" => format!("Add a balance of {} to order {order}", arg("amount").unwrap_or_default()),
        name => {
            let shown: Vec<String> =
                args.iter().map(|(k, v)| format!("{k}={}", v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))).collect();
            // deleteProductGroup {product_group_id: 5} → "Delete product group 5".
            if let Some(thing) = name.strip_prefix("delete")
                && let Some(first) = function.params.first().and_then(|p| arg(p.name))
            {
                return format!("Delete {} {first}", words(thing));
            }
            format!("{name} with {}", if shown.is_empty() { "no arguments".into() } else { shown.join(", ") })
        }
    }
}

/// "ProductGroup" → "product group".
fn words(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push(' ');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;
    use serde_json::json;

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn limits(refund: Option<&str>, charge: Option<&str>, products: Option<&[&str]>) -> Limits {
        Limits {
            max_refund: refund.map(|r| r.parse().unwrap()),
            max_charge: charge.map(|c| c.parse().unwrap()),
            allowed_product_ids: products.map(|p| p.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn refund_cap_compares_decimals() {
        let f = lookup("refundPartially").unwrap();
        let l = limits(Some("50.00"), None, None);
        assert!(check_limits(f, &args(json!({"purchase_id": "A", "amount": "50.00"})), None, &l).is_ok());
        let err = check_limits(f, &args(json!({"purchase_id": "A", "amount": "50.01"})), None, &l).unwrap_err();
        assert!(err.contains("--max-refund-amount 50.00") && err.contains("50.01"), "{err}");
        // 0.1 + 0.2 style float traps do not apply: decimals are exact.
        let l = limits(Some("0.3"), None, None);
        assert!(check_limits(f, &args(json!({"purchase_id": "A", "amount": "0.30"})), None, &l).is_ok());
    }

    #[test]
    fn full_refund_uses_the_orders_amount_and_unknown_amounts_are_refused() {
        let f = lookup("refundPurchase").unwrap();
        let l = limits(Some("40"), None, None);
        let purchase = json!({"amount": "49.00", "currency": "EUR"});
        assert!(check_limits(f, &args(json!({"purchase_id": "A"})), Some(&purchase), &l).unwrap_err().contains("49.00"));
        let cheap = json!({"amount": "19.00"});
        assert!(check_limits(f, &args(json!({"purchase_id": "A"})), Some(&cheap), &l).is_ok());
        let t = lookup("refundTransaction").unwrap();
        assert!(check_limits(t, &args(json!({"transaction_id": "1"})), None, &l).unwrap_err().contains("cannot be known"));
        assert!(check_limits(t, &args(json!({"transaction_id": "1"})), None, &Limits::default()).is_ok());
    }

    #[test]
    fn charge_cap_sums_plan_and_addons_and_negative_balance_is_a_refund() {
        let f = lookup("createBillingOnDemand").unwrap();
        let l = limits(Some("5"), Some("100"), None);
        let a = args(
            json!({"purchase_id": "A", "product_id": "1", "payment_plan": {"first_amount": "60"}, "addons": [{"first_amount": "30.5"}]}),
        );
        assert!(check_limits(f, &a, None, &l).is_ok());
        let a = args(
            json!({"purchase_id": "A", "product_id": "1", "payment_plan": {"first_amount": "60"}, "addons": [{"first_amount": "40.01"}]}),
        );
        assert!(check_limits(f, &a, None, &l).unwrap_err().contains("--max-charge-amount 100"));
        let b = lookup("addBalanceToPurchase").unwrap();
        assert!(check_limits(b, &args(json!({"purchase_id": "A", "amount": "-6"})), None, &l).unwrap_err().contains("--max-refund-amount"));
    }

    #[test]
    fn product_allow_list_applies_to_changing_calls_only() {
        let l = limits(None, None, Some(&["1", "2"]));
        let update = lookup("updateProduct").unwrap();
        assert!(check_limits(update, &args(json!({"product_id": 1, "data": {}})), None, &l).is_ok());
        assert!(check_limits(update, &args(json!({"product_id": 3, "data": {}})), None, &l).unwrap_err().contains("product 3"));
        let voucher = lookup("createVoucher").unwrap();
        assert!(
            check_limits(voucher, &args(json!({"data": {"code": "X", "product_ids": "1,7"}})), None, &l).unwrap_err().contains("product 7")
        );
        assert!(check_limits(voucher, &args(json!({"data": {"code": "X", "product_ids": "all"}})), None, &l).is_err());
        let read = lookup("getProduct").unwrap();
        assert!(check_limits(read, &args(json!({"product_id": 9})), None, &l).is_ok());
    }

    #[test]
    fn summaries_are_plain_language() {
        let f = lookup("refundPurchase").unwrap();
        let purchase = json!({"amount": "49.00", "currency": "EUR", "buyer": {"email": "jane@example.com"}});
        assert_eq!(
            summarize(f, &args(json!({"purchase_id": "ABC123"})), Some(&purchase)),
            "Refund order ABC123 in full, 49.00 EUR, to jane@example.com"
        );
        let d = lookup("deleteProduct").unwrap();
        assert_eq!(summarize(d, &args(json!({"product_id": 5})), None), "Delete product 5");
        let g = lookup("deleteProductGroup").unwrap();
        assert_eq!(summarize(g, &args(json!({"product_group_id": 7})), None), "Delete product group 7");
        let u = lookup("updatePurchase").unwrap();
        assert_eq!(summarize(u, &args(json!({"purchase_id": "A1"})), None), "updatePurchase with purchase_id=A1");
    }

    #[test]
    fn confirm_policy() {
        assert!(ConfirmPolicy::Destructive.requires(Effect::Destructive));
        assert!(!ConfirmPolicy::Destructive.requires(Effect::Write));
        assert!(ConfirmPolicy::Writes.requires(Effect::Write));
        assert!(!ConfirmPolicy::Off.requires(Effect::Destructive));
        assert_eq!("writes".parse::<ConfirmPolicy>(), Ok(ConfirmPolicy::Writes));
    }
}
