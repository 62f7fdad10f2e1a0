-- Presence across nodes (cluster/presence_table.rs): each node's watchers of a ticket,
-- one row per ticket and node, rewritten when they change; `NOTIFY ictdesk_presence`
-- carries only the ticket's id. So only roles that may read this table learn who
-- watches what, and only roles that may write it can show anyone: a forged NOTIFY
-- makes the nodes read again, nothing more. Rows of a node that stopped reporting in
-- `nodes` are ignored, and later deleted by the others.
CREATE TABLE IF NOT EXISTS presence (
    ticket_id BIGINT NOT NULL,
    node      TEXT NOT NULL,
    viewers   TEXT NOT NULL,  -- JSON: the entries as clients see them
    PRIMARY KEY (ticket_id, node)
);
