-- The service desk's tables. Timestamps are TEXT in RFC 3339 UTC with milliseconds
-- ("2026-11-21T10:15:02.123Z"), like the hub's events: fixed width, so they sort and
-- compare as text. Every editable row has `version` (optimistic concurrency) and
-- `updated_by` (to say who changed it when a stale version is refused).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('requester', 'agent', 'admin')),
    status        TEXT NOT NULL CHECK (status IN ('active', 'blocked')),
    locale        TEXT NOT NULL CHECK (locale IN ('ru', 'en')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_login_at TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    updated_by    INTEGER REFERENCES users (id)
);
CREATE INDEX users_role_status ON users (role, status);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE locations (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    name     TEXT NOT NULL UNIQUE,
    building TEXT,
    room     TEXT
);

CREATE TABLE categories (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    name   TEXT NOT NULL,
    scope  TEXT NOT NULL CHECK (scope IN ('ticket', 'article')),
    active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (scope, name)
);

CREATE TABLE equipment (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    inventory_number TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    serial           TEXT,
    status           TEXT NOT NULL,
    location_id      INTEGER REFERENCES locations (id),
    assigned_user_id INTEGER REFERENCES users (id),
    notes            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    updated_by       INTEGER REFERENCES users (id)
);
CREATE INDEX equipment_status ON equipment (status);
CREATE INDEX equipment_kind ON equipment (kind);
CREATE INDEX equipment_location ON equipment (location_id);
CREATE INDEX equipment_assigned_user ON equipment (assigned_user_id);

CREATE TABLE tickets (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    type         TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     TEXT NOT NULL,
    category_id  INTEGER REFERENCES categories (id),
    requester_id INTEGER NOT NULL REFERENCES users (id),
    assignee_id  INTEGER REFERENCES users (id),
    equipment_id INTEGER REFERENCES equipment (id),
    resolution   TEXT,
    -- lower-cased title and description, for case-insensitive search in any script
    -- (SQLite's LIKE and lower() fold ASCII only).
    search_text  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    resolved_at  TEXT,
    closed_at    TEXT,
    version      INTEGER NOT NULL DEFAULT 1,
    updated_by   INTEGER REFERENCES users (id)
);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at);
CREATE INDEX tickets_priority ON tickets (priority);
CREATE INDEX tickets_assignee ON tickets (assignee_id);
CREATE INDEX tickets_requester ON tickets (requester_id);
CREATE INDEX tickets_updated ON tickets (updated_at);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_resolved ON tickets (resolved_at);

CREATE TABLE ticket_comments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    internal   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, id);

CREATE TABLE articles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    category_id INTEGER REFERENCES categories (id),
    visibility  TEXT NOT NULL CHECK (visibility IN ('everyone', 'agents')),
    author_id   INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1,
    updated_by  INTEGER REFERENCES users (id)
);
CREATE INDEX articles_updated ON articles (updated_at);

-- Full-text search: an external-content FTS5 table kept in sync by triggers.
-- unicode61 splits and case-folds words of any script (remove_diacritics 2 also folds
-- accented Latin letters); porter stems English words. Russian words are stemmed at
-- query time and searched as prefixes (see articles::fts5_query).
CREATE VIRTUAL TABLE articles_fts USING fts5 (
    title, body,
    content = 'articles', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;
CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
END;
CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, body ON articles BEGIN
    INSERT INTO articles_fts (articles_fts, rowid, title, body) VALUES ('delete', old.id, old.title, old.body);
    INSERT INTO articles_fts (rowid, title, body) VALUES (new.id, new.title, new.body);
END;

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    title            TEXT NOT NULL,
    message          TEXT NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
    audience         TEXT NOT NULL CHECK (audience IN ('everyone', 'agents', 'admins', 'user')),
    audience_user_id INTEGER REFERENCES users (id),
    author_id        INTEGER REFERENCES users (id),
    created_at       TEXT NOT NULL,
    expires_at       TEXT
);
CREATE INDEX notifications_created ON notifications (created_at);

CREATE TABLE history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('ticket', 'equipment')),
    entity_id   INTEGER NOT NULL,
    actor_id    INTEGER REFERENCES users (id),
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX history_entity ON history (entity_kind, entity_id, id);
