//! Handlers of the `ipn`, `api_keys`, `account` and `system` toolsets.
//!
//! Owns: IPN connections (create-or-update by domain_id), the interactive API key
//! flow (which hands out the sandbox's own keys), user info, account access,
//! the test-payment key, ping and the system option lists. Must not touch: HTTP,
//! the key table of the sandbox (keys are never created or removed here).

use super::views;
use super::{Access, Ctx, Res, check_public_https};
use crate::sandbox::args::{Args, split_csv, yn};
use crate::sandbox::dates::fmt_dt;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::seed::PRODUCT_TYPES;
use crate::sandbox::{READONLY_KEY, WRITABLE_KEY};
use chrono::Duration;
use serde_json::{Map, Value, json};

/// Countries known to the sandbox (two-letter code, English name).
pub const COUNTRIES: &[(&str, &str)] = &[
    ("AD", "Andorra"),
    ("AE", "United Arab Emirates"),
    ("AR", "Argentina"),
    ("AT", "Austria"),
    ("AU", "Australia"),
    ("BE", "Belgium"),
    ("BG", "Bulgaria"),
    ("BR", "Brazil"),
    ("CA", "Canada"),
    ("CH", "Switzerland"),
    ("CL", "Chile"),
    ("CN", "China"),
    ("CO", "Colombia"),
    ("CY", "Cyprus"),
    ("CZ", "Czech Republic"),
    ("DE", "Germany"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("EG", "Egypt"),
    ("ES", "Spain"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("GB", "United Kingdom"),
    ("GR", "Greece"),
    ("HR", "Croatia"),
    ("HU", "Hungary"),
    ("IE", "Ireland"),
    ("IL", "Israel"),
    ("IN", "India"),
    ("IS", "Iceland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("KR", "South Korea"),
    ("LI", "Liechtenstein"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("LV", "Latvia"),
    ("MA", "Morocco"),
    ("MC", "Monaco"),
    ("MT", "Malta"),
    ("MX", "Mexico"),
    ("NG", "Nigeria"),
    ("NL", "Netherlands"),
    ("NO", "Norway"),
    ("NZ", "New Zealand"),
    ("PE", "Peru"),
    ("PH", "Philippines"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("RS", "Serbia"),
    ("SE", "Sweden"),
    ("SG", "Singapore"),
    ("SI", "Slovenia"),
    ("SK", "Slovakia"),
    ("TH", "Thailand"),
    ("TR", "Turkey"),
    ("UA", "Ukraine"),
    ("US", "United States"),
    ("ZA", "South Africa"),
];

/// Selling currencies: (id, code, symbol, name, min price, max price, value of one unit in EUR, hundredths of a cent).
const CURRENCIES: &[(u32, &str, &str, &str, &str, &str, i64)] = &[
    (1, "EUR", "€", "Euro", "0.80", "5000.00", 1_000_000),
    (2, "USD", "$", "US Dollar", "1.00", "6000.00", 920_000),
    (3, "CHF", "CHF", "Swiss Franc", "1.00", "5000.00", 1_040_000),
    (4, "GBP", "£", "British Pound", "0.80", "4500.00", 1_170_000),
    (5, "PLN", "zł", "Polish Złoty", "4.00", "22000.00", 230_000),
    (6, "CAD", "C$", "Canadian Dollar", "1.20", "8000.00", 680_000),
    (7, "AUD", "A$", "Australian Dollar", "1.40", "9000.00", 610_000),
    (8, "SEK", "kr", "Swedish Krona", "10.00", "55000.00", 87_000),
    (9, "DKK", "kr.", "Danish Krone", "6.00", "37000.00", 134_000),
    (10, "NOK", "kr", "Norwegian Krone", "10.00", "55000.00", 86_000),
    (11, "CZK", "Kč", "Czech Koruna", "20.00", "125000.00", 40_000),
    (12, "HUF", "Ft", "Hungarian Forint", "300.00", "1900000.00", 2_500),
    (13, "BRL", "R$", "Brazilian Real", "5.00", "30000.00", 170_000),
];

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

/// ipnSetup: creates or updates (by domain_id) the IPN connection.
pub fn ipn_setup(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    check_vendor(a, args)?;
    let url = args.req_str("ipn_url")?.to_string();
    check_public_https("ipn_url", &url)?;
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

/// requestApiKey: starts the interactive key approval; the sandbox approves at once.
pub fn request_api_key(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let permissions =
        args.one_of("permissions", &["readonly", "read-only", "writable"])?.ok_or_else(|| ApiError::missing("permissions"))?.to_string();
    let return_url = args.req_str("return_url")?.to_string();
    check_public_https("return_url", &return_url)?;
    for f in ["cancel_url", "site_url"] {
        if let Some(u) = args.str(f) {
            check_public_https(f, u)?;
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
            comment: args.str("comment").unwrap_or("").to_string(),
            created_at: ctx.now,
            retrieved: false,
        },
    );
    Ok(json!({"request_url": format!("{SITE_URL}/en/api/key/request/{token}"), "request_token": token}))
}

/// retrieveApiKey: hands out the approved key once (a sandbox key of this account).
pub fn retrieve_api_key(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let token = args.req_str("token")?;
    let shared = a.vendor.label.is_empty();
    let Some(r) = a.key_requests.get_mut(token) else {
        return Ok(json!({"api_key": "", "request_status": "aborted", "note": "The token is invalid, too old or was already used"}));
    };
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

/// ping: the server time.
pub fn ping(_a: &Account, _args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    Ok(json!({"server_time": fmt_dt(ctx.now)}))
}

/// getGlobalSettings: system-wide option lists.
pub fn get_global_settings(_a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let intervals: Map<String, Value> = ["7_day", "14_day", "1_month", "2_month", "3_month", "6_month", "12_month"]
        .iter()
        .map(|i| {
            let (n, unit) = i.split_once('_').expect("code");
            (i.to_string(), json!(format!("{n} {unit}{}", if n == "1" { "" } else { "s" })))
        })
        .collect();
    let types: Map<String, Value> = PRODUCT_TYPES.iter().map(|(id, name, _)| (id.to_string(), json!(name))).collect();
    let currencies: Map<String, Value> = CURRENCIES.iter().map(|c| (c.1.to_string(), json!(c.3))).collect();
    let image_meta = |label: &str, max_kb: u32, min_w: u32, max_w: u32, min_h: u32, max_h: u32| {
        json!({
            "label": label,
            "limits": {"max_file_size_kb": max_kb, "min_width": min_w, "max_width": max_w, "min_height": min_h, "max_height": max_h},
            "limits_msg": format!("Width {min_w} to {max_w} pixels, height {min_h} to {max_h} pixels, at most {max_kb} KB"),
        })
    };
    Ok(json!({
        "image_metas": {
            "product": image_meta("Product", 500, 100, 100, 100, 500),
            "orderform_header": image_meta("Order form header", 1000, 600, 1200, 50, 400),
            "orderform_widget_tab": image_meta("Order form tab", 200, 400, 400, 80, 80),
            "orderform_favicon": image_meta("Favicon", 50, 16, 64, 16, 64),
        },
        "types": {
            "first_billing_interval": intervals.clone(),
            "other_billing_intervals": intervals,
            "product_type": types,
            "currency": currencies,
            "language": {"de": "Deutsch", "en": "English", "es": "Español", "fr": "Français", "it": "Italiano", "nl": "Nederlands", "pl": "Polski", "pt": "Português"},
            "image_usage_type": {"product": "Product", "orderform_header": "Order form header", "orderform_widget_tab": "Order form tab", "orderform_favicon": "Favicon"},
            "buyer_type": {"consumer": "Consumer (prices include VAT)", "business": "Business (prices exclude VAT)"},
            "cancel_policy": {"6m_0": "6 months", "12m_0": "12 months", "12m_3m": "12 months, 3 months notice", "24m_0": "24 months"},
        },
    }))
}

/// listCountries: two-letter code → country name.
pub fn list_countries(_a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(Value::Object(COUNTRIES.iter().map(|(c, n)| (c.to_string(), json!(n))).collect()))
}

/// listCurrencies: selling currencies with price limits, optionally with exchange rates.
pub fn list_currencies(_a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let targets: Vec<String> = match args.str("convert_to") {
        None => Vec::new(),
        Some(s) if s.eq_ignore_ascii_case("all") => CURRENCIES.iter().map(|c| c.1.to_string()).collect(),
        Some(s) => {
            let mut out = Vec::new();
            for t in split_csv(s) {
                let t = t.to_ascii_uppercase();
                if !CURRENCIES.iter().any(|c| c.1 == t) {
                    return Err(ApiError::params(format!("Unknown currency '{t}' in convert_to")));
                }
                out.push(t);
            }
            out
        }
    };
    let items: Vec<Value> = CURRENCIES
        .iter()
        .map(|(id, code, symbol, name, min, max, eur)| {
            let mut v = json!({"id": id.to_string(), "code": code, "symbol": symbol, "min_price": min, "max_price": max, "name": name});
            for t in &targets {
                let target_eur = CURRENCIES.iter().find(|c| c.1 == t).map(|c| c.6).unwrap_or(1_000_000);
                let rate = *eur as f64 / target_eur as f64;
                v[format!("to_{t}")] = json!(format!("{rate:.6}"));
            }
            v
        })
        .collect();
    Ok(json!({"items": items}))
}
