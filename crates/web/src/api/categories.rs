//! `/categories`: the ticket and article category lists (`?scope=ticket|article`).

use axum::{extract::State, response::Response};
use ictdesk_desk::categories::{Category, CategoryScope, NewCategory};

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{JsonBody, KnownFields, List, Params, created},
};

impl KnownFields for NewCategory {
    const FIELDS: &'static [&'static str] = &["name", "scope", "active", "default_team_id"];
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<List<Category>> {
    let scope = params.parse("scope", CategoryScope::parse)?;
    Ok(List::whole(
        state.desk.list_categories(&caller.user, scope).await?,
    ))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewCategory>,
) -> Result<Response> {
    Ok(created(
        state.desk.create_category(&caller.user, &input).await?,
    ))
}
