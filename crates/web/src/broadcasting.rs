//! The desk on Pusher channels (docs/pusher.md): `POST /broadcasting/auth`, as Laravel
//! answers it, signs a subscription for the signed-in user with the first
//! `--pusher-app`, and the desk's events are mirrored onto three kinds of channel —
//! `private-user.{id}` (what that user may see), `private-role.{role}` (what the role
//! may see) and `presence-ticket.{id}` (that ticket's events, for each member what
//! they may see) — so that a page written with Laravel Echo can follow the desk.
//!
//! A subscription follows its subscriber's rights as they are now, like every live
//! connection (issue 9.1): the signed `channel_data` names the user and the session or
//! API token that asked (its stored hash, which lets nobody in), and the hub checks the
//! grant again whenever that user's rights change, ending it when the session is gone,
//! the account blocked, or the role no longer fits the channel.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode, header},
};
use std::time::SystemTime;

use ictdesk_desk::{
    Desk,
    auth::token_hash,
    users::{User, UserStatus},
};
use ictdesk_hub::{
    ChannelGrant, CloseReason, Credentials, Delivered, IdentifyError, Viewer, pusher::channel_auth,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    AppState,
    error::{Error, Result},
    identity::{Caller, Proof, on_this_clock, session_cookie},
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
    let credential = Credential::of(&caller, &headers)?;
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
    let mut grant = json!({"user_id": user.id, "grant": credential.to_string()});
    if channel.starts_with("presence-") {
        grant["user_info"] = json!({"name": user.name, "role": user.role.as_str()});
    }
    let channel_data = grant.to_string();
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

/// The session or API token a subscription was granted to, by its stored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Credential {
    Session(String),
    ApiToken(String),
}

impl Credential {
    fn of(caller: &Caller, headers: &HeaderMap) -> Result<Self> {
        let credentials = Credentials::new(headers, None);
        let proof = match caller.proof {
            Proof::Session { .. } => {
                session_cookie(headers).map(|cookie| Self::Session(token_hash(cookie)))
            }
            Proof::ApiToken => credentials
                .bearer()
                .map(|token| Self::ApiToken(token_hash(token))),
        };
        proof.ok_or_else(Error::unauthenticated)
    }

    fn parse(text: &str) -> Option<Self> {
        match text.split_once(':')? {
            ("session", hash) => Some(Self::Session(hash.to_owned())),
            ("token", hash) => Some(Self::ApiToken(hash.to_owned())),
            _ => None,
        }
    }

    /// Its user while it is valid and the user active, and when it ends.
    async fn holder(
        &self,
        desk: &Desk,
    ) -> ictdesk_desk::Result<Option<(User, Option<SystemTime>)>> {
        let storage = desk.storage();
        Ok(match self {
            Self::Session(hash) => match storage.session(hash).await? {
                Some(session) => {
                    let ends = on_this_clock(desk, Some(&session.expires_at)).await;
                    Some((session.user, ends))
                }
                None => None,
            },
            Self::ApiToken(hash) => storage.api_token_user(hash).await?.map(|user| (user, None)),
        })
    }
}

impl std::fmt::Display for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Session(hash) => write!(f, "session:{hash}"),
            Self::ApiToken(hash) => write!(f, "token:{hash}"),
        }
    }
}

/// The `channel_data` `/broadcasting/auth` signs for a desk channel.
#[derive(Deserialize)]
struct Grant {
    user_id: i64,
    grant: String,
    #[serde(default)]
    user_info: Option<UserInfo>,
}

#[derive(Deserialize)]
struct UserInfo {
    role: String,
}

/// What a subscription to a desk channel may receive now (see the module's comment):
/// what its user may see — on a role's channel, what that role may see — while the
/// session or token it was granted to lasts, the account is active, and the channel
/// still fits the user. `None` for channels that are not the desk's.
pub async fn channel_grant(
    desk: &Desk,
    channel: &str,
    channel_data: Option<&str>,
) -> std::result::Result<Option<ChannelGrant>, IdentifyError> {
    let Some(channel) = DeskChannel::parse(channel) else {
        return Ok(None);
    };
    let grant: Grant = channel_data
        .and_then(|data| serde_json::from_str(data).ok())
        .ok_or_else(|| {
            IdentifyError::Unauthenticated("a desk channel is granted by /broadcasting/auth".into())
        })?;
    let credential = Credential::parse(&grant.grant).ok_or_else(|| {
        IdentifyError::Unauthenticated("a desk channel is granted by /broadcasting/auth".into())
    })?;
    let unavailable = |error: ictdesk_desk::Error| {
        tracing::error!(%error, "checking a Pusher subscription failed");
        IdentifyError::Unavailable("could not check the subscription; try again".into())
    };
    let Some((user, expires_at)) = credential.holder(desk).await.map_err(unavailable)? else {
        return Err(gone(desk, grant.user_id).await);
    };
    if user.id != grant.user_id {
        return Err(IdentifyError::Unauthenticated(SESSION_ENDED.into()));
    }
    let role_changed = || IdentifyError::Forbidden(ROLE_CHANGED.into());
    let viewer = match channel {
        DeskChannel::User(id) if id == user.id => user.viewer(),
        DeskChannel::User(_) => {
            return Err(IdentifyError::Forbidden("another user's channel".into()));
        }
        DeskChannel::Role(role) if role == user.role.as_str() => Viewer::User {
            // No user has id 0: the role channel carries what the role may see.
            id: 0,
            role: role.to_owned(),
            name: None,
        },
        DeskChannel::Role(_) => return Err(role_changed()),
        DeskChannel::Ticket(_)
            if grant.user_info.as_ref().map(|info| info.role.as_str())
                != Some(user.role.as_str()) =>
        {
            // The member list shows the role it was granted with.
            return Err(role_changed());
        }
        DeskChannel::Ticket(id) if desk.may_see_ticket(&user, id).await => user.viewer(),
        DeskChannel::Ticket(_) => {
            return Err(IdentifyError::Forbidden(
                "you may no longer see this ticket".into(),
            ));
        }
    };
    Ok(Some(ChannelGrant {
        viewer,
        holder: user.id,
        expires_at,
    }))
}

/// Why a grant's session or token no longer stands for its user.
async fn gone(desk: &Desk, user_id: i64) -> IdentifyError {
    match desk.storage().user(user_id).await {
        Ok(Some(user)) if user.status == UserStatus::Blocked => {
            IdentifyError::Forbidden(CloseReason::USER_BLOCKED.reason.into())
        }
        _ => IdentifyError::Unauthenticated(SESSION_ENDED.into()),
    }
}

const SESSION_ENDED: &str = CloseReason::SESSION_ENDED.reason;
const ROLE_CHANGED: &str = CloseReason::ROLE_CHANGED.reason;

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
        Some(DeskChannel::Ticket(id)) => serde_json::from_str::<Envelope>(&event.json)
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
