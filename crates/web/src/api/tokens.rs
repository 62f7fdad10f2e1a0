//! `/tokens`: the caller's API tokens for integrations. The secret is shown once, when
//! created; only its hash is kept.

use axum::{extract::State, http::StatusCode, response::Response};
use ictdesk_desk::users::ApiToken;
use serde::Deserialize;

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{Id, JsonBody, KnownFields, List, created},
};

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
}

impl KnownFields for NewToken {
    const FIELDS: &'static [&'static str] = &["name"];
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<List<ApiToken>> {
    Ok(List::whole(state.desk.api_tokens(&caller.user).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewToken>,
) -> Result<Response> {
    Ok(created(
        state
            .desk
            .create_api_token(&caller.user, &input.name)
            .await?,
    ))
}

pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<StatusCode> {
    state.desk.delete_api_token(&caller.user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
