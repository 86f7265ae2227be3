//! The dashboard's query parameters and export formats: the period of the
//! page (`period=24h|7d|30d|custom`) and of `/api/usage`
//! (`from`, `to`, `granularity`), the table's sort order, and the report as
//! JSON and the per-tool table as CSV.
//!
//! Owns: what a parameter may be (clear messages for a bad one, a bounded
//! range) and the shape of the JSON and the CSV. Must not touch: who the
//! tenant is (`session.rs` decides, from the credentials only) or HTML.

use crate::store::usage::{Counts, Granularity, Period, ToolUsage, UsageReport};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// The longest period a report may cover.
pub const MAX_DAYS: i64 = 400;
/// The longest period with hourly buckets (744 bars at most).
pub const MAX_HOURLY_DAYS: i64 = 31;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// The page's period choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Day,
    Week,
    Month,
    Custom,
}

impl Preset {
    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Day => "24h",
            Preset::Week => "7d",
            Preset::Month => "30d",
            Preset::Custom => "custom",
        }
    }

    pub const ALL: [Preset; 4] = [Preset::Day, Preset::Week, Preset::Month, Preset::Custom];
}

/// The period a page shows, with what its form shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chosen {
    pub preset: Preset,
    pub period: Period,
    /// The custom fields' values (`YYYY-MM-DD`, `to` inclusive).
    pub from_date: String,
    pub to_date: String,
}

fn floor(ms: i64, step: i64) -> i64 {
    ms.div_euclid(step) * step
}

fn date_of(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

fn parse_date(text: &str) -> Option<i64> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()?.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_millis())
}

/// The page's period: the last 24 hours by the hour (the current hour
/// included), the last 7 or 30 days by the day (today included), or whole
/// custom days (hourly up to two days).
pub fn page_period(params: &HashMap<String, String>, now_ms: i64) -> Result<Chosen, String> {
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let preset = match get("period") {
        None | Some("24h") => Preset::Day,
        Some("7d") => Preset::Week,
        Some("30d") => Preset::Month,
        Some("custom") => Preset::Custom,
        Some(other) => return Err(format!("period must be 24h, 7d, 30d or custom, not {other}")),
    };
    let today = floor(now_ms, DAY_MS);
    let period = match preset {
        Preset::Day => {
            let to_ms = floor(now_ms, HOUR_MS) + HOUR_MS;
            Period { from_ms: to_ms - 24 * HOUR_MS, to_ms, granularity: Granularity::Hour }
        }
        Preset::Week => Period { from_ms: today - 6 * DAY_MS, to_ms: today + DAY_MS, granularity: Granularity::Day },
        Preset::Month => Period { from_ms: today - 29 * DAY_MS, to_ms: today + DAY_MS, granularity: Granularity::Day },
        Preset::Custom => {
            let from = get("from").ok_or("a custom period needs a start date (from)")?;
            let to = get("to").unwrap_or(from);
            let from_ms = parse_date(from).ok_or_else(|| format!("from must be a date like 2026-12-01, not {from}"))?;
            let to_ms = parse_date(to).ok_or_else(|| format!("to must be a date like 2026-12-01, not {to}"))? + DAY_MS;
            if to_ms <= from_ms {
                return Err("the end date is before the start date".into());
            }
            let days = (to_ms - from_ms) / DAY_MS;
            if days > MAX_DAYS {
                return Err(format!("a period covers at most {MAX_DAYS} days, not {days}"));
            }
            let granularity = if days <= 2 { Granularity::Hour } else { Granularity::Day };
            Period { from_ms, to_ms, granularity }
        }
    };
    Ok(Chosen { preset, period, from_date: date_of(period.from_ms), to_date: date_of(period.to_ms - 1) })
}

/// A point in time of `/api/usage`: RFC 3339, `YYYY-MM-DD` (UTC midnight) or unix milliseconds.
fn point(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.timestamp_millis());
    }
    parse_date(text)
}

/// What `/api/usage` was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiQuery {
    pub period: Period,
    pub csv: bool,
    pub sort: SortBy,
}

/// `from` (default: 24 hours before `to`), `to` (default: now),
/// `granularity` (default: hour up to two days, else day), `format=json|csv`,
/// `sort`. Bucket edges are whole hours or days (UTC): `from` rounds down, `to` up.
pub fn api_query(params: &HashMap<String, String>, now_ms: i64) -> Result<ApiQuery, String> {
    if let Some(unknown) = params.keys().find(|k| !matches!(k.as_str(), "from" | "to" | "granularity" | "format" | "sort" | "lang")) {
        return Err(format!("unknown parameter {unknown}; use from, to, granularity (hour or day), format (json or csv) and sort"));
    }
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let to = match get("to") {
        Some(text) => point(text).ok_or_else(|| format!("to must be RFC 3339, YYYY-MM-DD or unix milliseconds, not {text}"))?,
        None => now_ms,
    };
    let from = match get("from") {
        Some(text) => point(text).ok_or_else(|| format!("from must be RFC 3339, YYYY-MM-DD or unix milliseconds, not {text}"))?,
        None => to - DAY_MS,
    };
    if to <= from {
        return Err("to must be after from".into());
    }
    let granularity = match get("granularity") {
        Some("hour") => Granularity::Hour,
        Some("day") => Granularity::Day,
        None if to - from <= 2 * DAY_MS => Granularity::Hour,
        None => Granularity::Day,
        Some(other) => return Err(format!("granularity must be hour or day, not {other}")),
    };
    let step = granularity.millis();
    let from_ms = floor(from, step);
    let to_ms = floor(to - 1, step) + step;
    let days = (to_ms - from_ms + DAY_MS - 1) / DAY_MS;
    if days > MAX_DAYS {
        return Err(format!("a report covers at most {MAX_DAYS} days, not {days}"));
    }
    if granularity == Granularity::Hour && days > MAX_HOURLY_DAYS {
        return Err(format!("hourly buckets cover at most {MAX_HOURLY_DAYS} days; use granularity=day"));
    }
    let csv = match get("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(other) => return Err(format!("format must be json or csv, not {other}")),
    };
    Ok(ApiQuery { period: Period { from_ms, to_ms, granularity }, csv, sort: SortBy::parse(get("sort"))? })
}

/// The per-tool table's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortBy {
    Tool,
    Calls,
    Errors,
    P50,
    P95,
}

impl SortBy {
    pub const ALL: [SortBy; 5] = [SortBy::Tool, SortBy::Calls, SortBy::Errors, SortBy::P50, SortBy::P95];

    /// `sort=` of the page and the API (default: calls).
    pub fn parse(value: Option<&str>) -> Result<SortBy, String> {
        Ok(match value {
            None | Some("calls") => SortBy::Calls,
            Some("tool") => SortBy::Tool,
            Some("errors") => SortBy::Errors,
            Some("p50") => SortBy::P50,
            Some("p95") => SortBy::P95,
            Some(other) => return Err(format!("sort must be tool, calls, errors, p50 or p95, not {other}")),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SortBy::Tool => "tool",
            SortBy::Calls => "calls",
            SortBy::Errors => "errors",
            SortBy::P50 => "p50",
            SortBy::P95 => "p95",
        }
    }

    /// Tools by name A–Z, every number largest first (ties by name).
    pub fn sort(self, tools: &mut [ToolUsage]) {
        let by_number = |a: f64, b: f64| b.partial_cmp(&a).unwrap_or(std::cmp::Ordering::Equal);
        tools.sort_by(|a, b| {
            let order = match self {
                SortBy::Tool => std::cmp::Ordering::Equal,
                SortBy::Calls => b.counts.calls.cmp(&a.counts.calls),
                SortBy::Errors => b.counts.errors().cmp(&a.counts.errors()),
                SortBy::P50 => by_number(a.p50_ms, b.p50_ms),
                SortBy::P95 => by_number(a.p95_ms, b.p95_ms),
            };
            order.then_with(|| a.tool.cmp(&b.tool))
        });
    }
}

/// RFC 3339 (UTC, seconds) of unix ms.
pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

/// Errors over calls, 0 without calls.
pub fn error_rate(counts: &Counts) -> f64 {
    if counts.calls == 0 { 0.0 } else { counts.errors() as f64 / counts.calls as f64 }
}

fn granularity_name(granularity: Granularity) -> &'static str {
    match granularity {
        Granularity::Hour => "hour",
        Granularity::Day => "day",
    }
}

/// Counts as a JSON object (with `errors`).
pub fn counts_json(counts: &Counts) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("calls".into(), counts.calls.into());
    for (name, value) in counts.by_class() {
        out.insert(name.into(), value.into());
    }
    out.insert("errors".into(), counts.errors().into());
    out
}

/// The whole report as the JSON of `/api/usage`.
pub fn report_json(tenant: &str, vendor_id: Option<&str>, report: &UsageReport, sort: SortBy) -> Value {
    let mut totals = counts_json(&report.totals);
    totals.insert("error_rate".into(), json!((error_rate(&report.totals) * 10_000.0).round() / 10_000.0));
    let series: Vec<Value> = report
        .series
        .iter()
        .map(|b| {
            let mut row = counts_json(&b.counts);
            row.insert("start".into(), Value::from(rfc3339(b.start_ms)));
            Value::Object(row)
        })
        .collect();
    let mut tools = report.tools.clone();
    sort.sort(&mut tools);
    let tools: Vec<Value> = tools
        .iter()
        .map(|t| {
            let mut row = counts_json(&t.counts);
            row.insert("tool".into(), Value::from(t.tool.clone()));
            row.insert("p50_ms".into(), json!(t.p50_ms));
            row.insert("p95_ms".into(), json!(t.p95_ms));
            Value::Object(row)
        })
        .collect();
    let recent: Vec<Value> = report
        .recent
        .iter()
        .map(|c| json!({"at": rfc3339(c.at_ms), "tool": c.tool, "class": c.class, "detail": c.detail, "duration_ms": c.duration_ms}))
        .collect();
    let events: Vec<Value> = report.events.iter().map(|e| json!({"day": date_of(e.day_ms), "event": e.event, "count": e.count})).collect();
    let c = &report.confirmations;
    json!({
        "tenant": tenant,
        "vendor_id": vendor_id,
        "period": {
            "from": rfc3339(report.period.from_ms),
            "to": rfc3339(report.period.to_ms),
            "granularity": granularity_name(report.period.granularity),
        },
        "totals": totals,
        "confirmations": {"asked": c.asked, "accepted": c.accepted, "declined": c.declined},
        "series": series,
        "tools": tools,
        "recent": recent,
        "events": events,
    })
}

/// The header line of the CSV export.
pub const CSV_HEADER: &str =
    "tool,calls,errors,success,dry_run,confirmation_requested,rate_limited,tool_error,upstream_error,p50_ms,p95_ms";

/// One CSV field: quoted when it holds a separator, a quote or a line
/// break; a leading `= + - @` is defused so a spreadsheet never runs it.
fn csv_field(text: &str) -> String {
    let defused = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
    if defused.contains([',', '"', '\n', '\r']) { format!("\"{}\"", defused.replace('"', "\"\"")) } else { defused }
}

/// The per-tool table as CSV (RFC 4180 line ends), in the given order.
pub fn tools_csv(tools: &[ToolUsage], sort: SortBy) -> String {
    let mut tools = tools.to_vec();
    sort.sort(&mut tools);
    let mut out = format!("{CSV_HEADER}\r\n");
    for t in &tools {
        let c = &t.counts;
        out.push_str(&format!("{},{},{}", csv_field(&t.tool), c.calls, c.errors()));
        for (_, n) in c.by_class() {
            out.push_str(&format!(",{n}"));
        }
        out.push_str(&format!(",{:.1},{:.1}\r\n", t.p50_ms, t.p95_ms));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    // 2026-12-01T10:30:00Z
    const NOW: i64 = 1_796_121_000_000;

    #[test]
    fn presets_have_one_bucket_per_hour_or_day_and_include_now() {
        let day = page_period(&params(&[]), NOW).unwrap();
        assert_eq!(day.period.granularity, Granularity::Hour);
        assert_eq!((day.period.to_ms - day.period.from_ms) / HOUR_MS, 24);
        assert!(day.period.from_ms <= NOW && NOW < day.period.to_ms);
        let week = page_period(&params(&[("period", "7d")]), NOW).unwrap();
        assert_eq!((week.period.to_ms - week.period.from_ms) / DAY_MS, 7);
        let month = page_period(&params(&[("period", "30d")]), NOW).unwrap();
        assert_eq!((month.period.to_ms - month.period.from_ms) / DAY_MS, 30);
        assert_eq!(month.to_date, "2026-12-01");
    }

    #[test]
    fn custom_periods_are_whole_days_and_bounded() {
        let one = page_period(&params(&[("period", "custom"), ("from", "2026-11-30"), ("to", "2026-11-30")]), NOW).unwrap();
        assert_eq!((one.period.granularity, one.period.to_ms - one.period.from_ms), (Granularity::Hour, DAY_MS));
        let long = page_period(&params(&[("period", "custom"), ("from", "2026-01-01"), ("to", "2026-11-30")]), NOW).unwrap();
        assert_eq!(long.period.granularity, Granularity::Day);
        assert!(page_period(&params(&[("period", "custom"), ("from", "2024-01-01"), ("to", "2026-11-30")]), NOW).is_err());
        assert!(page_period(&params(&[("period", "custom"), ("from", "2026-11-30"), ("to", "2026-11-01")]), NOW).is_err());
        assert!(page_period(&params(&[("period", "custom"), ("from", "yesterday")]), NOW).is_err());
        assert!(page_period(&params(&[("period", "1y")]), NOW).is_err());
    }

    #[test]
    fn api_parameters_are_checked_with_clear_messages() {
        let q = api_query(&params(&[]), NOW).unwrap();
        assert_eq!((q.period.granularity, q.csv), (Granularity::Hour, false));
        assert_eq!(q.period.to_ms - q.period.from_ms, 25 * HOUR_MS, "rounded out to whole hours");
        let q =
            api_query(&params(&[("from", "2026-11-01"), ("to", "2026-12-01"), ("granularity", "day"), ("format", "csv")]), NOW).unwrap();
        assert_eq!(((q.period.to_ms - q.period.from_ms) / DAY_MS, q.csv), (30, true));
        let q = api_query(&params(&[("from", "2026-11-30T00:00:00Z"), ("to", "1796083200000")]), NOW).unwrap();
        assert_eq!(q.period.to_ms - q.period.from_ms, DAY_MS);
        for (bad, says) in [
            (vec![("from", "2020-01-01")], "at most 400 days"),
            (vec![("from", "2026-10-01"), ("granularity", "hour")], "granularity=day"),
            (vec![("granularity", "minute")], "hour or day"),
            (vec![("from", "soon")], "from must be"),
            (vec![("from", "2026-12-02"), ("to", "2026-12-01")], "after from"),
            (vec![("tenant", "someone-else")], "unknown parameter tenant"),
            (vec![("format", "xml")], "json or csv"),
        ] {
            let error = api_query(&params(&bad), NOW).unwrap_err();
            assert!(error.contains(says), "{bad:?}: {error}");
        }
    }

    fn tool(name: &str, calls: i64, errors: i64, p95: f64) -> ToolUsage {
        ToolUsage {
            tool: name.into(),
            counts: Counts { calls, success: calls - errors, tool_error: errors, ..Counts::default() },
            p50_ms: p95 / 2.0,
            p95_ms: p95,
        }
    }

    #[test]
    fn the_table_sorts_by_each_column() {
        let tools = vec![tool("b", 5, 3, 10.0), tool("a", 9, 0, 40.0), tool("c", 1, 1, 90.0)];
        let order = |by: SortBy| {
            let mut t = tools.clone();
            by.sort(&mut t);
            t.iter().map(|t| t.tool.clone()).collect::<Vec<_>>().join("")
        };
        assert_eq!(order(SortBy::Tool), "abc");
        assert_eq!(order(SortBy::Calls), "abc");
        assert_eq!(order(SortBy::Errors), "bca");
        assert_eq!(order(SortBy::P95), "cab");
    }

    #[test]
    fn csv_has_a_header_and_defuses_fields() {
        let csv = tools_csv(&[tool("listProducts", 37, 0, 12.0), tool("=HYPERLINK(\"x\"),1", 1, 1, 1.0)], SortBy::Calls);
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[1], "listProducts,37,0,37,0,0,0,0,0,6.0,12.0");
        assert!(lines[2].starts_with("\"'=HYPERLINK(\"\"x\"\"),1\",1,1,"), "{}", lines[2]);
    }
}
