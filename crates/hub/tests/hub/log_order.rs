//! Ids become visible in order, even when transactions commit out of id order: a reader
//! going by `id > cursor` never skips one.

use std::{collections::BTreeSet, sync::Arc, time::Duration};

use ictdesk_hub::{Audience, Database, EventLog, EventType, NewEvent};
use tokio::sync::Mutex;

use crate::helpers::Backend;

const WRITERS: usize = 8;
const EVENTS_PER_WRITER: usize = 25;

const PUBLISHERS: usize = 64;
const EVENTS_PER_PUBLISHER: usize = 20;

on_both_backends!(concurrent_writers_never_make_a_reader_skip_an_id);
on_both_backends!(group_commit_beside_open_transactions_keeps_one_order);

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

    let seen = read_until(&log, WRITERS * EVENTS_PER_WRITER).await;
    for writer in writers {
        writer.await.expect("writer");
    }
    let committed = committed.lock().await;
    assert_eq!(
        seen.iter().copied().collect::<BTreeSet<_>>(),
        *committed,
        "the reader skipped an id"
    );
}

/// 64 publishers through the group commit (`EventLog::append`, as `POST /broadcast`)
/// while writers hold transactions of their own open after appending (as the desk does):
/// every acknowledged id is read once, in increasing order.
async fn group_commit_beside_open_transactions_keeps_one_order(backend: Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = match &backend {
        Backend::Sqlite => format!("sqlite://{}", dir.path().join("group.db").display()),
        Backend::Postgres(database) => database.url().to_owned(),
    };
    let database = Database::connect(&url).await.expect("database");
    let log = database.event_log();
    // Without a hub, the group-commit writer is ours to run.
    let group_commit = tokio::spawn({
        let log = log.clone();
        async move { log.write_batches().await }
    });
    let committed = Arc::new(Mutex::new(BTreeSet::new()));

    let mut tasks = Vec::new();
    for publisher in 0..PUBLISHERS {
        let log = log.clone();
        let committed = committed.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..EVENTS_PER_PUBLISHER {
                let event = NewEvent::new(
                    EventType::parse("published").expect("type"),
                    &serde_json::json!({"publisher": publisher, "n": n}),
                    Audience::everyone(),
                )
                .expect("event");
                let id = log.append(event).await.expect("append");
                committed.lock().await.insert(id);
            }
        }));
    }
    for writer in 0..4 {
        let database = database.clone();
        let committed = committed.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..EVENTS_PER_WRITER {
                let hold = Duration::from_micros(((writer * 7 + n * 13) % 5) as u64 * 700);
                let id = append_and_commit(&database, hold).await;
                committed.lock().await.insert(id);
            }
        }));
    }

    let total = PUBLISHERS * EVENTS_PER_PUBLISHER + 4 * EVENTS_PER_WRITER;
    let seen = read_until(&log, total).await;
    for task in tasks {
        task.await.expect("task");
    }
    group_commit.abort();
    let committed = committed.lock().await;
    assert_eq!(committed.len(), total, "every append got an id of its own");
    assert_eq!(
        seen.iter().copied().collect::<BTreeSet<_>>(),
        *committed,
        "the reader skipped an id"
    );
}

/// Reads the log by `id > cursor`, as the tailer does, until `total` events were seen;
/// fails on an id that is not above the cursor.
async fn read_until(log: &EventLog, total: usize) -> Vec<i64> {
    let mut seen = Vec::new();
    let mut cursor = 0;
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
    seen
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
