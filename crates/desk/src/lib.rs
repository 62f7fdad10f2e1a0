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
//! Which event a change emits (exactly one per call, SPEC §3):
//! * ticket edits: `ticket_status_changed` when the status changed (whatever else changed
//!   with it), else `ticket_assigned` when the assignee changed, else — priority, title,
//!   category, … — `ticket_status_changed` with equal old and new status; all carry the
//!   full `changes` list (`{field, old, new}`);
//! * user edits (role, name, locale, password): `user_status_changed`, to admins;
//! * new equipment: `equipment_status_changed` with `old_status: null`; equipment edits:
//!   status changed → `equipment_status_changed`, else moved →
//!   `equipment_location_changed`, else `equipment_status_changed` with equal statuses;
//! * logout and revoking an API token: `user_session_ended`, to that user only — not one
//!   of SPEC §2's types, but every node's open connections of theirs must identify
//!   again at that point of the log;
//! * locations and categories have no event type (SPEC §2 lists none); logins neither.
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
pub mod history;
pub mod inbox;
pub mod locations;
pub mod login_limit;
pub mod notifications;
pub mod params;
pub mod passwords;
pub mod patch;
pub mod storage;
pub mod tickets;
pub mod timestamps;
pub mod users;

pub use choice::UnknownChoice;
pub use desk::{Desk, DeskOptions};
pub use error::{Error, ErrorKind, FieldErrors, Result};
pub use passwords::PasswordCost;
pub use storage::{Page, Paged};
