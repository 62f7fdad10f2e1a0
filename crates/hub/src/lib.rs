//! ictdesk's real-time hub.
//!
//! One ordered event log is the spine: changes append events to it inside their own
//! transaction; after commit the tailer reads new rows in id order, serializes each once
//! and fans it out to every connection whose viewer is in the event's audience. WebSocket
//! and (long) polling are thin adapters over the same feed, so switching between them,
//! or reconnecting, can neither lose nor repeat an event.

pub mod app;
pub mod audience;
pub mod client_addr;
mod cluster;
pub mod config;
pub mod event;
mod feed;
pub mod http;
pub mod identity;
pub mod log;
mod metrics;
mod outlet;
mod presence;
pub mod protocol;
pub mod pusher;
mod registry;
pub mod retention;
pub mod rights;
pub mod supervisor;
mod tailer;
mod transport;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use app::{Application, ChannelGrant, NoApplication, RequestError};
pub use audience::{Audience, Role, Viewer};
/// The router type the hub (and the desk) serve.
pub use axum::Router;
pub use config::{HubConfig, Secret};
pub use event::{Delivered, EventType, NewEvent};
pub use http::router;
pub use identity::{Credentials, HubTokens, Identify, IdentifyError, Identity};
pub use log::{Database, EventLog, LogError};
pub use pusher::{BadPusherApp, PusherApp};
pub use registry::CloseReason;
pub use rights::RightsChange;
pub use supervisor::{Supervisor, TaskError};

use crate::{
    cluster::RelayInputs, feed::Feed, metrics::Metrics, presence::Presence, registry::Registry,
    tailer::Progress,
};

/// The running hub: cheap to clone, one per server.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    config: HubConfig,
    log: EventLog,
    feed: Feed,
    tailer: Progress,
    registry: Registry,
    presence: Presence,
    pusher: pusher::Pusher,
    metrics: Metrics,
    app: Arc<dyn Application>,
    identify: Arc<dyn Identify>,
    started_at: String,
    started: Instant,
    shutdown: CancellationToken,
    supervisor: Supervisor,
    /// Tickets whose local presence changed, for the relay to other nodes.
    presence_changes: mpsc::Sender<i64>,
    /// What the presence relay reads; kept here so that a restarted relay finds it.
    relay_inputs: tokio::sync::Mutex<RelayInputs>,
}

impl Hub {
    /// Starts the tailer (and, on PostgreSQL, the listener for other nodes' commits) and
    /// the cluster's tasks, each under the hub's [`Supervisor`]. Live delivery begins at
    /// the log's current head.
    pub async fn start(
        config: HubConfig,
        log: EventLog,
        app: Arc<dyn Application>,
        identify: Arc<dyn Identify>,
    ) -> Result<Self, LogError> {
        let head = log.head().await?;
        let (presence_changes, changed) = mpsc::channel(1024);
        let shutdown = CancellationToken::new();
        let notices = log.watch_other_processes(shutdown.child_token());
        let hub = Hub {
            inner: Arc::new(Inner {
                feed: Feed::new(head, config.recent_events),
                tailer: Progress::new(head),
                registry: Registry::new(config.queue_capacity, config.max_connections_per_ip),
                presence: Presence::new(config.node.clone(), config.presence_idle_after),
                pusher: pusher::Pusher::new(
                    config.pusher_apps.clone(),
                    head,
                    config.queue_capacity,
                ),
                metrics: Metrics::new(),
                started_at: event::timestamp_now(),
                started: Instant::now(),
                supervisor: Supervisor::new(shutdown.clone()),
                shutdown,
                presence_changes,
                relay_inputs: tokio::sync::Mutex::new(RelayInputs { notices, changed }),
                config,
                log,
                app,
                identify,
            }),
        };
        // First: whatever starts next may publish.
        hub.supervise("group_commit", write_published_events);
        pusher::start(&hub).await?;
        // The fan-out runs inside the tailer's task: its failures are the tailer's.
        hub.supervise("tailer", tailer::run);
        hub.supervise("cluster_heartbeat", cluster::report_node);
        hub.supervise("presence_relay", cluster::relay_presence);
        hub.supervise("retention", retention::run);
        Ok(hub)
    }

    /// Runs `task(hub)` in the background under the hub's supervisor (see
    /// [`Supervisor::spawn`]): restarted with backoff when it panics or fails, and named
    /// by `/healthz` while it is down. The task should return `Ok(())` once
    /// [`Hub::stopped`] completes.
    pub fn supervise<F, Fut>(&self, name: &'static str, task: F)
    where
        F: Fn(Hub) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), TaskError>> + Send + 'static,
    {
        let hub = self.clone();
        self.inner.supervisor.spawn(name, move || task(hub.clone()));
    }

    /// The supervisor of this hub's background tasks.
    pub fn supervisor(&self) -> &Supervisor {
        &self.inner.supervisor
    }

    pub fn config(&self) -> &HubConfig {
        &self.inner.config
    }

    pub fn log(&self) -> &EventLog {
        &self.inner.log
    }

    /// The last id delivered live by this node.
    pub fn head(&self) -> i64 {
        self.inner.feed.head()
    }

    /// Open WebSocket connections on this node, native and Pusher.
    pub fn client_count(&self) -> usize {
        self.inner.registry.len() + self.inner.pusher.connection_count()
    }

    /// Closes every open connection of a user at once (e.g. when the account is blocked).
    pub fn close_user(&self, user_id: i64, reason: CloseReason) -> usize {
        self.inner.registry.close_user(user_id, reason)
    }

    /// Stops the tailer, closes every WebSocket with 1001 (Pusher's with 4200, reconnect)
    /// and ends long polls.
    pub fn shutdown(&self) {
        self.inner.registry.close_all(CloseReason::GOING_AWAY);
        self.inner.shutdown.cancel();
    }

    /// Sends a changed presence list to the local connections on that ticket and has it
    /// relayed to the other nodes.
    pub(crate) fn announce_presence(&self, announcement: presence::Announcement) {
        self.deliver_presence(&announcement);
        let _dropped_when_behind = self.inner.presence_changes.try_send(announcement.ticket_id);
    }

    /// Sends a presence list to the local connections on its ticket only.
    pub(crate) fn deliver_presence(&self, announcement: &presence::Announcement) {
        let frame = outlet::text_frame(&announcement.json);
        self.inner
            .registry
            .send_ephemeral(&announcement.recipients, frame);
    }

    /// Completes when the hub shuts down.
    pub async fn stopped(&self) {
        self.inner.shutdown.cancelled().await;
    }

    /// After `shutdown`, waits (at most `limit`) until every WebSocket has sent its close
    /// frame and gone: connection tasks are not the HTTP server's, so a process that
    /// exited as soon as the server stopped could cut them off before their 1001.
    pub async fn connections_closed(&self, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        while self.client_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn is_shutting_down(&self) -> bool {
        self.inner.shutdown.is_cancelled()
    }
}

/// The group-commit writer of `POST /broadcast` and the Pusher API
/// (`log/group_commit.rs`), until the hub stops.
async fn write_published_events(hub: Hub) -> Result<(), TaskError> {
    tokio::select! {
        () = hub.stopped() => {}
        () = hub.log().write_batches() => {}
    }
    Ok(())
}
