//! The PostgreSQL backend: shared by every replica; a commit wakes the
//! waiters of all of them through `LISTEN/NOTIFY` on one channel.

use super::{
    COLUMNS, EventQuery, EventStore, Inserted, LIST_WHERE, NewEvent, StoreError, StoredEvent, events_filter, migrator, parse_json,
};
use futures::future::BoxFuture;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{AssertSqlSafe, Row};
use std::sync::LazyLock;
use std::time::Duration;
use tokio::sync::broadcast;

const MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "events", include_str!("migrations/postgres_0001_events.sql")),
    (2, "usage", include_str!("migrations/postgres_0002_usage.sql")),
    (3, "usage batches", include_str!("migrations/postgres_0003_usage_batches.sql")),
];

/// The notification channel; the payload is the tenant.
const CHANNEL: &str = "ds24_ipn_events";

static LIST_SQL: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {COLUMNS} FROM ipn_events WHERE {}", LIST_WHERE.replace("{contains}", "strpos($9, ',' || event || ',') > 0"))
});

pub(super) struct PostgresStore {
    pool: PgPool,
    wake: broadcast::Sender<String>,
}

impl PostgresStore {
    pub(super) async fn open(url: &str) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(5)).connect(url).await?;
        migrator(MIGRATIONS).run(&pool).await?;
        let (wake, _) = broadcast::channel(super::WAKEUP_CAPACITY);
        let mut listener = PgListener::connect_with(&pool).await?;
        listener.listen(CHANNEL).await?;
        let sender = wake.clone();
        tokio::spawn(async move {
            loop {
                // `recv` reconnects by itself after a lost connection;
                // waiters poll meanwhile, so nothing is missed for long.
                match listener.recv().await {
                    Ok(notification) => {
                        let _ = sender.send(notification.payload().to_owned());
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "Postgres LISTEN failed; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(PostgresStore { pool, wake })
    }
}

fn row_to_event(row: &PgRow) -> Result<StoredEvent, StoreError> {
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

impl EventStore for PostgresStore {
    fn insert<'a>(&'a self, e: &'a NewEvent) -> BoxFuture<'a, Result<Inserted, StoreError>> {
        Box::pin(async move {
            let mut tx = self.pool.begin().await?;
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
            .fetch_optional(&mut *tx)
            .await?;
            if id.is_some() {
                // Delivered to every listener when (and only if) the row commits.
                sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(&e.tenant).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(id.map_or(Inserted::Duplicate, Inserted::New))
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
        // NOTIFY does the waking; this only bridges a lost LISTEN connection.
        Duration::from_secs(2)
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }
}

super::usage_sql::usage_store!(PostgresStore, sqlx::Postgres, "ANALYZE usage_calls, usage_hourly");
