//! Integration tests of the hub: a real server on 127.0.0.1:0, real clients.

mod helpers;

/// Runs `$test(backend)` on SQLite, and on PostgreSQL when `ICTDESK_TEST_POSTGRES_URL`
/// is set (required under `CI=true`).
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test(crate::helpers::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if let Some(backend) = crate::helpers::Backend::postgres().await {
                        super::$test(backend).await;
                    }
                }
            }
        )+
    };
}

mod audience;
mod bad_input;
mod delivery;
mod endpoints;
mod log_order;
mod presence;
mod pusher;
mod replay;
mod retention;
mod slow_clients;
mod supervision;
mod tokens;
