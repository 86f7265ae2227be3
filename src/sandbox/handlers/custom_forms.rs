//! Handlers of the `custom_forms` toolset: records of custom order-form fields.
//!
//! Owns: the answer only. Must not touch: HTTP, account state (only reads).

use super::common::{Ctx, Res};
use crate::sandbox::args::Args;
use crate::sandbox::model::*;
use serde_json::{Map, Value, json};

/// listCustomFormRecords: data buyers entered in additional order-form fields.
pub fn list_custom_form_records(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let pid = args.str("purchase_id");
    if let Some(p) = pid {
        a.purchase_or_404(p)?;
    }
    let list: Vec<Value> = a
        .custom_forms
        .values()
        .filter(|r| pid.is_none_or(|p| p == r.purchase_id))
        .map(|r| {
            let address: Map<String, Value> = r
                .data
                .iter()
                .filter(|(k, _)| ["first_name", "last_name", "email"].contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect();
            json!({
                "id": r.id.to_string(),
                "form_id": r.form_id.to_string(),
                "purchase_id": r.purchase_id,
                "purchase_item_id": r.purchase_item_id.to_string(),
                "product_id": r.product_id.to_string(),
                "form_no": r.form_no.to_string(),
                "form_count": r.form_count.to_string(),
                "data": r.data,
                "address": address,
            })
        })
        .collect();
    Ok(json!({"records": list}))
}
