//! Tests of the `ictdesk` binary as a user runs it: real processes, real signals.

mod admin;
mod append;
mod attachments;
mod clock;
mod cluster;
mod config;
mod connections;
mod logins;
mod logs;
mod mail;
mod nginx;
mod presence;
mod process;
mod restart;
mod retention;
mod script;
mod seed;
mod tls;
