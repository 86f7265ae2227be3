//! Handlers of the `etickets` toolset: issuing, reading and checking in
//! e-tickets, and their locations, templates and settings.
//!
//! Owns: e-ticket issue and check-in. Must not touch: HTTP, orders and money
//! (free tickets book nothing).

use super::common::{Ctx, IdArg, Res, contains_ci, plausible_email};
use crate::sandbox::args::{Args, split_csv, yn};
use crate::sandbox::dates::{fmt_date, fmt_dt, parse_date};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::reference::delivery_type;
use crate::sandbox::views;
use chrono::Duration;
use serde_json::{Map, Value, json};

/// listEtickets: issued e-tickets, filtered by `search[...]`.
pub fn list_etickets(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let s = args.obj("search");
    let owners = s.csv("owner_id");
    if !owners.is_empty() && !owners.iter().any(|o| *o == a.vendor.user_id.to_string() || o.eq_ignore_ascii_case(&a.vendor.user_name)) {
        return Ok(json!({"etickets": []}));
    }
    let purchase_ids: Vec<String> = s.csv("purchase_id").into_iter().map(str::to_ascii_uppercase).collect();
    let templates = s.csv("template_id");
    let locations = s.csv("location_id");
    let date = s.date("date", ctx.now)?;
    let first = s.str("first_name");
    let last = s.str("last_name");
    let email = s.str("email");
    let list: Vec<Value> = a
        .etickets
        .values()
        .filter(|e| purchase_ids.is_empty() || purchase_ids.contains(&e.purchase_id))
        .filter(|e| templates.is_empty() || templates.contains(&e.template_id.to_string().as_str()))
        .filter(|e| locations.is_empty() || locations.contains(&e.location_id.to_string().as_str()))
        .filter(|e| date.is_none_or(|d| d >= e.date && d < e.date + Duration::days(e.days.max(1))))
        .filter(|e| first.is_none_or(|f| contains_ci(&e.first_name, f)))
        .filter(|e| last.is_none_or(|l| contains_ci(&e.last_name, l)))
        .filter(|e| email.is_none_or(|m| contains_ci(&e.email, m)))
        .map(views::eticket)
        .collect();
    Ok(json!({"etickets": list}))
}

const ETICKET_ID: IdArg = IdArg { name: "eticket_id", what: "E-ticket" };
const LOCATION_ID: IdArg = IdArg { name: "location_id", what: "E-ticket location" };
const TEMPLATE_ID: IdArg = IdArg { name: "template_id", what: "E-ticket template" };

/// getEticket: one e-ticket.
pub fn get_eticket(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, e) = ETICKET_ID.find(&a.etickets, args)?;
    Ok(json!({"eticket": views::eticket(e)}))
}

/// createEticket: issues free e-tickets for an event date.
pub fn create_eticket(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let buyer = args.obj("buyer");
    let email = buyer.req_str("email")?.to_string();
    if !plausible_email(&email) {
        return Err(ApiError::params(format!("Invalid e-mail address '{email}' in buyer[email]")));
    }
    let product = a.product_by_text(args.req_str("product_id")?)?.clone();
    if delivery_type(product.product_type_id) != "event" {
        return Err(ApiError::params(format!("Product {} is not an e-ticket (event) product", product.id)));
    }
    let (location, _) = LOCATION_ID.find(&a.eticket_locations, args)?;
    let (template, _) = TEMPLATE_ID.find(&a.eticket_templates, args)?;
    let date = args.date("date", ctx.now)?.ok_or_else(|| ApiError::missing("date"))?;
    let days = args.int("days")?.unwrap_or(1);
    let count = args.int("count")?.unwrap_or(1);
    if !(1..=365).contains(&days) {
        return Err(ApiError::params("Argument days must be between 1 and 365"));
    }
    if !(1..=100).contains(&count) {
        return Err(ApiError::params("Argument count must be between 1 and 100"));
    }
    if a.etickets.len() + count as usize > MAX_ITEMS {
        ensure_room(MAX_ITEMS, "e-tickets")?;
    }
    let salutation = buyer.one_of("salutation", &["m", "f", "M", "F"])?.map(str::to_ascii_uppercase).unwrap_or_default();
    let mut out = Vec::new();
    for no in 1..=count {
        let n = a.next_id("eticket");
        let id = format!("{:010}{:010}", a.vendor.user_id % 10_000_000_000, n);
        let e = Eticket {
            id: id.clone(),
            purchase_id: String::new(),
            product_id: product.id,
            location_id: location,
            template_id: template,
            date,
            days,
            note: args.str("note").unwrap_or("").to_string(),
            no,
            count,
            email: email.clone(),
            first_name: buyer.str("first_name").unwrap_or("").to_string(),
            last_name: buyer.str("last_name").unwrap_or("").to_string(),
            salutation: salutation.clone(),
            title: buyer.str("title").unwrap_or("").to_string(),
            language: product.language.clone(),
            used_at: None,
            is_blocked: false,
            created_at: ctx.now,
        };
        out.push(json!({"id": id, "url": format!("{SITE_URL}/eticket/file{id}.pdf"), "email": email}));
        a.etickets.insert(id, e);
    }
    Ok(json!({"etickets": out}))
}

/// validateEticket: checks a ticket against event data and checks it in when valid.
pub fn validate_eticket(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (id, e) = ETICKET_ID.find(&a.etickets, args)?;
    let e = e.clone();
    let templates = args.csv("template_id");
    let locations = args.csv("location_id");
    if templates.is_empty() {
        return Err(ApiError::missing("template_id"));
    }
    if locations.is_empty() {
        return Err(ApiError::missing("location_id"));
    }
    let sep = args.raw_str("seperator").filter(|s| !s.is_empty()).unwrap_or(" ").to_string();
    let mut dates = Vec::new();
    for d in split_csv(args.str("date").unwrap_or("today")) {
        dates.push(parse_date(d, ctx.now).map_err(|e| ApiError::params(format!("Argument date: {e}")))?);
    }
    let on_day = |d: chrono::NaiveDate| d >= e.date && d < e.date + Duration::days(e.days.max(1));
    let matches_event = templates.contains(&e.template_id.to_string().as_str())
        && locations.contains(&e.location_id.to_string().as_str())
        && dates.iter().any(|d| on_day(*d));
    let (status, msg) = if e.is_blocked {
        ("error", format!("Ticket{sep}{id}{sep}is blocked"))
    } else if !matches_event {
        (
            "error",
            format!(
                "Ticket{sep}{id}{sep}is valid for a different event ({}{sep}{})",
                fmt_date(e.date),
                a.eticket_locations.get(&e.location_id).map(|l| l.name.clone()).unwrap_or_default()
            ),
        )
    } else if let Some(used) = e.used_at {
        ("error", format!("Ticket{sep}{id}{sep}was already used at{sep}{}", fmt_dt(used)))
    } else {
        ("success", format!("Ticket{sep}{id}{sep}is valid{sep}-{sep}{} {}", e.first_name, e.last_name))
    };
    if status == "success"
        && let Some(t) = a.etickets.get_mut(&id)
    {
        t.used_at = Some(ctx.now);
    }
    let same_event: Vec<&Eticket> = a
        .etickets
        .values()
        .filter(|t| t.template_id == e.template_id && t.location_id == e.location_id && t.date == e.date && !t.is_blocked)
        .collect();
    Ok(json!({
        "status": status,
        "msg": msg,
        "eticket_id": id,
        "eticket_location_id": e.location_id.to_string(),
        "eticket_template_id": e.template_id.to_string(),
        "eticket_date": fmt_date(e.date),
        "is_eticket_valid_for_different_event": yn(!matches_event && !e.is_blocked),
        "valid_ticket_count": same_event.iter().filter(|t| t.used_at.is_none()).count(),
        "used_ticket_count": same_event.iter().filter(|t| t.used_at.is_some()).count(),
    }))
}

/// getEticketSettings: owners, templates and locations, keyed by owner id.
pub fn get_eticket_settings(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let owner = a.vendor.user_id.to_string();
    let templates: Map<String, Value> = a.eticket_templates.values().map(|t| (t.id.to_string(), json!(t.name))).collect();
    let locations: Map<String, Value> = a.eticket_locations.values().map(|l| (l.id.to_string(), json!(l.name))).collect();
    Ok(json!({
        "eticket_owners": {owner.clone(): a.vendor.user_name},
        "eticket_templates": {owner.clone(): templates},
        "eticket_locations": {owner: locations},
    }))
}

/// listEticketLocations: the event locations.
pub fn list_eticket_locations(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(
        json!({"items": a.eticket_locations.values().map(|l| json!({"id": l.id.to_string(), "name": l.name, "address": l.address})).collect::<Vec<_>>()}),
    )
}

/// listEticketTemplates: the ticket templates.
pub fn list_eticket_templates(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(
        json!({"items": a.eticket_templates.values().map(|t| json!({"id": t.id.to_string(), "name": t.name, "created_at": fmt_dt(t.created_at), "modified_at": fmt_dt(t.modified_at)})).collect::<Vec<_>>()}),
    )
}
