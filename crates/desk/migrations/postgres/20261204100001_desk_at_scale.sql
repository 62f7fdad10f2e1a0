-- The desk at a million tickets (issue 13.2; measured by bench/desk.sh, results in
-- bench/README.md).

-- Ticket search: a trigram GIN index answers the LIKE '%…%' of the stored
-- lower-cased text without reading every description (pg_trgm is a trusted
-- extension: the database's owner may create it).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tickets_search_trigrams ON tickets USING GIN (search_text gin_trgm_ops);

-- Tickets per status, kept by a trigger: the statistics cards and the unfiltered
-- list's total read five rows instead of counting a million on every page and every
-- event. Changes already take the event log's lock in turn, so these rows add no
-- waiting of their own.
CREATE TABLE ticket_counts (
    status  TEXT PRIMARY KEY,
    tickets BIGINT NOT NULL
);
INSERT INTO ticket_counts (status, tickets)
VALUES ('new', 0), ('in_progress', 0), ('waiting', 0), ('resolved', 0), ('closed', 0);
UPDATE ticket_counts
SET tickets = (SELECT COUNT(*) FROM tickets t WHERE t.status = ticket_counts.status);
CREATE FUNCTION ticket_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE ticket_counts SET tickets = tickets - 1 WHERE status = OLD.status;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        UPDATE ticket_counts SET tickets = tickets + 1 WHERE status = NEW.status;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER ticket_counts_insert_delete AFTER INSERT OR DELETE ON tickets
    FOR EACH ROW EXECUTE FUNCTION ticket_counts_follow();
CREATE TRIGGER ticket_counts_update AFTER UPDATE OF status ON tickets
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION ticket_counts_follow();

-- A person's lists, newest first, read in order from the index: an agent's work
-- (assignee, status) and a requester's own tickets; open tickets nobody works on; the
-- whole list by (updated_at, id), its exact order.
DROP INDEX tickets_assignee;
DROP INDEX tickets_requester;
DROP INDEX tickets_updated;
CREATE INDEX tickets_assignee_status ON tickets (assignee_id, status, updated_at);
CREATE INDEX tickets_requester_updated ON tickets (requester_id, updated_at);
CREATE INDEX tickets_status_assignee ON tickets (status, assignee_id);
CREATE INDEX tickets_updated_id ON tickets (updated_at, id);
