//! What the hub asks of the application it serves (the desk, in `ictdesk serve`): client
//! requests such as `get_tickets`, and whether someone may be seen on a ticket.

use std::time::SystemTime;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::{audience::Viewer, event::Delivered, identity::IdentifyError};

/// What a subscription to one of the application's Pusher channels may receive, and
/// for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelGrant {
    /// Whose view of the application's events the channel carries.
    pub viewer: Viewer,
    /// The person whose rights it stands on: a change of their rights has it checked
    /// again before anything after that change reaches it.
    pub holder: i64,
    /// When the credentials behind it end: it is checked again then.
    pub expires_at: Option<SystemTime>,
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("'{0}' requests are not supported by this server")]
    Unsupported(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("the request failed; try again")]
    Failed,
}

impl RequestError {
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Unsupported(_) => "unsupported",
            RequestError::Invalid { .. } => "invalid",
            RequestError::Forbidden(_) => "forbidden",
            RequestError::Failed => "failed",
        }
    }
}

#[async_trait]
pub trait Application: Send + Sync + 'static {
    /// Answers a client message whose `type` is not part of the hub's own protocol. The
    /// reply is sent to that client only.
    async fn request(
        &self,
        viewer: &Viewer,
        kind: &str,
        message: Map<String, Value>,
    ) -> Result<Value, RequestError>;

    /// Whether `viewer` may see (and be seen) on a ticket's presence list.
    async fn may_see_ticket(&self, viewer: &Viewer, ticket_id: i64) -> bool;

    /// Whether events of this type are the application's own, which only it may append:
    /// `POST /broadcast` refuses them, so that no other program can speak for it (a forged
    /// `ticket_created` would reach whoever its made-up audience names).
    fn owns_event_type(&self, _kind: &str) -> bool {
        false
    }

    /// Whose rights a subscription to one of the application's Pusher channels carries
    /// (channels of the first `--pusher-app`; docs/pusher.md): the application's own
    /// events visible to the grant's viewer are mirrored onto the channel.
    /// `channel_data` is what the application's auth endpoint signed for it. Asked when
    /// the subscription is made and again after each change of the holder's rights
    /// (see [`crate::rights`]); an error ends the subscription, with its message as the
    /// reason. `Ok(None)`: not one of the application's channels; it carries none of
    /// its events.
    async fn channel_grant(
        &self,
        _channel: &str,
        _channel_data: Option<&str>,
    ) -> Result<Option<ChannelGrant>, IdentifyError> {
        Ok(None)
    }

    /// Whether a visible event of the application belongs on `channel` (a ticket's
    /// channel carries only that ticket's events, say).
    fn belongs_on(&self, _event: &Delivered, _channel: &str) -> bool {
        true
    }
}

/// `ictdesk hub`: no application behind the hub. Requests are unsupported; tickets
/// belong to the publishing application, which decides who opens them.
pub struct NoApplication;

#[async_trait]
impl Application for NoApplication {
    async fn request(
        &self,
        _viewer: &Viewer,
        kind: &str,
        _message: Map<String, Value>,
    ) -> Result<Value, RequestError> {
        Err(RequestError::Unsupported(kind.to_owned()))
    }

    async fn may_see_ticket(&self, viewer: &Viewer, _ticket_id: i64) -> bool {
        matches!(viewer, Viewer::User { .. })
    }
}
