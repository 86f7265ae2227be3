//! Argument validation and PHP bracket-notation form encoding, in one pass.
//!
//! Digistore24 is PHP: it decodes `$_POST`, so nested values travel as
//! `data[name]=…`, `addons[0][product_id]=…`, `quantities[1]=5`. Walking the
//! catalogue's parameter tree and the caller's JSON together both checks every
//! argument and produces the exact fields, so nothing unchecked can be sent
//! and nothing is sent that the caller did not give (no defaults, no renames).

use crate::catalog::{COMMON_PARAMS, Function, Kind, Param};
use serde_json::{Map, Value};
use std::fmt;

/// Why arguments were refused before anything went upstream. Each message
/// names the argument and says what was expected, so an agent can fix it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ArgError {
    /// The arguments were not a JSON object.
    #[error("arguments must be a JSON object")]
    NotAnObject,
    /// A required argument is absent or null.
    #[error("missing required argument `{0}`")]
    Missing(String),
    /// The argument has the wrong JSON type or format.
    #[error("argument `{path}` must be {expected}; got {got}")]
    Invalid { path: String, expected: String, got: String },
    /// A value outside the allowed set.
    #[error("argument `{path}` must be one of {allowed}; got {got}")]
    NotAllowed { path: String, allowed: String, got: String },
    /// A name the function does not know.
    #[error("unknown argument `{path}`; expected one of: {allowed}")]
    Unknown { path: String, allowed: String },
}

/// The form fields of one upstream call, in catalogue order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormBody {
    /// `(name, value)` pairs with bracket names, unescaped.
    pub fields: Vec<(String, String)>,
}

impl FormBody {
    /// The `application/x-www-form-urlencoded` body.
    pub fn to_urlencoded(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.fields {
            out.append_pair(name, value);
        }
        out.finish()
    }

    /// The value of one field, for tests and dry runs.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl fmt::Display for FormBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_urlencoded())
    }
}

/// Validates `args` against `function` and encodes them as form fields.
///
/// Besides the function's own parameters, the options every Digistore24 call
/// accepts ([`COMMON_PARAMS`], e.g. `language`) are allowed at the top level.
/// A `null` for an optional argument counts as absent.
pub fn encode_args(function: &Function, args: &Map<String, Value>) -> Result<FormBody, ArgError> {
    let mut body = FormBody::default();
    check_unknown(args, "", function.params.iter().chain(COMMON_PARAMS))?;
    for param in function.params.iter().chain(COMMON_PARAMS) {
        encode_param(param, args.get(param.name), param.name, param.name, &mut body)?;
    }
    Ok(body)
}

fn check_unknown<'a>(given: &Map<String, Value>, prefix: &str, params: impl Iterator<Item = &'a Param> + Clone) -> Result<(), ArgError> {
    for name in given.keys() {
        if !params.clone().any(|p| p.name == name) {
            let allowed: Vec<&str> = params.map(|p| p.name).collect();
            return Err(ArgError::Unknown { path: format!("{prefix}{name}"), allowed: allowed.join(", ") });
        }
    }
    Ok(())
}

fn encode_param(param: &Param, value: Option<&Value>, wire: &str, path: &str, body: &mut FormBody) -> Result<(), ArgError> {
    match value {
        None | Some(Value::Null) if param.required => Err(ArgError::Missing(path.to_owned())),
        None | Some(Value::Null) => Ok(()),
        Some(value) => encode_value(&param.kind, value, wire, path, body),
    }
}

fn encode_value(kind: &Kind, value: &Value, wire: &str, path: &str, body: &mut FormBody) -> Result<(), ArgError> {
    let invalid = |expected: &str| ArgError::Invalid { path: path.to_owned(), expected: expected.to_owned(), got: describe(value) };
    let scalar = match kind {
        Kind::Str => match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(invalid("text")),
        },
        Kind::OneOf(allowed) => match value {
            Value::String(s) if allowed.contains(&s.as_str()) => s.clone(),
            _ => {
                return Err(ArgError::NotAllowed { path: path.to_owned(), allowed: quote_list(allowed), got: describe(value) });
            }
        },
        Kind::Int { min, max } => {
            let n = match value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse::<i64>().ok(),
                _ => None,
            }
            .ok_or_else(|| invalid("a whole number"))?;
            if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
                return Err(invalid(&bounds(*min, *max)));
            }
            n.to_string()
        }
        Kind::Amount => match value {
            Value::Number(n) if n.as_f64().is_some_and(f64::is_finite) => n.to_string(),
            Value::String(s) if is_decimal(s) => s.clone(),
            _ => return Err(invalid("a decimal amount with a dot, e.g. \"49.00\"")),
        },
        Kind::Bool => match parse_bool(value) {
            Some(true) => "Y".to_owned(),
            Some(false) => "N".to_owned(),
            None => return Err(invalid("true or false")),
        },
        Kind::Date | Kind::DateTime => match value {
            Value::String(s) if is_point_in_time(s) => s.clone(),
            _ => {
                let expected = if matches!(kind, Kind::Date) {
                    "a date: YYYY-MM-DD, now, today or an offset like -30d"
                } else {
                    "a time: YYYY-MM-DD[ HH:MM:SS], ISO-8601, now, start or an offset like -24h"
                };
                return Err(invalid(expected));
            }
        },
        Kind::Object(fields) => {
            let given = value.as_object().ok_or_else(|| invalid("an object"))?;
            check_unknown(given, &format!("{path}."), fields.iter())?;
            for field in *fields {
                encode_param(field, given.get(field.name), &format!("{wire}[{}]", field.name), &format!("{path}.{}", field.name), body)?;
            }
            return Ok(());
        }
        Kind::Map(inner) => {
            let given = value.as_object().ok_or_else(|| invalid("an object of key/value pairs"))?;
            for (key, item) in given {
                if key.is_empty() || key.contains(['[', ']']) {
                    return Err(ArgError::Invalid {
                        path: format!("{path}.{key}"),
                        expected: "a key without brackets".into(),
                        got: format!("{key:?}"),
                    });
                }
                if !item.is_null() {
                    encode_value(inner, item, &format!("{wire}[{key}]"), &format!("{path}.{key}"), body)?;
                }
            }
            return Ok(());
        }
        Kind::List(inner) => {
            let items = value.as_array().ok_or_else(|| invalid("a list"))?;
            for (i, item) in items.iter().enumerate() {
                encode_value(inner, item, &format!("{wire}[{i}]"), &format!("{path}[{i}]"), body)?;
            }
            return Ok(());
        }
    };
    body.fields.push((wire.to_owned(), scalar));
    Ok(())
}

/// Booleans as Digistore24 accepts them: JSON booleans, 1/0, and the strings
/// Y/N, yes/no, T/F, true/false, 1/0 in any case.
pub fn parse_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(1) => Some(true),
            Some(0) => Some(false),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" | "t" | "true" | "1" => Some(true),
            "n" | "no" | "f" | "false" | "0" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `49`, `49.00`, `-5.5`: digits with at most one dot, no thousands separators.
fn is_decimal(s: &str) -> bool {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let frac = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// The point-in-time forms the API documents: a calendar date with optional
/// time or ISO-8601 suffix, `now`/`today`/`start`, or an offset like `-30d`.
fn is_point_in_time(s: &str) -> bool {
    let s = s.trim();
    if matches!(s, "now" | "today" | "start") {
        return true;
    }
    let offset = s.strip_prefix(['-', '+']).unwrap_or(s);
    if let Some(unit) = offset.chars().last()
        && "smhdwMY".contains(unit)
        && offset.len() > 1
        && offset[..offset.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        return true;
    }
    let b = s.as_bytes();
    s.len() <= 40
        && b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) if s.chars().count() > 40 => format!("{:?}…", s.chars().take(40).collect::<String>()),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "an object".into(),
        other => other.to_string(),
    }
}

fn quote_list(values: &[&str]) -> String {
    values.iter().map(|v| format!("\"{v}\"")).collect::<Vec<_>>().join(", ")
}

fn bounds(min: Option<i64>, max: Option<i64>) -> String {
    match (min, max) {
        (Some(lo), Some(hi)) => format!("a whole number from {lo} to {hi}"),
        (Some(lo), None) => format!("a whole number of at least {lo}"),
        (None, Some(hi)) => format!("a whole number of at most {hi}"),
        (None, None) => "a whole number".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Function as F, Kind::*, Param as P};
    use serde_json::json;

    static FN: F = F::write(
        "demo",
        "products",
        "A function used only to test encoding rules.",
        &[
            P::new("id", Int { min: Some(1), max: None }).req(),
            P::new(
                "data",
                Object(&[
                    P::new("name", Str).req(),
                    P::new("flag", Bool),
                    P::new("kind", OneOf(&["a", "b"])),
                    P::new("price", Amount),
                    P::new("from", Date),
                ]),
            ),
            P::new("addons", List(&Object(&[P::new("product_id", Str), P::new("qty", Int { min: None, max: None })]))),
            P::new("tags", List(&Str)),
            P::new("quantities", Map(&Int { min: None, max: None })),
        ],
    );

    fn enc(args: Value) -> Result<FormBody, ArgError> {
        encode_args(&FN, args.as_object().unwrap())
    }

    #[test]
    fn encodes_nesting_at_any_depth_in_catalogue_order() {
        let body = enc(json!({
            "quantities": {"1": 5, "2": "7"},
            "tags": ["x", "y"],
            "addons": [{"product_id": "12", "qty": 2}, {"product_id": 13}],
            "data": {"flag": true, "name": "Basic", "price": "9.00", "kind": "b", "from": "-30d"},
            "id": "42",
            "language": "de"
        }))
        .unwrap();
        let pairs: Vec<(&str, &str)> = body.fields.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        assert_eq!(
            pairs,
            vec![
                ("id", "42"),
                ("data[name]", "Basic"),
                ("data[flag]", "Y"),
                ("data[kind]", "b"),
                ("data[price]", "9.00"),
                ("data[from]", "-30d"),
                ("addons[0][product_id]", "12"),
                ("addons[0][qty]", "2"),
                ("addons[1][product_id]", "13"),
                ("tags[0]", "x"),
                ("tags[1]", "y"),
                ("quantities[1]", "5"),
                ("quantities[2]", "7"),
                ("language", "de"),
            ]
        );
        assert!(body.to_urlencoded().starts_with("id=42&data%5Bname%5D=Basic&data%5Bflag%5D=Y"));
    }

    #[test]
    fn sends_nothing_the_caller_did_not_give() {
        let body = enc(json!({"id": 1, "data": {"name": "x", "flag": null}})).unwrap();
        assert_eq!(body.to_urlencoded(), "id=1&data%5Bname%5D=x");
    }

    #[test]
    fn refuses_bad_arguments_naming_them() {
        let cases = [
            (json!({}), "missing required argument `id`"),
            (json!({"id": 0}), "argument `id` must be a whole number of at least 1; got 0"),
            (json!({"id": "x1"}), "argument `id` must be a whole number; got \"x1\""),
            (json!({"id": 1, "data": {}}), "missing required argument `data.name`"),
            (json!({"id": 1, "data": {"name": "n", "kind": "c"}}), "argument `data.kind` must be one of \"a\", \"b\"; got \"c\""),
            (json!({"id": 1, "data": {"name": "n", "price": "9,00"}}), "argument `data.price` must be a decimal amount"),
            (json!({"id": 1, "data": {"name": "n", "flag": "maybe"}}), "argument `data.flag` must be true or false"),
            (json!({"id": 1, "data": {"name": "n", "from": "yesterday"}}), "argument `data.from` must be a date"),
            (json!({"id": 1, "data": {"name": "n", "colour": 1}}), "unknown argument `data.colour`; expected one of: name, flag"),
            (json!({"id": 1, "bogus": 1}), "unknown argument `bogus`"),
            (json!({"id": 1, "addons": {"product_id": 1}}), "argument `addons` must be a list; got an object"),
            (json!({"id": 1, "addons": [{"qty": "many"}]}), "argument `addons[0].qty` must be a whole number"),
            (json!({"id": 1, "quantities": {"a[b]": 1}}), "argument `quantities.a[b]` must be a key without brackets"),
        ];
        for (args, expected) in cases {
            let err = enc(args.clone()).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{args}: {err}");
        }
    }

    #[test]
    fn booleans_become_y_or_n() {
        for (given, sent) in [(json!(true), "Y"), (json!("no"), "N"), (json!(1), "Y"), (json!("F"), "N"), (json!("Y"), "Y")] {
            let body = enc(json!({"id": 1, "data": {"name": "n", "flag": given}})).unwrap();
            assert_eq!(body.get("data[flag]"), Some(sent));
        }
    }

    #[test]
    fn point_in_time_forms() {
        for ok in
            ["now", "today", "start", "-30d", "24h", "6M", "2Y", "-10m", "2024-01-31", "2024-01-31 12:00:00", "2024-01-31T12:00:00+02:00"]
        {
            assert!(is_point_in_time(ok), "{ok}");
        }
        for bad in ["", "yesterday", "-d", "31.01.2024", "2024/01/31"] {
            assert!(!is_point_in_time(bad), "{bad}");
        }
    }
}
