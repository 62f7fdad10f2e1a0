//! The Pusher Channels protocol (version 7), so that Laravel Echo, pusher-js and the
//! Pusher server SDKs work against the hub (docs/pusher.md).
//!
//! Nothing here has a log of its own: every publish — HTTP API, client event, presence
//! change — is an event of the one log with its app and channel ([`crate::event::Topic`]),
//! so Pusher clients, `/ws` and `/messages` share one order and every node's tailer
//! delivers it; a subscriber that reconnects can resume from the id it last saw.

mod api;
mod apps;
mod channel;
mod members;
mod messages;
pub mod signature;
mod socket;
mod store;
mod subscriptions;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{get, post},
};
use tokio::sync::watch;

pub use apps::{BadPusherApp, PusherApp};
pub use signature::channel_auth;

use crate::{
    Hub, TaskError, app::Application, event::Delivered, log::LogError, rights::RightsChange,
};
use apps::Apps;
use members::Members;
use subscriptions::{Mirror, Subscriptions};

/// How often a node looks for dead nodes' presence members…
const DEAD_NODE_CHECK: Duration = Duration::from_secs(5);
/// …and how long a node may be silent in `nodes` before its members are removed.
const NODE_TIMEOUT: Duration = Duration::from_secs(15);

/// The hub's Pusher side.
pub(crate) struct Pusher {
    apps: Apps,
    subscriptions: Subscriptions,
    members: Members,
    /// The first half of this node's socket ids: random, so that ids differ across
    /// nodes (a publisher's `socket_id` is left out on every node).
    node_number: u32,
    next_connection: AtomicU64,
    /// Pusher connections open on this node (refusals not counted).
    open: AtomicUsize,
    /// The last log id this node's Pusher fan-out has applied.
    applied: watch::Sender<i64>,
}

impl Pusher {
    pub fn new(apps: Vec<PusherApp>, head: i64, queue_capacity: usize) -> Self {
        Self {
            apps: Apps::new(apps),
            subscriptions: Subscriptions::new(head, queue_capacity),
            members: Members::default(),
            node_number: rand::random::<u32>() % 1_000_000_000,
            next_connection: AtomicU64::new(1),
            open: AtomicUsize::new(0),
            applied: watch::Sender::new(head),
        }
    }

    pub fn is_enabled(&self) -> bool {
        !self.apps.is_empty()
    }

    fn next_connection(&self) -> u64 {
        self.next_connection.fetch_add(1, Ordering::Relaxed)
    }

    /// Pusher connections open on this node.
    pub fn connection_count(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Counts a connection as open until the returned guard is dropped (after its
    /// close frame).
    fn count_connection(&self) -> OpenConnection<'_> {
        self.open.fetch_add(1, Ordering::Relaxed);
        OpenConnection(&self.open)
    }

    /// `NODE.CONNECTION`, the form the Pusher SDKs check (`\d+\.\d+`).
    fn socket_id(&self, connection: u64) -> String {
        format!("{}.{connection}", self.node_number)
    }

    /// Delivers a batch of the log to this node's subscribers, holding back from those
    /// on the application's channels what follows a change of their holder's rights
    /// (`changes`, see [`crate::rights`]); returns the deliveries.
    pub async fn fan_out(
        &self,
        batch: &[Arc<Delivered>],
        changes: &[(i64, RightsChange)],
        application: &dyn Application,
    ) -> u64 {
        let Some(first) = self.apps.first() else {
            return 0;
        };
        let mirror = Mirror {
            app_id: &first.id,
            application,
        };
        let delivered = self
            .subscriptions
            .fan_out(batch, changes, &self.members, &mirror)
            .await;
        if let Some(last) = batch.last() {
            self.applied.send_if_modified(|applied| {
                let newer = last.id > *applied;
                *applied = (*applied).max(last.id);
                newer
            });
        }
        delivered
    }

    /// Completes once the fan-out has applied event `id`.
    async fn applied(&self, id: i64) {
        let mut applied = self.applied.subscribe();
        let _ = applied.wait_for(|applied| *applied >= id).await;
    }
}

/// One open connection in [`Pusher::connection_count`].
struct OpenConnection<'a>(&'a AtomicUsize);

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The Pusher routes: `/app/{key}` and the HTTP API under `/apps/{app_id}/`.
pub(crate) fn router() -> Router<Hub> {
    Router::new()
        .route("/app/{key}", get(socket::upgrade))
        .route(
            "/apps/{app_id}/events",
            post(api::events).layer(DefaultBodyLimit::max(api::MAX_BODY)),
        )
        .route(
            "/apps/{app_id}/batch_events",
            post(api::batch_events).layer(DefaultBodyLimit::max(api::MAX_BODY)),
        )
        .route("/apps/{app_id}/channels", get(api::channels))
        .route("/apps/{app_id}/channels/{channel}", get(api::channel))
        .route("/apps/{app_id}/channels/{channel}/users", get(api::users))
        .route(
            "/apps/{app_id}/channels/{channel}/events",
            get(api::history),
        )
}

/// Loads the presence members (after removing this node's own, left by a previous
/// process of the same name) and keeps removing dead nodes' members.
pub(crate) async fn start(hub: &Hub) -> Result<(), LogError> {
    let pusher = &hub.inner.pusher;
    if !pusher.is_enabled() {
        return Ok(());
    }
    let log = hub.log();
    store::remove_node(log, &hub.config().node).await?;
    for row in store::all_members(log).await? {
        if let Ok(channel) = channel::ChannelName::parse(&row.channel) {
            let key = (row.app.clone(), channel);
            pusher.members.add(key, row.into_event());
        }
    }
    hub.supervise("pusher_presence", remove_dead_nodes);
    Ok(())
}

/// Every few seconds, removes the presence members of nodes that stopped reporting.
async fn remove_dead_nodes(hub: Hub) -> Result<(), TaskError> {
    loop {
        tokio::select! {
            () = hub.stopped() => return Ok(()),
            () = tokio::time::sleep(DEAD_NODE_CHECK) => {}
        }
        remove_dead_nodes_once(&hub).await?;
    }
}

async fn remove_dead_nodes_once(hub: &Hub) -> Result<(), LogError> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or_default();
    let alive = hub
        .log()
        .nodes(now_ms - NODE_TIMEOUT.as_millis() as i64)
        .await?;
    for node in store::member_nodes(hub.log()).await? {
        let is_alive = node == hub.config().node || alive.iter().any(|record| record.node == node);
        if !is_alive {
            let removed = store::remove_node(hub.log(), &node).await?;
            tracing::info!(node, removed, "removed a dead node's presence members");
        }
    }
    Ok(())
}
