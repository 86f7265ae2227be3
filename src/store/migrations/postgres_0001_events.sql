-- One row per verified IPN. `content_hash` is SHA-256 over the signed
-- content, so a re-sent IPN finds its first row instead of adding one.
CREATE TABLE ipn_events (
    id BIGSERIAL PRIMARY KEY,
    tenant TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    event TEXT NOT NULL,
    order_id TEXT,
    transaction_id TEXT,
    product_id TEXT,
    test_mode BOOLEAN NOT NULL,
    received_at BIGINT NOT NULL,
    summary TEXT NOT NULL,
    fields TEXT NOT NULL
);
CREATE UNIQUE INDEX ipn_events_content ON ipn_events (tenant, content_hash);
CREATE INDEX ipn_events_lookup ON ipn_events (tenant, event, order_id, transaction_id);
CREATE INDEX ipn_events_received ON ipn_events (received_at);
