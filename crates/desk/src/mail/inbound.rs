//! One incoming RFC 5322 message, read (mail-parser: MIME, quoted-printable, base64,
//! charsets such as windows-1251 and KOI8-R, encoded words) into what the desk needs:
//! who wrote, which ticket it answers, its text without the quoted history, its files,
//! and whether a machine wrote it (an auto-reply or a bounce, which must not become a
//! ticket, or two desks would answer each other for ever).

use mail_parser::{HeaderValue, Message, MessageParser, MimeHeaders, PartType};

use super::quotes::trim_reply;

/// How the desk's own Message-IDs begin (`<ictdesk.ticket-123.…@domain>`), so that a
/// reply's `In-Reply-To`/`References` name the ticket.
pub const MESSAGE_ID_PREFIX: &str = "ictdesk.ticket-";

/// An incoming message as the desk takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingMail {
    /// Without angle brackets.
    pub message_id: Option<String>,
    pub from: Option<Sender>,
    pub subject: String,
    /// The text its writer wrote: HTML turned into text, quoted history trimmed.
    pub body: String,
    /// The ticket it answers: `[#123]` in the subject, else a Message-ID of the desk's
    /// in `In-Reply-To`/`References`.
    pub ticket_id: Option<i64>,
    /// Why a machine wrote it (auto-reply, bounce), if one did.
    pub automatic: Option<String>,
    pub files: Vec<IncomingFile>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sender {
    pub address: String,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not an e-mail message (RFC 5322): no header could be read")]
pub struct Unreadable;

/// Reads one message.
pub fn parse(raw: &[u8]) -> Result<IncomingMail, Unreadable> {
    let message = MessageParser::default().parse(raw).ok_or(Unreadable)?;
    if message.headers().is_empty() {
        return Err(Unreadable);
    }
    let subject = message
        .subject()
        .map(|subject| subject.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    Ok(IncomingMail {
        message_id: message.message_id().map(str::to_owned),
        from: sender(&message),
        ticket_id: ticket_in_subject(&subject).or_else(|| ticket_in_headers(&message)),
        subject,
        body: trim_reply(&body_text(&message)),
        automatic: automatic(&message),
        files: files(&message),
    })
}

fn sender(message: &Message) -> Option<Sender> {
    let from = message.from().or_else(|| message.sender())?.first()?;
    let address = from.address.as_deref()?.trim().to_owned();
    let name = from
        .name
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned);
    Some(Sender { address, name })
}

/// `[#123]` anywhere in the subject (after `Re:`, `Fwd:`, `AW:`, `Ответ:` …).
pub fn ticket_in_subject(subject: &str) -> Option<i64> {
    subject.match_indices("[#").find_map(|(at, _)| {
        let rest = &subject[at + 2..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        (digits > 0 && rest[digits..].starts_with(']'))
            .then(|| rest[..digits].parse().ok())
            .flatten()
    })
}

fn ticket_in_headers(message: &Message) -> Option<i64> {
    [message.in_reply_to(), message.references()]
        .into_iter()
        .flat_map(ids)
        .find_map(|id| ticket_of(&id))
}

fn ids(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.to_string()],
        HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    }
}

/// The ticket a Message-ID of the desk's names (`ictdesk.ticket-123.…@domain`).
pub fn ticket_of(message_id: &str) -> Option<i64> {
    let rest = message_id
        .trim_start_matches('<')
        .strip_prefix(MESSAGE_ID_PREFIX)?;
    let digits = rest.split(['.', '@']).next()?;
    digits.parse().ok()
}

/// The first plain-text body; else the first HTML body as text.
fn body_text(message: &Message) -> String {
    let plain = message
        .text_bodies()
        .find(|part| !part.is_text_html())
        .and_then(|part| part.text_contents());
    if let Some(text) = plain {
        return text.to_owned();
    }
    message
        .html_bodies()
        .next()
        .and_then(|part| part.text_contents())
        .map(html_to_text)
        .unwrap_or_default()
}

/// HTML as text a person would have typed: no wrapping, no markup, links as their
/// text, quoted blocks as `>` lines (which `trim_reply` then cuts).
fn html_to_text(html: &str) -> String {
    html2text::config::plain_no_decorate()
        .string_from_read(html.as_bytes(), usize::MAX / 2)
        .unwrap_or_else(|_| mail_parser::decoders::html::html_to_text(html))
}

/// Why a machine wrote the message (RFC 3834 `Auto-Submitted`, `Precedence`, the
/// auto-responders' own headers, delivery and read reports, the null sender), if so.
fn automatic(message: &Message) -> Option<String> {
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|value| value.trim().to_lowercase())
    };
    if let Some(value) = header("Auto-Submitted").filter(|value| value != "no") {
        return Some(format!("Auto-Submitted: {value}"));
    }
    if let Some(value) = header("Precedence")
        .filter(|value| ["bulk", "junk", "list", "auto_reply"].contains(&value.as_str()))
    {
        return Some(format!("Precedence: {value}"));
    }
    for name in [
        "X-Autoreply",
        "X-Autorespond",
        "X-Autoresponder",
        "X-Auto-Reply",
    ] {
        if header(name).is_some() {
            return Some(format!("{name} header"));
        }
    }
    if let Some(content_type) = message.root_part().content_type()
        && content_type.ctype().eq_ignore_ascii_case("multipart")
        && content_type
            .subtype()
            .is_some_and(|subtype| subtype.eq_ignore_ascii_case("report"))
    {
        return Some("a delivery or read report (multipart/report)".into());
    }
    if header("Return-Path").is_some_and(|path| path == "<>") {
        return Some("a null sender (Return-Path: <>)".into());
    }
    let from = sender(message).map(|sender| sender.address.to_lowercase());
    if let Some(from) =
        from.filter(|from| from.starts_with("mailer-daemon@") || from.starts_with("postmaster@"))
    {
        return Some(format!("from {from}"));
    }
    None
}

fn files(message: &Message) -> Vec<IncomingFile> {
    message
        .attachments()
        .enumerate()
        .filter(|(_, part)| !matches!(part.body, PartType::Multipart(_)))
        .map(|(at, part)| IncomingFile {
            name: part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("attachment-{}", at + 1)),
            content_type: part
                .content_type()
                .map(|content_type| match content_type.subtype() {
                    Some(subtype) => format!("{}/{subtype}", content_type.ctype()),
                    None => content_type.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".into())
                .to_lowercase(),
            bytes: part.contents().to_vec(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_found_in_subjects() {
        assert_eq!(ticket_in_subject("Re: [#123] Printer"), Some(123));
        assert_eq!(ticket_in_subject("Ответ: [#7] Принтер [#8]"), Some(7));
        assert_eq!(ticket_in_subject("[#] nothing [#x]"), None);
        assert_eq!(ticket_in_subject("[#12 not closed"), None);
    }

    #[test]
    fn tickets_are_found_in_the_desks_message_ids() {
        assert_eq!(ticket_of("ictdesk.ticket-42.00ab@example.org"), Some(42));
        assert_eq!(ticket_of("<ictdesk.ticket-42.00ab@example.org>"), Some(42));
        assert_eq!(ticket_of("CAF=abc@mail.gmail.com"), None);
    }
}
