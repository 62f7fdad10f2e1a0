//! Who is connecting. In `ictdesk hub` a viewer shows an HS256 JWT (`?token=` or
//! `Authorization: Bearer`); the desk identifies viewers by session instead, through the
//! same trait.

use async_trait::async_trait;
use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::{audience::Viewer, config::Secret};

/// What a connection or poll presents.
pub struct Credentials<'a> {
    pub headers: &'a HeaderMap,
    /// `?token=` from the query string.
    pub token: Option<&'a str>,
}

impl Credentials<'_> {
    /// The query token, else the `Authorization: Bearer` one.
    pub fn bearer(&self) -> Option<&str> {
        self.token.or_else(|| {
            self.headers
                .get(header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("Bearer "))
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IdentifyError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
}

impl IdentifyError {
    pub fn status(&self) -> StatusCode {
        match self {
            IdentifyError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            IdentifyError::Forbidden(_) => StatusCode::FORBIDDEN,
        }
    }
}

#[async_trait]
pub trait Identify: Send + Sync + 'static {
    async fn identify(&self, credentials: &Credentials<'_>) -> Result<Viewer, IdentifyError>;
}

/// `ictdesk hub`'s identification: no token = anonymous; a token must be a valid,
/// unexpired HS256 JWT signed with `ICTDESK_HUB_SECRET`.
pub struct HubTokens {
    key: Option<DecodingKey>,
}

#[derive(Deserialize)]
struct Claims {
    sub: Subject,
    role: String,
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

impl HubTokens {
    pub fn new(secret: Option<&Secret>) -> Self {
        Self {
            key: secret.map(|secret| DecodingKey::from_secret(secret.expose().as_bytes())),
        }
    }
}

#[async_trait]
impl Identify for HubTokens {
    async fn identify(&self, credentials: &Credentials<'_>) -> Result<Viewer, IdentifyError> {
        let Some(token) = credentials.bearer() else {
            return Ok(Viewer::Anonymous);
        };
        let Some(key) = &self.key else {
            return Err(IdentifyError::Unauthenticated(
                "tokens are not accepted: the server has no ICTDESK_HUB_SECRET".into(),
            ));
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["exp", "sub"]);
        let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
            .map_err(|error| IdentifyError::Unauthenticated(format!("invalid token: {error}")))?
            .claims;
        let id = match claims.sub {
            Subject::Number(id) => id,
            Subject::Text(text) => text.parse().map_err(|_| {
                IdentifyError::Unauthenticated("invalid token: sub must be a user id".into())
            })?,
        };
        Ok(Viewer::User {
            id,
            role: claims.role,
            name: claims.name,
        })
    }
}
