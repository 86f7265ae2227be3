//! Handlers of the `account` toolset: user info, account access and the
//! test-payment key.
//!
//! Owns: the answers and the test-payment key. Must not touch: HTTP, other
//! accounts.

use super::common::{Ctx, Res};
use crate::sandbox::args::{Args, yn};
use crate::sandbox::dates::fmt_dt;
use crate::sandbox::keys::Access;
use crate::sandbox::model::*;
use chrono::Duration;
use serde_json::json;

/// getUserInfo: the key owner's id, name and roles.
pub fn get_user_info(a: &Account, _args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    Ok(json!({
        "user_id": a.vendor.user_id.to_string(),
        "user_name": a.vendor.user_name,
        "first_name": a.vendor.first_name,
        "last_name": a.vendor.last_name,
        "email": a.vendor.email,
        "company": a.vendor.company,
        "language": a.vendor.language,
        "granted_roles": "user,affiliate,merchant",
        "granted_roles_msg": "User,Affiliate,Vendor",
        "api_key_permissions": if ctx.access == Access::Writable { "writable" } else { "readonly" },
    }))
}

/// listAccountAccess: access grants given and received.
pub fn list_account_access(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let view = |x: &AccountAccess| {
        let full = x.permissions == "can_full_access";
        json!({
            "id": x.id.to_string(),
            "owner_id": x.owner_id.to_string(),
            "accessor_id": x.accessor_id.to_string(),
            "other_user_name": x.other_name,
            "permissions": x.permissions,
            "permissions_msg": if full { "Full access" } else { "Read access" },
            "created_at": fmt_dt(x.created_at),
            "modified_at": fmt_dt(x.modified_at),
            "can_see_non_affiliate_purchases": "Y",
            "can_approve_affiliations": yn(full),
            "can_see_edit_marketplace_link": yn(full),
            "can_edit_products": yn(full),
            "can_edit_affiliate_commissions": yn(full),
            "can_read_mail_history": "Y",
            "can_approve_purchases": yn(full),
            "can_edit_purchases_approval_policy": yn(full),
            "can_give_permissions": "N",
            "can_see_revenue": "Y",
            "can_edit_discount_vouchers": yn(full),
            "can_csv_export": "Y",
        })
    };
    Ok(json!({
        "by_me": a.account_access.iter().filter(|x| x.by_me).map(view).collect::<Vec<_>>(),
        "to_me": a.account_access.iter().filter(|x| !x.by_me).map(view).collect::<Vec<_>>(),
    }))
}

/// getTestpayKey: the key that unlocks test payments; `do_recreate` rotates it.
pub fn get_testpay_key(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    if args.bool_or("do_recreate", false)? {
        a.testpay = TestpayKey { key: a.new_secret(24), expires_at: ctx.now + Duration::days(30) };
    }
    Ok(json!({
        "user_id": a.vendor.user_id.to_string(),
        "testpay_key": a.testpay.key,
        "get_param_name": "ds24testpay",
        "expires_at": fmt_dt(a.testpay.expires_at),
    }))
}
