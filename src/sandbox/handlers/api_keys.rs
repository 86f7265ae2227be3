//! Handlers of the `api_keys` toolset: the interactive API key flow, which
//! hands out the sandbox's own keys once the vendor approved the request on
//! the sandbox's approval page (`approval.rs`).
//!
//! Owns: key requests. Must not touch: the key table of the sandbox (keys are
//! never created or removed here).

use super::common::{Ctx, Res, check_public_https};
use crate::sandbox::args::Args;
use crate::sandbox::error::ApiError;
use crate::sandbox::keys::{READONLY_KEY, WRITABLE_KEY};
use crate::sandbox::model::*;
use serde_json::json;

/// requestApiKey: starts the interactive key approval; `request_url` is the
/// sandbox's own approval page. Return URLs may be loopback http too (the
/// sandbox and what it is tested with run on one machine).
pub fn request_api_key(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let permissions =
        args.one_of("permissions", &["readonly", "read-only", "writable"])?.ok_or_else(|| ApiError::missing("permissions"))?.to_string();
    let return_url = args.req_str("return_url")?.to_string();
    check_return_url("return_url", &return_url)?;
    for f in ["cancel_url", "site_url"] {
        if let Some(u) = args.str(f) {
            check_return_url(f, u)?;
        }
    }
    if a.key_requests.len() >= 1000 {
        let oldest = a.key_requests.values().min_by_key(|r| r.created_at).map(|r| r.token.clone());
        if let Some(t) = oldest {
            a.key_requests.remove(&t);
        }
    }
    let token = a.new_secret(32);
    a.key_requests.insert(
        token.clone(),
        KeyRequest {
            token: token.clone(),
            permissions,
            return_url,
            cancel_url: args.str("cancel_url").map(str::to_owned),
            comment: args.str("comment").unwrap_or("").to_string(),
            created_at: ctx.now,
            approved: None,
            retrieved: false,
        },
    );
    let site = if ctx.site.is_empty() { SITE_URL } else { ctx.site };
    Ok(json!({"request_url": format!("{site}/en/api/key/request/{token}"), "request_token": token}))
}

/// A public https URL, or http on a loopback host.
fn check_return_url(label: &str, url: &str) -> Result<(), ApiError> {
    let loopback = ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/", "http://[::1]:"];
    if loopback.iter().any(|p| url.starts_with(p)) { Ok(()) } else { check_public_https(label, url) }
}

/// retrieveApiKey: hands out the approved key once (a sandbox key of this account).
pub fn retrieve_api_key(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let token = args.req_str("token")?;
    let shared = a.vendor.label.is_empty();
    let Some(r) = a.key_requests.get_mut(token) else {
        return Ok(json!({"api_key": "", "request_status": "aborted", "note": "The token is invalid, too old or was already used"}));
    };
    match r.approved {
        None => return Ok(json!({"api_key": "", "request_status": "pending", "note": "The vendor has not answered the request yet"})),
        Some(false) => return Ok(json!({"api_key": "", "request_status": "aborted", "note": "The vendor cancelled the request"})),
        Some(true) => {}
    }
    if r.retrieved {
        return Ok(json!({"api_key": "", "request_status": "completed", "note": "The API key for this token was already retrieved"}));
    }
    r.retrieved = true;
    let readonly = r.permissions != "writable";
    let key = if shared { if readonly { READONLY_KEY } else { WRITABLE_KEY }.to_string() } else { ctx.key.to_string() };
    Ok(json!({"api_key": key, "request_status": "completed", "note": "", "permissions": if readonly { "readonly" } else { "writable" }}))
}

/// unregister: removes the key's IPN connections (sandbox keys themselves stay usable).
pub fn unregister(a: &mut Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let n = a.ipn_connections.len();
    a.ipn_connections.clear();
    Ok(json!({
        "modified": "Y",
        "note": format!("The API key was unregistered and its {n} IPN connection(s) were deleted (sandbox keys remain usable)"),
    }))
}
