//! Logging in and out (issue 3 point 5): `POST /api/v1/session` sets the session cookie
//! and answers the CSRF token and who you are; `GET` tells a page the same again;
//! `DELETE` logs out.

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use ictdesk_desk::users::User;
use ictdesk_hub::client_addr::client_ip;
use serde::{Deserialize, Serialize};

use crate::{
    AppState, WebConfig, csrf,
    error::{Error, Result},
    identity::{Proof, identify, session_cookie},
    origin::check_origin,
    requests::{JsonBody, KnownFields},
};

pub const SESSION_COOKIE: &str = "ictdesk_session";

#[derive(Deserialize)]
pub struct LoginRequest {
    email: String,
    password: String,
}

impl KnownFields for LoginRequest {
    const FIELDS: &'static [&'static str] = &["email", "password"];
}

/// `{"csrf_token", "user": {"id", "name", "email", "role", "locale"}}`.
#[derive(Serialize)]
pub struct SessionInfo<'a> {
    csrf_token: &'a str,
    user: SessionUser<'a>,
}

#[derive(Serialize)]
struct SessionUser<'a> {
    id: i64,
    name: &'a str,
    email: &'a str,
    role: &'a str,
    locale: &'a str,
}

impl<'a> SessionInfo<'a> {
    fn new(user: &'a User, csrf_token: &'a str) -> Self {
        Self {
            csrf_token,
            user: SessionUser {
                id: user.id,
                name: &user.name,
                email: &user.email,
                role: user.role.as_str(),
                locale: user.locale.as_str(),
            },
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<LoginRequest>,
) -> Result<Response> {
    // A login form posted from another site would sign the victim in as the attacker.
    check_origin(&headers, &state.config)
        .map_err(|message| Error::new(StatusCode::FORBIDDEN, message))?;
    // The hub's rule, with the hub's ICTDESK_TRUSTED_PROXIES: one answer to "who is
    // the client" for the login limit, the allow-list and the connection limit.
    let client = client_ip(peer.ip(), &headers, &state.hub.config().trusted_proxies);
    let logged_in = state
        .desk
        .login_from(
            &client.to_string(),
            &request.email,
            &request.password,
            state.login_limit,
        )
        .await?;
    let lifetime = state.desk.session_lifetime().whole_seconds();
    let cookie = session_cookie_header(&logged_in.session_token, lifetime, &state.config)?;
    let body = SessionInfo::new(&logged_in.user, &logged_in.csrf_token);
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// Who is signed in, and the CSRF token the page must send with changes.
pub async fn current(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    let caller = identify(&state.desk, &headers, None)
        .await?
        .ok_or_else(Error::unauthenticated)?;
    match &caller.proof {
        Proof::Session { csrf_token } => {
            Ok(Json(SessionInfo::new(&caller.user, csrf_token)).into_response())
        }
        // An API token has no session and needs no CSRF token.
        Proof::ApiToken => Ok(Json(SessionInfo::new(&caller.user, "")).into_response()),
    }
}

/// Ends the session (the CSRF token is required, so another site cannot log you out)
/// and clears the cookie. Without a valid session there is nothing to end: 204 anyway.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    if let Some(token) = session_cookie(&headers)
        && let Some(session) = state.desk.session_user(token).await?
    {
        csrf::require(&axum::http::Method::DELETE, &headers, &session.csrf_token)?;
        state.desk.logout(token).await?;
    }
    let cookie = clear_cookie_header(&state.config)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

fn session_cookie_header(token: &str, lifetime: i64, config: &WebConfig) -> Result<HeaderValue> {
    cookie_header(token, lifetime, config)
}

fn clear_cookie_header(config: &WebConfig) -> Result<HeaderValue> {
    cookie_header("", 0, config)
}

/// HttpOnly (scripts cannot read it), SameSite=Lax (not sent on cross-site posts),
/// Secure under TLS.
fn cookie_header(value: &str, max_age: i64, config: &WebConfig) -> Result<HeaderValue> {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&cookie)
        .map_err(|error| Error::Desk(ictdesk_desk::Error::Internal(format!("cookie: {error}"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_and_lax() {
        let cookie = session_cookie_header("abc", 60, &WebConfig::default()).expect("a cookie");
        let cookie = cookie.to_str().expect("text");
        assert!(cookie.starts_with("ictdesk_session=abc;"));
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
    }

    #[test]
    fn secure_cookies_are_marked_secure() {
        let config = WebConfig {
            secure_cookies: true,
            ..WebConfig::default()
        };
        let cookie = session_cookie_header("abc", 60, &config).expect("a cookie");
        assert!(cookie.to_str().expect("text").ends_with("; Secure"));
    }
}
