//! Presence shared through the database (PostgreSQL only: an SQLite file has one node).
//! Each node keeps its watchers of a ticket in one row of `presence`, rewritten when they
//! change, and then sends `NOTIFY ictdesk_presence` with just the ticket's id; the other
//! nodes read the rows. Nothing else goes over NOTIFY, which any role that may connect
//! can LISTEN to and send on: a forged notification only makes the nodes read the table
//! again, and reading or writing the table takes the desk's own role (see
//! `deploy/README.md`). The lists are also beyond NOTIFY's 8 000-byte payload limit,
//! which a large ticket's list used to exceed.

use std::collections::HashMap;

use sqlx::PgPool;

use crate::{
    log::{Database, EventLog, postgres::PRESENCE_CHANNEL},
    presence::{PresenceEntry, RemoteLists},
};

/// One node's rows in the shared table.
pub(crate) struct PresenceTable {
    writer: PgPool,
    reader: PgPool,
    node: String,
}

type Row = (String, i64, String);

/// A row's list; an unreadable one (a newer node's format, say) shows nobody.
fn entries(node: &str, json: &str) -> Vec<PresenceEntry> {
    serde_json::from_str(json).unwrap_or_else(|error| {
        tracing::warn!(node, %error, "ignoring an unreadable presence row");
        Vec::new()
    })
}

impl PresenceTable {
    /// The table, where the log's database has one (PostgreSQL).
    pub fn of(log: &EventLog, node: &str) -> Option<Self> {
        match log.database() {
            Database::Postgres(db) => Some(Self {
                writer: db.pool.clone(),
                reader: db.reader.clone(),
                node: node.to_owned(),
            }),
            Database::Sqlite(_) => None,
        }
    }

    /// Replaces this node's list of a ticket (none: its row goes) and tells the others.
    pub async fn publish(&self, ticket_id: i64, entries: &[PresenceEntry]) -> sqlx::Result<()> {
        let viewers =
            serde_json::to_string(entries).map_err(|error| sqlx::Error::Encode(error.into()))?;
        let mut tx = self.writer.begin().await?;
        if entries.is_empty() {
            sqlx::query("DELETE FROM presence WHERE ticket_id = $1 AND node = $2")
                .bind(ticket_id)
                .bind(&self.node)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO presence (ticket_id, node, viewers) VALUES ($1, $2, $3) \
                 ON CONFLICT (ticket_id, node) DO UPDATE SET viewers = excluded.viewers",
            )
            .bind(ticket_id)
            .bind(&self.node)
            .bind(viewers)
            .execute(&mut *tx)
            .await?;
        }
        notify(&mut tx, ticket_id).await?;
        tx.commit().await
    }

    /// Removes every row of this node (at start-up: what a previous process of the same
    /// name left; at shutdown: its own) and tells the others.
    pub async fn withdraw(&self) -> sqlx::Result<()> {
        let mut tx = self.writer.begin().await?;
        let tickets: Vec<i64> =
            sqlx::query_scalar("DELETE FROM presence WHERE node = $1 RETURNING ticket_id")
                .bind(&self.node)
                .fetch_all(&mut *tx)
                .await?;
        for ticket_id in tickets {
            notify(&mut tx, ticket_id).await?;
        }
        tx.commit().await
    }

    /// The other live nodes' lists of one ticket.
    pub async fn ticket(&self, ticket_id: i64, alive_since_ms: i64) -> sqlx::Result<RemoteLists> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT p.node, p.ticket_id, p.viewers FROM presence p JOIN nodes n ON n.node = p.node \
             WHERE p.ticket_id = $1 AND p.node <> $2 AND n.seen_at_ms >= $3",
        )
        .bind(ticket_id)
        .bind(&self.node)
        .bind(alive_since_ms)
        .fetch_all(&self.reader)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(node, _, json)| {
                let entries = entries(&node, &json);
                (node, entries)
            })
            .collect())
    }

    /// The other live nodes' lists of every ticket.
    pub async fn all(&self, alive_since_ms: i64) -> sqlx::Result<HashMap<i64, RemoteLists>> {
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT p.node, p.ticket_id, p.viewers FROM presence p JOIN nodes n ON n.node = p.node \
             WHERE p.node <> $1 AND n.seen_at_ms >= $2",
        )
        .bind(&self.node)
        .bind(alive_since_ms)
        .fetch_all(&self.reader)
        .await?;
        let mut all: HashMap<i64, RemoteLists> = HashMap::new();
        for (node, ticket_id, json) in rows {
            let entries = entries(&node, &json);
            all.entry(ticket_id).or_default().insert(node, entries);
        }
        Ok(all)
    }

    /// Deletes the rows of nodes that stopped reporting before `gone_before_ms` (killed,
    /// not stopped): nobody shows them any more, this keeps the table small.
    pub async fn forget_gone_nodes(&self, gone_before_ms: i64) -> sqlx::Result<()> {
        sqlx::query(
            "DELETE FROM presence WHERE node NOT IN (SELECT node FROM nodes WHERE seen_at_ms >= $1)",
        )
        .bind(gone_before_ms)
        .execute(&self.writer)
        .await?;
        Ok(())
    }
}

/// Delivered at commit, after the rows are visible.
async fn notify(conn: &mut sqlx::PgConnection, ticket_id: i64) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(PRESENCE_CHANNEL)
        .bind(ticket_id.to_string())
        .execute(conn)
        .await?;
    Ok(())
}
