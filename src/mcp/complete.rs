//! `completion/complete` for prompt arguments and resource-template
//! variables: product ids, recent order ids, buyer ids and e-mails from the
//! caller's own account (read through the same pipeline as a tool call),
//! plus fixed lists (guide topics, toolsets, periods, IPN event types). At most 100 values,
//! with `hasMore`; the account's lists are kept briefly per key.
//!
//! Owns: which argument completes from what, matching, and the short-lived
//! per-key cache. Must not touch: how a read is made (see `pipeline.rs`).

use super::confirm::Asker;
use super::context::CallContext;
use super::pipeline::Ds24Server;
use super::resources::GUIDES;
use crate::catalog::{self, TOOLSETS, reads};
use rmcp::model::CompletionInfo;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long an account's list stays cached for completions.
pub const COMPLETION_TTL: Duration = Duration::from_secs(60);

/// Values of one account list: (value, text it is matched against besides itself).
type Values = Arc<Vec<(String, String)>>;
/// Cached lists by (SHA-256 of the key, source name), with when they were fetched.
type Entries = HashMap<([u8; 32], &'static str), (Instant, Values)>;

/// The account lists fetched for completions, per key (by a full hash: a
/// short fingerprint could mix two tenants' values up).
#[derive(Default)]
pub(super) struct CompletionCache {
    entries: Mutex<Entries>,
}

/// A list of the account that completes an argument: which read, with which
/// arguments, and which field of its records is the value (and which is matched too).
struct Source {
    name: &'static str,
    function: &'static str,
    arguments: fn() -> Value,
    value: &'static str,
    also: Option<&'static str>,
}

const PRODUCTS: Source = Source { name: "products", function: reads::PRODUCTS, arguments: || json!({}), value: "id", also: Some("name") };
const PURCHASES: Source = Source {
    name: "purchases",
    function: reads::PURCHASES,
    arguments: || json!({"from": "-365d", "sort_order": "desc", "page_size": 500, "fields": ["id", "buyer_email"]}),
    value: "id",
    also: Some("buyer_email"),
};
const BUYER_IDS: Source = Source {
    name: "buyer_ids",
    function: reads::BUYERS,
    arguments: || json!({"page_size": 500, "fields": ["id", "email"]}),
    value: "id",
    also: Some("email"),
};
const BUYER_EMAILS: Source = Source {
    name: "buyer_emails",
    function: reads::BUYERS,
    arguments: || json!({"page_size": 500, "fields": ["email"]}),
    value: "email",
    also: None,
};
const CURRENCIES: Source =
    Source { name: "currencies", function: reads::CURRENCIES, arguments: || json!({}), value: "code", also: Some("name") };

const PERIODS: &[&str] = &["-7d", "-30d", "-90d", "-1M", "-12M", "today", "now", "start"];

impl Ds24Server {
    /// Completes `argument` (a prompt argument or template variable) from `typed`.
    pub(super) async fn complete_argument(&self, argument: &str, typed: &str, context: &CallContext) -> CompletionInfo {
        let fixed = |values: &[&str]| values.iter().map(|v| (v.to_string(), String::new())).collect::<Vec<_>>();
        let values: Values = match argument {
            "topic" => Arc::new(GUIDES.iter().map(|g| (g.topic.to_owned(), g.title.to_owned())).collect()),
            "toolset" | "toolsets" => Arc::new(fixed(TOOLSETS)),
            "from" | "to" => Arc::new(fixed(PERIODS)),
            "event" | "events" => Arc::new(fixed(catalog::IPN_EVENTS)),
            "product_id" | "product_ids" => self.account_list(&PRODUCTS, context).await,
            // An IPN's order_id is the purchase id.
            "purchase_id" | "order_id" => self.account_list(&PURCHASES, context).await,
            "buyer_id" => self.account_list(&BUYER_IDS, context).await,
            "email" => self.account_list(&BUYER_EMAILS, context).await,
            "currency" => self.account_list(&CURRENCIES, context).await,
            _ => Arc::default(),
        };
        // The last item of a comma list is the one being typed.
        let (head, typed) = match typed.rsplit_once(',') {
            Some((head, last)) if argument.ends_with('s') => (format!("{head},"), last.trim()),
            _ => (String::new(), typed.trim()),
        };
        let typed = typed.to_lowercase();
        let matching: Vec<String> = values
            .iter()
            .filter(|(value, also)| value.to_lowercase().starts_with(&typed) || (!typed.is_empty() && also.to_lowercase().contains(&typed)))
            .map(|(value, _)| format!("{head}{value}"))
            .collect();
        let total = matching.len();
        let shown: Vec<String> = matching.into_iter().take(CompletionInfo::MAX_VALUES).collect();
        let has_more = total > shown.len();
        CompletionInfo::with_pagination(shown, u32::try_from(total).ok(), has_more).expect("at most MAX_VALUES values")
    }

    /// The values of one account list, from the cache or one read through the pipeline.
    async fn account_list(&self, source: &Source, context: &CallContext) -> Values {
        let Some(key) = &context.key else { return Values::default() };
        let id: [u8; 32] = Sha256::digest(key.expose().as_bytes()).into();
        let cache = &self.shared.completions;
        if let Some((at, values)) = cache.entries.lock().expect("not poisoned").get(&(id, source.name))
            && at.elapsed() < COMPLETION_TTL
        {
            return values.clone();
        }
        let function = catalog::lookup(source.function).expect("completion sources are catalogue reads");
        let Value::Object(arguments) = (source.arguments)() else { unreachable!("arguments are objects") };
        let asker = Asker::Nobody("completions only read");
        let values: Values = match self.run_recorded(function, arguments, context, asker).await {
            Ok(answered) => Arc::new(records(answered.result.structured_content.as_ref(), source)),
            // No key, narrowed away, rate limited, upstream down: no suggestions, and nothing cached.
            Err(_) => return Values::default(),
        };
        let mut entries = cache.entries.lock().expect("not poisoned");
        entries.retain(|_, (at, _)| at.elapsed() < COMPLETION_TTL);
        entries.insert((id, source.name), (Instant::now(), values.clone()));
        values
    }
}

/// `(value, also)` of every record of the answer's list.
fn records(answer: Option<&Value>, source: &Source) -> Vec<(String, String)> {
    let text = |record: &Map<String, Value>, field: &str| match record.get(field) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let Some(Value::Object(answer)) = answer else { return Vec::new() };
    let list = answer.iter().filter(|(k, _)| !k.starts_with('_')).find_map(|(_, v)| v.as_array());
    let mut values: Vec<(String, String)> = list
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .map(|record| (text(record, source.value), source.also.map(|f| text(record, f)).unwrap_or_default()))
        .filter(|(value, _)| !value.is_empty())
        .collect();
    let mut seen = std::collections::HashSet::new();
    values.retain(|(value, _)| seen.insert(value.clone()));
    values
}
