-- The login attempt limit reserves an attempt before the password is checked, so that
-- parallel attempts cannot all pass the check, and forgets the reservation when the
-- password was right: what stays are failures. Replaces login_failures, whose rows had
-- no id to forget one by. Times come from the database's clock (one clock for every
-- node).
DROP TABLE login_failures;
CREATE TABLE login_attempts (
    id  INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL,
    at  TEXT NOT NULL
);
CREATE INDEX login_attempts_key ON login_attempts (key, at);
CREATE INDEX login_attempts_age ON login_attempts (at);
