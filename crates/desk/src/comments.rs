//! Ticket comments: public ones, and internal notes that only agents and admins see.

use crate::{
    attachments::{Attachment, StoredFile},
    users::Role,
};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, schemars::JsonSchema)]
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
    #[sqlx(skip)]
    pub attachments: Vec<Attachment>,
}

impl Comment {
    /// Hands each of the ticket's attachments that is on a comment to that comment.
    pub fn take_attachments(comments: &mut [Comment], attachments: &mut Vec<Attachment>) {
        for comment in comments {
            let (mine, rest) = std::mem::take(attachments)
                .into_iter()
                .partition(|file| file.comment_id == Some(comment.id));
            comment.attachments = mine;
            *attachments = rest;
        }
    }
}

/// `POST /tickets/{id}/comments`: `{body, internal?}`, and files already stored
/// (multipart requests, mail).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewComment {
    pub body: String,
    #[serde(default)]
    pub internal: bool,
    #[serde(skip)]
    pub files: Vec<StoredFile>,
}
