//! Test support shared by the crates' integration tests: a PostgreSQL database of its
//! own for each test, on the server named by `ICTDESK_TEST_POSTGRES_URL`, and the check
//! of desk events against their schema.

pub mod desk_events;

use std::{
    ops::Deref,
    time::{SystemTime, UNIX_EPOCH},
};

use sqlx::Connection;

/// A fresh database for one test, or `None` (the test is skipped, with a note) when
/// `ICTDESK_TEST_POSTGRES_URL` is not set — except under `CI=true`, where that fails.
/// `purpose` names the suite in the note and in the database's name.
pub async fn fresh_postgres(purpose: &str) -> Option<TestDatabase> {
    let Ok(server) = std::env::var("ICTDESK_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but ICTDESK_TEST_POSTGRES_URL is not set: the {purpose} tests on PostgreSQL cannot run"
        );
        eprintln!("skipped: set ICTDESK_TEST_POSTGRES_URL to run the {purpose} test on PostgreSQL");
        return None;
    };
    Some(TestDatabase::create(server, purpose).await)
}

/// A test's database; derefs to its URL. Dropped when the test ends, also when it
/// failed.
pub struct TestDatabase {
    url: String,
    server: String,
    name: String,
}

impl TestDatabase {
    async fn create(server: String, purpose: &str) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_nanos() % 1_000_000_000_000)
            .unwrap_or_default();
        let name = format!("ictdesk_{purpose}_t_{}_{nanos}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .expect("ICTDESK_TEST_POSTGRES_URL is reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a test database can be created");
        let _ = admin.close().await;
        let cut = server.rfind('/').expect("the URL names a database");
        let (prefix, rest) = server.split_at(cut);
        let query = rest.find('?').map(|at| &rest[at..]).unwrap_or("");
        Self {
            url: format!("{prefix}/{name}{query}"),
            server,
            name,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Deref for TestDatabase {
    type Target = str;

    fn deref(&self) -> &str {
        &self.url
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (server, name) = (self.server.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread with
        // a runtime of its own does the cleanup. FORCE: the test's pools may still be
        // connected.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
