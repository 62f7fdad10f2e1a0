-- How far retention (retention.rs) has pruned the event log: every event with
-- id <= through is gone, so a client resuming from before it is told to reset.
CREATE TABLE IF NOT EXISTS events_pruned (
    singleton BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
    through   BIGINT NOT NULL
);
