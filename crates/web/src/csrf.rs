//! CSRF protection for session-authenticated changes. The session cookie is sent by
//! the browser whatever page makes the request; the CSRF token is only known
//! to our own pages (it comes in the login answer and `GET /api/v1/session`), so a
//! change must carry it back in `X-CSRF-Token`. API tokens need no CSRF token: a
//! browser never attaches them on its own.

use axum::http::{HeaderMap, Method, StatusCode};
use ictdesk_hub::Secret;

use crate::error::{Error, Result};

pub const HEADER: &str = "x-csrf-token";

/// Reads never change anything; everything else needs the token.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub fn require(method: &Method, headers: &HeaderMap, expected: &str) -> Result<()> {
    if is_safe(method) {
        return Ok(());
    }
    let Some(sent) = headers.get(HEADER) else {
        return Err(Error::new(
            StatusCode::FORBIDDEN,
            "missing CSRF token: send the session's token in the X-CSRF-Token header",
        ));
    };
    let matches = sent
        .to_str()
        .is_ok_and(|sent| Secret::new(expected).matches(sent));
    if !matches {
        return Err(Error::new(
            StatusCode::FORBIDDEN,
            "invalid CSRF token: it does not match this session's",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn reads_need_no_token() {
        assert!(require(&Method::GET, &HeaderMap::new(), "t").is_ok());
    }

    #[test]
    fn a_change_without_the_token_is_forbidden() {
        let error = require(&Method::POST, &HeaderMap::new(), "t").expect_err("no token");
        assert_eq!(error.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn a_change_with_a_wrong_token_is_forbidden() {
        let mut headers = HeaderMap::new();
        headers.insert(HEADER, HeaderValue::from_static("wrong"));
        assert!(require(&Method::PATCH, &headers, "right").is_err());
        headers.insert(HEADER, HeaderValue::from_static("right"));
        assert!(require(&Method::PATCH, &headers, "right").is_ok());
    }
}
