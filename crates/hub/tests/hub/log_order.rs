//! Ids become visible in order, even when transactions commit out of id order: a reader
//! going by `id > cursor` never skips one.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use ictdesk_hub::{Audience, Database, EventType, NewEvent};
use tokio::sync::Mutex;

use crate::helpers::Backend;

const WRITERS: usize = 8;
const EVENTS_PER_WRITER: usize = 25;

on_both_backends!(concurrent_writers_never_make_a_reader_skip_an_id);

async fn concurrent_writers_never_make_a_reader_skip_an_id(backend: Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = match &backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("order.db").display()),
        Backend::Postgres(database) => database.url().to_owned(),
    };
    let database = Database::connect(&url).await.expect("database");
    let log = database.event_log();
    let committed = Arc::new(Mutex::new(BTreeSet::new()));

    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let database = database.clone();
        let committed = committed.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..EVENTS_PER_WRITER {
                // Vary how long each transaction stays open after its append, so that
                // commits would interleave out of id order without serialization.
                let hold = Duration::from_micros(((writer * 7 + n * 13) % 5) as u64 * 700);
                let id = append_and_commit(&database, hold).await;
                committed.lock().await.insert(id);
            }
        }));
    }

    let mut seen = Vec::new();
    let mut cursor = 0;
    let total = WRITERS * EVENTS_PER_WRITER;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while seen.len() < total {
        assert!(
            tokio::time::Instant::now() < deadline,
            "read {} of {total}",
            seen.len()
        );
        for row in log.read_after(cursor, 1000).await.expect("read") {
            assert!(
                row.id > cursor,
                "ids out of order: {} after {cursor}",
                row.id
            );
            cursor = row.id;
            seen.push(row.id);
        }
        tokio::task::yield_now().await;
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let committed = committed.lock().await;
    assert_eq!(seen.len(), total);
    assert_eq!(
        seen.iter().copied().collect::<BTreeSet<_>>(),
        *committed,
        "the reader skipped an id"
    );
}

async fn append_and_commit(database: &Database, hold: Duration) -> i64 {
    let event = NewEvent::new(
        EventType::parse("ticket_created").expect("type"),
        &serde_json::json!({}),
        Audience::everyone(),
    )
    .expect("event");
    match database {
        Database::Sqlite(db) => {
            let mut tx = db.writer.begin().await.expect("begin");
            let id = ictdesk_hub::log::sqlite::append(&mut tx, &event)
                .await
                .expect("append");
            tokio::time::sleep(hold).await;
            tx.commit().await.expect("commit");
            id
        }
        Database::Postgres(db) => {
            let mut tx = db.pool.begin().await.expect("begin");
            let id = ictdesk_hub::log::postgres::append(&mut tx, &event)
                .await
                .expect("append");
            tokio::time::sleep(hold).await;
            tx.commit().await.expect("commit");
            id
        }
    }
}
