//! The web layer's error: every failure becomes the hub's JSON shape
//! `{"error": "…", "fields": {"name": "problem"}}` with the right status code. Desk
//! errors map by kind; infrastructure failures are logged and never shown.

use std::collections::BTreeMap;

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ictdesk_desk::ErrorKind;
use ictdesk_hub::http::error::ApiError;
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Desk(#[from] ictdesk_desk::Error),
    /// Already in the answer's shape (bad JSON, bad query parameter, CSRF, …).
    #[error("request refused with {}", .0.status())]
    Api(ApiError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<ApiError> for Error {
    fn from(error: ApiError) -> Self {
        Error::Api(error)
    }
}

impl Error {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Error::Api(ApiError::new(status, message))
    }

    pub fn field(status: StatusCode, field: &str, problem: impl std::fmt::Display) -> Self {
        Error::Api(ApiError::field(status, field, problem))
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "sign in first (session cookie or Authorization: Bearer API token)",
        )
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::Api(error) => error.status(),
            Error::Desk(error) => desk_status(error.kind()),
        }
    }
}

fn desk_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Validation => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The same shape as [`ApiError`], which cannot carry several fields from outside; a
/// stale version also names who changed the object (`changed_by`), so that a page can
/// say it in its own language.
#[derive(Serialize)]
struct Body<'a> {
    error: String,
    fields: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_by: Option<&'a str>,
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let error = match self {
            Error::Api(error) => return error.into_response(),
            Error::Desk(error) => error,
        };
        match (&error, error.kind()) {
            (ictdesk_desk::Error::Database(_), _) => ApiError::unavailable(&error).into_response(),
            (_, ErrorKind::Internal) => {
                tracing::error!(%error, "request failed");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
            }
            (_, kind) => {
                let empty = BTreeMap::new();
                let body = Body {
                    error: error.to_string(),
                    fields: error.fields().unwrap_or(&empty),
                    changed_by: error.changed_by(),
                };
                let mut response = (desk_status(kind), Json(body)).into_response();
                if let Some(wait) = error.retry_after() {
                    let seconds = wait.as_secs().max(1);
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
                response
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stale_version_is_a_conflict() {
        let error = Error::from(ictdesk_desk::Error::Conflict {
            changed_by: "Anna".into(),
            fields: Default::default(),
        });
        assert_eq!(error.status(), StatusCode::CONFLICT);
    }

    #[test]
    fn a_validation_error_is_unprocessable() {
        let error = Error::from(ictdesk_desk::Error::field("title", "must not be empty"));
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_missing_object_is_not_found() {
        let error = Error::from(ictdesk_desk::Error::NotFound("ticket"));
        assert_eq!(error.status(), StatusCode::NOT_FOUND);
    }
}
