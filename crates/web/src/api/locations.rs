//! `/locations`: buildings and rooms.

use axum::{extract::State, response::Response};
use ictdesk_desk::locations::{Location, NewLocation};

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{JsonBody, KnownFields, List, created},
};

impl KnownFields for NewLocation {
    const FIELDS: &'static [&'static str] = &["name", "building", "room"];
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<List<Location>> {
    Ok(List::whole(state.desk.list_locations(&caller.user).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewLocation>,
) -> Result<Response> {
    Ok(created(
        state.desk.create_location(&caller.user, &input).await?,
    ))
}
