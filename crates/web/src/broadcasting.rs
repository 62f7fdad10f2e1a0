//! The desk on Pusher channels (docs/pusher.md): `POST /broadcasting/auth`, as Laravel
//! answers it, signs a subscription for the signed-in user with the first
//! `--pusher-app`, and the desk's events are mirrored onto three kinds of channel —
//! `private-user.{id}` (what that user may see), `private-role.{role}` (what the role
//! may see) and `presence-ticket.{id}` (that ticket's events, for each member what
//! they may see) — so that a page written with Laravel Echo can follow the desk.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use ictdesk_desk::users::{User, UserStatus};
use ictdesk_hub::{Delivered, Viewer, pusher::channel_auth};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    AppState,
    error::{Error, Result},
    identity::Caller,
};

/// The desk's channels, by what their name says.
#[derive(Debug, PartialEq, Eq)]
enum DeskChannel<'a> {
    User(i64),
    Role(&'a str),
    Ticket(i64),
}

impl<'a> DeskChannel<'a> {
    fn parse(name: &'a str) -> Option<Self> {
        if let Some(id) = name.strip_prefix("private-user.") {
            return id.parse().ok().map(DeskChannel::User);
        }
        if let Some(role) = name.strip_prefix("private-role.") {
            return Some(DeskChannel::Role(role));
        }
        name.strip_prefix("presence-ticket.")?
            .parse()
            .ok()
            .map(DeskChannel::Ticket)
    }
}

#[derive(Deserialize)]
struct AuthRequest {
    socket_id: String,
    channel_name: String,
}

/// `POST /broadcasting/auth` (form or JSON: `socket_id`, `channel_name`), with the
/// session cookie and its CSRF token (Echo sends `X-CSRF-TOKEN`) or an API token.
pub async fn auth(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>> {
    let Some(app) = state.hub.config().pusher_apps.first() else {
        return Err(Error::new(
            StatusCode::NOT_FOUND,
            "no Pusher app is configured (--pusher-app)",
        ));
    };
    let request = parse(&headers, &body)?;
    let user = &caller.user;
    let allowed = match DeskChannel::parse(&request.channel_name) {
        Some(DeskChannel::User(id)) => id == user.id,
        Some(DeskChannel::Role(role)) => role == user.role.as_str(),
        Some(DeskChannel::Ticket(id)) => state.desk.may_see_ticket(user, id).await,
        None => false,
    };
    if !allowed {
        return Err(Error::field(
            StatusCode::FORBIDDEN,
            "channel_name",
            format!("you may not subscribe to '{}'", request.channel_name),
        ));
    }
    let channel = request.channel_name.as_str();
    if !channel.starts_with("presence-") {
        return Ok(Json(json!({
            "auth": channel_auth(app, &request.socket_id, channel, None)
        })));
    }
    let channel_data = json!({
        "user_id": user.id,
        "user_info": {"name": user.name, "role": user.role.as_str()},
    })
    .to_string();
    Ok(Json(json!({
        "auth": channel_auth(app, &request.socket_id, channel, Some(&channel_data)),
        "channel_data": channel_data,
    })))
}

fn parse(headers: &HeaderMap, body: &[u8]) -> Result<AuthRequest> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json {
        return Ok(ictdesk_hub::http::error::parse_json(body)?);
    }
    serde_urlencoded::from_bytes(body).map_err(|error| {
        Error::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "body",
            format!("socket_id and channel_name are required: {error}"),
        )
    })
}

/// Whose rights a subscription to a desk channel carries (see the module's comment);
/// an account blocked since then carries none.
pub async fn channel_viewer(
    desk: &ictdesk_desk::Desk,
    channel: &str,
    member: Option<&str>,
) -> Option<Viewer> {
    let active = |user: User| (user.status == UserStatus::Active).then(|| user.viewer());
    let load = |id: i64| async move { desk.storage().user(id).await.ok().flatten() };
    match DeskChannel::parse(channel)? {
        DeskChannel::User(id) => load(id).await.and_then(active),
        DeskChannel::Role(role) => Some(Viewer::User {
            // No user has id 0: the role channel carries what the role may see.
            id: 0,
            role: role.to_owned(),
            name: None,
        }),
        DeskChannel::Ticket(_) => load(member?.parse().ok()?).await.and_then(active),
    }
}

/// A ticket's channel carries that ticket's events (`data.ticket.id`) only.
pub fn belongs_on(event: &Delivered, channel: &str) -> bool {
    #[derive(Deserialize)]
    struct Envelope {
        data: Data,
    }
    #[derive(Deserialize)]
    struct Data {
        ticket: Option<Ticket>,
    }
    #[derive(Deserialize)]
    struct Ticket {
        id: i64,
    }
    match DeskChannel::parse(channel) {
        Some(DeskChannel::Ticket(id)) => serde_json::from_str::<Envelope>(&event.frame)
            .ok()
            .and_then(|envelope| envelope.data.ticket)
            .is_some_and(|ticket| ticket.id == id),
        Some(_) => true,
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn desk_channels_are_read_from_their_names() {
        assert_eq!(
            DeskChannel::parse("private-user.17"),
            Some(DeskChannel::User(17))
        );
        assert_eq!(
            DeskChannel::parse("private-role.agent"),
            Some(DeskChannel::Role("agent"))
        );
        assert_eq!(
            DeskChannel::parse("presence-ticket.5"),
            Some(DeskChannel::Ticket(5))
        );
        assert_eq!(DeskChannel::parse("private-user.x"), None);
        assert_eq!(DeskChannel::parse("orders"), None);
    }
}
