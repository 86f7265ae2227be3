//! Handlers of the `system` toolset: ping, the global settings and the country
//! and currency lists.
//!
//! Owns: the answers only; the lists are in `reference`. Must not touch:
//! account state.

use super::common::{Ctx, Res};
use crate::sandbox::args::{Args, split_csv};
use crate::sandbox::dates::fmt_dt;
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::reference::{COUNTRIES, CURRENCIES, PRODUCT_TYPES};
use serde_json::{Map, Value, json};

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
