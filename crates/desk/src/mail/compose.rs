//! A ticket's mail as the recipient reads it: `[#123]` in the subject, a text and an
//! HTML part in the recipient's language, a link to the ticket, and the headers that
//! thread a ticket's mails together in their mail program.

use askama::Template;
use lettre::{
    Message,
    address::AddressError,
    message::{
        Mailbox, MultiPart,
        header::{HeaderName, HeaderValue},
    },
};

use super::{MailKind, MailRecipient, MailSettings};
use crate::{
    tickets::{Priority, Ticket},
    users::Locale,
};

/// What one mail is about and for whom.
pub(crate) struct Letter<'a> {
    pub kind: MailKind,
    pub ticket: &'a Ticket,
    pub recipient: &'a MailRecipient,
    /// Who made the change, by name.
    pub actor: &'a str,
    /// The comment, resolution or description the mail carries.
    pub quote: Option<&'a str>,
}

/// A rendered message and its id.
pub(crate) struct Composed {
    pub message_id: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ComposeError {
    #[error("the address {address} cannot be used: {error}")]
    Address {
        address: String,
        error: AddressError,
    },
    #[error("the message cannot be built: {0}")]
    Build(#[from] lettre::error::Error),
    #[error("the HTML part cannot be rendered: {0}")]
    Render(#[from] askama::Error),
}

/// The HTML part; the text part says the same in [`text_part`].
#[derive(Template)]
#[template(path = "mail/ticket.html")]
struct HtmlPart<'a> {
    view: &'a View<'a>,
}

/// What both parts show.
struct View<'a> {
    lang: &'static str,
    subject: String,
    greeting: String,
    lead: String,
    quote_label: Option<&'static str>,
    quote: Option<&'a str>,
    facts: Vec<(&'static str, String)>,
    link: String,
    link_label: String,
    footer: &'static str,
    preferences_link: String,
}

/// At most this many earlier Message-IDs in `References` (the first and the latest).
const REFERENCES_KEPT: usize = 10;

/// Renders `letter` as a message continuing `thread` (the Message-IDs of the earlier
/// mails about this ticket to this person, oldest first).
pub(crate) fn compose(
    letter: &Letter,
    settings: &MailSettings,
    thread: &[String],
) -> Result<Composed, ComposeError> {
    let view = view(letter, settings);
    let to = letter
        .recipient
        .email
        .parse()
        .map_err(|error| ComposeError::Address {
            address: letter.recipient.email.clone(),
            error,
        })?;
    let message_id = message_id(letter.ticket.id, settings.from.email.domain());
    let mut builder = Message::builder()
        .message_id(Some(message_id.clone()))
        .from(settings.from.clone())
        .to(Mailbox::new(Some(letter.recipient.name.clone()), to))
        .subject(view.subject.clone())
        // RFC 3834: a machine wrote this, so auto-responders must not answer it
        // (Exchange reads its own header) — no mail loop starts here.
        .raw_header(header("Auto-Submitted", "auto-generated"))
        .raw_header(header("X-Auto-Response-Suppress", "All"));
    if let Some(parent) = thread.last() {
        builder = builder
            .in_reply_to(parent.clone())
            .references(references(thread));
    }
    let html = HtmlPart { view: &view }.render()?;
    let message = builder.multipart(MultiPart::alternative_plain_html(text_part(&view), html))?;
    Ok(Composed {
        message_id,
        // Every header and part is 7-bit after lettre's encoding.
        message: String::from_utf8_lossy(&message.formatted()).into_owned(),
    })
}

/// `<ictdesk.ticket-123.<random>@domain>`: unique, and naming its ticket, so that a
/// reply's `In-Reply-To`/`References` lead `mail-in` to it (`inbound::ticket_of`).
fn message_id(ticket_id: i64, domain: &str) -> String {
    format!(
        "<{}{ticket_id}.{:016x}@{domain}>",
        super::inbound::MESSAGE_ID_PREFIX,
        rand::random::<u64>()
    )
}

fn references(thread: &[String]) -> String {
    let kept: Vec<&str> = if thread.len() <= REFERENCES_KEPT {
        thread.iter().map(String::as_str).collect()
    } else {
        std::iter::once(thread[0].as_str())
            .chain(
                thread[thread.len() - (REFERENCES_KEPT - 1)..]
                    .iter()
                    .map(String::as_str),
            )
            .collect()
    };
    kept.join(" ")
}

fn header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_owned())
}

fn text_part(view: &View) -> String {
    let mut text = format!("{}\n\n{}\n", view.greeting, view.lead);
    if let Some(quote) = view.quote {
        text.push('\n');
        if let Some(label) = view.quote_label {
            text.push_str(&format!("{label}:\n"));
        }
        text.push_str(quote.trim_end());
        text.push('\n');
    }
    if !view.facts.is_empty() {
        text.push('\n');
        for (label, value) in &view.facts {
            text.push_str(&format!("{label}: {value}\n"));
        }
    }
    text.push_str(&format!("\n{}: {}\n", view.link_label, view.link));
    // "-- " opens a signature: mail programs set what follows apart.
    text.push_str(&format!(
        "\n-- \n{} {}\n",
        view.footer, view.preferences_link
    ));
    text
}

fn view<'a>(letter: &Letter<'a>, settings: &MailSettings) -> View<'a> {
    let ticket = letter.ticket;
    let id = ticket.id;
    let ru = letter.recipient.locale == Locale::Ru;
    // A title is one line in a subject, whatever was typed.
    let title = ticket
        .title
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let actor = letter.actor;
    let (subject, lead, quote_label) = match (letter.kind, ru) {
        (MailKind::TicketCreated, true) => (
            "Заявка зарегистрирована",
            format!(
                "Ваша заявка зарегистрирована под номером #{id}. Мы сообщим, когда появятся новости."
            ),
            Some("Описание"),
        ),
        (MailKind::TicketCreated, false) => (
            "Ticket received",
            format!(
                "Your ticket has been registered as #{id}. We will let you know when there is news."
            ),
            Some("Description"),
        ),
        (MailKind::StaffReply, true) => (
            "Новый ответ",
            format!("{actor} ответил(а) по вашей заявке #{id}:"),
            None,
        ),
        (MailKind::StaffReply, false) => (
            "New reply",
            format!("{actor} replied to your ticket #{id}:"),
            None,
        ),
        (MailKind::TicketResolved, true) => (
            "Заявка решена",
            format!("Ваша заявка #{id} решена."),
            Some("Решение"),
        ),
        (MailKind::TicketResolved, false) => (
            "Ticket resolved",
            format!("Your ticket #{id} has been resolved."),
            Some("Resolution"),
        ),
        (MailKind::TicketAssigned, true) => (
            "Вам назначена заявка",
            format!("{actor} назначил(а) вам заявку #{id}."),
            Some("Описание"),
        ),
        (MailKind::TicketAssigned, false) => (
            "Assigned to you",
            format!("{actor} assigned ticket #{id} to you."),
            Some("Description"),
        ),
        (MailKind::RequesterReply, true) => (
            "Ответ заявителя",
            format!("{actor} написал(а) по заявке #{id}:"),
            None,
        ),
        (MailKind::RequesterReply, false) => (
            "The requester replied",
            format!("{actor} wrote on ticket #{id}:"),
            None,
        ),
    };
    let facts = if letter.kind == MailKind::TicketAssigned {
        vec![
            (
                if ru {
                    "Заявитель"
                } else {
                    "Requester"
                },
                ticket.requester_name.clone(),
            ),
            (
                if ru { "Приоритет" } else { "Priority" },
                priority_name(ticket.priority, ru).to_owned(),
            ),
        ]
    } else {
        Vec::new()
    };
    let name = &letter.recipient.name;
    View {
        lang: letter.recipient.locale.as_str(),
        subject: format!("[#{id}] {subject}: {title}"),
        greeting: if ru {
            format!("Здравствуйте, {name}!")
        } else {
            format!("Hello {name},")
        },
        lead,
        quote_label,
        quote: letter.quote,
        facts,
        link: format!("{}/tickets/{id}", settings.public_url),
        link_label: if ru {
            format!("Открыть заявку #{id}")
        } else {
            format!("Open ticket #{id}")
        },
        footer: if ru {
            "Это письмо отправлено службой ИТ-поддержки автоматически. Какие письма получать, можно выбрать здесь:"
        } else {
            "The IT service desk sent this message automatically. Choose which mails you get here:"
        },
        preferences_link: format!("{}/preferences", settings.public_url),
    }
}

fn priority_name(priority: Priority, ru: bool) -> &'static str {
    match (priority, ru) {
        (Priority::Low, true) => "низкий",
        (Priority::Medium, true) => "средний",
        (Priority::High, true) => "высокий",
        (Priority::Critical, true) => "критический",
        (Priority::Low, false) => "low",
        (Priority::Medium, false) => "medium",
        (Priority::High, false) => "high",
        (Priority::Critical, false) => "critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("<{i}@x>")).collect()
    }

    #[test]
    fn references_keep_the_first_and_the_latest() {
        assert_eq!(references(&ids(2)), "<0@x> <1@x>");
        let long = references(&ids(30));
        assert!(long.starts_with("<0@x> <21@x>"), "{long}");
        assert!(long.ends_with("<29@x>"), "{long}");
        assert_eq!(long.split(' ').count(), REFERENCES_KEPT);
    }

    #[test]
    fn message_ids_name_their_ticket_and_differ() {
        let one = message_id(42, "example.org");
        assert!(one.starts_with("<ictdesk.ticket-42."), "{one}");
        assert!(one.ends_with("@example.org>"), "{one}");
        assert_ne!(one, message_id(42, "example.org"));
    }
}
