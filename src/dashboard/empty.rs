//! The usage store of a server that records nothing yet: every report is
//! empty (with one empty bucket per step of the period, so the pages show
//! their empty state, not a broken chart).
//!
//! Owns: [`NotRecorded`], the report of a tenant without rows (the test
//! double's fallback). Must not touch: real storage.

use crate::store::StoreError;
use crate::store::usage::{Bucket, Confirmations, Counts, OperatorReport, Period, ReplicaHealth, UsageReport, UsageRow, UsageStore};
use futures::future::BoxFuture;

/// Answers every report with zero calls.
#[derive(Debug, Default, Clone, Copy)]
pub struct NotRecorded;

/// One empty bucket per step of `period`, oldest first.
pub fn empty_series(period: &Period) -> Vec<Bucket> {
    period.bucket_starts().into_iter().map(|start_ms| Bucket { start_ms, counts: Counts::default() }).collect()
}

impl UsageStore for NotRecorded {
    fn insert_usage<'a>(&'a self, _batch: &'a str, _rows: &'a [UsageRow]) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn usage_report<'a>(
        &'a self,
        _tenant: &'a str,
        _vendor_id: Option<&'a str>,
        period: Period,
    ) -> BoxFuture<'a, Result<UsageReport, StoreError>> {
        Box::pin(async move {
            Ok(UsageReport {
                period,
                totals: Counts::default(),
                series: empty_series(&period),
                tools: Vec::new(),
                recent: Vec::new(),
                confirmations: Confirmations::default(),
                events: Vec::new(),
            })
        })
    }

    fn operator_report(&self, period: Period) -> BoxFuture<'_, Result<OperatorReport, StoreError>> {
        Box::pin(async move {
            Ok(OperatorReport {
                period,
                totals: Counts::default(),
                series: empty_series(&period),
                tenants: Vec::new(),
                tools: Vec::new(),
                slowest: Vec::new(),
                upstream_codes: Vec::new(),
                replicas: Vec::new(),
            })
        })
    }

    fn heartbeat<'a>(&'a self, _health: &'a ReplicaHealth) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async { Ok(()) })
    }

    fn prune_usage(&self, _raw_before: i64, _hourly_before: i64) -> BoxFuture<'_, Result<u64, StoreError>> {
        Box::pin(async { Ok(0) })
    }
}
