//! Retention: old events leave the log in batches, the newest stays, and a client
//! resuming from before the horizon is told to reset — over WebSocket and polling; on
//! several nodes one prunes at a time while every node appends.

use std::time::Duration;

use ictdesk_hub::{
    Database, HubConfig,
    retention::{PRUNE_LOCK_KEY, Retention},
};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::helpers::{Backend, PATIENCE, TestHub, WsClient, spawn_hub_with, test_config};

on_both_backends!(
    events_beyond_the_newest_n_are_pruned_and_late_readers_reset,
    events_older_than_the_days_are_pruned_but_never_the_newest,
    a_backlog_of_several_batches_is_pruned_to_exactly_the_newest_n,
);

fn retaining(retention: Retention) -> HubConfig {
    HubConfig {
        retention,
        retention_interval: Duration::from_millis(50),
        // A one-event memory window: resumes go to the log, where pruning shows.
        recent_events: 1,
        ..test_config()
    }
}

/// The ids left in the log.
async fn log_ids(app: &TestHub) -> Vec<i64> {
    let rows = app.hub.log().read_after(0, 1000).await.expect("read");
    rows.iter().map(|row| row.id).collect()
}

async fn wait_for_log(app: &TestHub, ids: &[i64]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let left = log_ids(app).await;
        if left == ids {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the log kept {left:?}, expected {ids:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn publish(app: &TestHub, count: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for n in 0..count {
        ids.push(app.publish("ticket_created", json!({"n": n}), None).await);
    }
    app.wait_for_delivery(*ids.last().expect("published")).await;
    ids
}

fn assert_reset(page: &Value, head: i64) {
    assert_eq!(page["reset"], true, "{page}");
    assert_eq!(page["last_id"], head, "{page}");
    assert_eq!(page["messages"], json!([]), "{page}");
}

async fn events_beyond_the_newest_n_are_pruned_and_late_readers_reset(backend: Backend) {
    let app = spawn_hub_with(backend, retaining(Retention { days: 0, events: 3 })).await;
    let ids = publish(&app, 10).await;
    let head = ids[9];
    wait_for_log(&app, &ids[7..]).await;

    // Polling: from before the horizon, a reset (also when waiting); from after it,
    // the events as usual.
    assert_reset(
        &app.get(&format!("/messages?since={}", ids[0])).await.1,
        head,
    );
    assert_reset(&app.get("/messages?since=0&wait=5").await.1, head);
    let (status, page) = app.get(&format!("/messages?since={}", ids[6])).await;
    assert_eq!(status, 200);
    assert!(page.get("reset").is_none(), "{page}");
    let got: Vec<i64> = page["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|event| event["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(got, ids[7..]);

    // WebSocket: on connect with ?since=, then live from the head.
    let mut late = app.connect(&format!("?since={}", ids[0])).await;
    assert_eq!(
        late.next_json().await,
        json!({"type": "reset", "last_id": head})
    );
    let next = app.publish("ticket_created", json!({"n": 10}), None).await;
    assert_eq!(late.event_ids(1).await, vec![next]);
    late.assert_no_event_pending().await;

    // …and on a resume.
    late.send_json(json!({"type": "resume", "since": 0})).await;
    assert_eq!(
        late.next_json().await,
        json!({"type": "reset", "last_id": next})
    );
    late.assert_no_event_pending().await;
    assert!(app.metric("ictdesk_events_pruned_total").await >= 7);
}

/// More than two batches' worth (500 a batch): each batch starts where the previous one
/// ended, and together they leave exactly the newest events.
async fn a_backlog_of_several_batches_is_pruned_to_exactly_the_newest_n(backend: Backend) {
    let keep = 5;
    let app = spawn_hub_with(
        backend,
        HubConfig {
            // Rounds far enough apart that one finds hundreds of events due.
            retention_interval: Duration::from_secs(1),
            ..retaining(Retention {
                days: 0,
                events: keep,
            })
        },
    )
    .await;
    let ids = publish(&app, 1_203).await;
    wait_for_log(&app, &ids[ids.len() - keep as usize..]).await;
    assert!(app.metric("ictdesk_events_pruned_total").await >= 1_198);
}

async fn events_older_than_the_days_are_pruned_but_never_the_newest(backend: Backend) {
    let app = spawn_hub_with(backend, retaining(Retention { days: 1, events: 0 })).await;
    let ids = publish(&app, 5).await;
    // Only the backdated events go: today's stay (the log must match exactly).
    backdate(&app, ids[2], "2020-01-01T00:00:00.000Z").await;
    wait_for_log(&app, &ids[3..]).await;
    assert_reset(
        &app.get(&format!("/messages?since={}", ids[1])).await.1,
        ids[4],
    );

    backdate(&app, ids[4], "2020-01-01T00:00:00.000Z").await;
    wait_for_log(&app, &ids[4..]).await;
    let (_, page) = app.get(&format!("/messages?since={}", ids[3])).await;
    assert!(page.get("reset").is_none(), "{page}");
}

/// Makes the events up to `through` look created at `at`.
async fn backdate(app: &TestHub, through: i64, at: &str) {
    let database = Database::connect(&app.database_url)
        .await
        .expect("database");
    match database {
        Database::Sqlite(db) => sqlx::query("UPDATE events SET created_at = ? WHERE id <= ?")
            .bind(at)
            .bind(through)
            .execute(&db.writer)
            .await
            .map(|_| ()),
        Database::Postgres(db) => sqlx::query("UPDATE events SET created_at = $1 WHERE id <= $2")
            .bind(at)
            .bind(through)
            .execute(&db.pool)
            .await
            .map(|_| ()),
    }
    .expect("backdated");
}

/// Events each node's publisher appends while both nodes prune.
const RACING: usize = 400;
/// Events appended on each node while the test holds a pruning batch open.
const WHILE_HELD: usize = 50;
/// What the two-node log keeps.
const KEEP: u64 = 100;

/// Two nodes on one PostgreSQL database (several nodes are a PostgreSQL setup), both
/// pruning every few milliseconds while both append (issue 9 point 4):
/// * one prunes at a time: together they count exactly the events that left the log
///   (two batches deleting the same rows at once would both count them);
/// * appends never wait on a batch: while a batch is held open (the test takes the
///   pruning lock and deletes the oldest rows without committing) both nodes go on
///   acknowledging and delivering, and neither prunes meanwhile;
/// * nothing above the horizon is missing: the log ends as exactly the newest events,
///   readers on both nodes got every event live, and a poll from the horizon gets the
///   rest without a gap (from before it, a reset).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_prune_one_at_a_time_and_never_hold_up_appends() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    let node = |name: &str| HubConfig {
        node: name.into(),
        retention_interval: Duration::from_millis(5),
        ..retaining(Retention {
            days: 0,
            events: KEEP,
        })
    };
    let a = spawn_hub_with(backend, node("a")).await;
    let b = a.another_node(node("b")).await;
    let total = 2 * (RACING + WHILE_HELD);
    let readers = [
        follow(a.connect("").await, total),
        follow(b.connect("").await, total),
    ];

    let (from_a, from_b) = tokio::join!(publish(&a, RACING), publish(&b, RACING));
    let mut acknowledged = [from_a, from_b].concat();

    let mut batch = hold_a_batch_open(&a.database_url).await;
    let horizon_before = horizon(&a.database_url).await;
    let (from_a, from_b) = tokio::join!(publish(&a, WHILE_HELD), publish(&b, WHILE_HELD));
    acknowledged.extend([from_a, from_b].concat());
    assert_eq!(
        horizon(&a.database_url).await,
        horizon_before,
        "a node pruned while another's batch was open"
    );
    sqlx::query("ROLLBACK")
        .execute(&mut batch)
        .await
        .expect("rollback");

    acknowledged.sort_unstable();
    let kept = &acknowledged[acknowledged.len() - KEEP as usize..];
    wait_for_log(&a, kept).await;
    let left = (acknowledged.len() - kept.len()) as i64;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let counted = pruned(&a, &b).await;
        assert!(
            counted <= left,
            "{counted} counted as pruned, {left} left the log"
        );
        if counted == left {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{counted} of {left} counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    for reader in readers {
        assert_eq!(reader.await.expect("reader"), acknowledged, "a live reader");
    }
    let horizon = kept[0] - 1;
    for app in [&a, &b] {
        let (_, page) = app.get(&format!("/messages?since={horizon}")).await;
        assert!(page.get("reset").is_none(), "{page}");
        assert_eq!(app.poll_ids(horizon, kept.len(), None).await, kept);
        assert_reset(
            &app.get(&format!("/messages?since={}", horizon - 1)).await.1,
            *acknowledged.last().expect("published"),
        );
    }
}

/// Collects the next `count` event ids `socket` receives, as they come.
fn follow(mut socket: WsClient, count: usize) -> tokio::task::JoinHandle<Vec<i64>> {
    tokio::spawn(async move { socket.event_ids(count).await })
}

/// Events counted as pruned by both nodes together.
async fn pruned(a: &TestHub, b: &TestHub) -> i64 {
    a.metric("ictdesk_events_pruned_total").await + b.metric("ictdesk_events_pruned_total").await
}

/// What a node's pruning batch holds, taken by the test and left open: the pruning lock
/// and the oldest events, deleted but not committed. (A connection of its own: the
/// hub's sessions end a transaction idle for two seconds.)
async fn hold_a_batch_open(url: &str) -> PgConnection {
    let mut batch = PgConnection::connect(url).await.expect("connect");
    for statement in [
        "BEGIN".to_owned(),
        format!("SELECT pg_advisory_xact_lock({PRUNE_LOCK_KEY})"),
        "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT 10)".to_owned(),
    ] {
        sqlx::query(&statement)
            .execute(&mut batch)
            .await
            .unwrap_or_else(|error| panic!("{statement}: {error}"));
    }
    batch
}

/// The id through which the log has been pruned, as committed.
async fn horizon(url: &str) -> i64 {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    sqlx::query_scalar("SELECT COALESCE(MAX(through), 0) FROM events_pruned")
        .fetch_one(&mut conn)
        .await
        .expect("horizon")
}
