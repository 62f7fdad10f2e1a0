//! [`Desk`]: the service layer. One value per server (cheap to clone); every public
//! change is one call that opens a transaction, checks permission, validates, writes,
//! records history, appends exactly one event, and commits — or changes nothing.

use std::{sync::Arc, time::Duration};

use ictdesk_hub::{Database, EventLog};

use crate::{
    error::{Error, Result},
    passwords::{PasswordCost, Passwords},
    storage::{self, Storage, Transaction},
    users::{Role, User, UserStatus},
};

#[derive(Debug, Clone, Copy)]
pub struct DeskOptions {
    pub password_cost: PasswordCost,
    /// How long a session lasts without logging in again.
    pub session_lifetime: Duration,
}

impl Default for DeskOptions {
    fn default() -> Self {
        Self {
            password_cost: PasswordCost::default(),
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

#[derive(Clone)]
pub struct Desk {
    pub(crate) store: Arc<dyn Storage>,
    log: EventLog,
    pub(crate) passwords: Passwords,
    pub(crate) session_lifetime: Duration,
}

impl Desk {
    /// Brings the desk's tables up to date. `log` must be the same [`EventLog`] the hub
    /// was started with: committing wakes its tailer.
    pub async fn open(database: &Database, log: EventLog, options: DeskOptions) -> Result<Self> {
        let store = storage::for_database(database);
        store.migrate().await?;
        Ok(Self {
            store,
            log,
            passwords: Passwords::new(options.password_cost),
            session_lifetime: options.session_lifetime,
        })
    }

    /// The read side, for callers that need a query the services do not offer.
    pub fn storage(&self) -> &dyn Storage {
        self.store.as_ref()
    }

    pub fn event_log(&self) -> &EventLog {
        &self.log
    }

    pub(crate) async fn begin(&self) -> Result<Box<dyn Transaction>> {
        self.store.begin().await
    }

    /// Commits and wakes the hub's tailer, which delivers the appended event.
    pub(crate) async fn commit(&self, tx: Box<dyn Transaction>) -> Result<()> {
        tx.commit().await?;
        self.log.committed();
        Ok(())
    }
}

/// Permission checks shared by the services (SPEC §3, issue 3 point 4).
pub(crate) fn require_active(actor: &User) -> Result<()> {
    if actor.status == UserStatus::Blocked {
        return Err(Error::forbidden("this account is blocked"));
    }
    Ok(())
}

pub(crate) fn require_staff(actor: &User, what: &str) -> Result<()> {
    require_active(actor)?;
    if !actor.role.is_staff() {
        return Err(Error::forbidden(format!(
            "only agents and admins can {what}"
        )));
    }
    Ok(())
}

pub(crate) fn require_admin(actor: &User, what: &str) -> Result<()> {
    require_active(actor)?;
    if actor.role != Role::Admin {
        return Err(Error::forbidden(format!("only admins can {what}")));
    }
    Ok(())
}

/// A stale version: refused, naming who changed the object since.
pub(crate) fn check_version(
    expected: Option<i64>,
    current: i64,
    changed_by: Option<&str>,
) -> Result<()> {
    match expected {
        Some(expected) if expected != current => Err(Error::Conflict {
            changed_by: changed_by.unwrap_or("someone else").to_owned(),
        }),
        _ => Ok(()),
    }
}
