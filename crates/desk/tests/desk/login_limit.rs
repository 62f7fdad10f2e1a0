//! The login attempt limit, counted in the database: every node sees the same failures.

use std::time::Duration;

use ictdesk_desk::{Desk, login_limit::LoginLimit, timestamps};
use ictdesk_testing::fresh_postgres;

use crate::helpers::open;

const LIMIT: LoginLimit = LoginLimit {
    attempts: 3,
    window: Duration::from_secs(60),
};

fn keys() -> Vec<String> {
    vec!["ip:192.0.2.7".into(), "email:maria@test.local".into()]
}

/// Runs `test` with two desks on one database, as two nodes of a cluster are: on
/// SQLite, and on PostgreSQL when given.
async fn on_two_nodes<F, Fut>(test: F)
where
    F: Fn(Desk, Desk) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("desk.db").display());
    test(open(&url).await.0, open(&url).await.0).await;
    if let Some(database) = fresh_postgres("desk").await {
        test(open(database.url()).await.0, open(database.url()).await.0).await;
    }
}

#[tokio::test]
async fn failures_on_one_node_count_on_another_up_to_the_limit() {
    on_two_nodes(|first, second| async move {
        let now = timestamps::now();
        for _ in 0..2 {
            first
                .record_login_failure(&keys(), LIMIT, now)
                .await
                .expect("recorded");
        }
        let allowed = second
            .login_wait(&keys(), LIMIT, now)
            .await
            .expect("checked");
        assert_eq!(allowed, None, "two failures of three");
        second
            .record_login_failure(&keys(), LIMIT, now)
            .await
            .expect("recorded");
        for node in [&first, &second] {
            let wait = node
                .login_wait(&keys(), LIMIT, now)
                .await
                .expect("checked")
                .expect("limited");
            assert!(
                wait >= Duration::from_secs(1) && wait <= LIMIT.window,
                "{wait:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn the_limit_lifts_when_the_window_has_passed() {
    on_two_nodes(|first, second| async move {
        let then = timestamps::now();
        for _ in 0..3 {
            first
                .record_login_failure(&keys(), LIMIT, then)
                .await
                .expect("recorded");
        }
        let later = then + LIMIT.window + Duration::from_secs(1);
        let wait = second
            .login_wait(&keys(), LIMIT, later)
            .await
            .expect("checked");
        assert_eq!(wait, None);
    })
    .await;
}

#[tokio::test]
async fn one_limited_key_limits_the_attempt_and_others_stay_free() {
    on_two_nodes(|first, _| async move {
        let now = timestamps::now();
        let email = vec!["email:maria@test.local".to_owned()];
        for _ in 0..3 {
            first
                .record_login_failure(&email, LIMIT, now)
                .await
                .expect("recorded");
        }
        assert!(
            first
                .login_wait(&keys(), LIMIT, now)
                .await
                .expect("checked")
                .is_some()
        );
        let address = vec!["ip:192.0.2.7".to_owned()];
        assert_eq!(
            first
                .login_wait(&address, LIMIT, now)
                .await
                .expect("checked"),
            None
        );
    })
    .await;
}
