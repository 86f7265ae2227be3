//! The calls-over-time chart: server-side SVG, one bar per bucket of the
//! report's series, stacked by outcome, with a title per bar (what a
//! pointer or a screen reader gets) and a legend in HTML.
//!
//! Owns: the chart's geometry, colours and labels. Must not touch: the
//! report (it renders `Bucket`s as given) or the page around it.

use super::render::Words;
use crate::store::usage::{Bucket, Counts, Granularity};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 24.0;
const TOP: f64 = 10.0;

/// A short label of a bucket's start (UTC).
pub fn bucket_label(start_ms: i64, granularity: Granularity) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(start_ms) else { return String::new() };
    match granularity {
        Granularity::Hour => t.format("%H:00").to_string(),
        Granularity::Day => t.format("%m-%d").to_string(),
    }
}

fn long_label(start_ms: i64, granularity: Granularity) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(start_ms) else { return String::new() };
    match granularity {
        Granularity::Hour => t.format("%Y-%m-%d %H:00 UTC").to_string(),
        Granularity::Day => t.format("%Y-%m-%d").to_string(),
    }
}

/// A round top for the y axis at or above `max`.
fn axis_top(max: i64) -> i64 {
    let max = max.max(1);
    let magnitude = 10_i64.pow((max as f64).log10().floor() as u32);
    [1, 2, 5, 10].iter().map(|m| m * magnitude).find(|top| *top >= max).unwrap_or(10 * magnitude)
}

/// The non-empty segments of a bar: class, where it starts, how many.
fn stacked(counts: &Counts) -> Vec<(&'static str, i64, i64)> {
    let mut bottom = 0;
    let mut out = Vec::new();
    for (class, n) in counts.by_class() {
        if n > 0 {
            out.push((class, bottom, n));
            bottom += n;
        }
    }
    out
}

/// The chart of `series`, bars stacked by outcome.
pub fn calls_chart(w: &Words, series: &[Bucket], granularity: Granularity) -> Markup {
    let max = series.iter().map(|b| b.counts.calls).max().unwrap_or(0);
    let top = axis_top(max);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = (WIDTH - LEFT) / series.len().max(1) as f64;
    let bar_w = (slot * 0.75).max(1.0);
    let label_every = series.len().div_ceil(8).max(1);
    let y = |value: i64| TOP + plot_h - plot_h * value as f64 / top as f64;
    html! {
        svg.chart #calls-chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-labelledby="chart-title chart-desc"
            data-bars=(series.len()) {
            title #chart-title { (w.chart_title) }
            desc #chart-desc { (w.chart_desc) }
            line.axis x1=(LEFT) y1=(y(0)) x2=(WIDTH) y2=(y(0)) {}
            @for mark in [0, top / 2, top] {
                line.grid x1=(LEFT) y1=(y(mark)) x2=(WIDTH) y2=(y(mark)) {}
                text.tick x=(LEFT - 6.0) y=(y(mark) + 4.0) text-anchor="end" { (mark) }
            }
            @for (i, bucket) in series.iter().enumerate() {
                @let x = LEFT + slot * i as f64 + (slot - bar_w) / 2.0;
                g.bar data-start=(bucket.start_ms) data-calls=(bucket.counts.calls) {
                    title { (long_label(bucket.start_ms, granularity)) ": " (bucket.counts.calls) " " (w.calls_word) ", " (bucket.counts.errors()) " " (w.errors_word) }
                    // The whole slot answers the pointer, even for an empty bucket.
                    rect.slot x=(x) y=(TOP) width=(bar_w) height=(plot_h) {}
                    @for (class, bottom, n) in stacked(&bucket.counts) {
                        rect class={ "seg " (class) } data-class=(class) data-count=(n) x=(x) y=(y(bottom + n)) width=(bar_w) height=(y(bottom) - y(bottom + n)) {}
                    }
                }
                @if i % label_every == 0 {
                    text.tick x=(x + bar_w / 2.0) y=(HEIGHT - 6.0) text-anchor="middle" { (bucket_label(bucket.start_ms, granularity)) }
                }
            }
        }
        ul.legend aria-label=(w.legend) {
            @for (class, _) in Counts::default().by_class() {
                li { span class={ "swatch " (class) } aria-hidden="true" {} (w.class_name(class)) }
            }
        }
        // The same numbers as a table, for screen readers and anyone who wants them exact.
        details.numbers #chart-numbers {
            summary { (w.chart_numbers) }
            div.scroll { table {
                thead { tr {
                    th scope="col" { (w.time) }
                    th.num scope="col" { (w.calls) }
                    @for (class, _) in Counts::default().by_class() { th.num scope="col" { (w.class_name(class)) } }
                } }
                tbody { @for bucket in series {
                    tr {
                        th scope="row" { (long_label(bucket.start_ms, granularity)) }
                        td.num { (bucket.counts.calls) }
                        @for (_, n) in bucket.counts.by_class() { td.num { (n) } }
                    }
                } }
            } }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_stack_bottom_up_without_gaps() {
        let counts = Counts { calls: 6, success: 3, rate_limited: 1, upstream_error: 2, ..Counts::default() };
        assert_eq!(stacked(&counts), vec![("success", 0, 3), ("rate_limited", 3, 1), ("upstream_error", 4, 2)]);
        assert!(stacked(&Counts::default()).is_empty(), "an empty bucket draws no segment");
    }

    #[test]
    fn the_axis_top_is_round_and_covers_the_largest_bar() {
        assert_eq!(axis_top(0), 1);
        assert_eq!(axis_top(1), 1);
        assert_eq!(axis_top(3), 5);
        assert_eq!(axis_top(37), 50);
        assert_eq!(axis_top(100), 100);
        assert_eq!(axis_top(101), 200);
    }
}
