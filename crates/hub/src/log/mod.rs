//! The event log: one ordered table, `events`, appended to inside the caller's
//! transaction (the desk) or through group commit (`POST /broadcast`), and read back by
//! id. Two backends, chosen once from the database URL.

mod group_commit;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::event::{NewEvent, StoredEvent};
use group_commit::GroupCommit;

pub use postgres::PostgresDatabase;
pub use sqlite::SqliteDatabase;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The batch this append went in failed; every append of the batch gets the error.
    #[error(transparent)]
    Batch(Arc<LogError>),
    #[error("the event log's writer has stopped")]
    WriterStopped,
}

pub type Result<T, E = LogError> = std::result::Result<T, E>;

/// A connected database, shared by the hub's log and (in `serve`) the desk's storage.
#[derive(Clone, Debug)]
pub enum Database {
    Sqlite(SqliteDatabase),
    Postgres(PostgresDatabase),
}

impl Database {
    /// Connects to `sqlite://…` or `postgres://…` (also `postgresql://…`) and brings the
    /// hub's tables up to date.
    pub async fn connect(url: &str) -> Result<Self> {
        let database = if url.starts_with("sqlite:") {
            Database::Sqlite(SqliteDatabase::connect(url).await?)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Database::Postgres(PostgresDatabase::connect(url).await?)
        } else {
            return Err(LogError::UnsupportedUrl(redact_password(url)));
        };
        database.backend().migrate().await?;
        Ok(database)
    }

    fn backend(&self) -> Arc<dyn LogBackend> {
        match self {
            Database::Sqlite(db) => Arc::new(db.clone()),
            Database::Postgres(db) => Arc::new(db.clone()),
        }
    }

    /// The hub's handle on the log. Its group-commit writer runs in the hub (see
    /// [`EventLog::write_batches`]).
    pub fn event_log(&self) -> EventLog {
        EventLog {
            writer: GroupCommit::new(),
            backend: self.backend(),
            database: self.clone(),
            committed: Arc::new(Notify::new()),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for messages.
fn redact_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// What each backend does with native SQL.
#[async_trait]
pub(crate) trait LogBackend: Send + Sync + 'static {
    async fn migrate(&self) -> Result<()>;
    /// Appends `events` in this order in one transaction of their own and commits;
    /// returns their ids, in the same order.
    async fn append_all(&self, events: &[NewEvent]) -> Result<Vec<i64>>;
    /// Committed events with `id > after`, in id order.
    async fn read_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>>;
    /// The highest committed id (0 for an empty log).
    async fn head(&self) -> Result<i64>;
    async fn ping(&self) -> Result<()>;
    /// Passes on what other processes sharing the database say, until `stop`.
    fn watch_other_processes(&self, signals: Signals, stop: CancellationToken);
    async fn upsert_node(&self, node: &NodeRecord) -> Result<()>;
    /// The nodes seen since `seen_since_ms` (milliseconds since the epoch).
    async fn nodes(&self, seen_since_ms: i64) -> Result<Vec<NodeRecord>>;
    async fn remove_node(&self, node: &str) -> Result<()>;
}

/// Where a backend delivers what other processes say.
pub(crate) struct Signals {
    /// Another process committed events.
    pub wake: Arc<Notify>,
    /// Another node's notice that a ticket's presence changed (its id, as text;
    /// `cluster.rs`); dropped when the hub falls behind.
    pub presence: mpsc::Sender<String>,
}

/// A node of the cluster as it last reported itself.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct NodeRecord {
    pub node: String,
    pub clients: i64,
    pub started_at: String,
    pub seen_at_ms: i64,
}

/// The hub's handle on the log.
#[derive(Clone)]
pub struct EventLog {
    backend: Arc<dyn LogBackend>,
    /// For modules with tables of their own beside the log (Pusher presence,
    /// retention), which work in transactions of their own.
    database: Database,
    writer: GroupCommit,
    committed: Arc<Notify>,
}

impl EventLog {
    /// Appends one event, committed together with the appends made meanwhile (group
    /// commit); durable when this returns. If the caller stops waiting, the event may
    /// still be committed.
    pub async fn append(&self, event: NewEvent) -> Result<i64> {
        self.writer.append(event).await
    }

    /// Writes the appends made through [`EventLog::append`] for as long as it runs. The
    /// hub runs it under its supervisor; a program using the log without a hub runs it
    /// itself.
    pub async fn write_batches(&self) {
        self.writer
            .write_batches(self.backend.as_ref(), &self.committed)
            .await;
    }

    /// Tells the tailer that a transaction which appended events has committed. Callers
    /// that append inside their own transaction call this after `commit()`.
    pub fn committed(&self) {
        self.committed.notify_one();
    }

    pub async fn read_after(&self, after: i64, limit: u32) -> Result<Vec<StoredEvent>> {
        self.backend.read_after(after, limit).await
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    pub async fn head(&self) -> Result<i64> {
        self.backend.head().await
    }

    pub async fn ping(&self) -> Result<()> {
        self.backend.ping().await
    }

    pub(crate) fn wake_signal(&self) -> Arc<Notify> {
        self.committed.clone()
    }

    /// Starts listening to other processes; returns the other nodes' presence notices.
    pub(crate) fn watch_other_processes(&self, stop: CancellationToken) -> mpsc::Receiver<String> {
        let (presence, snapshots) = mpsc::channel(1024);
        let signals = Signals {
            wake: self.committed.clone(),
            presence,
        };
        self.backend.watch_other_processes(signals, stop);
        snapshots
    }

    pub(crate) async fn upsert_node(&self, node: &NodeRecord) -> Result<()> {
        self.backend.upsert_node(node).await
    }

    pub(crate) async fn nodes(&self, seen_since_ms: i64) -> Result<Vec<NodeRecord>> {
        self.backend.nodes(seen_since_ms).await
    }

    pub(crate) async fn remove_node(&self, node: &str) -> Result<()> {
        self.backend.remove_node(node).await
    }
}

#[cfg(test)]
mod tests {
    use super::redact_password;

    #[test]
    fn passwords_are_hidden_in_messages() {
        assert_eq!(redact_password("mysql://u:pw@h/db"), "mysql://u:***@h/db");
        assert_eq!(redact_password("mysql://u@h/db"), "mysql://u@h/db");
        assert_eq!(redact_password("nonsense"), "nonsense");
    }
}
