-- E-mail (crates/desk/src/mail, docs/architecture.md "E-mail").
-- The outbox: a mail is written, fully rendered, in the same transaction as the change
-- it tells about; a sender task delivers it later. Retries send the same bytes, so the
-- same Message-ID. A claim (claimed_by until claimed_until) is a lease: a node that
-- dies mid-send leaves the mail to whoever claims it after the lease. claimed_by stays
-- after the attempt: the node that sent a sent mail.
CREATE TABLE mail_outbox (
    id              BIGSERIAL PRIMARY KEY,
    message_id      TEXT NOT NULL UNIQUE,
    kind            TEXT NOT NULL,
    ticket_id       BIGINT REFERENCES tickets (id),
    recipient_id    BIGINT REFERENCES users (id),
    from_address    TEXT NOT NULL,
    to_address      TEXT NOT NULL,
    message         TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    claimed_by      TEXT,
    claimed_until   TEXT,
    sent_at         TEXT,
    failed_at       TEXT,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at)
    WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX mail_outbox_thread ON mail_outbox (ticket_id, to_address);

-- Kinds of mail a person switched off (preferences page); everything else is on.
CREATE TABLE mail_opt_outs (
    user_id BIGINT NOT NULL REFERENCES users (id),
    kind    TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Message-IDs of incoming mail already taken: an MTA that retries after a lost answer
-- must not open a second ticket.
CREATE TABLE mail_received (
    message_id  TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
);
