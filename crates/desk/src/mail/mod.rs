//! E-mail, both ways (issue 11 points 2 and 3; docs/architecture.md, "E-mail").
//!
//! **Out**: a change's event decides who is told by mail ([`outbox`]: the requester on
//! creation, on a staff member's public comment and on resolution; the assignee on
//! assignment and on the requester's comments; never an internal note to a requester,
//! nobody about what they did themselves, nothing a person switched off). Each mail is
//! rendered ([`compose`]) and written to the outbox *in the change's transaction*, so
//! a change and its mails commit or vanish together. A sender task ([`delivery`])
//! claims due mails with a lease, sends them over SMTP and records the outcome,
//! retrying with backoff; a retry sends the stored bytes again, Message-ID included.
//!
//! **In**: `ictdesk mail-in` hands one RFC 5322 message to [`Desk::receive_mail`]
//! ([`receive`]), which turns it ([`inbound`], [`quotes`]) into a new ticket or a
//! comment on the ticket it answers.
//!
//! [`Desk::receive_mail`]: crate::Desk::receive_mail

mod compose;
pub mod delivery;
pub mod inbound;
pub(crate) mod outbox;
mod preferences;
pub mod quotes;
pub mod receive;

use std::sync::Arc;

use lettre::message::Mailbox;

pub use self::{
    delivery::{MailSender, Smtp, SmtpError},
    outbox::OutboxMail,
    preferences::MailPreferences,
    receive::{MailInError, Received, UnknownSenders},
};
use crate::{
    choice::choice,
    users::{Locale, UserStatus},
};

choice!(
    /// The kinds of mail the desk sends; each person can switch each off.
    MailKind {
        /// To the requester: their ticket is registered, with its number.
        TicketCreated = "ticket_created",
        /// To the requester: an agent's public comment on their ticket.
        StaffReply = "staff_reply",
        /// To the requester: their ticket is resolved, with the resolution.
        TicketResolved = "ticket_resolved",
        /// To an agent: a ticket is assigned to them.
        TicketAssigned = "ticket_assigned",
        /// To the assignee: the requester commented.
        RequesterReply = "requester_reply",
    }
);

impl MailKind {
    /// Only staff are assigned tickets, so only they get those kinds.
    pub fn for_staff_only(self) -> bool {
        matches!(self, MailKind::TicketAssigned | MailKind::RequesterReply)
    }
}

/// What sending mail needs. Without it (no `--smtp-url`) the desk writes no mail.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `From:` of every mail; its domain is the Message-IDs' right-hand side.
    pub from: Mailbox,
    /// The desk's address as people reach it, for links (`https://desk.example.org`).
    pub public_url: String,
    pub smtp: Smtp,
}

impl MailSettings {
    pub fn new(from: Mailbox, public_url: &str, smtp: Smtp) -> Self {
        Self {
            from,
            public_url: public_url.trim_end_matches('/').to_owned(),
            smtp,
        }
    }
}

/// A person as mail needs them: address, language, whether they may get any, what
/// they switched off.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailRecipient {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub locale: Locale,
    #[sqlx(try_from = "String")]
    pub status: UserStatus,
    #[sqlx(skip)]
    pub opted_out: Vec<MailKind>,
}

impl MailRecipient {
    pub(crate) fn wants(&self, kind: MailKind) -> bool {
        self.status == UserStatus::Active && !self.opted_out.contains(&kind)
    }
}

/// The desk's side of mail: the settings (`None`: e-mail is off) and the bell that
/// wakes this node's sender when a change has queued mail.
#[derive(Clone, Default)]
pub(crate) struct Mail {
    pub(crate) settings: Option<Arc<MailSettings>>,
    pub(crate) queued: Arc<tokio::sync::Notify>,
}

impl Mail {
    pub(crate) fn new(settings: Option<MailSettings>) -> Self {
        Self {
            settings: settings.map(Arc::new),
            queued: Arc::default(),
        }
    }
}
