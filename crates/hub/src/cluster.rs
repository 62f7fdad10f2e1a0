//! Nodes sharing one database form one system. Events need nothing here (every node's
//! tailer reads the shared log); this module keeps the rest in step: each node reports
//! itself and its client count in `nodes`, and shares its presence lists with the others
//! through the database (`presence_table.rs`, PostgreSQL).

mod presence_table;

use std::{
    collections::BTreeSet,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::mpsc;

use crate::{
    Hub,
    log::{LogError, NodeRecord},
    supervisor::TaskError,
};
use presence_table::PresenceTable;

/// How often a node reports itself.
const NODE_HEARTBEAT: Duration = Duration::from_secs(5);
/// A node silent for this long is counted as gone (and its watchers with it).
const NODE_TIMEOUT: Duration = Duration::from_secs(15);
/// How often a node reads every other node's presence lists, in case it missed a
/// notification (or the node that sent it is gone).
const PRESENCE_RESYNC: Duration = Duration::from_secs(10);
/// The rows of a node silent for this long are deleted.
const PRESENCE_FORGET: Duration = Duration::from_secs(120);

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default()
}

fn ms_ago(span: Duration) -> i64 {
    now_ms() - span.as_millis() as i64
}

/// The nodes seen recently, this one included.
pub(crate) async fn nodes(hub: &Hub) -> Result<Vec<NodeRecord>, LogError> {
    hub.inner.log.nodes(ms_ago(NODE_TIMEOUT)).await
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

/// What the presence relay reads: the other nodes' notices (a ticket id) and the
/// tickets whose local presence changed.
pub(crate) struct RelayInputs {
    pub notices: mpsc::Receiver<String>,
    pub changed: mpsc::Receiver<i64>,
}

/// Keeps presence in step: publishes this node's changed lists, takes the other nodes'
/// when they say a ticket changed (and all of them every few seconds), and marks idle
/// watchers. A (re)started relay first replaces whatever rows a previous run or process
/// of this node left with what it knows now.
pub(crate) async fn relay_presence(hub: Hub) -> Result<(), TaskError> {
    let inner = &hub.inner;
    let mut inputs = inner.relay_inputs.lock().await;
    let RelayInputs { notices, changed } = &mut *inputs;
    let table = PresenceTable::of(&inner.log, &inner.config.node);
    if let Some(table) = &table {
        table.withdraw().await?;
        for ticket_id in inner.presence.local_tickets() {
            table
                .publish(ticket_id, &inner.presence.local_entries(ticket_id))
                .await?;
        }
    }
    let sweep_every = (inner.config.presence_idle_after / 10)
        .clamp(Duration::from_millis(100), Duration::from_secs(10));
    let mut sweep = tokio::time::interval(sweep_every);
    let mut resync = tokio::time::interval(PRESENCE_RESYNC);
    loop {
        tokio::select! {
            () = inner.shutdown.cancelled() => {
                if let Some(table) = &table {
                    table.withdraw().await?;
                }
                return Ok(());
            }
            Some(ticket_id) = changed.recv() => {
                // Publish a burst of changes (200 viewers joining) once per ticket.
                let mut tickets = BTreeSet::from([ticket_id]);
                while let Ok(more) = changed.try_recv() {
                    tickets.insert(more);
                }
                if let Some(table) = &table {
                    for ticket_id in tickets {
                        table.publish(ticket_id, &inner.presence.local_entries(ticket_id)).await?;
                    }
                }
            }
            Some(notice) = notices.recv() => {
                // Anyone who may connect can send on the channel: the notice only says
                // where to look, and anything but a ticket id is ignored.
                if let (Some(table), Ok(ticket_id)) = (&table, notice.parse::<i64>()) {
                    let lists = table.ticket(ticket_id, ms_ago(NODE_TIMEOUT)).await?;
                    if let Some(announcement) = inner.presence.replace_remote(ticket_id, lists) {
                        hub.deliver_presence(&announcement);
                    }
                }
            }
            _ = sweep.tick() => {
                for announcement in inner.presence.sweep() {
                    hub.announce_presence(announcement);
                }
            }
            _ = resync.tick() => {
                if let Some(table) = &table {
                    let all = table.all(ms_ago(NODE_TIMEOUT)).await?;
                    for announcement in inner.presence.replace_all_remote(all) {
                        hub.deliver_presence(&announcement);
                    }
                    table.forget_gone_nodes(ms_ago(PRESENCE_FORGET)).await?;
                }
            }
        }
    }
}
