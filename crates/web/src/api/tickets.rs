//! `/tickets`: list with filters, file, read with comments and history, change, comment.

use axum::{Json, extract::State, response::Response};
use ictdesk_desk::{
    attachments::Attachment,
    comments::{Comment, NewComment},
    history::HistoryEntry,
    tickets::{
        NewTicket, Priority, SavedTicket, Ticket, TicketChange, TicketOrder, TicketQuery,
        TicketStatus,
    },
};
use serde::Serialize;

use crate::{
    AppState,
    api::attachments::CommentInput,
    error::Result,
    identity::Caller,
    requests::{Id, JsonBody, KnownFields, List, Params, created},
};

impl KnownFields for NewTicket {
    const FIELDS: &'static [&'static str] = &[
        "title",
        "description",
        "priority",
        "type",
        "category_id",
        "equipment_id",
        "requester_id",
        "team_id",
    ];
}

impl KnownFields for TicketChange {
    const FIELDS: &'static [&'static str] = &[
        "version",
        "status",
        "resolution",
        "assignee_id",
        "priority",
        "title",
        "description",
        "type",
        "category_id",
        "equipment_id",
        "team_id",
    ];
}

impl KnownFields for NewComment {
    const FIELDS: &'static [&'static str] = &["body", "internal"];
}

/// `?status&priority&assignee_id&requester_id&category_id&equipment_id&team_id&unassigned
/// &awaiting_staff&order&q&page&per_page`; `status` may list several (`new,waiting`).
fn query(params: &Params) -> Result<TicketQuery> {
    Ok(TicketQuery {
        statuses: params
            .parse("status", TicketStatus::parse_list)?
            .unwrap_or_default(),
        priority: params.parse("priority", Priority::parse)?,
        assignee_id: params.get("assignee_id")?,
        unassigned: params.get("unassigned")?.unwrap_or(false),
        requester_id: params.get("requester_id")?,
        category_id: params.get("category_id")?,
        equipment_id: params.get("equipment_id")?,
        team_id: params.get("team_id")?,
        awaiting_staff: params.get("awaiting_staff")?.unwrap_or(false),
        q: params.text("q").map(str::to_owned),
        order: params
            .parse("order", TicketOrder::parse)?
            .unwrap_or_default(),
        ..TicketQuery::default()
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<List<Ticket>> {
    let tickets = state
        .desk
        .list_tickets(&caller.user, &query(&params)?, params.page()?)
        .await?;
    Ok(tickets.into())
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewTicket>,
) -> Result<Response> {
    Ok(created(
        state.desk.create_ticket(&caller.user, &input).await?,
    ))
}

/// The ticket's own fields, with its files, comments (each with its files) and history
/// beside them.
#[derive(Serialize)]
pub struct TicketView {
    #[serde(flatten)]
    ticket: Ticket,
    attachments: Vec<Attachment>,
    comments: Vec<Comment>,
    history: Vec<HistoryEntry>,
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<TicketView>> {
    let page = state.desk.ticket_page(&caller.user, id).await?;
    Ok(Json(TicketView {
        ticket: page.ticket,
        attachments: page.attachments,
        comments: page.comments,
        history: page.history,
    }))
}

pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    JsonBody(change): JsonBody<TicketChange>,
) -> Result<Json<SavedTicket>> {
    Ok(Json(
        state.desk.change_ticket(&caller.user, id, &change).await?,
    ))
}

pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    CommentInput(input): CommentInput,
) -> Result<Response> {
    Ok(created(
        state.desk.add_comment(&caller.user, id, &input).await?,
    ))
}
