//! The sandbox's outgoing IPNs, as Digistore24 sends them: after a write
//! that Digistore24 would notify (refund, rebilling stopped or resumed, a
//! new purchase), one signed form POST per matching `ipnSetup` connection,
//! retried with backoff until the answer is `OK`.
//!
//! Owns: which writes notify, the IPN fields (real names, a subset of the
//! 173) and delivery — to loopback URLs only: the sandbox never calls out. Must not touch: the MCP server (it only reaches it over
//! HTTP, like Digistore24 would).

use super::args::money;
use super::dates::fmt_dt;
use super::handlers::ipn::is_loopback_url;
use super::model::{Account, IpnConnection, Purchase, TxKind};
use crate::ipn::signature;
use std::time::Duration;

/// One IPN ready to send: where, and the signed fields.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The connection's `ipn_url`.
    pub url: String,
    /// Every field, `sha_sign` last.
    pub fields: Vec<(String, String)>,
}

/// Most delivery attempts of one IPN (Digistore24 keeps trying for days).
const ATTEMPTS: u32 = 8;

/// The IPN event of a successful write, if Digistore24 sends one.
fn event_of(function: &str) -> Option<&'static str> {
    match function {
        "refundPurchase" | "refundPartially" => Some("on_refund"),
        "stopRebilling" => Some("on_rebill_cancelled"),
        "startRebilling" => Some("on_rebill_resumed"),
        _ => None,
    }
}

fn label(event: &str) -> &'static str {
    match event {
        "on_payment" => "Payment",
        "on_refund" => "Refund",
        "on_rebill_cancelled" => "Rebilling cancelled",
        "on_rebill_resumed" => "Rebilling resumed",
        _ => "Event",
    }
}

/// The IPNs a successful write sends; `modified: N` answers send none.
pub fn after_write(a: &Account, function: &str, purchase_id: Option<&str>, answer: &serde_json::Value) -> Vec<Notice> {
    let (Some(event), Some(id)) = (event_of(function), purchase_id) else { return Vec::new() };
    if answer.get("modified").and_then(|m| m.as_str()) == Some("N") {
        return Vec::new();
    }
    a.purchase(id).map(|p| for_order(a, p, event)).unwrap_or_default()
}

/// The IPNs of `event` on order `p`, one per connection that wants it.
pub fn for_order(a: &Account, p: &Purchase, event: &str) -> Vec<Notice> {
    a.ipn_connections
        .values()
        .filter(|c| wants(c, p, event))
        .map(|c| Notice { url: c.ipn_url.clone(), fields: signed(a, c, p, event) })
        .collect()
}

fn wants(c: &IpnConnection, p: &Purchase, event: &str) -> bool {
    // The sandbox stays offline: public URLs are stored, never called.
    if !is_loopback_url(&c.ipn_url) {
        return false;
    }
    let transaction = event.trim_start_matches("on_");
    let by_event = c.transactions.split(',').map(str::trim).any(|t| t == "all" || t == transaction);
    let main = p.items.first().map(|i| i.product_id.to_string()).unwrap_or_default();
    let by_product = c.product_ids == "all" || c.product_ids.split(',').any(|id| id.trim() == main);
    by_event && by_product
}

fn signed(a: &Account, c: &IpnConnection, p: &Purchase, event: &str) -> Vec<(String, String)> {
    let mut fields = order_fields(a, p, event);
    fields.push(("ipn_config_id".into(), c.id.to_string()));
    fields.push(("ipn_config_domain_id".into(), c.domain_id.clone()));
    let sign = signature::sign(&fields, &c.sha_passphrase, false);
    fields.push(("sha_sign".into(), sign));
    fields
}

/// The fields of an order IPN, with Digistore24's names.
fn order_fields(a: &Account, p: &Purchase, event: &str) -> Vec<(String, String)> {
    let item = p.items.first();
    let product = item.and_then(|i| a.products.get(&i.product_id));
    let buyer = a.buyers.get(&p.buyer_id);
    let payments = a.purchase_transactions(&p.id).filter(|t| t.kind == TxKind::Payment).count();
    let wanted = if event == "on_refund" { TxKind::Refund } else { TxKind::Payment };
    let transaction = a.purchase_transactions(&p.id).filter(|t| t.kind == wanted).last();
    let billing_type = match p.number_of_installments {
        0 => "subscription",
        1 => "single_payment",
        _ => "installment",
    };
    let mut fields: Vec<(&str, String)> = vec![
        ("event", event.into()),
        ("event_label", label(event).into()),
        ("api_mode", if p.is_test { "test" } else { "live" }.into()),
        ("ipn_version", "1.6".into()),
        ("merchant_id", a.vendor.user_id.to_string()),
        ("merchant_name", a.vendor.user_name.clone()),
        ("order_id", p.id.clone()),
        ("order_date_time", fmt_dt(p.created_at)),
        ("order_type", p.order_type.clone()),
        ("product_id", item.map(|i| i.product_id.to_string()).unwrap_or_default()),
        ("product_name", product.map(|x| x.name.clone()).unwrap_or_default()),
        ("quantity", item.map(|i| i.quantity.to_string()).unwrap_or_default()),
        ("amount", money(transaction.map_or(p.first_amount, |t| t.amount))),
        ("currency", p.currency.clone()),
        ("billing_type", billing_type.into()),
        ("billing_status", p.billing_status.clone()),
        ("pay_method", p.pay_method.clone()),
        ("pay_sequence_no", payments.to_string()),
        ("transaction_id", transaction.map(|t| t.id.to_string()).unwrap_or_default()),
        ("transaction_type", if event == "on_refund" { "refund" } else { "payment" }.into()),
        ("buyer_id", p.buyer_id.to_string()),
        ("buyer_email", buyer.map(|b| b.email.clone()).unwrap_or_default()),
        ("buyer_first_name", buyer.map(|b| b.first_name.clone()).unwrap_or_default()),
        ("buyer_last_name", buyer.map(|b| b.last_name.clone()).unwrap_or_default()),
        ("country", p.country.clone()),
        ("custom", p.custom.clone()),
    ];
    if event == "on_rebill_cancelled" {
        fields.push(("billing_stop_reason", "by_operator".into()));
    }
    fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect()
}

/// Sends the notices in the background (no runtime: nothing is sent).
pub fn send_all(notices: Vec<Notice>) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
    for notice in notices {
        runtime.spawn(deliver(notice));
    }
}

fn client() -> reqwest::Client {
    // Digistore24 does not follow redirects for IPN URLs.
    reqwest::Client::builder().timeout(Duration::from_secs(10)).redirect(reqwest::redirect::Policy::none()).build().unwrap_or_default()
}

/// POSTs one IPN until the answer is HTTP 200 starting with `OK`.
pub async fn deliver(notice: Notice) -> bool {
    let client = client();
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(&notice.fields).finish();
    let mut backoff = Duration::from_millis(200);
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(&notice.url)
            .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
            .body(body.clone())
            .send()
            .await;
        let outcome = match sent {
            Ok(r) if r.status() == 200 => match r.text().await {
                Ok(text) if text.starts_with("OK") => return true,
                Ok(_) => "answer is not OK".to_owned(),
                Err(e) => e.to_string(),
            },
            Ok(r) => format!("HTTP {}", r.status().as_u16()),
            Err(e) => e.to_string(),
        };
        tracing::debug!(attempt, outcome, "sandbox: IPN not accepted; retrying");
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
    tracing::warn!(url = notice.url, "sandbox: IPN given up after {ATTEMPTS} attempts");
    false
}

/// Digistore24's check of a new IPN URL: GET must answer 200 (no redirects).
pub async fn check_url(url: &str) -> Result<(), String> {
    match client().get(url).send().await {
        Ok(r) if r.status() == 200 => Ok(()),
        Ok(r) => Err(format!("the IPN URL answered HTTP {} to a GET (200 needed)", r.status().as_u16())),
        Err(e) => Err(format!("the IPN URL cannot be reached: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn the_writes_digistore24_notifies_map_to_their_events() {
        assert_eq!(event_of("refundPurchase"), Some("on_refund"));
        assert_eq!(event_of("refundPartially"), Some("on_refund"));
        assert_eq!(event_of("stopRebilling"), Some("on_rebill_cancelled"));
        assert_eq!(event_of("startRebilling"), Some("on_rebill_resumed"));
        assert_eq!(event_of("updateProduct"), None);
        assert!(!is_loopback_url("https://crm.sandbox-shop.example/ipn") && is_loopback_url("http://127.0.0.1:8080/ipn/x"));
        assert!(!is_loopback_url("http://127.0.0.1.evil.example/") && is_loopback_url("http://localhost"));
    }

    #[tokio::test]
    async fn delivery_retries_until_the_answer_is_ok() {
        let calls = Arc::new(AtomicU32::new(0));
        let counter = calls.clone();
        let app = axum::Router::new().route(
            "/ipn",
            axum::routing::post(move || {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                // 503, then 200 without OK, then OK.
                async move {
                    match n {
                        0 => (axum::http::StatusCode::SERVICE_UNAVAILABLE, "busy"),
                        1 => (axum::http::StatusCode::OK, "ERROR"),
                        _ => (axum::http::StatusCode::OK, "OK"),
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/ipn", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        assert!(deliver(Notice { url, fields: vec![("event".into(), "on_refund".into())] }).await);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }
}
