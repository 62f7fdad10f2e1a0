//! Ticket comments: public ones, and internal notes that only agents and admins see.

use crate::users::Role;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub ticket_id: i64,
    pub author_id: i64,
    pub author_name: String,
    #[sqlx(try_from = "String")]
    pub author_role: Role,
    pub body: String,
    /// An agents-only note: never shown or sent to the requester.
    pub internal: bool,
    pub created_at: String,
}

/// `POST /tickets/{id}/comments`: `{body, internal?}`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewComment {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
}
