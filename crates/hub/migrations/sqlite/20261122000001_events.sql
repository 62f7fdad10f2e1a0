-- The ordered event log: the single source of truth for "what happened".
-- AUTOINCREMENT: an id is never reused, even after the newest rows are deleted,
-- so a client's resume cursor can never point at a different event.
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    type       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    data       TEXT NOT NULL,
    audience   TEXT
);
