//! Handlers of the `buyers` toolset: reading, listing and updating buyers.
//!
//! Owns: buyer address and contact changes. Must not touch: HTTP, orders.

use super::common::{Ctx, IdArg, Page, Res, plausible_email};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Map, Value, json};

const BUYER_ID: IdArg = IdArg { name: "buyer_id", what: "Buyer" };

/// getBuyer: one buyer's contact and address record.
pub fn get_buyer(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, buyer) = BUYER_ID.find(&a.buyers, args)?;
    Ok(json!({"buyer": views::buyer(buyer)}))
}

/// listBuyers: all buyers, paged (by id).
pub fn list_buyers(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let page = Page::from_args(args, a.buyers.len(), 100, 1000, false)?;
    let range = page.range();
    let items: Vec<Value> = a.buyers.values().skip(range.start).take(range.len()).map(views::buyer).collect();
    let mut data = Map::new();
    page.write(&mut data);
    data.insert("items".into(), json!(items));
    Ok(Value::Object(data))
}

/// updateBuyer: changes contact data; an empty phone_number clears it.
pub fn update_buyer(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, b) = BUYER_ID.find_mut(&mut a.buyers, args)?;
    let data = args.obj("data");
    if !args.has_obj("data") {
        return Err(ApiError::missing("data"));
    }
    if let Some(e) = data.str("email")
        && !plausible_email(e)
    {
        return Err(ApiError::params(format!("Invalid e-mail address '{e}' in data[email]")));
    }
    let salutation = match data.raw_str("salutation").map(str::trim) {
        Some(s) if !["", "M", "F"].contains(&s) => {
            return Err(ApiError::params(format!("Invalid value '{s}' for argument data[salutation]; allowed: (empty), M, F")));
        }
        other => other.map(str::to_string),
    };
    if let Some(c) = data.str("country")
        && (c.len() != 2 || !c.chars().all(|x| x.is_ascii_alphabetic()))
    {
        return Err(ApiError::params(format!("Invalid data[country] '{c}'; use a two-letter ISO code such as DE")));
    }
    let before = format!("{b:?}");
    if let Some(s) = salutation {
        b.salutation = s;
    }
    for (field, slot) in [
        ("email", &mut b.email),
        ("first_name", &mut b.first_name),
        ("last_name", &mut b.last_name),
        ("title", &mut b.title),
        ("company", &mut b.company),
        ("street_name", &mut b.street_name),
        ("street_number", &mut b.street_number),
        ("city", &mut b.city),
        ("zipcode", &mut b.zipcode),
        ("state", &mut b.state),
    ] {
        if let Some(v) = data.str(field) {
            *slot = v.to_string();
        }
    }
    if let Some(c) = data.str("country") {
        b.country = c.to_ascii_uppercase();
    }
    if let Some(p) = data.raw_str("phone_number") {
        b.phone_no = p.trim().to_string();
    }
    Ok(json!({"is_modified": yn(before != format!("{b:?}"))}))
}
