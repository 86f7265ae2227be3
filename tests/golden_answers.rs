//! Golden answers: the exact bytes of the JSON-RPC responses to tool calls,
//! recorded from the server before answers passed through without
//! re-encoding, so that any change in how an answer is parsed, shaped or
//! written shows up as a byte difference. Covers small and large answers, the
//! `fields` projection, cuts with `_truncated` and `_paging`, upstream errors,
//! a dry run, answers that are not objects, and text that needs escaping
//! (quotes, backslashes, `<`, control characters, non-ASCII, emoji), both as
//! Digistore24's PHP writes it (keys unsorted, `\/`, `\u00fc`) and already in
//! the form the server writes.
//!
//! `UPDATE_GOLDEN=1 cargo test --test golden_answers` rewrites `tests/golden/`.
//! Only what varies per run is normalised: the fake upstream's port (dry
//! run) and the sandbox's dates, which it seeds relative to its start.

mod common;

use common::sandbox::Sandbox;
use common::{Answer, FakeUpstream, MCP_HEADERS, Options, TestServer, post_raw};
use digistore24_mcp::sandbox::{READONLY_KEY, SandboxConfig};
use serde_json::{Value, json};
use std::path::PathBuf;

const META_2026: &str = r#""_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"golden","version":"0"}}"#;

/// The protocol era of a request.
#[derive(Clone, Copy)]
enum Era {
    Legacy,
    Y2026,
}

/// Posts one `tools/call` and returns the response body as it came.
async fn call_raw(server: &TestServer, key: &str, era: Era, tool: &str, arguments: &Value) -> String {
    let bearer = format!("Bearer {key}");
    let mut headers = MCP_HEADERS.to_vec();
    headers.push(("authorization", &bearer));
    let body = match era {
        Era::Legacy => {
            headers.push(("mcp-protocol-version", "2025-06-18"));
            format!(r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments}}}}}"#)
        }
        Era::Y2026 => {
            headers.extend([("mcp-protocol-version", "2026-07-28"), ("mcp-method", "tools/call"), ("mcp-name", tool)]);
            format!(r#"{{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{tool}","arguments":{arguments},{META_2026}}}}}"#)
        }
    };
    let (status, _, text) = post_raw(&server.url(), &headers, &body).await;
    assert_eq!(status, 200, "{tool}: {text}");
    text
}

/// Compares `actual` with `tests/golden/{name}.json`, or writes it there
/// under `UPDATE_GOLDEN=1`. Returns a description of the difference.
fn check(name: &str, actual: &str) -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(format!("{name}.json"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    if expected == actual {
        return None;
    }
    let at = expected.bytes().zip(actual.bytes()).take_while(|(a, b)| a == b).count();
    let around = |s: &str| s.get(at.saturating_sub(60)..(at + 60).min(s.len())).unwrap_or("(not at a character boundary)").to_owned();
    Some(format!(
        "{name}: {} bytes expected, {} got, first difference at byte {at}:\n  expected …{}…\n  got      …{}…",
        expected.len(),
        actual.len(),
        around(&expected),
        around(actual)
    ))
}

/// Replaces the digits of `YYYY-MM-DD` and `HH:MM:SS` with `0`: the sandbox
/// seeds its records relative to the moment it starts.
fn without_dates(text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let shape = |window: &[u8], pattern: &[u8]| {
        window.len() == pattern.len() && window.iter().zip(pattern).all(|(b, p)| if *p == b'd' { b.is_ascii_digit() } else { b == p })
    };
    for pattern in [&b"dddd-dd-dd"[..], b"dd:dd:dd"] {
        let mut i = 0;
        while i + pattern.len() <= bytes.len() {
            if shape(&bytes[i..i + pattern.len()], pattern) {
                bytes[i..i + pattern.len()].iter_mut().filter(|b| b.is_ascii_digit()).for_each(|b| *b = b'0');
                i += pattern.len();
            } else {
                i += 1;
            }
        }
    }
    String::from_utf8(bytes).expect("only ASCII digits changed")
}

/// An upstream body that lives as long as the fake upstream needs it.
fn leaked(body: String) -> &'static str {
    Box::leak(body.into_boxed_str())
}

fn success(data: &str) -> String {
    format!(r#"{{"api_version":"1.2","current_time":"2026-01-01 10:00:00","result":"success","data":{data}}}"#)
}

/// A purchase as Digistore24's PHP writes it: keys in its order, `\/` and
/// `\uXXXX` escapes, numbers and strings mixed.
fn php_purchase(i: usize) -> String {
    let names = ["J\\u00fcrgen M\\u00fcller", "\\u6771\\u4eac \\u592a\\u90ce", "Zo\\u00eb \\\"Z\\\" O'Neil", "Ana \\ud83d\\ude00 Lima"];
    format!(
        concat!(
            r#"{{"id":"P{i:05}","created_at":"2026-01-{day:02} 10:{min:02}:00","amount":"{amount}.00","currency":"EUR","#,
            r#""billing_type":"installment","pay_sequence_no":{seq},"product_id":"6350{p}","product_name":"Kurs \u00bbAchtsamkeit\u00ab <Level {p}>","#,
            r#""buyer":{{"email":"buyer{i}@example.com","first_name":"{name}","country":"DE","address":{{"street":"Hauptstra\u00dfe {i}","city":"M\u00fcnchen"}}}},"#,
            r#""affiliate_name":null,"is_test":{test},"note":"line one\nline two\ttabbed \u0001 C:\\path","#,
            r#""receipt_url":"https:\/\/www.digistore24.com\/receipt\/P{i:05}","items":[{{"product_id":"6350{p}","quantity":1}}]}}"#
        ),
        i = i,
        day = 1 + i % 28,
        min = i % 60,
        amount = 10 + i % 90,
        seq = i % 7,
        p = i % 4,
        name = names[i % names.len()],
        test = if i.is_multiple_of(3) { "true" } else { "false" },
    )
}

/// A list answer of `n` PHP-style purchases, with or without page counts.
fn php_purchases(n: usize, paged: bool) -> String {
    let list: Vec<String> = (0..n).map(php_purchase).collect();
    let counts = if paged { format!(r#","page_no":1,"page_count":3,"page_size":{n},"item_count":{}"#, 3 * n) } else { String::new() };
    success(&format!(r#"{{"purchase_list":[{}]{counts}}}"#, list.join(",")))
}

/// The same kind of answer as the server itself writes JSON (keys sorted, compact).
fn canonical(body: &str) -> String {
    let value: Value = serde_json::from_str(body).unwrap();
    serde_json::to_string(&value).unwrap()
}

/// One call of a fake-upstream case.
struct Case {
    name: &'static str,
    era: Era,
    tool: &'static str,
    arguments: Value,
    upstream: Answer,
}

fn case(name: &'static str, tool: &'static str, arguments: Value, status: u16, body: String) -> Case {
    Case { name, era: Era::Legacy, tool, arguments, upstream: Answer::Raw(status, leaked(body)) }
}

fn fake_cases() -> Vec<Case> {
    let ping = success(r#"{"server_time":"2026-01-01 10:00:00"}"#);
    let escapes = success(concat!(
        r#"{"zeta":"last","quote":"say \"hi\"","backslash":"C:\\dir\\file","html":"<b>bold</b> & <script>x</script>","#,
        r#""controls":"\u0000\u0001\b\f\n\r\t\u001f\u007f","slash":"a\/b","latin":"M\u00fcnchen Stra\u00dfe","raw_utf8":"Zürich – “quoted”","#,
        r#""emoji_escaped":"\ud83d\ude00","emoji_raw":"🚀👩‍💻","cjk":"東京","line_separators":"\u2028\u2029","#,
        r#""nested":{"b":[1,{"y":"\u00e9","x":null}],"a":true},"empty":{},"none":[],"Upper":"sorts before lower"}"#
    ));
    let numbers = success(concat!(
        r#"{"int":42,"negative":-7,"zero":0,"minus_zero":-0,"float":1.50,"exp":1e3,"small":0.1,"#,
        r#""big":12345678901234567890,"bigger":123456789012345678901234,"neg_exp":-2.5E-3,"text_number":"0049"}"#
    ));
    let spaced = "{ \"result\" : \"success\" ,\n \"data\" : { \"b\" : 1 , \"a\" : [ 1 , 2 ] } }\n".to_owned();
    let products = canonical(&success(concat!(
        r#"{"products":[{"id":"635003","name":"Achtsamkeits-Meditationskurs","currency":"EUR,USD","is_active":"Y","note":"","#,
        r#""created_at":"2024-10-23 22:49:27","image_url":"https://cdn.example/a.png","product_group_name":"Online Courses","product_type_id":"2"},"#,
        r#"{"id":"635004","name":"Yoga für Anfänger 🧘","currency":"EUR","is_active":"N","note":"\"best\" <seller>","#,
        r#""created_at":"2024-11-02 10:12:00","image_url":"https://cdn.example/b.png","product_group_name":"Kurse","product_type_id":"2"}]}"#
    )));
    let error = r#"{"api_version":"1.2","result":"error","code":"4","message":"Bestellung \u00bbP1\u00ab nicht gefunden \"<id>\""}"#;
    vec![
        case("small_ping", "ping", json!({}), 200, ping.clone()),
        Case { era: Era::Y2026, ..case("small_ping_2026", "ping", json!({}), 200, ping) },
        case("escapes_php", "getPurchase", json!({"purchase_id": "A1"}), 200, escapes.clone()),
        case("escapes_canonical", "getPurchase", json!({"purchase_id": "A1"}), 200, canonical(&escapes)),
        Case { era: Era::Y2026, ..case("escapes_canonical_2026", "getPurchase", json!({"purchase_id": "A1"}), 200, canonical(&escapes)) },
        case("escapes_fields", "getPurchase", json!({"purchase_id": "A1", "fields": ["nested.b", "quote", "missing"]}), 200, escapes),
        case("numbers", "getPurchase", json!({"purchase_id": "A1"}), 200, numbers),
        case("whitespace", "getPurchase", json!({"purchase_id": "A1"}), 200, spaced),
        case("data_array", "getPurchase", json!({"purchase_id": "A1"}), 200, success(r#"[1,"two",{"b":1,"a":2}]"#)),
        case("data_string", "getPurchase", json!({"purchase_id": "A1"}), 200, success(r#""just text""#)),
        case("data_null", "getPurchase", json!({"purchase_id": "A1"}), 200, success("null")),
        case("data_absent", "getPurchase", json!({"purchase_id": "A1"}), 200, r#"{"result":"success"}"#.to_owned()),
        case("products_default_fields", "listProducts", json!({}), 200, products.clone()),
        case("products_all_fields", "listProducts", json!({"fields": "*"}), 200, products),
        case("purchases_12k_default_fields", "listPurchases", json!({}), 200, php_purchases(24, true)),
        case("purchases_12k_all_fields", "listPurchases", json!({"fields": "*"}), 200, php_purchases(24, true)),
        case("purchases_12k_all_canonical", "listPurchases", json!({"fields": "*"}), 200, canonical(&php_purchases(24, false))),
        case(
            "purchases_chosen_fields",
            "listPurchases",
            json!({"page_size": 24, "fields": "id,buyer.email,nothing"}),
            200,
            php_purchases(24, false),
        ),
        case("purchases_48k_all_fields", "listPurchases", json!({"fields": "*"}), 200, php_purchases(96, true)),
        case("purchases_48k_default_fields", "listPurchases", json!({}), 200, php_purchases(96, true)),
        case("upstream_error", "getPurchase", json!({"purchase_id": "P1"}), 200, error.to_owned()),
        case("upstream_error_http_500", "getPurchase", json!({"purchase_id": "P1"}), 500, error.to_owned()),
        case("upstream_not_json", "getPurchase", json!({"purchase_id": "P1"}), 502, "<html><body>502 Bad Gateway</body></html>".to_owned()),
        case("dry_run", "refundPurchase", json!({"purchase_id": "P\"1<", "dry_run": true}), 200, String::new()),
    ]
}

/// Cases under tight bounds: cuts by bytes and by tokens, and an answer too big to cut.
fn bounded_cases() -> Vec<Case> {
    vec![
        case("cut_by_bytes", "listPurchases", json!({"page_size": 24}), 200, php_purchases(24, true)),
        case("cut_by_bytes_continued", "listPurchases", json!({"page_size": 24, "skip": 7}), 200, php_purchases(24, true)),
        case("cut_by_bytes_all_fields", "listPurchases", json!({"fields": "*"}), 200, canonical(&php_purchases(24, false))),
        case("too_big_to_cut", "getPurchase", json!({"purchase_id": "P1"}), 200, success(&format!(r#"{{"blob":"{}"}}"#, "x".repeat(9000)))),
    ]
}

fn token_cases() -> Vec<Case> {
    vec![case("cut_by_tokens", "listPurchases", json!({"fields": "*"}), 200, php_purchases(24, true))]
}

async fn run_fake(options: Options, cases: Vec<Case>, failures: &mut Vec<String>) {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), options).await;
    let port = format!(":{}/", upstream.addr.port());
    for case in cases {
        upstream.answer_with(case.upstream);
        let body = call_raw(&server, "golden-key", case.era, case.tool, &case.arguments).await;
        failures.extend(check(case.name, &body.replace(&port, ":PORT/")));
    }
}

#[tokio::test]
async fn answers_from_a_fake_upstream_stay_byte_for_byte_the_same() {
    let mut failures = Vec::new();
    run_fake(Options::default(), fake_cases(), &mut failures).await;
    let bytes = Options { max_result_bytes: Some(8 * 1024), ..Options::default() };
    run_fake(bytes, bounded_cases(), &mut failures).await;
    let tokens = Options { max_result_tokens: Some(1_500), ..Options::default() };
    run_fake(tokens, token_cases(), &mut failures).await;
    assert!(failures.is_empty(), "{} answers differ:\n{}", failures.len(), failures.join("\n"));
}

#[tokio::test]
async fn answers_from_the_sandbox_stay_byte_for_byte_the_same() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let base = format!("{}/api/call", sandbox.base);
    let server = TestServer::start(&base, Options::default()).await;
    let cut = TestServer::start(&base, Options { max_result_bytes: Some(8 * 1024), ..Options::default() }).await;
    let first_purchase = sandbox.read("listPurchases", &[("from", "start"), ("page_size", "1")]).await["purchase_list"][0]["id"]
        .as_str()
        .expect("the sandbox has purchases")
        .to_owned();
    let cases: Vec<(&str, &TestServer, Era, &str, Value)> = vec![
        ("sandbox_products", &server, Era::Legacy, "listProducts", json!({})),
        ("sandbox_products_all_fields", &server, Era::Legacy, "listProducts", json!({"fields": "*"})),
        ("sandbox_products_2026", &server, Era::Y2026, "listProducts", json!({})),
        ("sandbox_purchases_page", &server, Era::Legacy, "listPurchases", json!({"from": "start", "page_size": 20})),
        ("sandbox_purchases_cut", &cut, Era::Legacy, "listPurchases", json!({"from": "start", "page_size": 100})),
        ("sandbox_purchase", &server, Era::Legacy, "getPurchase", json!({"purchase_id": first_purchase})),
        ("sandbox_purchase_fields", &server, Era::Legacy, "getPurchase", json!({"purchase_id": first_purchase, "fields": ["id", "buyer"]})),
        ("sandbox_unknown_purchase", &server, Era::Legacy, "getPurchase", json!({"purchase_id": "NOPE0000"})),
        ("sandbox_ping", &server, Era::Legacy, "ping", json!({})),
    ];
    let mut failures = Vec::new();
    for (name, server, era, tool, arguments) in cases {
        let body = call_raw(server, READONLY_KEY, era, tool, &arguments).await;
        failures.extend(check(name, &without_dates(&body)));
    }
    assert!(failures.is_empty(), "{} answers differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn dates_are_normalised_and_nothing_else() {
    assert_eq!(
        without_dates(r#"{"at":"2026-12-01 11:05:49","id":"2026-12","n":12345}"#),
        r#"{"at":"0000-00-00 00:00:00","id":"2026-12","n":12345}"#
    );
}
