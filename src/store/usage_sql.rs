//! The usage queries of both backends. The SQL is the same on SQLite and
//! PostgreSQL (`$n` placeholders, `ON CONFLICT … DO UPDATE`, sums cast to
//! BIGINT), so it is written once here, and `usage_store!` implements
//! [`UsageStore`](super::usage::UsageStore) for a backend's `pool`.
//!
//! Owns: folding a batch into hourly aggregates, the report queries, and
//! turning their rows into reports. Must not touch: the IPN event queries
//! (only `events` of a report reads `ipn_events`) or the report types.

use super::usage::{Bucket, Confirmations, Counts, HISTOGRAM_BUCKETS, Period, ToolUsage, UsageRow, duration_bucket, percentile_ms};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Rows per multi-row INSERT: 13 binds each, far below both backends' limits.
pub(super) const INSERT_CHUNK: usize = 500;
/// Aggregates per multi-row upsert: 33 binds each.
pub(super) const UPSERT_CHUNK: usize = 200;
/// The last calls a report lists.
pub(super) const RECENT_CALLS: i64 = 50;
/// Tools in the operator's "slowest" list.
const SLOWEST: usize = 10;

pub(super) const INSERT_RAW: &str = "INSERT INTO usage_calls \
    (at_ms, tenant, vendor_id, tool, class, detail, duration_us, upstream_us, answer_bytes, upstream_code, confirmed, era, transport) ";

fn histogram_columns() -> Vec<String> {
    (0..HISTOGRAM_BUCKETS).map(|i| format!("h{i:02}")).collect()
}

/// `INSERT INTO usage_hourly (…) ` before the values of an upsert.
pub(super) static UPSERT_HOURLY_HEAD: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO usage_hourly (tenant, hour_ms, tool, class, detail, upstream_code, calls, duration_us, upstream_us, \
         answer_bytes, confirmed_yes, confirmed_no, {}) ",
        histogram_columns().join(", ")
    )
});

/// What an upsert adds to an existing aggregate.
pub(super) static UPSERT_HOURLY_TAIL: LazyLock<String> = LazyLock::new(|| {
    let summed = ["calls", "duration_us", "upstream_us", "answer_bytes", "confirmed_yes", "confirmed_no"]
        .into_iter()
        .map(str::to_owned)
        .chain(histogram_columns())
        .map(|c| format!("{c} = usage_hourly.{c} + excluded.{c}"))
        .collect::<Vec<_>>();
    format!(" ON CONFLICT (tenant, hour_ms, tool, class, detail, upstream_code) DO UPDATE SET {}", summed.join(", "))
});

pub(super) const UPSERT_TENANTS_HEAD: &str = "INSERT INTO usage_tenants (tenant, vendor_id, first_call_ms, last_call_ms) ";

pub(super) const UPSERT_TENANTS_TAIL: &str = " ON CONFLICT (tenant) DO UPDATE SET vendor_id = COALESCE(excluded.vendor_id, usage_tenants.vendor_id), \
    first_call_ms = CASE WHEN excluded.first_call_ms < usage_tenants.first_call_ms THEN excluded.first_call_ms ELSE usage_tenants.first_call_ms END, \
    last_call_ms = CASE WHEN excluded.last_call_ms > usage_tenants.last_call_ms THEN excluded.last_call_ms ELSE usage_tenants.last_call_ms END";

pub(super) const HEARTBEAT: &str = "INSERT INTO usage_replicas (replica, last_seen_ms, rows_dropped, rows_written) VALUES ($1, $2, $3, $4) \
    ON CONFLICT (replica) DO UPDATE SET last_seen_ms = excluded.last_seen_ms, rows_dropped = excluded.rows_dropped, \
    rows_written = excluded.rows_written";

/// Every report query is scoped by `$1`: one tenant, or (`$1 = ''`) the whole service.
/// `$2`/`$3` are the first hour and the end of the period.
fn scope(tenant: bool) -> &'static str {
    if tenant { "tenant = $1 AND hour_ms >= $2 AND hour_ms < $3" } else { "$1 = '' AND hour_ms >= $2 AND hour_ms < $3" }
}

/// Calls per bucket (`$4` ms wide) and class.
pub(super) fn series_sql(tenant: bool) -> String {
    format!(
        "SELECT (hour_ms / $4) * $4 AS bucket, class, CAST(SUM(calls) AS BIGINT) AS n FROM usage_hourly WHERE {} GROUP BY bucket, class",
        scope(tenant)
    )
}

/// Calls, confirmation rounds and the duration histogram per tool and class.
pub(super) fn tools_sql(tenant: bool) -> String {
    let histogram = histogram_columns().iter().map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT tool, class, CAST(SUM(calls) AS BIGINT) AS n, CAST(SUM(confirmed_yes) AS BIGINT) AS conf_yes, \
         CAST(SUM(confirmed_no) AS BIGINT) AS conf_no, {histogram} FROM usage_hourly WHERE {} GROUP BY tool, class",
        scope(tenant)
    )
}

/// Upstream error codes and how often.
pub(super) fn codes_sql() -> String {
    format!(
        "SELECT upstream_code, CAST(SUM(calls) AS BIGINT) AS n FROM usage_hourly WHERE {} AND upstream_code <> '' \
         GROUP BY upstream_code ORDER BY n DESC, upstream_code",
        scope(false)
    )
}

/// Calls per tenant and class, with what is known of the tenant.
pub(super) fn tenants_sql() -> String {
    format!(
        "SELECT h.tenant, t.vendor_id, t.last_call_ms, h.class, h.n FROM \
         (SELECT tenant, class, CAST(SUM(calls) AS BIGINT) AS n FROM usage_hourly WHERE {} GROUP BY tenant, class) h \
         LEFT JOIN usage_tenants t ON t.tenant = h.tenant",
        scope(false)
    )
}

pub(super) const RECENT_SQL: &str = "SELECT at_ms, tool, class, detail, duration_us FROM usage_calls \
    WHERE tenant = $1 AND at_ms >= $2 AND at_ms < $3 ORDER BY at_ms DESC, id DESC LIMIT $4";

pub(super) const EVENTS_SQL: &str = "SELECT (received_at / 86400000) * 86400000 AS day, event, COUNT(*) AS n FROM ipn_events \
    WHERE tenant = $1 AND received_at >= $2 AND received_at < $3 GROUP BY day, event ORDER BY day, event";

pub(super) const REPLICAS_SQL: &str = "SELECT replica, last_seen_ms, rows_dropped, rows_written FROM usage_replicas ORDER BY replica";

/// What identifies an hourly aggregate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct HourKey<'a> {
    pub tenant: &'a str,
    pub hour_ms: i64,
    pub tool: &'a str,
    pub class: &'a str,
    pub detail: &'a str,
    /// '' when there was none.
    pub upstream_code: &'a str,
}

/// What an hourly aggregate sums.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct HourSums {
    pub calls: i64,
    pub duration_us: i64,
    pub upstream_us: i64,
    pub answer_bytes: i64,
    pub confirmed_yes: i64,
    pub confirmed_no: i64,
    pub histogram: [i64; HISTOGRAM_BUCKETS],
}

/// Folds a batch into one addition per aggregate, so a batch of 500 calls of
/// one tool is one upsert, and no key repeats within a statement (Postgres
/// refuses an upsert that touches a row twice).
pub(super) fn aggregate(rows: &[UsageRow]) -> Vec<(HourKey<'_>, HourSums)> {
    let hour = super::usage::Granularity::Hour.millis();
    let mut sums: HashMap<HourKey<'_>, HourSums> = HashMap::new();
    for row in rows {
        let key = HourKey {
            tenant: &row.tenant,
            hour_ms: row.at_ms.div_euclid(hour) * hour,
            tool: &row.tool,
            class: &row.class,
            detail: &row.detail,
            upstream_code: row.upstream_code.as_deref().unwrap_or(""),
        };
        let sum = sums.entry(key).or_default();
        sum.calls += 1;
        sum.duration_us += row.duration_us;
        sum.upstream_us += row.upstream_us;
        sum.answer_bytes += row.answer_bytes;
        sum.confirmed_yes += i64::from(row.confirmed == Some(true));
        sum.confirmed_no += i64::from(row.confirmed == Some(false));
        sum.histogram[duration_bucket(row.duration_us)] += 1;
    }
    sums.into_iter().collect()
}

/// A tenant seen in a batch: its vendor id (if any row knew it) and first/last call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TenantSeen<'a> {
    pub tenant: &'a str,
    pub vendor_id: Option<&'a str>,
    pub first_ms: i64,
    pub last_ms: i64,
}

pub(super) fn tenants_seen(rows: &[UsageRow]) -> Vec<TenantSeen<'_>> {
    let mut seen: HashMap<&str, TenantSeen<'_>> = HashMap::new();
    for row in rows {
        let entry =
            seen.entry(&row.tenant).or_insert(TenantSeen { tenant: &row.tenant, vendor_id: None, first_ms: row.at_ms, last_ms: row.at_ms });
        entry.vendor_id = entry.vendor_id.or(row.vendor_id.as_deref());
        entry.first_ms = entry.first_ms.min(row.at_ms);
        entry.last_ms = entry.last_ms.max(row.at_ms);
    }
    // A stable order: two writers upserting the same tenants cannot deadlock.
    let mut seen: Vec<_> = seen.into_values().collect();
    seen.sort_by(|a, b| a.tenant.cmp(b.tenant));
    seen
}

/// Every bucket of the period, empty ones included.
pub(super) fn series(period: &Period, counted: &[(i64, String, i64)]) -> Vec<Bucket> {
    let mut by_start: HashMap<i64, Counts> = HashMap::new();
    for (start, class, n) in counted {
        by_start.entry(*start).or_default().add(class, *n);
    }
    period.bucket_starts().into_iter().map(|start_ms| Bucket { start_ms, counts: by_start.remove(&start_ms).unwrap_or_default() }).collect()
}

/// One row of the tools query.
#[derive(Debug, Clone)]
pub(super) struct ToolClass {
    pub tool: String,
    pub class: String,
    pub calls: i64,
    pub confirmed_yes: i64,
    pub confirmed_no: i64,
    pub histogram: [i64; HISTOGRAM_BUCKETS],
}

/// Per tool (most calls first, then by name), and the confirmations accepted/declined.
pub(super) fn tools(rows: &[ToolClass]) -> (Vec<ToolUsage>, Confirmations) {
    let mut by_tool: HashMap<&str, (Counts, [i64; HISTOGRAM_BUCKETS])> = HashMap::new();
    let mut confirmations = Confirmations::default();
    for row in rows {
        let (counts, histogram) = by_tool.entry(&row.tool).or_insert_with(|| (Counts::default(), [0; HISTOGRAM_BUCKETS]));
        counts.add(&row.class, row.calls);
        histogram.iter_mut().zip(row.histogram).for_each(|(sum, n)| *sum += n);
        confirmations.accepted += row.confirmed_yes;
        confirmations.declined += row.confirmed_no;
        if row.class == "confirmation_requested" {
            confirmations.asked += row.calls;
        }
    }
    let mut tools: Vec<ToolUsage> = by_tool
        .into_iter()
        .map(|(tool, (counts, histogram))| ToolUsage {
            tool: tool.to_owned(),
            counts,
            p50_ms: percentile_ms(&histogram, 0.5),
            p95_ms: percentile_ms(&histogram, 0.95),
        })
        .collect();
    tools.sort_by(|a, b| b.counts.calls.cmp(&a.counts.calls).then_with(|| a.tool.cmp(&b.tool)));
    (tools, confirmations)
}

/// The tools with the highest p95, slowest first.
pub(super) fn slowest(tools: &[ToolUsage]) -> Vec<ToolUsage> {
    let mut slowest = tools.to_vec();
    slowest.sort_by(|a, b| b.p95_ms.total_cmp(&a.p95_ms).then_with(|| a.tool.cmp(&b.tool)));
    slowest.truncate(SLOWEST);
    slowest
}

/// Implements `UsageStore` for a backend struct with a `pool` of database `$db`.
/// `$refresh_statistics` runs after each pruning: the planner needs current
/// statistics to read "the last 50 calls" from the index instead of sorting.
macro_rules! usage_store {
    ($store:ty, $db:ty, $refresh_statistics:expr) => {
        impl $crate::store::usage::UsageStore for $store {
            fn insert_usage<'a>(
                &'a self,
                batch: &'a str,
                rows: &'a [$crate::store::usage::UsageRow],
            ) -> futures::future::BoxFuture<'a, Result<(), $crate::store::StoreError>> {
                use $crate::store::usage_sql as q;
                Box::pin(async move {
                    if rows.is_empty() {
                        return Ok(());
                    }
                    let mut tx = self.pool.begin().await?;
                    // A batch already committed (its acknowledgement lost, the
                    // writer retrying) is not counted twice.
                    let first = sqlx::query("INSERT INTO usage_batches (id, at_ms) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                        .bind(batch)
                        .bind($crate::store::now_ms())
                        .execute(&mut *tx)
                        .await?;
                    if first.rows_affected() == 0 {
                        tx.rollback().await?;
                        return Ok(());
                    }
                    for chunk in rows.chunks(q::INSERT_CHUNK) {
                        let mut insert = sqlx::QueryBuilder::<$db>::new(q::INSERT_RAW);
                        insert.push_values(chunk, |mut values, r| {
                            values
                                .push_bind(r.at_ms)
                                .push_bind(r.tenant.as_str())
                                .push_bind(r.vendor_id.as_deref())
                                .push_bind(r.tool.as_str())
                                .push_bind(r.class.as_str())
                                .push_bind(r.detail.as_str())
                                .push_bind(r.duration_us)
                                .push_bind(r.upstream_us)
                                .push_bind(r.answer_bytes)
                                .push_bind(r.upstream_code.as_deref())
                                .push_bind(r.confirmed.map(i16::from))
                                .push_bind(r.era.as_str())
                                .push_bind(r.transport.as_str());
                        });
                        insert.build().execute(&mut *tx).await?;
                    }
                    let mut sums = q::aggregate(rows);
                    // A stable order: concurrent writers lock aggregates in the same order.
                    sums.sort_by(|a, b| {
                        (a.0.tenant, a.0.hour_ms, a.0.tool, a.0.class, a.0.detail, a.0.upstream_code).cmp(&(
                            b.0.tenant,
                            b.0.hour_ms,
                            b.0.tool,
                            b.0.class,
                            b.0.detail,
                            b.0.upstream_code,
                        ))
                    });
                    for chunk in sums.chunks(q::UPSERT_CHUNK) {
                        let mut upsert = sqlx::QueryBuilder::<$db>::new(q::UPSERT_HOURLY_HEAD.as_str());
                        upsert.push_values(chunk, |mut values, (key, sum)| {
                            values
                                .push_bind(key.tenant)
                                .push_bind(key.hour_ms)
                                .push_bind(key.tool)
                                .push_bind(key.class)
                                .push_bind(key.detail)
                                .push_bind(key.upstream_code)
                                .push_bind(sum.calls)
                                .push_bind(sum.duration_us)
                                .push_bind(sum.upstream_us)
                                .push_bind(sum.answer_bytes)
                                .push_bind(sum.confirmed_yes)
                                .push_bind(sum.confirmed_no);
                            for n in sum.histogram {
                                values.push_bind(n);
                            }
                        });
                        upsert.push(q::UPSERT_HOURLY_TAIL.as_str());
                        upsert.build().execute(&mut *tx).await?;
                    }
                    // One statement for all tenants of the batch: a round trip each would
                    // make a batch of many tenants slower than the calls come in.
                    for chunk in q::tenants_seen(rows).chunks(q::UPSERT_CHUNK) {
                        let mut upsert = sqlx::QueryBuilder::<$db>::new(q::UPSERT_TENANTS_HEAD);
                        upsert.push_values(chunk, |mut values, seen| {
                            values.push_bind(seen.tenant).push_bind(seen.vendor_id).push_bind(seen.first_ms).push_bind(seen.last_ms);
                        });
                        upsert.push(q::UPSERT_TENANTS_TAIL);
                        upsert.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                })
            }

            fn usage_report<'a>(
                &'a self,
                tenant: &'a str,
                vendor_id: Option<&'a str>,
                period: $crate::store::usage::Period,
            ) -> futures::future::BoxFuture<'a, Result<$crate::store::usage::UsageReport, $crate::store::StoreError>> {
                use sqlx::Row;
                use $crate::store::usage::{EventDay, RecentCall, UsageReport};
                use $crate::store::usage_sql as q;
                Box::pin(async move {
                    let counted = self.series_rows(tenant, &period).await?;
                    let series = q::series(&period, &counted);
                    let mut totals = $crate::store::usage::Counts::default();
                    series.iter().for_each(|b| totals.merge(&b.counts));
                    let (tools, confirmations) = q::tools(&self.tool_rows(tenant, &period).await?);
                    let recent = sqlx::query(q::RECENT_SQL)
                        .bind(tenant)
                        .bind(period.from_ms)
                        .bind(period.to_ms)
                        .bind(q::RECENT_CALLS)
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(|r| {
                            Ok(RecentCall {
                                at_ms: r.try_get("at_ms")?,
                                tool: r.try_get("tool")?,
                                class: r.try_get("class")?,
                                detail: r.try_get("detail")?,
                                duration_ms: r.try_get::<i64, _>("duration_us")? as f64 / 1000.0,
                            })
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()?;
                    let events = match vendor_id {
                        Some(vendor) => sqlx::query(q::EVENTS_SQL)
                            .bind(vendor)
                            .bind(period.from_ms)
                            .bind(period.to_ms)
                            .fetch_all(&self.pool)
                            .await?
                            .iter()
                            .map(|r| Ok(EventDay { day_ms: r.try_get("day")?, event: r.try_get("event")?, count: r.try_get("n")? }))
                            .collect::<Result<Vec<_>, sqlx::Error>>()?,
                        None => Vec::new(),
                    };
                    Ok(UsageReport { period, totals, series, tools, recent, confirmations, events })
                })
            }

            fn operator_report(
                &self,
                period: $crate::store::usage::Period,
            ) -> futures::future::BoxFuture<'_, Result<$crate::store::usage::OperatorReport, $crate::store::StoreError>> {
                use sqlx::{AssertSqlSafe, Row};
                use $crate::store::usage::{Counts, OperatorReport, ReplicaHealth, TenantUsage};
                use $crate::store::usage_sql as q;
                Box::pin(async move {
                    let counted = self.series_rows("", &period).await?;
                    let series = q::series(&period, &counted);
                    let mut totals = Counts::default();
                    series.iter().for_each(|b| totals.merge(&b.counts));
                    let (tools, _) = q::tools(&self.tool_rows("", &period).await?);
                    let slowest = q::slowest(&tools);
                    let upstream_codes = sqlx::query(AssertSqlSafe(q::codes_sql()))
                        .bind("")
                        .bind(period.first_hour_ms())
                        .bind(period.to_ms)
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(|r| Ok((r.try_get("upstream_code")?, r.try_get("n")?)))
                        .collect::<Result<Vec<(String, i64)>, sqlx::Error>>()?;
                    let mut tenants: Vec<TenantUsage> = Vec::new();
                    let rows = sqlx::query(AssertSqlSafe(q::tenants_sql()))
                        .bind("")
                        .bind(period.first_hour_ms())
                        .bind(period.to_ms)
                        .fetch_all(&self.pool)
                        .await?;
                    let mut index = std::collections::HashMap::<String, usize>::new();
                    for r in &rows {
                        let tenant: String = r.try_get("tenant")?;
                        let at = *index.entry(tenant.clone()).or_insert_with(|| {
                            tenants.push(TenantUsage { tenant, vendor_id: None, counts: Counts::default(), last_call_ms: 0 });
                            tenants.len() - 1
                        });
                        let entry = &mut tenants[at];
                        entry.vendor_id = r.try_get("vendor_id")?;
                        entry.last_call_ms = r.try_get::<Option<i64>, _>("last_call_ms")?.unwrap_or(0);
                        entry.counts.add(r.try_get("class")?, r.try_get("n")?);
                    }
                    tenants.sort_by(|a, b| b.counts.calls.cmp(&a.counts.calls).then_with(|| a.tenant.cmp(&b.tenant)));
                    let replicas = sqlx::query(q::REPLICAS_SQL)
                        .fetch_all(&self.pool)
                        .await?
                        .iter()
                        .map(|r| {
                            Ok(ReplicaHealth {
                                replica: r.try_get("replica")?,
                                last_seen_ms: r.try_get("last_seen_ms")?,
                                rows_dropped: r.try_get("rows_dropped")?,
                                rows_written: r.try_get("rows_written")?,
                            })
                        })
                        .collect::<Result<Vec<_>, sqlx::Error>>()?;
                    Ok(OperatorReport { period, totals, series, tenants, tools, slowest, upstream_codes, replicas })
                })
            }

            fn heartbeat<'a>(
                &'a self,
                health: &'a $crate::store::usage::ReplicaHealth,
            ) -> futures::future::BoxFuture<'a, Result<(), $crate::store::StoreError>> {
                Box::pin(async move {
                    sqlx::query($crate::store::usage_sql::HEARTBEAT)
                        .bind(&health.replica)
                        .bind(health.last_seen_ms)
                        .bind(health.rows_dropped)
                        .bind(health.rows_written)
                        .execute(&self.pool)
                        .await?;
                    Ok(())
                })
            }

            fn prune_usage(
                &self,
                raw_before: i64,
                hourly_before: i64,
            ) -> futures::future::BoxFuture<'_, Result<u64, $crate::store::StoreError>> {
                Box::pin(async move {
                    let raw = sqlx::query("DELETE FROM usage_calls WHERE at_ms < $1").bind(raw_before).execute(&self.pool).await?;
                    let hourly = sqlx::query("DELETE FROM usage_hourly WHERE hour_ms < $1").bind(hourly_before).execute(&self.pool).await?;
                    sqlx::query("DELETE FROM usage_batches WHERE at_ms < $1").bind(raw_before).execute(&self.pool).await?;
                    sqlx::raw_sql($refresh_statistics).execute(&self.pool).await?;
                    Ok(raw.rows_affected() + hourly.rows_affected())
                })
            }
        }

        impl $store {
            /// Calls per bucket and class of a tenant (`""`: everyone).
            async fn series_rows(
                &self,
                tenant: &str,
                period: &$crate::store::usage::Period,
            ) -> Result<Vec<(i64, String, i64)>, $crate::store::StoreError> {
                use sqlx::{AssertSqlSafe, Row};
                let sql = $crate::store::usage_sql::series_sql(!tenant.is_empty());
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(tenant)
                    .bind(period.first_hour_ms())
                    .bind(period.to_ms)
                    .bind(period.granularity.millis())
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| Ok((r.try_get("bucket")?, r.try_get("class")?, r.try_get("n")?)))
                    .collect::<Result<Vec<_>, sqlx::Error>>()?)
            }

            /// Calls, confirmations and histograms per tool and class of a tenant (`""`: everyone).
            async fn tool_rows(
                &self,
                tenant: &str,
                period: &$crate::store::usage::Period,
            ) -> Result<Vec<$crate::store::usage_sql::ToolClass>, $crate::store::StoreError> {
                use sqlx::{AssertSqlSafe, Row};
                let sql = $crate::store::usage_sql::tools_sql(!tenant.is_empty());
                let rows = sqlx::query(AssertSqlSafe(sql))
                    .bind(tenant)
                    .bind(period.first_hour_ms())
                    .bind(period.to_ms)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .iter()
                    .map(|r| {
                        let mut histogram = [0i64; $crate::store::usage::HISTOGRAM_BUCKETS];
                        for (i, slot) in histogram.iter_mut().enumerate() {
                            *slot = r.try_get(5 + i)?;
                        }
                        Ok($crate::store::usage_sql::ToolClass {
                            tool: r.try_get("tool")?,
                            class: r.try_get("class")?,
                            calls: r.try_get("n")?,
                            confirmed_yes: r.try_get("conf_yes")?,
                            confirmed_no: r.try_get("conf_no")?,
                            histogram,
                        })
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()?)
            }
        }
    };
}
pub(super) use usage_store;

#[cfg(test)]
mod tests {
    use super::*;

    fn row(tenant: &str, at_ms: i64, class: &str, duration_us: i64, confirmed: Option<bool>) -> UsageRow {
        UsageRow {
            at_ms,
            tenant: tenant.into(),
            vendor_id: None,
            tool: "listProducts".into(),
            class: class.into(),
            detail: class.into(),
            duration_us,
            upstream_us: duration_us / 2,
            answer_bytes: 10,
            upstream_code: None,
            confirmed,
            era: "2026-07-28".into(),
            transport: "http".into(),
        }
    }

    #[test]
    fn a_batch_folds_into_one_aggregate_per_hour_tool_and_outcome() {
        let hour = 3_600_000;
        let rows = [
            row("a", hour + 1, "success", 1_500, None),
            row("a", hour + 2, "success", 2_500, Some(true)),
            row("a", 2 * hour, "success", 1_500, None),
            row("b", hour + 3, "success", 1_500, Some(false)),
        ];
        let sums = aggregate(&rows);
        assert_eq!(sums.len(), 3, "a's two calls in one hour share an aggregate");
        let (_, first) = sums.iter().find(|(k, _)| k.tenant == "a" && k.hour_ms == hour).unwrap();
        assert_eq!((first.calls, first.duration_us, first.upstream_us, first.confirmed_yes), (2, 4_000, 2_000, 1));
        assert_eq!(first.histogram.iter().sum::<i64>(), 2);
        let seen = tenants_seen(&rows);
        assert_eq!(
            seen.iter().map(|t| (t.tenant, t.first_ms, t.last_ms)).collect::<Vec<_>>(),
            [("a", hour + 1, 2 * hour), ("b", hour + 3, hour + 3)]
        );
    }

    #[test]
    fn the_sql_adds_to_existing_aggregates_instead_of_replacing_them() {
        assert!(UPSERT_HOURLY_TAIL.contains("calls = usage_hourly.calls + excluded.calls"));
        assert!(UPSERT_HOURLY_TAIL.contains("h20 = usage_hourly.h20 + excluded.h20"));
        assert!(UPSERT_HOURLY_HEAD.contains("h00, h01"));
        assert!(tools_sql(true).contains("tenant = $1"));
        assert!(!tools_sql(false).contains("tenant = $1"), "the operator's queries read every tenant");
    }
}
