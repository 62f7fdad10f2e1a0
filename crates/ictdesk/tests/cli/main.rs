//! Tests of the `ictdesk` binary as a user runs it: real processes, real signals.

mod admin;
mod cluster;
mod config;
mod process;
mod restart;
mod tls;
