//! Several `ictdesk hub` nodes on one PostgreSQL database form one system: every client
//! gets every event once, in order, whichever node it is on and whichever node dies or
//! restarts. Real processes, real kill -9 and SIGTERM.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use ictdesk_testing::fresh_postgres;
use serde_json::{Value, json};
use tokio::process::Child;
use tokio_tungstenite::tungstenite::Message;

use crate::process::{PATIENCE, TOKEN, ictdesk, postgres_restart_command, publish, wait_for_addr};

pub(crate) const HUB_SECRET: &str = "cluster-test-secret";

pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
}

pub(crate) async fn start_node(dir: &Path, database: &str, name: &str) -> Node {
    let addr_file: PathBuf = dir.join(format!("{name}-{}.addr", std::process::id()));
    let _ = std::fs::remove_file(&addr_file);
    let child = ictdesk()
        .args(["hub", "--port", "0", "--node", name, "--addr-file"])
        .arg(&addr_file)
        .args(["--database", database])
        .env("ICTDESK_BROADCAST_TOKEN", TOKEN)
        .env("ICTDESK_HUB_SECRET", HUB_SECRET)
        .env("ICTDESK_MAX_CONNECTIONS_PER_IP", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start a node");
    let addr = wait_for_addr(&addr_file).await;
    Node {
        name: name.to_owned(),
        child,
        addr,
    }
}

impl Node {
    pub(crate) fn ws(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
}

/// A client that follows a list of node addresses: when its node goes away it moves to
/// the next one and resumes with `?since=` its last id. Records every id it receives.
pub(crate) struct FailoverClient {
    received: Arc<Mutex<Vec<i64>>>,
    task: tokio::task::JoinHandle<()>,
}

pub(crate) fn spawn_client(
    nodes: Arc<Mutex<Vec<String>>>,
    first: usize,
    until: Arc<Mutex<Option<i64>>>,
) -> FailoverClient {
    let received = Arc::new(Mutex::new(Vec::new()));
    let log = received.clone();
    let task = tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        let mut index = first;
        // From the start of the log: the test publishes without waiting for clients to
        // connect, and every client must see every event.
        let mut last_id: i64 = 0;
        while tokio::time::Instant::now() < deadline {
            let url = {
                let nodes = nodes.lock().expect("nodes");
                nodes[index % nodes.len()].clone()
            };
            index += 1;
            let url = format!("{url}?since={last_id}");
            let Ok((mut socket, _)) = tokio_tungstenite::connect_async(&url).await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            loop {
                // The end marker may arrive before the test knows its id: check again
                // whenever the socket is quiet.
                let reached =
                    |last: i64| until.lock().expect("until").is_some_and(|end| last >= end);
                if reached(last_id) {
                    let _ = socket.close(None).await;
                    return;
                }
                let message =
                    match tokio::time::timeout(Duration::from_millis(200), socket.next()).await {
                        Err(_quiet) => continue,
                        Ok(Some(Ok(message))) => message,
                        Ok(_) => break,
                    };
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else {
                    continue;
                };
                let Some(id) = frame["id"].as_i64() else {
                    continue;
                };
                log.lock().expect("received").push(id);
                last_id = id;
            }
        }
    });
    FailoverClient { received, task }
}

/// Publishes round-robin over the live nodes until told to stop; returns the
/// acknowledged ids.
fn spawn_publisher(
    nodes: Arc<Mutex<Vec<String>>>,
    offset: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> tokio::task::JoinHandle<Vec<i64>> {
    tokio::spawn(async move {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .expect("client");
        let mut acknowledged = Vec::new();
        for n in 0..5_000 {
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                break;
            }
            let base = {
                let nodes = nodes.lock().expect("nodes");
                nodes[(offset + n) % nodes.len()]
                    .replace("ws://", "http://")
                    .replace("/ws", "/broadcast")
            };
            if let Some(id) = publish(&http, &base, n).await {
                acknowledged.push(id);
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        acknowledged
    })
}

/// Publishes the end marker and waits until every client has reached it; then checks
/// that each received every acknowledged id once, in order. Returns what each received.
pub(crate) async fn finish(
    nodes: &Arc<Mutex<Vec<String>>>,
    until: &Arc<Mutex<Option<i64>>>,
    acknowledged: BTreeSet<i64>,
    clients: Vec<FailoverClient>,
) -> Vec<Vec<i64>> {
    let mut everything = Vec::new();
    let http = reqwest::Client::new();
    let base = nodes.lock().expect("nodes")[0]
        .replace("ws://", "http://")
        .replace("/ws", "/broadcast");
    let end = publish(&http, &base, 999_999)
        .await
        .expect("the end marker is published");
    *until.lock().expect("until") = Some(end);
    for (index, client) in clients.into_iter().enumerate() {
        let log = client.received.clone();
        tokio::time::timeout(Duration::from_secs(60), client.task)
            .await
            .unwrap_or_else(|_| {
                let received = log.lock().expect("received");
                let tail = &received[received.len().saturating_sub(5)..];
                panic!("client {index} never reached the end marker {end}; it got {} events, the last {tail:?}", received.len())
            })
            .expect("client task");
        let received = client.received.lock().expect("received").clone();
        assert!(
            received.windows(2).all(|pair| pair[0] < pair[1]),
            "client {index}: ids out of order or repeated: {received:?}"
        );
        let got: BTreeSet<i64> = received.iter().copied().collect();
        let missing: Vec<_> = acknowledged.difference(&got).collect();
        assert!(
            missing.is_empty(),
            "client {index} lost acknowledged events {missing:?}"
        );
        everything.push(received);
    }
    everything
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_are_one_system_even_when_one_is_killed() {
    let Some(database) = fresh_postgres("cluster").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cluster = Vec::new();
    for name in ["n1", "n2", "n3"] {
        cluster.push(start_node(dir.path(), &database, name).await);
    }
    let urls = Arc::new(Mutex::new(cluster.iter().map(Node::ws).collect::<Vec<_>>()));
    let until = Arc::new(Mutex::new(None));
    let clients: Vec<FailoverClient> = (0..12)
        .map(|i| spawn_client(urls.clone(), i, until.clone()))
        .collect();

    // The cluster sees all three nodes and their clients.
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let all: Value = http
            .get(cluster[0].url("/clients?all=1"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        if all["nodes"].as_array().map(Vec::len) == Some(3) && all["clients"] == 12 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the cluster view never showed 3 nodes and 12 clients: {all}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Concurrent publishers on every node; halfway, n1 dies without warning and its
    // clients move on.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publishers: Vec<_> = (0..3)
        .map(|offset| spawn_publisher(urls.clone(), offset, stop.clone()))
        .collect();
    wait_for_events(&cluster[1], 150).await;
    let killed = cluster.remove(0);
    urls.lock().expect("urls").retain(|url| *url != killed.ws());
    let mut killed = killed;
    killed.child.kill().await.expect("kill -9");
    let head = head_of(&cluster[1]).await;
    wait_for_events(&cluster[1], head + 150).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = BTreeSet::new();
    for publisher in publishers {
        acknowledged.extend(publisher.await.expect("publisher"));
    }
    finish(&urls, &until, acknowledged, clients).await;
    eprintln!(
        "killed {}; {} and {} carried on",
        killed.name, cluster[0].name, cluster[1].name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_loses_nothing() {
    let Some(database) = fresh_postgres("cluster").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut cluster = Vec::new();
    for name in ["r1", "r2", "r3"] {
        cluster.push(start_node(dir.path(), &database, name).await);
    }
    let urls = Arc::new(Mutex::new(cluster.iter().map(Node::ws).collect::<Vec<_>>()));
    let until = Arc::new(Mutex::new(None));
    let clients: Vec<FailoverClient> = (0..9)
        .map(|i| spawn_client(urls.clone(), i, until.clone()))
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publishers: Vec<_> = (0..2)
        .map(|offset| spawn_publisher(urls.clone(), offset, stop.clone()))
        .collect();

    // Restart each node in turn: SIGTERM (clients get 1001 and move on at once), wait
    // for a clean exit, start it again, and let events flow before the next one.
    for node in &mut cluster {
        let old = node.ws();
        urls.lock().expect("urls").retain(|url| *url != old);
        node.terminate();
        let status = tokio::time::timeout(PATIENCE, node.child.wait())
            .await
            .expect("exits in time")
            .expect("exit status");
        assert!(status.success(), "{} exited with {status}", node.name);
        *node = start_node(dir.path(), &database, &node.name.clone()).await;
        urls.lock().expect("urls").push(node.ws());
        let head = head_of(node).await;
        wait_for_events(node, head + 60).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = BTreeSet::new();
    for publisher in publishers {
        acknowledged.extend(publisher.await.expect("publisher"));
    }
    assert!(acknowledged.len() >= 180);
    finish(&urls, &until, acknowledged, clients).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_is_shared_across_nodes() {
    let Some(database) = fresh_postgres("cluster").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let a = start_node(dir.path(), &database, "pa").await;
    let b = start_node(dir.path(), &database, "pb").await;
    let mut alice = connect_as(&a, 1).await;
    let mut bob = connect_as(&b, 2).await;
    alice
        .send(Message::text(
            json!({"type": "view", "ticket_id": 7}).to_string(),
        ))
        .await
        .expect("send");
    bob.send(Message::text(
        json!({"type": "editing", "ticket_id": 7}).to_string(),
    ))
    .await
    .expect("send");
    for socket in [&mut alice, &mut bob] {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "never saw both viewers"
            );
            let Ok(Some(Ok(Message::Text(text)))) =
                tokio::time::timeout(PATIENCE, socket.next()).await
            else {
                continue;
            };
            let frame: Value = serde_json::from_str(text.as_str()).expect("JSON");
            let users: BTreeSet<i64> = frame["viewers"]
                .as_array()
                .map(|viewers| {
                    viewers
                        .iter()
                        .filter_map(|v| v["user_id"].as_i64())
                        .collect()
                })
                .unwrap_or_default();
            if frame["type"] == "presence" && users == BTreeSet::from([1, 2]) {
                break;
            }
        }
    }
    let head = head_of(&a).await;
    assert_eq!(head, 0, "presence is never stored");
}

async fn connect_as(
    node: &Node,
    user: i64,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        + 600;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": user.to_string(), "role": "agent", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(HUB_SECRET.as_bytes()),
    )
    .expect("token");
    let (socket, _) = tokio_tungstenite::connect_async(format!("{}?token={token}", node.ws()))
        .await
        .expect("connect");
    socket
}

pub(crate) async fn head_of(node: &Node) -> i64 {
    let status: Value = reqwest::get(node.url("/status"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    status["last_id"].as_i64().expect("last_id")
}

/// Waits until `node` has delivered event `id`.
pub(crate) async fn wait_for_events(node: &Node, id: i64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while head_of(node).await < id {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never reached event {id}",
            node.name
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Restarting PostgreSQL disturbs every other test using it, so this one runs alone:
/// `.ci/run` calls it with `--ignored` after the main suite, naming the restart command
/// in `ICTDESK_TEST_PG_RESTART` (e.g. `pg_ctlcluster 15 main restart`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "restarts the PostgreSQL server; run alone with ICTDESK_TEST_PG_RESTART set"]
async fn nodes_ride_out_a_postgresql_restart_under_load() {
    let Some(restart) = postgres_restart_command() else {
        return;
    };
    let Some(database) = fresh_postgres("cluster").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let cluster = [
        start_node(dir.path(), &database, "g1").await,
        start_node(dir.path(), &database, "g2").await,
    ];
    let urls = Arc::new(Mutex::new(cluster.iter().map(Node::ws).collect::<Vec<_>>()));
    let until = Arc::new(Mutex::new(None));
    let clients: Vec<FailoverClient> = (0..6)
        .map(|i| spawn_client(urls.clone(), i, until.clone()))
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let publishers: Vec<_> = (0..2)
        .map(|offset| spawn_publisher(urls.clone(), offset, stop.clone()))
        .collect();
    wait_for_events(&cluster[0], 50).await;

    let status = tokio::process::Command::new("sh")
        .args(["-c", &restart])
        .status()
        .await
        .expect("the restart command runs");
    assert!(status.success(), "{restart} failed");

    // Publishing resumes on both nodes once they have reconnected.
    for node in &cluster {
        let head = head_of_when_up(node).await;
        wait_for_events(node, head + 50).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acknowledged = BTreeSet::new();
    for publisher in publishers {
        acknowledged.extend(publisher.await.expect("publisher"));
    }
    finish(&urls, &until, acknowledged, clients).await;
}

/// The node's head, once its database answers again.
pub(crate) async fn head_of_when_up(node: &Node) -> i64 {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = reqwest::get(node.url("/healthz")).await
            && response.status() == 200
        {
            return head_of(node).await;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} never got its database back",
            node.name
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
