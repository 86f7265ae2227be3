//! The vocabulary every handler file shares.
//!
//! Owns: the handler result [`Res`] and call context [`Ctx`], paging ([`Page`]),
//! the `from`/`to` window of the list functions, the `search[...]` filter of
//! listPurchases and listTransactions, finding the record an id argument names
//! (or the not-found error), and small argument checks (public URLs, e-mail
//! addresses, id lists). Must not touch: account state (nothing here writes),
//! HTTP, answer shapes.

use crate::sandbox::args::Args;
use crate::sandbox::dates::{Bound, fmt_dt};
use crate::sandbox::error::ApiError;
use crate::sandbox::keys::Access;
use crate::sandbox::model::*;
use chrono::{Duration, NaiveDateTime};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::str::FromStr;

/// What a handler answers: the `data` payload, or an error.
pub type Res = Result<Value, ApiError>;

/// Facts about the current call a handler may use.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    /// Server time of the call.
    pub now: NaiveDateTime,
    /// The API key used.
    pub key: &'a str,
    /// Its access level.
    pub access: Access,
    /// Where this sandbox is reached (`http://host:port`), for links to its own pages.
    pub site: &'a str,
}

/// Page geometry of a list answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number asked for.
    pub page_no: usize,
    /// Items per page (0 = all on one page).
    pub page_size: usize,
    /// Pages in total.
    pub page_count: usize,
    /// Items in total (after filters).
    pub item_count: usize,
}

impl Page {
    /// Reads `page_no`/`page_size` (with defaults and an upper limit) for `item_count` items.
    /// `page_size` 0 means "everything" only where `zero_means_all` is set.
    pub fn from_args(
        args: Args<'_>,
        item_count: usize,
        default_size: usize,
        max_size: usize,
        zero_means_all: bool,
    ) -> Result<Page, ApiError> {
        let page_no = args.int("page_no")?.unwrap_or(1);
        if page_no < 1 {
            return Err(ApiError::params(format!("Argument page_no must be at least 1, got {page_no}")));
        }
        let size = args.int("page_size")?.unwrap_or(default_size as i64);
        if size < 0 || (size == 0 && !zero_means_all) {
            return Err(ApiError::params(format!("Argument page_size must be at least 1, got {size}")));
        }
        let page_size = (size as usize).min(max_size);
        Ok(Page::new(page_no as usize, page_size, item_count))
    }

    /// Page geometry for explicit values.
    pub fn new(page_no: usize, page_size: usize, item_count: usize) -> Page {
        let page_count = if page_size == 0 { usize::from(item_count > 0) } else { item_count.div_ceil(page_size) };
        Page { page_no, page_size, page_count, item_count }
    }

    /// The index range of this page within the filtered list.
    pub fn range(&self) -> std::ops::Range<usize> {
        if self.page_size == 0 {
            return if self.page_no == 1 { 0..self.item_count } else { 0..0 };
        }
        let start = (self.page_no - 1).saturating_mul(self.page_size).min(self.item_count);
        let end = start.saturating_add(self.page_size).min(self.item_count);
        start..end
    }

    /// Writes `page_no`, `page_size`, `page_count`, `item_count` into an answer.
    pub fn write(&self, data: &mut Map<String, Value>) {
        data.insert("page_no".into(), json!(self.page_no));
        data.insert("page_size".into(), json!(self.page_size));
        data.insert("page_count".into(), json!(self.page_count));
        data.insert("item_count".into(), json!(self.item_count));
    }
}

/// Refuses URLs Digistore24 would refuse: only public `https://` addresses.
pub fn check_public_https(label: &str, url: &str) -> Result<(), ApiError> {
    let bad = || {
        ApiError::params(format!(
            "Argument {label} must be a public https:// URL (http, localhost and private addresses are refused), got '{url}'"
        ))
    };
    let rest = url.strip_prefix("https://").ok_or_else(bad)?;
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = host_port.rsplit('@').next().unwrap_or(host_port);
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().unwrap_or("").trim_start_matches('[').to_string()
    } else {
        host_port.split(':').next().unwrap_or("").to_ascii_lowercase()
    };
    if host.is_empty() || !host.contains(['.', ':']) {
        return Err(bad());
    }
    if host == "localhost" || host.ends_with(".localhost") || host.ends_with(".local") || host.ends_with(".internal") {
        return Err(bad());
    }
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        let private = match ip {
            std::net::IpAddr::V4(v4) => {
                v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified() || v4.is_broadcast()
            }
            std::net::IpAddr::V6(v6) => {
                v6.is_loopback() || v6.is_unspecified() || (v6.segments()[0] & 0xfe00) == 0xfc00 || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        };
        if private {
            return Err(bad());
        }
    }
    Ok(())
}

/// Checks an optional URL argument with [`check_public_https`].
pub fn check_url_arg(args: Args<'_>, name: &str) -> Result<Option<String>, ApiError> {
    match args.str(name) {
        None => Ok(None),
        Some(u) => {
            check_public_https(&args.label(name), u)?;
            Ok(Some(u.to_string()))
        }
    }
}

/// Case-insensitive "contains" used by the text search filters.
pub fn contains_ci(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

/// Parses a comma list of numeric ids; text that is no id is kept out (it matches nothing).
pub fn id_list(parts: &[&str]) -> Vec<u64> {
    parts.iter().filter_map(|p| p.parse().ok()).collect()
}

/// The `search[...]` filters of listPurchases and listTransactions.
#[derive(Debug, Default)]
pub struct SearchFilter {
    roles: Vec<String>,
    product_ids: Option<Vec<u64>>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    has_affiliate: Option<bool>,
    affiliate_name: Option<String>,
    order_type: Option<String>,
    pay_methods: Vec<String>,
    billing_types: Vec<String>,
    /// Transaction types asked for (`payment`, `refund`, `chargeback`, `refund_request`).
    pub transaction_types: Vec<String>,
    currency: Option<String>,
    purchase_ids: Vec<String>,
}

impl SearchFilter {
    /// Reads the filters from the `search` object.
    pub fn from_args(search: Args<'_>) -> Result<SearchFilter, ApiError> {
        let lower = |v: Vec<&str>| v.into_iter().map(str::to_ascii_lowercase).collect::<Vec<_>>();
        let roles = lower(search.csv("role"));
        for r in &roles {
            if !["vendor", "affiliate", "other"].contains(&r.as_str()) {
                return Err(ApiError::params(format!("Invalid value '{r}' in search[role]; allowed: vendor, affiliate, other")));
            }
        }
        let billing_types = lower(search.csv("billing_type"));
        for b in &billing_types {
            if !["single_payment", "subscription", "installment"].contains(&b.as_str()) {
                return Err(ApiError::params(format!(
                    "Invalid value '{b}' in search[billing_type]; allowed: single_payment, subscription, installment"
                )));
            }
        }
        let transaction_types = lower(search.csv("transaction_type"));
        for t in &transaction_types {
            if !["payment", "refund", "chargeback", "refund_request"].contains(&t.as_str()) {
                return Err(ApiError::params(format!(
                    "Invalid value '{t}' in search[transaction_type]; allowed: payment, refund, chargeback, refund_request"
                )));
            }
        }
        let ids = search.csv("product_id");
        Ok(SearchFilter {
            roles,
            product_ids: (!ids.is_empty()).then(|| id_list(&ids)),
            first_name: search.str("first_name").map(str::to_string),
            last_name: search.str("last_name").map(str::to_string),
            email: search.str("email").map(str::to_string),
            has_affiliate: search.bool("has_affiliate")?,
            affiliate_name: search.str("affiliate_name").map(str::to_string),
            order_type: search.one_of("order_type", &["live", "test"])?.map(str::to_string),
            pay_methods: lower(search.csv("pay_method")),
            billing_types,
            transaction_types,
            currency: search.str("currency").map(str::to_ascii_uppercase),
            purchase_ids: search.csv("purchase_id").into_iter().map(|s| s.to_ascii_uppercase()).collect(),
        })
    }

    /// Whether an order passes every filter except the transaction type.
    pub fn matches_purchase(&self, a: &Account, p: &Purchase) -> bool {
        if !self.roles.is_empty() && !self.roles.iter().any(|r| r == "vendor") {
            return false;
        }
        if let Some(ids) = &self.product_ids
            && !p.items.iter().any(|i| ids.contains(&i.product_id))
        {
            return false;
        }
        if self.first_name.is_some() || self.last_name.is_some() || self.email.is_some() {
            let Some(b) = a.buyers.get(&p.buyer_id) else { return false };
            if self.first_name.as_deref().is_some_and(|n| !contains_ci(&b.first_name, n))
                || self.last_name.as_deref().is_some_and(|n| !contains_ci(&b.last_name, n))
                || self.email.as_deref().is_some_and(|n| !contains_ci(&b.email, n))
            {
                return false;
            }
        }
        if let Some(h) = self.has_affiliate
            && p.affiliate_id.is_some() != h
        {
            return false;
        }
        if let Some(name) = &self.affiliate_name
            && !a.affiliate_name(p.affiliate_id).eq_ignore_ascii_case(name)
        {
            return false;
        }
        if let Some(t) = &self.order_type
            && (t == "test") != p.is_test
        {
            return false;
        }
        if !self.pay_methods.is_empty() && !self.pay_methods.iter().any(|m| m.eq_ignore_ascii_case(&p.pay_method)) {
            return false;
        }
        if !self.billing_types.is_empty() && !self.billing_types.iter().any(|b| b == p.billing_type()) {
            return false;
        }
        if let Some(c) = &self.currency
            && !p.currency.eq_ignore_ascii_case(c)
        {
            return false;
        }
        if !self.purchase_ids.is_empty() && !self.purchase_ids.contains(&p.id) {
            return false;
        }
        true
    }

    /// Whether a transaction's type is among those asked for (`refund_request` matches nothing simulated).
    pub fn matches_type(&self, kind: TxKind) -> bool {
        self.transaction_types.is_empty() || self.transaction_types.iter().any(|t| t == kind.as_str())
    }
}

/// Reads `from`/`to` with the list functions' defaults (-24h .. now).
pub fn time_window(args: Args<'_>, ctx: &Ctx<'_>) -> Result<(chrono::NaiveDateTime, chrono::NaiveDateTime), ApiError> {
    let from = args.point("from", ctx.now, Bound::Lower)?.unwrap_or(ctx.now - Duration::hours(24));
    let to = args.point("to", ctx.now, Bound::Upper)?.unwrap_or(ctx.now);
    Ok((from, to))
}

/// A plausible e-mail address check (one `@`, a dot in the domain, no spaces).
pub fn plausible_email(e: &str) -> bool {
    let Some((local, domain)) = e.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !e.contains(char::is_whitespace)
        && !domain.contains('@')
}

/// Parses a `product_id` argument; text that is no number names no product.
fn product_id(args: Args<'_>) -> Result<u64, ApiError> {
    let raw = args.req_str("product_id")?;
    raw.parse::<u64>().map_err(|_| ApiError::no_such("Product", raw))
}

/// The live product a `product_id` argument names, with its id, or the not-found error.
pub fn product_arg<'a>(a: &'a Account, args: Args<'_>) -> Result<(u64, &'a Product), ApiError> {
    let id = product_id(args)?;
    Ok((id, a.product_or_404(id)?))
}

/// The live product a `product_id` argument names, for changing it, or the not-found error.
pub fn product_arg_mut<'a>(a: &'a mut Account, args: Args<'_>) -> Result<(u64, &'a mut Product), ApiError> {
    let id = product_id(args)?;
    Ok((id, a.product_mut_or_404(id)?))
}

/// An id argument and the record kind its not-found error names ("No such Buyer '7'").
#[derive(Debug, Clone, Copy)]
pub struct IdArg {
    /// The argument's name.
    pub name: &'static str,
    /// The record kind, as the error message spells it.
    pub what: &'static str,
}

impl IdArg {
    /// Reads the required id and parses it; text that is no valid key names no record.
    fn key<K: FromStr>(&self, args: Args<'_>) -> Result<(K, String), ApiError> {
        let raw = args.req_str(self.name)?;
        let key = raw.parse::<K>().map_err(|_| ApiError::no_such(self.what, raw))?;
        Ok((key, raw.to_string()))
    }

    /// The record the argument names, with its key, or the not-found error.
    pub fn find<'m, K: Ord + FromStr, V>(&self, records: &'m BTreeMap<K, V>, args: Args<'_>) -> Result<(K, &'m V), ApiError> {
        let (key, raw) = self.key::<K>(args)?;
        match records.get(&key) {
            Some(record) => Ok((key, record)),
            None => Err(ApiError::no_such(self.what, raw)),
        }
    }

    /// The record the argument names, for changing it, or the not-found error.
    pub fn find_mut<'m, K: Ord + FromStr, V>(&self, records: &'m mut BTreeMap<K, V>, args: Args<'_>) -> Result<(K, &'m mut V), ApiError> {
        let (key, raw) = self.key::<K>(args)?;
        match records.get_mut(&key) {
            Some(record) => Ok((key, record)),
            None => Err(ApiError::no_such(self.what, raw)),
        }
    }

    /// Removes the record the argument names and hands it back, or the not-found error.
    pub fn take<K: Ord + FromStr, V>(&self, records: &mut BTreeMap<K, V>, args: Args<'_>) -> Result<(K, V), ApiError> {
        let (key, raw) = self.key::<K>(args)?;
        match records.remove(&key) {
            Some(record) => Ok((key, record)),
            None => Err(ApiError::no_such(self.what, raw)),
        }
    }
}

/// The frame of a list answer over a time window: `from`, `to` and the page geometry.
pub fn window_answer(from: NaiveDateTime, to: NaiveDateTime, page: &Page) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("from".into(), json!(fmt_dt(from)));
    data.insert("to".into(), json!(fmt_dt(to)));
    page.write(&mut data);
    data
}

/// Writes `value` into `slot` and notes the change, if it is a change.
pub fn set_if_changed<T: PartialEq>(slot: &mut T, value: T, modified: &mut bool) {
    if *slot != value {
        *slot = value;
        *modified = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_covers_everything_once() {
        for (count, size) in [(0usize, 10usize), (1, 10), (10, 10), (11, 10), (400, 7), (5, 0)] {
            let first = Page::new(1, size, count);
            let mut seen = 0;
            for no in 1..=first.page_count.max(1) {
                seen += Page::new(no, size, count).range().len();
            }
            assert_eq!(seen, count, "count {count} size {size}");
            assert!(Page::new(first.page_count + 1, size, count).range().is_empty());
        }
        assert_eq!(Page::new(1, 10, 0).page_count, 0);
        assert_eq!(Page::new(1, 10, 25).page_count, 3);
    }

    #[test]
    fn paging_arguments() {
        let v = json!({"page_no":"2","page_size":"5000"});
        let p = Page::from_args(Args::new(v.as_object().unwrap()), 3000, 500, 1000, false).unwrap();
        assert_eq!((p.page_no, p.page_size, p.page_count), (2, 1000, 3));
        let v = json!({"page_no":"0"});
        assert!(Page::from_args(Args::new(v.as_object().unwrap()), 10, 500, 1000, false).is_err());
        let v = json!({"page_size":"0"});
        assert!(Page::from_args(Args::new(v.as_object().unwrap()), 10, 500, 1000, false).is_err());
        assert_eq!(Page::from_args(Args::new(v.as_object().unwrap()), 10, 0, 1000, true).unwrap().range(), 0..10);
    }

    #[test]
    fn public_https_only() {
        assert!(check_public_https("u", "https://example.com/ipn").is_ok());
        assert!(check_public_https("u", "https://shop.example.com:8443/x?y=1").is_ok());
        for bad in [
            "http://example.com",
            "https://localhost/x",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://192.168.0.1",
            "https://intranet/",
            "ftp://x.com",
            "https://[::1]/",
        ] {
            assert!(check_public_https("u", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        assert!(plausible_email("a.b@example.com"));
        for bad in ["", "a", "a@b", "@x.de", "a b@x.de", "a@x.", "a@@x.de"] {
            assert!(!plausible_email(bad), "{bad}");
        }
    }
}
