//! A fresh database per test, on either backend, with four people in it.

use std::future::Future;

use ictdesk_desk::{
    Desk, DeskOptions, Error, PasswordCost,
    users::{NewUser, User},
};
use ictdesk_hub::{Audience, Database, EventLog, Viewer};
use serde_json::Value;
use sqlx::Connection;

pub const PASSWORD: &str = "correct horse";

pub struct TestDesk {
    pub desk: Desk,
    pub log: EventLog,
    pub admin: User,
    pub agent: User,
    pub requester: User,
    pub other_requester: User,
}

/// Where the database lives; dropping it removes it. Held by the runner, not by
/// [`TestDesk`]: a test body's closure may capture only some of `TestDesk`'s fields and
/// drop the rest early.
pub enum Place {
    File(#[allow(dead_code)] tempfile::TempDir),
    Postgres(#[allow(dead_code)] PostgresDatabaseGuard),
}

/// One event as the tests look at it.
#[derive(Debug)]
pub struct SeenEvent {
    pub kind: String,
    pub data: Value,
    pub audience: Audience,
}

impl SeenEvent {
    pub fn reaches(&self, user: &User) -> bool {
        self.audience.includes(&user.viewer())
    }

    pub fn reaches_anonymous(&self) -> bool {
        self.audience.includes(&Viewer::Anonymous)
    }
}

impl TestDesk {
    pub async fn sqlite() -> (Self, Place) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("desk.db").display());
        (Self::start(&url).await, Place::File(dir))
    }

    pub async fn postgres(base_url: &str) -> (Self, Place) {
        let guard = PostgresDatabaseGuard::create(base_url).await;
        let url = guard.url.clone();
        (Self::start(&url).await, Place::Postgres(guard))
    }

    async fn start(url: &str) -> Self {
        let (desk, log) = open(url).await;
        let person = |name: &str, email: &str, role: &str| NewUser {
            name: name.into(),
            email: email.into(),
            role: role.into(),
            password: PASSWORD.into(),
            locale: None,
        };
        let admin = desk
            .create_user_by_system(&person("Анна Админова", "admin@test.local", "admin"))
            .await
            .expect("admin");
        let agent = desk
            .create_user_by_system(&person("Иван Техников", "agent@test.local", "agent"))
            .await
            .expect("agent");
        let requester = desk
            .create_user_by_system(&person("Мария Петрова", "maria@test.local", "requester"))
            .await
            .expect("requester");
        let other_requester = desk
            .create_user_by_system(&person("John Smith", "john@test.local", "requester"))
            .await
            .expect("other requester");
        Self {
            desk,
            log,
            admin,
            agent,
            requester,
            other_requester,
        }
    }

    pub async fn head(&self) -> i64 {
        self.log.head().await.expect("the log is readable")
    }

    pub async fn events_since(&self, head: i64) -> Vec<SeenEvent> {
        let rows = self
            .log
            .read_after(head, 1000)
            .await
            .expect("the log is readable");
        rows.into_iter()
            .map(|row| SeenEvent {
                kind: row.kind,
                data: serde_json::from_str(&row.data).expect("event data is JSON"),
                audience: row
                    .audience
                    .map(|json| serde_json::from_str(&json).expect("the audience is JSON"))
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Exactly one event since `head`, of type `kind`.
    pub async fn one_event(&self, head: i64, kind: &str) -> SeenEvent {
        let mut events = self.events_since(head).await;
        assert_eq!(
            events.len(),
            1,
            "exactly one event expected, got {events:?}"
        );
        let event = events.remove(0);
        assert_eq!(event.kind, kind, "{event:?}");
        event
    }

    pub async fn no_event_since(&self, head: i64) {
        let events = self.events_since(head).await;
        assert!(events.is_empty(), "no event expected, got {events:?}");
    }
}

pub fn assert_field_error<T: std::fmt::Debug>(result: Result<T, Error>, field: &str) {
    match result {
        Err(Error::Validation { fields }) => {
            assert!(
                fields.contains_key(field),
                "expected an error on {field}, got {fields:?}"
            )
        }
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

pub fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(
        matches!(result, Err(Error::Forbidden(_))),
        "expected Forbidden, got {result:?}"
    );
}

pub fn assert_not_found<T: std::fmt::Debug>(result: Result<T, Error>) {
    assert!(
        matches!(result, Err(Error::NotFound(_))),
        "expected NotFound, got {result:?}"
    );
}

/// The desk on an empty database.
pub async fn open(url: &str) -> (Desk, EventLog) {
    let database = Database::connect(url).await.expect("the database opens");
    let log = database.event_log();
    let options = DeskOptions {
        password_cost: PasswordCost::TestsOnly,
    };
    let desk = Desk::open(&database, log.clone(), options)
        .await
        .expect("the desk opens");
    (desk, log)
}

/// Runs a test body on an empty database of each backend (PostgreSQL when given).
pub async fn on_empty_databases<F, Fut>(test: F)
where
    F: Fn(Desk, EventLog) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("desk.db").display());
    let (desk, log) = open(&url).await;
    test(desk, log).await;
    match postgres_url() {
        Some(base_url) => {
            let guard = PostgresDatabaseGuard::create(&base_url).await;
            let (desk, log) = open(&guard.url).await;
            test(desk, log).await;
        }
        None => eprintln!("skipped: the PostgreSQL half (set ICTDESK_TEST_POSTGRES_URL to run it)"),
    }
}

/// The PostgreSQL server to test on; under `CI=true` its absence fails the test.
fn postgres_url() -> Option<String> {
    match std::env::var("ICTDESK_TEST_POSTGRES_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("ICTDESK_TEST_POSTGRES_URL is not set, and PostgreSQL tests are required in CI")
        }
        Err(_) => None,
    }
}

/// Runs a test body on a fresh SQLite database.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestDesk) -> Fut,
    Fut: Future<Output = ()>,
{
    let (desk, place) = TestDesk::sqlite().await;
    test(desk).await;
    drop(place);
}

/// Runs a test body on a fresh PostgreSQL database, if one was given. Under `CI=true`
/// a missing URL fails the test instead of skipping it.
pub async fn on_postgres<F, Fut>(test: F)
where
    F: FnOnce(TestDesk) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(url) = postgres_url() else {
        eprintln!("skipped: PostgreSQL test (set ICTDESK_TEST_POSTGRES_URL to run it)");
        return;
    };
    let (desk, place) = TestDesk::postgres(&url).await;
    test(desk).await;
    drop(place);
}

/// `both!(name, |t| async move { … })`: the test on SQLite and on PostgreSQL.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                $crate::helpers::on_sqlite($body).await;
            }

            #[tokio::test]
            async fn postgres() {
                $crate::helpers::on_postgres($body).await;
            }
        }
    };
}

/// A database of its own for one test, dropped (best effort) when the test ends, even
/// when it panicked.
pub struct PostgresDatabaseGuard {
    base_url: String,
    name: String,
    pub url: String,
}

impl PostgresDatabaseGuard {
    async fn create(base_url: &str) -> Self {
        let name = format!("ictdesk_t_{:016x}", rand::random::<u64>());
        let mut admin = sqlx::PgConnection::connect(base_url)
            .await
            .expect("PostgreSQL is reachable");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a test database can be created");
        let _ = admin.close().await;
        let cut = base_url.rfind('/').expect("the URL names a database");
        let (prefix, rest) = base_url.split_at(cut);
        let query = rest.find('?').map(|at| &rest[at..]).unwrap_or("");
        Self {
            base_url: base_url.to_owned(),
            url: format!("{prefix}/{name}{query}"),
            name,
        }
    }
}

impl Drop for PostgresDatabaseGuard {
    fn drop(&mut self) {
        let (base_url, name) = (self.base_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread
        // with a runtime of its own does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&base_url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut admin)
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}
