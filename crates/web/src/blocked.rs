//! Closes a blocked user's connections at once, on every node and whoever blocked them
//! (the API, `ictdesk user block`, another node): by watching the event log for
//! `user_status_changed` events that block someone, rather than at each call site.

use std::sync::Arc;

use ictdesk_hub::{CloseReason, Delivered, Hub, TaskError};
use serde::Deserialize;
use tokio::sync::{
    Mutex,
    broadcast::{Receiver, error::RecvError},
};

#[derive(Deserialize)]
struct Envelope {
    data: StatusChange,
}

#[derive(Deserialize)]
struct StatusChange {
    user: UserId,
    new_status: Option<String>,
}

#[derive(Deserialize)]
struct UserId {
    id: i64,
}

/// The user an event blocks, if it is one that does.
fn blocked_user(event: &Delivered) -> Option<i64> {
    if event.kind != "user_status_changed" {
        return None;
    }
    let envelope: Envelope = serde_json::from_str(event.frame.as_str()).ok()?;
    (envelope.data.new_status.as_deref() == Some("blocked")).then_some(envelope.data.user.id)
}

/// Starts closing blocked users' connections, under the hub's supervisor. The
/// subscription outlives a failed run, so that the next run misses no event.
pub fn supervise(hub: &Hub) {
    let events = Arc::new(Mutex::new(hub.subscribe()));
    hub.supervise("blocked_users", move |hub| {
        close_blocked_users(hub, events.clone())
    });
}

/// One run: until the hub stops.
async fn close_blocked_users(
    hub: Hub,
    events: Arc<Mutex<Receiver<Arc<Delivered>>>>,
) -> Result<(), TaskError> {
    let mut events = events.lock().await;
    loop {
        let event = tokio::select! {
            () = hub.stopped() => return Ok(()),
            event = events.recv() => event,
        };
        match event {
            Ok(event) => {
                if let Some(user) = blocked_user(&event) {
                    let closed = hub.close_user(user, CloseReason::USER_BLOCKED);
                    tracing::info!(user, connections = closed, "blocked user disconnected");
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "fell behind the event stream; some blocks may close sockets late"
                );
            }
            Err(RecvError::Closed) => return Ok(()),
        }
    }
}
