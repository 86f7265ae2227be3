//! Handlers of the `ipn` toolset: IPN connections (create-or-update by
//! domain_id).
//!
//! Owns: IPN connection records. Must not touch: HTTP (the notifications
//! themselves are `sandbox::notify`'s).

use super::common::{Ctx, Res, check_public_https};
use crate::sandbox::args::{Args, split_csv, yn};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::json;

const TRANSACTIONS: &[&str] =
    &["payment", "refund", "chargeback", "payment_missed", "payment_denial", "rebill_cancelled", "rebill_resumed", "last_paid_day", "all"];

const CATEGORIES: &[&str] = &["orders", "affiliations", "e-tickets", "etickets", "custom forms", "customforms", "orderform"];

fn check_vendor(a: &Account, args: Args<'_>) -> Result<(), ApiError> {
    match args.str("vendor_id") {
        Some(v) if v != a.vendor.user_id.to_string() && !v.eq_ignore_ascii_case(&a.vendor.user_name) => {
            Err(ApiError::permission(format!("Your API key has no access to vendor '{v}'")))
        }
        _ => Ok(()),
    }
}

/// The sandbox accepts what Digistore24 accepts (a public https URL) and,
/// unlike it, a loopback `http://` URL, so the whole loop runs offline.
pub fn check_ipn_url(url: &str) -> Result<(), ApiError> {
    if is_loopback_url(url) { Ok(()) } else { check_public_https("ipn_url", url) }
}

/// An `http(s)://` URL on this machine: the only kind the sandbox, which
/// stays offline, checks and sends IPNs to.
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://").or_else(|| url.strip_prefix("https://")) else { return false };
    ["127.0.0.1", "localhost", "[::1]"]
        .iter()
        .any(|host| rest.strip_prefix(host).is_some_and(|r| r.is_empty() || r.starts_with([':', '/'])))
}

/// ipnSetup: creates or updates (by domain_id) the IPN connection.
pub fn ipn_setup(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    check_vendor(a, args)?;
    let url = args.req_str("ipn_url")?.to_string();
    check_ipn_url(&url)?;
    let name = args.req_str("name")?.to_string();
    let raw_products = args.req_str("product_ids")?;
    let product_ids = if raw_products.eq_ignore_ascii_case("all") {
        "all".to_string()
    } else {
        let mut ids = Vec::new();
        for p in split_csv(raw_products) {
            ids.push(a.product_by_text(p)?.id.to_string());
        }
        ids.join(",")
    };
    let transactions = args.str("transactions").unwrap_or("payment,refund,chargeback,payment_missed");
    for t in split_csv(transactions) {
        if !TRANSACTIONS.contains(&t) {
            return Err(ApiError::params(format!("Invalid value '{t}' in transactions; allowed: {}", TRANSACTIONS.join(", "))));
        }
    }
    let categories = args.str("categories").unwrap_or("orders");
    for c in split_csv(categories) {
        if !CATEGORIES.contains(&c) {
            return Err(ApiError::params(format!(
                "Invalid value '{c}' in categories; allowed: orders, affiliations, e-tickets, custom forms"
            )));
        }
    }
    let timing = args.one_of("timing", &["before_thankyou", "delayed"])?.unwrap_or("before_thankyou").to_string();
    let policy = args
        .one_of("newsletter_send_policy", &["send_always", "send_if_not_optout", "send_if_optout", "send_if_optin"])?
        .unwrap_or("send_always")
        .to_string();
    let domain_id = args.str("domain_id").unwrap_or("").to_string();
    if domain_id.len() > 63 {
        return Err(ApiError::params("Argument domain_id may have at most 63 characters"));
    }
    let pass_arg = args.str("sha_passphrase").map(str::to_string);
    if pass_arg.as_ref().is_some_and(|p| p.len() > 63) {
        return Err(ApiError::params("Argument sha_passphrase may have at most 63 characters"));
    }
    let existing = a.ipn_connections.get(&domain_id).cloned();
    if existing.is_none() {
        ensure_room(a.ipn_connections.len(), "IPN connections")?;
    }
    // "random" asks for a generated secret; leaving it out keeps the current one (none for a new connection).
    let pass = match pass_arg.as_deref() {
        Some("random") => a.new_secret(30),
        Some(p) => p.to_string(),
        None => existing.as_ref().map(|e| e.sha_passphrase.clone()).unwrap_or_default(),
    };
    let id = match &existing {
        Some(e) => e.id,
        None => a.next_id("ipn"),
    };
    a.ipn_connections.insert(
        domain_id.clone(),
        IpnConnection {
            id,
            domain_id,
            name,
            ipn_url: url,
            product_ids,
            categories: categories.to_string(),
            transactions: transactions.to_string(),
            timing,
            sha_passphrase: pass.clone(),
            newsletter_send_policy: policy,
            created_at: existing.as_ref().map(|e| e.created_at).unwrap_or(ctx.now),
            modified_at: ctx.now,
        },
    );
    Ok(json!({
        "created": yn(existing.is_none()),
        "updated": yn(existing.is_some()),
        "deleted": "N",
        "sha_passphrase": pass,
        "ipn_id": id.to_string(),
    }))
}

/// ipnInfo: the settings of the connection registered under a domain_id.
pub fn ipn_info(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    check_vendor(a, args)?;
    let domain_id = args.str("domain_id").unwrap_or("");
    Ok(match a.ipn_connections.get(domain_id) {
        Some(c) => {
            let mut v = views::ipn(c);
            v["have_settings"] = json!("Y");
            v
        }
        None => json!({"have_settings": "N", "domain_id": domain_id}),
    })
}

/// ipnDelete: removes the connection registered under a domain_id.
pub fn ipn_delete(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    check_vendor(a, args)?;
    let domain_id = args.req_str("domain_id")?;
    let removed = a.ipn_connections.remove(domain_id).is_some();
    Ok(json!({"modified": yn(removed), "domain_id": domain_id}))
}
