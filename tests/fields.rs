//! Answers sized for a context window: list tools answer with the
//! catalogue's compact default fields, `fields: ["*"]` gives the answer as
//! Digistore24 sent it, and the figures are measured on the sandbox.

mod common;

use common::sandbox::Sandbox;
use common::{Options, TestServer};
use digistore24_mcp::catalog::{FUNCTIONS, Function};
use digistore24_mcp::sandbox::{READONLY_KEY, SandboxConfig};
use serde_json::{Value, json};

/// The calls an assistant makes first for "what did we sell?", with the list each answers.
const MEASURED: [(&str, &str, &str); 4] = [
    ("listPurchases", r#"{"from":"-30d"}"#, "purchase_list"),
    ("listProducts", "{}", "products"),
    ("listBuyers", "{}", "items"),
    ("listTransactions", r#"{"from":"-30d"}"#, "transaction_list"),
];

async fn server(sandbox: &Sandbox, max_result_bytes: Option<usize>) -> TestServer {
    let base = format!("{}/api/call", sandbox.base);
    // The token bound goes with the byte bound: unbounded is unbounded.
    let max_result_tokens = max_result_bytes.map(|_| usize::MAX);
    TestServer::start(&base, Options { max_result_bytes, max_result_tokens, ..Options::default() }).await
}

fn with_fields(arguments: &str, fields: Option<Value>) -> Value {
    let mut arguments: Value = serde_json::from_str(arguments).unwrap();
    if let Some(fields) = fields {
        arguments["fields"] = fields;
    }
    arguments
}

/// `next_arguments` without the `fields` they carry on, wherever they stand.
fn without_carried_fields(mut answer: Value) -> Value {
    for hint in ["_paging", "_truncated"] {
        if let Some(Value::Object(next)) = answer.get_mut(hint).and_then(|h| h.get_mut("next_arguments")) {
            next.remove("fields");
        }
    }
    answer
}

#[tokio::test]
async fn default_answers_are_a_third_of_everything_or_less() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    // Unbounded, both answers show the same records, so the figures compare
    // like with like; under the default bound, as an assistant gets them.
    for (bound, label) in [(Some(4 << 20), "same records"), (None, "default bound")] {
        let server = server(&sandbox, bound).await;
        let client = server.client(Some(READONLY_KEY)).await;
        for (tool, arguments, list) in MEASURED {
            let all = common::call(&client, tool, with_fields(arguments, Some(json!(["*"])))).await;
            let compact = common::call(&client, tool, with_fields(arguments, None)).await;
            let (all_text, compact_text) = (common::text(&all), common::text(&compact));
            let compact = compact.structured_content.unwrap();
            let records = |v: &Value| v[list].as_array().map_or(0, Vec::len);
            let all_records = records(all.structured_content.as_ref().unwrap());
            println!(
                "{label:>13}: {tool} {arguments}: {} bytes ({all_records} records) with fields [\"*\"], {} bytes ({} records) by default = {:.2}",
                all_text.len(),
                compact_text.len(),
                records(&compact),
                compact_text.len() as f64 / all_text.len() as f64,
            );
            if bound.is_some() {
                assert_eq!(records(&compact), all_records, "{tool}: unbounded, both show every record");
                assert!(compact_text.len() * 3 <= all_text.len(), "{tool}: {} > a third of {}", compact_text.len(), all_text.len());
            }
            let left_out = compact["_fields"]["left_out"].as_array().expect("the answer names what was left out");
            assert!(!left_out.is_empty() && compact["_fields"]["how_to_get_them"].is_string(), "{tool}");
            assert!(compact.get("_fields").and_then(|f| f.get("not_found")).is_none(), "{tool}: every default field exists");
        }
    }
}

#[tokio::test]
async fn everything_is_the_answer_as_digistore24_sent_it() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = server(&sandbox, Some(4 << 20)).await;
    let client = server.client(Some(READONLY_KEY)).await;
    for (tool, arguments, list) in MEASURED {
        let all = common::call(&client, tool, with_fields(arguments, Some(json!("*")))).await.structured_content.unwrap();
        assert!(all.get("_fields").is_none(), "{tool}: nothing was left out");
        let pairs: Vec<(String, String)> =
            with_fields(arguments, None).as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned())).collect();
        let raw = sandbox.call_owned(READONLY_KEY, tool, &pairs).await.data();
        assert_eq!(
            serde_json::to_string(&all[list]).unwrap(),
            serde_json::to_string(&raw[list]).unwrap(),
            "{tool}: byte for byte the records Digistore24 sent"
        );
        let mut shaped = without_carried_fields(all);
        let hints = ["_paging", "_truncated"].map(|hint| shaped.as_object_mut().unwrap().remove(hint));
        assert!(hints[1].is_none(), "unbounded, nothing is cut");
        for moving in ["from", "to"] {
            // "-30d" is resolved against the clock of each call.
            shaped.as_object_mut().unwrap().remove(moving);
        }
        let mut raw = raw;
        for moving in ["from", "to"] {
            raw.as_object_mut().unwrap().remove(moving);
        }
        assert_eq!(shaped, raw, "{tool}: everything else as sent, too");
    }
}

/// Arguments that make `function` answer a full list on the seeded sandbox.
async fn list_arguments(sandbox: &Sandbox, function: &Function) -> Value {
    let mut arguments = json!({});
    if function.param("from").is_some() {
        arguments["from"] = "-365d".into();
    }
    for param in function.params.iter().filter(|p| p.required) {
        arguments[param.name] = match param.name {
            "product_id" => sandbox.read("listProducts", &[]).await["products"][0]["id"].clone(),
            "purchase_id" => sandbox.read("listPurchases", &[("from", "start")]).await["purchase_list"][0]["id"].clone(),
            "usage_type" => "product".into(),
            // statsAffiliateToplist: months.
            "from" => "2020-01".into(),
            "to" => "2099-12".into(),
            other => panic!("{}: no sample for the required `{other}`", function.name),
        };
    }
    arguments
}

/// The records of the answer's largest list (or id-keyed map), as the shaping picks it.
fn records(answer: &Value) -> Vec<Value> {
    let lists = answer.as_object().unwrap().iter().filter(|(key, _)| !key.starts_with('_')).filter_map(|(_, v)| match v {
        Value::Array(items) if !items.is_empty() => Some(items.clone()),
        Value::Object(by_id) if by_id.len() > 1 && by_id.values().all(Value::is_object) => Some(by_id.values().cloned().collect()),
        _ => None,
    });
    lists.max_by_key(Vec::len).unwrap_or_default()
}

/// Whether the dotted `path` names something in `value` (passing through lists, as `fields` do).
fn has_path(value: &Value, path: &str) -> bool {
    let (head, rest) = match path.split_once('.') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    match value {
        Value::Array(items) => items.iter().any(|item| has_path(item, path)),
        Value::Object(map) => map.get(head).is_some_and(|inner| rest.is_none_or(|rest| has_path(inner, rest))),
        _ => false,
    }
}

#[tokio::test]
async fn every_default_projection_names_only_fields_the_sandbox_has_and_makes_the_answer_smaller() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = server(&sandbox, Some(4 << 20)).await;
    let client = server.client(Some(READONLY_KEY)).await;
    let with_default: Vec<&Function> = FUNCTIONS.iter().filter(|f| f.default_fields.is_some()).collect();
    assert!(with_default.len() >= 18, "the lists with more than a handful of fields have a default: {}", with_default.len());
    for function in with_default {
        let arguments = list_arguments(&sandbox, function).await;
        let mut everything = arguments.clone();
        everything["fields"] = json!(["*"]);
        let all = common::call(&client, function.name, everything).await;
        let compact = common::call(&client, function.name, arguments).await;
        assert_eq!((all.is_error, compact.is_error), (Some(false), Some(false)), "{}: {}", function.name, common::text(&all));
        let (all_text, compact_text) = (common::text(&all), common::text(&compact));
        let (all, compact) = (all.structured_content.unwrap(), compact.structured_content.unwrap());
        let full_records = records(&all);
        assert!(!full_records.is_empty(), "{}: the sandbox answers records to project", function.name);
        for path in function.default_fields.unwrap() {
            assert!(full_records.iter().any(|r| has_path(r, path)), "{}: the default names `{path}`, which no record has", function.name);
        }
        assert_eq!(compact["_fields"].get("not_found"), None, "{}: a default field the sandbox lacks", function.name);
        assert_eq!(records(&compact).len(), full_records.len(), "{}: the same records, fewer fields", function.name);
        assert!(
            compact_text.len() < all_text.len(),
            "{}: the default ({} bytes) is smaller than everything ({})",
            function.name,
            compact_text.len(),
            all_text.len()
        );
        println!(
            "{:<26} {:>3} records: {:>6} bytes with fields [\"*\"], {:>6} by default ({:.2})",
            function.name,
            full_records.len(),
            all_text.len(),
            compact_text.len(),
            compact_text.len() as f64 / all_text.len() as f64
        );
    }
}

#[tokio::test]
async fn continuations_keep_the_callers_fields() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await;
    let server = server(&sandbox, Some(8 * 1024)).await;
    let client = server.client(Some(READONLY_KEY)).await;
    let chosen = json!({"from": "start", "fields": ["id", "buyer_email"], "page_size": 500});
    let mut arguments = chosen.clone();
    for round in 0..3 {
        let answer = common::call(&client, "listPurchases", arguments).await.structured_content.unwrap();
        for purchase in answer["purchase_list"].as_array().unwrap() {
            assert_eq!(purchase.as_object().unwrap().len(), 2, "round {round}: {purchase}");
        }
        let next = &answer["_truncated"]["next_arguments"];
        assert_eq!(next["fields"], chosen["fields"], "round {round}: the rest comes with the same fields");
        arguments = next.clone();
    }
}
