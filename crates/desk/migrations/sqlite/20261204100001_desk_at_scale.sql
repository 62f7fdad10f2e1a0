-- The desk at a million tickets (issue 13.2; measured by bench/desk.sh, results in
-- bench/README.md).

-- Ticket search: a trigram index over the stored lower-cased text. A phrase of
-- trigrams matches exactly the substrings LIKE '%…%' matched (storage: Dialect::
-- push_ticket_search), without reading every description. Kept in sync by triggers;
-- an update rewrites the entry only when the text changed (status changes do not).
CREATE VIRTUAL TABLE tickets_search USING fts5 (
    search_text,
    content = 'tickets', content_rowid = 'id',
    tokenize = 'trigram'
);
INSERT INTO tickets_search (tickets_search) VALUES ('rebuild');
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_search (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_search (tickets_search, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER tickets_search_update AFTER UPDATE OF search_text ON tickets
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO tickets_search (tickets_search, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
    INSERT INTO tickets_search (rowid, search_text) VALUES (new.id, new.search_text);
END;

-- Tickets per status, kept by triggers: the statistics cards and the unfiltered list's
-- total read five rows instead of counting a million on every page and every event.
CREATE TABLE ticket_counts (
    status  TEXT PRIMARY KEY,
    tickets INTEGER NOT NULL
);
INSERT INTO ticket_counts (status, tickets)
VALUES ('new', 0), ('in_progress', 0), ('waiting', 0), ('resolved', 0), ('closed', 0);
UPDATE ticket_counts
SET tickets = (SELECT COUNT(*) FROM tickets t WHERE t.status = ticket_counts.status);
CREATE TRIGGER ticket_counts_insert AFTER INSERT ON tickets BEGIN
    UPDATE ticket_counts SET tickets = tickets + 1 WHERE status = new.status;
END;
CREATE TRIGGER ticket_counts_update AFTER UPDATE OF status ON tickets
WHEN old.status <> new.status BEGIN
    UPDATE ticket_counts SET tickets = tickets - 1 WHERE status = old.status;
    UPDATE ticket_counts SET tickets = tickets + 1 WHERE status = new.status;
END;
CREATE TRIGGER ticket_counts_delete AFTER DELETE ON tickets BEGIN
    UPDATE ticket_counts SET tickets = tickets - 1 WHERE status = old.status;
END;

-- A person's lists, newest first, read in order from the index: an agent's work
-- (assignee, status) and a requester's own tickets; open tickets nobody works on.
DROP INDEX tickets_assignee;
DROP INDEX tickets_requester;
CREATE INDEX tickets_assignee_status ON tickets (assignee_id, status, updated_at);
CREATE INDEX tickets_requester_updated ON tickets (requester_id, updated_at);
CREATE INDEX tickets_status_assignee ON tickets (status, assignee_id);
