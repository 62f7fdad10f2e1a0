//! The service desk domain of ictdesk: tickets, comments, users, equipment, locations,
//! categories, knowledge articles, system notifications and history.
//!
//! Every change is one call on [`Desk`] that, in one transaction, checks permission,
//! validates, writes, records history and appends exactly one event to the hub's log,
//! then commits and wakes the hub — through the one change path, `desk::Change`.
//! A call that fails changes nothing and appends nothing.
//!
//! Wiring (in the binary): connect once, share one [`ictdesk_hub::EventLog`] between the
//! hub and the desk (committing wakes the hub's tailer through it):
//!
//! ```ignore
//! let database = ictdesk_hub::Database::connect(url).await?;
//! let log = database.event_log();
//! let desk = Desk::open(&database, log.clone(), DeskOptions::default()).await?;
//! let hub = Hub::start(config, log, app, identify).await?;
//! ```
//!
//! Which event a change emits, and who receives it: `docs/events.md`; the types and
//! audiences themselves are in [`events`].
//!
//! A ticket's event may also call for mail, written to the outbox in the same
//! transaction (`mail`); mail comes in through [`Desk::receive_mail`].
//!
//! Markdown is stored as written; rendering it (safely) is the web layer's job.

pub mod articles;
pub mod attachments;
pub mod audience;
pub mod auth;
pub mod categories;
mod choice;
pub mod clock;
pub mod comments;
pub mod demo;
mod desk;
pub mod equipment;
pub mod error;
pub mod events;
pub mod files;
pub mod first_run;
pub mod history;
pub mod inbox;
pub mod locations;
pub mod login_limit;
pub mod mail;
pub mod notifications;
pub mod passwords;
pub mod patch;
pub mod person_card;
pub mod seed;
pub mod storage;
pub mod teams;
pub mod tickets;
pub mod timestamps;
pub mod users;

pub use choice::UnknownChoice;
pub use desk::{Desk, DeskOptions};
pub use error::{Error, ErrorKind, FieldErrors, Result};
pub use passwords::PasswordCost;
pub use storage::{Page, Paged};
