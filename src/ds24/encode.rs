//! Argument validation and PHP bracket-notation form encoding, in one pass.
//!
//! Digistore24 is PHP: it decodes `$_POST`, so nested values travel as
//! `data[name]=…`, `addons[0][product_id]=…`, `quantities[1]=5`. Walking the
//! catalogue's parameter tree and the caller's JSON together both checks every
//! argument and produces the exact fields, so nothing unchecked can be sent
//! and nothing is sent that the caller did not give (no defaults, no renames).
//!
//! Owns: the value checks of every [`Kind`] (id, e-mail, URL, date, amount and
//! range rules). Must not touch: which function takes what — that is the
//! catalogue's data; nothing here names a function.

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
        // Digistore24's PHP treats an empty required text as missing, so refuse it here.
        Some(Value::String(s)) if param.required && matches!(param.kind, Kind::Str) && s.trim().is_empty() => {
            Err(ArgError::Invalid { path: path.to_owned(), expected: "non-empty text".into(), got: format!("{s:?}") })
        }
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
        Kind::Id => id_text(value).filter(|s| is_id(s)).ok_or_else(|| invalid(ID_FORM))?,
        Kind::Ids => id_text(value).filter(|s| is_id_list(s)).ok_or_else(|| invalid(IDS_FORM))?,
        Kind::IdsOrAll => id_text(value).filter(|s| s == "all" || is_id_list(s)).ok_or_else(|| invalid(IDS_OR_ALL_FORM))?,
        Kind::Email => match value {
            Value::String(s) if is_email(s) => s.clone(),
            _ => return Err(invalid("an e-mail address like jane@example.com")),
        },
        Kind::Url => match value {
            Value::String(s) if is_public_https_url(s) => s.clone(),
            _ => return Err(invalid("a public https:// URL (not http, not localhost)")),
        },
        Kind::Month => match value {
            Value::String(s) if is_month(s) => s.clone(),
            _ => return Err(invalid("a month: YYYY-MM")),
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
        Kind::Amount | Kind::SignedAmount => {
            let signed = matches!(kind, Kind::SignedAmount);
            // A JSON number goes as serde prints it, so `1e300` is refused like the string would be.
            let text = match value {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => String::new(),
            };
            if !is_decimal(&text, signed) {
                return Err(invalid(if signed {
                    "a decimal amount with a dot, e.g. \"49.00\" or \"-5.00\" (at most 9 digits before the dot, 6 after)"
                } else {
                    "a decimal amount of 0 or more with a dot, e.g. \"49.00\" (at most 9 digits before the dot, 6 after)"
                }));
            }
            text
        }
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
                    "a time: YYYY-MM-DD[ HH:MM:SS], ISO-8601 with offset, now, start or an offset like -24h"
                };
                return Err(invalid(expected));
            }
        },
        Kind::Dates => match value {
            Value::String(s) if s.split(',').all(is_point_in_time) => s.clone(),
            _ => return Err(invalid("a date (YYYY-MM-DD, today, -1d) or a comma list of dates")),
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

const ID_FORM: &str = "an id: non-empty, without spaces or commas";
const IDS_FORM: &str = "an id or a comma list of ids like \"1,2,3\"";
const IDS_OR_ALL_FORM: &str = "a comma list of ids like \"1,2,3\", or \"all\"";

/// The text of an id: a string as given, or a whole JSON number (ids are
/// often numeric but strings on the wire). Fractions and negatives are no ids.
fn id_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => n.as_u64().map(|n| n.to_string()),
        _ => None,
    }
}

/// One id: 1–255 characters, no whitespace, control characters or commas
/// (a comma would turn one id into a list upstream).
fn is_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 255 && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

/// `1`, `1,2,3`, `1, 2`: ids separated by commas, spaces after a comma allowed, no empty items.
fn is_id_list(s: &str) -> bool {
    s.split(',').enumerate().all(|(i, item)| is_id(if i == 0 { item } else { item.trim_start_matches(' ') }))
}

/// A mailbox as agents and shops write it: `local@domain.tld`. Not every
/// RFC 5322 form (quoted local parts, IP literals), which Digistore24's
/// checkout does not take either.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else { return false };
    s.len() <= 254
        && !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c))
        && is_public_host_name(domain)
}

/// A DNS name with at least two labels and a non-numeric top-level label.
fn is_public_host_name(host: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    host.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
        && !host.eq_ignore_ascii_case("localhost")
        && !host.to_ascii_lowercase().ends_with(".localhost")
}

/// What Digistore24 takes for thank-you, IPN, return and image URLs: an
/// absolute `https://` URL to a public host (reference: `http` and
/// `localhost` are refused), without credentials or whitespace.
fn is_public_https_url(s: &str) -> bool {
    if s.len() > 2048 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some(rest) = s.get(..8).filter(|scheme| scheme.eq_ignore_ascii_case("https://")).map(|_| &s[8..]) else { return false };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    // `[v6]:port`, `host:port` or `host`.
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, tail)) => (addr, tail.strip_prefix(':')),
            None => return false,
        },
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    if port.is_some_and(|p| p.parse::<u16>().map_or(true, |p| p == 0)) {
        return false;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(ip)) => {
            !(ip.is_loopback() || ip.is_private() || ip.is_link_local() || ip.is_unspecified() || ip.is_broadcast())
        }
        Ok(std::net::IpAddr::V6(ip)) => {
            !(ip.is_loopback() || ip.is_unspecified() || (ip.segments()[0] & 0xfe00) == 0xfc00 || (ip.segments()[0] & 0xffc0) == 0xfe80)
        }
        Err(_) => is_public_host_name(host),
    }
}

/// `49`, `49.00`, `0.5`; with `signed` also `-5.5`. Digits with at most one
/// dot, no thousands separators or exponents. The reference only says
/// "decimal strings with a dot" and PHP parses any number of decimals, so
/// rates like `33.333` pass; the digit limits only keep absurd values out.
fn is_decimal(s: &str, signed: bool) -> bool {
    let digits = if signed { s.strip_prefix('-').unwrap_or(s) } else { s };
    let (whole, frac) = match digits.split_once('.') {
        Some((whole, frac)) => (whole, Some(frac)),
        None => (digits, None),
    };
    (1..=9).contains(&whole.len())
        && whole.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| (1..=6).contains(&f.len()) && f.bytes().all(|b| b.is_ascii_digit()))
}

/// The point-in-time forms the API documents: a real calendar date with an
/// optional ` HH:MM:SS` or an ISO-8601 `THH:MM[:SS[.f]]` with zone,
/// `now`/`today`/`start`, or an offset like `-30d` (at most six digits).
fn is_point_in_time(s: &str) -> bool {
    let s = s.trim();
    if matches!(s, "now" | "today" | "start") {
        return true;
    }
    let offset = s.strip_prefix(['-', '+']).unwrap_or(s);
    if let Some(unit) = offset.chars().last()
        && "smhdwMY".contains(unit)
        && (2..=7).contains(&offset.len())
        && offset[..offset.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        return true;
    }
    let Some((date, time)) = s.get(..10).map(|date| (date, &s[10..])) else { return false };
    is_calendar_date(date)
        && (time.is_empty()
            || time.strip_prefix(' ').is_some_and(|t| clock_time(t) == Some(""))
            || time.strip_prefix('T').is_some_and(is_iso_time_with_zone))
}

/// `YYYY-MM-DD` naming a day that exists (no 2024-02-30), years 1000–9999.
fn is_calendar_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [&b[..4], &b[5..7], &b[8..]].iter().all(|part| part.iter().all(u8::is_ascii_digit))
        && chrono::NaiveDate::from_ymd_opt(s[..4].parse().unwrap_or(0), s[5..7].parse().unwrap_or(0), s[8..].parse().unwrap_or(0))
            .is_some_and(|_| &s[..4] >= "1000")
}

/// `YYYY-MM` with a month 01–12.
fn is_month(s: &str) -> bool {
    s.len() == 7 && s.as_bytes()[4] == b'-' && is_calendar_date(&format!("{s}-01"))
}

/// Reads `HH:MM:SS` (hours 00–23, minutes and seconds 00–59) off the front of `t`; returns the rest.
fn clock_time(t: &str) -> Option<&str> {
    let secs = hours_minutes(t)?.strip_prefix(':')?;
    two_digits(secs, 59).map(|_| &secs[2..])
}

/// Reads `HH:MM` off the front of `t`, with valid ranges; returns the rest.
fn hours_minutes(t: &str) -> Option<&str> {
    two_digits(t, 23)?;
    let minutes = t.get(2..)?.strip_prefix(':')?;
    two_digits(minutes, 59).map(|_| &minutes[2..])
}

/// The number in the first two bytes of `s` if both are digits and it is at most `max`.
fn two_digits(s: &str, max: u8) -> Option<u8> {
    let b = s.as_bytes();
    (b.len() >= 2 && b[0].is_ascii_digit() && b[1].is_ascii_digit()).then(|| (b[0] - b'0') * 10 + (b[1] - b'0')).filter(|n| *n <= max)
}

/// `HH:MM[:SS[.fraction]]` followed by a zone: `Z`, `±HH:MM`, `±HHMM` or `±HH`.
fn is_iso_time_with_zone(t: &str) -> bool {
    let Some(mut rest) = hours_minutes(t) else { return false };
    if let Some(secs) = rest.strip_prefix(':') {
        if two_digits(secs, 59).is_none() {
            return false;
        }
        rest = &secs[2..];
        if let Some(frac) = rest.strip_prefix(['.', ',']) {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if !(1..=9).contains(&digits) {
                return false;
            }
            rest = &frac[digits..];
        }
    }
    if rest == "Z" {
        return true;
    }
    let Some(zone) = rest.strip_prefix(['+', '-']) else { return false };
    match zone.len() {
        2 => two_digits(zone, 14).is_some(),
        4 => two_digits(zone, 14).is_some() && two_digits(&zone[2..], 59).is_some(),
        5 => two_digits(zone, 14).is_some() && zone.as_bytes()[2] == b':' && two_digits(&zone[3..], 59).is_some(),
        _ => false,
    }
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
        for bad in [
            "",
            "yesterday",
            "-d",
            "31.01.2024",
            "2024/01/31",
            "2024-13-01",
            "2024-00-10",
            "2024-02-30",
            "2024-01-32",
            "2024-01-31 24:00:00",
            "2024-01-31 12:60:00",
            "2024-01-31 12:00",
            "2024-01-31T12:00:00",
            "2024-01-31T12:00:00+15:00",
            "2024-01-31Tnope",
            "2024-01-31xyz",
            "-9999999d",
            "0999-01-01",
        ] {
            assert!(!is_point_in_time(bad), "{bad}");
        }
        for ok in ["2024-02-29", "2024-01-31T12:00Z", "2024-01-31T12:00:00.123-0530", "2024-01-31T23:59:59+14"] {
            assert!(is_point_in_time(ok), "{ok}");
        }
    }

    #[test]
    fn ids_emails_urls_months_and_amounts_have_their_forms() {
        assert!(is_id("A1") && is_id("123-abcd") && is_id("jane@example.com"));
        assert!(!is_id("") && !is_id(" ") && !is_id("1,2") && !is_id("a b") && !is_id(&"9".repeat(256)));
        assert!(is_id_list("1,2,3") && is_id_list("1, 2") && is_id_list("7"));
        assert!(!is_id_list("") && !is_id_list("1,,2") && !is_id_list("1,") && !is_id_list(",1"));
        assert!(is_email("jane.doe+shop@example.co.uk") && is_email("müller@beispiel.de"));
        for bad in
            ["email-value", "@example.com", "jane@", "jane@localhost", "jane@example", "a..b@example.com", "a b@example.com", "a@b@c.de"]
        {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_public_https_url("https://example.com/ipn?x=1") && is_public_https_url("HTTPS://shop.example.de:8443/a#b"));
        for bad in [
            "http://example.com/",
            "https://localhost/ipn",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://[::1]/",
            "https://user:pw@example.com/",
            "https://example.com:0/",
            "https://exa mple.com/",
            "https://intranet/",
            "example.com",
            "ftp://example.com",
        ] {
            assert!(!is_public_https_url(bad), "{bad}");
        }
        assert!(is_month("2024-01") && is_month("2099-12") && !is_month("2024-13") && !is_month("2024-1") && !is_month("24-01"));
        assert!(is_decimal("49", false) && is_decimal("49.00", false) && is_decimal("0.125", false) && is_decimal("-5.5", true));
        for bad in ["-5", "1e5", "9,00", ".5", "5.", "1.2.3", "+5", "1234567890", "1.1234567", ""] {
            assert!(!is_decimal(bad, false), "{bad}");
        }
    }

    #[test]
    fn required_text_must_not_be_empty() {
        static TEXT: F = F::read("demo", "products", "A function used only to test encoding rules.", &[P::new("code", Str).req()]);
        let enc = |args: Value| encode_args(&TEXT, args.as_object().unwrap());
        assert!(enc(json!({"code": "X"})).is_ok());
        for empty in [json!(""), json!("  ")] {
            let err = enc(json!({ "code": empty })).unwrap_err().to_string();
            assert!(err.starts_with("argument `code` must be non-empty text"), "{err}");
        }
    }
}
