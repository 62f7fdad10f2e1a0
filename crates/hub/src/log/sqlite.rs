//! SQLite backend. One writer connection (SQLite allows one writer at a time anyway;
//! queueing in the pool avoids `SQLITE_BUSY` and the deferred-transaction upgrade
//! failures of WAL mode) and a pool of readers.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    SqliteConnection,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
    },
};
use tokio_util::sync::CancellationToken;

use super::{LogBackend, NodeRecord, Result, Signals};
use crate::event::{NewEvent, StoredEvent, timestamp_now};

#[derive(Clone, Debug)]
pub struct SqliteDatabase {
    /// The single connection that writes; open write transactions with this.
    pub writer: SqlitePool,
    pub reader: SqlitePool,
}

impl SqliteDatabase {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before the change is acknowledged
            // (docs/architecture.md, SQLite).
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self { writer, reader })
    }
}

/// Appends `event` inside the caller's transaction (or connection) and returns its id.
/// SQLite has one writer at a time, so ids become visible in commit order by themselves.
pub async fn append(conn: &mut SqliteConnection, event: &NewEvent) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "INSERT INTO events (type, created_at, data, audience, app, channel, except_socket, user_id) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(event.kind.as_str())
    .bind(timestamp_now())
    .bind(event.data.get())
    .bind(event.audience_json())
    .bind(event.topic.as_ref().map(|topic| topic.app.as_str()))
    .bind(event.topic.as_ref().map(|topic| topic.channel.as_str()))
    .bind(event.topic.as_ref().and_then(|topic| topic.except_socket.as_deref()))
    .bind(event.topic.as_ref().and_then(|topic| topic.user_id.as_deref()))
    .fetch_one(conn)
    .await
}

const UPSERT_NODE: &str = "INSERT INTO nodes (node, clients, started_at, seen_at_ms) VALUES (?, ?, ?, ?) \
     ON CONFLICT (node) DO UPDATE SET clients = excluded.clients, started_at = excluded.started_at, \
     seen_at_ms = excluded.seen_at_ms";

#[async_trait]
impl LogBackend for SqliteDatabase {
    async fn migrate(&self) -> Result<()> {
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        // The desk keeps its own migrations in the same database.
        migrator.set_ignore_missing(true);
        migrator.run(&self.writer).await?;
        Ok(())
    }

    async fn append_all(&self, events: &[NewEvent]) -> Result<Vec<i64>> {
        let mut tx = self.writer.begin().await?;
        let mut ids = Vec::with_capacity(events.len());
        for event in events {
            ids.push(append(&mut tx, event).await?);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn read_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query_as(
            "SELECT id, type, created_at, data, audience, app, channel, except_socket, user_id FROM events WHERE id > ? ORDER BY id LIMIT ?",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows)
    }

    async fn head(&self) -> Result<i64> {
        let head = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
            .fetch_one(&self.reader)
            .await?;
        Ok(head)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    /// An SQLite file belongs to one server: there is no other node to hear from. The
    /// tailer's periodic check covers the `ictdesk` admin commands writing to it.
    fn watch_other_processes(&self, _signals: Signals, _stop: CancellationToken) {}

    async fn upsert_node(&self, node: &NodeRecord) -> Result<()> {
        sqlx::query(UPSERT_NODE)
            .bind(&node.node)
            .bind(node.clients)
            .bind(&node.started_at)
            .bind(node.seen_at_ms)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn nodes(&self, seen_since_ms: i64) -> Result<Vec<NodeRecord>> {
        let nodes = sqlx::query_as("SELECT node, clients, started_at, seen_at_ms FROM nodes WHERE seen_at_ms >= ? ORDER BY node")
            .bind(seen_since_ms)
            .fetch_all(&self.reader)
            .await?;
        Ok(nodes)
    }

    async fn remove_node(&self, node: &str) -> Result<()> {
        sqlx::query("DELETE FROM nodes WHERE node = ?")
            .bind(node)
            .execute(&self.writer)
            .await?;
        Ok(())
    }
}
