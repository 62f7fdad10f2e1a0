//! Retention of the event log: events older than `retain_days`, or beyond the newest
//! `retain_events`, are deleted — oldest first, a small batch per transaction, on one
//! node at a time. The desk's own records (tickets, their history) live in tables of
//! their own and are never touched.
//!
//! Only a prefix of the log is ever deleted, and how far is kept in `events_pruned`
//! (the *horizon*, in the same transaction as each batch). A client resuming from
//! before the horizon cannot be given a gap-free stream: the feed answers it with a
//! reset instead (WebSocket `{"type":"reset","last_id":N}`, polling `"reset":true`), and
//! the page re-fetches what it shows and continues from N. The newest event is always
//! kept, so that a restarted node finds the head where it was.
//!
//! Why this never blocks appends: a batch deletes old rows by primary key and takes
//! neither the append lock nor any lock on new rows; on SQLite (one writer) a batch is a
//! short write between appends, with a pause after it.

use std::time::{Duration, Instant};

use sqlx::{Executor, Postgres, Sqlite};
use time::OffsetDateTime;

use crate::{
    Hub,
    event::timestamp,
    log::{Database, EventLog, LogError, PostgresDatabase, SqliteDatabase},
    supervisor::TaskError,
};

/// Events deleted per transaction.
const BATCH: i64 = 500;
/// Rest between batches at least, so that appends waiting for SQLite's one writer go
/// first…
const PAUSE: Duration = Duration::from_millis(20);
/// …and in proportion to how long the batch took: pruning a large backlog works at most
/// a fifth of the time, leaving the database to the appends (bench/retention.sh measures
/// publishing while a backlog is pruned against a hub that keeps everything).
const REST_PER_WORK: u32 = 4;
/// PostgreSQL advisory lock that lets one node prune at a time (any other node skips
/// its round while a batch holds it).
pub const PRUNE_LOCK_KEY: i64 = 0x1C7D_E5C1;

/// What the log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events older than this many days go (0: no age limit).
    pub days: u32,
    /// Only the newest this many events stay (0: no count limit).
    pub events: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            days: 30,
            events: 0,
        }
    }
}

impl Retention {
    fn keeps_everything(&self) -> bool {
        self.days == 0 && self.events == 0
    }
}

/// The retention task (supervised): a round at start-up and then every
/// `retention_interval`.
pub(crate) async fn run(hub: Hub) -> Result<(), TaskError> {
    let inner = &hub.inner;
    let retention = inner.config.retention;
    if retention.keeps_everything() {
        return Ok(());
    }
    let mut every = tokio::time::interval(inner.config.retention_interval);
    loop {
        tokio::select! {
            () = inner.shutdown.cancelled() => return Ok(()),
            _ = every.tick() => {}
        }
        let pruned = prune(&hub, retention).await?;
        if pruned > 0 {
            inner.metrics.events_pruned.inc_by(pruned);
            tracing::info!(pruned, "event log pruned");
        }
    }
}

/// One round: batch after batch until nothing is due (or another node prunes).
async fn prune(hub: &Hub, retention: Retention) -> Result<u64, LogError> {
    let inner = &hub.inner;
    let store = Store::of(&inner.log);
    let limits = store.limits(retention).await?;
    // Each batch reads after the previous one: on PostgreSQL the deleted rows stay in
    // the index until vacuumed, and reading from the start would walk over all of them.
    let mut after = store.horizon().await?;
    let mut pruned = 0;
    loop {
        let started = Instant::now();
        let batch = store.prune_batch(&limits, after).await?;
        pruned += batch.deleted;
        after = batch.through;
        if batch.deleted < BATCH as u64 {
            return Ok(pruned);
        }
        let rest = PAUSE.max(started.elapsed() * REST_PER_WORK);
        tokio::select! {
            () = inner.shutdown.cancelled() => return Ok(pruned),
            () = tokio::time::sleep(rest) => {}
        }
    }
}

/// What one batch did.
struct Batch {
    deleted: u64,
    /// The horizon after it.
    through: i64,
}

/// The id through which `log` has been pruned (0: never).
pub(crate) async fn horizon(log: &EventLog) -> Result<i64, LogError> {
    Store::of(log).horizon().await
}

/// What a round may delete, fixed at its start (later events only make it stricter).
struct Limits {
    /// Never delete this one or later: the newest event stays.
    newest: i64,
    /// Events up to here are beyond the newest `retain_events`.
    beyond_count: i64,
    /// Events created before this (`created_at` text) are too old.
    created_before: Option<String>,
}

impl Limits {
    /// The last id of the prefix of `oldest` (id order) that may go, if any.
    fn prunable_through(&self, oldest: &[(i64, String)]) -> Option<i64> {
        oldest
            .iter()
            .take_while(|(id, created_at)| {
                *id < self.newest
                    && (*id <= self.beyond_count
                        || self
                            .created_before
                            .as_ref()
                            .is_some_and(|cutoff| created_at < cutoff))
            })
            .last()
            .map(|(id, _)| *id)
    }
}

/// The retention SQL of each backend.
enum Store<'a> {
    Sqlite(&'a SqliteDatabase),
    Postgres(&'a PostgresDatabase),
}

const NEWEST: &str = "SELECT COALESCE(MAX(id), 0) FROM events";

impl<'a> Store<'a> {
    fn of(log: &'a EventLog) -> Self {
        match log.database() {
            Database::Sqlite(db) => Store::Sqlite(db),
            Database::Postgres(db) => Store::Postgres(db),
        }
    }

    async fn limits(&self, retention: Retention) -> Result<Limits, LogError> {
        let created_before = (retention.days > 0).then(|| {
            timestamp(OffsetDateTime::now_utc() - time::Duration::days(retention.days.into()))
        });
        // The newest `events` are kept: everything up to the one before them may go.
        let offset = i64::try_from(retention.events).unwrap_or(i64::MAX);
        let (newest, beyond_count) = match self {
            Store::Sqlite(db) => (
                sqlx::query_scalar(NEWEST).fetch_one(&db.reader).await?,
                beyond_count::<Sqlite>(&db.reader, SQLITE.beyond_count, offset).await?,
            ),
            Store::Postgres(db) => (
                sqlx::query_scalar::<_, i64>(NEWEST)
                    .fetch_one(&db.pool)
                    .await?,
                beyond_count::<Postgres>(&db.pool, POSTGRES.beyond_count, offset).await?,
            ),
        };
        Ok(Limits {
            newest,
            beyond_count: if retention.events == 0 {
                0
            } else {
                beyond_count
            },
            created_before,
        })
    }

    /// Deletes the next batch due after `after`, in one transaction with the horizon
    /// (nothing when none is due or another node is pruning).
    async fn prune_batch(&self, limits: &Limits, after: i64) -> Result<Batch, LogError> {
        let through = match self {
            Store::Sqlite(db) => {
                let mut tx = db.writer.begin().await?;
                let through = delete_due::<Sqlite>(&mut *tx, limits, after, SQLITE).await?;
                tx.commit().await?;
                through
            }
            Store::Postgres(db) => {
                let mut tx = db.pool.begin().await?;
                let ours: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
                    .bind(PRUNE_LOCK_KEY)
                    .fetch_one(&mut *tx)
                    .await?;
                if !ours {
                    return Ok(Batch {
                        deleted: 0,
                        through: after,
                    });
                }
                let through = delete_due::<Postgres>(&mut *tx, limits, after, POSTGRES).await?;
                tx.commit().await?;
                through
            }
        };
        Ok(through.map_or(
            Batch {
                deleted: 0,
                through: after,
            },
            |(deleted, through)| Batch { deleted, through },
        ))
    }

    async fn horizon(&self) -> Result<i64, LogError> {
        const HORIZON: &str = "SELECT COALESCE(MAX(through), 0) FROM events_pruned";
        let through = match self {
            Store::Sqlite(db) => sqlx::query_scalar(HORIZON).fetch_one(&db.reader).await?,
            Store::Postgres(db) => {
                sqlx::query_scalar::<_, i64>(HORIZON)
                    .fetch_one(&db.pool)
                    .await?
            }
        };
        Ok(through)
    }
}

/// The id of the newest event *not* among the newest `offset` (0 if there is none).
async fn beyond_count<'e, DB>(
    executor: impl Executor<'e, Database = DB>,
    sql: &'static str,
    offset: i64,
) -> Result<i64, sqlx::Error>
where
    DB: sqlx::Database,
    i64: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB> + for<'q> sqlx::Encode<'q, DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let id: Option<i64> = sqlx::query_scalar(sql)
        .bind(offset)
        .fetch_optional(executor)
        .await?;
    Ok(id.unwrap_or(0))
}

/// The statements of one backend.
struct BatchSql {
    beyond_count: &'static str,
    oldest: &'static str,
    delete_through: &'static str,
    record_horizon: &'static str,
}

const SQLITE: BatchSql = BatchSql {
    beyond_count: "SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?",
    oldest: "SELECT id, created_at FROM events WHERE id > ? ORDER BY id LIMIT ?",
    delete_through: "DELETE FROM events WHERE id > ? AND id <= ?",
    record_horizon: "INSERT INTO events_pruned (singleton, through) VALUES (1, ?) \
         ON CONFLICT (singleton) DO UPDATE SET through = MAX(through, excluded.through)",
};

const POSTGRES: BatchSql = BatchSql {
    beyond_count: "SELECT id FROM events ORDER BY id DESC OFFSET $1 LIMIT 1",
    oldest: "SELECT id, created_at FROM events WHERE id > $1 ORDER BY id LIMIT $2",
    delete_through: "DELETE FROM events WHERE id > $1 AND id <= $2",
    record_horizon: "INSERT INTO events_pruned (singleton, through) VALUES (TRUE, $1) \
         ON CONFLICT (singleton) DO UPDATE SET through = GREATEST(events_pruned.through, excluded.through)",
};

/// Reads the oldest events after `after`, deletes the prefix that is due and moves the
/// horizon past it, on one connection (inside the caller's transaction). Returns how
/// many went and the new horizon, if any did.
async fn delete_due<DB>(
    conn: &mut DB::Connection,
    limits: &Limits,
    after: i64,
    sql: BatchSql,
) -> Result<Option<(u64, i64)>, sqlx::Error>
where
    DB: sqlx::Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    i64: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB> + for<'q> sqlx::Encode<'q, DB>,
    String: sqlx::Type<DB> + for<'r> sqlx::Decode<'r, DB>,
    for<'r> (i64, String): sqlx::FromRow<'r, DB::Row>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
{
    let oldest: Vec<(i64, String)> = sqlx::query_as(sql.oldest)
        .bind(after)
        .bind(BATCH)
        .fetch_all(&mut *conn)
        .await?;
    let Some(through) = limits.prunable_through(&oldest) else {
        return Ok(None);
    };
    sqlx::query(sql.delete_through)
        .bind(after)
        .bind(through)
        .execute(&mut *conn)
        .await?;
    sqlx::query(sql.record_horizon)
        .bind(through)
        .execute(&mut *conn)
        .await?;
    // The rows read are the oldest: those up to `through` are exactly the ones deleted.
    let deleted = oldest.iter().filter(|(id, _)| *id <= through).count() as u64;
    Ok(Some((deleted, through)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(ids: &[(i64, &str)]) -> Vec<(i64, String)> {
        ids.iter().map(|(id, at)| (*id, (*at).to_owned())).collect()
    }

    #[test]
    fn only_a_prefix_of_due_events_goes_and_never_the_newest() {
        let limits = Limits {
            newest: 9,
            beyond_count: 0,
            created_before: Some("2026-01-02T00:00:00.000Z".into()),
        };
        let oldest = rows(&[
            (1, "2026-01-01T00:00:00.000Z"),
            (2, "2026-01-01T12:00:00.000Z"),
            // A clock that was ahead: the prefix ends here, even if later ones are old.
            (4, "2026-01-03T00:00:00.000Z"),
            (5, "2026-01-01T00:00:00.000Z"),
        ]);
        assert_eq!(limits.prunable_through(&oldest), Some(2));
        let newest_only = Limits {
            newest: 1,
            ..limits
        };
        assert_eq!(newest_only.prunable_through(&oldest), None);
    }

    #[test]
    fn the_count_limit_prunes_up_to_its_bound_whatever_the_age() {
        let limits = Limits {
            newest: 9,
            beyond_count: 4,
            created_before: None,
        };
        let oldest = rows(&[(3, "2099"), (4, "2099"), (7, "2099")]);
        assert_eq!(limits.prunable_through(&oldest), Some(4));
    }
}
