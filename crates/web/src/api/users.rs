//! `/users`: list and search, create, read, change. Blocking someone closes their open
//! WebSockets at once (docs/protocol.md, close codes); the desk has already ended their
//! sessions.

use std::net::SocketAddr;

use axum::{
    Json,
    extract::{ConnectInfo, State},
    http::HeaderMap,
    response::Response,
};
use ictdesk_desk::{
    Error as DeskError,
    login_limit::{Admission, LoginAttempt},
    person_card::PersonCard,
    users::{NewUser, Role, User, UserChange, UserQuery, UserStatus},
};
use ictdesk_hub::client_addr::client_ip;

use crate::{
    AppState,
    error::Result,
    identity::{Caller, Proof, session_cookie},
    requests::{Id, JsonBody, KnownFields, List, Params, created},
};

impl KnownFields for NewUser {
    const FIELDS: &'static [&'static str] = &["name", "email", "role", "password", "locale"];
}

impl KnownFields for UserChange {
    const FIELDS: &'static [&'static str] = &[
        "version",
        "name",
        "email",
        "role",
        "status",
        "locale",
        "password",
        "current_password",
    ];
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<List<User>> {
    let query = UserQuery {
        role: params.parse("role", Role::parse)?,
        status: params.parse("status", UserStatus::parse)?,
        q: params.text("q").map(str::to_owned),
    };
    let users = state
        .desk
        .list_users(&caller.user, &query, params.page()?)
        .await?;
    Ok(users.into())
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewUser>,
) -> Result<Response> {
    Ok(created(state.desk.create_user(&caller.user, &input).await?))
}

pub async fn get(State(state): State<AppState>, caller: Caller, Id(id): Id) -> Result<Json<User>> {
    Ok(Json(state.desk.get_user(&caller.user, id).await?))
}

/// `GET /users/{id}/card`: the person's card for staff (open tickets, equipment, where
/// it stands); 404 for anyone else.
pub async fn card(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<PersonCard>> {
    Ok(Json(state.desk.person_card(&caller.user, id).await?))
}

pub async fn change(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    caller: Caller,
    headers: HeaderMap,
    Id(id): Id,
    JsonBody(change): JsonBody<UserChange>,
) -> Result<Json<User>> {
    // Blocking closes the user's connections through the event it emits (blocked.rs).
    // A new password ends the person's other sessions; this one stays.
    let session = match caller.proof {
        Proof::Session { .. } => session_cookie(&headers),
        Proof::ApiToken => None,
    };
    let guesses_password = id == caller.user.id && change.current_password.is_some();
    let attempt = if guesses_password {
        let client = client_ip(peer.ip(), &headers, &state.hub.config().trusted_proxies);
        Some(admit_guess(&state, &client.to_string(), &caller.user.email).await?)
    } else {
        None
    };
    let changed = state
        .desk
        .change_user_in_session(&caller.user, session, id, &change)
        .await;
    if let Some(attempt) = attempt {
        let wrong = matches!(&changed, Err(error) if error
            .fields()
            .is_some_and(|fields| fields.contains_key("current_password")));
        if !wrong {
            state.desk.forget_login_attempt(attempt).await?;
        }
    }
    Ok(Json(changed?.user))
}

/// The current password sent with a change of one's own is a guess like a login's, and
/// counts against the same limit (the address and account, the address): otherwise a
/// stolen session could try passwords as fast as the server hashes them. Reserved before
/// the desk checks it; forgotten unless it was wrong.
async fn admit_guess(state: &AppState, client: &str, email: &str) -> Result<LoginAttempt> {
    match state
        .desk
        .admit_login(client, email, state.login_limit)
        .await?
    {
        Admission::Admitted(attempt) => {
            tokio::time::sleep(attempt.delay).await;
            Ok(attempt)
        }
        Admission::Refused { retry_after } => {
            Err(DeskError::TooManyAttempts { retry_after }.into())
        }
    }
}
