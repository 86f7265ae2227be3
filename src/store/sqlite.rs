//! The SQLite backend: one file, WAL mode, waiters woken in-process (and by
//! polling, for other processes sharing the file).

use super::{
    COLUMNS, EventQuery, EventStore, Inserted, LIST_WHERE, NewEvent, StoreError, StoredEvent, events_filter, migrator, parse_json,
};
use futures::future::BoxFuture;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous};
use sqlx::{AssertSqlSafe, Row};
use std::str::FromStr;
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::broadcast;

type SqlPool = sqlx::SqlitePool;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "events", include_str!("migrations/sqlite_0001_events.sql")),
    (2, "usage", include_str!("migrations/sqlite_0002_usage.sql")),
    (3, "usage batches", include_str!("migrations/sqlite_0003_usage_batches.sql")),
];

static LIST_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM ipn_events WHERE {}", LIST_WHERE.replace("{contains}", "instr($9, ',' || event || ',') > 0"))
});

pub(super) struct SqliteStore {
    pool: SqlPool,
    wake: broadcast::Sender<String>,
}

impl SqliteStore {
    pub(super) async fn open(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // `OK` goes out only after the commit: FULL puts it on disk first
            // (NORMAL in WAL mode may lose the last commits on power loss).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await?;
        migrator(MIGRATIONS).run(&pool).await?;
        let (wake, _) = broadcast::channel(super::WAKEUP_CAPACITY);
        Ok(SqliteStore { pool, wake })
    }
}

fn row_to_event(row: &SqliteRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        event: row.try_get("event")?,
        order_id: row.try_get("order_id")?,
        transaction_id: row.try_get("transaction_id")?,
        product_id: row.try_get("product_id")?,
        test_mode: row.try_get("test_mode")?,
        received_at: row.try_get("received_at")?,
        summary: parse_json(row.try_get("summary")?)?,
        fields: parse_json(row.try_get("fields")?)?,
    })
}

impl EventStore for SqliteStore {
    fn insert<'a>(&'a self, e: &'a NewEvent) -> BoxFuture<'a, Result<Inserted, StoreError>> {
        Box::pin(async move {
            let id: Option<i64> = sqlx::query_scalar(
                "INSERT INTO ipn_events (tenant, content_hash, event, order_id, transaction_id, product_id, test_mode, received_at, summary, fields) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (tenant, content_hash) DO NOTHING RETURNING id",
            )
            .bind(&e.tenant)
            .bind(&e.content_hash)
            .bind(&e.event)
            .bind(&e.order_id)
            .bind(&e.transaction_id)
            .bind(&e.product_id)
            .bind(e.test_mode)
            .bind(e.received_at)
            .bind(e.summary.to_string())
            .bind(e.fields.to_string())
            .fetch_optional(&self.pool)
            .await?;
            Ok(match id {
                Some(id) => {
                    // No receiver is fine: nobody is waiting.
                    let _ = self.wake.send(e.tenant.clone());
                    Inserted::New(id)
                }
                None => Inserted::Duplicate,
            })
        })
    }

    fn list<'a>(&'a self, q: &'a EventQuery) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(AssertSqlSafe(LIST_SQL.as_str()))
                .bind(&q.tenant)
                .bind(q.after.unwrap_or(0))
                .bind(&q.order_id)
                .bind(&q.product_id)
                .bind(q.from)
                .bind(q.to)
                .bind(q.include_test)
                .bind(i64::from(q.limit))
                .bind(events_filter(&q.events))
                .fetch_all(&self.pool)
                .await?;
            rows.iter().map(row_to_event).collect()
        })
    }

    fn get<'a>(&'a self, tenant: &'a str, id: i64) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>> {
        Box::pin(async move {
            let sql = format!("SELECT {COLUMNS} FROM ipn_events WHERE tenant = $1 AND id = $2");
            let row = sqlx::query(AssertSqlSafe(sql)).bind(tenant).bind(id).fetch_optional(&self.pool).await?;
            row.as_ref().map(row_to_event).transpose()
        })
    }

    fn latest_id<'a>(&'a self, tenant: &'a str) -> BoxFuture<'a, Result<Option<i64>, StoreError>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar("SELECT MAX(id) FROM ipn_events WHERE tenant = $1").bind(tenant).fetch_one(&self.pool).await?)
        })
    }

    fn latest<'a>(&'a self, tenant: &'a str, event: Option<&'a str>) -> BoxFuture<'a, Result<Option<StoredEvent>, StoreError>> {
        Box::pin(async move {
            let sql = format!("SELECT {COLUMNS} FROM ipn_events WHERE tenant = $1 AND ($2 IS NULL OR event = $2) ORDER BY id DESC LIMIT 1");
            let row = sqlx::query(AssertSqlSafe(sql)).bind(tenant).bind(event).fetch_optional(&self.pool).await?;
            row.as_ref().map(row_to_event).transpose()
        })
    }

    fn recent<'a>(&'a self, tenant: &'a str, limit: u32) -> BoxFuture<'a, Result<Vec<StoredEvent>, StoreError>> {
        Box::pin(async move {
            let sql = format!("SELECT {COLUMNS} FROM ipn_events WHERE tenant = $1 ORDER BY id DESC LIMIT $2");
            let rows = sqlx::query(AssertSqlSafe(sql)).bind(tenant).bind(i64::from(limit)).fetch_all(&self.pool).await?;
            rows.iter().rev().map(row_to_event).collect()
        })
    }

    fn counts<'a>(&'a self, tenant: &'a str, since: i64) -> BoxFuture<'a, Result<Vec<(String, i64)>, StoreError>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT event, COUNT(*) AS n FROM ipn_events WHERE tenant = $1 AND received_at >= $2 GROUP BY event ORDER BY event",
            )
            .bind(tenant)
            .bind(since)
            .fetch_all(&self.pool)
            .await?;
            rows.iter().map(|r| Ok((r.try_get("event")?, r.try_get("n")?))).collect()
        })
    }

    fn prune(&self, before: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async move {
            Ok(sqlx::query("DELETE FROM ipn_events WHERE received_at < $1").bind(before).execute(&self.pool).await?.rows_affected())
        })
    }

    fn wakeups(&self) -> broadcast::Receiver<String> {
        self.wake.subscribe()
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_millis(500)
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

super::usage_sql::usage_store!(SqliteStore, sqlx::Sqlite, "PRAGMA optimize");
