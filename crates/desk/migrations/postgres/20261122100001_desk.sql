-- The service desk's tables (PostgreSQL). Timestamps are TEXT in RFC 3339 UTC with milliseconds
-- ("2026-11-21T10:15:02.123Z"), like the hub's events: fixed width, so they sort and
-- compare as text. Every editable row has `version` (optimistic concurrency) and
-- `updated_by` (to say who changed it when a stale version is refused).

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    name          TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('requester', 'agent', 'admin')),
    status        TEXT NOT NULL CHECK (status IN ('active', 'blocked')),
    locale        TEXT NOT NULL CHECK (locale IN ('ru', 'en')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_login_at TEXT,
    version       BIGINT NOT NULL DEFAULT 1,
    updated_by    BIGINT REFERENCES users (id)
);
CREATE INDEX users_role_status ON users (role, status);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE locations (
    id       BIGSERIAL PRIMARY KEY,
    name     TEXT NOT NULL UNIQUE,
    building TEXT,
    room     TEXT
);

CREATE TABLE categories (
    id     BIGSERIAL PRIMARY KEY,
    name   TEXT NOT NULL,
    scope  TEXT NOT NULL CHECK (scope IN ('ticket', 'article')),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (scope, name)
);

CREATE TABLE equipment (
    id               BIGSERIAL PRIMARY KEY,
    inventory_number TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL,
    serial           TEXT,
    status           TEXT NOT NULL,
    location_id      BIGINT REFERENCES locations (id),
    assigned_user_id BIGINT REFERENCES users (id),
    notes            TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1,
    updated_by       BIGINT REFERENCES users (id)
);
CREATE INDEX equipment_status ON equipment (status);
CREATE INDEX equipment_kind ON equipment (kind);
CREATE INDEX equipment_location ON equipment (location_id);
CREATE INDEX equipment_assigned_user ON equipment (assigned_user_id);

CREATE TABLE tickets (
    id           BIGSERIAL PRIMARY KEY,
    title        TEXT NOT NULL,
    description  TEXT NOT NULL,
    type         TEXT NOT NULL,
    status       TEXT NOT NULL,
    priority     TEXT NOT NULL,
    category_id  BIGINT REFERENCES categories (id),
    requester_id BIGINT NOT NULL REFERENCES users (id),
    assignee_id  BIGINT REFERENCES users (id),
    equipment_id BIGINT REFERENCES equipment (id),
    resolution   TEXT,
    -- lower-cased title and description, for case-insensitive search in any script
    -- (SQLite's LIKE and lower() fold ASCII only).
    search_text  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    resolved_at  TEXT,
    closed_at    TEXT,
    version      BIGINT NOT NULL DEFAULT 1,
    updated_by   BIGINT REFERENCES users (id)
);
CREATE INDEX tickets_status_updated ON tickets (status, updated_at);
CREATE INDEX tickets_priority ON tickets (priority);
CREATE INDEX tickets_assignee ON tickets (assignee_id);
CREATE INDEX tickets_requester ON tickets (requester_id);
CREATE INDEX tickets_updated ON tickets (updated_at);
CREATE INDEX tickets_created ON tickets (created_at);
CREATE INDEX tickets_resolved ON tickets (resolved_at);

CREATE TABLE ticket_comments (
    id         BIGSERIAL PRIMARY KEY,
    ticket_id  BIGINT NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    author_id  BIGINT NOT NULL REFERENCES users (id),
    body       TEXT NOT NULL,
    internal   BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);
CREATE INDEX ticket_comments_ticket ON ticket_comments (ticket_id, id);

CREATE TABLE articles (
    id          BIGSERIAL PRIMARY KEY,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    category_id BIGINT REFERENCES categories (id),
    visibility  TEXT NOT NULL CHECK (visibility IN ('everyone', 'agents')),
    author_id   BIGINT NOT NULL REFERENCES users (id),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    updated_by  BIGINT REFERENCES users (id)
);
CREATE INDEX articles_updated ON articles (updated_at);

-- Full-text search: a generated tsvector that stems with both the 'russian' and the
-- 'english' configuration, and a GIN index over it. Queries OR the two
-- configurations' tsqueries, so "принтеры" finds "принтер" and "printers" "printer".
ALTER TABLE articles ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('russian', title), 'A') || setweight(to_tsvector('russian', body), 'B')
    || setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
) STORED;
CREATE INDEX articles_search ON articles USING GIN (search);

CREATE TABLE notifications (
    id               BIGSERIAL PRIMARY KEY,
    title            TEXT NOT NULL,
    message          TEXT NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('info', 'warning', 'critical')),
    audience         TEXT NOT NULL CHECK (audience IN ('everyone', 'agents', 'admins', 'user')),
    audience_user_id BIGINT REFERENCES users (id),
    author_id        BIGINT REFERENCES users (id),
    created_at       TEXT NOT NULL,
    expires_at       TEXT
);
CREATE INDEX notifications_created ON notifications (created_at);

CREATE TABLE history (
    id          BIGSERIAL PRIMARY KEY,
    entity_kind TEXT NOT NULL CHECK (entity_kind IN ('ticket', 'equipment')),
    entity_id   BIGINT NOT NULL,
    actor_id    BIGINT REFERENCES users (id),
    field       TEXT NOT NULL,
    old_value   TEXT,
    new_value   TEXT,
    at          TEXT NOT NULL
);
CREATE INDEX history_entity ON history (entity_kind, entity_id, id);
