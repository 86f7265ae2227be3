//! Parse once, then act: a tool call's JSON arguments become a
//! [`PreparedCall`] — the function, the checked form body, the dry-run flag
//! and the continuation offset — and every later stage (caps, summaries,
//! confirmation binding, paging hints) reads that, never the raw JSON again.
//!
//! Owns: the server's own arguments (`dry_run`, `skip`, `fields`), which are taken off
//! before the rest is checked against the catalogue. Must not touch: sending.

use super::outcome::Refusal;
use crate::catalog::Function;
use crate::ds24::{ArgError, FormBody, encode_args, parse_bool};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// The argument every changing tool takes to preview the call without sending it.
pub const DRY_RUN: &str = "dry_run";
/// The argument that continues a cut answer: leave out this many records of
/// the list first (handed out in `_truncated.next_arguments`, never sent upstream).
pub const SKIP: &str = "skip";
/// The argument that selects the fields of an answer (dotted paths, `"*"` =
/// all); applied to the answer, never sent upstream.
pub const FIELDS: &str = "fields";

/// Which fields of an answer the agent gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// The catalogue's default projection of the function (all fields where it declares none).
    Default,
    /// Everything, as Digistore24 answered.
    All,
    /// These dotted paths (relative to one record of a list).
    Paths(Vec<String>),
}

/// A checked tool call, ready to send.
#[derive(Debug, Clone)]
pub struct PreparedCall {
    /// The catalogue entry.
    pub function: &'static Function,
    /// The form fields, checked and encoded.
    pub body: FormBody,
    /// Preview only: show the request, send nothing.
    pub dry_run: bool,
    /// Records of the answer's list to leave out before the rest is shown.
    pub skip: usize,
    /// Which fields of the answer to show.
    pub fields: Fields,
    /// The checked arguments as the client gave them (without `dry_run`,
    /// `skip` and `fields`): echoed back in continuation hints, never re-interpreted.
    pub arguments: Map<String, Value>,
    /// `fields` as the client gave it, carried on by continuation hints.
    pub fields_given: Option<Value>,
}

impl PreparedCall {
    /// Checks `arguments` against `function` and encodes them.
    pub fn new(function: &'static Function, mut arguments: Map<String, Value>) -> Result<Self, Refusal> {
        let invalid = |error| Refusal::invalid(function, error);
        let dry_run = match (function.effect.is_read(), arguments.remove(DRY_RUN)) {
            (_, None) => false,
            // Reads have no dry run: the name is reported as unknown below.
            (true, Some(value)) => {
                arguments.insert(DRY_RUN.into(), value);
                false
            }
            (false, Some(value)) => parse_bool(&value).ok_or_else(|| invalid(flag_error(DRY_RUN, "true or false", &value)))?,
        };
        // Only reads answer with lists to continue; elsewhere the name is unknown.
        let skip = match function.effect.is_read().then(|| arguments.remove(SKIP)).flatten() {
            None | Some(Value::Null) => 0,
            Some(value) => match value.as_u64() {
                Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
                None => return Err(invalid(flag_error(SKIP, "a whole number of at least 0 (from _truncated.next_arguments)", &value))),
            },
        };
        // Only reads answer with records to select from.
        let fields_given = function.effect.is_read().then(|| arguments.remove(FIELDS)).flatten().filter(|v| !v.is_null());
        let fields = match &fields_given {
            None => Fields::Default,
            Some(value) => parse_fields(value).map_err(|expected| invalid(flag_error(FIELDS, expected, value)))?,
        };
        let body = encode_args(function, &arguments).map_err(invalid)?;
        Ok(PreparedCall { function, body, dry_run, skip, fields, arguments, fields_given })
    }

    /// The arguments that repeat this call from its first record: the
    /// client's own plus its `fields`, so every continuation is shaped alike.
    pub fn continuation(&self) -> Map<String, Value> {
        let mut next = self.arguments.clone();
        if let Some(fields) = &self.fields_given {
            next.insert(FIELDS.into(), fields.clone());
        }
        next
    }

    /// A checked call of `function` with one argument, e.g. the order lookup.
    pub fn single(function: &'static Function, name: &str, value: &str) -> Result<Self, Refusal> {
        let arguments = Map::from_iter([(name.to_owned(), Value::String(value.to_owned()))]);
        Self::new(function, arguments)
    }

    /// The text of one form field by wire name (`purchase_id`, `data[name]`).
    pub fn field(&self, wire: &str) -> Option<&str> {
        self.body.get(wire)
    }

    /// A whole-number field; the encoder has checked it, so this only reads.
    pub fn int(&self, wire: &str) -> Option<i64> {
        self.field(wire).and_then(|v| v.parse().ok())
    }

    /// An amount field as an exact decimal.
    pub fn decimal(&self, wire: &str) -> Option<Decimal> {
        self.field(wire).and_then(|v| Decimal::from_str(v.trim()).ok())
    }

    /// The indices of the items of list `name` that have any field.
    pub fn list_items(&self, name: &str) -> Vec<usize> {
        let prefix = format!("{name}[");
        let mut items: Vec<usize> =
            self.body.fields.iter().filter_map(|(wire, _)| wire.strip_prefix(&prefix)?.split_once(']')?.0.parse().ok()).collect();
        items.dedup();
        items
    }
}

/// A list of dotted paths, or one text with a comma list of them (what a
/// client sends when it reads the schema's `string`); `*` anywhere = all.
fn parse_fields(value: &Value) -> Result<Fields, &'static str> {
    const EXPECTED: &str = "a list of dotted field paths such as [\"id\",\"buyer.email\"], or [\"*\"] for all";
    let texts: Vec<&str> = match value {
        Value::String(text) => text.split(',').collect(),
        Value::Array(items) => items.iter().map(|item| item.as_str().ok_or(EXPECTED)).collect::<Result<_, _>>()?,
        _ => return Err(EXPECTED),
    };
    let paths: Vec<String> = texts.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).map(str::to_owned).collect();
    if paths.is_empty() || paths.iter().any(|p| p.split('.').any(str::is_empty)) {
        return Err(EXPECTED);
    }
    if paths.iter().any(|p| p == "*") {
        return Ok(Fields::All);
    }
    Ok(Fields::Paths(paths))
}

fn flag_error(name: &str, expected: &str, got: &Value) -> ArgError {
    ArgError::Invalid { path: name.into(), expected: expected.into(), got: got.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;
    use serde_json::json;

    fn prepare(name: &str, args: Value) -> Result<PreparedCall, Refusal> {
        PreparedCall::new(lookup(name).unwrap(), args.as_object().unwrap().clone())
    }

    #[test]
    fn typed_views_read_the_checked_values() {
        let call = prepare("listPurchases", json!({"page_no": "3", "page_size": 50})).unwrap();
        assert_eq!(call.int("page_no"), Some(3), "a page number given as text is the same number");
        assert_eq!(call.int("page_size"), Some(50));
        let call = prepare(
            "createBillingOnDemand",
            json!({"purchase_id": "A", "product_id": "1", "addons": [{"first_amount": "1.50"}, {"single_amount": 2}]}),
        )
        .unwrap();
        assert_eq!(call.list_items("addons"), vec![0, 1]);
        assert_eq!(call.decimal("addons[0][first_amount]"), Some(Decimal::new(150, 2)));
    }

    #[test]
    fn dry_run_and_skip_are_the_servers_own_and_never_sent() {
        let call = prepare("refundPurchase", json!({"purchase_id": "A", "dry_run": "yes"})).unwrap();
        assert!(call.dry_run);
        assert_eq!(call.body.to_urlencoded(), "purchase_id=A");
        let call = prepare("listPurchases", json!({"skip": 46})).unwrap();
        assert_eq!((call.skip, call.body.fields.len()), (46, 0));
        let err = prepare("refundPurchase", json!({"purchase_id": "A", "dry_run": "maybe"})).unwrap_err();
        assert!(err.to_string().contains("`dry_run` must be true or false"), "{err}");
        let err = prepare("getPurchase", json!({"purchase_id": "A", "dry_run": true})).unwrap_err();
        assert!(err.to_string().contains("unknown argument `dry_run`"), "reads have no dry run: {err}");
        assert!(prepare("listPurchases", json!({"skip": -1})).is_err());
    }

    #[test]
    fn fields_are_the_servers_own_and_carried_on_by_continuations() {
        let call = prepare("listPurchases", json!({"from": "-30d", "fields": ["id", "buyer.email"]})).unwrap();
        assert_eq!(call.fields, Fields::Paths(vec!["id".into(), "buyer.email".into()]));
        assert_eq!(call.body.to_urlencoded(), "from=-30d", "never sent upstream");
        assert_eq!(Value::Object(call.continuation()), json!({"from": "-30d", "fields": ["id", "buyer.email"]}));
        assert_eq!(
            prepare("listPurchases", json!({"fields": "id, amount"})).unwrap().fields,
            Fields::Paths(vec!["id".into(), "amount".into()])
        );
        assert_eq!(prepare("listPurchases", json!({"fields": ["id", "*"]})).unwrap().fields, Fields::All);
        assert_eq!(prepare("getPurchase", json!({"purchase_id": "A"})).unwrap().fields, Fields::Default);
        for wrong in [json!([]), json!([1]), json!("a..b"), json!({"id": true})] {
            let err = prepare("listPurchases", json!({"fields": wrong})).unwrap_err();
            assert!(err.to_string().contains("`fields` must be a list of dotted field paths"), "{err}");
        }
        let err = prepare("refundPurchase", json!({"purchase_id": "A", "fields": ["id"]})).unwrap_err();
        assert!(err.to_string().contains("unknown argument `fields`"), "changes answer with no records to select: {err}");
    }
}
