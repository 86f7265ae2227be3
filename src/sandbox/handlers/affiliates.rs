//! Handlers of the `affiliates` toolset: commissions, pre-assigned affiliates,
//! referring partners, affiliation checks and tracking code.
//!
//! Owns: affiliation settings per (affiliate, product). Must not touch: HTTP,
//! money already booked (changed commissions apply to future payments only).

use super::common::{Ctx, Res, plausible_email};
use crate::sandbox::args::{Args, money, split_csv, yn};
use crate::sandbox::dates::fmt_dt;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views::approval_status_msg;
use serde_json::{Map, Value, json};

fn affiliate<'a>(a: &'a Account, args: Args<'_>, name: &str) -> Result<&'a Affiliate, ApiError> {
    a.affiliate_or_404(args.req_str(name)?)
}

fn products_arg(a: &Account, raw: &str, all_default: impl Fn() -> Vec<u64>) -> Result<Vec<u64>, ApiError> {
    if raw.trim().eq_ignore_ascii_case("all") {
        return Ok(all_default());
    }
    let mut out = Vec::new();
    for part in split_csv(raw) {
        out.push(a.product_by_text(part)?.id);
    }
    Ok(out)
}

/// getAffiliateCommission: commission settings of one affiliate per product.
pub fn get_affiliate_commission(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let aff = affiliate(a, args, "affiliate_id")?;
    let raw = args.str("product_ids").unwrap_or("all");
    let products = products_arg(a, raw, || {
        a.affiliations.range((aff.id, 0)..=(aff.id, u64::MAX)).map(|((_, p), _)| *p).filter(|p| a.product_or_404(*p).is_ok()).collect()
    })?;
    let list: Vec<Value> = products
        .iter()
        .map(|pid| {
            let product = &a.products[pid];
            let s = a.affiliations.get(&(aff.id, *pid));
            let status = s.map(|s| s.approval_status.as_str()).unwrap_or("new");
            json!({
                "product_id": pid.to_string(),
                "product_name": product.name,
                "commission_rate": money(s.and_then(|s| s.commission_rate).unwrap_or(product.affiliate_commission)),
                "commission_fix": money(s.and_then(|s| s.commission_fix).unwrap_or(product.affiliate_commission_fix)),
                "commission_currency": s.map(|s| s.commission_currency.clone()).unwrap_or_else(|| a.vendor.currency.clone()),
                "is_default_commission": yn(s.and_then(|s| s.commission_rate).is_none()),
                "approval_status": status,
                "approval_status_msg": approval_status_msg(status),
            })
        })
        .collect();
    Ok(json!({"affiliate_id": aff.id.to_string(), "affiliate_name": aff.name, "commissions": list}))
}

/// updateAffiliateCommission: sets rate, fixed amount or approval for products; creates missing affiliations.
pub fn update_affiliate_commission(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let aff_id = affiliate(a, args, "affiliate_id")?.id;
    let raw = args.req_str("product_ids")?;
    let products = products_arg(a, raw, || a.products.values().filter(|p| !p.is_deleted).map(|p| p.id).collect())?;
    let data = args.obj("data");
    let rate = data.amount("commission_rate")?;
    if rate.is_some_and(|r| !(0..=10_000).contains(&r)) {
        return Err(ApiError::params("data[commission_rate] must be a percentage between 0 and 100"));
    }
    let fix = data.amount("commission_fix")?;
    if fix.is_some_and(|f| f < 0) {
        return Err(ApiError::params("data[commission_fix] must not be negative"));
    }
    let currency = data.str("commission_currency").map(str::to_ascii_uppercase);
    let status = data.one_of("approval_status", &["new", "approved", "rejected", "pending"])?.map(str::to_string);
    let mut changed = 0;
    for pid in &products {
        if !a.affiliations.contains_key(&(aff_id, *pid)) {
            ensure_room(a.affiliations.len(), "affiliations")?;
        }
        let e = a.affiliations.entry((aff_id, *pid)).or_insert_with(|| Affiliation {
            commission_rate: None,
            commission_fix: None,
            commission_currency: "EUR".into(),
            approval_status: "approved".into(),
            created_at: ctx.now,
            modified_at: ctx.now,
        });
        let before = format!("{e:?}");
        if rate.is_some() {
            e.commission_rate = rate;
        }
        if fix.is_some() {
            e.commission_fix = fix;
        }
        if let Some(c) = &currency {
            e.commission_currency = c.clone();
        }
        if let Some(s) = &status {
            e.approval_status = s.clone();
        }
        if before != format!("{e:?}") {
            e.modified_at = ctx.now;
            changed += 1;
        }
    }
    Ok(json!({
        "modified": yn(changed > 0),
        "affiliate_id": aff_id.to_string(),
        "product_ids": products.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(","),
        "updated_count": changed,
    }))
}

/// getAffiliateForEmail: the affiliate pre-assigned to an e-mail (empty fields when none).
pub fn get_affiliate_for_email(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let email = args.req_str("email")?.to_lowercase();
    Ok(match a.email_affiliates.get(&email) {
        Some(e) => json!({
            "email": email,
            "affiliate_name": a.affiliate_name(Some(e.affiliate_id)),
            "affiliate_id": e.affiliate_id.to_string(),
            "campaignkey": e.campaignkey,
            "trackingkey": e.trackingkey,
            "click_id": e.click_id,
            "promoclick_at": fmt_dt(e.promoclick_at),
        }),
        None => {
            json!({"email": email, "affiliate_name": "", "affiliate_id": "", "campaignkey": "", "trackingkey": "", "click_id": "", "promoclick_at": ""})
        }
    })
}

/// setAffiliateForEmail: pre-assigns an affiliate to a future buyer.
pub fn set_affiliate_for_email(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let email = args.req_str("email")?.to_lowercase();
    if !plausible_email(&email) {
        return Err(ApiError::params(format!("Invalid e-mail address '{email}' in argument email")));
    }
    let aff = affiliate(a, args, "affiliate")?.clone();
    if !a.email_affiliates.contains_key(&email) {
        ensure_room(a.email_affiliates.len(), "e-mail assignments")?;
    }
    a.email_affiliates.insert(
        email.clone(),
        EmailAffiliate {
            affiliate_id: aff.id,
            campaignkey: args.str("campaignkey").unwrap_or("").to_string(),
            trackingkey: args.str("trackingkey").unwrap_or("").to_string(),
            click_id: args.str("click_id").unwrap_or("").to_string(),
            promoclick_at: ctx.now,
        },
    );
    Ok(json!({"modified": "Y", "email": email, "affiliate_id": aff.id.to_string(), "affiliate_name": aff.name}))
}

fn referral_view(a: &Account, aff: &Affiliate, action: Option<&str>) -> Value {
    let r = aff.referrer.as_ref();
    let mut v = json!({
        "affiliate_id": aff.id.to_string(),
        "affiliate_name": aff.name,
        "referrer_id": r.map(|r| r.referrer_id.to_string()).unwrap_or_default(),
        "referrer_name": r.map(|r| a.affiliate_name(Some(r.referrer_id))).unwrap_or_default(),
        "commission": r.map(|r| money(r.commission)).unwrap_or_default(),
        "created_at": r.map(|r| fmt_dt(r.created_at)).unwrap_or_default(),
        "created_by": r.map(|r| r.created_by.to_string()).unwrap_or_default(),
    });
    if let Some(action) = action {
        v["action"] = json!(action);
    }
    v
}

/// getReferringAffiliate: who referred an affiliate (empty fields when nobody).
pub fn get_referring_affiliate(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let aff = affiliate(a, args, "affiliate_id")?;
    Ok(referral_view(a, aff, None))
}

/// setReferringAffiliate: records the referring partner and its share.
pub fn set_referring_affiliate(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let referrer = affiliate(a, args, "referrer_id")?.id;
    let aff_id = affiliate(a, args, "affiliate_id")?.id;
    if referrer == aff_id {
        return Err(ApiError::params("An affiliate cannot be its own referrer"));
    }
    let commission = args.amount("commission")?;
    if commission.is_some_and(|c| !(0..=10_000).contains(&c)) {
        return Err(ApiError::params("Argument commission must be a percentage between 0 and 100"));
    }
    let user = a.vendor.user_id;
    let aff = a.affiliates.get_mut(&aff_id).ok_or_else(|| ApiError::no_such("Affiliate", aff_id))?;
    let action = match &mut aff.referrer {
        Some(r) if r.referrer_id == referrer && commission.is_none_or(|c| c == r.commission) => "none",
        Some(r) => {
            r.referrer_id = referrer;
            if let Some(c) = commission {
                r.commission = c;
            }
            "update"
        }
        None => {
            aff.referrer =
                Some(Referral { referrer_id: referrer, commission: commission.unwrap_or(1000), created_at: ctx.now, created_by: user });
            "create"
        }
    };
    let aff = a.affiliates[&aff_id].clone();
    Ok(referral_view(a, &aff, Some(action)))
}

/// validateAffiliate: whether an affiliate has approved affiliations for products.
pub fn validate_affiliate(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let name = args.req_str("affiliate_name")?;
    let raw = args.req_str("product_ids")?;
    let mut valid = Vec::new();
    let mut invalid = Vec::new();
    for part in split_csv(raw) {
        match a.product_by_text(part) {
            Ok(p) => valid.push(p.id),
            Err(_) => invalid.push(part.to_string()),
        }
    }
    let join = |v: &[u64]| v.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let invite_url = format!("{SITE_URL}/affiliate/invite/{}/{}", a.vendor.user_name, join(&valid));
    let Some(aff) = a.find_affiliate(name) else {
        return Ok(json!({
            "have_affiliation": "N", "affiliation_status": "no_affiliation", "invalid_affiliate_name": true,
            "affiliation_status_msg": format!("'{name}' is not a Digistore24 affiliate of this vendor"),
            "invite_url": invite_url, "valid_product_ids": join(&valid), "invalid_product_ids": invalid.join(","),
        }));
    };
    let statuses: Vec<&str> =
        valid.iter().map(|p| a.affiliations.get(&(aff.id, *p)).map(|s| s.approval_status.as_str()).unwrap_or("none")).collect();
    let (status, msg) = if valid.is_empty() {
        ("no_valid_products", "None of the given products exists")
    } else if statuses.iter().all(|s| *s == "approved") {
        ("approved", "The affiliate is approved for all given products")
    } else if statuses.iter().any(|s| *s == "pending" || *s == "new") {
        ("wait_for_approval", "The affiliation waits for the vendor's approval")
    } else {
        ("no_affiliation", "The affiliate has no approved affiliation for these products")
    };
    Ok(json!({
        "have_affiliation": yn(status == "approved"),
        "affiliation_status": status,
        "invalid_affiliate_name": false,
        "affiliation_status_msg": msg,
        "invite_url": invite_url,
        "valid_product_ids": join(&valid),
        "invalid_product_ids": invalid.join(","),
    }))
}

/// getCustomerToAffiliateBuyerDetails: become-an-affiliate links for buyers of orders.
pub fn get_customer_to_affiliate_buyer_details(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let ids = args.csv("purchase_id");
    if ids.is_empty() {
        return Err(ApiError::missing("purchase_id"));
    }
    let mut out = Map::new();
    for id in &ids {
        let p = a.purchase_or_404(id)?;
        let b = a.buyers.get(&p.buyer_id);
        let promo_name = b
            .map(|b| format!("{}{}", b.first_name.to_lowercase(), b.id % 10_000))
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>();
        out.insert(
            p.id.clone(),
            json!({
                "customer_affiliate_name": promo_name,
                "customer_to_affiliate_url": format!("{SITE_URL}/customer2affiliate/{}/{}", a.vendor.user_name, p.id),
                "customer_affiliate_promo_url": format!("{SITE_URL}/redir/{}/{promo_name}/", p.product_id()),
            }),
        );
    }
    if out.len() == 1 {
        return Ok(out.into_iter().next().map(|(_, v)| v).unwrap_or_default());
    }
    Ok(Value::Object(out))
}

/// renderJsTrackingCode: a script tag that fills affiliate/campaign/tracking inputs.
pub fn render_js_tracking_code(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let mut query = Vec::new();
    for f in ["affiliate_input", "campaignkey_input", "trackingkey_input", "callback"] {
        if let Some(v) = args.str(f) {
            if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.') {
                return Err(ApiError::params(format!("Argument {f} may only contain letters, digits, _, - and .")));
            }
            query.push(format!("{f}={v}"));
        }
    }
    let url = format!("{SITE_URL}/service/tracking/{}.js{}{}", a.vendor.user_id, if query.is_empty() { "" } else { "?" }, query.join("&"));
    Ok(json!({"script_code": format!("<script src=\"{url}\" async></script>"), "script_url": url}))
}
