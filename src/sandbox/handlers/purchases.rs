//! Handlers of the `purchases` toolset: reading orders, changing their tracking
//! data and balance, refunds, confirmation mails, add-on changes and member
//! logins.
//!
//! Owns: the order-level answers. Must not touch: HTTP, other accounts; money
//! movements go through `booking` so that transactions and statistics stay
//! consistent.

use super::common::{Ctx, Page, Res, SearchFilter, time_window, window_answer};
use crate::sandbox::args::{Args, Cents, money, yn};
use crate::sandbox::booking::{OrderSpec, new_order, rebill_capable, refund_all, refund_period_check};
use crate::sandbox::dates::{Bound, fmt_date, fmt_dt};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::views;
use chrono::Duration;
use serde_json::{Map, Value, json};

fn purchase_ids(args: Args<'_>) -> Result<Vec<String>, ApiError> {
    let ids: Vec<String> = args.csv("purchase_id").into_iter().map(str::to_string).collect();
    if ids.is_empty() {
        return Err(ApiError::missing("purchase_id"));
    }
    Ok(ids)
}

/// Answers one record for one id, or an object keyed by id for a comma list.
fn one_or_many(a: &Account, ids: &[String], f: impl Fn(&Purchase) -> Value) -> Res {
    let mut found = Vec::with_capacity(ids.len());
    for id in ids {
        found.push(a.purchase_or_404(id)?);
    }
    if found.len() == 1 {
        return Ok(f(found[0]));
    }
    let mut m = Map::new();
    for p in found {
        m.insert(p.id.clone(), f(p));
    }
    Ok(Value::Object(m))
}

/// getPurchase: the full order record, or several keyed by id.
pub fn get_purchase(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let ids = purchase_ids(args)?;
    one_or_many(a, &ids, |p| views::purchase(a, p, true, true))
}

/// listPurchases: orders inside a time window, filtered, sorted and paged.
pub fn list_purchases(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let (from, to) = time_window(args, ctx)?;
    let filter = SearchFilter::from_args(args.obj("search"))?;
    let sort_by = args.one_of("sort_by", &["date", "earning", "amount"])?.unwrap_or("date");
    let desc = args.one_of("sort_order", &["asc", "desc"])?.unwrap_or("asc") == "desc";
    let load_tx = args.bool_or("load_transactions", false)?;
    let mut items: Vec<(&Purchase, Cents)> = a
        .purchases
        .iter()
        .filter(|p| p.created_at >= from && p.created_at <= to && filter.matches_purchase(a, p))
        .filter(|p| filter.transaction_types.is_empty() || a.purchase_transactions(&p.id).any(|t| filter.matches_type(t.kind)))
        .map(|p| {
            let key = match sort_by {
                "earning" => a.earnings(&p.id),
                "amount" => p.first_amount,
                _ => 0,
            };
            (p, key)
        })
        .collect();
    items.sort_by(|x, y| {
        let o = match sort_by {
            "date" => x.0.created_at.cmp(&y.0.created_at),
            _ => x.1.cmp(&y.1),
        }
        .then_with(|| x.0.created_at.cmp(&y.0.created_at))
        .then_with(|| x.0.id.cmp(&y.0.id));
        if desc { o.reverse() } else { o }
    });
    let page = Page::from_args(args, items.len(), 500, 1000, false)?;
    let list: Vec<Value> = items[page.range()].iter().map(|(p, _)| views::purchase(a, p, false, load_tx)).collect();
    let mut data = window_answer(from, to, &page);
    data.insert("purchase_list".into(), json!(list));
    Ok(Value::Object(data))
}

/// listPurchasesOfEmail: the orders of one buyer e-mail address, newest first.
pub fn list_purchases_of_email(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let email = args.req_str("email")?;
    let limit = args.int("limit")?.unwrap_or(100);
    if limit < 1 {
        return Err(ApiError::params(format!("Argument limit must be at least 1, got {limit}")));
    }
    let buyers: Vec<u64> = a.buyers.values().filter(|b| b.email.eq_ignore_ascii_case(email)).map(|b| b.id).collect();
    let items: Vec<Value> = a
        .purchases
        .iter()
        .rev()
        .filter(|p| buyers.contains(&p.buyer_id))
        .take(limit as usize)
        .map(|p| {
            json!({
                "id": p.id,
                "created_at": fmt_dt(p.created_at),
                "amount": money(p.first_amount),
                "currency": p.currency,
                "status": p.billing_status,
                "status_msg": views::billing_status_msg(&p.billing_status),
                "product_id": p.product_id().to_string(),
                "product_name": a.product_name(p.product_id()),
                "billing_type": p.billing_type(),
            })
        })
        .collect();
    Ok(json!({"email": email, "item_count": items.len(), "items": items}))
}

/// getPurchaseDownloads: download files per order and product.
pub fn get_purchase_downloads(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let ids = purchase_ids(args)?;
    let mut downloads = Map::new();
    for id in &ids {
        let p = a.purchase_or_404(id)?;
        let paid = a.net_paid(&p.id) > 0 && p.refunded_at.is_none();
        let mut per_product = Map::new();
        for item in &p.items {
            let Some(product) = a.products.get(&item.product_id) else { continue };
            let files: Vec<Value> = product
                .downloads
                .iter()
                .enumerate()
                .map(|(i, (name, size))| {
                    let ext = name.rsplit('.').next().unwrap_or("");
                    json!({
                        "url": format!("{SITE_URL}/download/{}/{}/{}", p.id, product.id, i + 1),
                        "downloads_total": "10",
                        "downloads_tries": (p.created_at.and_utc().timestamp().unsigned_abs() % 4).to_string(),
                        "is_access_granted": yn(paid),
                        "is_purchase_paid": yn(paid),
                        "headline": product.name,
                        "instructions": "",
                        "file_name": name,
                        "file_ext": ext,
                        "file_size": size.to_string(),
                        "download_until": fmt_date((ctx.now + Duration::days(365)).date()),
                    })
                })
                .collect();
            per_product.insert(product.id.to_string(), json!(files));
        }
        downloads.insert(p.id.clone(), Value::Object(per_product));
    }
    Ok(json!({"downloads": downloads}))
}

/// getPurchaseTracking: affiliate, campaign, tracking and UTM values of orders.
pub fn get_purchase_tracking(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let ids = purchase_ids(args)?;
    one_or_many(a, &ids, |p| {
        let utm: Map<String, Value> = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"]
            .iter()
            .map(|k| (k.to_string(), json!(p.utm.get(*k).cloned().unwrap_or_default())))
            .collect();
        json!({
            "purchase_id": p.id,
            "affiliate_id": p.affiliate_id.map(|i| i.to_string()).unwrap_or_default(),
            "affiliate_name": a.affiliate_name(p.affiliate_id),
            "campaign_key": p.campaignkey,
            "vendor_key": p.trackingkey,
            "custom": p.custom,
            "click_id": p.click_id,
            "sub_ids": [],
            "utm_params": utm,
        })
    })
}

/// updatePurchase: tracking key, custom field, invoice access, postponed next payment.
pub fn update_purchase(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let data = args.obj("data");
    if !args.has_obj("data") {
        return Err(ApiError::missing("data"));
    }
    let tracking = data.raw_str("tracking_param").map(|s| s.trim().to_string());
    let custom = data.raw_str("custom").map(|s| s.trim().to_string());
    let unlock = data.bool("unlock_invoices")?;
    let next = data.date("next_payment_at", ctx.now)?;
    let p = a.purchase_mut_or_404(id)?;
    if let Some(next) = next {
        if !p.is_recurring() || !p.rebilling_active {
            return Err(ApiError::params(format!("Order '{id}' has no active recurring payments, so data[next_payment_at] cannot be set")));
        }
        if next <= ctx.now.date() || p.next_payment_at.is_some_and(|cur| next < cur) {
            return Err(ApiError::params(format!(
                "data[next_payment_at] can only postpone the next payment (currently {}); it cannot be moved earlier",
                p.next_payment_at.map(fmt_date).unwrap_or_default()
            )));
        }
    }
    let mut modified = false;
    if let Some(t) = tracking {
        modified |= p.trackingkey != t;
        p.trackingkey = t;
    }
    if let Some(c) = custom {
        modified |= p.custom != c;
        p.custom = c;
    }
    if let Some(u) = unlock {
        modified |= p.unlock_invoices != u;
        p.unlock_invoices = u;
    }
    if let Some(n) = next {
        modified |= p.next_payment_at != Some(n);
        p.next_payment_at = Some(n);
    }
    Ok(json!({"is_modified": yn(modified)}))
}

/// addBalanceToPurchase: credit or debit settled with the coming payments.
pub fn add_balance_to_purchase(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let amount = args.req_amount("amount")?;
    let p = a.purchase_mut_or_404(id)?;
    if !p.is_recurring() {
        return Err(ApiError::params(format!(
            "Order '{id}' is a single payment; a balance can only be added to subscription and installment orders"
        )));
    }
    let old = p.balance;
    p.balance = (old + amount).max(0);
    Ok(json!({"old_balance": money(old), "new_balance": money(p.balance), "currency": p.currency}))
}

/// refundPurchase: refunds every refundable payment of an order and stops its rebilling.
pub fn refund_purchase(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let force = args.bool_or("force", false)?;
    let request = args.date("request_date", ctx.now)?.unwrap_or(ctx.now.date());
    let p = a.purchase_or_404(id)?.clone();
    let refundable: Cents = a.purchase_transactions(&p.id).filter(|t| t.kind == TxKind::Payment).map(|t| t.amount - a.refunded_of(t)).sum();
    if refundable <= 0 {
        return Ok(json!({
            "modified": "N",
            "status": "completed",
            "purchase_id": p.id,
            "note": format!("Order '{}' has no payment left to refund", p.id),
            "billing_status": p.billing_status,
            "refunded_amount": "0.00",
            "currency": p.currency,
        }));
    }
    if !force && let Err(why) = refund_period_check(a, &p, p.created_at, request) {
        return Err(ApiError::params(format!("Refund refused: {why}")));
    }
    ensure_room(a.transactions.len() + 100, "transactions")?;
    let (tx_ids, total) = refund_all(a, id, ctx.now, "Refund via API");
    let p = a.purchase_or_404(id)?;
    Ok(json!({
        "modified": "Y",
        "status": "completed",
        "purchase_id": p.id,
        "note": format!("Refunded {} {} in {} transaction(s); rebilling stopped", money(total), p.currency, tx_ids.len()),
        "refunded_amount": money(total),
        "currency": p.currency,
        "refund_transaction_ids": tx_ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(),
        "billing_status": p.billing_status,
        "billing_status_msg": views::billing_status_msg(&p.billing_status),
    }))
}

/// refundPartially: gives back part of one payment; the order status stays as it is.
pub fn refund_partially(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let amount = args.req_amount("amount")?;
    let reason = args.str("reason").unwrap_or("Partial refund via API").to_string();
    if amount <= 0 {
        return Err(ApiError::params(format!("Argument amount must be greater than 0, got {}", money(amount))));
    }
    let p = a.purchase_or_404(id)?.clone();
    let candidates: Vec<(usize, Cents)> = a
        .tx_by_purchase
        .get(id)
        .map(|v| v.iter().copied().filter(|&i| a.transactions[i].kind == TxKind::Payment).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i, a.transactions[i].amount - a.refunded_of(&a.transactions[i])))
        .collect();
    let largest = candidates.iter().map(|c| c.1).max().unwrap_or(0);
    let Some(&(idx, _)) = candidates.iter().rev().find(|c| c.1 >= amount) else {
        return Err(ApiError::params(format!(
            "Argument amount ({} {}) exceeds what is left of any payment of order '{id}' (at most {} {})",
            money(amount),
            p.currency,
            money(largest),
            p.currency
        )));
    };
    ensure_room(a.transactions.len(), "transactions")?;
    let tid = a.book_reversal(idx, amount, TxKind::Refund, ctx.now, &reason);
    Ok(json!({
        "modified": "Y",
        "status": "completed",
        "purchase_id": id,
        "transaction_id": tid.to_string(),
        "refunded_amount": money(amount),
        "currency": p.currency,
        "note": format!("Refunded {} {} as a discount; the order status is unchanged", money(amount), p.currency),
    }))
}

/// resendPurchaseConfirmationMail: "sends" the confirmation e-mail again.
pub fn resend_purchase_confirmation_mail(a: &mut Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let p = a.purchase_mut_or_404(id)?;
    p.mails_sent += 1;
    let buyer_id = p.buyer_id;
    let email = a.buyers.get(&buyer_id).map(|b| b.email.clone()).unwrap_or_default();
    Ok(json!({"modified": "Y", "note": format!("The order confirmation for '{id}' was sent again to {email}")}))
}

/// createAddonChangePurchase: a package-change order adding subscription add-ons.
pub fn create_addon_change_purchase(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let base = a.purchase_or_404(id)?.clone();
    if !base.is_recurring() || !base.rebilling_active {
        return Err(ApiError::params(format!("Order '{id}' has no active subscription, so its add-ons cannot be changed")));
    }
    if !rebill_capable(&base.pay_method) {
        return Err(ApiError::params(format!("Order '{id}' was paid with {}, which cannot be charged again", base.pay_method)));
    }
    let addons = args.list("addons");
    if addons.is_empty() {
        return Err(ApiError::missing("addons"));
    }
    let mut items = vec![(base.product_id(), base.quantity(), 0, base.items[0].other_amounts)];
    for (i, v) in addons.iter().enumerate() {
        let ad = Args::element(v);
        let pid_text = ad.str("product_id").ok_or_else(|| ApiError::missing(&format!("addons[{i}][product_id]")))?;
        let product = a.product_by_text(pid_text)?;
        let qty = ad.int("quantity")?.unwrap_or(1);
        if qty < 1 {
            return Err(ApiError::params(format!("Argument addons[{i}][quantity] must be at least 1")));
        }
        let default_amount = a
            .payment_plans
            .values()
            .filter(|pp| pp.product_id == product.id)
            .map(|pp| if pp.number_of_installments == 0 { pp.other_amounts } else { pp.first_amount })
            .next()
            .unwrap_or(0);
        let amount = ad.amount("amount")?.unwrap_or(default_amount) * qty;
        items.push((product.id, qty, amount, amount));
    }
    let tracking = args.obj("tracking");
    let mut spec = OrderSpec::like(&base, "addon_change");
    spec.items = items;
    spec.number_of_installments = 0;
    if let Some(c) = tracking.str("custom") {
        spec.custom = c.to_string();
    }
    if let Some(c) = tracking.str("campaignkey") {
        spec.campaignkey = c.to_string();
    }
    if let Some(t) = tracking.str("trackingkey") {
        spec.trackingkey = t.to_string();
    }
    if let Some(aff) = tracking.str("affiliate") {
        spec.affiliate_id = Some(a.affiliate_or_404(aff)?.id);
    }
    spec.placeholders = args.entries("placeholders").into_iter().filter_map(|(k, v)| v.as_str().map(|s| (k, s.to_string()))).collect();
    spec.next_payment_at = base.next_payment_at;
    let new_id = new_order(a, spec, ctx.now)?;
    if let Some(old) = a.purchase_mut(id) {
        old.billing_status = "aborted".into();
        old.rebilling_active = false;
        old.next_payment_at = None;
        old.rebill_stop_noted_at = Some(ctx.now);
        old.upgraded_to = Some(new_id.clone());
    }
    let np = a.purchase_or_404(&new_id)?;
    Ok(Value::Object(views::created_purchase(&new_id, np)))
}

/// logMemberAccess: records a buyer's login to the membership area.
pub fn log_member_access(a: &mut Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let id = args.req_str("purchase_id")?;
    let platform = args.req_str("platform_name")?.to_string();
    let login = args.req_str("login_name")?.to_string();
    let url = args.req_str("login_url")?.to_string();
    let unlocked = args.req_int("number_of_unlocked_lectures")?;
    let total = args.req_int("total_number_of_lectures")?;
    if unlocked < 0 || total < 0 || unlocked > total {
        return Err(ApiError::params("number_of_unlocked_lectures must be between 0 and total_number_of_lectures".to_string()));
    }
    let at = args.point("login_at", ctx.now, Bound::Lower)?.unwrap_or(ctx.now);
    let p = a.purchase_mut_or_404(id)?;
    if p.member_access.len() >= MAX_ITEMS {
        p.member_access.remove(0);
    }
    p.member_access.push(MemberAccess { platform_name: platform, login_name: login, login_url: url, unlocked, total, login_at: at });
    Ok(json!({
        "modified": "Y",
        "purchase_id": id,
        "login_at": fmt_dt(at),
        "access_count": p.member_access.len().to_string(),
        "note": "The member access was logged",
    }))
}
