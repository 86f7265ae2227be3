//! Usage of the service in the database: one row per tool call, hourly
//! aggregates kept for a year, and the reports the dashboards show.
//!
//! Owns: the shapes of a usage row and of the reports, and the trait the two
//! backends implement. Must not touch: how rows are collected (the recorder
//! in `ops::usage`) or how reports are rendered (`dashboard`). A row never
//! holds a key, arguments or an answer: only what the dashboards count.

use super::StoreError;
use futures::future::BoxFuture;

/// One tool call, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageRow {
    /// Unix milliseconds when the call ended.
    pub at_ms: i64,
    /// The customer: `ApiKey::tenant_id` of the call's key (`none` without one).
    pub tenant: String,
    /// The Digistore24 vendor id of that key, once known.
    pub vendor_id: Option<String>,
    /// The tool name.
    pub tool: String,
    /// `Class::as_str` of the outcome: success, cached, dry_run, confirmation_requested,
    /// rate_limited, tool_error, upstream_error, timeout.
    pub class: String,
    /// `Outcome::label`: which refusal or failure (equals `class` where that says it all).
    pub detail: String,
    /// Whole call, microseconds.
    pub duration_us: i64,
    /// Time spent waiting for Digistore24, microseconds (0 when nothing was sent).
    pub upstream_us: i64,
    /// Bytes of the answer text.
    pub answer_bytes: i64,
    /// The upstream's error code (`code` of a `result: error`), if any.
    pub upstream_code: Option<String>,
    /// Whether a confirmation round ended accepted (`Some(true)`), declined (`Some(false)`).
    pub confirmed: Option<bool>,
    /// Protocol era of the request: `2025-06-18`-style date of the negotiated version, or `stateless`.
    pub era: String,
    /// `http` or `stdio`.
    pub transport: String,
}

/// How fine the time series is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
}

impl Granularity {
    pub fn millis(self) -> i64 {
        match self {
            Granularity::Hour => 3_600_000,
            Granularity::Day => 86_400_000,
        }
    }
}

/// The time range of a report: `[from_ms, to_ms)`, bucketed by `granularity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from_ms: i64,
    pub to_ms: i64,
    pub granularity: Granularity,
}

/// Counts of one bucket, tool or tenant, by outcome class.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub calls: i64,
    /// success + cached
    pub success: i64,
    pub dry_run: i64,
    pub confirmation_requested: i64,
    pub rate_limited: i64,
    /// Refused or rejected before sending (tool_error).
    pub tool_error: i64,
    /// upstream_error + timeout
    pub upstream_error: i64,
}

impl Counts {
    /// Errors a vendor cares about: refused, upstream errors and timeouts.
    pub fn errors(&self) -> i64 {
        self.tool_error + self.upstream_error
    }
}

/// One bar of the chart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Start of the bucket, unix ms.
    pub start_ms: i64,
    pub counts: Counts,
}

/// One line of the per-tool table.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolUsage {
    pub tool: String,
    pub counts: Counts,
    /// Median and 95th percentile of the call duration, milliseconds.
    pub p50_ms: f64,
    pub p95_ms: f64,
}

/// One of the last calls.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentCall {
    pub at_ms: i64,
    pub tool: String,
    pub class: String,
    pub detail: String,
    pub duration_ms: f64,
}

/// Confirmations asked, accepted and declined.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirmations {
    pub asked: i64,
    pub accepted: i64,
    pub declined: i64,
}

/// IPN events of one day and type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventDay {
    pub day_ms: i64,
    pub event: String,
    pub count: i64,
}

/// What a customer's dashboard shows for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct UsageReport {
    pub period: Period,
    pub totals: Counts,
    /// Every bucket of the period, oldest first, empty buckets included (so a
    /// chart has one bar per bucket).
    pub series: Vec<Bucket>,
    /// Sorted by calls, most first.
    pub tools: Vec<ToolUsage>,
    /// The last 50 calls, newest first.
    pub recent: Vec<RecentCall>,
    pub confirmations: Confirmations,
    /// IPN events per day and type (when the vendor id is known).
    pub events: Vec<EventDay>,
}

/// One tenant on the operator's page (never a key: the tenant id only).
#[derive(Debug, Clone, PartialEq)]
pub struct TenantUsage {
    pub tenant: String,
    pub vendor_id: Option<String>,
    pub counts: Counts,
    pub last_call_ms: i64,
}

/// A replica's last heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaHealth {
    pub replica: String,
    pub last_seen_ms: i64,
    /// Rows this replica dropped since it started (database slow or down).
    pub rows_dropped: i64,
    /// Rows written since it started.
    pub rows_written: i64,
}

/// What the operator's dashboard shows for one period.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorReport {
    pub period: Period,
    pub totals: Counts,
    pub series: Vec<Bucket>,
    pub tenants: Vec<TenantUsage>,
    pub tools: Vec<ToolUsage>,
    /// Tools by p95 duration, slowest first (at most 10).
    pub slowest: Vec<ToolUsage>,
    /// Upstream error codes and how often, most first.
    pub upstream_codes: Vec<(String, i64)>,
    pub replicas: Vec<ReplicaHealth>,
}

/// The usage half of the database; both backends implement it.
pub trait UsageStore: Send + Sync + 'static {
    /// Writes a batch of rows (and their hourly aggregates) in one transaction.
    fn insert_usage<'a>(&'a self, rows: &'a [UsageRow]) -> BoxFuture<'a, Result<(), StoreError>>;
    /// One customer's report; `vendor_id` adds their IPN events.
    fn usage_report<'a>(
        &'a self,
        tenant: &'a str,
        vendor_id: Option<&'a str>,
        period: Period,
    ) -> BoxFuture<'a, Result<UsageReport, StoreError>>;
    /// The whole service's report.
    fn operator_report(&self, period: Period) -> BoxFuture<'_, Result<OperatorReport, StoreError>>;
    /// Records this replica's heartbeat with its counters.
    fn heartbeat<'a>(&'a self, health: &'a ReplicaHealth) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Deletes raw rows before `raw_before` and hourly aggregates before `hourly_before` (unix ms).
    fn prune_usage(&self, raw_before: i64, hourly_before: i64) -> BoxFuture<'_, Result<u64, StoreError>>;
}
