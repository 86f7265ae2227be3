//! Handlers of the `marketplace` toolset: the account's marketplace entries.
//!
//! Owns: the answers only. Must not touch: HTTP, account state (only reads).

use super::common::{Ctx, Res};
use crate::sandbox::args::Args;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;

/// listMarketplaceEntries: the vendor's listings with statistics.
pub fn list_marketplace_entries(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let mut list: Vec<&MarketplaceEntry> = a.marketplace.values().collect();
    match args.str("sort_by").unwrap_or("id") {
        "stars" | "stats_stars" => list.sort_by(|x, y| y.stars.cmp(&x.stars).then(x.id.cmp(&y.id))),
        "rank" | "seller_rank" | "stats_seller_rank" => list.sort_by_key(|m| (m.seller_rank, m.id)),
        "headline" | "name" => list.sort_by(|x, y| x.headline.cmp(&y.headline)),
        _ => {}
    }
    Ok(json!({"entries": list.iter().map(|m| views::marketplace_entry(a, m)).collect::<Vec<_>>()}))
}

/// getMarketplaceEntry: one listing with statistics (fields at the top level of `data`).
pub fn get_marketplace_entry(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let raw = args.req_str("entry_id")?;
    let m = raw.parse::<u64>().ok().and_then(|id| a.marketplace.get(&id)).ok_or_else(|| ApiError::no_such("Marketplace entry", raw))?;
    Ok(views::marketplace_entry(a, m))
}
