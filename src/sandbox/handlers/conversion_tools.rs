//! Handlers of the `conversion_tools` toolset: conversion widgets and smart
//! upgrades.
//!
//! Owns: the answers only. Must not touch: HTTP, account state (only reads).

use super::common::{Ctx, Res};
use crate::sandbox::args::Args;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Map, Value, json};

const TOOL_TYPES: &[&str] = &["smartupgrade", "socialproof_box", "socialproof_bubble", "countdown", "trust_badge"];

fn plural(kind: &str) -> String {
    if kind.ends_with('x') { format!("{kind}es") } else { format!("{kind}s") }
}

/// listConversionTools: one list per requested tool type.
pub fn list_conversion_tools(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let types = args.csv("type");
    if types.is_empty() {
        return Err(ApiError::missing("type"));
    }
    let mut data = Map::new();
    for t in types {
        let t = t.to_ascii_lowercase();
        if !TOOL_TYPES.contains(&t.as_str()) {
            return Err(ApiError::params(format!("Invalid value '{t}' in type; allowed: {}", TOOL_TYPES.join(", "))));
        }
        let list: Vec<Value> = a.conversion_tools.values().filter(|c| c.kind == t).map(views::conversion_tool).collect();
        data.insert(plural(&t), json!(list));
    }
    Ok(Value::Object(data))
}

/// listSmartUpgrades: the smart-upgrade widgets.
pub fn list_smart_upgrades(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(
        json!({"smartupgrades": a.conversion_tools.values().filter(|c| c.kind == "smartupgrade").map(views::conversion_tool).collect::<Vec<_>>()}),
    )
}

/// getSmartupgrade: one smart-upgrade widget, rendered for orders when given.
pub fn get_smartupgrade(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let raw = args.req_str("smartupgrade_id")?;
    let tool = raw
        .parse::<u64>()
        .ok()
        .and_then(|id| a.conversion_tools.get(&id))
        .filter(|c| c.kind == "smartupgrade")
        .ok_or_else(|| ApiError::no_such("Smart upgrade", raw))?;
    let mut v = views::conversion_tool(tool);
    let orders = args.csv("purchase_id");
    if !orders.is_empty() {
        for o in &orders {
            a.purchase_or_404(o)?;
        }
        let target = tool.upgrade_to_product_id.map(|p| a.product_name(p)).unwrap_or_default();
        v["html"] = json!(format!(
            "<div class=\"ds24-smartupgrade\" data-id=\"{}\"><h3>{}</h3><p>Upgrade now to {target}.</p><a href=\"{SITE_URL}/smartupgrade/{}-{}/{}\">Upgrade</a></div>",
            tool.id,
            tool.name,
            tool.id,
            tool.authkey,
            orders.join(",")
        ));
    }
    Ok(v)
}
