//! The agent's view of one IPN: a few named fields out of up to 173, and
//! the row the store keeps.

use super::signature::{self, Fields};
use crate::store::{NewEvent, StoredEvent};
use serde_json::{Map, Value, json};

/// The summary fields, as named in the IPN (amount falls back to `transaction_amount`).
const SUMMARY_FIELDS: [&str; 10] = [
    "event_label",
    "order_id",
    "transaction_id",
    "product_id",
    "product_name",
    "currency",
    "billing_type",
    "pay_sequence_no",
    "buyer_email",
    "api_mode",
];

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.iter().find(|(n, v)| n == name && !v.is_empty()).map(|(_, v)| v.as_str())
}

/// The row to store for a verified IPN of `tenant`.
pub fn new_event(tenant: &str, fields: &Fields, received_at: i64) -> NewEvent {
    let event = field(fields, "event").unwrap_or("unknown").to_owned();
    let mut summary = Map::new();
    summary.insert("event".into(), event.clone().into());
    for name in SUMMARY_FIELDS {
        if let Some(value) = field(fields, name) {
            let key = if name == "event_label" { "label" } else { name };
            summary.insert(key.into(), value.into());
        }
    }
    if let Some(amount) = field(fields, "amount").or_else(|| field(fields, "transaction_amount")) {
        summary.insert("amount".into(), amount.into());
    }
    let test_mode = field(fields, "api_mode") == Some("test");
    summary.remove("api_mode");
    summary.insert("test_mode".into(), test_mode.into());
    let raw: Map<String, Value> = fields
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("sha_sign") && !n.eq_ignore_ascii_case("shasign"))
        .map(|(n, v)| (n.clone(), v.clone().into()))
        .collect();
    NewEvent {
        tenant: tenant.to_owned(),
        content_hash: signature::content_hash(fields),
        event,
        order_id: field(fields, "order_id").map(str::to_owned),
        transaction_id: field(fields, "transaction_id").map(str::to_owned),
        product_id: field(fields, "product_id").map(str::to_owned),
        test_mode,
        received_at,
        summary: Value::Object(summary),
        fields: Value::Object(raw),
    }
}

/// A stored event as tools show it: the summary, its id and time; `full`
/// adds every received field.
pub fn view(event: &StoredEvent, full: bool) -> Value {
    let mut out = json!({"id": event.id.to_string(), "received_at": rfc3339(event.received_at)});
    if let (Value::Object(out), Value::Object(summary)) = (&mut out, &event.summary) {
        out.extend(summary.clone());
        if full {
            out.insert("fields".into(), event.fields.clone());
        }
    }
    out
}

/// Unix milliseconds as an RFC 3339 UTC time.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default()
}
