//! [`Desk`]: the service layer. One value per server (cheap to clone); every public
//! change is one call that opens a transaction, checks permission, validates, writes,
//! records history, appends exactly one event, and commits — or changes nothing.
//!
//! The one change path is [`Change`]: it owns the transaction, and its `finish` is the
//! only way to commit a service's work — with the work's one event, then waking the hub.

use std::{sync::Arc, time::Duration};

use ictdesk_hub::{Database, EventLog, NewEvent};

use crate::{
    attachments::FileOptions,
    error::{Error, FieldErrors, Result},
    inbox,
    mail::{Mail, MailSettings},
    passwords::{PasswordCost, Passwords},
    storage::{self, Storage, Transaction},
    users::{Role, User, UserStatus},
};

#[derive(Debug, Clone)]
pub struct DeskOptions {
    pub password_cost: PasswordCost,
    /// How long a session lasts without logging in again.
    pub session_lifetime: Duration,
    /// Where attachments' bytes live and how large one may be.
    pub files: FileOptions,
    /// Sending mail; `None`: e-mail is off.
    pub mail: Option<MailSettings>,
}

impl Default for DeskOptions {
    fn default() -> Self {
        Self {
            password_cost: PasswordCost::default(),
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            files: FileOptions::default(),
            mail: None,
        }
    }
}

#[derive(Clone)]
pub struct Desk {
    pub(crate) store: Arc<dyn Storage>,
    log: EventLog,
    pub(crate) passwords: Passwords,
    pub(crate) session_lifetime: Duration,
    pub(crate) file_options: FileOptions,
    pub(crate) mail: Mail,
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
            file_options: options.files,
            mail: Mail::new(options.mail),
        })
    }

    /// The read side, for callers that need a query the services do not offer.
    pub fn storage(&self) -> &dyn Storage {
        self.store.as_ref()
    }

    pub fn event_log(&self) -> &EventLog {
        &self.log
    }

    /// The largest file an upload may carry (`--max-upload-size`).
    pub fn max_upload_size(&self) -> u64 {
        self.file_options.max_upload_size
    }

    /// Opens a change: the one path by which the desk writes. See [`Change`].
    pub(crate) async fn begin_change(&self) -> Result<Change<'_>> {
        Ok(Change {
            tx: self.store.begin().await?,
            kept: Kept::default(),
            log: &self.log,
            mail: &self.mail,
        })
    }
}

/// What a change's work did: written, with the one event that tells the live pages
/// about it — or nothing to write (an edit equal to what is stored).
pub(crate) enum Outcome<T> {
    Changed { value: T, event: NewEvent },
    Unchanged(T),
}

impl<T> Outcome<T> {
    pub(crate) fn changed(value: T, event: NewEvent) -> Self {
        Self::Changed { value, event }
    }
}

/// A change in progress, and the only owner of its transaction. A service's work gets
/// [`Change::tx`], through which it reads and writes but can neither append nor commit,
/// and returns an [`Outcome`]; [`Change::finish`] then commits with that outcome's one
/// event and wakes the hub's tailer, which delivers it at once. Dropping a change, or
/// finishing it unchanged, rolls everything back and announces nothing.
///
/// Writes that no live page shows (sessions, API tokens, failed logins, locations,
/// categories) use [`Change::commit`] with no event kept; seeding the demo keeps the
/// events of many steps in one transaction ([`Change::steps`]).
///
/// The kept events may call for inbox entries and mail: `commit` writes both in the same
/// transaction (`crate::inbox`, `crate::mail::outbox`), so that a change, its entries and
/// its mails commit together.
pub(crate) struct Change<'d> {
    tx: Box<dyn Transaction>,
    kept: Kept,
    log: &'d EventLog,
    mail: &'d Mail,
}

/// The events of a change's steps so far, appended in order at commit.
#[derive(Default)]
pub(crate) struct Kept(Vec<NewEvent>);

impl Kept {
    /// Keeps one step's event (several changes in one transaction).
    pub(crate) fn keep<T>(&mut self, outcome: Outcome<T>) -> T {
        match outcome {
            Outcome::Changed { value, event } => {
                self.0.push(event);
                value
            }
            Outcome::Unchanged(value) => value,
        }
    }
}

impl Change<'_> {
    pub(crate) fn tx(&mut self) -> &mut dyn Transaction {
        self.tx.as_mut()
    }

    /// The transaction and the kept events apart, for a change of many steps (seeding
    /// the demo): `kept.keep(create_user_in(tx, …).await?)`.
    pub(crate) fn steps(&mut self) -> (&mut dyn Transaction, &mut Kept) {
        (self.tx.as_mut(), &mut self.kept)
    }

    /// The service call's end: commits with the outcome's event and the mails it calls
    /// for, or rolls back when nothing changed.
    pub(crate) async fn finish<T>(mut self, outcome: Outcome<T>) -> Result<T> {
        let value = self.kept.keep(outcome);
        if !self.kept.0.is_empty() {
            self.commit().await?;
        }
        Ok(value)
    }

    /// Writes the inbox entries and the mails the kept events call for (see `inbox`,
    /// `mail::outbox`), appends the events in order, commits, and wakes the hub and
    /// this node's mail sender if there is something for them.
    pub(crate) async fn commit(mut self) -> Result<()> {
        for event in &self.kept.0 {
            inbox::record(self.tx.as_mut(), event).await?;
        }
        let queued = self.mail.queue_for(self.tx.as_mut(), &self.kept.0).await?;
        self.tx.commit(&self.kept.0).await?;
        if !self.kept.0.is_empty() {
            self.log.committed();
        }
        if queued > 0 {
            self.mail.wake();
        }
        Ok(())
    }
}

/// Permission checks shared by the services (docs/events.md, "Who receives what").
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
            fields: FieldErrors::new(),
        }),
        _ => Ok(()),
    }
}
