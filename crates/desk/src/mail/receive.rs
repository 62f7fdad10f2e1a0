//! Mail in (`ictdesk mail-in`): a message from a person becomes a ticket, or a comment
//! on the ticket it answers — through the same services, permissions and change path
//! as the pages, so the same event goes live and the same mails go out.

use bytes::Bytes;

use super::inbound::{self, IncomingFile, IncomingMail, Sender, Unreadable};
use crate::{
    attachments::{StoredFile, Upload, sanitize_name},
    comments::{Comment, NewComment},
    desk::Desk,
    error::{Error, ErrorKind},
    first_run::random_password,
    tickets::{NewTicket, Ticket, add_comment_in, create_ticket_in},
    timestamps,
    users::{Email, NewUser, User},
};

/// What to do with mail from an address no account has (`--mail-in-unknown`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownSenders {
    /// Give the sender a requester account and take the message.
    Create,
    /// Refuse the message (the MTA bounces it).
    #[default]
    Reject,
}

/// What became of a message that was taken.
#[derive(Debug)]
pub enum Received {
    Ticket(Box<Ticket>),
    Comment(Comment),
    /// Written by a machine (auto-reply, bounce): taken and dropped, so that no mail
    /// loop starts and the MTA does not bounce it back either.
    Dropped(String),
    /// Its Message-ID was taken before (an MTA retrying after a lost answer).
    AlreadyReceived,
}

/// Why a message was not taken. [`MailInError::is_temporary`] tells an MTA whether to
/// try again later or to bounce.
#[derive(Debug, thiserror::Error)]
pub enum MailInError {
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error("the message is larger than {0} bytes")]
    TooLarge(u64),
    #[error("the message names no sender (From)")]
    NoSender,
    #[error("the sender address '{0}' is not an e-mail address")]
    BadSender(String),
    #[error(
        "{0} has no account here, and mail from unknown senders is refused (--mail-in-unknown)"
    )]
    UnknownSender(String),
    #[error("{address} may not write to ticket #{ticket}: {reason}")]
    TicketRefused {
        address: String,
        ticket: i64,
        reason: Error,
    },
    #[error("{address} may not open tickets: {reason}")]
    Refused { address: String, reason: Error },
    #[error(transparent)]
    Desk(#[from] Error),
}

impl MailInError {
    /// The database or the desk failed, not the message: it may be taken later.
    pub fn is_temporary(&self) -> bool {
        matches!(self, MailInError::Desk(error) if matches!(error.kind(), ErrorKind::Internal | ErrorKind::Unavailable))
    }
}

/// A ticket's title is one line of at most this many characters…
const TITLE_LIMIT: usize = 200;
/// …its description and a comment at most these (the services' limits).
const DESCRIPTION_LIMIT: usize = 20_000;
const COMMENT_LIMIT: usize = 10_000;

impl Desk {
    /// Takes one RFC 5322 message: a comment on the ticket it answers (if its sender
    /// may comment there), else a new ticket of its sender's.
    pub async fn receive_mail(
        &self,
        raw: &[u8],
        unknown: UnknownSenders,
    ) -> Result<Received, MailInError> {
        let mail = inbound::parse(raw)?;
        if let Some(reason) = mail.automatic {
            return Ok(Received::Dropped(reason));
        }
        let sender = mail.from.as_ref().ok_or(MailInError::NoSender)?;
        let author = self.author(sender, &mail, unknown).await?;
        // The bytes go to the store before the transaction that records them (see
        // `attachments`); what cannot be kept is named at the end of the text.
        let (files, left_out) = self.store_files(&mail.files).await?;
        let body = format!("{}{left_out}", mail.body);
        let mut work = self.begin_change().await?;
        let at = timestamps::format(timestamps::now());
        if let Some(id) = &mail.message_id
            && !work.tx().remember_received_mail(id, &at).await?
        {
            return Ok(Received::AlreadyReceived);
        }
        match mail.ticket_id {
            Some(ticket) => {
                let comment = NewComment {
                    body: limited(&body, COMMENT_LIMIT),
                    internal: false,
                    files,
                };
                let outcome = add_comment_in(work.tx(), &author, ticket, &comment, &at)
                    .await
                    .map_err(|reason| refused(reason, &author, Some(ticket)))?;
                Ok(Received::Comment(work.finish(outcome).await?))
            }
            None => {
                let ticket = NewTicket {
                    title: title(&mail),
                    description: limited(&body, DESCRIPTION_LIMIT),
                    files,
                    ..NewTicket::default()
                };
                let outcome = create_ticket_in(work.tx(), &author, &ticket, &at)
                    .await
                    .map_err(|reason| refused(reason, &author, None))?;
                Ok(Received::Ticket(Box::new(work.finish(outcome).await?)))
            }
        }
    }

    /// Stores the message's files; one over `--max-upload-size` is left out and named
    /// in the returned note, an empty one skipped (an upload refuses both).
    async fn store_files(
        &self,
        files: &[IncomingFile],
    ) -> Result<(Vec<StoredFile>, String), MailInError> {
        let mut stored = Vec::with_capacity(files.len());
        let mut left_out = String::new();
        for file in files.iter().filter(|file| !file.bytes.is_empty()) {
            let upload = Upload {
                name: file.name.clone(),
                content_type: Some(file.content_type.clone()),
                bytes: Bytes::copy_from_slice(&file.bytes),
            };
            match self.store_file(upload).await {
                Ok(file) => stored.push(file),
                Err(Error::TooLarge { limit }) => left_out.push_str(&format!(
                    "\n\n[{}: {} bytes, over the desk's limit of {limit} bytes; not attached]",
                    sanitize_name(&file.name),
                    file.bytes.len()
                )),
                Err(error) => return Err(error.into()),
            }
        }
        Ok((stored, left_out))
    }

    /// The sender's account; for an unknown address, a new requester account or a
    /// refusal, as `unknown` says.
    async fn author(
        &self,
        sender: &Sender,
        mail: &IncomingMail,
        unknown: UnknownSenders,
    ) -> Result<User, MailInError> {
        let email = Email::parse(&sender.address)
            .map_err(|_| MailInError::BadSender(sender.address.clone()))?;
        if let Some(user) = self.store.user_by_email(email.as_str()).await? {
            return Ok(user);
        }
        if unknown == UnknownSenders::Reject {
            return Err(MailInError::UnknownSender(email.to_string()));
        }
        let name = sender.name.clone().unwrap_or_else(|| {
            email
                .as_str()
                .split('@')
                .next()
                .unwrap_or_default()
                .to_owned()
        });
        let account = NewUser {
            name: name.chars().take(100).collect(),
            email: email.to_string(),
            role: "requester".into(),
            password: random_password(),
            locale: Some(language_of(mail).into()),
        };
        Ok(self.create_user_by_system(&account).await?)
    }
}

/// The desk's refusal (no such ticket for this person, a blocked account, …) as the
/// sender's; a failure of the database stays a failure of the desk.
fn refused(reason: Error, author: &User, ticket: Option<i64>) -> MailInError {
    match reason.kind() {
        ErrorKind::Internal | ErrorKind::Unavailable => MailInError::Desk(reason),
        _ => match ticket {
            Some(ticket) => MailInError::TicketRefused {
                address: author.email.clone(),
                ticket,
                reason,
            },
            None => MailInError::Refused {
                address: author.email.clone(),
                reason,
            },
        },
    }
}

fn title(mail: &IncomingMail) -> String {
    let subject = mail.subject.trim();
    if !subject.is_empty() {
        return limited(subject, TITLE_LIMIT);
    }
    let first_line = mail
        .body
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty());
    limited(first_line.unwrap_or("(no subject)"), TITLE_LIMIT)
}

/// At most `limit` characters; a cut text ends with `…`.
fn limited(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(limit - 1).collect();
    cut.push('…');
    cut
}

/// Russian for a message written in Cyrillic, else English: the new account's language.
fn language_of(mail: &IncomingMail) -> &'static str {
    let cyrillic = |c: char| ('\u{0400}'..='\u{04FF}').contains(&c);
    if mail.subject.chars().chain(mail.body.chars()).any(cyrillic) {
        "ru"
    } else {
        "en"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_with_an_ellipsis() {
        assert_eq!(limited("abc", 3), "abc");
        assert_eq!(limited("abcd", 3), "ab…");
        assert_eq!(limited("привет", 4).chars().count(), 4);
    }
}
