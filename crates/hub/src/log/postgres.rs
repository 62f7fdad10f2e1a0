//! PostgreSQL backend. Several nodes share one database: each appends under a
//! transaction-level advisory lock, so that ids become visible in commit order, and
//! announces the commit with `NOTIFY`, which every node's tailer listens to.

use std::{str::FromStr, time::Duration};

use async_trait::async_trait;
use sqlx::{
    PgConnection,
    postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions},
};
use tokio_util::sync::CancellationToken;

use super::{LogBackend, NodeRecord, Result, Signals};
use crate::event::{NewEvent, StoredEvent, Topic, timestamp_now};

/// The channel every node listens on; the payload is the new id (for debugging only:
/// the tailer always reads the log itself).
pub const NOTIFY_CHANNEL: &str = "ictdesk_events";
/// The channel on which a node says that its presence on a ticket changed (the payload
/// is the ticket's id; the lists are in the `presence` table, `cluster.rs`).
pub const PRESENCE_CHANNEL: &str = "ictdesk_presence";

/// Arbitrary, fixed key of the advisory lock that serializes appends.
const APPEND_LOCK_KEY: i64 = 0x1C7D_E5C0;

/// A session that sits idle inside a transaction this long is ended by PostgreSQL, which
/// rolls the transaction back and releases its locks. No transaction of ours waits on
/// anything outside the database, so only a stalled or cut-off node (SIGSTOP, a VM
/// pause, a partition) gets there — and it would otherwise hold the append lock, and
/// every node's writes, for as long as it stays stalled (issue 18, point 1).
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "2s";
/// The longest wait for any lock, the append lock included: longer than the idle
/// timeout above, so that a write waiting behind a stalled node goes through once
/// PostgreSQL has ended that node's session, and shorter than the hub's publish timeout
/// (`--websocket-timeout`, 5 s), so that a publisher hears the database's reason.
const LOCK_TIMEOUT: &str = "4s";

#[derive(Clone, Debug)]
pub struct PostgresDatabase {
    /// Writes.
    pub pool: PgPool,
    /// Reads (the tailer, polling, `/healthz`, the desk's pages): a pool of their own,
    /// so that writes waiting for the append lock cannot take every connection from them.
    pub reader: PgPool,
}

impl PostgresDatabase {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?.options([
            (
                "idle_in_transaction_session_timeout",
                IDLE_IN_TRANSACTION_TIMEOUT,
            ),
            ("lock_timeout", LOCK_TIMEOUT),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        let reader = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool, reader })
    }
}

/// Appends `event` inside the caller's transaction and returns its id; see
/// [`append_all`].
pub async fn append(conn: &mut PgConnection, event: &NewEvent) -> Result<i64, sqlx::Error> {
    let ids = append_all(conn, std::slice::from_ref(event)).await?;
    ids.first()
        .copied()
        .ok_or_else(|| sqlx::Error::Protocol("the append returned no id".into()))
}

/// Appends `events` in this order inside the caller's transaction and returns their ids.
///
/// Why the lock: with a plain sequence, transaction A may take id 7 and transaction B
/// id 8, and B commit first; a reader that has seen 8 would then never look at 7. The
/// lock is held until the caller's transaction ends, so the next append cannot take an
/// id before this one is committed or rolled back. Append as the last step of a
/// transaction to keep the lock short; the hub's own publishes share one hold of it
/// per batch (group commit).
pub async fn append_all(
    conn: &mut PgConnection,
    events: &[NewEvent],
) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK_KEY)
        .execute(&mut *conn)
        .await?;
    // The ids first, then one INSERT of all rows with them: which id goes with which
    // event is then ours to say, not the order of RETURNING (which SQL leaves open).
    let mut ids: Vec<i64> = sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence('events', 'id')) FROM generate_series(1, $1)",
    )
    .bind(events.len() as i64)
    .fetch_all(&mut *conn)
    .await?;
    ids.sort_unstable();
    let kinds: Vec<&str> = events.iter().map(|event| event.kind.as_str()).collect();
    let data: Vec<&str> = events.iter().map(|event| event.data.get()).collect();
    let audiences: Vec<Option<String>> = events.iter().map(NewEvent::audience_json).collect();
    let last = ids.last().copied().unwrap_or_default();
    sqlx::query(
        "WITH appended AS ( \
             INSERT INTO events (id, type, created_at, data, audience, app, channel, except_socket, user_id) \
             SELECT id, type, $3, data, audience, app, channel, except_socket, user_id \
             FROM UNNEST($1::BIGINT[], $2::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[], $7::TEXT[], $8::TEXT[], $9::TEXT[]) \
                  AS e (id, type, data, audience, app, channel, except_socket, user_id) \
         ) SELECT pg_notify($10, $11)",
    )
    .bind(&ids)
    .bind(&kinds)
    .bind(timestamp_now())
    .bind(&data)
    .bind(&audiences)
    .bind(topic_column(events, |topic| Some(topic.app.as_str())))
    .bind(topic_column(events, |topic| Some(topic.channel.as_str())))
    .bind(topic_column(events, |topic| topic.except_socket.as_deref()))
    .bind(topic_column(events, |topic| topic.user_id.as_deref()))
    .bind(NOTIFY_CHANNEL)
    .bind(last.to_string())
    .execute(&mut *conn)
    .await?;
    Ok(ids)
}

/// One column of the events' Pusher topics, `None` for an event without one.
fn topic_column<'e>(
    events: &'e [NewEvent],
    part: fn(&'e Topic) -> Option<&'e str>,
) -> Vec<Option<&'e str>> {
    events
        .iter()
        .map(|event| event.topic.as_ref().and_then(part))
        .collect()
}

#[async_trait]
impl LogBackend for PostgresDatabase {
    async fn migrate(&self) -> Result<()> {
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        migrator.set_ignore_missing(true);
        migrator.run(&self.pool).await?;
        Ok(())
    }

    async fn append_all(&self, events: &[NewEvent]) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin().await?;
        let ids = append_all(&mut tx, events).await?;
        tx.commit().await?;
        Ok(ids)
    }

    async fn read_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        let rows = sqlx::query_as(
            "SELECT id, type, created_at, data, audience, app, channel, except_socket, user_id FROM events WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await?;
        Ok(rows)
    }

    async fn head(&self) -> Result<i64> {
        let head = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0)::BIGINT FROM events")
            .fetch_one(&self.reader)
            .await?;
        Ok(head)
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
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
        .fetch_all(&self.reader)
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

/// Forwards every NOTIFY: commits wake the tailer, presence notices go to the hub.
/// When the connection drops, notifications sent meanwhile are lost, so every
/// (re)connection also wakes the tailer, which then reads what it missed from the log;
/// presence heals with the nodes' periodic reads of each other's lists.
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
