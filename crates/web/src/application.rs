//! What the hub asks of the desk: the original system's `get_tickets` request over
//! WebSocket, and who may appear on a ticket's presence list.

use async_trait::async_trait;
use ictdesk_desk::{
    Desk, Page, events,
    tickets::{Priority, TicketQuery, TicketStatus},
    timestamps,
    users::User,
};
use ictdesk_hub::{Application, ChannelGrant, Delivered, IdentifyError, RequestError, Viewer};
use serde_json::{Map, Value, json};

pub struct DeskApplication {
    desk: Desk,
}

impl DeskApplication {
    pub fn new(desk: Desk) -> Self {
        Self { desk }
    }

    /// The viewer as the desk knows them now: a user blocked (or demoted) since the
    /// connection opened gets what their account allows today.
    async fn user(&self, viewer: &Viewer) -> Result<Option<User>, RequestError> {
        let Some(id) = viewer.user_id() else {
            return Ok(None);
        };
        self.desk.storage().user(id).await.map_err(|error| {
            tracing::error!(%error, "loading a connection's user failed");
            RequestError::Failed
        })
    }

    /// `{"type":"tickets","tickets":[…],"stats":{…},"last_updated":"…"}` with the page
    /// numbers too, so a page can show "1–25 of 140".
    async fn get_tickets(
        &self,
        viewer: &Viewer,
        message: &Map<String, Value>,
    ) -> Result<Value, RequestError> {
        let user = self
            .user(viewer)
            .await?
            .ok_or_else(|| RequestError::Forbidden("sign in to see tickets".into()))?;
        let (query, page) = ticket_filters(message)?;
        let tickets = self
            .desk
            .list_tickets(&user, &query, page)
            .await
            .map_err(desk_failure)?;
        let stats = self.desk.ticket_stats(&user).await.map_err(desk_failure)?;
        Ok(json!({
            "type": "tickets",
            "tickets": tickets.items,
            "stats": stats,
            "total": tickets.total,
            "page": tickets.page,
            "per_page": tickets.per_page,
            "last_updated": timestamps::format(timestamps::now()),
        }))
    }
}

fn desk_failure(error: ictdesk_desk::Error) -> RequestError {
    match error.kind() {
        ictdesk_desk::ErrorKind::Forbidden => RequestError::Forbidden(error.to_string()),
        _ => {
            tracing::error!(%error, "get_tickets failed");
            RequestError::Failed
        }
    }
}

/// The optional filters of `get_tickets`, named as in `GET /api/v1/tickets`.
fn ticket_filters(message: &Map<String, Value>) -> Result<(TicketQuery, Page), RequestError> {
    let query = TicketQuery {
        statuses: choice(message, "status", TicketStatus::parse_list)?.unwrap_or_default(),
        priority: choice(message, "priority", Priority::parse)?,
        assignee_id: number(message, "assignee_id")?,
        requester_id: number(message, "requester_id")?,
        category_id: number(message, "category_id")?,
        q: text(message, "q")?.map(str::to_owned),
        ..TicketQuery::default()
    };
    let page = Page::new(
        number(message, "page")?.map(clamp_u32),
        number(message, "per_page")?.map(clamp_u32),
    );
    Ok((query, page))
}

fn clamp_u32(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

fn invalid(field: &str, message: &str) -> RequestError {
    RequestError::Invalid {
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

fn text<'a>(message: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, RequestError> {
    match message.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.trim())),
        Some(_) => Err(invalid(field, "must be a string")),
    }
}

fn number(message: &Map<String, Value>, field: &str) -> Result<Option<i64>, RequestError> {
    match message.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(value) => value
            .as_i64()
            .map(Some)
            .ok_or_else(|| invalid(field, "must be an integer")),
    }
}

fn choice<T, E: std::fmt::Display>(
    message: &Map<String, Value>,
    field: &str,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<Option<T>, RequestError> {
    text(message, field)?
        .map(|raw| parse(raw).map_err(|error| invalid(field, &error.to_string())))
        .transpose()
}

#[async_trait]
impl Application for DeskApplication {
    async fn request(
        &self,
        viewer: &Viewer,
        kind: &str,
        message: Map<String, Value>,
    ) -> Result<Value, RequestError> {
        match kind {
            "get_tickets" => self.get_tickets(viewer, &message).await,
            _ => Err(RequestError::Unsupported(kind.to_owned())),
        }
    }

    async fn may_see_ticket(&self, viewer: &Viewer, ticket_id: i64) -> bool {
        match self.user(viewer).await {
            Ok(Some(user)) => self.desk.may_see_ticket(&user, ticket_id).await,
            _ => false,
        }
    }

    /// The desk's event types (`events::ALL`): only the desk appends them.
    fn owns_event_type(&self, kind: &str) -> bool {
        events::ALL.contains(&kind)
    }

    async fn channel_grant(
        &self,
        channel: &str,
        channel_data: Option<&str>,
    ) -> Result<Option<ChannelGrant>, IdentifyError> {
        crate::broadcasting::channel_grant(&self.desk, channel, channel_data).await
    }

    fn belongs_on(&self, event: &Delivered, channel: &str) -> bool {
        crate::broadcasting::belongs_on(event, channel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    }

    #[test]
    fn filters_are_optional() {
        let (query, page) = ticket_filters(&Map::new()).expect("no filters");
        assert_eq!(query, TicketQuery::default());
        assert_eq!(page, Page::default());
    }

    #[test]
    fn filters_parse_like_the_api() {
        let (query, _) = ticket_filters(&message(json!({"status": "waiting", "assignee_id": 4})))
            .expect("valid filters");
        assert_eq!(query.statuses, [TicketStatus::Waiting]);
        assert_eq!(query.assignee_id, Some(4));
    }

    #[test]
    fn a_bad_filter_names_the_field() {
        let error = ticket_filters(&message(json!({"status": "open"}))).expect_err("bad status");
        assert!(matches!(error, RequestError::Invalid { ref field, .. } if field == "status"));
        let error = ticket_filters(&message(json!({"page": "two"}))).expect_err("bad page");
        assert!(matches!(error, RequestError::Invalid { ref field, .. } if field == "page"));
    }
}
