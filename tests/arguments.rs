//! Malformed arguments never reach Digistore24; well-formed ones always pass.
//!
//! Walks every parameter (at any depth) of every catalogued function and,
//! per its kind, generates values that break its form (empty ids, bad
//! e-mails, non-URLs, unreal dates, non-decimal amounts, out-of-range ints,
//! wrong JSON types, unknown nested keys): `encode_args` must refuse each.
//! Valid values of every kind must encode. A few of the refusals also go
//! through the MCP server against the recording fake upstream, which must
//! see no request. Owns nothing but these checks.

mod common;

use common::{FakeUpstream, Options, TestServer, call, text};
use digistore24_mcp::catalog::{FUNCTIONS, Function, Kind, Param};
use digistore24_mcp::ds24::encode_args;
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

/// One parameter somewhere in a function's tree: the params from the top level down to it.
#[derive(Clone, Copy, Debug)]
struct Target {
    function: &'static Function,
    path: &'static [&'static Param],
}

/// Every parameter of every function, nested fields included.
static TARGETS: LazyLock<Vec<Target>> = LazyLock::new(|| {
    fn walk(function: &'static Function, prefix: Vec<&'static Param>, params: &'static [Param], out: &mut Vec<Target>) {
        for param in params {
            let mut path = prefix.clone();
            path.push(param);
            out.push(Target { function, path: Vec::leak(path.clone()) });
            if let Some(fields) = object_fields(&param.kind) {
                walk(function, path, fields, out);
            }
        }
    }
    let mut out = Vec::new();
    for f in FUNCTIONS {
        walk(f, Vec::new(), f.params, &mut out);
    }
    out
});

/// The fields of an object, or of the objects in a list.
fn object_fields(kind: &'static Kind) -> Option<&'static [Param]> {
    match kind {
        Kind::Object(fields) => Some(fields),
        Kind::List(Kind::Object(fields)) => Some(fields),
        _ => None,
    }
}

/// A fixed valid value of a kind (for the arguments around the one under test).
fn sample(kind: &Kind) -> Value {
    match kind {
        Kind::Str => json!("text"),
        Kind::Id => json!("A1"),
        Kind::Ids => json!("1,2"),
        Kind::IdsOrAll => json!("all"),
        Kind::Email => json!("jane@example.com"),
        Kind::Url => json!("https://example.com/x"),
        Kind::OneOf(values) => json!(values.iter().find(|v| !v.is_empty()).unwrap()),
        Kind::Int { min, .. } => json!(min.unwrap_or(0).max(1)),
        Kind::Amount | Kind::SignedAmount => json!("9.00"),
        Kind::Bool => json!(true),
        Kind::Date | Kind::Dates => json!("2024-01-31"),
        Kind::DateTime => json!("2024-01-31 12:00:00"),
        Kind::Month => json!("2024-01"),
        Kind::Object(fields) => Value::Object(minimal(fields)),
        Kind::Map(inner) => json!({"k": sample(inner)}),
        Kind::List(inner) => json!([sample(inner)]),
    }
}

/// The required arguments of a parameter list, each with its sample value.
fn minimal(params: &[Param]) -> Map<String, Value> {
    params.iter().filter(|p| p.required).map(|p| (p.name.to_owned(), sample(&p.kind))).collect()
}

/// Valid arguments for `target.function` with `leaf` put at the target's place.
fn args_with(target: Target, leaf: Value) -> Map<String, Value> {
    let mut args = minimal(target.function.params);
    let mut here = &mut args;
    for (depth, param) in target.path.iter().enumerate() {
        if depth + 1 == target.path.len() {
            here.insert(param.name.to_owned(), leaf);
            break;
        }
        let fields = object_fields(&param.kind).expect("only objects have nested params");
        let container = here.entry(param.name.to_owned()).or_insert_with(|| sample(&param.kind));
        if container.is_array() {
            if container.as_array().unwrap().is_empty() {
                container.as_array_mut().unwrap().push(Value::Object(minimal(fields)));
            }
            here = container[0].as_object_mut().unwrap();
        } else {
            here = container.as_object_mut().unwrap();
        }
    }
    args
}

/// Values that break a kind's form, known in advance (the exhaustive sweep uses all of them).
fn malformed_examples(param: &Param) -> Vec<Value> {
    let mut bad = match &param.kind {
        Kind::Str if param.required => vec![json!(""), json!("   "), json!(true), json!([]), json!({})],
        Kind::Str => vec![json!(true), json!(["x"]), json!({"a": 1})],
        Kind::Id => vec![json!(""), json!("  "), json!("a b"), json!("1,2"), json!(-3), json!(1.5), json!(true), json!(["1"])],
        Kind::Ids => vec![json!(""), json!(" "), json!("1,,2"), json!("1,"), json!(",1"), json!("a b"), json!(false), json!({})],
        Kind::IdsOrAll => vec![json!(""), json!("1,,2"), json!("all,"), json!("ALL NOW"), json!(-1), json!([])],
        Kind::Email => vec![
            json!("email-value"),
            json!(""),
            json!("@example.com"),
            json!("jane@"),
            json!("jane@localhost"),
            json!("jane doe@example.com"),
            json!("a..b@example.com"),
            json!(42),
        ],
        Kind::Url => vec![
            json!("not a url"),
            json!(""),
            json!("http://example.com/"),
            json!("https://localhost/x"),
            json!("https://127.0.0.1/x"),
            json!("https://192.168.1.5/x"),
            json!("ftp://example.com/x"),
            json!("https://user:pw@example.com/"),
            json!("https://intranet/x"),
            json!(7),
        ],
        Kind::OneOf(_) => vec![json!("definitely-not-allowed"), json!(1), json!(true)],
        Kind::Int { min, max } => {
            let mut v = vec![json!("abc"), json!(1.5), json!("1.5"), json!(true), json!("")];
            if let Some(m) = min {
                v.push(json!(m - 1));
            }
            if let Some(m) = max {
                v.push(json!(m + 1));
                v.push(json!((m + 1).to_string()));
            }
            v
        }
        Kind::Amount | Kind::SignedAmount => {
            let mut v = vec![json!("9,00"), json!("1e5"), json!(1e300), json!("abc"), json!(""), json!("1234567890"), json!("1.1234567")];
            v.extend([json!("9".repeat(400)), json!(true), json!(".5")]);
            if matches!(param.kind, Kind::Amount) {
                v.push(json!("-5.00"));
                v.push(json!(-5));
            }
            v
        }
        Kind::Bool => vec![json!("maybe"), json!(2), json!([true])],
        Kind::Date | Kind::DateTime | Kind::Dates => vec![
            json!("yesterday"),
            json!("2024-13-01"),
            json!("2024-02-30"),
            json!("2024-01-32"),
            json!("2024-01-31 25:00:00"),
            json!("2024-01-31T10:00:00"),
            json!("31.01.2024"),
            json!(20240131),
        ],
        Kind::Month => vec![json!("2024-13"), json!("2024-1"), json!("2024-01-31"), json!(202401)],
        Kind::Object(fields) => {
            let mut unknown = minimal(fields);
            unknown.insert("no_such_field".into(), json!(1));
            vec![json!("x"), json!([]), Value::Object(unknown)]
        }
        Kind::Map(_) => vec![json!("x"), json!(["a"]), json!({"a[b]": sample(&Kind::Str)})],
        Kind::List(inner) => {
            let mut v = vec![json!("x"), json!({"0": sample(inner)})];
            if let Kind::Object(fields) = inner {
                let mut unknown = minimal(fields);
                unknown.insert("no_such_field".into(), json!(1));
                v.push(json!([unknown]));
            }
            v
        }
    };
    // Digits-only JSON numbers are valid ids and ints; every other kind refuses
    // objects. Added for scalars so wrong JSON types are covered everywhere.
    if !matches!(param.kind, Kind::Object(_) | Kind::Map(_)) {
        bad.push(json!({"x": 1}));
    }
    bad
}

/// Random values that break a kind's form.
fn malformed(param: &'static Param) -> BoxedStrategy<Value> {
    let fixed = prop::sample::select(malformed_examples(param));
    let random: BoxedStrategy<Value> = match &param.kind {
        // Any text without an `@`, and texts with a space in the middle.
        Kind::Email => {
            prop_oneof!["[a-z0-9.]{0,20}".prop_map(Value::from), "[a-z]{1,5} [a-z]{1,5}@example\\.com".prop_map(Value::from)].boxed()
        }
        Kind::Url => prop_oneof![
            "http://[a-z]{1,10}\\.com/[a-z]{0,5}".prop_map(Value::from),
            "[a-z]{1,10}\\.[a-z]{2,3}".prop_map(Value::from),
            "https://[a-z]{1,10}".prop_map(Value::from),
        ]
        .boxed(),
        Kind::Id => "[a-z0-9]{0,5}[ ,][a-z0-9]{0,5}".prop_map(Value::from).boxed(),
        Kind::Int { min: Some(lo), max: Some(hi) } => {
            let (lo, hi) = (*lo, *hi);
            prop_oneof![(i64::MIN..lo).prop_map(Value::from), (hi.saturating_add(1)..i64::MAX).prop_map(Value::from)].boxed()
        }
        Kind::Amount | Kind::SignedAmount => prop_oneof![
            "[0-9]{10,40}".prop_map(Value::from),
            "[0-9]{1,3},[0-9]{2}".prop_map(Value::from),
            "[0-9]{1,3}\\.[0-9]{7,12}".prop_map(Value::from),
        ]
        .boxed(),
        Kind::Date | Kind::DateTime | Kind::Dates => prop_oneof![
            (2000u32..2100, 13u32..100, 1u32..29).prop_map(|(y, m, d)| Value::from(format!("{y}-{m:02}-{d:02}"))),
            (2000u32..2100, 1u32..13, 32u32..100).prop_map(|(y, m, d)| Value::from(format!("{y}-{m:02}-{d:02}"))),
            (2000u32..2100, 24u32..100).prop_map(|(y, h)| Value::from(format!("{y}-01-01 {h:02}:00:00"))),
        ]
        .boxed(),
        Kind::Month => (1000u32..10000, 13u32..100).prop_map(|(y, m)| Value::from(format!("{y}-{m:02}"))).boxed(),
        _ => fixed.clone().boxed(),
    };
    prop_oneof![fixed, random].boxed()
}

/// Random valid values of a kind; text that is required is non-empty.
fn valid(kind: &'static Kind, required: bool) -> BoxedStrategy<Value> {
    let id = prop_oneof!["[A-Za-z0-9_-]{1,12}".prop_map(Value::from), (0u32..=u32::MAX).prop_map(Value::from)];
    let date = (1000i32..=9999, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"));
    let keyword_or_offset = prop_oneof![
        prop::sample::select(vec!["now", "today", "start"]).prop_map(str::to_owned),
        ("[-+]?", 1u32..999_999, prop::sample::select(vec!['s', 'm', 'h', 'd', 'w', 'M', 'Y'])).prop_map(|(s, n, u)| format!("{s}{n}{u}")),
    ];
    match kind {
        Kind::Str if required => "[a-zA-Z0-9äöü ]{0,20}[a-zA-Z0-9]".prop_map(Value::from).boxed(),
        Kind::Str => prop_oneof!["\\PC{0,30}".prop_map(Value::from), any::<i32>().prop_map(Value::from)].boxed(),
        Kind::Id => id.boxed(),
        Kind::Ids | Kind::IdsOrAll => {
            let list = prop::collection::vec("[A-Za-z0-9]{1,8}", 1..5).prop_map(|ids| Value::from(ids.join(","))).boxed();
            if matches!(kind, Kind::IdsOrAll) { prop_oneof![Just(json!("all")), list].boxed() } else { prop_oneof![id, list].boxed() }
        }
        Kind::Email => ("[a-z0-9]{1,10}([._+-][a-z0-9]{1,5})?", "[a-z0-9]{1,10}", "(de|com|co\\.uk|info)")
            .prop_map(|(local, host, tld)| Value::from(format!("{local}@{host}.{tld}")))
            .boxed(),
        Kind::Url => ("[a-z0-9]{1,10}", "(/[a-zA-Z0-9._-]{0,10}){0,3}", "(\\?[a-z]{1,5}=[0-9]{1,3})?")
            .prop_map(|(host, path, query)| Value::from(format!("https://{host}.example.com{path}{query}")))
            .boxed(),
        Kind::OneOf(values) => prop::sample::select(values.to_vec()).prop_map(Value::from).boxed(),
        Kind::Int { min, max } => {
            let (lo, hi) = (min.unwrap_or(i64::MIN), max.unwrap_or(i64::MAX));
            prop_oneof![(lo..=hi).prop_map(Value::from), (lo..=hi).prop_map(|n| Value::from(n.to_string()))].boxed()
        }
        Kind::Amount | Kind::SignedAmount => {
            let pattern = if matches!(kind, Kind::SignedAmount) { "-?[0-9]{1,9}(\\.[0-9]{1,6})?" } else { "[0-9]{1,9}(\\.[0-9]{1,6})?" };
            prop_oneof![pattern.prop_map(Value::from), (0u32..100_000).prop_map(Value::from)].boxed()
        }
        Kind::Bool => prop_oneof![
            any::<bool>().prop_map(Value::from),
            prop::sample::select(vec!["Y", "N", "yes", "no", "1", "0"]).prop_map(Value::from)
        ]
        .boxed(),
        Kind::Date => prop_oneof![date.clone(), keyword_or_offset].prop_map(Value::from).boxed(),
        Kind::Dates => prop::collection::vec(date, 1..4).prop_map(|d| Value::from(d.join(","))).boxed(),
        Kind::DateTime => prop_oneof![
            date.clone(),
            (date.clone(), 0u32..24, 0u32..60, 0u32..60).prop_map(|(d, h, m, s)| format!("{d} {h:02}:{m:02}:{s:02}")),
            (date, 0u32..24, 0u32..60, prop::sample::select(vec!["Z", "+02:00", "-0530", "+14"]))
                .prop_map(|(d, h, m, z)| format!("{d}T{h:02}:{m:02}:00{z}")),
            keyword_or_offset,
        ]
        .prop_map(Value::from)
        .boxed(),
        Kind::Month => (1000u32..=9999, 1u32..=12).prop_map(|(y, m)| Value::from(format!("{y}-{m:02}"))).boxed(),
        Kind::Object(fields) => valid_object(fields).prop_map(Value::Object).boxed(),
        Kind::Map(inner) => prop::collection::btree_map("[A-Za-z0-9_]{1,8}", valid(inner, false), 0..3)
            .prop_map(|m| Value::Object(m.into_iter().collect()))
            .boxed(),
        Kind::List(inner) => prop::collection::vec(valid(inner, false), 0..3).prop_map(Value::Array).boxed(),
    }
}

/// A valid object: every required field, and each optional one half of the time.
fn valid_object(params: &'static [Param]) -> BoxedStrategy<Map<String, Value>> {
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = params
        .iter()
        .map(|p| {
            let value = valid(&p.kind, p.required).prop_map(move |v| Some((p.name.to_owned(), v)));
            if p.required { value.boxed() } else { prop_oneof![Just(None), value].boxed() }
        })
        .collect();
    fields.prop_map(|pairs| pairs.into_iter().flatten().collect()).boxed()
}

#[test]
fn every_malformed_example_of_every_parameter_is_refused() {
    let mut checked = 0;
    for target in TARGETS.iter().copied() {
        let param = target.path.last().unwrap();
        for bad in malformed_examples(param) {
            let args = args_with(target, bad.clone());
            let result = encode_args(target.function, &args);
            assert!(result.is_err(), "{}: {} = {bad} was accepted: {result:?}", target.function.name, param.name);
            checked += 1;
        }
    }
    // All 123 functions, several hundred parameters, thousands of values.
    assert!(TARGETS.len() > 500 && checked > 3000, "{} targets, {checked} values", TARGETS.len());
}

#[test]
fn the_issue_reproductions_are_refused_naming_the_argument_and_form() {
    let f = |name: &str| FUNCTIONS.iter().find(|f| f.name == name).unwrap();
    let cases = [
        ("getPurchase", json!({"purchase_id": ""}), "argument `purchase_id` must be an id or a comma list of ids"),
        ("createAddonChangePurchase", json!({"purchase_id": "", "addons": [{"product_id": 1}]}), "argument `purchase_id` must be an id"),
        ("listPurchasesOfEmail", json!({"email": "email-value"}), "argument `email` must be an e-mail address"),
        (
            "listPurchasesOfEmail",
            json!({"email": "a@example.com", "limit": 2147483648u64}),
            "argument `limit` must be a whole number from 1 to 2147483647",
        ),
    ];
    for (name, args, expected) in cases {
        let err = encode_args(f(name), args.as_object().unwrap()).unwrap_err().to_string();
        assert!(err.starts_with(expected), "{name}: {err}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_malformed_values_never_encode(
        (target, bad) in prop::sample::select(TARGETS.clone()).prop_flat_map(|t| (Just(t), malformed(t.path.last().unwrap())))
    ) {
        let result = encode_args(target.function, &args_with(target, bad.clone()));
        prop_assert!(result.is_err(), "{}: {} = {} was accepted", target.function.name, target.path.last().unwrap().name, bad);
    }

    #[test]
    fn random_valid_arguments_always_encode(
        (function, args) in prop::sample::select(FUNCTIONS.iter().collect::<Vec<_>>()).prop_flat_map(|f| (Just(f), valid_object(f.params)))
    ) {
        let result = encode_args(function, &args);
        prop_assert!(result.is_ok(), "{} {}: {:?}", function.name, Value::Object(args.clone()), result.err());
    }
}

#[tokio::test]
async fn malformed_calls_through_mcp_send_nothing_upstream() {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), Options::default()).await;
    let client = server.client(Some("123-args")).await;
    // The issue's four, then the first parameter of each kind with one of its bad values.
    let mut calls = vec![
        ("getPurchase", json!({"purchase_id": ""})),
        ("createAddonChangePurchase", json!({"purchase_id": " ", "addons": [{"product_id": 1}]})),
        ("listPurchasesOfEmail", json!({"email": "email-value"})),
        ("listPurchasesOfEmail", json!({"email": "jane@example.com", "limit": 2147483648u64})),
    ];
    let mut kinds_seen = Vec::new();
    for target in TARGETS.iter().copied() {
        let param = target.path.last().unwrap();
        let kind = std::mem::discriminant(&param.kind);
        if !kinds_seen.contains(&kind) {
            kinds_seen.push(kind);
            calls.push((target.function.name, Value::Object(args_with(target, malformed_examples(param)[0].clone()))));
        }
    }
    assert!(kinds_seen.len() >= 15, "every kind is exercised once");
    for (tool, args) in calls {
        let result = call(&client, tool, args.clone()).await;
        assert_eq!(result.is_error, Some(true), "{tool} {args}: {}", text(&result));
        assert!(text(&result).contains("argument"), "{tool}: {}", text(&result));
    }
    assert!(upstream.requests().is_empty(), "refused calls reached the upstream: {:?}", upstream.requests());
    // And a well-formed call still goes through.
    let ok = call(&client, "listPurchasesOfEmail", json!({"email": "jane@example.com", "limit": 5})).await;
    assert_ne!(ok.is_error, Some(true), "{}", text(&ok));
    assert_eq!(upstream.last().body, "email=jane%40example.com&limit=5");
}
