//! Who is connecting. In `ictdesk hub` a viewer shows an HS256 JWT (the WebSocket's
//! `{"type":"auth","token":…}` message, `Authorization: Bearer`, or `?token=`); the desk
//! identifies viewers by session instead, through the same trait.
//!
//! Identification is not only done once: a WebSocket keeps its [`Credentials`] and
//! identifies again whenever its viewer's rights may have changed (see [`crate::rights`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;

use crate::{audience::Viewer, config::Secret, event::Delivered, rights::RightsChange};

/// The request headers an [`Identify`] may read; a connection keeps only these.
const IDENTIFYING_HEADERS: [HeaderName; 4] = [
    header::AUTHORIZATION,
    header::COOKIE,
    header::ORIGIN,
    header::HOST,
];

/// What a connection or poll presents. A WebSocket keeps its own copy, to identify its
/// viewer again later.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// `Authorization`, `Cookie`, `Origin` and `Host` of the request.
    pub headers: HeaderMap,
    /// `?token=`, or the token of the WebSocket's `auth` message.
    pub token: Option<String>,
}

impl Credentials {
    pub fn new(headers: &HeaderMap, token: Option<&str>) -> Self {
        let mut kept = HeaderMap::new();
        for name in IDENTIFYING_HEADERS {
            for value in headers.get_all(&name) {
                kept.append(name.clone(), value.clone());
            }
        }
        Self {
            headers: kept,
            token: token.map(str::to_owned),
        }
    }

    /// The query (or `auth` message) token, else the `Authorization: Bearer` one.
    pub fn bearer(&self) -> Option<&str> {
        self.token.as_deref().or_else(|| {
            self.headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
        })
    }
}

/// Who presented the credentials, and until when they prove it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub viewer: Viewer,
    /// When the session or token ends: an open connection identifies again then, and is
    /// closed if it no longer can.
    pub expires_at: Option<SystemTime>,
}

impl Identity {
    pub fn anonymous() -> Self {
        Self {
            viewer: Viewer::Anonymous,
            expires_at: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    #[error("{0}")]
    Unauthenticated(String),
    /// The token's `exp` has passed (a connection that had it closes with "token expired").
    #[error("{0}")]
    Expired(String),
    #[error("{0}")]
    Forbidden(String),
    /// The credentials could not be checked (the database did not answer); try again.
    #[error("{0}")]
    Unavailable(String),
}

impl IdentifyError {
    pub fn status(&self) -> StatusCode {
        match self {
            IdentifyError::Unauthenticated(_) | IdentifyError::Expired(_) => {
                StatusCode::UNAUTHORIZED
            }
            IdentifyError::Forbidden(_) => StatusCode::FORBIDDEN,
            IdentifyError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

#[async_trait]
pub trait Identify: Send + Sync + 'static {
    /// Reads only [`Credentials`]' headers and token.
    async fn identify(&self, credentials: &Credentials) -> Result<Identity, IdentifyError>;

    /// Whose rights an event may change (a role change, a logout, a block): their open
    /// connections identify again before anything after it reaches them. Called once per
    /// event on each node, and by polls for the events after they identified.
    fn rights_change(&self, _event: &Delivered) -> Option<RightsChange> {
        None
    }
}

/// `ictdesk hub`'s identification: no token = anonymous; a token must be a valid HS256
/// JWT signed with `ICTDESK_HUB_SECRET`, inside its `nbf`–`exp` and ending within the
/// configured lifetime.
pub struct HubTokens {
    key: Option<DecodingKey>,
    max_lifetime: Duration,
}

#[derive(Deserialize)]
struct Claims {
    sub: Subject,
    role: String,
    exp: u64,
    #[serde(default)]
    name: Option<String>,
}

/// `sub` is a string by the JWT standard, but a number is accepted too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Subject {
    Number(i64),
    Text(String),
}

impl Subject {
    /// The user id; text only in its canonical form ("17", never "+17" or "017"), so
    /// that one user has one spelling.
    fn user_id(&self) -> Option<i64> {
        match self {
            Subject::Number(id) => Some(*id),
            Subject::Text(text) => text
                .parse::<i64>()
                .ok()
                .filter(|id| id.to_string() == *text),
        }
    }
}

impl HubTokens {
    /// Without a secret every token is refused. Tokens whose `exp` lies more than
    /// `max_lifetime` ahead are refused too: a leaked token must not work for centuries.
    pub fn new(secret: Option<&Secret>, max_lifetime: Duration) -> Self {
        Self {
            key: secret.map(|secret| DecodingKey::from_secret(secret.expose().as_bytes())),
            max_lifetime,
        }
    }

    fn verify(&self, token: &str, key: &DecodingKey) -> Result<Identity, IdentifyError> {
        let invalid =
            |problem: &str| IdentifyError::Unauthenticated(format!("invalid token: {problem}"));
        let mut validation = Validation::new(Algorithm::HS256);
        // `sub` is checked below: the library's check refuses the numbers we accept.
        validation.set_required_spec_claims(&["exp"]);
        validation.validate_nbf = true;
        // The connection is closed at `exp`, not a minute later.
        validation.leeway = 0;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => IdentifyError::Expired("token expired".into()),
                ErrorKind::ImmatureSignature => invalid("not valid yet (nbf)"),
                _ => invalid(&error.to_string()),
            })?
            .claims;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        // The library still accepts the second of `exp` itself.
        if claims.exp <= now {
            return Err(IdentifyError::Expired("token expired".into()));
        }
        if claims.exp - now > self.max_lifetime.as_secs() {
            return Err(invalid(&format!(
                "exp is more than {} s ahead (ICTDESK_HUB_TOKEN_MAX_LIFETIME)",
                self.max_lifetime.as_secs()
            )));
        }
        let id = claims.sub.user_id().ok_or_else(|| {
            invalid("sub must be a user id (a number, without sign or leading zeros)")
        })?;
        Ok(Identity {
            viewer: Viewer::User {
                id,
                role: claims.role,
                name: claims.name,
            },
            expires_at: Some(UNIX_EPOCH + Duration::from_secs(claims.exp)),
        })
    }
}

#[async_trait]
impl Identify for HubTokens {
    async fn identify(&self, credentials: &Credentials) -> Result<Identity, IdentifyError> {
        let Some(token) = credentials.bearer() else {
            return Ok(Identity::anonymous());
        };
        let Some(key) = &self.key else {
            return Err(IdentifyError::Unauthenticated(
                "tokens are not accepted: the server has no ICTDESK_HUB_SECRET".into(),
            ));
        };
        self.verify(token, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_canonical_spelling_of_a_user_id_is_accepted() {
        assert_eq!(Subject::Number(17).user_id(), Some(17));
        assert_eq!(Subject::Text("17".into()).user_id(), Some(17));
        for odd in ["+17", "017", " 17", "17 ", "1e1", ""] {
            assert_eq!(Subject::Text(odd.into()).user_id(), None, "{odd:?}");
        }
    }

    #[test]
    fn credentials_keep_only_the_identifying_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=b".parse().expect("a header value"));
        headers.insert(header::USER_AGENT, "curl".parse().expect("a header value"));
        let kept = Credentials::new(&headers, Some("t"));
        assert!(kept.headers.contains_key(header::COOKIE));
        assert!(!kept.headers.contains_key(header::USER_AGENT));
        assert_eq!(kept.bearer(), Some("t"));
    }
}
