//! One clock (issue 18 point 3): the times that nodes compare with each other — the
//! login attempt limit, when a session expires — come from the database. A node whose
//! clock is ten minutes ahead once ignored the failures the other nodes recorded.

use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{
    desk::Desk,
    error::{Error, Result},
    timestamps,
};

impl Desk {
    /// The database's clock.
    pub async fn database_now(&self) -> Result<OffsetDateTime> {
        let now = self.store.now().await?;
        OffsetDateTime::parse(&now, &Rfc3339)
            .map_err(|error| Error::Internal(format!("the database's time '{now}': {error}")))
    }

    /// How far this node's clock is ahead of the database's (negative: behind).
    pub async fn clock_skew(&self) -> Result<time::Duration> {
        let before = timestamps::now();
        let database = self.database_now().await?;
        let after = timestamps::now();
        // The database read its clock somewhere between the two local readings.
        let local = before + (after - before) / 2;
        Ok(local - database)
    }
}
