//! The append path under many publishers (issue 16) and a stalled node (issue 18,
//! point 1), with real processes: one order for every reader, every acknowledged event
//! kept through `kill -9` and a PostgreSQL restart, and a SIGSTOPped node that holds
//! the append lock never stalling the others' writes beyond the configured bound.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use ictdesk_testing::fresh_postgres;
use serde_json::Value;

use crate::{
    cluster::{FailoverClient, Node, finish, head_of, spawn_client, start_node},
    process::{PATIENCE, postgres_restart_command, publish},
};

const PUBLISHERS: usize = 64;

/// Publisher `p` of 64 publishes its events with `n = p * 10_000 + k`, round-robin over
/// `urls`, one at a time, until `events` are acknowledged, the first refusal, or `stop`;
/// returns (id, n) of every acknowledged one.
fn spawn_publishers(
    urls: Vec<String>,
    events: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<(i64, usize)>>> {
    (0..PUBLISHERS)
        .map(|publisher| {
            let urls = urls.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .expect("client");
                let mut acknowledged = Vec::new();
                for k in 0..events {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let url = &urls[(publisher + k) % urls.len()];
                    let n = publisher * 10_000 + k;
                    match publish(&http, url, n).await {
                        Some(id) => acknowledged.push((id, n)),
                        None => break,
                    }
                }
                acknowledged
            })
        })
        .collect()
}

async fn acknowledged_by(
    publishers: Vec<tokio::task::JoinHandle<Vec<(i64, usize)>>>,
) -> BTreeMap<i64, usize> {
    let mut acknowledged = BTreeMap::new();
    for publisher in publishers {
        for (id, n) in publisher.await.expect("publisher") {
            assert!(
                acknowledged.insert(id, n).is_none(),
                "id {id} was acknowledged twice"
            );
        }
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_on_three_nodes_see_one_order_under_64_publishers() {
    let Some(database) = fresh_postgres("append").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cluster = Vec::new();
    for name in ["a1", "a2", "a3"] {
        cluster.push(start_node(dir.path(), &database, name).await);
    }
    // One reader per node, each staying on its node.
    let until = Arc::new(Mutex::new(None));
    let readers: Vec<FailoverClient> = cluster
        .iter()
        .map(|node| spawn_client(Arc::new(Mutex::new(vec![node.ws()])), 0, until.clone()))
        .collect();
    let broadcast: Vec<String> = cluster.iter().map(|node| node.url("/broadcast")).collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acknowledged = acknowledged_by(spawn_publishers(broadcast, 30, stop)).await;
    assert_eq!(
        acknowledged.len(),
        PUBLISHERS * 30,
        "every publish was acknowledged"
    );

    let urls = Arc::new(Mutex::new(cluster.iter().map(Node::ws).collect::<Vec<_>>()));
    let received = finish(
        &urls,
        &until,
        acknowledged.keys().copied().collect(),
        readers,
    )
    .await;
    for (node, list) in cluster.iter().zip(&received).skip(1) {
        assert_eq!(
            list, &received[0],
            "{} read another order than {}",
            node.name, cluster[0].name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_appends_of_64_publishers_survive_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = format!("sqlite://{}", dir.path().join("append.db").display());
    acknowledged_appends_survive(dir.path(), &database, None).await;
}

/// Restarting PostgreSQL disturbs every other test using it, so this one runs alone,
/// like `nodes_ride_out_a_postgresql_restart_under_load`: `ICTDESK_TEST_PG_RESTART`
/// names the command (an immediate restart is the harder case: no checkpoint).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the PostgreSQL server; run alone with ICTDESK_TEST_PG_RESTART set"]
async fn acknowledged_appends_survive_kill_9_and_a_postgresql_restart() {
    let Some(restart) = postgres_restart_command() else {
        return;
    };
    let Some(database) = fresh_postgres("append").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    acknowledged_appends_survive(dir.path(), &database, Some(&restart)).await;
}

/// 64 publishers flat out through one node; the node is killed with SIGKILL in the
/// middle, the database restarted (when `restart` is given), and a new node must have
/// every acknowledged event, under its id, with its own data.
async fn acknowledged_appends_survive(
    dir: &std::path::Path,
    database: &str,
    restart: Option<&str>,
) {
    let mut node = start_node(dir, database, "durable").await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publishers = spawn_publishers(vec![node.url("/broadcast")], 1_000, stop);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while head_of(&node).await < 500 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "fewer than 500 events in time"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.child.kill().await.expect("kill -9");
    let acknowledged = acknowledged_by(publishers).await;
    assert!(acknowledged.len() >= 500, "{}", acknowledged.len());

    if let Some(restart) = restart {
        let status = tokio::process::Command::new("sh")
            .args(["-c", restart])
            .status()
            .await
            .expect("the restart command runs");
        assert!(status.success(), "{restart} failed");
    }
    let node = start_node(dir, database, "durable-again").await;
    let stored = read_log(&node).await;
    for (id, n) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(n),
            "acknowledged event {id} (n = {n}) is not in the log as acknowledged"
        );
    }
    eprintln!(
        "{} acknowledged, {} in the log after the restart",
        acknowledged.len(),
        stored.len()
    );
}

/// Every event in the log, id → its `n`, read by polling from the start.
async fn read_log(node: &Node) -> BTreeMap<i64, usize> {
    let http = reqwest::Client::new();
    let mut stored = BTreeMap::new();
    let mut since = 0;
    for _page in 0..1_000 {
        let page: Value = http
            .get(node.url(&format!("/messages?since={since}&limit=1000")))
            .send()
            .await
            .expect("GET /messages")
            .json()
            .await
            .expect("JSON");
        let messages = page["messages"].as_array().expect("messages");
        for message in messages {
            let id = message["id"].as_i64().expect("id");
            let n = message["data"]["n"].as_u64().expect("n") as usize;
            stored.insert(id, n);
        }
        since = page["last_id"].as_i64().expect("last_id");
        if messages.is_empty() {
            return stored;
        }
    }
    panic!("the log never ended");
}

/// Issue 18, point 1: node `a` is SIGSTOPped while it holds PostgreSQL's append lock;
/// writes through node `b` must all still be acknowledged (PostgreSQL ends the stalled
/// session after `idle_in_transaction_session_timeout`, within `b`'s publish timeout),
/// and `b`'s `/healthz` and reads answer while they wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_node_holding_the_append_lock_never_stalls_the_others_writes() {
    let Some(database) = fresh_postgres("append").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let a = start_node(dir.path(), &database, "stalled").await;
    let b = start_node(dir.path(), &database, "healthy").await;
    let pid = a.child.id().expect("running").to_string();
    let admin = sqlx::PgPool::connect(&database).await.expect("connect");

    // Keep `a` appending, and stop it until it is caught holding the lock.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publishers = spawn_publishers(vec![a.url("/broadcast")], 100_000, stop.clone());
    let mut caught = false;
    for _attempt in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        signal("-STOP", &pid);
        // Still held a moment later: not a commit about to finish, a stalled holder.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if append_lock_is_held(&admin).await {
            caught = true;
            break;
        }
        signal("-CONT", &pid);
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(caught, "never caught the node holding the append lock");

    // While `a` stays stopped, every write through `b` is acknowledged; `b` stays
    // healthy and readable meanwhile.
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let started = tokio::time::Instant::now();
    let writes: Vec<_> = (0..20)
        .map(|n| {
            let http = http.clone();
            let url = b.url("/broadcast");
            tokio::spawn(async move {
                let begun = tokio::time::Instant::now();
                (publish(&http, &url, n).await, begun.elapsed())
            })
        })
        .collect();
    for _ in 0..5 {
        let health = http.get(b.url("/healthz")).send().await.expect("healthz");
        assert_eq!(health.status(), 200, "the healthy node's /healthz");
        let read = http
            .get(b.url("/messages?since=0&limit=10"))
            .send()
            .await
            .expect("read");
        assert_eq!(read.status(), 200, "the healthy node's reads");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut slowest = Duration::ZERO;
    for write in writes {
        let (id, took) = write.await.expect("write");
        assert!(
            id.is_some(),
            "a write through the healthy node was refused while the other was stalled"
        );
        slowest = slowest.max(took);
    }
    eprintln!(
        "a stopped while holding the append lock: 20 writes through b acknowledged, the slowest in {slowest:?}, all within {:?}",
        started.elapsed()
    );
    assert!(
        !append_lock_is_held(&admin).await,
        "PostgreSQL ended the stalled session and its lock"
    );

    // The stalled node comes back and writes again, on a fresh connection.
    signal("-CONT", &pid);
    let _ = acknowledged_by(publishers).await;
    let again = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while publish(&again, &a.url("/broadcast"), 1).await.is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the resumed node never wrote again"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn signal(which: &str, pid: &str) {
    let status = std::process::Command::new("kill")
        .args([which, pid])
        .status()
        .expect("kill");
    assert!(status.success(), "kill {which} {pid}");
}

/// Whether some session holds the append lock of this test's database
/// (`log/postgres.rs`, `APPEND_LOCK_KEY`: a bigint key is split into classid, the high
/// half, and objid, the low half; other tests' databases have locks of their own).
async fn append_lock_is_held(admin: &sqlx::PgPool) -> bool {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted \
         AND classid = 0 AND objid = 478012864 AND objsubid = 1 \
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
    )
    .fetch_one(admin)
    .await
    .expect("pg_locks")
}
