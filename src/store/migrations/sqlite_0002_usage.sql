-- Usage of the service: one raw row per tool call (kept
-- --usage-retention-days), hourly aggregates (kept a year) that every report
-- reads, the tenants seen, and each replica's heartbeat. No key, argument or
-- answer is ever stored; the tenant is a 16-digit hash of the key.
CREATE TABLE usage_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms BIGINT NOT NULL,
    tenant TEXT NOT NULL,
    vendor_id TEXT,
    tool TEXT NOT NULL,
    class TEXT NOT NULL,
    detail TEXT NOT NULL,
    duration_us BIGINT NOT NULL,
    upstream_us BIGINT NOT NULL,
    answer_bytes BIGINT NOT NULL,
    upstream_code TEXT,
    -- 1 accepted, 0 declined, NULL no confirmation round ended
    confirmed SMALLINT,
    era TEXT NOT NULL,
    transport TEXT NOT NULL
);
-- With id, so "the last 50 calls" (ORDER BY at_ms DESC, id DESC) reads the
-- index backwards instead of sorting every row of the period.
CREATE INDEX usage_calls_tenant_at ON usage_calls (tenant, at_ms, id);
CREATE INDEX usage_calls_at ON usage_calls (at_ms);

-- h00..h20: calls per duration bucket (store::usage::DURATION_BUCKETS_US).
-- upstream_code is '' when there was none (a key column cannot be NULL).
CREATE TABLE usage_hourly (
    tenant TEXT NOT NULL,
    hour_ms BIGINT NOT NULL,
    tool TEXT NOT NULL,
    class TEXT NOT NULL,
    detail TEXT NOT NULL,
    upstream_code TEXT NOT NULL,
    calls BIGINT NOT NULL,
    duration_us BIGINT NOT NULL,
    upstream_us BIGINT NOT NULL,
    answer_bytes BIGINT NOT NULL,
    confirmed_yes BIGINT NOT NULL,
    confirmed_no BIGINT NOT NULL,
    h00 BIGINT NOT NULL DEFAULT 0,
    h01 BIGINT NOT NULL DEFAULT 0,
    h02 BIGINT NOT NULL DEFAULT 0,
    h03 BIGINT NOT NULL DEFAULT 0,
    h04 BIGINT NOT NULL DEFAULT 0,
    h05 BIGINT NOT NULL DEFAULT 0,
    h06 BIGINT NOT NULL DEFAULT 0,
    h07 BIGINT NOT NULL DEFAULT 0,
    h08 BIGINT NOT NULL DEFAULT 0,
    h09 BIGINT NOT NULL DEFAULT 0,
    h10 BIGINT NOT NULL DEFAULT 0,
    h11 BIGINT NOT NULL DEFAULT 0,
    h12 BIGINT NOT NULL DEFAULT 0,
    h13 BIGINT NOT NULL DEFAULT 0,
    h14 BIGINT NOT NULL DEFAULT 0,
    h15 BIGINT NOT NULL DEFAULT 0,
    h16 BIGINT NOT NULL DEFAULT 0,
    h17 BIGINT NOT NULL DEFAULT 0,
    h18 BIGINT NOT NULL DEFAULT 0,
    h19 BIGINT NOT NULL DEFAULT 0,
    h20 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant, hour_ms, tool, class, detail, upstream_code)
);
CREATE INDEX usage_hourly_hour ON usage_hourly (hour_ms);

CREATE TABLE usage_tenants (
    tenant TEXT PRIMARY KEY,
    vendor_id TEXT,
    first_call_ms BIGINT NOT NULL,
    last_call_ms BIGINT NOT NULL
);

CREATE TABLE usage_replicas (
    replica TEXT PRIMARY KEY,
    last_seen_ms BIGINT NOT NULL,
    rows_dropped BIGINT NOT NULL,
    rows_written BIGINT NOT NULL
);
