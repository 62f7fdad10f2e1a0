//! Closes a blocked user's connections at once, on every node and whoever blocked them
//! (the API, `ictdesk user block`, another node): by watching the event log for
//! `user_status_changed` events that block someone, rather than at each call site.

use ictdesk_hub::{CloseReason, Delivered, Hub};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

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

/// Runs until the hub stops.
pub async fn close_blocked_users(hub: Hub) {
    let mut events = hub.subscribe();
    loop {
        let event = tokio::select! {
            () = hub.stopped() => return,
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
            Err(RecvError::Closed) => return,
        }
    }
}
