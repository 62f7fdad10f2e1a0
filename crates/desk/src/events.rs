//! The events the desk appends, one per change: [`DeskEvent`], a payload struct per
//! type, and who receives each ([`DeskEvent::audience`]). `docs/events.schema.json` is
//! generated from these types (a test fails when it and the code drift apart) and
//! `docs/events.md` explains them.

use ictdesk_hub::{Audience, EventType, NewEvent};
use schemars::{JsonSchema, Schema, generate::SchemaSettings, transform::RecursiveTransform};
use serde::Serialize;
use serde_json::Value;

use crate::{
    articles::ArticleSummary,
    attachments::Attachment,
    audience,
    comments::Comment,
    equipment::{Equipment, EquipmentStatus},
    error::{Error, Result},
    history::NewHistory,
    notifications::Notification,
    teams::Team,
    tickets::{TicketStatus, TicketSummary},
    users::{FieldChange, Person, User, UserStatus},
};

pub const TICKET_CREATED: &str = "ticket_created";
pub const TICKET_STATUS_CHANGED: &str = "ticket_status_changed";
pub const TICKET_ASSIGNED: &str = "ticket_assigned";
pub const TICKET_UPDATED: &str = "ticket_updated";
pub const TICKET_COMMENT_CREATED: &str = "ticket_comment_created";
pub const USER_CREATED: &str = "user_created";
pub const USER_STATUS_CHANGED: &str = "user_status_changed";
pub const USER_SESSION_ENDED: &str = "user_session_ended";
pub const EQUIPMENT_STATUS_CHANGED: &str = "equipment_status_changed";
pub const EQUIPMENT_LOCATION_CHANGED: &str = "equipment_location_changed";
pub const KNOWLEDGE_ARTICLE_CREATED: &str = "knowledge_article_created";
pub const KNOWLEDGE_ARTICLE_UPDATED: &str = "knowledge_article_updated";
pub const SYSTEM_NOTIFICATION_CREATED: &str = "system_notification_created";
pub const SYSTEM_NOTIFICATION_WITHDRAWN: &str = "system_notification_withdrawn";
pub const TEAM_CREATED: &str = "team_created";
pub const TEAM_UPDATED: &str = "team_updated";

/// An inbox's entries were read: tells the reader's other pages their new count.
pub const INBOX_READ: &str = "inbox_read";

/// Every type the desk appends; only the desk may (`POST /broadcast` refuses them). A
/// test keeps this list equal to the variants of [`DeskEvent`].
pub const ALL: [&str; 17] = [
    TICKET_CREATED,
    TICKET_STATUS_CHANGED,
    TICKET_ASSIGNED,
    TICKET_UPDATED,
    TICKET_COMMENT_CREATED,
    USER_CREATED,
    USER_STATUS_CHANGED,
    USER_SESSION_ENDED,
    EQUIPMENT_STATUS_CHANGED,
    EQUIPMENT_LOCATION_CHANGED,
    KNOWLEDGE_ARTICLE_CREATED,
    KNOWLEDGE_ARTICLE_UPDATED,
    SYSTEM_NOTIFICATION_CREATED,
    SYSTEM_NOTIFICATION_WITHDRAWN,
    INBOX_READ,
    TEAM_CREATED,
    TEAM_UPDATED,
];

/// One event of the desk: its type (`type`) and payload (`data`), as the log stores
/// them and every transport delivers them (inside the envelope `{id, type, timestamp,
/// data}`).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[schemars(title = "DeskEvent")]
pub enum DeskEvent<'a> {
    /// A ticket was filed.
    TicketCreated(TicketCreated<'a>),
    /// A ticket's status changed (whatever else changed with it).
    TicketStatusChanged(TicketStatusChanged<'a>),
    /// A ticket's assignee changed, and its status did not.
    TicketAssigned(TicketAssigned<'a>),
    /// Other fields of a ticket changed (title, description, priority, type, category,
    /// equipment, resolution) or files were added or removed, but neither its status nor
    /// its assignee.
    TicketUpdated(TicketUpdated<'a>),
    /// A comment on a ticket (an internal note reaches agents and admins only).
    TicketCommentCreated(TicketCommentCreated<'a>),
    /// An account was created.
    UserCreated(UserCreated<'a>),
    /// An account changed: status, role, name, email, locale or password.
    UserStatusChanged(UserStatusChanged<'a>),
    /// One of a user's sessions or API tokens ended (logout, revocation): only that user
    /// hears of it, so that their open connections identify again.
    UserSessionEnded(UserSessionEnded),
    /// A piece of equipment was registered (`old_status` null), its status changed, or
    /// it changed without moving.
    EquipmentStatusChanged(EquipmentChanged<'a>),
    /// A piece of equipment moved, and its status did not change.
    EquipmentLocationChanged(EquipmentChanged<'a>),
    /// A knowledge-base article was published.
    KnowledgeArticleCreated(ArticleCreated<'a>),
    /// A knowledge-base article was edited.
    KnowledgeArticleUpdated(ArticleUpdated<'a>),
    /// A system notification was published.
    SystemNotificationCreated(NotificationCreated<'a>),
    /// An admin withdrew a system notification before it expired: its banner leaves
    /// every page.
    SystemNotificationWithdrawn(NotificationWithdrawn<'a>),
    /// Some of a user's inbox entries were read: only that user hears of it, so that
    /// their other pages show the new unread count.
    InboxRead(InboxRead),
    /// A team was created (agents and admins only).
    TeamCreated(TeamCreated<'a>),
    /// A team changed: its name, lead, members, auto-assignment or whether it is
    /// active (agents and admins only).
    TeamUpdated(TeamUpdated<'a>),
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketCreated<'a> {
    pub ticket: TicketSummary<'a>,
    /// The files it was filed with.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub attachments: &'a [Attachment],
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketStatusChanged<'a> {
    pub ticket: TicketSummary<'a>,
    pub old_status: TicketStatus,
    pub new_status: TicketStatus,
    /// Present when the assignee changed too (`null`: nobody).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_assignee: Option<Option<Person<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_assignee: Option<Option<Person<'a>>>,
    /// Every changed field, as in the ticket's history.
    pub changes: &'a [NewHistory],
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketAssigned<'a> {
    pub ticket: TicketSummary<'a>,
    /// The status, unchanged (`old_status` = `new_status`).
    pub old_status: TicketStatus,
    pub new_status: TicketStatus,
    /// `null`: nobody.
    pub old_assignee: Option<Person<'a>>,
    pub new_assignee: Option<Person<'a>>,
    pub changes: &'a [NewHistory],
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketUpdated<'a> {
    pub ticket: TicketSummary<'a>,
    /// Every changed field; an added or removed file is an `attachment` change.
    pub changes: &'a [NewHistory],
    /// The files just added.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub attachments: &'a [Attachment],
    /// The change concerns an internal note (its files): agents and admins only.
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TicketCommentCreated<'a> {
    pub ticket: TicketSummary<'a>,
    pub comment: &'a Comment,
    /// What the comment changed on the ticket: a requester's reply takes a waiting or
    /// resolved ticket back into work (absent when it changed nothing).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub changes: &'a [NewHistory],
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserCreated<'a> {
    pub user: &'a User,
    /// `null` when created from the command line.
    pub actor: Option<Person<'a>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserStatusChanged<'a> {
    pub user: &'a User,
    pub old_status: UserStatus,
    pub new_status: UserStatus,
    /// The changed fields; a password change is listed without its values.
    pub changes: Vec<FieldChange>,
    /// `null` when changed from the command line.
    pub actor: Option<Person<'a>>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserSessionEnded {
    pub user: UserId,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UserId {
    pub id: i64,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EquipmentChanged<'a> {
    pub equipment: &'a Equipment,
    /// Where it is now, as people read it ("Building › Room").
    pub location: Option<String>,
    /// `null` for a piece just registered.
    pub old_status: Option<EquipmentStatus>,
    pub new_status: EquipmentStatus,
    /// Both present when it moved (`null`: nowhere), else `null`.
    pub old_location: Option<Option<String>>,
    pub new_location: Option<Option<String>>,
    pub changes: &'a [NewHistory],
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ArticleCreated<'a> {
    pub article: ArticleSummary<'a>,
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ArticleUpdated<'a> {
    pub article: ArticleSummary<'a>,
    /// Which of `title`, `body`, `visibility`, `category`, `attachments` changed.
    pub changed_fields: &'a [&'static str],
    /// The files just added.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub attachments: &'a [Attachment],
    pub actor: Person<'a>,
}

fn is_false(value: &bool) -> bool {
    !value
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationCreated<'a> {
    pub notification: &'a Notification,
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamCreated<'a> {
    pub team: &'a Team,
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TeamUpdated<'a> {
    pub team: &'a Team,
    /// Which of `name`, `lead`, `members`, `auto_assign`, `active` changed.
    pub changed_fields: &'a [&'static str],
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NotificationWithdrawn<'a> {
    pub notification: &'a Notification,
    pub actor: Person<'a>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InboxRead {
    pub user_id: i64,
    /// How many of the user's entries stay unread.
    pub unread: i64,
}

impl DeskEvent<'_> {
    /// Who receives it (see `audience`): decided here, once per type.
    pub fn audience(&self) -> Audience {
        match self {
            Self::TicketCreated(TicketCreated { ticket, .. })
            | Self::TicketStatusChanged(TicketStatusChanged { ticket, .. })
            | Self::TicketAssigned(TicketAssigned { ticket, .. }) => {
                audience::ticket(ticket.requester_id)
            }
            Self::TicketUpdated(TicketUpdated {
                ticket, internal, ..
            }) => audience::comment(ticket.requester_id, *internal),
            Self::TicketCommentCreated(TicketCommentCreated {
                ticket, comment, ..
            }) => audience::comment(ticket.requester_id, comment.internal),
            Self::UserCreated(_) | Self::UserStatusChanged(_) => audience::users(),
            Self::UserSessionEnded(UserSessionEnded { user }) => audience::own(user.id),
            Self::EquipmentStatusChanged(changed) | Self::EquipmentLocationChanged(changed) => {
                audience::equipment(changed.equipment.assigned_user_id)
            }
            Self::KnowledgeArticleCreated(ArticleCreated { article, .. })
            | Self::KnowledgeArticleUpdated(ArticleUpdated { article, .. }) => {
                audience::article(article.visibility)
            }
            Self::SystemNotificationCreated(NotificationCreated { notification, .. })
            | Self::SystemNotificationWithdrawn(NotificationWithdrawn { notification, .. }) => {
                audience::notification(notification.audience)
            }
            Self::InboxRead(InboxRead { user_id, .. }) => audience::own(*user_id),
            Self::TeamCreated(_) | Self::TeamUpdated(_) => audience::teams(),
        }
    }

    /// The event as the hub's log takes it, with its audience.
    pub fn encode(&self) -> Result<NewEvent> {
        let internal = |what: String| Error::Internal(format!("desk event: {what}"));
        let Value::Object(mut fields) = serde_json::to_value(self)? else {
            return Err(internal("not an object".into()));
        };
        let kind = fields
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| internal("no type".into()))?;
        let kind = EventType::parse(kind).map_err(|error| internal(format!("{kind}: {error}")))?;
        let data = fields.remove("data").unwrap_or(Value::Null);
        Ok(NewEvent::new(kind, &data, self.audience())?)
    }
}

/// The JSON Schema of every desk event (`docs/events.schema.json`). Objects are closed
/// (`additionalProperties: false`): an event with a field the types do not have is not
/// a desk event. It describes what serde writes: a field skipped when empty is optional,
/// an `Option` always written is required and may be `null`.
pub fn schema() -> Schema {
    SchemaSettings::draft2020_12()
        .for_serialize()
        .with_transform(RecursiveTransform(close_object))
        .into_generator()
        .into_root_schema_for::<DeskEvent<'static>>()
}

fn close_object(schema: &mut Schema) {
    if schema.get("properties").is_some() && schema.get("additionalProperties").is_none() {
        schema.insert("additionalProperties".into(), false.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_desk_event_type_is_a_valid_hub_event_type() {
        for kind in ALL {
            assert!(EventType::parse(kind).is_ok(), "{kind}");
        }
    }

    #[test]
    fn the_list_of_types_is_the_schema_s() {
        let schema = serde_json::to_value(schema()).expect("the schema serializes");
        let mut in_schema: Vec<&str> = schema["oneOf"]
            .as_array()
            .expect("one schema per type")
            .iter()
            .filter_map(|one| one["properties"]["type"]["const"].as_str())
            .collect();
        in_schema.sort_unstable();
        let mut listed = ALL.to_vec();
        listed.sort_unstable();
        assert_eq!(in_schema, listed);
    }

    /// The schema in `docs/` is the one the code gives. To write it after changing an
    /// event: `ICTDESK_WRITE_SCHEMA=1 cargo test -p ictdesk-desk events_schema`.
    #[test]
    fn events_schema_in_docs_is_up_to_date() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/events.schema.json");
        let generated =
            serde_json::to_string_pretty(&schema()).expect("the schema serializes") + "\n";
        if std::env::var_os("ICTDESK_WRITE_SCHEMA").is_some() {
            std::fs::write(path, &generated).expect("docs/events.schema.json is writable");
        }
        let written = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            written == generated,
            "docs/events.schema.json differs from the desk's event types; run \
             ICTDESK_WRITE_SCHEMA=1 cargo test -p ictdesk-desk events_schema"
        );
    }
}
