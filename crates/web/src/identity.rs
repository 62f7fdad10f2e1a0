//! Who is asking: a session cookie (pages), an API token (`Authorization: Bearer`, or
//! `?token=` where a browser cannot set headers, as on a WebSocket), or nobody.
//!
//! [`Caller`] identifies API requests (and enforces CSRF on session-authenticated
//! changes); [`DeskIdentify`] identifies the hub's WebSocket and polling viewers.

use std::sync::Arc;

use async_trait::async_trait;
use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, StatusCode, header, request::Parts},
};
use ictdesk_desk::{Desk, users::User};
use ictdesk_hub::{Credentials, Identify, IdentifyError, Viewer};

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
    let credentials = Credentials {
        headers,
        token: query_token,
    };
    if let Some(token) = credentials.bearer() {
        let user = desk
            .api_token_user(token)
            .await?
            .ok_or_else(|| Error::new(StatusCode::UNAUTHORIZED, "invalid or revoked API token"))?;
        return Ok(Some(Caller {
            user,
            proof: Proof::ApiToken,
        }));
    }
    let Some(cookie) = session_cookie(headers) else {
        return Ok(None);
    };
    Ok(desk
        .session_user(cookie)
        .await?
        .map(|(user, csrf_token)| Caller {
            user,
            proof: Proof::Session { csrf_token },
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
    async fn identify(&self, credentials: &Credentials<'_>) -> Result<Viewer, IdentifyError> {
        check_origin(credentials.headers, &self.config).map_err(IdentifyError::Forbidden)?;
        match identify(&self.desk, credentials.headers, credentials.token).await {
            Ok(Some(caller)) => Ok(caller.user.viewer()),
            Ok(None) => Ok(Viewer::Anonymous),
            Err(Error::Desk(error)) => {
                // The hub answers 401 for this; the cause is ours to log.
                tracing::error!(%error, "identifying a connection failed");
                Err(IdentifyError::Unauthenticated(
                    "could not check the credentials; try again".into(),
                ))
            }
            Err(Error::Api(_)) => Err(IdentifyError::Unauthenticated(
                "invalid or revoked API token".into(),
            )),
        }
    }
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
