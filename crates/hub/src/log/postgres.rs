//! PostgreSQL backend. Several nodes share one database: each appends under a
//! transaction-level advisory lock, so that ids become visible in commit order, and
//! announces the commit with `NOTIFY`, which every node's tailer listens to.

use std::time::Duration;

use async_trait::async_trait;
use sqlx::{
    PgConnection,
    postgres::{PgListener, PgPool, PgPoolOptions},
};
use tokio_util::sync::CancellationToken;

use super::{LogBackend, NodeRecord, Result, Signals};
use crate::event::{NewEvent, StoredEvent, timestamp_now};

/// The channel every node listens on; the payload is the new id (for debugging only:
/// the tailer always reads the log itself).
pub const NOTIFY_CHANNEL: &str = "ictdesk_events";
/// The channel of presence snapshots between nodes (never stored).
pub const PRESENCE_CHANNEL: &str = "ictdesk_presence";

/// Arbitrary, fixed key of the advisory lock that serializes appends.
const APPEND_LOCK_KEY: i64 = 0x1C7D_E5C0;

#[derive(Clone, Debug)]
pub struct PostgresDatabase {
    pub pool: PgPool,
}

impl PostgresDatabase {
    pub async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await?;
        Ok(Self { pool })
    }
}

/// Appends `event` inside the caller's transaction and returns its id.
///
/// Why the lock: with a plain sequence, transaction A may take id 7 and transaction B
/// id 8, and B commit first; a reader that has seen 8 would then never look at 7. The
/// lock is held until the caller's transaction ends, so the next append cannot take an
/// id before this one is committed or rolled back. Append as the last step of a
/// transaction to keep the lock short.
pub async fn append(conn: &mut PgConnection, event: &NewEvent) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO events (type, created_at, data, audience, app, channel, except_socket, user_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(event.kind.as_str())
    .bind(timestamp_now())
    .bind(event.data.get())
    .bind(event.audience_json())
    .bind(event.topic.as_ref().map(|topic| topic.app.as_str()))
    .bind(event.topic.as_ref().map(|topic| topic.channel.as_str()))
    .bind(event.topic.as_ref().and_then(|topic| topic.except_socket.as_deref()))
    .bind(event.topic.as_ref().and_then(|topic| topic.user_id.as_deref()))
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(NOTIFY_CHANNEL)
        .bind(id.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(id)
}

#[async_trait]
impl LogBackend for PostgresDatabase {
    async fn migrate(&self) -> Result<()> {
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    async fn append(&self, event: &NewEvent) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = append(&mut tx, event).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn read_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query_as(
            "SELECT id, type, created_at, data, audience, app, channel, except_socket, user_id FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    async fn head(&self) -> Result<i64> {
        let head = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0)::BIGINT FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(head)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    fn watch_other_processes(&self, signals: Signals, stop: CancellationToken) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = listen(pool, signals) => {}
            }
        });
    }

    async fn publish_presence(&self, payload: &str) -> Result<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(PRESENCE_CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn upsert_node(&self, node: &NodeRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO nodes (node, clients, started_at, seen_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (node) DO UPDATE SET clients = excluded.clients, \
             started_at = excluded.started_at, seen_at_ms = excluded.seen_at_ms",
        )
        .bind(&node.node)
        .bind(node.clients)
        .bind(&node.started_at)
        .bind(node.seen_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn nodes(&self, seen_since_ms: i64) -> Result<Vec<NodeRecord>> {
        let nodes = sqlx::query_as(
            "SELECT node, clients, started_at, seen_at_ms FROM nodes WHERE seen_at_ms >= $1 ORDER BY node",
        )
        .bind(seen_since_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(nodes)
    }

    async fn remove_node(&self, node: &str) -> Result<()> {
        sqlx::query("DELETE FROM nodes WHERE node = $1")
            .bind(node)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Forwards every NOTIFY: commits wake the tailer, presence snapshots go to the hub.
/// When the connection drops, notifications sent meanwhile are lost, so every
/// (re)connection also wakes the tailer, which then reads what it missed from the log;
/// presence heals with the nodes' periodic snapshots.
async fn listen(pool: PgPool, signals: Signals) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                match listener
                    .listen_all([NOTIFY_CHANNEL, PRESENCE_CHANNEL])
                    .await
                {
                    Ok(()) => {
                        signals.wake.notify_one();
                        forward(&mut listener, &signals).await;
                    }
                    Err(error) => tracing::warn!(%error, "LISTEN failed"),
                }
            }
            Err(error) => tracing::warn!(%error, "cannot listen for PostgreSQL notifications"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Forwards notifications until the listener fails.
async fn forward(listener: &mut PgListener, signals: &Signals) {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) if notification.channel() == PRESENCE_CHANNEL => {
                let _dropped_when_behind =
                    signals.presence.try_send(notification.payload().to_owned());
            }
            Ok(Some(_)) => signals.wake.notify_one(),
            Ok(None) => {
                tracing::warn!("lost the PostgreSQL notification connection; reconnecting");
                signals.wake.notify_one();
            }
            Err(error) => {
                tracing::warn!(%error, "PostgreSQL notifications failed");
                return;
            }
        }
    }
}
