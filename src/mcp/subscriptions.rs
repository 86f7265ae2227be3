//! Resource subscriptions: which URIs can be watched (the caller's latest
//! events and one order's events), and the watch that turns "an IPN for
//! vendor T was committed" — on any replica, through
//! [`crate::store::EventStore::wakeups`] — into `notifications/resources/updated`
//! for the watched URIs it changes. Two eras use it: a 2026-07-28
//! `subscriptions/listen` stream (over stateless HTTP too: the answer is a
//! stream), and `resources/subscribe` on a live session (stdio).
//!
//! Owns: the subscribable URIs, the watch loop and the session's
//! subscriptions. Must not touch: SQL, HTTP, or how the caller's vendor is
//! found (see `local.rs`).

use super::context::CallContext;
use super::pipeline::Ds24Server;
use super::resources::{self, EventsRead, Target};
use crate::ipn::Events;
use crate::store::EventQuery;
use rmcp::model::ResourceUpdatedNotificationParam;
use rmcp::service::Peer;
use rmcp::{ErrorData as McpError, RoleServer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

/// Rows read per look at the store while catching up after a wake-up.
const CATCH_UP_ROWS: u32 = 200;
/// How often a session's watch checks whether its client is still there.
const SESSION_CHECK: Duration = Duration::from_secs(30);
/// How far back a listen's watch counts events as new (see [`Ds24Server::watch`]).
pub(super) const LISTEN_SLACK_MS: i64 = 2_000;

/// What a subscribable URI watches, if it is one: the latest events or one
/// order's events (an event by id never changes).
pub(super) fn subscribable(uri: &str) -> Option<EventsRead> {
    match Target::of(uri)? {
        Target::Events(what @ (EventsRead::Latest | EventsRead::Order(_))) => Some(what),
        _ => None,
    }
}

/// Why a URI cannot be subscribed, for the error.
fn not_subscribable(uri: &str) -> McpError {
    McpError::invalid_params(
        format!("{uri} cannot be subscribed; {} and digistore24://orders/{{order_id}}/events can", resources::EVENTS_URI),
        Some(serde_json::json!({"uri": uri})),
    )
}

/// A running watch over one vendor's new events.
pub(super) struct Watch {
    events: Arc<Events>,
    tenant: String,
    uris: Vec<(String, EventsRead)>,
    /// The newest event id already looked at.
    cursor: i64,
    wakeups: tokio::sync::broadcast::Receiver<String>,
}

impl Watch {
    /// Waits until events of the vendor are committed after the ones seen,
    /// and names the watched URIs they update (each once).
    pub(super) async fn next(&mut self) -> Vec<String> {
        let poll = self.events.store.poll_interval();
        loop {
            let nap = tokio::time::sleep(poll);
            tokio::pin!(nap);
            loop {
                tokio::select! {
                    _ = &mut nap => break,
                    woke = self.wakeups.recv() => match woke {
                        Ok(tenant) if tenant == self.tenant => break,
                        Ok(_) => continue,
                        // Missed some: look again.
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => { (&mut nap).await; break }
                    },
                }
            }
            match self.updated().await {
                Ok(updated) if !updated.is_empty() => return updated,
                Ok(_) => {}
                // Nothing is lost: the cursor stays, and the next look catches up.
                Err(e) => tracing::warn!(error = %e, "watching IPN events failed; looking again"),
            }
        }
    }

    /// The watched URIs that the events after the cursor update; moves the cursor.
    async fn updated(&mut self) -> Result<Vec<String>, crate::store::StoreError> {
        let mut updated: Vec<String> = Vec::new();
        loop {
            let query = EventQuery {
                tenant: self.tenant.clone(),
                after: Some(self.cursor),
                include_test: true,
                limit: CATCH_UP_ROWS,
                ..EventQuery::default()
            };
            let found = self.events.store.list(&query).await?;
            for event in &found {
                self.cursor = self.cursor.max(event.id);
                for (uri, what) in &self.uris {
                    let touches = match what {
                        EventsRead::Order(order) => event.order_id.as_deref() == Some(order.as_str()),
                        _ => true,
                    };
                    if touches && !updated.contains(uri) {
                        updated.push(uri.clone());
                    }
                }
            }
            if found.len() < CATCH_UP_ROWS as usize {
                return Ok(updated);
            }
        }
    }
}

/// The `resources/subscribe` subscriptions of this server's live session:
/// one watch per URI, stopped by `resources/unsubscribe`.
#[derive(Default)]
pub(super) struct SessionSubscriptions {
    running: Mutex<HashMap<String, CancellationToken>>,
}

impl Drop for SessionSubscriptions {
    fn drop(&mut self) {
        for (_, stop) in self.running.get_mut().unwrap_or_else(|p| p.into_inner()).drain() {
            stop.cancel();
        }
    }
}

impl Ds24Server {
    /// Starts watching `uris` (all subscribable) for the caller's vendor,
    /// refused like `events_list` would be (events off, not offered, no key).
    /// Events received within `slack_ms` before now count as new: rmcp
    /// acknowledges a listen before the watch starts, and an IPN committed in
    /// between must not be missed (an extra update only makes a client read again).
    pub(super) async fn watch(&self, uris: &[String], context: &CallContext, slack_ms: i64) -> Result<Watch, McpError> {
        let uris: Vec<(String, EventsRead)> = uris
            .iter()
            .map(|uri| subscribable(uri).map(|what| (uri.clone(), what)).ok_or_else(|| not_subscribable(uri)))
            .collect::<Result<_, _>>()?;
        let (events, tenant, _) =
            self.events_caller(&EventsRead::Latest, context).await.map_err(|stop| resources::failed(resources::EVENTS_URI, stop))?;
        // Subscribed before the cursor is read, so a commit in between still counts.
        let wakeups = events.store.wakeups();
        let unavailable = |e: crate::store::StoreError| {
            tracing::error!(error = %e, "events store failed");
            McpError::internal_error("the events database is unavailable right now; try again shortly", None)
        };
        let mut cursor = events.store.latest_id(&tenant).await.map_err(unavailable)?.unwrap_or(0);
        if slack_ms > 0 {
            let since = crate::store::now_ms() - slack_ms;
            let query = EventQuery { tenant: tenant.clone(), from: Some(since), include_test: true, limit: 1, ..EventQuery::default() };
            if let Some(first) = events.store.list(&query).await.map_err(unavailable)?.first() {
                cursor = cursor.min(first.id - 1);
            }
        }
        Ok(Watch { events, tenant, uris, cursor, wakeups })
    }

    /// `resources/subscribe` on a live session: updates of `uri` go to `peer`
    /// until unsubscribed or the client is gone.
    pub(super) async fn subscribe_session(&self, uri: String, peer: Peer<RoleServer>, context: &CallContext) -> Result<(), McpError> {
        // Answered only after this, so the cursor is set before the client hears OK.
        let mut watch = self.watch(std::slice::from_ref(&uri), context, 0).await?;
        let stop = CancellationToken::new();
        if let Some(earlier) = self.shared.subscriptions.running.lock().unwrap_or_else(|p| p.into_inner()).insert(uri.clone(), stop.clone())
        {
            earlier.cancel();
        }
        tokio::spawn(async move {
            let mut check = tokio::time::interval(SESSION_CHECK);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = check.tick() => if peer.is_transport_closed() { return },
                    updated = watch.next() => for uri in updated {
                        if peer.notify_resource_updated(ResourceUpdatedNotificationParam::new(uri)).await.is_err() {
                            return;
                        }
                    },
                }
            }
        });
        Ok(())
    }

    /// `resources/unsubscribe`: stops the session's watch of `uri`, if any.
    pub(super) fn unsubscribe_session(&self, uri: &str) {
        if let Some(stop) = self.shared.subscriptions.running.lock().unwrap_or_else(|p| p.into_inner()).remove(uri) {
            stop.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_latest_events_and_an_orders_events_can_be_subscribed() {
        assert_eq!(subscribable("digistore24://events"), Some(EventsRead::Latest));
        assert_eq!(subscribable("digistore24://orders/A1/events"), Some(EventsRead::Order("A1".into())));
        for not in ["digistore24://events/7", "digistore24://account", "digistore24://guide/paging", "digistore24://nothing"] {
            assert_eq!(subscribable(not), None, "{not}");
        }
    }
}
