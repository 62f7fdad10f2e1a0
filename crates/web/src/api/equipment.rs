//! `/equipment`: list with filters, create, read with history, change.

use axum::{Json, extract::State, response::Response};
use ictdesk_desk::{
    equipment::{
        Equipment, EquipmentChange, EquipmentKind, EquipmentQuery, EquipmentStatus, NewEquipment,
    },
    history::HistoryEntry,
};
use serde::Serialize;

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{Id, JsonBody, KnownFields, List, Params, created},
};

impl KnownFields for NewEquipment {
    const FIELDS: &'static [&'static str] = &[
        "inventory_number",
        "name",
        "kind",
        "serial",
        "status",
        "location_id",
        "assigned_user_id",
        "notes",
    ];
}

impl KnownFields for EquipmentChange {
    const FIELDS: &'static [&'static str] = &[
        "version",
        "inventory_number",
        "name",
        "kind",
        "serial",
        "status",
        "location_id",
        "assigned_user_id",
        "notes",
    ];
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<List<Equipment>> {
    let query = EquipmentQuery {
        status: params.parse("status", EquipmentStatus::parse)?,
        kind: params.parse("kind", EquipmentKind::parse)?,
        location_id: params.get("location_id")?,
        assigned_user_id: params.get("assigned_user_id")?,
        q: params.text("q").map(str::to_owned),
    };
    let pieces = state
        .desk
        .list_equipment(&caller.user, &query, params.page()?)
        .await?;
    Ok(pieces.into())
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewEquipment>,
) -> Result<Response> {
    Ok(created(
        state.desk.create_equipment(&caller.user, &input).await?,
    ))
}

/// The piece's own fields with its history beside them.
#[derive(Serialize)]
pub struct EquipmentView {
    #[serde(flatten)]
    equipment: Equipment,
    history: Vec<HistoryEntry>,
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<EquipmentView>> {
    let page = state.desk.equipment_page(&caller.user, id).await?;
    Ok(Json(EquipmentView {
        equipment: page.equipment,
        history: page.history,
    }))
}

pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    JsonBody(change): JsonBody<EquipmentChange>,
) -> Result<Json<Equipment>> {
    Ok(Json(
        state
            .desk
            .change_equipment(&caller.user, id, &change)
            .await?,
    ))
}
