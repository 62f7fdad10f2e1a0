//! `/notifications`: the system notifications meant for the caller (`?all=true`: every
//! notification, expired and withdrawn ones included — admins only); admins create them
//! and withdraw them (`POST /notifications/{id}/withdraw`, «Снять»).

use axum::{Json, extract::State, response::Response};
use ictdesk_desk::notifications::{NewNotification, Notification};

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{Id, JsonBody, KnownFields, List, Params, created},
};

impl KnownFields for NewNotification {
    const FIELDS: &'static [&'static str] =
        &["title", "message", "level", "audience", "expires_at"];
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<List<Notification>> {
    let page = params.page()?;
    let notifications = if params.get("all")?.unwrap_or(false) {
        state.desk.all_notifications(&caller.user, page).await?
    } else {
        state.desk.list_notifications(&caller.user, page).await?
    };
    Ok(notifications.into())
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewNotification>,
) -> Result<Response> {
    Ok(created(
        state.desk.create_notification(&caller.user, &input).await?,
    ))
}

pub async fn withdraw(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<Notification>> {
    Ok(Json(
        state.desk.withdraw_notification(&caller.user, id).await?,
    ))
}
