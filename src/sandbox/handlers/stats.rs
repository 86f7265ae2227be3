//! Handlers of the `stats` toolset: revenue figures, daily amounts, affiliate
//! toplists, expected payouts and marketplace statistics.
//!
//! Owns: figures computed from the account's transactions at call time (so a
//! refund lowers them at once); test orders are left out of every figure. Must
//! not touch: HTTP, account state (only reads).

use super::common::{Ctx, Res};
use crate::sandbox::args::{Args, Cents, money};
use crate::sandbox::booking::{payout_date, payouts};
use crate::sandbox::dates::{self, Bound, fmt_date, month_start, quarter_start, week_start, year_start};
use crate::sandbox::error::ApiError;
use crate::sandbox::model::*;
use crate::sandbox::reference::RESELLERS;
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::time::Instant;

#[derive(Default, Clone, Copy)]
struct Sums {
    share: Cents,
    brutto: Cents,
    netto: Cents,
    count: usize,
}

impl Sums {
    fn add(&mut self, t: &Transaction) {
        self.share += t.vendor;
        self.brutto += t.amount;
        self.netto += t.netto();
        if t.kind == TxKind::Payment {
            self.count += 1;
        }
    }

    fn json(&self) -> Value {
        json!({
            "vendor_share_amount": money(self.share),
            "vendor_brutto_amount": money(self.brutto),
            "vendor_netto_amount": money(self.netto),
            "affiliate_share_amount": "0.00",
            "affiliate_brutto_amount": "0.00",
            "affiliate_netto_amount": "0.00",
            "other_share_amount": "0.00",
            "other_brutto_amount": "0.00",
            "other_netto_amount": "0.00",
            "total_share_amount": money(self.share),
            "total_brutto_amount": money(self.brutto),
            "total_netto_amount": money(self.netto),
            "sales_count": self.count,
        })
    }
}

/// Sums of live transactions in `[from, to]`, per currency.
fn sums_by_currency(a: &Account, from: NaiveDateTime, to: NaiveDateTime) -> BTreeMap<String, Sums> {
    let mut out: BTreeMap<String, Sums> = BTreeMap::new();
    for t in a.transactions.iter().filter(|t| !t.is_test && t.created_at >= from && t.created_at <= to) {
        out.entry(t.currency.clone()).or_default().add(t);
    }
    out
}

fn day_start(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(0, 0, 0).expect("midnight")
}

fn day_end(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(23, 59, 59).expect("valid time")
}

fn period_start(period: &str, d: NaiveDate) -> NaiveDate {
    match period {
        "day" => d,
        "week" => week_start(d),
        "month" => month_start(d),
        "quarter" => quarter_start(d),
        _ => year_start(d),
    }
}

fn next_period(period: &str, d: NaiveDate) -> NaiveDate {
    match period {
        "day" => d + Duration::days(1),
        "week" => d + Duration::weeks(1),
        "month" => dates::add_months(d, 1),
        "quarter" => dates::add_months(d, 3),
        _ => dates::add_months(d, 12),
    }
}

/// statsSales: revenue per day, month, quarter or year, per currency.
pub fn stats_sales(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let period = args.one_of("period", &["day", "month", "quarter", "year"])?.unwrap_or("month");
    let today = ctx.now.date();
    let default_from = match period {
        "day" => today - Duration::days(29),
        "month" => dates::add_months(month_start(today), 0).checked_sub_months(chrono::Months::new(11)).unwrap_or(today),
        "quarter" => quarter_start(today).checked_sub_months(chrono::Months::new(9)).unwrap_or(today),
        _ => year_start(today).checked_sub_months(chrono::Months::new(24)).unwrap_or(today),
    };
    let from = args.date("from", ctx.now)?.unwrap_or(default_from);
    let to = args.date("to", ctx.now)?.unwrap_or(today);
    if to < from {
        return Err(ApiError::params("Argument to must not be before from"));
    }
    if period == "day" && (to - from).num_days() > 3660 {
        return Err(ApiError::params("With period=day the range may cover at most 3660 days"));
    }
    let mut buckets: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    let mut start = period_start(period, from);
    while start <= to {
        let next = next_period(period, start);
        buckets.push((start.max(from), (next - Duration::days(1)).min(to)));
        start = next;
    }
    let currencies: Vec<String> = {
        let mut c: Vec<String> = sums_by_currency(a, day_start(from), day_end(to)).into_keys().collect();
        if c.is_empty() {
            c.push(a.vendor.currency.clone());
        }
        c
    };
    let mut amounts = Map::new();
    for cur in &currencies {
        let mut per: Vec<Sums> = vec![Sums::default(); buckets.len()];
        for t in a.transactions.iter().filter(|t| !t.is_test && &t.currency == cur) {
            let d = t.created_at.date();
            if d < from || d > to {
                continue;
            }
            if let Some(i) = buckets.iter().position(|(s, e)| d >= *s && d <= *e) {
                per[i].add(t);
            }
        }
        let list: Vec<Value> = buckets
            .iter()
            .zip(per)
            .map(|((s, e), sums)| {
                let mut v = sums.json();
                v["from"] = json!(fmt_date(*s));
                v["to"] = json!(fmt_date(*e));
                v
            })
            .collect();
        amounts.insert(cur.clone(), json!(list));
    }
    Ok(json!({"amounts": amounts, "from": fmt_date(from), "to": fmt_date(to), "period": period}))
}

/// statsSalesSummary: revenue for today, this week/month/quarter/year and all time.
pub fn stats_sales_summary(a: &Account, _args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let started = Instant::now();
    let today = ctx.now.date();
    let mut for_ = Map::new();
    let mut durations = Map::new();
    let total_all = sums_by_currency(a, dates::beginning_of_records(), ctx.now);
    for (key, from) in [
        ("day", today),
        ("week", week_start(today)),
        ("month", month_start(today)),
        ("quarter", quarter_start(today)),
        ("year", year_start(today)),
        ("all", a.purchases.first().map(|p| p.created_at.date()).unwrap_or(today)),
    ] {
        let t0 = Instant::now();
        let sums = if key == "all" { total_all.clone() } else { sums_by_currency(a, day_start(from), ctx.now) };
        let amounts: Map<String, Value> = sums.iter().map(|(c, s)| (c.clone(), s.json())).collect();
        let percentages: Map<String, Value> = sums
            .iter()
            .map(|(c, s)| {
                let all = total_all.get(c).map(|x| x.share).unwrap_or(0);
                let pct = if all == 0 { 0 } else { (i128::from(s.share) * 10_000 / i128::from(all)) as Cents };
                (c.clone(), json!({"share_of_all_time": money(pct)}))
            })
            .collect();
        for_.insert(
            key.into(),
            json!({
                "from": fmt_date(from),
                "to": fmt_date(today),
                "amounts": amounts,
                "precentages": percentages,
                "references": {"all_time_from": fmt_date(a.purchases.first().map(|p| p.created_at.date()).unwrap_or(today))},
            }),
        );
        durations.insert(format!("amount_for_{key}"), json!((t0.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0));
    }
    durations.insert("total_call".into(), json!((started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0));
    Ok(json!({"for": for_, "call_duration_ms": durations}))
}

/// statsDailyAmounts: revenue per day and currency for a range (default the last 7 days).
pub fn stats_daily_amounts(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let from = args.point("from", ctx.now, Bound::Lower)?.unwrap_or(ctx.now - Duration::days(7)).date();
    let to = args.point("to", ctx.now, Bound::Upper)?.unwrap_or(ctx.now).date();
    if to < from {
        return Err(ApiError::params("Argument to must not be before from"));
    }
    let from = from.max(dates::beginning_of_records().date());
    if (to - from).num_days() > 3660 {
        return Err(ApiError::params("The range may cover at most 3660 days"));
    }
    let mut per_day: BTreeMap<(NaiveDate, String), Sums> = BTreeMap::new();
    let mut currencies: Vec<String> = Vec::new();
    for t in a.transactions.iter().filter(|t| !t.is_test) {
        let d = t.created_at.date();
        if d >= from && d <= to {
            per_day.entry((d, t.currency.clone())).or_default().add(t);
            if !currencies.contains(&t.currency) {
                currencies.push(t.currency.clone());
            }
        }
    }
    if currencies.is_empty() {
        currencies.push(a.vendor.currency.clone());
    }
    currencies.sort();
    let mut list = Vec::new();
    let mut d = from;
    while d <= to {
        for c in &currencies {
            let mut v = per_day.get(&(d, c.clone())).copied().unwrap_or_default().json();
            v["day"] = json!(fmt_date(d));
            v["currency"] = json!(c);
            list.push(v);
        }
        d += Duration::days(1);
    }
    Ok(json!({"from": fmt_date(from), "to": fmt_date(to), "amount_list": list}))
}

/// statsAffiliateToplist: affiliates ranked by revenue for a range of months.
pub fn stats_affiliate_toplist(a: &Account, args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let from = args.point("from", ctx.now, Bound::Lower)?.ok_or_else(|| ApiError::missing("from"))?;
    let to = args.point("to", ctx.now, Bound::Upper)?.ok_or_else(|| ApiError::missing("to"))?;
    let from = day_start(month_start(from.date()));
    let to = day_end(dates::add_months(month_start(to.date()), 1) - Duration::days(1));
    if to < from {
        return Err(ApiError::params("Argument to must not be before from"));
    }
    let currency = args.str("currency").map(str::to_ascii_uppercase).unwrap_or_else(|| a.vendor.currency.clone());
    let only = match args.str("affiliate") {
        Some(name) => Some(a.affiliate_or_404(name)?.id),
        None => None,
    };
    #[derive(Default)]
    struct Row {
        brutto: Cents,
        netto: Cents,
        payment: Cents,
        refund: Cents,
        chargeback: Cents,
        affiliate: Cents,
        merchant: Cents,
        payments: usize,
        refunds: usize,
        chargebacks: usize,
    }
    let mut rows: BTreeMap<u64, Row> = BTreeMap::new();
    for t in a.transactions.iter().filter(|t| !t.is_test && t.currency == currency && t.created_at >= from && t.created_at <= to) {
        let Some(aff) = t.affiliate_id else { continue };
        if only.is_some_and(|o| o != aff) {
            continue;
        }
        let r = rows.entry(aff).or_default();
        r.brutto += t.amount;
        r.netto += t.netto();
        r.affiliate += t.affiliate;
        r.merchant += t.vendor;
        match t.kind {
            TxKind::Payment => {
                r.payment += t.amount;
                r.payments += 1;
            }
            TxKind::Refund => {
                r.refund += -t.amount;
                r.refunds += 1;
            }
            TxKind::Chargeback => {
                r.chargeback += -t.amount;
                r.chargebacks += 1;
            }
        }
    }
    let mut list: Vec<(u64, Row)> = rows.into_iter().collect();
    list.sort_by(|x, y| y.1.netto.cmp(&x.1.netto).then(x.0.cmp(&y.0)));
    let quota = |n: usize, of: usize| (n * 10_000).checked_div(of).map(|q| money(q as Cents)).unwrap_or_else(|| "0.00".to_string());
    let top: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, (aff, r))| {
            json!({
                "rank": i + 1,
                "affiliate_id": aff.to_string(),
                "affiliate_name": a.affiliate_name(Some(*aff)),
                "currency": currency,
                "brutto_amount": money(r.brutto),
                "netto_amount": money(r.netto),
                "payment_amount": money(r.payment),
                "refund_amount": money(r.refund),
                "chargeback_amount": money(r.chargeback),
                "cancellation_amount": "0.00",
                "affiliate_amount": money(r.affiliate),
                "merchant_amount": money(r.merchant),
                "sales_count": r.payments,
                "refund_quota": quota(r.refunds, r.payments),
                "chargeback_quota": quota(r.chargebacks, r.payments),
                "cancellation_quota": "0.00",
            })
        })
        .collect();
    Ok(json!({"from": fmt_date(from.date()), "to": fmt_date(to.date()), "currency": currency, "top_list": top}))
}

/// statsExpectedPayouts: earned, paid out, pending and upcoming payout amounts.
pub fn stats_expected_payouts(a: &Account, _args: Args<'_>, ctx: &Ctx<'_>) -> Res {
    let started = Instant::now();
    let today = ctx.now.date();
    let mut total: BTreeMap<String, Cents> = BTreeMap::new();
    let mut future: BTreeMap<NaiveDate, BTreeMap<String, Cents>> = BTreeMap::new();
    for t in a.transactions.iter().filter(|t| !t.is_test) {
        *total.entry(t.currency.clone()).or_default() += t.vendor;
        let day = payout_date(t.created_at);
        if day > today {
            *future.entry(day).or_default().entry(t.currency.clone()).or_default() += t.vendor;
        }
    }
    let mut paid: BTreeMap<String, Cents> = BTreeMap::new();
    for ((_, cur), (vendor, _, _)) in payouts(a, today) {
        *paid.entry(cur).or_default() += vendor;
    }
    let obj = |m: &BTreeMap<String, Cents>| -> Value { Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(money(*v)))).collect()) };
    let pending: BTreeMap<String, Cents> = total.iter().map(|(c, v)| (c.clone(), v - paid.get(c).copied().unwrap_or(0))).collect();
    let future_json: Map<String, Value> = future
        .iter()
        .map(|(day, per)| {
            let inner: Map<String, Value> = per
                .iter()
                .map(|(c, v)| (c.clone(), json!({"amount": money(*v), "can_payout": if *v >= 5000 { "Y" } else { "N" }, "treshold": "50.00", "note": if *v >= 5000 { "" } else { "Below the payout threshold; carried over" }})))
                .collect();
            (fmt_date(*day), Value::Object(inner))
        })
        .collect();
    Ok(json!({
        "total_earnings": obj(&total),
        "paidout_amount": obj(&paid),
        "pending_amount": obj(&pending),
        "future_amounts": future_json,
        "by_reseller": [{
            "reseller_id": RESELLERS[0].0.to_string(),
            "reseller_name": RESELLERS[0].1,
            "total_earnings": obj(&total),
            "paidout_amount": obj(&paid),
            "pending_amount": obj(&pending),
            "future_amounts": future_json,
        }],
        "note": {"message": "Earnings of a month are paid out on the 15th of the following month", "reasons": []},
        "call_duration_ms": {"total_call": (started.elapsed().as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0},
    }))
}

/// statsMarketplace: marketplace statistics of the vendor's listings.
pub fn stats_marketplace(a: &Account, args: Args<'_>, _ctx: &Ctx<'_>) -> Res {
    let language = args.str("language").map(str::to_ascii_lowercase);
    let entries: Vec<&MarketplaceEntry> = a.marketplace.values().filter(|m| language.as_ref().is_none_or(|l| *l == m.language)).collect();
    let approved = entries.iter().filter(|m| m.approval_status == "approved").count();
    let avg_stars = if entries.is_empty() { 0 } else { entries.iter().map(|m| m.stars).sum::<Cents>() / entries.len() as Cents };
    let best = entries.iter().map(|m| m.seller_rank).min().unwrap_or(0);
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    for m in &entries {
        *categories.entry(m.category.clone()).or_default() += 1;
    }
    Ok(json!({
        "language": language.unwrap_or_else(|| "all".into()),
        "entry_count": entries.len(),
        "approved_count": approved,
        "average_stars": money(avg_stars),
        "best_seller_rank": best.to_string(),
        "categories": categories,
        "entries": entries.iter().map(|m| json!({"id": m.id.to_string(), "headline": m.headline, "stats_stars": money(m.stars), "stats_seller_rank": m.seller_rank.to_string()})).collect::<Vec<_>>(),
    }))
}
