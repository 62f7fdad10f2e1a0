//! What `ictdesk seed` (`crate::seed`) asks of the database: the ids to start from,
//! who and what is there already, and loading many rows at a time. Each backend
//! implements it in `bulk_body.rs`, compiled once per backend like `body.rs`.

use async_trait::async_trait;
use ictdesk_hub::Database;

use super::{postgres::PostgresStorage, sqlite::SqliteStorage};
use crate::{
    error::Result,
    seed::{Batch, Person},
};

/// The first free id of each table the seeder fills.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NextIds {
    pub user: i64,
    pub equipment: i64,
    pub article: i64,
    pub ticket: i64,
    pub comment: i64,
}

#[async_trait]
pub(crate) trait Bulk: Send + Sync {
    async fn next_ids(&self) -> Result<NextIds>;
    /// Every active user, by id.
    async fn people(&self) -> Result<Vec<Person>>;
    /// Every id of `table` (a name from the seeder's code, never from input).
    async fn ids(&self, table: &'static str) -> Result<Vec<i64>>;
    /// Writes one batch in one transaction.
    async fn load(&self, batch: &Batch) -> Result<()>;
    /// After the last batch: generated ids continue after the chosen ones, and the
    /// planner's statistics are fresh.
    async fn finish(&self) -> Result<()>;
}

pub(crate) fn bulk_for_database(database: &Database) -> Box<dyn Bulk> {
    match database {
        Database::Sqlite(db) => Box::new(SqliteStorage::new(db.clone())),
        Database::Postgres(db) => Box::new(PostgresStorage::new(db.clone())),
    }
}
