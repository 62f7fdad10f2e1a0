-- The nodes serving this database and their client counts, refreshed every few
-- seconds by each node, for /clients?all=1 and /status.
CREATE TABLE IF NOT EXISTS nodes (
    node       TEXT PRIMARY KEY,
    clients    BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    seen_at_ms BIGINT NOT NULL
);
