//! Points in time and calendar dates as the Digistore24 API writes and reads them.
//!
//! Owns: the sandbox clock (process start, "now"), parsing of the argument forms
//! (`2024-01-31`, `2024-01-31 12:00:00`, ISO-8601 with zone, `now`, `today`,
//! `start`, offsets such as `-24h`, `6M`, `2Y`) and the zone-less output format.
//! Must not touch: account data, HTTP.
//!
//! The sandbox's "server time" is UTC; answers carry it without a zone, as the
//! real API does with its own server time.

use chrono::{DateTime, Datelike, Duration, Months, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use std::sync::LazyLock;

/// Output format of points in time: `YYYY-MM-DD HH:MM:SS`, no zone.
pub const DATETIME_FMT: &str = "%Y-%m-%d %H:%M:%S";
/// Output format of calendar dates.
pub const DATE_FMT: &str = "%Y-%m-%d";

/// The moment this process started (whole seconds); seeded data is placed
/// relative to it so that every account of a process sees the same calendar.
pub static PROCESS_START: LazyLock<NaiveDateTime> = LazyLock::new(now);

/// The current server time, truncated to whole seconds.
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    t.with_nanosecond(0).unwrap_or(t)
}

/// What `start` means: the beginning of all records.
pub fn beginning_of_records() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2000, 1, 1).expect("valid date").and_time(NaiveTime::MIN)
}

/// Formats a point in time the Digistore24 way.
pub fn fmt_dt(t: NaiveDateTime) -> String {
    t.format(DATETIME_FMT).to_string()
}

/// Formats a calendar date the Digistore24 way.
pub fn fmt_date(d: NaiveDate) -> String {
    d.format(DATE_FMT).to_string()
}

/// Formats an optional point in time; `None` becomes the empty string the API uses for "none".
pub fn fmt_opt_dt(t: Option<NaiveDateTime>) -> String {
    t.map(fmt_dt).unwrap_or_default()
}

/// Formats an optional date; `None` becomes the empty string.
pub fn fmt_opt_date(d: Option<NaiveDate>) -> String {
    d.map(fmt_date).unwrap_or_default()
}

/// Which end of a range a value stands for: a bare date (or `today`, or a month)
/// means its first second as a lower bound and its last second as an upper bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Start of a range (`from`).
    Lower,
    /// End of a range (`to`).
    Upper,
}

fn end_of_day(d: NaiveDate) -> NaiveDateTime {
    d.and_hms_opt(23, 59, 59).expect("valid time")
}

fn span(first: NaiveDate, last: NaiveDate, bound: Bound) -> NaiveDateTime {
    match bound {
        Bound::Lower => first.and_time(NaiveTime::MIN),
        Bound::Upper => end_of_day(last),
    }
}

/// Adds a relative offset like `-24h`, `+3d`, `6M`, `2Y`, `-10m`, `-30s`, `2w` to `now`.
/// Lower-case `m` is minutes, upper-case `M` months; `y`/`Y` years. Returns
/// `None` when `s` is not an offset.
pub fn parse_offset(s: &str, now: NaiveDateTime) -> Option<NaiveDateTime> {
    let s = s.trim();
    let (negative, rest) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let rest = rest.trim();
    let unit = rest.chars().last()?;
    let digits = rest[..rest.len() - unit.len_utf8()].trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 6 {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let signed = if negative { -n } else { n };
    let months = |m: i64| -> Option<NaiveDateTime> {
        let m32 = u32::try_from(m.unsigned_abs()).ok()?;
        if m < 0 { now.checked_sub_months(Months::new(m32)) } else { now.checked_add_months(Months::new(m32)) }
    };
    match unit {
        's' => now.checked_add_signed(Duration::seconds(signed)),
        'm' => now.checked_add_signed(Duration::minutes(signed)),
        'h' | 'H' => now.checked_add_signed(Duration::hours(signed)),
        'd' | 'D' => now.checked_add_signed(Duration::days(signed)),
        'w' | 'W' => now.checked_add_signed(Duration::weeks(signed)),
        'M' => months(signed),
        'y' | 'Y' => months(signed.checked_mul(12)?),
        _ => None,
    }
}

/// Parses a point-in-time argument in any of the forms the API accepts.
pub fn parse_point(raw: &str, now: NaiveDateTime, bound: Bound) -> Result<NaiveDateTime, String> {
    let s = raw.trim();
    let today = now.date();
    match s.to_ascii_lowercase().as_str() {
        "" => return Err("empty point in time".into()),
        "now" => return Ok(now),
        "today" => return Ok(span(today, today, bound)),
        "yesterday" => {
            let y = today.pred_opt().unwrap_or(today);
            return Ok(span(y, y, bound));
        }
        "tomorrow" => {
            let t = today.succ_opt().unwrap_or(today);
            return Ok(span(t, t, bound));
        }
        "start" => return Ok(beginning_of_records()),
        _ => {}
    }
    if let Some(t) = parse_offset(s, now) {
        return Ok(t);
    }
    // Zone-less date and time (space or T separated, optional seconds/fractions).
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Ok(t.with_nanosecond(0).unwrap_or(t));
        }
    }
    // ISO-8601 with a zone: converted to server time (UTC).
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc).naive_utc().with_nanosecond(0).unwrap_or(t.naive_utc()));
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S %z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            let u = t.with_timezone(&Utc).naive_utc();
            return Ok(u.with_nanosecond(0).unwrap_or(u));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, DATE_FMT) {
        return Ok(span(d, d, bound));
    }
    // A month (`2024-01`), as statsAffiliateToplist takes it.
    if let Ok(first) = NaiveDate::parse_from_str(&format!("{s}-01"), DATE_FMT)
        && s.len() == 7
    {
        let last = first.checked_add_months(Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(first);
        return Ok(span(first, last, bound));
    }
    Err(format!(
        "'{raw}' is not a valid point in time; use YYYY-MM-DD HH:MM:SS, YYYY-MM-DD, ISO-8601, now, today, start or an offset such as -24h, -7d, 6M"
    ))
}

/// Parses a calendar-date argument (`2024-01-31`, `now`, `today`, offsets, ISO-8601).
pub fn parse_date(raw: &str, now: NaiveDateTime) -> Result<NaiveDate, String> {
    parse_point(raw, now, Bound::Lower)
        .map(|t| t.date())
        .map_err(|_| format!("'{raw}' is not a valid date; use YYYY-MM-DD, now, today or an offset such as -30d"))
}

/// First day of the month containing `d`.
pub fn month_start(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1 exists")
}

/// First day of the quarter containing `d`.
pub fn quarter_start(d: NaiveDate) -> NaiveDate {
    let m = (d.month0() / 3) * 3 + 1;
    NaiveDate::from_ymd_opt(d.year(), m, 1).expect("valid quarter start")
}

/// First day of the year containing `d`.
pub fn year_start(d: NaiveDate) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year(), 1, 1).expect("valid year start")
}

/// Monday of the week containing `d`.
pub fn week_start(d: NaiveDate) -> NaiveDate {
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// Adds whole months to a date, clamping to the month's last day.
pub fn add_months(d: NaiveDate, months: u32) -> NaiveDate {
    d.checked_add_months(Months::new(months)).unwrap_or(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, DATETIME_FMT).unwrap()
    }

    #[test]
    fn absolute_forms() {
        let now = at("2024-03-15 10:20:30");
        assert_eq!(parse_point("2024-01-31 12:00:00", now, Bound::Lower).unwrap(), at("2024-01-31 12:00:00"));
        assert_eq!(parse_point("2024-01-31T12:00:00", now, Bound::Lower).unwrap(), at("2024-01-31 12:00:00"));
        assert_eq!(parse_point("2024-01-31", now, Bound::Lower).unwrap(), at("2024-01-31 00:00:00"));
        assert_eq!(parse_point("2024-01-31", now, Bound::Upper).unwrap(), at("2024-01-31 23:59:59"));
        assert_eq!(parse_point("2024-02", now, Bound::Upper).unwrap(), at("2024-02-29 23:59:59"));
        assert_eq!(parse_point("2024-02", now, Bound::Lower).unwrap(), at("2024-02-01 00:00:00"));
        // ISO with zone is converted to server time (UTC).
        assert_eq!(parse_point("2021-10-08T07:20:11-05:00", now, Bound::Lower).unwrap(), at("2021-10-08 12:20:11"));
        assert_eq!(parse_point("2021-10-08T07:20:11Z", now, Bound::Lower).unwrap(), at("2021-10-08 07:20:11"));
    }

    #[test]
    fn keywords() {
        let now = at("2024-03-15 10:20:30");
        assert_eq!(parse_point("now", now, Bound::Lower).unwrap(), now);
        assert_eq!(parse_point("NOW", now, Bound::Upper).unwrap(), now);
        assert_eq!(parse_point("today", now, Bound::Lower).unwrap(), at("2024-03-15 00:00:00"));
        assert_eq!(parse_point("today", now, Bound::Upper).unwrap(), at("2024-03-15 23:59:59"));
        assert_eq!(parse_point("start", now, Bound::Lower).unwrap(), beginning_of_records());
    }

    #[test]
    fn relative_offsets() {
        let now = at("2024-03-15 10:20:30");
        assert_eq!(parse_point("-24h", now, Bound::Lower).unwrap(), at("2024-03-14 10:20:30"));
        assert_eq!(parse_point("24h", now, Bound::Lower).unwrap(), at("2024-03-16 10:20:30"));
        assert_eq!(parse_point("-30d", now, Bound::Lower).unwrap(), at("2024-02-14 10:20:30"));
        assert_eq!(parse_point("-6h", now, Bound::Lower).unwrap(), at("2024-03-15 04:20:30"));
        assert_eq!(parse_point("-10m", now, Bound::Lower).unwrap(), at("2024-03-15 10:10:30"));
        assert_eq!(parse_point("-30s", now, Bound::Lower).unwrap(), at("2024-03-15 10:20:00"));
        assert_eq!(parse_point("6M", now, Bound::Lower).unwrap(), at("2024-09-15 10:20:30"));
        assert_eq!(parse_point("-1M", now, Bound::Lower).unwrap(), at("2024-02-15 10:20:30"));
        assert_eq!(parse_point("2Y", now, Bound::Lower).unwrap(), at("2026-03-15 10:20:30"));
        assert_eq!(parse_point("+3d", now, Bound::Lower).unwrap(), at("2024-03-18 10:20:30"));
    }

    #[test]
    fn garbage_is_refused() {
        let now = at("2024-03-15 10:20:30");
        for bad in ["", "yesterday-ish", "2024-13-01", "-d", "12x", "31.01.2024", "-99999999d"] {
            assert!(parse_point(bad, now, Bound::Lower).is_err(), "{bad} accepted");
        }
        assert!(parse_date("tomorrow-ish", now).is_err());
        assert_eq!(parse_date("-1d", now).unwrap(), NaiveDate::from_ymd_opt(2024, 3, 14).unwrap());
    }

    #[test]
    fn period_starts() {
        let d = NaiveDate::from_ymd_opt(2024, 8, 22).unwrap(); // a Thursday
        assert_eq!(week_start(d), NaiveDate::from_ymd_opt(2024, 8, 19).unwrap());
        assert_eq!(month_start(d), NaiveDate::from_ymd_opt(2024, 8, 1).unwrap());
        assert_eq!(quarter_start(d), NaiveDate::from_ymd_opt(2024, 7, 1).unwrap());
        assert_eq!(year_start(d), NaiveDate::from_ymd_opt(2024, 1, 1).unwrap());
        assert_eq!(add_months(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap(), 1), NaiveDate::from_ymd_opt(2024, 2, 29).unwrap());
    }
}
