//! The desk's conformance suite: every test runs on SQLite, and on PostgreSQL when
//! `ICTDESK_TEST_POSTGRES_URL` is set (required under `CI=true`).

mod helpers;

mod articles;
mod attachments;
mod audiences;
mod auth;
mod change_path;
mod demo;
mod equipment;
mod inbox;
mod login_limit;
mod mail;
mod mail_in;
mod notifications;
mod person_card;
mod requester;
mod scale;
mod teams;
mod tickets;
mod users;
mod workday;
