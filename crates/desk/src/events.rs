//! The events the desk appends: the eleven types of SPEC §2, one per change, and
//! `user_session_ended`.

use ictdesk_hub::{Audience, EventType, NewEvent};
use serde::Serialize;

use crate::error::{Error, Result};

pub const TICKET_CREATED: &str = "ticket_created";
/// Also carries edits that change neither status nor assignee (see `tickets`).
pub const TICKET_STATUS_CHANGED: &str = "ticket_status_changed";
pub const TICKET_ASSIGNED: &str = "ticket_assigned";
pub const TICKET_COMMENT_CREATED: &str = "ticket_comment_created";
pub const USER_CREATED: &str = "user_created";
/// Also carries edits of role, name or locale (see `users`).
pub const USER_STATUS_CHANGED: &str = "user_status_changed";
/// Also announces new equipment (old status `null`) and edits that move nothing.
pub const EQUIPMENT_STATUS_CHANGED: &str = "equipment_status_changed";
pub const EQUIPMENT_LOCATION_CHANGED: &str = "equipment_location_changed";
pub const KNOWLEDGE_ARTICLE_CREATED: &str = "knowledge_article_created";
pub const KNOWLEDGE_ARTICLE_UPDATED: &str = "knowledge_article_updated";
pub const SYSTEM_NOTIFICATION_CREATED: &str = "system_notification_created";
/// Not one of the eleven: one of a user's sessions or API tokens ended (logout,
/// revocation), to that user only, so that their open connections identify again.
pub const USER_SESSION_ENDED: &str = "user_session_ended";

/// An inbox's entries were read: tells the reader's other pages their new count.
pub const INBOX_READ: &str = "inbox_read";

/// Every type the desk appends; only the desk may (`POST /broadcast` refuses them).
pub const ALL: [&str; 13] = [
    TICKET_CREATED,
    TICKET_STATUS_CHANGED,
    TICKET_ASSIGNED,
    TICKET_COMMENT_CREATED,
    USER_CREATED,
    USER_STATUS_CHANGED,
    EQUIPMENT_STATUS_CHANGED,
    EQUIPMENT_LOCATION_CHANGED,
    KNOWLEDGE_ARTICLE_CREATED,
    KNOWLEDGE_ARTICLE_UPDATED,
    SYSTEM_NOTIFICATION_CREATED,
    USER_SESSION_ENDED,
    INBOX_READ,
];

/// The change's one event, for its [`crate::desk::Outcome`].
pub(crate) fn new(kind: &str, data: &impl Serialize, audience: Audience) -> Result<NewEvent> {
    let kind = EventType::parse(kind)
        .map_err(|error| Error::Internal(format!("event type {kind}: {error}")))?;
    Ok(NewEvent::new(kind, data, audience)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_desk_event_type_is_a_valid_hub_event_type() {
        for kind in ALL {
            assert!(EventType::parse(kind).is_ok(), "{kind}");
        }
    }
}
