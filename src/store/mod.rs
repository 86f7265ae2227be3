//! Durable storage of received IPN events and of the service's usage, behind
//! two traits ([`EventStore`], [`usage::UsageStore`]) with two real backends:
//! SQLite (embedded, the default) and PostgreSQL (shared by replicas).
//!
//! Owns: the schema and its embedded migrations, the queries, and the wake-up
//! signal "a new event for tenant T was committed" (Postgres `LISTEN/NOTIFY`
//! across replicas; an in-process broadcast for SQLite). Must not touch: IPN
//! parsing or signatures (see [`crate::ipn`]) or MCP types.

mod postgres;
mod sqlite;
pub mod usage;
mod usage_sql;

use futures::future::BoxFuture;
use serde_json::Value;
use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use std::borrow::Cow;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A verified IPN ready to be stored.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The Digistore24 vendor the IPN belongs to.
    pub tenant: String,
    /// Hex SHA-256 over the signed content: equal for a re-sent IPN.
    pub content_hash: String,
    /// `event` field, e.g. `on_payment`.
    pub event: String,
    pub order_id: Option<String>,
    pub transaction_id: Option<String>,
    pub product_id: Option<String>,
    /// `api_mode` was `test` (or a test order).
    pub test_mode: bool,
    /// Unix milliseconds when it was received.
    pub received_at: i64,
    /// The summary agents read (a JSON object).
    pub summary: Value,
    /// Every received field but the signature (a JSON object of strings).
    pub fields: Value,
}

/// One stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Increasing per database; the cursor of lists and waits.
    pub id: i64,
    pub tenant: String,
    pub event: String,
    pub order_id: Option<String>,
    pub transaction_id: Option<String>,
    pub product_id: Option<String>,
    pub test_mode: bool,
    pub received_at: i64,
    pub summary: Value,
    pub fields: Value,
}

/// What an insert did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// A new row with this id.
    New(i64),
    /// The same signed content was already stored; nothing was added.
    Duplicate,
}

/// Which events a list or wait wants, always within one tenant.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    pub tenant: String,
    /// Only events with a larger id.
    pub after: Option<i64>,
    /// Only these event names (empty: all).
    pub events: Vec<String>,
    pub order_id: Option<String>,
    pub product_id: Option<String>,
    /// Unix milliseconds, inclusive.
    pub from: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub to: Option<i64>,
    /// Test orders are left out unless asked for.
    pub include_test: bool,
    /// Most rows returned (oldest first).
    pub limit: u32,
}

/// Why storage failed; the receiver answers 503 so Digistore24 retries.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL (use sqlite://FILE or postgres://…)")]
    UnsupportedUrl,
    #[error("stored row is not valid: {0}")]
    Corrupt(String),
}

/// The storage of IPN events. Every method is scoped to one tenant where
/// it reads, so one vendor never sees another's events.
pub trait EventStore: Send + Sync + 'static {
    /// Stores the event once, durably, and wakes the waiters of its tenant
    /// (on every replica) when it is new.
    fn insert<'a>(&'a self, event: &'a NewEvent) -> BoxFuture<'a, Result<Inserted, StoreError>>;
    /// Events matching the query, oldest first.
    fn list<'a>(&'a self, query: &'a EventQuery) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>>;
    /// One event of the tenant.
    fn get<'a>(&'a self, tenant: &'a str, id: i64) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>>;
    /// The largest id of the tenant's events (the cursor "from now on").
    fn latest_id<'a>(&'a self, tenant: &'a str) -> BoxFuture<'a, Result<Option<i64>, StoreError>>;
    /// The tenant's newest event (of this name, if given).
    fn latest<'a>(&'a self, tenant: &'a str, event: Option<&'a str>) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>>;
    /// The tenant's newest `limit` events (test orders included), oldest of them first.
    fn recent<'a>(&'a self, tenant: &'a str, limit: u32) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>>;
    /// Events of the tenant received since `since` (unix ms), counted by event name.
    fn counts<'a>(&'a self, tenant: &'a str, since: i64) -> BoxFuture<'a, Result<Vec<(String, i64)>, StoreError>>;
    /// Deletes events received before `before` (unix ms); returns how many.
    fn prune(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
    /// Tenants with newly committed events, as they are committed.
    fn wakeups(&self) -> broadcast::Receiver<String>;
    /// How often a waiter looks again even without a wake-up (other
    /// processes sharing a SQLite file cannot wake this one).
    fn poll_interval(&self) -> std::time::Duration;
    /// `sqlite` or `postgres`, for logs and status.
    fn backend(&self) -> &'static str;
}

/// Opens the database named by `url`, creating a SQLite file if missing,
/// and runs the embedded migrations. A failure here stops the start.
pub async fn open(url: &str) -> Result<Arc<dyn EventStore>, StoreError> {
    Ok(open_database(url).await?.events)
}

/// One open database, as both of its halves (the same backend and pool).
#[derive(Clone)]
pub struct Database {
    pub events: Arc<dyn EventStore>,
    pub usage: Arc<dyn usage::UsageStore>,
}

/// Like [`open`], handing out the usage half too.
pub async fn open_database(url: &str) -> Result<Database, StoreError> {
    fn both<S: EventStore + usage::UsageStore>(store: S) -> Database {
        let store = Arc::new(store);
        Database { events: store.clone(), usage: store }
    }
    if url.starts_with("sqlite:") {
        Ok(both(sqlite::SqliteStore::open(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(both(postgres::PostgresStore::open(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl)
    }
}

/// Deletes events older than `retention_days`, now and then every hour.
pub fn spawn_pruning(store: Arc<dyn EventStore>, retention_days: u32) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let before = now_ms() - i64::from(retention_days) * 86_400_000;
            match store.prune(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, retention_days, "old IPN events pruned"),
                Err(e) => tracing::warn!(error = %e, "pruning IPN events failed"),
            }
        }
    })
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Capacity of the wake-up channel; a lagging waiter just looks again.
const WAKEUP_CAPACITY: usize = 256;

/// The embedded migrations of one backend as a migrator (`migrate!` would need sqlx's macros).
fn migrator(migrations: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    let migrations = migrations
        .iter()
        .map(|(version, name, sql)| Migration::new(*version, Cow::Borrowed(name), MigrationType::Simple, SqlStr::from_static(sql), false))
        .collect::<Vec<_>>();
    Migrator { migrations: Cow::Owned(migrations), ..Migrator::DEFAULT }
}

fn parse_json(text: &str) -> Result<Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// The columns every read selects, in the order `row_to_event` expects.
const COLUMNS: &str = "id, tenant, event, order_id, transaction_id, product_id, test_mode, received_at, summary, fields";

/// The filters of a list, in SQL with `$n` placeholders (both backends read
/// them); an absent filter is bound as NULL and switched off, so each query
/// is one prepared statement. `{contains}` is the backend's "$9 contains
/// ,event," test.
const LIST_WHERE: &str = "tenant = $1 AND id > $2 \
     AND ($3 IS NULL OR order_id = $3) AND ($4 IS NULL OR product_id = $4) \
     AND ($5 IS NULL OR received_at >= $5) AND ($6 IS NULL OR received_at < $6) \
     AND ($7 OR NOT test_mode) AND ($9 IS NULL OR {contains}) ORDER BY id LIMIT $8";

/// The event-name filter as one bound value: `,a,b,` (names never hold commas).
fn events_filter(events: &[String]) -> Option<String> {
    (!events.is_empty()).then(|| format!(",{},", events.join(",")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_filter_is_a_delimited_list() {
        assert_eq!(events_filter(&[]), None);
        assert_eq!(events_filter(&["on_refund".into(), "on_payment".into()]).as_deref(), Some(",on_refund,on_payment,"));
    }
}
