//! The local `events` tools ([`crate::catalog::LOCAL_TOOLS`]): answered from
//! this server's IPN store, scoped to the caller's vendor (the tenant, from
//! `getUserInfo`, remembered per key hash in memory).
//!
//! Owns: what each local tool does. Arguments are checked by the same
//! catalogue-driven [`PreparedCall`] as any tool; `events_connect` and
//! `events_disconnect` make their Digistore24 call through the ordinary
//! pipeline stages (confirmation policy, rate limit, errors) with
//! [`Ds24Server::run_offered`]. The `digistore24://events…` resources and
//! their subscriptions are answered here too, checked and scoped the same
//! way. Must not touch: SQL or HTTP.

use super::confirm::Asker;
use super::context::CallContext;
use super::outcome::{Outcome, Refusal};
use super::pipeline::{Answered, Ds24Server, Stop};
use super::prepare::PreparedCall;
use super::resources::EventsRead;
use crate::catalog::{self, Function};
use crate::ds24::ApiKey;
use crate::ipn::summary::{rfc3339, view};
use crate::ipn::{Events, WAIT_DEFAULT_SECS, WAIT_MAX_SECS};
use crate::store::{EventQuery, StoreError, StoredEvent, now_ms};
use rmcp::model::{CallToolResult, ContentBlock};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Events per page of `events_list` and most returned by one `events_wait`.
const PAGE: u32 = 50;
/// The `domain_id` of this server's connection: unique per app, so it
/// neither overwrites nor is overwritten by another app's (see ipnSetup).
const DOMAIN_ID: &str = "digistore24mcp";
/// Passes the URL check in place of a sandbox's loopback URL (see `connect`).
const LOOPBACK_STAND_IN: &str = "https://loopback.example.com/ipn";
/// Where the receiver lives below `--public-url` for the single-tenant set-up.
const SINGLE_TENANT_PATH: &str = "/ipn";
/// Events shown by `digistore24://events`.
const RECENT: u32 = 20;
/// What a caller hears when this server has no events.
const EVENTS_OFF: &str =
    "IPN events are off on this server; the operator turns them on for `serve` with --database-url, --ipn-secret or --sandbox";

fn refuse(tool: &'static Function, message: impl Into<String>) -> Stop {
    Stop::Refused(Refusal::Events { tool: tool.name, message: message.into() })
}

fn store_failed(tool: &'static Function) -> impl Fn(StoreError) -> Stop {
    move |e| {
        tracing::error!(tool = tool.name, error = %e, "events store failed");
        refuse(tool, "the events database is unavailable right now; try again shortly")
    }
}

fn answer(data: Value) -> Answered {
    let text = data.to_string();
    let mut result = CallToolResult::success(vec![ContentBlock::text(text)]);
    result.structured_content = Some(data);
    Answered { result, outcome: Outcome::Success }
}

impl Ds24Server {
    /// Runs one local tool (already checked as offered).
    pub(super) async fn run_local(
        &self,
        tool: &'static Function,
        arguments: Map<String, Value>,
        context: &CallContext,
        asker: Asker<'_>,
    ) -> Result<Answered, Stop> {
        let Some(events) = self.shared.settings.events.clone() else { return Err(refuse(tool, EVENTS_OFF)) };
        let call = PreparedCall::new(tool, arguments)?;
        let key = context.key.as_ref().ok_or(Refusal::NoKey)?;
        let tenant = self.tenant_of(key, &events).await?;
        let data = match tool.name {
            "events_connect" if call.field("manual") == Some("Y") => connect_manual(tool, &events, &tenant)?,
            "events_connect" => return Box::pin(self.connect(tool, &events, &tenant, context, asker)).await,
            "events_disconnect" => {
                let arguments = Map::from_iter([("domain_id".to_owned(), Value::from(DOMAIN_ID))]);
                return Box::pin(self.upstream(catalog::IPN_DISCONNECT, arguments, context, asker)).await;
            }
            "events_list" => list(tool, &events, &tenant, &call).await?,
            "events_get" => get(tool, &events, &tenant, &call).await?,
            "events_wait" => {
                // Waiting costs nothing here; other calls may have the slot.
                if let Some(slot) = &context.slot {
                    slot.release();
                }
                wait(tool, &events, &tenant, &call, &self.shared.settings.stopping).await?
            }
            "events_status" => status(tool, &events, &tenant).await?,
            other => unreachable!("local tool {other} has no handler; a test calls every one"),
        };
        Ok(answer(data))
    }

    /// An events resource of the caller's vendor, checked as the tool showing
    /// the same data (`events_list`, `events_get`) would be; `None` when the
    /// vendor has no such event.
    pub(super) async fn read_events(&self, what: &EventsRead, context: &CallContext) -> Result<Option<Value>, Stop> {
        let (events, tenant, tool) = self.events_caller(what, context).await?;
        let failed = store_failed(tool);
        Ok(match what {
            EventsRead::Latest => {
                let found = events.store.recent(&tenant, RECENT).await.map_err(failed)?;
                let cursor = found.last().map_or(0, |e| e.id).to_string();
                // The cursor lets an agent go on with events_wait from here.
                Some(json!({"events": found.iter().map(|e| view(e, false)).collect::<Vec<_>>(), "cursor": cursor}))
            }
            EventsRead::One(id) => match id.parse::<i64>() {
                Ok(n) => events.store.get(&tenant, n).await.map_err(failed)?.map(|e| view(&e, true)),
                Err(_) => None,
            },
            EventsRead::Order(order) => {
                let query = EventQuery {
                    tenant: tenant.clone(),
                    after: Some(0),
                    order_id: Some(order.clone()),
                    include_test: true,
                    limit: PAGE + 1,
                    ..EventQuery::default()
                };
                let mut out = page(events.store.list(&query).await.map_err(failed)?, Some(0));
                if let Some(next) = out.pointer_mut("/_paging/next_arguments") {
                    next["order_id"] = order.clone().into();
                    out["_paging"]["tool"] = "events_list".into();
                }
                Some(out)
            }
        })
    }

    /// The events, the caller's vendor and the tool whose offer a resource or
    /// subscription of `what` follows: refused like that tool when events are
    /// off, the tool is not offered, or the caller has no key.
    pub(super) async fn events_caller(
        &self,
        what: &EventsRead,
        context: &CallContext,
    ) -> Result<(Arc<Events>, String, &'static Function), Stop> {
        let name = if matches!(what, EventsRead::One(_)) { "events_get" } else { "events_list" };
        let tool = catalog::lookup_tool(name).expect("the local tools include events_list and events_get");
        self.check_offered(tool, context.narrowing.as_ref())?;
        let events = self.shared.settings.events.clone().ok_or_else(|| refuse(tool, EVENTS_OFF))?;
        let key = context.key.as_ref().ok_or(Refusal::NoKey)?;
        let tenant = self.tenant_of(key, &events).await?;
        Ok((events, tenant, tool))
    }

    /// The vendor id of the key's owner, asked once per key and process.
    async fn tenant_of(&self, key: &ApiKey, events: &Events) -> Result<String, Stop> {
        if let Some(tenant) = events.cached_tenant(key) {
            return Ok(tenant);
        }
        let function = catalog::lookup(catalog::ACCOUNT_INFO).expect("a catalogue test checks the tenant function");
        let body = PreparedCall::new(function, Map::new())?.body;
        let asked = self.shared.client.call_read(key, function.name, &body, self.shared.settings.read_retries);
        let info = crate::ops::usage::upstream(asked).await.map_err(|error| Stop::Failed { error, during_lookup: true })?;
        let tenant = match &info["user_id"] {
            Value::String(s) if !s.is_empty() => s.clone(),
            Value::Number(n) => n.to_string(),
            _ => return Err(Stop::Refused(Refusal::Events { tool: function.name, message: "the answer names no user_id".into() })),
        };
        events.remember_tenant(key, &tenant);
        Ok(tenant)
    }

    /// A Digistore24 call on the caller's behalf, through the usual stages.
    async fn upstream(&self, name: &str, arguments: Map<String, Value>, context: &CallContext, asker: Asker<'_>) -> Result<Answered, Stop> {
        let function = catalog::lookup(name).expect("a catalogue test checks the IPN functions");
        self.run_offered(function, arguments, context, asker).await
    }

    async fn connect(
        &self,
        tool: &'static Function,
        events: &Events,
        tenant: &str,
        context: &CallContext,
        asker: Asker<'_>,
    ) -> Result<Answered, Stop> {
        if !events.multi_tenant() {
            return Err(refuse(tool, "this server has no --ipn-secret; use manual: true and enter the URL by hand"));
        }
        let Some(url) = events.url_for(tenant) else {
            return Err(refuse(tool, "the operator has not set --public-url, so Digistore24 could not reach this server"));
        };
        let passphrase = events.passphrase_for(tenant).unwrap_or_default();
        // The catalogue refuses http URLs (Digistore24 does); the sandbox
        // takes a loopback one, put in after the check.
        let loopback = events.loopback_urls() && url.starts_with("http://");
        let checked_url = if loopback { LOOPBACK_STAND_IN.to_owned() } else { url.clone() };
        let arguments = Map::from_iter([
            ("ipn_url".to_owned(), Value::from(checked_url)),
            ("name".to_owned(), Value::from("digistore24-mcp")),
            ("product_ids".to_owned(), Value::from("all")),
            ("domain_id".to_owned(), Value::from(DOMAIN_ID)),
            ("transactions".to_owned(), Value::from("all")),
            ("sha_passphrase".to_owned(), Value::from(passphrase)),
        ]);
        let function = catalog::lookup(catalog::IPN_CONNECT).expect("a catalogue test checks the IPN functions");
        let mut call = PreparedCall::new(function, arguments)?;
        if loopback {
            for (_, value) in call.body.fields.iter_mut().filter(|(name, _)| name == "ipn_url") {
                value.clone_from(&url);
            }
        }
        let mut answered = self.run_prepared(call, context, asker).await?;
        if answered.result.is_error != Some(true)
            && let Some(Value::Object(data)) = answered.result.structured_content.as_mut()
        {
            data.insert("receiver_url".into(), url.into());
        }
        Ok(answered)
    }
}

fn connect_manual(tool: &'static Function, events: &Events, tenant: &str) -> Result<Value, Stop> {
    let base = events.public_url.clone().unwrap_or_else(|| "https://YOUR-SERVER".into());
    if events.multi_tenant() {
        let path = format!("/ipn/{}", events.token_for(tenant).unwrap_or_default());
        return Ok(json!({
            "ipn_url": format!("{base}{path}"),
            "sha_passphrase": events.passphrase_for(tenant),
            "where": "Digistore24 back office: Settings > Integrations (IPN) > Generic",
        }));
    }
    if events.single_passphrase().is_some() {
        // The operator's passphrase is not handed to callers.
        return Ok(json!({
            "ipn_url": format!("{base}{SINGLE_TENANT_PATH}"),
            "sha_passphrase": "the operator's --ipn-passphrase",
            "where": "Digistore24 back office: Settings > Integrations (IPN) > Generic",
        }));
    }
    Err(refuse(tool, "this server has neither --ipn-secret nor --ipn-passphrase"))
}

/// The query of `events_list` / `events_wait` from the checked arguments.
fn query(tool: &'static Function, tenant: &str, call: &PreparedCall) -> Result<EventQuery, Stop> {
    let after = match call.field("cursor") {
        Some(cursor) => {
            Some(cursor.parse::<i64>().map_err(|_| refuse(tool, format!("cursor `{cursor}` is not one this server handed out")))?)
        }
        None => None,
    };
    let from = match call.field("from") {
        Some(text) => Some(
            point_in_time(text).ok_or_else(|| refuse(tool, format!("from `{text}`: use YYYY-MM-DD[ HH:MM:SS] (UTC), ISO-8601 or -24h")))?,
        ),
        None => None,
    };
    Ok(EventQuery {
        tenant: tenant.to_owned(),
        after,
        events: call
            .field("event")
            .map(|e| e.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default(),
        order_id: call.field("order_id").map(str::to_owned),
        product_id: call.field("product_id").map(str::to_owned),
        from,
        to: None,
        include_test: call.field("test") != Some("N"),
        limit: PAGE + 1,
    })
}

/// A page of events and where to go on.
fn page(mut found: Vec<StoredEvent>, cursor: Option<i64>) -> Value {
    let more = found.len() > PAGE as usize;
    found.truncate(PAGE as usize);
    let cursor = found.last().map(|e| e.id).or(cursor).unwrap_or(0).to_string();
    let mut out = json!({"events": found.iter().map(|e| view(e, false)).collect::<Vec<_>>(), "cursor": cursor});
    if more {
        out["_paging"] = json!({"more": true, "next_arguments": {"cursor": cursor}});
    }
    out
}

async fn list(tool: &'static Function, events: &Events, tenant: &str, call: &PreparedCall) -> Result<Value, Stop> {
    let mut query = query(tool, tenant, call)?;
    // Like the other lists: the last 24 hours unless told otherwise.
    if query.after.is_none() && query.from.is_none() {
        query.from = Some(now_ms() - 86_400_000);
    }
    let found = events.store.list(&query).await.map_err(store_failed(tool))?;
    Ok(page(found, query.after))
}

async fn get(tool: &'static Function, events: &Events, tenant: &str, call: &PreparedCall) -> Result<Value, Stop> {
    let id = call.field("id").unwrap_or_default();
    let found = match id.parse::<i64>() {
        Ok(n) => events.store.get(tenant, n).await.map_err(store_failed(tool))?,
        Err(_) => None,
    };
    found.map(|e| view(&e, true)).ok_or_else(|| refuse(tool, format!("no event {id} for this vendor (ids come from events_list)")))
}

/// Waits for the first matching event after the cursor (or after the newest
/// event, without one), waking on any replica's commit. Holds no database
/// connection and, over HTTP, no concurrency slot while idle.
/// Waits for the tenant's next events, until the timeout or until this
/// replica stops taking traffic: then it answers at once with the cursor, so
/// the agent waits again elsewhere instead of holding the stop for up to a minute.
async fn wait(
    tool: &'static Function,
    events: &Events,
    tenant: &str,
    call: &PreparedCall,
    stopping: &tokio_util::sync::CancellationToken,
) -> Result<Value, Stop> {
    let seconds = call.int("timeout").map_or(WAIT_DEFAULT_SECS, |t| t.clamp(1, WAIT_MAX_SECS as i64) as u64);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    let mut query = query(tool, tenant, call)?;
    // Subscribed before the first look, so a commit in between still wakes us.
    let mut wakeups = events.store.wakeups();
    if query.after.is_none() {
        query.after = Some(events.store.latest_id(tenant).await.map_err(store_failed(tool))?.unwrap_or(0));
    }
    let poll = events.store.poll_interval();
    loop {
        let found = events.store.list(&query).await.map_err(store_failed(tool))?;
        if !found.is_empty() {
            return Ok(page(found, query.after));
        }
        let now = tokio::time::Instant::now();
        if now >= deadline || stopping.is_cancelled() {
            let mut out = page(Vec::new(), query.after);
            out["timed_out"] = true.into();
            if stopping.is_cancelled() {
                out["server_stopping"] = "this server is restarting: call events_wait again with the cursor".into();
            }
            return Ok(out);
        }
        let nap = tokio::time::sleep((deadline - now).min(poll));
        tokio::pin!(nap);
        loop {
            tokio::select! {
                _ = &mut nap => break,
                _ = stopping.cancelled() => break,
                woke = wakeups.recv() => match woke {
                    Ok(t) if t == tenant => break,
                    Ok(_) => continue,
                    // Missed some: look again.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => break,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => { (&mut nap).await; break }
                },
            }
        }
    }
}

async fn status(tool: &'static Function, events: &Events, tenant: &str) -> Result<Value, Stop> {
    let store = &events.store;
    let failed = store_failed(tool);
    let last = store.latest(tenant, None).await.map_err(&failed)?;
    let test = store.latest(tenant, Some("connection_test")).await.map_err(&failed)?;
    let counts = |rows: Vec<(String, i64)>| Value::Object(rows.into_iter().map(|(e, n)| (e, Value::from(n))).collect());
    let day = store.counts(tenant, now_ms() - 86_400_000).await.map_err(&failed)?;
    let week = store.counts(tenant, now_ms() - 7 * 86_400_000).await.map_err(&failed)?;
    let rejections: Vec<Value> =
        events.rejections_of(tenant).iter().rev().take(10).map(|r| json!({"at": rfc3339(r.at), "reason": r.reason})).collect();
    Ok(json!({
        "receiver_url": events.url_for(tenant),
        "database": store.backend(),
        "last_event": last.as_ref().map(|e| view(e, false)),
        "last_connection_test": test.map(|e| rfc3339(e.received_at)),
        "last_24h": counts(day),
        "last_7d": counts(week),
        "recent_rejections": rejections,
    }))
}

/// Unix ms of `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (UTC), RFC 3339, `now`
/// or an offset back from now (`-30m`, `-24h`, `-7d`).
fn point_in_time(text: &str) -> Option<i64> {
    use chrono::{NaiveDate, NaiveDateTime};
    let text = text.trim();
    if text == "now" {
        return Some(now_ms());
    }
    if let Some(offset) = text.strip_prefix('-') {
        let (number, unit) = offset.split_at(offset.len().checked_sub(1)?);
        let n: i64 = number.parse().ok()?;
        let ms = match unit {
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => return None,
        };
        return Some(now_ms() - n.checked_mul(ms)?);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Some(t.and_utc().timestamp_millis());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_in_time_parse_to_utc_milliseconds() {
        assert_eq!(point_in_time("2026-01-02"), Some(1_767_312_000_000));
        assert_eq!(point_in_time("2026-01-02 00:00:01"), Some(1_767_312_001_000));
        assert_eq!(point_in_time("2026-01-02T01:00:00+01:00"), Some(1_767_312_000_000));
        let day_ago = point_in_time("-1d").unwrap();
        assert!((now_ms() - 86_400_000 - day_ago).abs() < 5_000);
        assert_eq!(point_in_time("-3x"), None);
        assert_eq!(point_in_time("yesterday"), None);
    }
}
