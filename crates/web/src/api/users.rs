//! `/users`: list and search, create, read, change. Blocking someone closes their open
//! WebSockets at once (SPEC §2); the desk has already ended their sessions.

use axum::{Json, extract::State, http::HeaderMap, response::Response};
use ictdesk_desk::users::{NewUser, Role, User, UserChange, UserQuery, UserStatus};

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

pub async fn change(
    State(state): State<AppState>,
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
    let changed = state
        .desk
        .change_user_in_session(&caller.user, session, id, &change)
        .await?;
    Ok(Json(changed.user))
}
