//! The login attempt limit, counted in the database with the database's clock: every
//! node sees the same attempts, parallel attempts cannot all pass, and nobody can lock
//! an account out from addresses of their own.

use std::time::Duration;

use ictdesk_desk::{
    Desk,
    login_limit::{Admission, LoginAttempt, LoginLimit},
};
use ictdesk_testing::fresh_postgres;

use crate::helpers::open;

const LIMIT: LoginLimit = LoginLimit {
    attempts: 3,
    address_attempts: 5,
    window: Duration::from_secs(60),
};
const EMAIL: &str = "maria@test.local";
const ADDRESS: &str = "192.0.2.7";

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

async fn admit(desk: &Desk, address: &str, email: &str, limit: LoginLimit) -> Admission {
    desk.admit_login(address, email, limit)
        .await
        .expect("checked")
}

fn admitted(admission: Admission) -> LoginAttempt {
    match admission {
        Admission::Admitted(attempt) => attempt,
        Admission::Refused { retry_after } => panic!("refused for {retry_after:?}"),
    }
}

fn refused(admission: Admission) -> Duration {
    match admission {
        Admission::Refused { retry_after } => retry_after,
        Admission::Admitted(attempt) => panic!("admitted: {attempt:?}"),
    }
}

#[tokio::test]
async fn failures_on_one_node_count_on_another_up_to_the_limit() {
    on_two_nodes(|first, second| async move {
        for node in [&first, &second, &first] {
            let _failure = admitted(admit(node, ADDRESS, EMAIL, LIMIT).await);
        }
        for node in [&first, &second] {
            let wait = refused(admit(node, ADDRESS, EMAIL, LIMIT).await);
            assert!(
                wait >= Duration::from_secs(1) && wait <= LIMIT.window,
                "{wait:?}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_right_password_is_no_failure() {
    on_two_nodes(|first, _| async move {
        for _ in 0..2 * LIMIT.attempts {
            let attempt = admitted(admit(&first, ADDRESS, EMAIL, LIMIT).await);
            first.forget_login_attempt(attempt).await.expect("forgot");
        }
        let _ = admitted(admit(&first, ADDRESS, EMAIL, LIMIT).await);
    })
    .await;
}

// Several worker threads, as a server has: on one, thirty tasks on a loaded machine
// could leave a transaction idle past PostgreSQL's idle-in-transaction timeout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_attempts_never_pass_more_than_the_limit() {
    on_two_nodes(|first, second| async move {
        let mut attempts = tokio::task::JoinSet::new();
        for n in 0..30 {
            let node = if n % 2 == 0 { &first } else { &second }.clone();
            attempts.spawn(async move { node.admit_login(ADDRESS, EMAIL, LIMIT).await });
        }
        let mut passed = 0;
        while let Some(outcome) = attempts.join_next().await {
            if let Admission::Admitted(_) = outcome.expect("joined").expect("checked") {
                passed += 1;
            }
        }
        // Reservations that all commit before any is counted may leave none through:
        // the limit errs on the safe side.
        assert!(
            passed <= LIMIT.attempts as usize,
            "{passed} of 30 parallel attempts passed a limit of {}",
            LIMIT.attempts
        );
    })
    .await;
}

#[tokio::test]
async fn failures_from_other_addresses_slow_an_account_down_but_never_refuse_it() {
    on_two_nodes(|first, second| async move {
        // Three failures from each of four addresses: twelve at the account.
        for n in 0..4 {
            for _ in 0..LIMIT.attempts {
                let address = format!("198.51.100.{n}");
                let _failure = admitted(admit(&first, &address, EMAIL, LIMIT).await);
            }
        }
        let owner = admitted(admit(&second, ADDRESS, EMAIL, LIMIT).await);
        assert!(owner.delay > Duration::ZERO, "{owner:?}");
        assert!(owner.delay <= Duration::from_secs(5), "{owner:?}");
        // Another account from those addresses is not slowed down.
        let other = admitted(admit(&first, "198.51.100.0", "oleg@test.local", LIMIT).await);
        assert_eq!(other.delay, Duration::ZERO);
    })
    .await;
}

#[tokio::test]
async fn one_address_is_limited_across_accounts() {
    on_two_nodes(|first, second| async move {
        for n in 0..LIMIT.address_attempts {
            let email = format!("person{n}@test.local");
            let _failure = admitted(admit(&first, ADDRESS, &email, LIMIT).await);
        }
        let _ = refused(admit(&second, ADDRESS, "someone@test.local", LIMIT).await);
        let _ = admitted(admit(&second, "192.0.2.8", "someone@test.local", LIMIT).await);
    })
    .await;
}

#[tokio::test]
async fn the_limit_lifts_when_the_window_has_passed() {
    let short = LoginLimit {
        window: Duration::from_secs(1),
        ..LIMIT
    };
    on_two_nodes(|first, second| async move {
        for _ in 0..short.attempts {
            let _failure = admitted(admit(&first, ADDRESS, EMAIL, short).await);
        }
        let _ = refused(admit(&second, ADDRESS, EMAIL, short).await);
        // The database's clock decides; wait for it, not for ours.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            if let Admission::Admitted(_) = admit(&second, ADDRESS, EMAIL, short).await {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "never lifted");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await;
}
