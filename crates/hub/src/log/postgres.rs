//! PostgreSQL backend. Several nodes share one database: each appends under a
//! transaction-level advisory lock, so that ids become visible in commit order, and
//! announces the commit with `NOTIFY`, which every node's tailer listens to.

use std::{sync::Arc, time::Duration};

use async_trait::async_trait;
use sqlx::{
    PgConnection,
    postgres::{PgListener, PgPool, PgPoolOptions},
};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{LogBackend, Result};
use crate::event::{NewEvent, StoredEvent, timestamp_now};

/// The channel every node listens on; the payload is the new id (for debugging only:
/// the tailer always reads the log itself).
pub const NOTIFY_CHANNEL: &str = "ictdesk_events";

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
        "INSERT INTO events (type, created_at, data, audience) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(event.kind.as_str())
    .bind(timestamp_now())
    .bind(event.data.get())
    .bind(event.audience_json())
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
            "SELECT id, type, created_at, data, audience FROM events WHERE id > $1 ORDER BY id LIMIT $2",
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

    fn watch_other_processes(&self, wake: Arc<Notify>, stop: CancellationToken) {
        let pool = self.pool.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = listen(pool, wake) => {}
            }
        });
    }
}

/// Forwards every NOTIFY to the tailer. When the connection drops, notifications sent
/// meanwhile are lost, so every (re)connection also wakes the tailer, which then reads
/// whatever it missed from the log.
async fn listen(pool: PgPool, wake: Arc<Notify>) {
    loop {
        match PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(error) = listener.listen(NOTIFY_CHANNEL).await {
                    tracing::warn!(%error, "LISTEN {NOTIFY_CHANNEL} failed");
                } else {
                    wake.notify_one();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => wake.notify_one(),
                            Ok(None) => {
                                tracing::warn!(
                                    "lost the PostgreSQL notification connection; reconnecting"
                                );
                                wake.notify_one();
                            }
                            Err(error) => {
                                tracing::warn!(%error, "PostgreSQL notifications failed");
                                break;
                            }
                        }
                    }
                }
            }
            Err(error) => tracing::warn!(%error, "cannot listen for PostgreSQL notifications"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
