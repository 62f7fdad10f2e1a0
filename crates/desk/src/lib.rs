//! The service desk domain of ictdesk: tickets, comments, users, equipment, locations,
//! categories, knowledge articles, system notifications and history.
//!
//! Every change is one call on [`Desk`] that, in one transaction, checks permission,
//! validates, writes, records history and appends exactly one event to the hub's log.

pub mod articles;
pub mod audience;
pub mod auth;
pub mod categories;
mod choice;
pub mod comments;
pub mod demo;
mod desk;
pub mod equipment;
pub mod error;
pub mod events;
pub mod history;
pub mod locations;
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
