//! Handlers of the `upsells` toolset: the upsell funnel of a main product.
//!
//! Owns: upsell positions. Must not touch: HTTP, the products themselves.

use super::common::{Ctx, Res, product_arg};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// getUpsells: the upsell funnel of a main product.
pub fn get_upsells(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, product) = product_arg(a, args)?;
    let upsells: serde_json::Map<String, Value> =
        a.upsells.get(&id).map(|f| f.iter().map(|(k, v)| (k.clone(), json!(v.to_string()))).collect()).unwrap_or_default();
    Ok(json!({
        "product_id": id.to_string(),
        "upsells": upsells,
        "product_options": {"is_upsell_double_purchase_prevented": "Y", "upsell_salespage_url": product.upsell_salespage_url},
    }))
}

fn valid_position(code: &str) -> bool {
    (1..=5).contains(&code.len()) && code.starts_with('y') && code.chars().all(|c| c == 'y' || c == 'n')
}

/// updateUpsells: replaces the funnel with the given positions (`data[y]=51`).
pub fn update_upsells(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, _) = product_arg(a, args)?;
    // The argument shape is unconfirmed; accept data[y]=… and flat y=….
    let mut entries: Vec<(String, String)> =
        args.entries("data").into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.trim().to_string()))).collect();
    if entries.is_empty() {
        entries = args.keys().filter(|k| valid_position(k)).filter_map(|k| args.str(k).map(|v| (k.clone(), v.to_string()))).collect();
    }
    if entries.is_empty() {
        return Err(ApiError::missing("data"));
    }
    let mut funnel = BTreeMap::new();
    for (pos, pid) in entries {
        if !valid_position(&pos) {
            return Err(ApiError::params(format!(
                "Invalid upsell position '{pos}' in data; positions have 1 to 5 letters y/n and start with y (y, yy, yn, ...)"
            )));
        }
        if pid.is_empty() {
            continue;
        }
        let target = a.product_by_text(&pid)?.id;
        if target == id {
            return Err(ApiError::params(format!("Product {id} cannot be its own upsell (data[{pos}])")));
        }
        funnel.insert(pos, target);
    }
    let modified = a.upsells.get(&id) != Some(&funnel);
    if funnel.is_empty() {
        a.upsells.remove(&id);
    } else {
        a.upsells.insert(id, funnel);
    }
    Ok(json!({"is_modified": yn(modified)}))
}

/// deleteUpsells: removes the funnel of a main product.
pub fn delete_upsells(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (id, _) = product_arg(a, args)?;
    let modified = a.upsells.remove(&id).is_some();
    Ok(json!({"is_modified": yn(modified)}))
}
