//! The SQLite backend's dialect; its queries are the shared body (`body.rs`). Every
//! change runs on the hub's single writer connection (SQLite has one writer anyway;
//! queueing in the pool avoids SQLITE_BUSY), reads on the read pool. One writer also
//! makes "read, check the version, write" race-free without row locks.

use ictdesk_hub::{NewEvent, log::sqlite::SqliteDatabase};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool, migrate::Migrator};

use super::{Dialect, like_pattern_as_typed};
use crate::{articles::fts5_query, error::Result};

pub struct SqliteStorage {
    db: SqliteDatabase,
}

impl SqliteStorage {
    pub fn new(db: SqliteDatabase) -> Self {
        Self { db }
    }
}

type Store = SqliteStorage;

#[expect(clippy::duplicate_mod, reason = "one body compiled for each backend")]
#[path = "body.rs"]
mod body;

#[expect(clippy::duplicate_mod, reason = "one body compiled for each backend")]
#[path = "bulk_body.rs"]
mod bulk_body;

impl Dialect for SqliteStorage {
    type Db = Sqlite;

    fn reader(&self) -> &SqlitePool {
        &self.db.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.db.writer
    }

    fn migrator() -> Migrator {
        sqlx::migrate!("./migrations/sqlite")
    }

    const NOW: &'static str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

    /// Nothing: the single writer already serializes changes.
    fn lock_row(_alias: &str) -> String {
        String::new()
    }

    /// SQLite has one lock for writing, so any lock is that one: a write that changes
    /// nothing takes it, and every other writer — in this process or another, such as
    /// `ictdesk mail-in` — waits for this transaction to end.
    async fn lock_named(conn: &mut SqliteConnection, _key: &str) -> Result<()> {
        sqlx::query("DELETE FROM attachments WHERE 0 = 1")
            .execute(conn)
            .await?;
        Ok(())
    }
    /// Nothing: the single writer already serializes claims.
    const SKIP_LOCKED: &'static str = "";

    async fn append(conn: &mut SqliteConnection, event: &NewEvent) -> Result<i64> {
        Ok(ictdesk_hub::log::sqlite::append(conn, event).await?)
    }

    fn article_search(text: &str) -> Option<String> {
        fts5_query(text)
    }

    fn push_article_match(qb: &mut QueryBuilder<'_, Sqlite>, search: &str) {
        qb.push(" JOIN articles_fts ON articles_fts.rowid = ar.id WHERE articles_fts MATCH ")
            .push_bind(search.to_owned());
    }

    fn push_article_rank(qb: &mut QueryBuilder<'_, Sqlite>, _search: &str) {
        qb.push(" ORDER BY bm25(articles_fts), ar.id");
    }

    /// FTS5's trigram tokenizer matches a phrase as a substring; under three
    /// characters it has no trigram to look up, and LIKE reads the text instead.
    fn push_ticket_search(qb: &mut QueryBuilder<'_, Sqlite>, text: &str) {
        let text = text.to_lowercase();
        if text.chars().count() < 3 {
            qb.push("t.search_text LIKE ")
                .push_bind(like_pattern_as_typed(&text))
                .push(" ESCAPE '\\'");
            return;
        }
        qb.push("t.id IN (SELECT rowid FROM tickets_search WHERE tickets_search MATCH ")
            .push_bind(format!("\"{}\"", text.replace('"', "\"\"")))
            .push(")");
    }

    /// AUTOINCREMENT remembers the largest id ever inserted, chosen or not.
    fn follow_explicit_ids(_table: &str) -> Option<String> {
        None
    }
}
