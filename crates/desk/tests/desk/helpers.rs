//! A fresh database per test, on either backend, with four people in it.

use std::future::Future;

use ictdesk_desk::{
    Desk, DeskOptions, Error, PasswordCost,
    users::{NewUser, User},
};
use ictdesk_hub::{Audience, Database, EventLog, Viewer};
use ictdesk_testing::{TestDatabase, desk_events::assert_desk_event, fresh_postgres};
use serde_json::Value;

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
    Postgres(#[allow(dead_code)] TestDatabase),
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
    pub async fn sqlite_with(options: DeskOptions) -> (Self, Place) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("desk.db").display());
        (Self::start(&url, options).await, Place::File(dir))
    }

    pub async fn postgres_with(database: TestDatabase, options: DeskOptions) -> (Self, Place) {
        (
            Self::start(database.url(), options).await,
            Place::Postgres(database),
        )
    }

    async fn start(url: &str, options: DeskOptions) -> Self {
        let (desk, log) = open_with(url, options).await;
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

    /// A ticket the requester files.
    pub async fn filed(&self, title: &str) -> ictdesk_desk::tickets::Ticket {
        self.desk
            .create_ticket(
                &self.requester,
                &ictdesk_desk::tickets::NewTicket {
                    title: title.into(),
                    ..ictdesk_desk::tickets::NewTicket::default()
                },
            )
            .await
            .expect("ticket")
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
                data: {
                    let data = serde_json::from_str(&row.data).expect("event data is JSON");
                    assert_desk_event(&row.kind, &data);
                    data
                },
                kind: row.kind,
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

    /// `call` succeeds and appends exactly one event, of type `kind`.
    pub async fn announces<T: std::fmt::Debug>(
        &self,
        kind: &str,
        call: impl Future<Output = Result<T, Error>>,
    ) -> T {
        let head = self.head().await;
        let value = call.await.expect("the change succeeds");
        self.one_event(head, kind).await;
        value
    }

    /// `call` is refused and appends nothing.
    pub async fn refuses<T: std::fmt::Debug>(&self, call: impl Future<Output = Result<T, Error>>) {
        let head = self.head().await;
        let result = call.await;
        assert!(result.is_err(), "expected a refusal, got {result:?}");
        self.no_event_since(head).await;
    }

    /// `call` succeeds and appends nothing (a write no live page shows, or an edit
    /// that changes nothing).
    pub async fn quietly<T: std::fmt::Debug>(
        &self,
        call: impl Future<Output = Result<T, Error>>,
    ) -> T {
        let head = self.head().await;
        let value = call.await.expect("the call succeeds");
        self.no_event_since(head).await;
        value
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
    open_with(url, DeskOptions::default()).await
}

/// The desk on an empty database with `options` (passwords hashed at the tests' cost).
pub async fn open_with(url: &str, options: DeskOptions) -> (Desk, EventLog) {
    let database = Database::connect(url).await.expect("the database opens");
    let log = database.event_log();
    let options = DeskOptions {
        password_cost: PasswordCost::TestsOnly,
        ..options
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
    if let Some(database) = fresh_postgres("desk").await {
        let (desk, log) = open(database.url()).await;
        test(desk, log).await;
    }
}

/// Runs a test body on a fresh SQLite database.
pub async fn on_sqlite<F, Fut>(test: F)
where
    F: FnOnce(TestDesk) -> Fut,
    Fut: Future<Output = ()>,
{
    on_sqlite_with(DeskOptions::default(), test).await;
}

/// [`on_sqlite`] with `options`.
pub async fn on_sqlite_with<F, Fut>(options: DeskOptions, test: F)
where
    F: FnOnce(TestDesk) -> Fut,
    Fut: Future<Output = ()>,
{
    let (desk, place) = TestDesk::sqlite_with(options).await;
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
    on_postgres_with(DeskOptions::default(), test).await;
}

/// [`on_postgres`] with `options`.
pub async fn on_postgres_with<F, Fut>(options: DeskOptions, test: F)
where
    F: FnOnce(TestDesk) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(database) = fresh_postgres("desk").await else {
        return;
    };
    let (desk, place) = TestDesk::postgres_with(database, options).await;
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
