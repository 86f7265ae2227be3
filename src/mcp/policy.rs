//! The operator's safety policy: which calls need the user's confirmation,
//! money caps, the product allow-list, and the plain-language summary of what
//! a call will do. Everything here runs before anything is sent upstream.

use super::outcome::Refusal;
use super::prepare::PreparedCall;
use crate::catalog::{Effect, Function, Money, PRODUCT_ID_PARAMS};
use rust_decimal::Decimal;
use serde_json::Value;
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
    /// Whether checking `function` needs its lookup record (the order's amount).
    pub fn need_lookup(&self, function: &Function) -> bool {
        self.max_refund.is_some() && function.cap_needs_lookup()
    }
}

/// Money a call moves, as far as it can be known before sending it.
#[derive(Debug, Clone, PartialEq)]
pub enum MoneyMove {
    /// Money back to the buyer (refunds, credits); `None` when unknown.
    Refund(Option<Decimal>),
    /// Money from the buyer (charges, debits); `None` when unknown.
    Charge(Option<Decimal>),
    /// Not declared in the catalogue: any cap refuses it.
    Undeclared,
}

/// Parses an amount in a looked-up record as a decimal (never a float).
fn decimal(value: Option<&Value>) -> Option<Decimal> {
    match value? {
        Value::String(s) => Decimal::from_str(s.trim()).ok(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).ok(),
        _ => None,
    }
}

/// What money `call` moves, read from the catalogue's [`Money`]; `record` is
/// the function's lookup record when it was fetched first.
pub fn money_move(call: &PreparedCall, record: Option<&Value>) -> Option<MoneyMove> {
    let Some(money) = call.function.money else { return Some(MoneyMove::Undeclared) };
    match money {
        Money::None => None,
        Money::RefundsOrder => Some(MoneyMove::Refund(record.and_then(|p| decimal(p.get("amount"))))),
        Money::Refunds(paths) => Some(MoneyMove::Refund(sum(call, paths))),
        Money::Charges(paths) => Some(MoneyMove::Charge(sum(call, paths))),
        Money::Balance(path) => match call.decimal(path) {
            Some(a) if a.is_sign_negative() => Some(MoneyMove::Refund(Some(-a))),
            other => Some(MoneyMove::Charge(other)),
        },
        Money::RefundsUnknown => Some(MoneyMove::Refund(None)),
        Money::ChargesUnknown => Some(MoneyMove::Charge(None)),
        Money::RefundsUnknownWhen { path, value } => (call.field(path) == Some(value)).then_some(MoneyMove::Refund(None)),
    }
}

/// The sum of the amounts at `paths` (see [`Money`] for the notation);
/// unknown when one is missing or none is there at all.
fn sum(call: &PreparedCall, paths: &[&str]) -> Option<Decimal> {
    let mut total = Decimal::ZERO;
    let mut parts = 0;
    for path in paths {
        let mut add = |wire_alternatives: &str| -> Option<()> {
            let amount = wire_alternatives.split('|').find_map(|wire| call.decimal(wire))?;
            total += amount;
            parts += 1;
            Some(())
        };
        match path.split_once("[*]") {
            Some((list, rest)) => {
                // `addons[*][first_amount|single_amount]`: per item, the first alternative given.
                let fields = rest.trim_start_matches('[').trim_end_matches(']');
                for item in call.list_items(list) {
                    let alternatives: Vec<String> = fields.split('|').map(|f| format!("{list}[{item}][{f}]")).collect();
                    add(&alternatives.join("|"))?;
                }
            }
            None => add(path)?,
        }
    }
    (parts > 0).then_some(total)
}

/// Checks the operator's limits before anything is sent.
pub fn check_limits(call: &PreparedCall, record: Option<&Value>, limits: &Limits) -> Result<(), Refusal> {
    let tool = call.function.name;
    let check = |amount: Option<Decimal>, cap: Decimal, flag: &'static str, what: &'static str| match amount {
        Some(amount) if amount > cap => Err(Refusal::OverCap { tool, what, amount, flag, cap }),
        Some(_) => Ok(()),
        None => Err(Refusal::UnknownAmount { tool, what, flag, cap }),
    };
    match (money_move(call, record), limits.max_refund, limits.max_charge) {
        (Some(MoneyMove::Refund(amount)), Some(cap), _) => check(amount, cap, "--max-refund-amount", "refund")?,
        (Some(MoneyMove::Charge(amount)), _, Some(cap)) => check(amount, cap, "--max-charge-amount", "charge")?,
        (Some(MoneyMove::Undeclared), Some(cap), _) => check(None, cap, "--max-refund-amount", "call")?,
        (Some(MoneyMove::Undeclared), None, Some(cap)) => check(None, cap, "--max-charge-amount", "call")?,
        _ => {}
    }
    if let Some(allowed) = &limits.allowed_product_ids
        && call.function.effect != Effect::Read
    {
        for (wire, value) in &call.body.fields {
            if !PRODUCT_ID_PARAMS.contains(&last_segment(wire)) {
                continue;
            }
            if let Some(product) = value.split(',').map(str::trim).find(|id| !id.is_empty() && !allowed.contains(*id)) {
                return Err(Refusal::ProductNotAllowed { tool, product: product.to_owned() });
            }
        }
    }
    Ok(())
}

/// `addons[0][product_id]` → `product_id`.
fn last_segment(wire: &str) -> &str {
    wire.rsplit('[').next().unwrap_or(wire).trim_end_matches(']')
}

/// A plain-language sentence of what the call will do, for confirmation
/// prompts and dry runs, e.g. "Refund order ABC123 in full, 49.00 EUR, to
/// jane@example.com": the catalogue's summary template filled in, else a
/// generic sentence.
pub fn summarize(call: &PreparedCall, record: Option<&Value>) -> String {
    let function = call.function;
    if let Some(template) = function.summary {
        return render(template, |name| placeholder(call, record, name));
    }
    // deleteProductGroup {product_group_id: 5} → "Delete product group 5".
    if let Some(thing) = function.name.strip_prefix("delete")
        && let Some(first) = function.params.first().and_then(|p| call.field(p.name))
    {
        return format!("Delete {} {first}", words(thing));
    }
    let shown: Vec<String> = call.body.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{} with {}", function.name, if shown.is_empty() { "no arguments".into() } else { shown.join(", ") })
}

fn placeholder(call: &PreparedCall, record: Option<&Value>, name: &str) -> String {
    let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string());
    match name.strip_prefix("order.") {
        Some("email") => record.and_then(|p| p.get("buyer").and_then(|b| b.get("email")).or_else(|| p.get("email"))).map(text),
        Some(field) => record.and_then(|p| p.get(field)).filter(|v| !v.is_null()).map(text),
        None => call.field(name).map(str::to_owned),
    }
    .unwrap_or_default()
}

/// Fills `{name}` placeholders; a `[...]` part is dropped when every
/// placeholder in it is empty. Brackets inside a placeholder are its name's.
fn render(template: &str, value: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut optional: Option<(String, bool)> = None; // (text so far, any placeholder filled)
    let mut chars = template.chars();
    while let Some(c) = chars.next() {
        match c {
            '{' => {
                let name: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let filled = value(&name);
                match &mut optional {
                    Some((text, any)) => {
                        *any |= !filled.is_empty();
                        text.push_str(&filled);
                    }
                    None => out.push_str(&filled),
                }
            }
            '[' => optional = Some((String::new(), false)),
            ']' => {
                if let Some((text, true)) = optional.take() {
                    out.push_str(&text);
                }
            }
            c => match &mut optional {
                Some((text, _)) => text.push(c),
                None => out.push(c),
            },
        }
    }
    // An empty placeholder leaves a double or stray space behind.
    let mut tidy = out.split_whitespace().collect::<Vec<_>>().join(" ");
    tidy = tidy.replace(" ,", ",");
    tidy
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
    use serde_json::Map;
    use serde_json::json;

    #[test]
    fn templates_drop_empty_optional_parts_and_keep_wire_names() {
        let value = |name: &str| match name {
            "a" => "1".to_owned(),
            "data[x]" => "y".to_owned(),
            _ => String::new(),
        };
        assert_eq!(render("Do {a}[, with {missing}][, then {data[x]}]", value), "Do 1, then y");
        assert_eq!(render("Refund {a} {missing} of {a}", value), "Refund 1 of 1");
    }

    #[test]
    fn a_destructive_function_without_declared_money_is_refused_under_any_cap() {
        static UNDECLARED: Function = Function::destructive("chargeSomething", "billing", "A function used only in this test.", &[]);
        let call = PreparedCall::new(&UNDECLARED, Map::new()).unwrap();
        assert_eq!(money_move(&call, None), Some(MoneyMove::Undeclared));
        assert!(check_limits(&call, None, &limits(None, Some("10"), None)).is_err());
        assert!(check_limits(&call, None, &Limits::default()).is_ok());
    }

    fn call(f: &'static Function, v: Value) -> PreparedCall {
        PreparedCall::new(f, v.as_object().unwrap().clone()).unwrap()
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
        assert!(check_limits(&call(f, json!({"purchase_id": "A", "amount": "50.00"})), None, &l).is_ok());
        let err = check_limits(&call(f, json!({"purchase_id": "A", "amount": "50.01"})), None, &l).unwrap_err().to_string();
        assert!(err.contains("--max-refund-amount 50.00") && err.contains("50.01"), "{err}");
        // 0.1 + 0.2 style float traps do not apply: decimals are exact.
        let l = limits(Some("0.3"), None, None);
        assert!(check_limits(&call(f, json!({"purchase_id": "A", "amount": "0.30"})), None, &l).is_ok());
    }

    #[test]
    fn full_refund_uses_the_orders_amount_and_unknown_amounts_are_refused() {
        let f = lookup("refundPurchase").unwrap();
        let l = limits(Some("40"), None, None);
        let purchase = json!({"amount": "49.00", "currency": "EUR"});
        assert!(check_limits(&call(f, json!({"purchase_id": "A"})), Some(&purchase), &l).unwrap_err().to_string().contains("49.00"));
        let cheap = json!({"amount": "19.00"});
        assert!(check_limits(&call(f, json!({"purchase_id": "A"})), Some(&cheap), &l).is_ok());
        let t = lookup("refundTransaction").unwrap();
        assert!(check_limits(&call(t, json!({"transaction_id": "1"})), None, &l).unwrap_err().to_string().contains("cannot be known"));
        assert!(check_limits(&call(t, json!({"transaction_id": "1"})), None, &Limits::default()).is_ok());
    }

    #[test]
    fn charge_cap_sums_plan_and_addons_and_negative_balance_is_a_refund() {
        let f = lookup("createBillingOnDemand").unwrap();
        let l = limits(Some("5"), Some("100"), None);
        let a =
            json!({"purchase_id": "A", "product_id": "1", "payment_plan": {"first_amount": "60"}, "addons": [{"first_amount": "30.5"}]});
        assert!(check_limits(&call(f, a.clone()), None, &l).is_ok());
        let a =
            json!({"purchase_id": "A", "product_id": "1", "payment_plan": {"first_amount": "60"}, "addons": [{"first_amount": "40.01"}]});
        assert!(check_limits(&call(f, a.clone()), None, &l).unwrap_err().to_string().contains("--max-charge-amount 100"));
        let b = lookup("addBalanceToPurchase").unwrap();
        assert!(
            check_limits(&call(b, json!({"purchase_id": "A", "amount": "-6"})), None, &l)
                .unwrap_err()
                .to_string()
                .contains("--max-refund-amount")
        );
    }

    #[test]
    fn product_allow_list_applies_to_changing_calls_only() {
        let l = limits(None, None, Some(&["1", "2"]));
        let update = lookup("updateProduct").unwrap();
        assert!(check_limits(&call(update, json!({"product_id": 1, "data": {}})), None, &l).is_ok());
        assert!(check_limits(&call(update, json!({"product_id": 3, "data": {}})), None, &l).unwrap_err().to_string().contains("product 3"));
        let voucher = lookup("createVoucher").unwrap();
        assert!(
            check_limits(&call(voucher, json!({"data": {"code": "X", "product_ids": "1,7"}})), None, &l)
                .unwrap_err()
                .to_string()
                .contains("product 7")
        );
        assert!(check_limits(&call(voucher, json!({"data": {"code": "X", "product_ids": "all"}})), None, &l).is_err());
        let read = lookup("getProduct").unwrap();
        assert!(check_limits(&call(read, json!({"product_id": 9})), None, &l).is_ok());
    }

    #[test]
    fn summaries_are_plain_language() {
        let f = lookup("refundPurchase").unwrap();
        let purchase = json!({"amount": "49.00", "currency": "EUR", "buyer": {"email": "jane@example.com"}});
        assert_eq!(
            summarize(&call(f, json!({"purchase_id": "ABC123"})), Some(&purchase)),
            "Refund order ABC123 in full, 49.00 EUR, to jane@example.com"
        );
        let d = lookup("deleteProduct").unwrap();
        assert_eq!(summarize(&call(d, json!({"product_id": 5})), None), "Delete product 5");
        let g = lookup("deleteProductGroup").unwrap();
        assert_eq!(summarize(&call(g, json!({"product_group_id": 7})), None), "Delete product group 7");
        let u = lookup("updatePurchase").unwrap();
        assert_eq!(
            summarize(&call(u, json!({"purchase_id": "A1", "data": {"custom": "x"}})), None),
            "updatePurchase with purchase_id=A1, data[custom]=x"
        );
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
