-- The notification inbox (issue 11 point 4): one row per person for each event that
-- concerns them, written in that event's transaction (crate::inbox). `kind` is the
-- event's type.
CREATE TABLE inbox_entries (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    title      TEXT NOT NULL,
    ticket_id  BIGINT REFERENCES tickets (id) ON DELETE CASCADE,
    actor_id   BIGINT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    read_at    TEXT
);
CREATE INDEX inbox_entries_user ON inbox_entries (user_id, id);
-- The bell on every page counts these.
CREATE INDEX inbox_entries_unread ON inbox_entries (user_id) WHERE read_at IS NULL;
