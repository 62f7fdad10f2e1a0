//! The web crate's integration tests: one binary, a module per area.

mod attachments;
mod blocked;
mod broadcasting;
mod broadcasting_rights;
mod csrf;
mod get_tickets;
mod hardening;
mod helpers;
mod inbox;
mod knowledge;
mod leaks;
mod live_rights;
mod login;
mod mail;
mod pages;
mod postgres;
mod session;
mod tickets;
mod validation;
