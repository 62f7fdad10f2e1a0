//! The PostgreSQL backend's dialect; its queries are the shared body (`body.rs`).
//! Several nodes change the same rows concurrently, so a change reads what it changes
//! with `SELECT … FOR UPDATE`: "read, check the version, write" is then race-free, and
//! the second of two concurrent edits sees the first one's version and is refused as
//! stale.

use ictdesk_hub::{NewEvent, log::postgres::PostgresDatabase};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, migrate::Migrator};

use super::{Dialect, like_pattern};
use crate::error::Result;

pub struct PostgresStorage {
    db: PostgresDatabase,
}

impl PostgresStorage {
    pub fn new(db: PostgresDatabase) -> Self {
        Self { db }
    }
}

type Store = PostgresStorage;

#[expect(clippy::duplicate_mod, reason = "one body compiled for each backend")]
#[path = "body.rs"]
mod body;

#[expect(clippy::duplicate_mod, reason = "one body compiled for each backend")]
#[path = "bulk_body.rs"]
mod bulk_body;

impl Dialect for PostgresStorage {
    type Db = Postgres;

    /// Reads have a pool of their own, so that writes waiting for the log's append
    /// lock cannot take every connection from the pages (`ictdesk_hub::log::postgres`).
    fn reader(&self) -> &PgPool {
        &self.db.reader
    }

    fn writer(&self) -> &PgPool {
        &self.db.pool
    }

    fn migrator() -> Migrator {
        sqlx::migrate!("./migrations/postgres")
    }

    const NOW: &'static str =
        "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

    fn lock_row(alias: &str) -> String {
        format!(" FOR UPDATE OF {alias}")
    }

    async fn lock_named(conn: &mut PgConnection, key: &str) -> Result<()> {
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .execute(conn)
            .await?;
        Ok(())
    }
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    async fn append(conn: &mut PgConnection, event: &NewEvent) -> Result<i64> {
        Ok(ictdesk_hub::log::postgres::append(conn, event).await?)
    }

    fn article_search(text: &str) -> Option<String> {
        Some(text.trim().to_owned()).filter(|text| !text.is_empty())
    }

    fn push_article_match(qb: &mut QueryBuilder<'_, Postgres>, search: &str) {
        qb.push(" WHERE ar.search @@ ");
        push_tsquery(qb, search);
    }

    fn push_article_rank(qb: &mut QueryBuilder<'_, Postgres>, search: &str) {
        qb.push(" ORDER BY ts_rank(ar.search, ");
        push_tsquery(qb, search);
        qb.push(") DESC, ar.id");
    }

    /// The trigram index (pg_trgm) serves LIKE itself.
    fn push_ticket_search(qb: &mut QueryBuilder<'_, Postgres>, text: &str) {
        qb.push("t.search_text LIKE ")
            .push_bind(like_pattern(text))
            .push(" ESCAPE '\\'");
    }

    /// A sequence moves only when it hands out an id: after chosen ids it must be set.
    fn follow_explicit_ids(table: &str) -> Option<String> {
        Some(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        ))
    }
}

/// A search box as a tsquery in both languages, OR-ed: each configuration stems what it
/// knows. `websearch_to_tsquery` never fails on odd input (quotes, operators).
fn push_tsquery(qb: &mut QueryBuilder<'_, Postgres>, text: &str) {
    qb.push("(websearch_to_tsquery('russian', ")
        .push_bind(text.to_owned())
        .push(") || websearch_to_tsquery('english', ")
        .push_bind(text.to_owned())
        .push("))");
}
