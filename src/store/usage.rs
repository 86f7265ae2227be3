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
    /// The upstream's error code (`code` of a `result: error`), if any; `http_STATUS`
    /// for an error answer without a code or a non-2xx answer without an envelope.
    pub upstream_code: Option<String>,
    /// Whether a confirmation round ended accepted (`Some(true)`), declined (`Some(false)`).
    pub confirmed: Option<bool>,
    /// Protocol era of the request: `2025-06-18`-style date of the version it spoke
    /// (2026-07-28 on: stateless requests; before: the session era), or
    /// `unversioned` when it named none.
    pub era: String,
    /// `http` or `stdio` (`cli` for the `call` subcommand).
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

    /// The counts by the class shown (CSS class, JSON and CSV name), in the
    /// order of the chart's stack, bottom up, and of the export's columns.
    pub fn by_class(&self) -> [(&'static str, i64); 6] {
        [
            ("success", self.success),
            ("dry_run", self.dry_run),
            ("confirmation_requested", self.confirmation_requested),
            ("rate_limited", self.rate_limited),
            ("tool_error", self.tool_error),
            ("upstream_error", self.upstream_error),
        ]
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
    /// `batch` names it: the same batch written again (a retry after an
    /// acknowledgement that was lost) changes nothing.
    fn insert_usage<'a>(&'a self, batch: &'a str, rows: &'a [UsageRow]) -> BoxFuture<'a, Result<(), StoreError>>;
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

/// Upper bounds (exclusive, microseconds) of the fixed duration histogram kept
/// per hourly aggregate; a last bucket holds everything from 10 s on. p50/p95
/// are read from it, so a percentile is exact to within its bucket.
pub const DURATION_BUCKETS_US: [i64; 20] = [
    500, 1_000, 2_000, 3_000, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000, 50_000, 75_000, 100_000, 150_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000,
];

/// Buckets of the histogram: one per bound and the open-ended last one.
pub const HISTOGRAM_BUCKETS: usize = DURATION_BUCKETS_US.len() + 1;

/// The histogram bucket a call of `duration_us` falls in.
pub fn duration_bucket(duration_us: i64) -> usize {
    DURATION_BUCKETS_US.iter().position(|&bound| duration_us < bound).unwrap_or(DURATION_BUCKETS_US.len())
}

/// The lower and upper bound (microseconds) of a bucket; the last one has no
/// upper bound and reports its lower one.
pub fn bucket_bounds(bucket: usize) -> (i64, i64) {
    let lower = if bucket == 0 { 0 } else { DURATION_BUCKETS_US[bucket - 1] };
    let upper = DURATION_BUCKETS_US.get(bucket).copied().unwrap_or(lower);
    (lower, upper)
}

/// The `q` quantile (0..1) of a histogram, in milliseconds, interpolated
/// linearly inside its bucket; 0 for an empty one.
pub fn percentile_ms(histogram: &[i64; HISTOGRAM_BUCKETS], q: f64) -> f64 {
    let total: i64 = histogram.iter().sum();
    if total == 0 {
        return 0.0;
    }
    // The rank of the wanted call, 1-based: the median of 10 calls is the 5th.
    let rank = (q * total as f64).ceil().max(1.0);
    let mut below = 0i64;
    for (bucket, &count) in histogram.iter().enumerate() {
        if count > 0 && (below + count) as f64 >= rank {
            let (lower, upper) = bucket_bounds(bucket);
            let within = (rank - below as f64) / count as f64;
            return (lower as f64 + within * (upper - lower) as f64) / 1000.0;
        }
        below += count;
    }
    bucket_bounds(HISTOGRAM_BUCKETS - 1).0 as f64 / 1000.0
}

impl Counts {
    /// Adds `n` calls of outcome class `class` (`Class::as_str`).
    pub fn add(&mut self, class: &str, n: i64) {
        self.calls += n;
        match class {
            "success" | "cached" => self.success += n,
            "dry_run" => self.dry_run += n,
            "confirmation_requested" => self.confirmation_requested += n,
            "rate_limited" => self.rate_limited += n,
            "tool_error" => self.tool_error += n,
            "upstream_error" | "timeout" => self.upstream_error += n,
            _ => {}
        }
    }

    /// Adds another set of counts.
    pub fn merge(&mut self, other: &Counts) {
        self.calls += other.calls;
        self.success += other.success;
        self.dry_run += other.dry_run;
        self.confirmation_requested += other.confirmation_requested;
        self.rate_limited += other.rate_limited;
        self.tool_error += other.tool_error;
        self.upstream_error += other.upstream_error;
    }
}

impl Period {
    /// The start of every bucket of the period, oldest first: from the bucket
    /// holding `from_ms` up to the last one starting before `to_ms` (UTC).
    pub fn bucket_starts(&self) -> Vec<i64> {
        let step = self.granularity.millis();
        let first = self.from_ms.div_euclid(step) * step;
        (0..).map(|i| first + i * step).take_while(|start| *start < self.to_ms).collect()
    }

    /// The first hour the hourly aggregates are read from (the hour holding `from_ms`).
    pub fn first_hour_ms(&self) -> i64 {
        self.from_ms.div_euclid(Granularity::Hour.millis()) * Granularity::Hour.millis()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_duration_has_one_bucket_and_the_bounds_are_increasing() {
        assert!(DURATION_BUCKETS_US.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(duration_bucket(0), 0);
        assert_eq!(duration_bucket(499), 0);
        assert_eq!(duration_bucket(500), 1);
        assert_eq!(duration_bucket(60_000_000), HISTOGRAM_BUCKETS - 1);
    }

    #[test]
    fn percentiles_fall_inside_the_bucket_of_the_true_value() {
        // 100 calls of 1..=100 ms: the true p50 is 50 ms, p95 is 95 ms.
        let mut histogram = [0i64; HISTOGRAM_BUCKETS];
        for ms in 1..=100 {
            histogram[duration_bucket(ms * 1000)] += 1;
        }
        for (q, truth) in [(0.5, 50_000), (0.95, 95_000)] {
            let (lower, upper) = bucket_bounds(duration_bucket(truth));
            let got = percentile_ms(&histogram, q) * 1000.0;
            assert!(got >= lower as f64 && got <= upper as f64, "q {q}: {got} µs not in [{lower}, {upper}]");
        }
        assert_eq!(percentile_ms(&[0; HISTOGRAM_BUCKETS], 0.5), 0.0);
    }

    #[test]
    fn a_period_has_one_bucket_per_hour_or_day_with_the_partial_first_one() {
        let hour = Granularity::Hour.millis();
        let aligned = Period { from_ms: 100 * hour, to_ms: 124 * hour, granularity: Granularity::Hour };
        assert_eq!(aligned.bucket_starts().len(), 24);
        assert_eq!(aligned.bucket_starts()[0], 100 * hour);
        let ragged = Period { from_ms: 100 * hour + 5, to_ms: 124 * hour + 5, granularity: Granularity::Hour };
        assert_eq!(ragged.bucket_starts().len(), 25);
        let week = Period { from_ms: 0, to_ms: 7 * 86_400_000, granularity: Granularity::Day };
        assert_eq!(week.bucket_starts().len(), 7);
    }

    #[test]
    fn counts_fold_the_classes_the_dashboards_show_together() {
        let mut counts = Counts::default();
        for class in ["success", "cached", "timeout", "upstream_error", "tool_error", "rate_limited", "dry_run", "confirmation_requested"] {
            counts.add(class, 1);
        }
        assert_eq!((counts.calls, counts.success, counts.upstream_error, counts.errors()), (8, 2, 2, 3));
    }
}
