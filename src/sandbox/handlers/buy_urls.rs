//! Handlers of the `buy_urls` toolset: checkout links with preset buyer,
//! payment plan and tracking.
//!
//! Owns: buy URLs. Must not touch: HTTP, orders (a buy URL books nothing).

use super::common::{Ctx, Res, check_url_arg};
use crate::sandbox::args::Args;
use crate::sandbox::dates::{Bound, fmt_dt, parse_offset, parse_point};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use serde_json::{Map, Value, json};

/// createBuyUrl: a signed, time-limited checkout link.
pub fn create_buy_url(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    ensure_room(a.buy_urls.len(), "buy URLs")?;
    let product = a.product_by_text(args.req_str("product_id")?)?.clone();
    let urls = args.obj("urls");
    for f in ["thankyou_url", "fallback_url", "upgrade_error_url"] {
        check_url_arg(urls, f)?;
    }
    let valid_until = match args.str("valid_until").unwrap_or("24h") {
        v if v.eq_ignore_ascii_case("forever") => None,
        v => {
            let t = parse_offset(v, ctx.now)
                .map(Ok)
                .unwrap_or_else(|| parse_point(v, ctx.now, Bound::Upper))
                .map_err(|e| ApiError::params(format!("Argument valid_until: {e} (or 'forever')")))?;
            if t <= ctx.now {
                return Err(ApiError::params(format!(
                    "Argument valid_until '{v}' lies in the past; use a lifetime such as 24h, 7d or forever"
                )));
            }
            Some(t)
        }
    };
    let tracking = args.obj("tracking");
    if let Some(aff) = tracking.str("affiliate") {
        a.affiliate_or_404(aff)?;
    }
    let plan = args.obj("payment_plan");
    for f in ["first_amount", "other_amounts"] {
        if plan.amount(f)?.is_some_and(|x| x < 0) {
            return Err(ApiError::params(format!("payment_plan[{f}] must not be negative")));
        }
    }
    if let Some(n) = plan.int("number_of_installments")?
        && n < 0
    {
        return Err(ApiError::params("payment_plan[number_of_installments] must be 0 or more"));
    }
    let upgrade_status = match plan.str("upgrade_order_id") {
        None => "none",
        Some(order) if a.purchase(order).is_some() => "ok",
        Some(_) => "error",
    };
    for (i, v) in args.list("addons").iter().enumerate() {
        let ad = Args::element(v);
        if let Some(pid) = ad.str("product_id") {
            a.product_by_text(pid).map_err(|e| ApiError::not_found(format!("{} (addons[{i}][product_id])", e.message)))?;
        }
    }
    let mut snapshot = Map::new();
    for k in args.keys().filter(|k| k.as_str() != "product_id") {
        if let Some(v) = args.value(k) {
            snapshot.insert(k.clone(), v.clone());
        }
    }
    let id = a.next_id("buy_url");
    let secret = a.new_secret(20);
    let url = format!("{CHECKOUT_URL}/product/{}/?ds24id={id}-{secret}", product.id);
    a.buy_urls.insert(
        id,
        BuyUrl {
            id,
            product_id: product.id,
            url: url.clone(),
            valid_until,
            settings: Value::Object(snapshot),
            upgrade_status: upgrade_status.into(),
            created_at: ctx.now,
            modified_at: ctx.now,
        },
    );
    Ok(json!({
        "id": id.to_string(),
        "url": url,
        "valid_until": valid_until.map(fmt_dt).unwrap_or_else(|| "forever".into()),
        "upgrade_status": upgrade_status,
    }))
}

/// listBuyUrls: the links made with createBuyUrl.
pub fn list_buy_urls(a: &Account, _args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    Ok(json!({"items": a.buy_urls.values().map(views::buy_url).collect::<Vec<_>>()}))
}

/// deleteBuyUrl: invalidates a link.
pub fn delete_buy_url(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let raw = args.req_str("id")?;
    let id = raw.parse::<u64>().ok().filter(|i| a.buy_urls.contains_key(i)).ok_or_else(|| ApiError::no_such("Buy URL", raw))?;
    a.buy_urls.remove(&id);
    Ok(json!({"id": id.to_string(), "is_deleted": "Y"}))
}
