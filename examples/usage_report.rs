//! Benchmark helper of `bench/usage.sh` (not a test): seeds one tenant with N
//! usage rows through the real `insert_usage` (batches of 500, spread over
//! the last 30 days), then times `usage_report` over 30 days by day and over
//! 24 hours by hour, and the operator's report. Prints one JSON line.
//!
//!   cargo run --release --example usage_report -- DATABASE_URL [ROWS] [REPORTS]

use digistore24_mcp::store::usage::{Granularity, Period, UsageRow};
use digistore24_mcp::store::{self, now_ms};
use std::time::Instant;

const TOOLS: [&str; 10] = [
    "listPurchases",
    "getPurchase",
    "listProducts",
    "getProduct",
    "listTransactions",
    "statsSales",
    "listBuyers",
    "refundPurchase",
    "getUserInfo",
    "listVouchers",
];

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args.get(1).expect("usage: usage_report DATABASE_URL [ROWS] [REPORTS]");
    let rows: usize = args.get(2).map_or(1_000_000, |n| n.parse().expect("ROWS is a number"));
    let reports: usize = args.get(3).map_or(50, |n| n.parse().expect("REPORTS is a number"));
    let database = store::open_database(url).await.expect("database opens");
    let usage = database.usage;
    let tenant = "bench0000tenant1";
    let now = now_ms();
    let span = 30 * 86_400_000 - 3_600_000;
    let seeding = Instant::now();
    // A fixed pseudo-random sequence, so every run seeds the same rows.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut batch = Vec::with_capacity(500);
    for i in 0..rows {
        let r = next();
        let class = match r % 100 {
            0..=89 => "success",
            90..=95 => "tool_error",
            96..=98 => "upstream_error",
            _ => "rate_limited",
        };
        batch.push(UsageRow {
            at_ms: now - span + (i as i64 * span / rows as i64),
            tenant: tenant.into(),
            vendor_id: Some("123456".into()),
            tool: TOOLS[(r >> 8) as usize % TOOLS.len()].into(),
            class: class.into(),
            detail: class.into(),
            duration_us: 300 + (r >> 16) as i64 % 40_000,
            upstream_us: 200 + (r >> 16) as i64 % 30_000,
            answer_bytes: 1_000 + (r >> 24) as i64 % 20_000,
            upstream_code: (class == "upstream_error").then(|| "7".to_owned()),
            confirmed: None,
            era: "2025-06-18".into(),
            transport: "http".into(),
        });
        if batch.len() == 500 || i + 1 == rows {
            usage.insert_usage(&format!("seed-{i}"), &batch).await.expect("seeding writes");
            batch.clear();
        }
    }
    let seed_s = seeding.elapsed().as_secs_f64();
    // As the hourly pruning does (and Postgres' autovacuum, a minute later):
    // without statistics the planner sorts the period's rows for the last 50 calls.
    usage.prune_usage(0, 0).await.expect("pruning (and the statistics it refreshes)");
    let month = Period { from_ms: now - 30 * 86_400_000, to_ms: now + 1, granularity: Granularity::Day };
    let day = Period { from_ms: now - 86_400_000, to_ms: now + 1, granularity: Granularity::Hour };
    let check = usage.usage_report(tenant, Some("123456"), month).await.expect("report");
    assert_eq!(check.totals.calls as usize, rows, "the report counts every seeded row");
    let mut timings = Vec::new();
    let mut operator = Vec::new();
    for i in 0..reports {
        let period = if i % 2 == 0 { month } else { day };
        let started = Instant::now();
        usage.usage_report(tenant, Some("123456"), period).await.expect("report");
        timings.push(started.elapsed().as_secs_f64() * 1000.0);
        if i % 5 == 0 {
            let started = Instant::now();
            usage.operator_report(month).await.expect("operator report");
            operator.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    timings.sort_by(f64::total_cmp);
    operator.sort_by(f64::total_cmp);
    println!(
        "{{\"rows\":{rows},\"seed_s\":{seed_s:.1},\"seed_rows_per_s\":{:.0},\"reports\":{reports},\"report_p50_ms\":{:.2},\"report_p95_ms\":{:.2},\"report_max_ms\":{:.2},\"operator_p95_ms\":{:.2}}}",
        rows as f64 / seed_s,
        percentile(&timings, 0.5),
        percentile(&timings, 0.95),
        timings.last().copied().unwrap_or(0.0),
        percentile(&operator, 0.95),
    );
}
