//! The dashboard pages: server-rendered HTML (maud escapes every value:
//! tool names, product names and event types are text, never markup), in
//! English or German, readable on a phone and usable with the keyboard.
//! Style and the small enhancing script are served from the binary
//! (`/dashboard/assets/…`) under a CSP that allows only them.
//!
//! Owns: the words, markup and security headers of the customer's and the
//! operator's page. Must not touch: where reports come from, who may see
//! them (`session.rs`) or the sign-in page (`crate::oauth::page`).

use super::api::{Chosen, Preset, SortBy, error_rate};
use super::charts::calls_chart;
use crate::oauth::page::Lang;
use crate::store::StoredEvent;
use crate::store::usage::{Counts, OperatorReport, ToolUsage, UsageReport};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use maud::{DOCTYPE, Markup, html};

/// The style sheet, served at `/dashboard/assets/dashboard.css`.
pub const STYLE: &str = include_str!("assets/dashboard.css");
/// The enhancing script, served at `/dashboard/assets/dashboard.js`; every number works without it.
pub const SCRIPT: &str = include_str!("assets/dashboard.js");

/// What the pages say, per language.
pub struct Words {
    pub title: &'static str,
    pub operator_title: &'static str,
    pub customer: &'static str,
    pub vendor: &'static str,
    pub sign_out: &'static str,
    pub period: &'static str,
    pub presets: [&'static str; 4],
    pub from: &'static str,
    pub to: &'static str,
    pub show: &'static str,
    pub calls: &'static str,
    pub errors: &'static str,
    pub error_rate: &'static str,
    pub rate_limited: &'static str,
    pub confirmations: &'static str,
    pub asked: &'static str,
    pub accepted: &'static str,
    pub declined: &'static str,
    pub chart_title: &'static str,
    pub chart_desc: &'static str,
    pub calls_word: &'static str,
    pub errors_word: &'static str,
    pub legend: &'static str,
    pub chart_numbers: &'static str,
    pub classes: [&'static str; 9],
    pub tools: &'static str,
    pub tool: &'static str,
    pub p50: &'static str,
    pub p95: &'static str,
    pub csv: &'static str,
    pub recent: &'static str,
    pub time: &'static str,
    pub outcome: &'static str,
    pub duration: &'static str,
    pub events: &'static str,
    pub events_off: &'static str,
    pub events_unknown_vendor: &'static str,
    pub last_event: &'static str,
    pub none_yet: &'static str,
    pub last_24h: &'static str,
    pub last_7d: &'static str,
    pub last_test: &'static str,
    pub rejected: &'static str,
    pub day: &'static str,
    pub event: &'static str,
    pub count: &'static str,
    pub empty_title: &'static str,
    pub empty_text: &'static str,
    pub times_utc: &'static str,
    pub tenants: &'static str,
    pub tenant: &'static str,
    pub last_call: &'static str,
    pub slowest: &'static str,
    pub upstream_codes: &'static str,
    pub code: &'static str,
    pub replicas: &'static str,
    pub replica: &'static str,
    pub last_seen: &'static str,
    pub rows_written: &'static str,
    pub rows_dropped: &'static str,
    pub health: &'static str,
    pub healthy: &'static str,
    pub stale: &'static str,
    pub nothing: &'static str,
    pub other_lang: &'static str,
    pub sort_by: &'static str,
    pub skip: &'static str,
}

const CLASS_KEYS: [&str; 9] =
    ["success", "dry_run", "confirmation_requested", "rate_limited", "tool_error", "upstream_error", "cached", "timeout", "other"];

impl Words {
    /// The readable name of an outcome class.
    pub fn class_name(&self, class: &str) -> &'static str {
        let index = CLASS_KEYS.iter().position(|k| *k == class).unwrap_or(CLASS_KEYS.len() - 1);
        self.classes[index]
    }
}

const EN: Words = Words {
    title: "Usage dashboard",
    operator_title: "Operator dashboard",
    customer: "Customer",
    vendor: "Vendor id",
    sign_out: "Sign out",
    period: "Period",
    presets: ["Last 24 hours", "Last 7 days", "Last 30 days", "Custom"],
    from: "From",
    to: "To",
    show: "Show",
    calls: "Calls",
    errors: "Errors",
    error_rate: "Error rate",
    rate_limited: "Rate-limited",
    confirmations: "Confirmations",
    asked: "asked",
    accepted: "accepted",
    declined: "declined",
    chart_title: "Calls over time",
    chart_desc: "One bar per period step, stacked by outcome; each bar's title gives its numbers.",
    calls_word: "calls",
    errors_word: "errors",
    legend: "Outcomes",
    chart_numbers: "The chart's numbers as a table",
    classes: [
        "Success",
        "Dry run",
        "Confirmation asked",
        "Rate-limited",
        "Refused (tool error)",
        "Digistore24 error",
        "Cached",
        "Timeout",
        "Other",
    ],
    tools: "Tools",
    tool: "Tool",
    p50: "p50 (ms)",
    p95: "p95 (ms)",
    csv: "Download as CSV",
    recent: "Last 50 calls",
    time: "Time",
    outcome: "Outcome",
    duration: "Duration (ms)",
    events: "IPN events",
    events_off: "IPN events are off on this server.",
    events_unknown_vendor: "Your vendor id is not known yet, so IPN events cannot be shown.",
    last_event: "Last event",
    none_yet: "none yet",
    last_24h: "Last 24 hours",
    last_7d: "Last 7 days",
    last_test: "Last connection test",
    rejected: "Refused IPNs (this replica)",
    day: "Day",
    event: "Event",
    count: "Count",
    empty_title: "No calls in this period yet",
    empty_text: "When your assistant uses the Digistore24 tools with your key, every call shows up here within a few seconds. Try a longer period, or connect your assistant to this server's /mcp endpoint.",
    times_utc: "All times are UTC.",
    tenants: "Tenants",
    tenant: "Tenant id",
    last_call: "Last call",
    slowest: "Slowest tools (p95)",
    upstream_codes: "Digistore24 error codes",
    code: "Code",
    replicas: "Replicas",
    replica: "Replica",
    last_seen: "Last heartbeat",
    rows_written: "Rows written",
    rows_dropped: "Rows dropped",
    health: "Health",
    healthy: "healthy",
    stale: "no heartbeat for over 2 minutes",
    nothing: "Nothing in this period.",
    other_lang: "Deutsch",
    sort_by: "Sort by",
    skip: "Skip to the numbers",
};

const DE: Words = Words {
    title: "Nutzungs-Dashboard",
    operator_title: "Betreiber-Dashboard",
    customer: "Kunde",
    vendor: "Vendor-ID",
    sign_out: "Abmelden",
    period: "Zeitraum",
    presets: ["Letzte 24 Stunden", "Letzte 7 Tage", "Letzte 30 Tage", "Benutzerdefiniert"],
    from: "Von",
    to: "Bis",
    show: "Anzeigen",
    calls: "Aufrufe",
    errors: "Fehler",
    error_rate: "Fehlerquote",
    rate_limited: "Ratenbegrenzt",
    confirmations: "Bestätigungen",
    asked: "angefragt",
    accepted: "angenommen",
    declined: "abgelehnt",
    chart_title: "Aufrufe im Zeitverlauf",
    chart_desc: "Ein Balken je Zeitschritt, gestapelt nach Ergebnis; der Titel jedes Balkens nennt seine Zahlen.",
    calls_word: "Aufrufe",
    errors_word: "Fehler",
    legend: "Ergebnisse",
    chart_numbers: "Die Zahlen des Diagramms als Tabelle",
    classes: [
        "Erfolg",
        "Probelauf",
        "Bestätigung angefragt",
        "Ratenbegrenzt",
        "Abgelehnt (Tool-Fehler)",
        "Digistore24-Fehler",
        "Aus dem Cache",
        "Zeitüberschreitung",
        "Sonstiges",
    ],
    tools: "Tools",
    tool: "Tool",
    p50: "p50 (ms)",
    p95: "p95 (ms)",
    csv: "Als CSV herunterladen",
    recent: "Letzte 50 Aufrufe",
    time: "Zeit",
    outcome: "Ergebnis",
    duration: "Dauer (ms)",
    events: "IPN-Ereignisse",
    events_off: "IPN-Ereignisse sind auf diesem Server ausgeschaltet.",
    events_unknown_vendor: "Ihre Vendor-ID ist noch nicht bekannt, daher können keine IPN-Ereignisse angezeigt werden.",
    last_event: "Letztes Ereignis",
    none_yet: "noch keines",
    last_24h: "Letzte 24 Stunden",
    last_7d: "Letzte 7 Tage",
    last_test: "Letzter Verbindungstest",
    rejected: "Abgewiesene IPNs (dieses Replikat)",
    day: "Tag",
    event: "Ereignis",
    count: "Anzahl",
    empty_title: "In diesem Zeitraum noch keine Aufrufe",
    empty_text: "Sobald Ihr Assistent die Digistore24-Tools mit Ihrem Schlüssel nutzt, erscheint jeder Aufruf hier innerhalb weniger Sekunden. Wählen Sie einen längeren Zeitraum oder verbinden Sie Ihren Assistenten mit dem /mcp-Endpunkt dieses Servers.",
    times_utc: "Alle Zeiten in UTC.",
    tenants: "Kunden",
    tenant: "Kunden-ID",
    last_call: "Letzter Aufruf",
    slowest: "Langsamste Tools (p95)",
    upstream_codes: "Digistore24-Fehlercodes",
    code: "Code",
    replicas: "Replikate",
    replica: "Replikat",
    last_seen: "Letzter Herzschlag",
    rows_written: "Geschriebene Zeilen",
    rows_dropped: "Verworfene Zeilen",
    health: "Zustand",
    healthy: "gesund",
    stale: "seit über 2 Minuten kein Herzschlag",
    nothing: "Nichts in diesem Zeitraum.",
    other_lang: "English",
    sort_by: "Sortieren nach",
    skip: "Zu den Zahlen springen",
};

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

fn other(lang: Lang) -> Lang {
    match lang {
        Lang::En => Lang::De,
        Lang::De => Lang::En,
    }
}

/// `2026-12-01 10:04:05` (UTC).
pub fn when(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
}

fn day(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default()
}

/// Milliseconds: one decimal below 10, whole above.
pub fn millis(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.1}") } else { format!("{ms:.0}") }
}

fn percent(rate: f64, lang: Lang) -> String {
    let text = format!("{:.1} %", rate * 100.0);
    if lang == Lang::De { text.replace('.', ",") } else { text }
}

/// The frame of both pages: header with the language switch and sign-out.
fn layout(lang: Lang, title: &str, here: (&Chosen, SortBy), who: Markup, sign_out: Option<(&str, &str)>, body: Markup) -> Markup {
    let w = words(lang);
    let other = other(lang);
    let switch = page_query(other, here.0, here.1);
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="no-referrer";
                title { (title) }
                link rel="stylesheet" href="/dashboard/assets/dashboard.css";
                script src="/dashboard/assets/dashboard.js" defer {}
            }
            body {
                a.skip href="#numbers" { (w.skip) }
                header.top {
                    div {
                        h1 { (title) }
                        (who)
                    }
                    nav.actions {
                        a #other-lang href=(switch) hreflang=(other.code()) lang=(other.code()) { (w.other_lang) }
                        @if let Some((action, csrf)) = sign_out {
                            form method="post" action=(action) {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="lang" value=(lang.code());
                                button type="submit" #sign-out .secondary { (w.sign_out) }
                            }
                        }
                    }
                }
                main #numbers { (body) }
                footer { p.fine { (w.times_utc) } }
            }
        }
    }
}

/// The period form: works without JavaScript (the script only submits it on change).
fn period_form(w: &Words, lang: Lang, action: &str, chosen: &Chosen, sort: SortBy) -> Markup {
    html! {
        form.period method="get" action=(action) #period-form {
            input type="hidden" name="lang" value=(lang.code());
            input type="hidden" name="sort" value=(sort.as_str());
            label for="period" { (w.period) }
            select #period name="period" {
                @for (preset, name) in Preset::ALL.iter().zip(w.presets) {
                    option value=(preset.as_str()) selected[*preset == chosen.preset] { (name) }
                }
            }
            span.custom {
                label for="from" { (w.from) }
                input #from type="date" name="from" value=(chosen.from_date);
                label for="to" { (w.to) }
                input #to type="date" name="to" value=(chosen.to_date);
            }
            button type="submit" #show { (w.show) }
        }
    }
}

/// The query string of this page in `lang`, sorted by `sort`.
fn page_query(lang: Lang, chosen: &Chosen, sort: SortBy) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("lang", lang.code()).append_pair("period", chosen.preset.as_str());
    if chosen.preset == Preset::Custom {
        query.append_pair("from", &chosen.from_date).append_pair("to", &chosen.to_date);
    }
    query.append_pair("sort", sort.as_str());
    format!("?{}", query.finish())
}

/// The link of a column header: this page sorted by that column.
fn sort_href(lang: Lang, chosen: &Chosen, sort: SortBy) -> String {
    format!("{}#tools", page_query(lang, chosen, sort))
}

fn card(metric: &str, label: &str, value: impl maud::Render) -> Markup {
    html! { div.card data-metric=(metric) { dt { (label) } dd { (value) } } }
}

fn totals_cards(w: &Words, lang: Lang, totals: &Counts) -> Markup {
    html! {
        (card("calls", w.calls, totals.calls))
        (card("errors", w.errors, totals.errors()))
        (card("error-rate", w.error_rate, percent(error_rate(totals), lang)))
        (card("rate-limited", w.rate_limited, totals.rate_limited))
    }
}

fn tools_table(w: &Words, lang: Lang, chosen: &Chosen, tools: &[ToolUsage], sort: SortBy, csv_href: Option<&str>) -> Markup {
    let mut tools = tools.to_vec();
    sort.sort(&mut tools);
    let header = |by: SortBy, label: &str| {
        let sorted = by == sort;
        let order = if by == SortBy::Tool { "ascending" } else { "descending" };
        html! {
            th scope="col" class=[(by != SortBy::Tool).then_some("num")] aria-sort=(if sorted { order } else { "none" }) {
                a href=(sort_href(lang, chosen, by)) data-sort=(by.as_str()) title={ (w.sort_by) ": " (label) } { (label) @if sorted { " ▾" } }
            }
        }
    };
    html! {
        section #tools aria-labelledby="tools-title" {
            h2 #tools-title { (w.tools) }
            @if tools.is_empty() { p.note { (w.nothing) } } @else {
            @if let Some(href) = csv_href { p { a #csv href=(href) download { (w.csv) } } }
            div.scroll {
                table.tools {
                    thead { tr {
                        (header(SortBy::Tool, w.tool)) (header(SortBy::Calls, w.calls)) (header(SortBy::Errors, w.errors))
                        (header(SortBy::P50, w.p50)) (header(SortBy::P95, w.p95))
                    } }
                    tbody {
                        @for t in &tools {
                            tr data-tool=(t.tool) {
                                th scope="row" data-col="tool" { code { (t.tool) } }
                                td.num data-col="calls" { (t.counts.calls) }
                                td.num data-col="errors" { (t.counts.errors()) }
                                td.num data-col="p50" { (millis(t.p50_ms)) }
                                td.num data-col="p95" { (millis(t.p95_ms)) }
                            }
                        }
                    }
                }
            }
            }
        }
    }
}

/// The IPN section's inputs beyond the report.
pub struct EventsView {
    /// IPN is on on this server.
    pub on: bool,
    pub vendor_known: bool,
    pub last: Option<StoredEvent>,
    pub last_24h: Vec<(String, i64)>,
    pub last_7d: Vec<(String, i64)>,
    /// When Digistore24's last connection test arrived.
    pub last_test_ms: Option<i64>,
    /// IPNs refused on this replica lately (time, reason), newest first.
    pub rejections: Vec<(i64, String)>,
}

fn counts_line(w: &Words, counts: &[(String, i64)]) -> Markup {
    html! {
        @if counts.is_empty() { (w.none_yet) }
        @for (i, (event, n)) in counts.iter().enumerate() {
            @if i > 0 { ", " } code { (event) } " " (n)
        }
    }
}

fn events_section(w: &Words, report: &UsageReport, view: &EventsView) -> Markup {
    html! {
        section #events aria-labelledby="events-title" {
            h2 #events-title { (w.events) }
            @if !view.on {
                p.note { (w.events_off) }
            } @else if !view.vendor_known {
                p.note { (w.events_unknown_vendor) }
            } @else {
                dl.status {
                    div { dt { (w.last_event) } dd #last-event {
                        @match &view.last {
                            Some(e) => { code { (e.event) } " · " (when(e.received_at)) }
                            None => { (w.none_yet) }
                        }
                    } }
                    div { dt { (w.last_24h) } dd { (counts_line(w, &view.last_24h)) } }
                    div { dt { (w.last_7d) } dd { (counts_line(w, &view.last_7d)) } }
                    div { dt { (w.last_test) } dd #last-test { (view.last_test_ms.map(when).unwrap_or_else(|| w.none_yet.to_owned())) } }
                    div { dt { (w.rejected) } dd #rejections {
                        @if view.rejections.is_empty() { (w.none_yet) }
                        @for (at, reason) in view.rejections.iter().take(3) { span.line { (when(*at)) ": " (reason) } }
                    } }
                }
                @if !report.events.is_empty() {
                    div.scroll { table.events {
                        thead { tr { th scope="col" { (w.day) } th scope="col" { (w.event) } th.num scope="col" { (w.count) } } }
                        tbody { @for e in &report.events {
                            tr data-event=(e.event) { td { (day(e.day_ms)) } td { code { (e.event) } } td.num { (e.count) } }
                        } }
                    } }
                }
            }
        }
    }
}

/// Everything the customer's page shows.
pub struct CustomerView<'a> {
    pub lang: Lang,
    pub tenant: &'a str,
    pub vendor_id: Option<&'a str>,
    pub csrf: &'a str,
    pub chosen: &'a Chosen,
    pub sort: SortBy,
    pub report: &'a UsageReport,
    pub events: &'a EventsView,
}

/// The customer's page.
pub fn customer_page(view: &CustomerView<'_>) -> Markup {
    let w = words(view.lang);
    let report = view.report;
    let lang = view.lang;
    let mut csv = form_urlencoded::Serializer::new(String::from("/dashboard/usage.csv?"));
    csv.append_pair("period", view.chosen.preset.as_str());
    if view.chosen.preset == Preset::Custom {
        csv.append_pair("from", &view.chosen.from_date).append_pair("to", &view.chosen.to_date);
    }
    csv.append_pair("sort", view.sort.as_str());
    let csv = csv.finish();
    let who = html! {
        p.who {
            (w.customer) " " code #tenant { (view.tenant) }
            @if let Some(vendor) = view.vendor_id { " · " (w.vendor) " " code #vendor { (vendor) } }
        }
    };
    let c = &report.confirmations;
    let body = html! {
        (period_form(w, lang, "/dashboard", view.chosen, view.sort))
        @if report.totals.calls == 0 {
            section.empty #empty-state role="status" {
                h2 { (w.empty_title) }
                p { (w.empty_text) }
            }
        } @else {
            dl.cards #totals {
                (totals_cards(w, lang, &report.totals))
                div.card data-metric="confirmations" {
                    dt { (w.confirmations) }
                    dd {
                        span.line { span data-metric="confirmations-asked" { (c.asked) } " " (w.asked) }
                        span.line { span data-metric="confirmations-accepted" { (c.accepted) } " " (w.accepted) }
                        span.line { span data-metric="confirmations-declined" { (c.declined) } " " (w.declined) }
                    }
                }
            }
            section #chart aria-labelledby="chart-heading" {
                h2 #chart-heading { (w.chart_title) }
                (calls_chart(w, &report.series, report.period.granularity))
            }
            (tools_table(w, lang, view.chosen, &report.tools, view.sort, Some(&csv)))
            section #recent aria-labelledby="recent-title" {
                h2 #recent-title { (w.recent) }
                div.scroll { table.recent {
                    thead { tr { th scope="col" { (w.time) } th scope="col" { (w.tool) } th scope="col" { (w.outcome) } th.num scope="col" { (w.duration) } } }
                    tbody { @for call in &report.recent {
                        tr data-class=(call.class) {
                            td { (when(call.at_ms)) }
                            td { code { (call.tool) } }
                            td { span class={ "pill " (call.class) } { (w.class_name(&call.class)) }
                                 @if call.detail != call.class { " " small { (call.detail) } } }
                            td.num { (millis(call.duration_ms)) }
                        }
                    } }
                } }
            }
        }
        (events_section(w, report, view.events))
    };
    layout(lang, w.title, (view.chosen, view.sort), who, Some(("/dashboard/sign-out", view.csrf)), body)
}

/// Everything the operator's page shows.
pub struct OperatorView<'a> {
    pub lang: Lang,
    pub csrf: Option<&'a str>,
    pub chosen: &'a Chosen,
    pub sort: SortBy,
    pub report: &'a OperatorReport,
    pub now_ms: i64,
}

/// The operator's page: every tenant by tenant id, never a key.
pub fn operator_page(view: &OperatorView<'_>) -> Markup {
    let w = words(view.lang);
    let lang = view.lang;
    let report = view.report;
    let dropped: i64 = report.replicas.iter().map(|r| r.rows_dropped).sum();
    let body = html! {
        (period_form(w, lang, "/dashboard/operator", view.chosen, view.sort))
        dl.cards #totals {
            (totals_cards(w, lang, &report.totals))
            (card("tenants", w.tenants, report.tenants.len()))
            (card("rows-dropped", w.rows_dropped, dropped))
        }
        @if report.totals.calls > 0 {
            section #chart aria-labelledby="chart-heading" {
                h2 #chart-heading { (w.chart_title) }
                (calls_chart(w, &report.series, report.period.granularity))
            }
        } @else {
            section.empty #empty-state role="status" { h2 { (w.empty_title) } }
        }
        section #tenants aria-labelledby="tenants-title" {
            h2 #tenants-title { (w.tenants) }
            @if report.tenants.is_empty() { p.note { (w.nothing) } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { (w.tenant) } th scope="col" { (w.vendor) } th.num scope="col" { (w.calls) }
                                 th.num scope="col" { (w.errors) } th.num scope="col" { (w.error_rate) } th scope="col" { (w.last_call) } } }
                    tbody { @for t in &report.tenants {
                        tr data-tenant=(t.tenant) {
                            th scope="row" { code { (t.tenant) } }
                            td { (t.vendor_id.as_deref().unwrap_or("–")) }
                            td.num data-col="calls" { (t.counts.calls) }
                            td.num data-col="errors" { (t.counts.errors()) }
                            td.num { (percent(error_rate(&t.counts), lang)) }
                            td { (when(t.last_call_ms)) }
                        }
                    } }
                } }
            }
        }
        (tools_table(w, lang, view.chosen, &report.tools, view.sort, None))
        section #slowest aria-labelledby="slowest-title" {
            h2 #slowest-title { (w.slowest) }
            @if report.slowest.is_empty() { p.note { (w.nothing) } } @else {
                ol.slowest { @for t in &report.slowest {
                    li { code { (t.tool) } " — p95 " (millis(t.p95_ms)) " ms, p50 " (millis(t.p50_ms)) " ms (" (t.counts.calls) " " (w.calls_word) ")" }
                } }
            }
        }
        section #codes aria-labelledby="codes-title" {
            h2 #codes-title { (w.upstream_codes) }
            @if report.upstream_codes.is_empty() { p.note { (w.nothing) } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { (w.code) } th.num scope="col" { (w.count) } } }
                    tbody { @for (code, n) in &report.upstream_codes { tr { td { code { (code) } } td.num { (n) } } } }
                } }
            }
        }
        section #replicas aria-labelledby="replicas-title" {
            h2 #replicas-title { (w.replicas) }
            @if report.replicas.is_empty() { p.note { (w.nothing) } } @else {
                div.scroll { table {
                    thead { tr { th scope="col" { (w.replica) } th scope="col" { (w.last_seen) } th.num scope="col" { (w.rows_written) }
                                 th.num scope="col" { (w.rows_dropped) } th scope="col" { (w.health) } } }
                    tbody { @for r in &report.replicas {
                        @let fresh = view.now_ms - r.last_seen_ms <= 120_000;
                        tr data-replica=(r.replica) {
                            th scope="row" { code { (r.replica) } }
                            td { (when(r.last_seen_ms)) }
                            td.num { (r.rows_written) }
                            td.num data-col="dropped" { (r.rows_dropped) }
                            td { span class={ "pill " (if fresh { "success" } else { "upstream_error" }) } { (if fresh { w.healthy } else { w.stale }) } }
                        }
                    } }
                } }
            }
        }
    };
    let sign_out = view.csrf.map(|csrf| ("/dashboard/operator/sign-out", csrf));
    layout(lang, w.operator_title, (view.chosen, view.sort), html! {}, sign_out, body)
}

/// The pages' Content-Security-Policy: the style sheet and the script from
/// this server only, nothing inline, forms back to this server only.
pub const CSP: &str =
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// An HTML answer with the dashboard's security headers.
pub fn respond(status: StatusCode, markup: Markup) -> Response {
    crate::oauth::page::html_with_csp(status, markup, HeaderValue::from_static(CSP))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dashboard::api::page_period;
    use crate::store::usage::{Bucket, Confirmations, EventDay, Period, RecentCall, ReplicaHealth, TenantUsage};
    use std::collections::HashMap;

    const NOW: i64 = 1_796_121_000_000;

    fn chosen() -> Chosen {
        page_period(&HashMap::new(), NOW).unwrap()
    }

    fn report(period: Period, calls_per_bucket: i64) -> UsageReport {
        let series: Vec<Bucket> = (0..24)
            .map(|i| Bucket {
                start_ms: period.from_ms + i * 3_600_000,
                counts: Counts { calls: calls_per_bucket, success: calls_per_bucket, ..Counts::default() },
            })
            .collect();
        let totals = Counts { calls: 45, success: 37, tool_error: 5, upstream_error: 3, ..Counts::default() };
        UsageReport {
            period,
            totals,
            series,
            tools: vec![
                ToolUsage {
                    tool: "listProducts".into(),
                    counts: Counts { calls: 37, success: 37, ..Counts::default() },
                    p50_ms: 3.2,
                    p95_ms: 12.0,
                },
                ToolUsage {
                    tool: "<script>alert(1)</script>".into(),
                    counts: Counts { calls: 8, tool_error: 5, upstream_error: 3, ..Counts::default() },
                    p50_ms: 1.0,
                    p95_ms: 2.0,
                },
            ],
            recent: vec![RecentCall {
                at_ms: NOW,
                tool: "createVoucher".into(),
                class: "tool_error".into(),
                detail: "read_only_key".into(),
                duration_ms: 1.5,
            }],
            confirmations: Confirmations { asked: 2, accepted: 1, declined: 1 },
            events: vec![EventDay { day_ms: NOW - NOW % 86_400_000, event: "<b>on_payment</b>".into(), count: 4 }],
        }
    }

    fn events_view() -> EventsView {
        EventsView {
            on: true,
            vendor_known: true,
            last: None,
            last_24h: vec![("on_payment".into(), 4)],
            last_7d: vec![],
            last_test_ms: None,
            rejections: vec![(NOW, "<b>bad signature</b>".into())],
        }
    }

    fn page(lang: Lang, report: &UsageReport) -> String {
        let chosen = chosen();
        let view = CustomerView {
            lang,
            tenant: "0123456789abcdef",
            vendor_id: Some("4711"),
            csrf: "c\"s",
            chosen: &chosen,
            sort: SortBy::Calls,
            report,
            events: &events_view(),
        };
        customer_page(&view).into_string()
    }

    #[test]
    fn a_day_of_hourly_buckets_renders_24_bars_with_their_numbers() {
        let period = chosen().period;
        let html = page(Lang::En, &report(period, 2));
        assert_eq!(html.matches("<g class=\"bar\"").count(), 24, "{html}");
        assert_eq!(html.matches("<tr><th scope=\"row\">2026-").count(), 24, "the chart's numbers as a table, one row per bar");
        assert!(html.contains("data-bars=\"24\""));
        assert_eq!(html.matches("data-calls=\"2\"").count(), 24);
        assert!(html.contains("<title id=\"chart-title\">Calls over time</title>"));
        assert!(html.contains("data-metric=\"calls\"><dt>Calls</dt><dd>45</dd>"), "{html}");
        assert!(html.contains("data-metric=\"errors\"><dt>Errors</dt><dd>8</dd>"));
        assert!(html.contains("<dd>17.8 %</dd>"), "error rate 8/45");
        assert!(html.contains("data-metric=\"confirmations-declined\">1<"));
        assert!(html.contains("<tr data-tool=\"listProducts\"><th scope=\"row\" data-col=\"tool\"><code>listProducts</code></th><td class=\"num\" data-col=\"calls\">37</td><td class=\"num\" data-col=\"errors\">0</td><td class=\"num\" data-col=\"p50\">3.2</td><td class=\"num\" data-col=\"p95\">12</td>"), "{html}");
        assert!(!html.contains("empty-state"));
    }

    #[test]
    fn names_from_anywhere_render_as_text() {
        let html = page(Lang::En, &report(chosen().period, 1));
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<b>on_payment</b>"));
        assert!(!html.contains("<b>bad signature</b>") && html.contains("&lt;b&gt;bad signature"), "a rejection reason is text");
        assert!(html.contains("value=\"c&quot;s\""), "attribute values are escaped too");
        // The only script is the one served from this server.
        assert_eq!(html.matches("<script").count(), 1);
        assert!(html.contains("<script src=\"/dashboard/assets/dashboard.js\" defer></script>"));
    }

    #[test]
    fn no_calls_show_the_friendly_empty_state_not_a_chart() {
        let mut empty = report(chosen().period, 0);
        empty.totals = Counts::default();
        empty.tools.clear();
        empty.recent.clear();
        let html = page(Lang::En, &empty);
        assert!(html.contains("id=\"empty-state\"") && html.contains("No calls in this period yet"), "{html}");
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn german_page() {
        let html = page(Lang::De, &report(chosen().period, 1));
        assert!(html.contains("<html lang=\"de\">"));
        assert!(html.contains("Aufrufe im Zeitverlauf") && html.contains("Abmelden") && html.contains("17,8 %"), "{html}");
    }

    #[test]
    fn the_table_links_sort_server_side_and_mark_the_sorted_column() {
        let html = page(Lang::En, &report(chosen().period, 1));
        assert!(html.contains("href=\"?lang=en&amp;period=24h&amp;sort=p95#tools\""), "{html}");
        assert!(
            html.contains(
                "<th scope=\"col\" class=\"num\" aria-sort=\"descending\"><a href=\"?lang=en&amp;period=24h&amp;sort=calls#tools\""
            )
        );
    }

    #[test]
    fn the_operator_page_lists_tenants_by_id_and_replica_health() {
        let chosen = chosen();
        let report = OperatorReport {
            period: chosen.period,
            totals: Counts { calls: 3, success: 3, ..Counts::default() },
            series: vec![Bucket { start_ms: chosen.period.from_ms, counts: Counts { calls: 3, success: 3, ..Counts::default() } }],
            tenants: vec![TenantUsage {
                tenant: "0123456789abcdef".into(),
                vendor_id: None,
                counts: Counts { calls: 3, success: 3, ..Counts::default() },
                last_call_ms: NOW,
            }],
            tools: vec![],
            slowest: vec![],
            upstream_codes: vec![("<i>7</i>".into(), 2)],
            replicas: vec![
                ReplicaHealth { replica: "a".into(), last_seen_ms: NOW - 1000, rows_dropped: 2, rows_written: 10 },
                ReplicaHealth { replica: "b".into(), last_seen_ms: NOW - 600_000, rows_dropped: 1, rows_written: 10 },
            ],
        };
        let html =
            operator_page(&OperatorView { lang: Lang::En, csrf: None, chosen: &chosen, sort: SortBy::Calls, report: &report, now_ms: NOW })
                .into_string();
        assert!(html.contains("data-tenant=\"0123456789abcdef\""));
        assert!(html.contains("data-metric=\"rows-dropped\"><dt>Rows dropped</dt><dd>3</dd>"), "{html}");
        assert!(html.contains("no heartbeat for over 2 minutes") && html.contains(">healthy<"));
        assert!(html.contains("&lt;i&gt;7&lt;/i&gt;"));
        assert!(!html.contains("sign-out"), "signed in by bearer: no sign-out form");
    }
}
