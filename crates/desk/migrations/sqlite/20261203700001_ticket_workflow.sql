-- The working day around a ticket (issue 17).
-- The ticket version each history entry produced: a save made against an older version
-- conflicts only with the fields changed after it (tickets::changes_since).
ALTER TABLE history ADD COLUMN version INTEGER;
-- When the requester, and when staff, last wrote a public comment: "waiting for IT"
-- and the replies someone has not seen yet.
ALTER TABLE tickets ADD COLUMN requester_replied_at TEXT;
ALTER TABLE tickets ADD COLUMN staff_replied_at TEXT;
-- When each person last looked at a ticket.
CREATE TABLE ticket_reads (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    read_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
);
