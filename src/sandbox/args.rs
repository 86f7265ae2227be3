//! Reading and checking call arguments.
//!
//! Owns: [`Args`], typed read access to the decoded arguments (strings, integers,
//! Y/N flags, amounts, dates) with Digistore24-style error messages; the
//! catalogue-driven check of required arguments, types and enum values
//! ([`validate`]); positional `argN` mapping; money parsing and formatting.
//! Must not touch: account data, HTTP, the catalogue's contents (it only reads them).

use super::dates::{self, Bound};
use super::error::ApiError;
use crate::catalog::{Function, Kind, Param};
use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// Money and percentages in hundredths (`"9.50"` is 950).
pub type Cents = i64;

/// Formats hundredths as a decimal string with two places (`-1234` → `"-12.34"`).
pub fn money(c: Cents) -> String {
    let sign = if c < 0 { "-" } else { "" };
    let a = c.unsigned_abs();
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Parses a decimal with a dot (`"9"`, `"9.5"`, `"-12.345"`) into hundredths,
/// rounding half away from zero. Refuses commas, exponents and text.
pub fn parse_money(s: &str) -> Option<Cents> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || int.len() > 12
    {
        return None;
    }
    let whole: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut digits = frac.bytes().map(|b| i64::from(b - b'0'));
    let d1 = digits.next().unwrap_or(0);
    let d2 = digits.next().unwrap_or(0);
    let round = i64::from(digits.next().unwrap_or(0) >= 5);
    let v = whole.checked_mul(100)?.checked_add(d1 * 10 + d2 + round)?;
    Some(if neg { -v } else { v })
}

/// Parses the API's boolean spellings: `1/Y/yes/T/true` and `0/N/no/F/false` (any case).
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "y" | "yes" | "t" | "true" | "on" => Some(true),
        "0" | "n" | "no" | "f" | "false" | "off" => Some(false),
        _ => None,
    }
}

/// `Y` or `N`, as answers spell booleans.
pub fn yn(b: bool) -> &'static str {
    if b { "Y" } else { "N" }
}

static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);

/// Read access to one level of arguments (the top level, or a nested object such as `data`).
#[derive(Clone, Copy)]
pub struct Args<'a> {
    map: &'a Map<String, Value>,
    parent: Option<&'a str>,
}

impl<'a> Args<'a> {
    /// Wraps the top-level argument object.
    pub fn new(map: &'a Map<String, Value>) -> Self {
        Args { map, parent: None }
    }

    /// The argument's name as it appears on the wire (`data[name]` for nested ones).
    pub fn label(&self, name: &str) -> String {
        match self.parent {
            Some(p) => format!("{p}[{name}]"),
            None => name.to_string(),
        }
    }

    /// The raw value, if sent.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.map.get(name)
    }

    /// All names sent at this level.
    pub fn keys(&self) -> impl Iterator<Item = &'a String> {
        self.map.keys()
    }

    /// Whether the argument was sent at all (even empty).
    pub fn sent(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The value as text, untrimmed, including the empty string; `None` when absent or not a scalar.
    pub fn raw_str(&self, name: &str) -> Option<&'a str> {
        match self.map.get(name)? {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        }
    }

    /// The value as trimmed, non-empty text.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.raw_str(name).map(str::trim).filter(|s| !s.is_empty())
    }

    /// Like [`Args::str`] but the argument must be there.
    pub fn req_str(&self, name: &str) -> Result<&'a str, ApiError> {
        self.str(name).ok_or_else(|| ApiError::missing(&self.label(name)))
    }

    /// A comma list (`"1, 2,3"`) as trimmed, non-empty parts.
    pub fn csv(&self, name: &str) -> Vec<&'a str> {
        self.str(name).map(split_csv).unwrap_or_default()
    }

    /// A whole number.
    pub fn int(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(s) => s
                .parse::<i64>()
                .map(Some)
                .map_err(|_| ApiError::params(format!("Argument {} must be a whole number, got '{s}'", self.label(name)))),
        }
    }

    /// A required whole number.
    pub fn req_int(&self, name: &str) -> Result<i64, ApiError> {
        self.int(name)?.ok_or_else(|| ApiError::missing(&self.label(name)))
    }

    /// A required numeric id. Non-numeric text names no record, so it is "not found".
    pub fn req_id(&self, name: &str, what: &str) -> Result<u64, ApiError> {
        let s = self.req_str(name)?;
        s.parse::<u64>().map_err(|_| ApiError::no_such(what, s))
    }

    /// A Y/N flag.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(s) => parse_bool(s).map(Some).ok_or_else(|| {
                ApiError::params(format!("Argument {} must be Y or N (also 1/0, true/false, yes/no), got '{s}'", self.label(name)))
            }),
        }
    }

    /// A Y/N flag with a default.
    pub fn bool_or(&self, name: &str, default: bool) -> Result<bool, ApiError> {
        Ok(self.bool(name)?.unwrap_or(default))
    }

    /// An amount or rate (`"9.00"`) in hundredths.
    pub fn amount(&self, name: &str) -> Result<Option<Cents>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(s) => parse_money(s).map(Some).ok_or_else(|| {
                ApiError::params(format!("Argument {} must be a decimal number with a dot (e.g. 9.00), got '{s}'", self.label(name)))
            }),
        }
    }

    /// A required amount.
    pub fn req_amount(&self, name: &str) -> Result<Cents, ApiError> {
        self.amount(name)?.ok_or_else(|| ApiError::missing(&self.label(name)))
    }

    /// A point in time in any accepted form.
    pub fn point(&self, name: &str, now: NaiveDateTime, bound: Bound) -> Result<Option<NaiveDateTime>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(s) => {
                dates::parse_point(s, now, bound).map(Some).map_err(|e| ApiError::params(format!("Argument {}: {e}", self.label(name))))
            }
        }
    }

    /// A calendar date in any accepted form.
    pub fn date(&self, name: &str, now: NaiveDateTime) -> Result<Option<NaiveDate>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(s) => dates::parse_date(s, now).map(Some).map_err(|e| ApiError::params(format!("Argument {}: {e}", self.label(name)))),
        }
    }

    /// A value limited to a fixed set.
    pub fn one_of(&self, name: &str, allowed: &[&str]) -> Result<Option<&'a str>, ApiError> {
        match self.str(name) {
            None => Ok(None),
            Some(s) if allowed.contains(&s) => Ok(Some(s)),
            Some(s) => {
                Err(ApiError::params(format!("Invalid value '{s}' for argument {}; allowed: {}", self.label(name), allowed.join(", "))))
            }
        }
    }

    /// A nested object (`data[...]`); empty when absent.
    pub fn obj(&self, name: &'a str) -> Args<'a> {
        match self.map.get(name) {
            Some(Value::Object(m)) => Args { map: m, parent: Some(name) },
            _ => Args { map: &EMPTY, parent: Some(name) },
        }
    }

    /// Whether a nested object was sent with at least one field.
    pub fn has_obj(&self, name: &str) -> bool {
        matches!(self.map.get(name), Some(Value::Object(m)) if !m.is_empty())
    }

    /// Whether any field was sent at this level.
    pub fn has_obj_any(&self) -> bool {
        !self.map.is_empty()
    }

    /// The elements of a list argument (`addons[0][...]`), whether PHP made it a list or a map.
    pub fn list(&self, name: &str) -> Vec<&'a Value> {
        match self.map.get(name) {
            Some(Value::Array(a)) => a.iter().collect(),
            Some(Value::Object(m)) => m.values().collect(),
            _ => Vec::new(),
        }
    }

    /// The entries of a map argument (`placeholders[KEY]=...`, `quantities[1]=...`).
    pub fn entries(&self, name: &str) -> Vec<(String, &'a Value)> {
        match self.map.get(name) {
            Some(Value::Array(a)) => a.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
            Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
            _ => Vec::new(),
        }
    }

    /// Wraps one element of a list as a nested level named `name[i]`.
    pub fn element(value: &'a Value) -> Args<'a> {
        match value {
            Value::Object(m) => Args { map: m, parent: None },
            _ => Args { map: &EMPTY, parent: None },
        }
    }
}

/// Splits a comma list into trimmed, non-empty parts.
pub fn split_csv(s: &str) -> Vec<&str> {
    s.split(',').map(str::trim).filter(|p| !p.is_empty()).collect()
}

/// Moves positional arguments (`arg1`, `arg2`, ... as the official PHP connector
/// sends them) to their names, in the catalogue's parameter order, unless the
/// named argument is present too.
pub fn map_positional(f: &Function, args: &mut Map<String, Value>) {
    for (i, p) in f.params.iter().enumerate() {
        let positional = format!("arg{}", i + 1);
        if !args.contains_key(p.name)
            && let Some(v) = args.remove(&positional)
        {
            args.insert(p.name.to_string(), v);
        }
    }
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn scalar(label: &str, v: &Value) -> Result<String, ApiError> {
    match v {
        Value::String(s) => Ok(s.trim().to_string()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(yn(*b).to_string()),
        _ => Err(ApiError::params(format!("Argument {label} must be a single value, not a list or object"))),
    }
}

fn check_kind(label: &str, kind: &Kind, v: &Value, now: NaiveDateTime) -> Result<(), ApiError> {
    match kind {
        // The formats the MCP side checks (ids, e-mails, URLs, months) are plain text here, as before they had kinds.
        Kind::Str | Kind::Id | Kind::Ids | Kind::IdsOrAll | Kind::Email | Kind::Url | Kind::Dates | Kind::Month => {
            scalar(label, v)?;
        }
        Kind::OneOf(allowed) => {
            let s = scalar(label, v)?;
            if !allowed.contains(&s.as_str()) {
                return Err(ApiError::params(format!(
                    "Invalid value '{s}' for argument {label}; allowed: {}",
                    allowed.iter().map(|a| if a.is_empty() { "(empty)" } else { a }).collect::<Vec<_>>().join(", ")
                )));
            }
        }
        Kind::Int { min, max } => {
            let s = scalar(label, v)?;
            let n: i64 = s.parse().map_err(|_| ApiError::params(format!("Argument {label} must be a whole number, got '{s}'")))?;
            if let Some(m) = min.filter(|m| n < *m) {
                return Err(ApiError::params(format!("Argument {label} must be at least {m}, got {n}")));
            }
            if let Some(m) = max.filter(|m| n > *m) {
                return Err(ApiError::params(format!("Argument {label} must be at most {m}, got {n}")));
            }
        }
        Kind::Amount | Kind::SignedAmount => {
            let s = scalar(label, v)?;
            if parse_money(&s).is_none() {
                return Err(ApiError::params(format!("Argument {label} must be a decimal number with a dot (e.g. 9.00), got '{s}'")));
            }
        }
        Kind::Bool => {
            let s = scalar(label, v)?;
            if parse_bool(&s).is_none() {
                return Err(ApiError::params(format!("Argument {label} must be Y or N (also 1/0, true/false, yes/no, T/F), got '{s}'")));
            }
        }
        Kind::Date => {
            let s = scalar(label, v)?;
            dates::parse_date(&s, now).map_err(|e| ApiError::params(format!("Argument {label}: {e}")))?;
        }
        Kind::DateTime => {
            let s = scalar(label, v)?;
            dates::parse_point(&s, now, Bound::Lower).map_err(|e| ApiError::params(format!("Argument {label}: {e}")))?;
        }
        Kind::Object(fields) => match v {
            Value::Object(m) => check_params(Some(label), fields, m, now)?,
            Value::Array(a) if a.is_empty() => {}
            _ => return Err(ApiError::params(format!("Argument {label} must be an array of fields: {label}[field]=value"))),
        },
        Kind::Map(inner) => match v {
            Value::Object(m) => {
                for (k, item) in m {
                    if !is_blank(item) {
                        check_kind(&format!("{label}[{k}]"), inner, item, now)?;
                    }
                }
            }
            Value::Array(a) => {
                for (i, item) in a.iter().enumerate() {
                    if !is_blank(item) {
                        check_kind(&format!("{label}[{i}]"), inner, item, now)?;
                    }
                }
            }
            _ => return Err(ApiError::params(format!("Argument {label} must be an array: {label}[KEY]=value"))),
        },
        Kind::List(inner) => {
            let items: Vec<(String, &Value)> = match v {
                Value::Array(a) => a.iter().enumerate().map(|(i, x)| (i.to_string(), x)).collect(),
                Value::Object(m) => m.iter().map(|(k, x)| (k.clone(), x)).collect(),
                // A single scalar where a list of scalars is expected: accept it as a one-element list.
                other if !matches!(inner, Kind::Object(_)) => vec![("0".to_string(), other)],
                _ => return Err(ApiError::params(format!("Argument {label} must be a list: {label}[0][field]=value"))),
            };
            for (i, item) in items {
                if !is_blank(item) {
                    check_kind(&format!("{label}[{i}]"), inner, item, now)?;
                }
            }
        }
    }
    Ok(())
}

fn check_params(parent: Option<&str>, params: &[Param], map: &Map<String, Value>, now: NaiveDateTime) -> Result<(), ApiError> {
    for p in params {
        let label = match parent {
            Some(par) => format!("{par}[{}]", p.name),
            None => p.name.to_string(),
        };
        match map.get(p.name) {
            Some(v) if !is_blank(v) => check_kind(&label, &p.kind, v, now)?,
            _ if p.required => return Err(ApiError::missing(&label)),
            _ => {}
        }
    }
    Ok(())
}

/// Checks the arguments against the catalogue entry: required arguments (also
/// inside nested objects) are present, and every sent argument the catalogue
/// knows has the right type and an allowed value. Unknown extra arguments are
/// ignored, as the real API does.
pub fn validate(f: &Function, args: &Map<String, Value>, now: NaiveDateTime) -> Result<(), ApiError> {
    check_params(None, f.params, args, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn money_round_trip() {
        assert_eq!(parse_money("9"), Some(900));
        assert_eq!(parse_money("9.5"), Some(950));
        assert_eq!(parse_money("9.99"), Some(999));
        assert_eq!(parse_money("9.995"), Some(1000));
        assert_eq!(parse_money("-12.34"), Some(-1234));
        assert_eq!(parse_money(".5"), Some(50));
        for bad in ["", "9,50", "1e3", "abc", "-", "1.2.3", "."] {
            assert_eq!(parse_money(bad), None, "{bad}");
        }
        assert_eq!(money(0), "0.00");
        assert_eq!(money(-5), "-0.05");
        assert_eq!(money(123456), "1234.56");
    }

    #[test]
    fn booleans() {
        for t in ["Y", "y", "1", "yes", "T", "true", "TRUE"] {
            assert_eq!(parse_bool(t), Some(true), "{t}");
        }
        for f in ["N", "0", "no", "F", "false"] {
            assert_eq!(parse_bool(f), Some(false), "{f}");
        }
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn typed_access_names_the_argument() {
        let v = json!({"page_no":"x","data":{"price":"9,5"},"flag":"maybe","ids":"1, 2,,3"});
        let a = Args::new(v.as_object().unwrap());
        assert!(a.int("page_no").unwrap_err().message.contains("page_no"));
        assert!(a.obj("data").amount("price").unwrap_err().message.contains("data[price]"));
        assert!(a.bool("flag").unwrap_err().message.contains("flag"));
        assert_eq!(a.csv("ids"), vec!["1", "2", "3"]);
        assert_eq!(a.req_str("missing").unwrap_err().message, "Missing required argument: missing");
        assert_eq!(a.obj("data").req_str("name").unwrap_err().message, "Missing required argument: data[name]");
    }

    #[test]
    fn positional_arguments_follow_catalogue_order() {
        static F: Function = Function::read(
            "x",
            "system",
            "test function with two params in a fixed order",
            &[Param::new("first", Kind::Str), Param::new("second", Kind::Str)],
        );
        let mut m = json!({"arg1":"a","arg2":"b","second":"named"}).as_object().unwrap().clone();
        map_positional(&F, &mut m);
        assert_eq!(m.get("first"), Some(&json!("a")));
        assert_eq!(m.get("second"), Some(&json!("named")));
    }

    #[test]
    fn validation_uses_catalogue_kinds() {
        static FIELDS: [Param; 2] = [Param::new("name", Kind::Str).req(), Param::new("pos", Kind::Int { min: Some(1), max: None })];
        static F: Function = Function::write(
            "x",
            "system",
            "test function for argument validation rules",
            &[
                Param::new("id", Kind::Int { min: None, max: None }).req(),
                Param::new("mode", Kind::OneOf(&["a", "b"])),
                Param::new("flag", Kind::Bool),
                Param::new("when", Kind::DateTime),
                Param::new("data", Kind::Object(&FIELDS)),
            ],
        );
        let now = dates::now();
        let ok = |v: Value| validate(&F, v.as_object().unwrap(), now);
        assert!(ok(json!({"id":"1"})).is_ok());
        assert_eq!(ok(json!({})).unwrap_err().message, "Missing required argument: id");
        assert!(ok(json!({"id":"x"})).unwrap_err().message.contains("id"));
        assert!(ok(json!({"id":"1","mode":"c"})).unwrap_err().message.contains("allowed: a, b"));
        assert!(ok(json!({"id":"1","mode":""})).is_ok(), "empty optional counts as absent");
        assert!(ok(json!({"id":"1","flag":"maybe"})).is_err());
        assert!(ok(json!({"id":"1","flag":"T"})).is_ok());
        assert!(ok(json!({"id":"1","when":"-24h"})).is_ok());
        assert!(ok(json!({"id":"1","when":"soon"})).is_err());
        assert_eq!(ok(json!({"id":"1","data":{"pos":"2"}})).unwrap_err().message, "Missing required argument: data[name]");
        assert!(ok(json!({"id":"1","data":{"name":"n","pos":"0"}})).unwrap_err().message.contains("data[pos]"));
        assert!(ok(json!({"id":"1","data":"flat"})).is_err());
        assert!(ok(json!({"id":"1","unknown":"ignored"})).is_ok());
    }
}
