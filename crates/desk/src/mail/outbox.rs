//! Who is told what by mail, decided from a change's event and written to the outbox in
//! the change's transaction (`desk::Change::commit`): the change and its mails commit
//! together or not at all, and a mail exists for exactly the changes that happened.
//!
//! The rules (issue 11 point 2): the requester hears of their ticket's creation, of a
//! staff member's public comment and of its resolution; the assignee of being assigned
//! and of the requester's comments. Internal notes never produce a mail; nobody is
//! told about what they did themselves (the creation's confirmation excepted); blocked
//! people and kinds a person switched off get nothing.

use serde::{Deserialize, Serialize};

use super::{
    Mail, MailKind, MailRecipient, MailSettings,
    compose::{Letter, compose},
};
use crate::{
    error::{Error, Result},
    events,
    storage::Transaction,
    tickets::{Ticket, TicketStatus},
    timestamps,
    users::Role,
};
use ictdesk_hub::NewEvent;

/// A mail in the outbox: rendered once, sent as stored.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct OutboxMail {
    pub id: i64,
    /// `<…@domain>`, as in the message; the same on every attempt.
    pub message_id: String,
    #[sqlx(try_from = "String")]
    pub kind: MailKind,
    pub ticket_id: Option<i64>,
    pub recipient_id: Option<i64>,
    /// The envelope's sender and recipient.
    pub from_address: String,
    pub to_address: String,
    /// The whole RFC 5322 message, headers and MIME parts (7-bit: non-ASCII is encoded).
    pub message: String,
    /// Attempts started so far (a claim counts as one).
    pub attempts: i64,
    pub created_at: String,
    pub next_attempt_at: String,
    pub sent_at: Option<String>,
    /// Set when the mail was given up (a permanent refusal, or retries ran out).
    pub failed_at: Option<String>,
    pub last_error: Option<String>,
    /// Who claimed it last: once sent, the node that sent it.
    pub claimed_by: Option<String>,
}

/// What the tickets' events carry that mail needs (see `tickets.rs`).
#[derive(Deserialize)]
struct TicketNews {
    ticket: TicketRef,
    actor: PersonRef,
    #[serde(default)]
    old_status: Option<TicketStatus>,
    #[serde(default)]
    new_status: Option<TicketStatus>,
    /// Present, and a person, when the change assigned the ticket to someone.
    #[serde(default)]
    new_assignee: Option<PersonRef>,
    #[serde(default)]
    comment: Option<CommentRef>,
}

#[derive(Deserialize)]
struct TicketRef {
    id: i64,
    requester_id: i64,
    assignee_id: Option<i64>,
}

#[derive(Deserialize)]
struct PersonRef {
    id: i64,
    name: String,
}

#[derive(Deserialize)]
struct CommentRef {
    author_id: i64,
    author_role: Role,
    body: String,
    internal: bool,
}

/// One mail to write: its kind and who gets it.
#[derive(Debug, PartialEq, Eq)]
struct Notice {
    kind: MailKind,
    to: i64,
}

impl Mail {
    /// Writes the mails `events` call for into `tx`; how many. Nothing when e-mail is
    /// off. Only database errors fail (and so refuse the change); a mail that cannot be
    /// composed (an address SMTP cannot carry) is left out with a warning.
    pub(crate) async fn queue_for(
        &self,
        tx: &mut dyn Transaction,
        events: &[NewEvent],
    ) -> Result<usize> {
        let Some(settings) = &self.settings else {
            return Ok(0);
        };
        let mut queued = 0;
        for event in events {
            let Some(news) = ticket_news(event)? else {
                continue;
            };
            for notice in notices(event.kind.as_str(), &news) {
                if queue_one(tx, settings, &news, &notice).await? {
                    queued += 1;
                }
            }
        }
        Ok(queued)
    }

    /// Wakes this node's sender after a commit that queued mail.
    pub(crate) fn wake(&self) {
        self.queued.notify_one();
    }
}

fn ticket_news(event: &NewEvent) -> Result<Option<TicketNews>> {
    let kind = event.kind.as_str();
    let about_tickets = [
        events::TICKET_CREATED,
        events::TICKET_STATUS_CHANGED,
        events::TICKET_ASSIGNED,
        events::TICKET_COMMENT_CREATED,
    ];
    if !about_tickets.contains(&kind) {
        return Ok(None);
    }
    serde_json::from_str(event.data.get())
        .map(Some)
        .map_err(|error| Error::Internal(format!("{kind} event as mail sees it: {error}")))
}

/// The rules: which kinds of mail an event means, to whom (before preferences).
fn notices(kind: &str, news: &TicketNews) -> Vec<Notice> {
    let ticket = &news.ticket;
    let mut notices = Vec::new();
    match kind {
        events::TICKET_CREATED => notices.push(Notice {
            kind: MailKind::TicketCreated,
            to: ticket.requester_id,
        }),
        events::TICKET_COMMENT_CREATED => match &news.comment {
            Some(comment) if !comment.internal => {
                if comment.author_id == ticket.requester_id {
                    if let Some(assignee) = ticket.assignee_id {
                        notices.push(Notice {
                            kind: MailKind::RequesterReply,
                            to: assignee,
                        });
                    }
                } else if comment.author_role.is_staff() {
                    notices.push(Notice {
                        kind: MailKind::StaffReply,
                        to: ticket.requester_id,
                    });
                }
            }
            _ => {}
        },
        _ => {
            let resolved = news.new_status == Some(TicketStatus::Resolved)
                && news.old_status != Some(TicketStatus::Resolved);
            if resolved {
                notices.push(Notice {
                    kind: MailKind::TicketResolved,
                    to: ticket.requester_id,
                });
            }
            if let Some(assignee) = &news.new_assignee {
                notices.push(Notice {
                    kind: MailKind::TicketAssigned,
                    to: assignee.id,
                });
            }
        }
    }
    // Nobody is told what they did themselves — except that their ticket is registered.
    notices.retain(|notice| notice.to != news.actor.id || notice.kind == MailKind::TicketCreated);
    notices
}

/// Composes and writes one mail, if its recipient wants it; whether it was written.
async fn queue_one(
    tx: &mut dyn Transaction,
    settings: &MailSettings,
    news: &TicketNews,
    notice: &Notice,
) -> Result<bool> {
    let Some(recipient) = tx.mail_recipient(notice.to).await? else {
        return Ok(false);
    };
    if !recipient.wants(notice.kind) {
        return Ok(false);
    }
    let ticket = tx
        .ticket(news.ticket.id)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    let thread = tx.mail_thread(ticket.id, &recipient.email).await?;
    let letter = Letter {
        kind: notice.kind,
        ticket: &ticket,
        recipient: &recipient,
        actor: &news.actor.name,
        quote: quote(notice.kind, news, &ticket),
    };
    let composed = match compose(&letter, settings, &thread) {
        Ok(composed) => composed,
        Err(error) => {
            tracing::warn!(
                %error,
                recipient = recipient.id,
                ticket = ticket.id,
                "a mail was left out: it cannot be composed"
            );
            return Ok(false);
        }
    };
    tx.insert_mail(&outbox_row(notice, &recipient, &ticket, composed, settings))
        .await?;
    Ok(true)
}

/// What the mail quotes: the comment, the resolution, or the description.
fn quote<'a>(kind: MailKind, news: &'a TicketNews, ticket: &'a Ticket) -> Option<&'a str> {
    match kind {
        MailKind::StaffReply | MailKind::RequesterReply => {
            news.comment.as_ref().map(|comment| comment.body.as_str())
        }
        MailKind::TicketResolved => ticket.resolution.as_deref(),
        MailKind::TicketCreated | MailKind::TicketAssigned => {
            Some(ticket.description.as_str()).filter(|text| !text.trim().is_empty())
        }
    }
}

fn outbox_row(
    notice: &Notice,
    recipient: &MailRecipient,
    ticket: &Ticket,
    composed: super::compose::Composed,
    settings: &MailSettings,
) -> OutboxMail {
    let now = timestamps::format(timestamps::now());
    OutboxMail {
        id: 0,
        message_id: composed.message_id,
        kind: notice.kind,
        ticket_id: Some(ticket.id),
        recipient_id: Some(recipient.id),
        from_address: settings.from.email.to_string(),
        to_address: recipient.email.clone(),
        message: composed.message,
        attempts: 0,
        created_at: now.clone(),
        next_attempt_at: now,
        sent_at: None,
        failed_at: None,
        last_error: None,
        claimed_by: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn news(actor: i64, assignee: Option<i64>) -> TicketNews {
        TicketNews {
            ticket: TicketRef {
                id: 7,
                requester_id: 10,
                assignee_id: assignee,
            },
            actor: PersonRef {
                id: actor,
                name: "someone".into(),
            },
            old_status: None,
            new_status: None,
            new_assignee: None,
            comment: None,
        }
    }

    fn comment(author_id: i64, author_role: Role, internal: bool) -> Option<CommentRef> {
        Some(CommentRef {
            author_id,
            author_role,
            body: "text".into(),
            internal,
        })
    }

    fn notice(kind: MailKind, to: i64) -> Notice {
        Notice { kind, to }
    }

    #[test]
    fn the_requester_gets_a_confirmation_of_their_own_ticket() {
        assert_eq!(
            notices(events::TICKET_CREATED, &news(10, None)),
            [notice(MailKind::TicketCreated, 10)]
        );
    }

    #[test]
    fn a_staff_comment_goes_to_the_requester_and_a_requester_comment_to_the_assignee() {
        let mut staff = news(3, Some(3));
        staff.comment = comment(3, Role::Agent, false);
        assert_eq!(
            notices(events::TICKET_COMMENT_CREATED, &staff),
            [notice(MailKind::StaffReply, 10)]
        );
        let mut requester = news(10, Some(3));
        requester.comment = comment(10, Role::Requester, false);
        assert_eq!(
            notices(events::TICKET_COMMENT_CREATED, &requester),
            [notice(MailKind::RequesterReply, 3)]
        );
    }

    #[test]
    fn internal_notes_produce_no_mail() {
        let mut note = news(3, Some(4));
        note.comment = comment(3, Role::Agent, true);
        assert_eq!(notices(events::TICKET_COMMENT_CREATED, &note), []);
    }

    #[test]
    fn nobody_is_told_what_they_did_themselves() {
        let mut self_assigned = news(3, Some(3));
        self_assigned.new_assignee = Some(PersonRef {
            id: 3,
            name: "me".into(),
        });
        assert_eq!(notices(events::TICKET_ASSIGNED, &self_assigned), []);
    }

    #[test]
    fn resolving_and_assigning_at_once_tells_both() {
        let mut change = news(1, Some(3));
        change.old_status = Some(TicketStatus::InProgress);
        change.new_status = Some(TicketStatus::Resolved);
        change.new_assignee = Some(PersonRef {
            id: 3,
            name: "agent".into(),
        });
        assert_eq!(
            notices(events::TICKET_STATUS_CHANGED, &change),
            [
                notice(MailKind::TicketResolved, 10),
                notice(MailKind::TicketAssigned, 3)
            ]
        );
    }

    #[test]
    fn an_edit_that_keeps_the_status_resolved_is_no_resolution() {
        let mut edit = news(1, None);
        edit.old_status = Some(TicketStatus::Resolved);
        edit.new_status = Some(TicketStatus::Resolved);
        assert_eq!(notices(events::TICKET_STATUS_CHANGED, &edit), []);
    }
}
