//! Handlers of the `service_proofs` toolset: answering buyers' service proof
//! requests.
//!
//! Owns: proof answers. Must not touch: HTTP; a refund it executes goes through
//! `booking::refund_all`.

use super::common::{Ctx, IdArg, Res, check_public_https};
use crate::sandbox::args::Args;
use crate::sandbox::booking::refund_all;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Value, json};

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

const SERVICE_PROOF_ID: IdArg = IdArg { name: "service_proof_id", what: "Service proof request" };

/// getServiceProofRequest: one proof request.
pub fn get_service_proof_request(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let (_, s) = SERVICE_PROOF_ID.find(&a.service_proofs, args)?;
    Ok(json!({"service_proof_request": views::service_proof(s)}))
}

/// updateServiceProofRequest: supplies proof, or agrees to the refund (`exec_refund`).
pub fn update_service_proof_request(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (id, current) = SERVICE_PROOF_ID.find(&a.service_proofs, args)?;
    let mut s = current.clone();
    let data = args.obj("data");
    let status = data
        .one_of("request_status", &["proof_provided", "exec_refund"])?
        .ok_or_else(|| ApiError::missing("data[request_status]"))?
        .to_string();
    if s.request_status == "exec_refund" {
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
    if status == "proof_provided" && files.is_empty() && message.is_none() && s.files.is_empty() {
        return Err(ApiError::params("Providing proof needs data[message] or at least one files[0][url]"));
    }
    if status == "exec_refund" {
        refund_all(a, &s.purchase_id, ctx.now, "Refund after service proof request");
    }
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
    a.service_proofs.insert(id, s);
    Ok(json!({"is_modified": "Y", "request_status": status}))
}
