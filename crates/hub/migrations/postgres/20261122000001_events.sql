-- The ordered event log: the single source of truth for "what happened".
-- Appends are serialized by a transaction-level advisory lock (see log/postgres.rs),
-- so ids become visible in commit order and a reader's "id > cursor" misses nothing.
CREATE TABLE IF NOT EXISTS events (
    id         BIGSERIAL PRIMARY KEY,
    type       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data       TEXT NOT NULL,
    audience   TEXT
);
