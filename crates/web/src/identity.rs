//! Who is asking: a session cookie (pages), an API token (`Authorization: Bearer`, or
//! `?token=` where a browser cannot set headers, as on a WebSocket), or nobody.
//!
//! [`Caller`] identifies API requests (and enforces CSRF on session-authenticated
//! changes); [`DeskIdentify`] identifies the hub's WebSocket and polling viewers, and
//! tells the hub which events change someone's rights.

use std::{sync::Arc, time::SystemTime};

use async_trait::async_trait;
use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use ictdesk_desk::{Desk, events, users::User};
use ictdesk_hub::{
    CloseReason, Credentials, Delivered, Identify, IdentifyError, Identity, RightsChange,
};
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

use crate::{
    AppState, WebConfig, csrf,
    error::{Error, Result},
    origin::check_origin,
    session::SESSION_COOKIE,
};

/// How a caller proved who they are.
#[derive(Debug, Clone)]
pub enum Proof {
    /// A session cookie; changes need this CSRF token back.
    Session { csrf_token: String },
    /// An API token: not sent by browsers on their own, so no CSRF risk.
    ApiToken,
}

/// A signed-in, active user making an API request.
pub struct Caller {
    pub user: User,
    pub proof: Proof,
    /// When the session ends (API tokens do not).
    pub expires_at: Option<String>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let caller = identify(&state.desk, &parts.headers, None)
            .await?
            .ok_or_else(Error::unauthenticated)?;
        if let Proof::Session { csrf_token } = &caller.proof {
            csrf::require(&parts.method, &parts.headers, csrf_token)?;
        }
        Ok(caller)
    }
}

/// The bearer token if any (query first, as the hub does), else the session cookie.
/// A bearer token that matches nobody is an error; a stale cookie is just no session.
pub async fn identify(
    desk: &Desk,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<Option<Caller>> {
    let credentials = Credentials::new(headers, query_token);
    if let Some(token) = credentials.bearer() {
        let user = desk
            .api_token_user(token)
            .await?
            .ok_or_else(|| Error::new(StatusCode::UNAUTHORIZED, "invalid or revoked API token"))?;
        return Ok(Some(Caller {
            user,
            proof: Proof::ApiToken,
            expires_at: None,
        }));
    }
    let Some(cookie) = session_cookie(headers) else {
        return Ok(None);
    };
    Ok(desk.session_user(cookie).await?.map(|session| Caller {
        user: session.user,
        proof: Proof::Session {
            csrf_token: session.csrf_token,
        },
        expires_at: Some(session.expires_at),
    }))
}

/// The value of our session cookie in the `Cookie` header(s).
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The hub's view of the desk's people.
pub struct DeskIdentify {
    desk: Desk,
    config: Arc<WebConfig>,
}

impl DeskIdentify {
    pub fn new(desk: Desk, config: Arc<WebConfig>) -> Self {
        Self { desk, config }
    }
}

#[async_trait]
impl Identify for DeskIdentify {
    async fn identify(&self, credentials: &Credentials) -> Result<Identity, IdentifyError> {
        let headers = &credentials.headers;
        check_origin(headers, &self.config).map_err(IdentifyError::Forbidden)?;
        match identify(&self.desk, headers, credentials.token.as_deref()).await {
            Ok(Some(caller)) => Ok(Identity {
                viewer: caller.user.viewer(),
                expires_at: on_this_clock(&self.desk, caller.expires_at.as_deref()).await,
            }),
            // A cookie whose session is gone (logout elsewhere, expiry, a password
            // change): the page must sign in again, not carry on as anonymous.
            Ok(None) if session_cookie(headers).is_some() => Err(IdentifyError::Unauthenticated(
                CloseReason::SESSION_ENDED.reason.into(),
            )),
            Ok(None) => Ok(Identity::anonymous()),
            Err(Error::Desk(error)) => {
                // The hub answers 503 for this; the cause is ours to log.
                tracing::error!(%error, "identifying a connection failed");
                Err(IdentifyError::Unavailable(
                    "could not check the credentials; try again".into(),
                ))
            }
            Err(Error::Api(_)) => Err(IdentifyError::Unauthenticated(
                "invalid or revoked API token".into(),
            )),
        }
    }

    /// A user's change (role, password, status…) or the end of one of their sessions or
    /// tokens: their connections identify again; a block closes them at once.
    fn rights_change(&self, event: &Delivered) -> Option<RightsChange> {
        if event.kind != events::USER_STATUS_CHANGED && event.kind != events::USER_SESSION_ENDED {
            return None;
        }
        let Envelope { data } = serde_json::from_str(&event.json).ok()?;
        let user_id = data.user.id;
        Some(if data.new_status.as_deref() == Some("blocked") {
            RightsChange::Revoke {
                user_id,
                reason: CloseReason::USER_BLOCKED,
            }
        } else {
            RightsChange::Recheck { user_id }
        })
    }
}

/// When a session the desk found valid ends, by this node's clock. The desk judges
/// sessions by the database's clock (issue 18 point 3); an end already past here means
/// this node's clock runs ahead, and the end moves by the difference, measured then (a
/// query only in that case) — else every connection would close early, in the last
/// minutes of its session.
pub(crate) async fn on_this_clock(desk: &Desk, stored: Option<&str>) -> Option<SystemTime> {
    let end = time::OffsetDateTime::parse(stored?, &Rfc3339).ok()?;
    if SystemTime::from(end) > SystemTime::now() {
        return Some(end.into());
    }
    match desk.clock_skew().await {
        Ok(ahead) => Some((end + ahead).into()),
        // The hub closes a connection whose end has passed; better than none.
        Err(error) => {
            tracing::warn!(%error, "cannot compare this node's clock with the database's");
            Some(end.into())
        }
    }
}

/// What `rights_change` reads of `user_status_changed` and `user_session_ended`.
#[derive(Deserialize)]
struct Envelope {
    data: UserEvent,
}

#[derive(Deserialize)]
struct UserEvent {
    user: UserId,
    #[serde(default)]
    new_status: Option<String>,
}

#[derive(Deserialize)]
struct UserId {
    id: i64,
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let map = headers(&[(header::COOKIE, "theme=dark; ictdesk_session=abc; x=1")]);
        assert_eq!(session_cookie(&map), Some("abc"));
        assert_eq!(session_cookie(&headers(&[(header::COOKIE, "x=1")])), None);
    }
}
