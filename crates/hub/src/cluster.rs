//! Nodes sharing one database form one system. Events need nothing here (every node's
//! tailer reads the shared log); this module keeps the rest in step: each node reports
//! itself and its client count in `nodes`, and relays its presence lists to the others
//! (PostgreSQL NOTIFY, never stored).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::{
    Hub,
    log::{LogError, NodeRecord},
    presence::PresenceEntry,
    supervisor::TaskError,
};

/// How often a node reports itself.
const NODE_HEARTBEAT: Duration = Duration::from_secs(5);
/// A node silent for this long is counted as gone.
const NODE_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a node re-sends its presence lists, so that a node that missed one (or
/// started later) catches up…
const PRESENCE_REFRESH: Duration = Duration::from_secs(10);
/// …and how long another node's list counts without being refreshed.
const PRESENCE_TTL: Duration = Duration::from_secs(30);

/// One node's watchers of one ticket, as sent to the other nodes.
#[derive(Serialize, Deserialize)]
struct Snapshot {
    node: String,
    ticket_id: i64,
    viewers: Vec<PresenceEntry>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

/// The nodes seen recently, this one included.
pub(crate) async fn nodes(hub: &Hub) -> Result<Vec<NodeRecord>, LogError> {
    let since = now_ms() - NODE_TIMEOUT.as_millis() as i64;
    hub.inner.log.nodes(since).await
}

/// Reports this node every few seconds; removes it on shutdown.
pub(crate) async fn report_node(hub: Hub) -> Result<(), TaskError> {
    let inner = &hub.inner;
    loop {
        let record = NodeRecord {
            node: inner.config.node.clone(),
            clients: hub.client_count() as i64,
            started_at: inner.started_at.clone(),
            seen_at_ms: now_ms(),
        };
        inner.log.upsert_node(&record).await?;
        tokio::select! {
            () = inner.shutdown.cancelled() => break,
            () = tokio::time::sleep(NODE_HEARTBEAT) => {}
        }
    }
    inner.log.remove_node(&inner.config.node).await?;
    Ok(())
}

/// What the presence relay reads: the other nodes' snapshots and the tickets whose local
/// presence changed.
pub(crate) struct RelayInputs {
    pub snapshots: mpsc::Receiver<String>,
    pub changed: mpsc::Receiver<i64>,
}

/// Keeps presence in step: sends this node's changed lists to the others, takes theirs,
/// marks idle watchers, and forgets nodes that went quiet.
pub(crate) async fn relay_presence(hub: Hub) -> Result<(), TaskError> {
    let inner = &hub.inner;
    let mut inputs = inner.relay_inputs.lock().await;
    let RelayInputs { snapshots, changed } = &mut *inputs;
    let sweep_every = (inner.config.presence_idle_after / 10)
        .clamp(Duration::from_millis(100), Duration::from_secs(10));
    let mut sweep = tokio::time::interval(sweep_every);
    let mut refresh = tokio::time::interval(PRESENCE_REFRESH);
    loop {
        tokio::select! {
            () = inner.shutdown.cancelled() => return Ok(()),
            Some(payload) = snapshots.recv() => receive(&hub, &payload),
            Some(ticket_id) = changed.recv() => send(&hub, ticket_id).await,
            _ = sweep.tick() => {
                for announcement in inner.presence.sweep(PRESENCE_TTL) {
                    hub.announce_presence(announcement);
                }
            }
            _ = refresh.tick() => {
                for ticket_id in inner.presence.local_tickets() {
                    send(&hub, ticket_id).await;
                }
            }
        }
    }
}

fn receive(hub: &Hub, payload: &str) {
    match serde_json::from_str::<Snapshot>(payload) {
        Ok(snapshot) => {
            if let Some(announcement) = hub.inner.presence.apply_remote(
                &snapshot.node,
                snapshot.ticket_id,
                snapshot.viewers,
            ) {
                hub.deliver_presence(&announcement);
            }
        }
        Err(error) => tracing::warn!(%error, "ignoring an unreadable presence snapshot"),
    }
}

async fn send(hub: &Hub, ticket_id: i64) {
    let snapshot = Snapshot {
        node: hub.inner.config.node.clone(),
        ticket_id,
        viewers: hub.inner.presence.local_entries(ticket_id),
    };
    let payload = serde_json::to_string(&snapshot).expect("a snapshot always serializes");
    if let Err(error) = hub.inner.log.publish_presence(&payload).await {
        tracing::warn!(%error, "cannot relay presence to the other nodes");
    }
}
