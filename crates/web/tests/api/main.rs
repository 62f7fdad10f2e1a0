//! The web crate's integration tests: one binary, a module per area.

/// Runs each scenario `async fn name(Backend)` as a test on SQLite and, when a
/// PostgreSQL server is given, on PostgreSQL.
macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {
        mod on_sqlite {
            use crate::helpers::Backend;
            $(
                #[tokio::test]
                async fn $scenario() {
                    super::$scenario(Backend::Sqlite).await;
                }
            )*
        }

        mod on_postgres {
            use crate::helpers::Backend;
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(backend) = Backend::postgres().await else {
                        return;
                    };
                    super::$scenario(backend).await;
                }
            )*
        }
    };
}

mod announcements;
mod attachments;
mod blocked;
mod broadcasting;
mod broadcasting_rights;
mod compression;
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
mod person_card;
mod postgres;
mod requester_home;
mod session;
mod teams;
mod tickets;
mod validation;
