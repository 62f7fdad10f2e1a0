//! `/inbox`: the caller's own notification inbox — never anyone else's.

use axum::{Json, extract::State, http::StatusCode};
use ictdesk_desk::inbox::{InboxEntry, MarkRead};
use serde::{Deserialize, Serialize};

use crate::{
    AppState,
    error::{Error, Result},
    identity::Caller,
    requests::{JsonBody, KnownFields, Params},
};

/// `{"items", "unread", "page", "per_page", "total"}`.
#[derive(Serialize)]
pub struct InboxPage {
    items: Vec<InboxEntry>,
    unread: i64,
    page: u32,
    per_page: u32,
    total: i64,
}

/// `GET /inbox?unread=1&page=N`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<Json<InboxPage>> {
    let unread_only = match params.text("unread") {
        None | Some("0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => {
            return Err(Error::field(
                StatusCode::BAD_REQUEST,
                "unread",
                "must be 1 or 0",
            ));
        }
    };
    let desk = &state.desk;
    let entries = desk
        .inbox(&caller.user, unread_only, params.page()?)
        .await?;
    Ok(Json(InboxPage {
        unread: desk.unread_count(&caller.user).await?,
        items: entries.items,
        page: entries.page,
        per_page: entries.per_page,
        total: entries.total,
    }))
}

/// `{"ids": […]}` or `{"all": true}`.
#[derive(Deserialize)]
pub struct ReadRequest {
    #[serde(default)]
    ids: Option<Vec<i64>>,
    #[serde(default)]
    all: Option<bool>,
}

impl KnownFields for ReadRequest {
    const FIELDS: &'static [&'static str] = &["ids", "all"];
}

/// At most this many ids in one request.
const MAX_IDS: usize = 1000;

impl ReadRequest {
    fn which(self) -> Result<MarkRead> {
        match (self.ids, self.all) {
            (Some(ids), None | Some(false)) if ids.len() <= MAX_IDS => Ok(MarkRead::Ids(ids)),
            (Some(_), None | Some(false)) => Err(Error::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ids",
                format!("at most {MAX_IDS} at once"),
            )),
            (None, Some(true)) => Ok(MarkRead::All),
            (Some(_), Some(true)) => Err(Error::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "all",
                "give either ids or all, not both",
            )),
            (None, _) => Err(Error::field(
                StatusCode::UNPROCESSABLE_ENTITY,
                "ids",
                "is required (or \"all\": true)",
            )),
        }
    }
}

#[derive(Serialize)]
pub struct Unread {
    unread: i64,
}

/// `POST /inbox/read` → `{"unread": N}`.
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ReadRequest>,
) -> Result<Json<Unread>> {
    let unread = state
        .desk
        .mark_read(&caller.user, &request.which()?)
        .await?;
    Ok(Json(Unread { unread }))
}
