//! The tool list: complete, annotated from the catalogue, and small enough
//! for an agent's context.

mod common;

use digistore24_mcp::catalog::{Effect, FUNCTIONS, LOCAL_TOOLS};
use digistore24_mcp::mcp::{ToolFilter, ToolList};
use serde_json::Value;

/// Budget for the full `tools/list` (cl100k tokens over the serialized array).
/// 12,000 plus 500 for the six `events` tools while the answer-projection
/// branch frees as much; back to 12,000 when both are merged.
const TOKEN_BUDGET: usize = 12_000;

fn tools_json() -> Value {
    serde_json::to_value(ToolList::new(&ToolFilter::default()).tools()).unwrap()
}

#[test]
fn full_tool_list_fits_the_token_budget() {
    // Serialized exactly as tools/list sends it (struct field order).
    let serialized = serde_json::to_string(ToolList::new(&ToolFilter::default()).tools()).unwrap();
    let bpe = tiktoken_rs::cl100k_base().unwrap();
    let tokens = bpe.encode_with_special_tokens(&serialized).len();
    let count = FUNCTIONS.len() + LOCAL_TOOLS.len();
    println!("tools/list: {count} tools, {} bytes, {tokens} cl100k tokens (budget {TOKEN_BUDGET})", serialized.len());
    assert!(tokens <= TOKEN_BUDGET, "tools/list is {tokens} tokens, over the {TOKEN_BUDGET} budget");
}

#[test]
fn the_catalogue_has_the_documented_number_of_functions() {
    assert_eq!(
        FUNCTIONS.len(),
        common::DOCUMENTED_TOOL_COUNT,
        "a function was added or removed: update DOCUMENTED_TOOL_COUNT and the counts in README.md and ARCHITECTURE.md"
    );
}

#[test]
fn annotations_follow_the_effect() {
    let tools = ToolList::new(&ToolFilter::default());
    assert_eq!(tools.tools().len(), FUNCTIONS.len() + LOCAL_TOOLS.len(), "every function, then the local tools");
    for (tool, function) in tools.tools().iter().zip(digistore24_mcp::catalog::all_tools()) {
        assert_eq!(tool.name, function.name);
        let a = tool.annotations.as_ref().unwrap();
        assert_eq!(a.open_world_hint, None, "left at the MCP default, true");
        match function.effect {
            Effect::Read => assert_eq!((a.read_only_hint, a.destructive_hint), (Some(true), None), "{}", function.name),
            // readOnlyHint false is the MCP default, so writes leave it out; destructiveHint false is not.
            Effect::Write => assert_eq!((a.read_only_hint, a.destructive_hint), (None, Some(false)), "{}", function.name),
            Effect::Destructive => assert_eq!((a.read_only_hint, a.destructive_hint), (None, Some(true)), "{}", function.name),
        }
        // Left at the MCP default (false) even where the catalogue knows a
        // write is idempotent: the budget went to the events toolset.
        assert_eq!(a.idempotent_hint, None, "{}", function.name);
    }
    let by_name = |n: &str| tools.tools().iter().find(|t| t.name == n).unwrap().annotations.clone().unwrap();
    assert_eq!(by_name("refundPurchase").destructive_hint, Some(true));
    assert_eq!(by_name("listPurchases").read_only_hint, Some(true));
}

#[test]
fn schemas_are_objects_with_required_params() {
    for tool in ToolList::new(&ToolFilter::default()).tools() {
        assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
        assert!(tool.description.as_ref().is_some_and(|d| d.len() >= 30));
    }
    let tools = tools_json();
    let buy_url = tools.as_array().unwrap().iter().find(|t| t["name"] == "createBuyUrl").unwrap();
    assert_eq!(buy_url["inputSchema"]["required"], serde_json::json!(["product_id"]));
    assert_eq!(buy_url["inputSchema"]["properties"]["addons"]["type"], "array");
    assert_eq!(buy_url["inputSchema"]["properties"]["addons"]["items"]["type"], "object");
}

#[test]
fn tools_json_subcommand_prints_exactly_the_tools_array() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_digistore24-mcp")).args(["tools", "--json"]).output().unwrap();
    assert!(output.status.success());
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(printed, tools_json());
}

#[test]
fn tools_table_and_filters() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_digistore24-mcp"))
        .args(["tools", "--read-only", "--toolsets", "purchases,billing"])
        .output()
        .unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.contains("listPurchases") && table.contains("listRebillingStatusChanges"));
    assert!(!table.contains("refundPurchase") && !table.contains("listProducts"));
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_digistore24-mcp")).args(["tools", "--toolsets", "nope"]).output().unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown toolset `nope`"));
}

#[test]
fn every_single_toolset_costs_at_most_2000_tokens() {
    let bpe = tiktoken_rs::cl100k_base().unwrap();
    for set in digistore24_mcp::catalog::TOOLSETS.iter().chain([&digistore24_mcp::catalog::LOCAL_TOOLSET]) {
        let filter = ToolFilter { toolsets: Some([set.to_string()].into()), ..ToolFilter::default() };
        let list = ToolList::new(&filter);
        let tokens = bpe.encode_with_special_tokens(&serde_json::to_string(list.tools()).unwrap()).len();
        println!("{set:<17} {:>3} tools {tokens:>5} tokens", list.tools().len());
        assert!(tokens <= 2000, "toolset {set} costs {tokens} tokens");
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_digistore24-mcp")).args(["tools", "--cost"]).output().unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(table.lines().any(|l| l.starts_with("purchases")) && table.lines().any(|l| l.starts_with("all")), "{table}");
}
