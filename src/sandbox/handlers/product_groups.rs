//! Handlers of the `product_groups` toolset: the folders products are sorted
//! into.
//!
//! Owns: product groups. Must not touch: HTTP, products beyond their group
//! field.

use super::common::{Ctx, IdArg, Res, set_if_changed};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;

/// listProductGroups: the product folders, by position.
pub fn list_product_groups(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let mut groups: Vec<&ProductGroup> = a.product_groups.values().collect();
    groups.sort_by_key(|g| (g.position, g.id));
    Ok(json!({"items": groups.iter().map(|g| views::product_group(a, g)).collect::<Vec<_>>()}))
}

const PRODUCT_GROUP_ID: IdArg = IdArg { name: "product_group_id", what: "Product group" };

/// getProductGroup: one product group.
pub fn get_product_group(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, g) = PRODUCT_GROUP_ID.find(&a.product_groups, args)?;
    Ok(json!({"product_group": views::product_group(a, g)}))
}

fn apply_group_fields(g: &mut ProductGroup, data: Args<'_>) -> Result<bool, ApiError> {
    let mut m = false;
    if let Some(n) = data.str("name") {
        if n.chars().count() > 31 {
            return Err(ApiError::params("data[name] may have at most 31 characters"));
        }
        set_if_changed(&mut g.name, n.to_string(), &mut m);
    }
    if let Some(p) = data.int("position")? {
        set_if_changed(&mut g.position, p, &mut m);
    }
    if let Some(t) = data.bool("is_shown_as_tab")? {
        set_if_changed(&mut g.is_shown_as_tab, t, &mut m);
    }
    Ok(m)
}

/// createProductGroup: a new folder.
pub fn create_product_group(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.product_groups.len(), "product groups")?;
    let data = args.obj("data");
    data.req_str("name")?;
    let mut g =
        ProductGroup { id: 0, name: String::new(), position: 10, is_shown_as_tab: false, created_at: ctx.now, modified_at: ctx.now };
    apply_group_fields(&mut g, data)?;
    g.id = a.next_id("product_group");
    let id = g.id;
    a.product_groups.insert(id, g);
    Ok(json!({"product_group_id": id.to_string()}))
}

/// updateProductGroup: renames or re-orders a folder.
pub fn update_product_group(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (_, g) = PRODUCT_GROUP_ID.find_mut(&mut a.product_groups, args)?;
    let m = apply_group_fields(g, args.obj("data"))?;
    if m {
        g.modified_at = ctx.now;
    }
    Ok(json!({"is_modified": yn(m)}))
}

/// deleteProductGroup: removes a folder; its products move out of it.
pub fn delete_product_group(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (id, _) = PRODUCT_GROUP_ID.take(&mut a.product_groups, args)?;
    let mut moved = 0;
    for p in a.products.values_mut().filter(|p| p.product_group_id == Some(id)) {
        p.product_group_id = None;
        p.modified_at = ctx.now;
        moved += 1;
    }
    Ok(json!({"product_group_id": id.to_string(), "is_deleted": "Y", "products_ungrouped": moved}))
}
