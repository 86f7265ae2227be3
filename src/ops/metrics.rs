//! Prometheus metrics through the `metrics` facade. Names and labels are
//! defined here, once; no label ever carries a key (a short key hash only
//! when the operator asks for `--metrics-per-key`).

use crate::ds24::Attempt;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

/// MCP requests by method and outcome (`ok`, `error`).
pub const MCP_REQUESTS: &str = "ds24_mcp_requests_total";
/// Tool calls by tool and outcome class (`crate::mcp::Class`).
pub const TOOL_CALLS: &str = "ds24_mcp_tool_calls_total";
/// Tool call latency in seconds, by tool.
pub const TOOL_CALL_SECONDS: &str = "ds24_mcp_tool_call_duration_seconds";
/// Upstream (Digistore24) requests by function and HTTP status (or `timeout`, `connect_error`).
pub const UPSTREAM_REQUESTS: &str = "ds24_mcp_upstream_requests_total";
/// Upstream request latency in seconds, by function.
pub const UPSTREAM_SECONDS: &str = "ds24_mcp_upstream_request_duration_seconds";
/// HTTP requests being served right now.
pub const INFLIGHT: &str = "ds24_mcp_inflight_requests";
/// Requests or calls refused by the rate limit or the concurrency limit, by scope.
pub const RATE_LIMITED: &str = "ds24_mcp_rate_limited_total";
/// Response cache lookups by function and result (`hit`, `miss`).
pub const CACHE: &str = "ds24_mcp_cache_lookups_total";
/// Tool calls per key hash; only with `--metrics-per-key`.
pub const CALLS_PER_KEY: &str = "ds24_mcp_tool_calls_by_key_total";
/// IPNs received, by outcome.
pub const IPN_RECEIVED: &str = "ds24_mcp_ipn_received_total";
/// Usage rows written to the database (`ops::usage`).
pub const USAGE_ROWS_WRITTEN: &str = "ds24_mcp_usage_rows_written_total";
/// Usage rows dropped: the queue was full or the database failed every try.
pub const USAGE_ROWS_DROPPED: &str = "ds24_mcp_usage_rows_dropped_total";
/// Always 1; labels carry the version.
pub const BUILD_INFO: &str = "ds24_mcp_build_info";
/// Log lines dropped because the log writer's buffer was full.
pub const LOG_LINES_DROPPED: &str = "ds24_mcp_log_lines_dropped_total";

const LATENCY_BUCKETS: [f64; 14] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static DROPPED_LOG_LINES: OnceLock<tracing_appender::non_blocking::ErrorCounter> = OnceLock::new();

/// Reports the log writer's count of dropped lines in every `/metrics` answer.
pub fn count_dropped_log_lines(counter: tracing_appender::non_blocking::ErrorCounter) {
    let _ = DROPPED_LOG_LINES.set(counter);
}

/// Installs the process-wide recorder (once) and returns its handle.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let handle =
            PrometheusBuilder::new().set_buckets(&LATENCY_BUCKETS).expect("static buckets are valid").install_recorder().unwrap_or_else(
                |_| {
                    // Another recorder is already installed (tests embedding us):
                    // keep a private one so /metrics still answers.
                    PrometheusBuilder::new().set_buckets(&LATENCY_BUCKETS).expect("static buckets").build_recorder().handle()
                },
            );
        metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        // Histogram samples pile up in the recorder until upkeep folds them
        // into buckets; without a scraper that would grow without bound.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new().name("metrics-upkeep".into()).spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "could not start the metrics upkeep thread");
        }
        handle
    })
}

/// How often histogram samples are folded into buckets.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The text exposition of every metric.
pub fn render() -> String {
    let handle = install();
    if let Some(dropped) = DROPPED_LOG_LINES.get() {
        metrics::counter!(LOG_LINES_DROPPED).absolute(dropped.dropped_lines() as u64);
    }
    handle.run_upkeep();
    handle.render()
}

/// Records one MCP request.
pub fn mcp_request(method: &'static str, ok: bool) {
    metrics::counter!(MCP_REQUESTS, "method" => method, "outcome" => if ok { "ok" } else { "error" }).increment(1);
}

/// Records one finished tool call.
pub fn tool_call(tool: &'static str, outcome: &'static str, elapsed: Duration, key_hash: Option<&str>) {
    metrics::counter!(TOOL_CALLS, "tool" => tool, "outcome" => outcome).increment(1);
    metrics::histogram!(TOOL_CALL_SECONDS, "tool" => tool).record(elapsed.as_secs_f64());
    if let Some(hash) = key_hash {
        metrics::counter!(CALLS_PER_KEY, "key_hash" => hash.to_owned()).increment(1);
    }
}

/// Records one upstream request; the client's [`crate::ds24::Observer`].
pub fn upstream(function: &'static str, attempt: Attempt, elapsed: Duration) {
    let status: metrics::SharedString = match attempt {
        Attempt::Status(200) => "200".into(),
        Attempt::Status(code) => code.to_string().into(),
        Attempt::Timeout => "timeout".into(),
        Attempt::ConnectError => "connect_error".into(),
        Attempt::TooLarge => "too_large".into(),
    };
    metrics::counter!(UPSTREAM_REQUESTS, "function" => function, "status" => status).increment(1);
    metrics::histogram!(UPSTREAM_SECONDS, "function" => function).record(elapsed.as_secs_f64());
}

/// Records a refusal by a limit (`tool_call`, `http`, `concurrency`).
pub fn rate_limited(scope: &'static str) {
    metrics::counter!(RATE_LIMITED, "scope" => scope).increment(1);
}

/// Counts usage rows written.
pub fn usage_rows_written(rows: u64) {
    metrics::counter!(USAGE_ROWS_WRITTEN).increment(rows);
}

/// Counts usage rows dropped.
pub fn usage_rows_dropped(rows: u64) {
    metrics::counter!(USAGE_ROWS_DROPPED).increment(rows);
}

/// Records a cache lookup.
pub fn cache(function: &'static str, hit: bool) {
    metrics::counter!(CACHE, "function" => function, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

/// Records one IPN by how it ended (`stored`, `duplicate`, `rejected`, `failed`).
pub fn ipn(outcome: &'static str) {
    metrics::counter!(IPN_RECEIVED, "outcome" => outcome).increment(1);
}

/// Tracks one in-flight HTTP request until dropped.
pub struct InFlight;

impl InFlight {
    /// Counts a request in.
    pub fn start() -> Self {
        metrics::gauge!(INFLIGHT).increment(1.0);
        InFlight
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        metrics::gauge!(INFLIGHT).decrement(1.0);
    }
}
