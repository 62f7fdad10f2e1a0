-- Teams and queues (issue 12 point 2): a ticket belongs to a team («1-я линия»,
-- «Сеть», «1С») and optionally to an agent in it; a category may name the team its
-- tickets go to.
CREATE TABLE teams (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL,
    lead_id     BIGINT REFERENCES users (id),
    -- New tickets of the team go to its active agents in turn (round-robin).
    auto_assign BOOLEAN NOT NULL DEFAULT FALSE,
    -- Whom round-robin chose last: the next ticket goes to the member after them.
    last_assigned_id BIGINT REFERENCES users (id),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1,
    updated_by  BIGINT REFERENCES users (id)
);
CREATE UNIQUE INDEX teams_name ON teams (name);
CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members (user_id);
ALTER TABLE categories ADD COLUMN default_team_id BIGINT REFERENCES teams (id);
ALTER TABLE tickets ADD COLUMN team_id BIGINT REFERENCES teams (id);
-- A team's queue: its tickets of some statuses, most recently changed first.
CREATE INDEX tickets_team_queue ON tickets (team_id, status, updated_at);
