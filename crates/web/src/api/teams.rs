//! `/teams`: the teams with their members and lead (agents and admins), created and
//! changed by admins. A team's queue is `GET /tickets?team_id=…`.

use axum::{Json, extract::State, response::Response};
use ictdesk_desk::teams::{NewTeam, Team, TeamChange};

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{Id, JsonBody, KnownFields, List, created},
};

impl KnownFields for NewTeam {
    const FIELDS: &'static [&'static str] =
        &["name", "lead_id", "member_ids", "auto_assign", "active"];
}

impl KnownFields for TeamChange {
    const FIELDS: &'static [&'static str] = &[
        "version",
        "name",
        "lead_id",
        "member_ids",
        "auto_assign",
        "active",
    ];
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<List<Team>> {
    Ok(List::whole(state.desk.list_teams(&caller.user).await?))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewTeam>,
) -> Result<Response> {
    Ok(created(state.desk.create_team(&caller.user, &input).await?))
}

pub async fn get(State(state): State<AppState>, caller: Caller, Id(id): Id) -> Result<Json<Team>> {
    Ok(Json(state.desk.get_team(&caller.user, id).await?))
}

pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    JsonBody(change): JsonBody<TeamChange>,
) -> Result<Json<Team>> {
    Ok(Json(
        state.desk.change_team(&caller.user, id, &change).await?,
    ))
}
