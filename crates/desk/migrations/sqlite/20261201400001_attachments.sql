-- Files on tickets, comments and knowledge-base articles (issue 11 point 1). The bytes
-- live in the attachment store under their SHA-256 (crate::files); a row records one
-- attaching of them. A file on a comment also names the comment's ticket, so that one
-- index answers "the files of this ticket", internal notes' files included.
CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id    INTEGER REFERENCES tickets (id) ON DELETE CASCADE,
    comment_id   INTEGER REFERENCES ticket_comments (id) ON DELETE CASCADE,
    article_id   INTEGER REFERENCES articles (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    size         INTEGER NOT NULL CHECK (size > 0),
    content_type TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    uploader_id  INTEGER NOT NULL REFERENCES users (id),
    created_at   TEXT NOT NULL,
    CHECK ((ticket_id IS NULL) <> (article_id IS NULL)),
    CHECK (comment_id IS NULL OR ticket_id IS NOT NULL)
);
CREATE INDEX attachments_ticket ON attachments (ticket_id, id);
CREATE INDEX attachments_article ON attachments (article_id, id);
-- The sweeper asks whether any row still holds a file's bytes.
CREATE INDEX attachments_sha256 ON attachments (sha256);
