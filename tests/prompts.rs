//! Prompts: the vendor workflows, listed with typed arguments, and their
//! messages name catalogue tools in order and ask for `fields`.

mod common;

use common::{FakeUpstream, Options, TestServer};
use digistore24_mcp::catalog::lookup;
use digistore24_mcp::mcp::WORKFLOWS;
use rmcp::model::GetPromptRequestParams;
use serde_json::{Map, Value, json};

#[tokio::test]
async fn prompts_are_listed_with_arguments_and_their_messages_name_the_tools_in_order() {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), Options::default()).await;
    let client = server.client(Some("k")).await;
    let listed = client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = listed.iter().map(|p| p.name.as_str()).collect();
    for expected in ["sales_report", "customer_lookup", "refund_order", "voucher_campaign", "failed_rebills"] {
        assert!(names.contains(&expected), "{expected} in {names:?}");
    }
    assert_eq!(listed.len(), WORKFLOWS.len());
    for prompt in &listed {
        assert!(prompt.description.as_ref().is_some_and(|d| d.len() > 20), "{}", prompt.name);
        let workflow = WORKFLOWS.iter().find(|w| w.name == prompt.name).unwrap();
        let mut arguments = Map::new();
        for arg in prompt.arguments.iter().flatten() {
            assert!(arg.description.is_some(), "{}.{}", prompt.name, arg.name);
            arguments.insert(arg.name.clone(), Value::String(example(&arg.name).into()));
        }
        let got = client.get_prompt(GetPromptRequestParams::new(prompt.name.clone()).with_arguments(arguments)).await.unwrap();
        let text = serde_json::to_value(&got.messages[0]).unwrap()["content"]["text"].as_str().unwrap().to_owned();
        // The numbered steps each start with the tool to call, in order.
        let steps: Vec<&str> = text.lines().filter(|l| l.starts_with(|c: char| c.is_ascii_digit())).collect();
        assert!(steps.len() >= 3, "{}: {text}", workflow.name);
        let called: Vec<&str> = steps
            .iter()
            .filter_map(|step| step.split(|c: char| !c.is_ascii_alphanumeric()).find(|w| lookup(w).is_some() && w.len() > 5))
            .collect();
        assert!(called.len() >= 2, "{}: names tools in its steps: {text}", workflow.name);
        assert!(text.contains("fields") || text.contains("compact"), "{}: tells the assistant about fields", workflow.name);
        assert!(!text.contains('{') || !text.contains("{email}"), "{}: placeholders filled", workflow.name);
    }
    let refund =
        client.get_prompt(GetPromptRequestParams::new("refund_order").with_arguments(args(json!({"purchase_id": "ABC12DEF"})))).await;
    let text = serde_json::to_string(&refund.unwrap().messages).unwrap();
    let (lookup_at, dry_at) = (text.find("getPurchase").unwrap(), text.find("\\\"dry_run\\\": true").unwrap());
    assert!(lookup_at < dry_at, "look up first, then dry run");
}

#[tokio::test]
async fn a_missing_required_argument_or_unknown_prompt_is_invalid_params() {
    let upstream = FakeUpstream::start().await;
    let server = TestServer::start(&upstream.base_url(), Options::default()).await;
    let client = server.client(Some("k")).await;
    let err = client.get_prompt(GetPromptRequestParams::new("refund_order")).await.unwrap_err();
    assert!(err.to_string().contains("purchase_id"), "{err}");
    let err = client.get_prompt(GetPromptRequestParams::new("no_such_prompt")).await.unwrap_err();
    assert!(err.to_string().contains("unknown prompt"), "{err}");
    assert!(upstream.requests().is_empty(), "prompts call nothing");
}

fn args(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn example(name: &str) -> &'static str {
    match name {
        "email" => "a@b.example",
        "from" => "-30d",
        "to" => "now",
        "purchase_id" => "ABC12DEF",
        "code" => "SUMMER25",
        "discount" => "25",
        "product_ids" => "all",
        _ => "X",
    }
}
