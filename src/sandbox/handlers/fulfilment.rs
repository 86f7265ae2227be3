//! Handlers of the fulfilment toolsets: `deliveries`, `etickets`, `images`,
//! `invoices`, `service_proofs`, `custom_forms` and `licenses`.
//!
//! Owns: delivery states and parcels, e-ticket issue and check-in, uploaded
//! images, invoice lists (derived from transactions), service proof answers,
//! custom form records and license checks. Must not touch: HTTP, other accounts;
//! a refund executed through a service proof goes through `purchases::refund_all`.

use super::purchases::refund_all;
use super::views;
use super::{Ctx, Res, check_public_https};
use crate::sandbox::args::{Args, money, split_csv, yn};
use crate::sandbox::dates::{Bound, fmt_date, fmt_dt, fmt_opt_date, fmt_opt_dt};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::seed::delivery_type;
use chrono::Duration;
use serde_json::{Map, Value, json};

// ── deliveries ────────────────────────────────────────────────────────────

const DELIVERY_TYPES: &[&str] = &["request", "in_progress", "delivery", "partial_delivery", "return", "cancel"];

/// listDeliveries: physical deliveries, filtered by `search[...]`.
pub fn list_deliveries(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let s = args.obj("search");
    let purchase_ids: Vec<String> = s.csv("purchase_id").into_iter().map(str::to_ascii_uppercase).collect();
    let from = s.point("from", ctx.now, Bound::Lower)?;
    let to = s.point("to", ctx.now, Bound::Upper)?;
    let types: Vec<&str> = s.csv("type");
    for t in &types {
        if !DELIVERY_TYPES.contains(t) {
            return Err(ApiError::params(format!("Invalid value '{t}' in search[type]; allowed: {}", DELIVERY_TYPES.join(", "))));
        }
    }
    let same_address = match s.str("same_address_as") {
        None => None,
        Some(raw) => {
            let d = raw.parse::<u64>().ok().and_then(|id| a.deliveries.get(&id)).ok_or_else(|| ApiError::no_such("Delivery", raw))?;
            let buyer = a.purchase(&d.purchase_id).and_then(|p| a.buyers.get(&p.buyer_id)).map(|b| b.address_id);
            Some(buyer)
        }
    };
    let processed = s.bool("is_processed")?;
    let test = s.bool("is_test_order")?;
    let list: Vec<Value> = a
        .deliveries
        .values()
        .filter(|d| purchase_ids.is_empty() || purchase_ids.contains(&d.purchase_id))
        .filter(|d| from.is_none_or(|f| d.created_at >= f) && to.is_none_or(|t| d.created_at <= t))
        .filter(|d| types.is_empty() || types.contains(&d.kind.as_str()))
        .filter(|d| processed.is_none_or(|p| d.processed_at.is_some() == p))
        .filter(|d| test.is_none_or(|t| d.is_test == t))
        .filter(|d| match same_address {
            None => true,
            Some(addr) => a.purchase(&d.purchase_id).and_then(|p| a.buyers.get(&p.buyer_id)).map(|b| b.address_id) == addr,
        })
        .map(|d| views::delivery(a, d))
        .collect();
    Ok(json!({"delivery": list}))
}

fn delivery_id(a: &Account, args: Args<'_>) -> Result<u64, ApiError> {
    let raw = args.req_str("delivery_id")?;
    raw.parse::<u64>().ok().filter(|i| a.deliveries.contains_key(i)).ok_or_else(|| ApiError::no_such("Delivery", raw))
}

/// getDelivery: one delivery; optionally flags it as in progress.
pub fn get_delivery(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = delivery_id(a, args)?;
    let set = args.bool_or("set_in_progress", false)?;
    let (mut done, mut reason) = (false, String::new());
    if set {
        let d = a.deliveries.get_mut(&id).expect("checked");
        if d.kind == "request" {
            d.kind = "in_progress".into();
            d.processed_at = Some(ctx.now);
            d.processed_by = "api".into();
            d.modified_at = ctx.now;
            done = true;
        } else {
            reason = format!("The delivery is already in state '{}'", d.kind);
        }
    }
    Ok(json!({"delivery": views::delivery(a, &a.deliveries[&id]), "is_set_in_progress": yn(done), "set_in_progress_fail_reason": reason}))
}

/// updateDelivery: state, delivered quantity and parcel tracking numbers.
pub fn update_delivery(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = delivery_id(a, args)?;
    let notify = args.bool_or("notify_via_email", true)?;
    let data = args.obj("data");
    let kind = data.one_of("type", DELIVERY_TYPES)?.map(str::to_string);
    let shipped = data.bool("is_shipped")?;
    let qty = data.int("quantity_delivered")?;
    let add = data.int("add_quantity_delivered")?;
    let reseller = data.str("is_shipped_by_reseller_from").map(str::to_string);
    let mut ops = Vec::new();
    for (i, v) in args.list("tracking").iter().enumerate() {
        let t = Args::element(v);
        let op = t.one_of("operation", &["create_or_update", "delete"])?.unwrap_or("create_or_update").to_string();
        let tracking_id = t.str("tracking_id").ok_or_else(|| ApiError::missing(&format!("tracking[{i}][tracking_id]")))?.to_string();
        let service = t.str("parcel_service").unwrap_or("other").to_ascii_lowercase();
        let expect = t.date("expect_delivery_at", ctx.now)?;
        let q = t.int("quantity")?;
        ops.push((op, Parcel { parcel_service: service, tracking_id, expect_delivery_at: expect, quantity: q.unwrap_or(0) }));
    }
    let d = a.deliveries.get_mut(&id).expect("checked");
    let before = format!("{d:?}");
    if let Some(k) = kind {
        d.kind = k;
    }
    match shipped {
        Some(true) => {
            d.kind = "delivery".into();
            d.quantity_delivered = d.quantity;
        }
        Some(false) => d.kind = "cancel".into(),
        None => {}
    }
    if let Some(q) = qty {
        if !(0..=d.quantity).contains(&q) {
            return Err(ApiError::params(format!("data[quantity_delivered] must be between 0 and {}", d.quantity)));
        }
        d.quantity_delivered = q;
    }
    if let Some(q) = add {
        let n = d.quantity_delivered + q;
        if !(0..=d.quantity).contains(&n) {
            return Err(ApiError::params(format!(
                "data[add_quantity_delivered] would make the delivered quantity {n}, outside 0..{}",
                d.quantity
            )));
        }
        d.quantity_delivered = n;
    }
    if let Some(r) = reseller {
        d.shipped_by_reseller_from = r;
    }
    for (op, mut parcel) in ops {
        let pos = d.parcels.iter().position(|p| p.tracking_id == parcel.tracking_id);
        match (op.as_str(), pos) {
            ("delete", Some(i)) => {
                d.parcels.remove(i);
            }
            ("delete", None) => {}
            (_, Some(i)) => {
                if parcel.quantity == 0 {
                    parcel.quantity = d.parcels[i].quantity;
                }
                d.parcels[i] = parcel;
            }
            (_, None) => {
                if d.parcels.len() >= 100 {
                    return Err(ApiError::params("A delivery holds at most 100 parcels"));
                }
                if parcel.quantity == 0 {
                    parcel.quantity = d.quantity;
                }
                d.parcels.push(parcel);
            }
        }
    }
    if d.kind != "request" && d.processed_at.is_none() {
        d.processed_at = Some(ctx.now);
        d.processed_by = "api".into();
    }
    let modified = before != format!("{d:?}");
    if modified {
        d.modified_at = ctx.now;
        if notify {
            d.notifications += 1;
        }
    }
    Ok(json!({"is_modified": yn(modified)}))
}

// ── e-tickets ─────────────────────────────────────────────────────────────

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
        .filter(|e| first.is_none_or(|f| super::contains_ci(&e.first_name, f)))
        .filter(|e| last.is_none_or(|l| super::contains_ci(&e.last_name, l)))
        .filter(|e| email.is_none_or(|m| super::contains_ci(&e.email, m)))
        .map(views::eticket)
        .collect();
    Ok(json!({"etickets": list}))
}

fn eticket_id<'a>(a: &Account, args: Args<'a>) -> Result<&'a str, ApiError> {
    let id = args.req_str("eticket_id")?;
    if a.etickets.contains_key(id) { Ok(id) } else { Err(ApiError::no_such("E-ticket", id)) }
}

/// getEticket: one e-ticket.
pub fn get_eticket(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = eticket_id(a, args)?;
    Ok(json!({"eticket": views::eticket(&a.etickets[id])}))
}

/// createEticket: issues free e-tickets for an event date.
pub fn create_eticket(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let buyer = args.obj("buyer");
    let email = buyer.req_str("email")?.to_string();
    if !super::buyers::plausible_email(&email) {
        return Err(ApiError::params(format!("Invalid e-mail address '{email}' in buyer[email]")));
    }
    let product = a.product_by_text(args.req_str("product_id")?)?.clone();
    if delivery_type(product.product_type_id) != "event" {
        return Err(ApiError::params(format!("Product {} is not an e-ticket (event) product", product.id)));
    }
    let loc_raw = args.req_str("location_id")?;
    let location = loc_raw
        .parse::<u64>()
        .ok()
        .filter(|i| a.eticket_locations.contains_key(i))
        .ok_or_else(|| ApiError::no_such("E-ticket location", loc_raw))?;
    let tpl_raw = args.req_str("template_id")?;
    let template = tpl_raw
        .parse::<u64>()
        .ok()
        .filter(|i| a.eticket_templates.contains_key(i))
        .ok_or_else(|| ApiError::no_such("E-ticket template", tpl_raw))?;
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
    let id = eticket_id(a, args)?.to_string();
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
        dates.push(crate::sandbox::dates::parse_date(d, ctx.now).map_err(|e| ApiError::params(format!("Argument date: {e}")))?);
    }
    let e = a.etickets[&id].clone();
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

// ── images ────────────────────────────────────────────────────────────────

const USAGE_TYPES: &[&str] = &["product", "orderform_header", "orderform_widget_tab", "orderform_favicon", "marketplace", "email"];

/// listImages: uploaded images of one usage type (`all` lists every image).
pub fn list_images(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let usage = args.req_str("usage_type")?;
    if usage != "all" && !USAGE_TYPES.contains(&usage) {
        return Err(ApiError::params(format!("Invalid value '{usage}' for argument usage_type; allowed: all, {}", USAGE_TYPES.join(", "))));
    }
    Ok(json!({"images": a.images.values().filter(|i| usage == "all" || i.usage_type == usage).map(views::image).collect::<Vec<_>>()}))
}

fn image_id<'a>(a: &Account, args: Args<'a>) -> Result<&'a str, ApiError> {
    let id = args.req_str("image_id")?;
    if a.images.contains_key(id) { Ok(id) } else { Err(ApiError::no_such("Image", id)) }
}

/// getImage: one image.
pub fn get_image(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = image_id(a, args)?;
    Ok(json!({"image": views::image(&a.images[id])}))
}

/// createImage: imports an image from a public URL (`data[image-url]`).
pub fn create_image(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.images.len(), "images")?;
    let data = args.obj("data");
    let name = data.req_str("name")?.to_string();
    if name.chars().count() > 63 {
        return Err(ApiError::params("data[name] may have at most 63 characters"));
    }
    let source = data.req_str("image-url")?.to_string();
    check_public_https("data[image-url]", &source)?;
    let usage = data.str("usage_type").unwrap_or("product").to_string();
    if !USAGE_TYPES.contains(&usage.as_str()) {
        return Err(ApiError::params(format!("Invalid value '{usage}' for data[usage_type]; allowed: {}", USAGE_TYPES.join(", "))));
    }
    let ext = source
        .rsplit('.')
        .next()
        .map(|e| e.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase())
        .filter(|e| ["png", "jpg", "jpeg", "gif", "webp"].contains(&e.as_str()))
        .unwrap_or_else(|| "png".into());
    let id = loop {
        let candidate = a.random_string(8, b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ");
        if !a.images.contains_key(&candidate) {
            break candidate;
        }
    };
    let url = format!("https://cdn.sandbox-ds24.example/merchant_{}/image/{usage}/{id}.{ext}", a.vendor.user_id);
    a.images.insert(
        id.clone(),
        Image {
            id: id.clone(),
            name,
            url: url.clone(),
            source_url: source,
            usage_type: usage,
            alt_tag: data.str("alt_tag").unwrap_or("").to_string(),
            width: 100,
            height: 100,
            file_extension: ext,
            created_at: ctx.now,
        },
    );
    Ok(json!({"image_id": id, "image_url": url}))
}

/// deleteImage: removes an image.
pub fn delete_image(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = image_id(a, args)?.to_string();
    a.images.remove(&id);
    Ok(json!({"image_id": id, "is_deleted": "Y"}))
}

// ── invoices ──────────────────────────────────────────────────────────────

/// listInvoices: one invoice per payment and one credit note per refund of an order.
pub fn list_invoices(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let p = a.purchase_or_404(id)?;
    let list: Vec<Value> = a
        .purchase_transactions(&p.id)
        .filter(|t| !t.is_test)
        .map(|t| {
            let label = if t.kind == TxKind::Payment { "Invoice" } else { "Credit note" };
            json!({
                "invoice_id": (t.id % 10_000_000).to_string(),
                "invoice_date": fmt_date(t.created_at.date()),
                "invoice_url": format!("{SITE_URL}/invoice/{}/{}/{}.pdf", p.id, t.id, &p.id[..4]),
                "invoice_label": format!("{label} no. {} - {} - {} {}", t.id % 10_000_000, fmt_date(t.created_at.date()), money(t.amount), t.currency),
                "pay_method": t.pay_method,
                "pay_method_msg": views::pay_method_msg(&t.pay_method),
                "purchase_id": p.id,
                "transaction_id": t.id.to_string(),
                "type": t.kind.as_str(),
                "amount": money(t.amount),
                "currency": t.currency,
            })
        })
        .collect();
    Ok(json!({"purchase_id": p.id, "invoice_list": list}))
}

/// resendInvoiceMail: "e-mails" all invoices of an order to the buyer again.
pub fn resend_invoice_mail(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let p = a.purchase_mut(id).ok_or_else(|| ApiError::no_such("Purchase", id))?;
    if p.is_test {
        return Ok(json!({"status": "error", "note": format!("Order '{id}' is a test order and has no invoices")}));
    }
    p.mails_sent += 1;
    let buyer = p.buyer_id;
    let email = a.buyers.get(&buyer).map(|b| b.email.clone()).unwrap_or_default();
    Ok(json!({"status": "success", "note": format!("All invoices of order '{id}' were sent to {email}")}))
}

// ── service proofs ────────────────────────────────────────────────────────

/// listServiceProofRequests: proof requests, filtered by `search[...]`.
pub fn list_service_proof_requests(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let s = args.obj("search");
    let pid = s.str("purchase_id").map(str::to_ascii_uppercase);
    let product = s.int("product_id")?;
    let dt = s.one_of("delivery_type", &["digital", "shipping", "service", "event", "download"])?;
    let ap = s.one_of("approval_status", &["new", "pending", "approved", "rejected"])?;
    let rs = s.one_of("request_status", &["pending", "proof_provided", "exec_refund"])?;
    let list: Vec<Value> = a
        .service_proofs
        .values()
        .filter(|x| pid.as_ref().is_none_or(|p| *p == x.purchase_id))
        .filter(|x| product.is_none_or(|p| p as u64 == x.product_id))
        .filter(|x| dt.is_none_or(|d| d == x.delivery_type))
        .filter(|x| ap.is_none_or(|v| v == x.approval_status))
        .filter(|x| rs.is_none_or(|v| v == x.request_status))
        .map(views::service_proof)
        .collect();
    Ok(json!({"items": list}))
}

fn proof_id(a: &Account, args: Args<'_>) -> Result<u64, ApiError> {
    let raw = args.req_str("service_proof_id")?;
    raw.parse::<u64>().ok().filter(|i| a.service_proofs.contains_key(i)).ok_or_else(|| ApiError::no_such("Service proof request", raw))
}

/// getServiceProofRequest: one proof request.
pub fn get_service_proof_request(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = proof_id(a, args)?;
    Ok(json!({"service_proof_request": views::service_proof(&a.service_proofs[&id])}))
}

/// updateServiceProofRequest: supplies proof, or agrees to the refund (`exec_refund`).
pub fn update_service_proof_request(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = proof_id(a, args)?;
    let data = args.obj("data");
    let status = data
        .one_of("request_status", &["proof_provided", "exec_refund"])?
        .ok_or_else(|| ApiError::missing("data[request_status]"))?
        .to_string();
    let current = a.service_proofs[&id].clone();
    if current.request_status == "exec_refund" {
        return Err(ApiError::params(format!("Service proof request {id} is closed: the refund was already executed")));
    }
    let mut files = Vec::new();
    for (i, v) in args.list("files").iter().enumerate() {
        let f = Args::element(v);
        let url = f.str("url").ok_or_else(|| ApiError::missing(&format!("files[{i}][url]")))?;
        check_public_https(&format!("files[{i}][url]"), url)?;
        files.push((url.to_string(), f.str("filename").unwrap_or_else(|| url.rsplit('/').next().unwrap_or("proof")).to_string()));
    }
    let message = data.str("message").map(str::to_string);
    if status == "proof_provided" && files.is_empty() && message.is_none() && current.files.is_empty() {
        return Err(ApiError::params("Providing proof needs data[message] or at least one files[0][url]"));
    }
    if status == "exec_refund" {
        refund_all(a, &current.purchase_id, ctx, "Refund after service proof request");
    }
    let s = a.service_proofs.get_mut(&id).expect("checked");
    s.request_status = status.clone();
    if let Some(m) = message {
        s.message = m;
    }
    s.files.extend(files);
    s.files.truncate(50);
    if status == "proof_provided" {
        s.approval_status = "pending".into();
    }
    s.modified_at = ctx.now;
    Ok(json!({"is_modified": "Y", "request_status": status}))
}

// ── custom forms and licenses ─────────────────────────────────────────────

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

fn normalize_key(k: &str) -> String {
    k.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// validateLicenseKey: whether a license key belongs to an order that is paid up.
pub fn validate_license_key(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let key = args.req_str("license_key")?;
    let p = a.purchase_or_404(id)?;
    let found = p.license_key.as_deref().is_some_and(|k| normalize_key(k) == normalize_key(key));
    let last_payment = a.purchase_transactions(&p.id).filter(|t| t.kind == TxKind::Payment).last();
    let last_tx = a.purchase_transactions(&p.id).last();
    let paid_until = match (p.next_payment_at, p.is_recurring(), last_payment) {
        (Some(n), _, _) => Some(n),
        (None, true, Some(t)) => Some(super::billing::add_interval(
            t.created_at.date(),
            if p.other_billing_intervals.is_empty() { "1_month" } else { &p.other_billing_intervals },
        )),
        _ => None,
    };
    let paid_up = p.refunded_at.is_none()
        && !a.purchase_transactions(&p.id).any(|t| t.kind == TxKind::Chargeback)
        && match p.billing_status.as_str() {
            "paying" | "completed" => true,
            "aborted" => paid_until.is_some_and(|d| d >= ctx.now.date()),
            _ => false,
        };
    Ok(json!({
        "is_license_valid": yn(found && paid_up),
        "is_license_key_found": yn(found),
        "purchase_id": p.id,
        "license_key": if found { p.license_key.clone().unwrap_or_default() } else { String::new() },
        "product_id": p.product_id().to_string(),
        "product_name": a.product_name(p.product_id()),
        "billing_tatus": p.billing_status,
        "billing_tatus_msg": views::billing_status_msg(&p.billing_status),
        "last_payment_at": fmt_opt_dt(last_payment.map(|t| t.created_at)),
        "last_payment_at_msg": last_payment.map(|t| fmt_date(t.created_at.date())).unwrap_or_default(),
        "next_payment_at": fmt_opt_date(p.next_payment_at),
        "next_payment_at_msg": fmt_opt_date(p.next_payment_at),
        "last_transaction_type": last_tx.map(|t| t.kind.as_str()).unwrap_or(""),
        "last_transaction_type_msg": last_tx.map(|t| t.kind.label()).unwrap_or(""),
        "paid_until": fmt_opt_date(paid_until),
        "paid_until_msg": fmt_opt_date(paid_until),
    }))
}
