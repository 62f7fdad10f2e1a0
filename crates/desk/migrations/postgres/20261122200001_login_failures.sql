-- Failed logins per key (client address, email), for the login attempt limit: in the
-- database, so that every node of a cluster counts the same failures and a restart
-- forgets none. Rows older than the window are deleted as new failures come in.
CREATE TABLE login_failures (
    key       TEXT NOT NULL,
    failed_at TEXT NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, failed_at);
CREATE INDEX login_failures_age ON login_failures (failed_at);
