-- The usage batches already written, by the writer's name for each: a batch
-- retried after its commit went through (the answer lost on the way back) is
-- recognised and not counted twice. Pruned with the raw rows.
CREATE TABLE usage_batches (
    id TEXT PRIMARY KEY,
    at_ms BIGINT NOT NULL
);
CREATE INDEX usage_batches_at ON usage_batches (at_ms);
