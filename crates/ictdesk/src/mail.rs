//! E-mail at the binary's edge: the settings of `serve` and `mail-in`, and `ictdesk
//! mail-in`, which an MTA runs with one message on standard input (as it pipes mail to
//! osTicket or Zammad). Its exit status follows sysexits.h, which MTAs understand:
//! 0 taken (or dropped as an auto-reply), 75 try again later, anything else bounce.

use std::{io::Read, path::PathBuf, time::Duration};

use anyhow::Context;
use clap::{Args, ValueEnum};
use ictdesk_desk::{
    Desk, DeskOptions,
    mail::{MailInError, MailSettings, Received, Smtp, UnknownSenders},
};
use lettre::message::Mailbox;

use crate::{
    cli::{AttachmentArgs, DatabaseArgs},
    server::connect,
};

#[derive(Debug, Args)]
pub struct MailArgs {
    /// SMTP relay for notifications: smtp://host:25, smtp://user:pass@host:587 (STARTTLS), smtps://host:465; e-mail is off without it.
    #[arg(
        long,
        env = "ICTDESK_SMTP_URL",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub smtp_url: Option<String>,

    /// PEM certificate of a CA to trust for the SMTP relay's TLS, besides the public ones.
    #[arg(long, env = "ICTDESK_SMTP_CA_FILE", value_name = "PEM")]
    pub smtp_ca_file: Option<PathBuf>,

    /// Seconds one mail's delivery may take before it is retried later.
    #[arg(
        long,
        env = "ICTDESK_SMTP_TIMEOUT",
        default_value_t = 30,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=600)
    )]
    pub smtp_timeout: u64,

    /// From: of the desk's mail, e.g. "IT desk <desk@example.org>" (default: ictdesk@ the --public-url host).
    #[arg(long, env = "ICTDESK_MAIL_FROM", value_name = "ADDRESS")]
    pub mail_from: Option<String>,

    /// The desk's address as people reach it (https://desk.example.org), for links in mail; needed with --smtp-url.
    #[arg(long, env = "ICTDESK_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

impl MailArgs {
    /// The desk's mail settings; `None` without `--smtp-url`.
    pub fn settings(&self) -> anyhow::Result<Option<MailSettings>> {
        let Some(smtp_url) = &self.smtp_url else {
            return Ok(None);
        };
        let ca = match &self.smtp_ca_file {
            Some(path) => Some(std::fs::read(path).with_context(|| {
                format!("ICTDESK_SMTP_CA_FILE: cannot read {}", path.display())
            })?),
            None => None,
        };
        let smtp = Smtp::new(
            smtp_url,
            ca.as_deref(),
            Duration::from_secs(self.smtp_timeout),
        )
        .map_err(|error| anyhow::anyhow!("ICTDESK_SMTP_URL {error}"))?;
        let public_url = self.public_url.as_deref().context(
            "ICTDESK_PUBLIC_URL is missing: with ICTDESK_SMTP_URL, mail links to the desk at this address",
        )?;
        let public_url = parse_public_url(public_url)
            .map_err(|problem| anyhow::anyhow!("ICTDESK_PUBLIC_URL {problem}"))?;
        let from: Mailbox = match &self.mail_from {
            Some(from) => from
                .parse()
                .map_err(|error| anyhow::anyhow!("ICTDESK_MAIL_FROM '{from}': {error}"))?,
            None => format!("ictdesk@{}", public_url.host_str().unwrap_or("localhost"))
                .parse()
                .context(
                    "ICTDESK_MAIL_FROM is missing, and ictdesk@ the public host is no address",
                )?,
        };
        Ok(Some(MailSettings::new(from, public_url.as_str(), smtp)))
    }
}

fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|error| format!("'{text}': {error}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("'{text}' is not an http:// or https:// address"));
    }
    Ok(url)
}

#[derive(Debug, Args)]
pub struct MailInArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Mail from an address no account has: create a requester account for it, or reject it (bounce).
    #[arg(
        long,
        env = "ICTDESK_MAIL_IN_UNKNOWN",
        value_enum,
        default_value_t = Unknown::Reject
    )]
    pub mail_in_unknown: Unknown,

    /// Where a message's files are stored as attachments, as for `serve`.
    #[command(flatten)]
    pub attachments: AttachmentArgs,

    /// The mail settings, so that the replies a message causes are queued (the server sends them).
    #[command(flatten)]
    pub mail: MailArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Unknown {
    Create,
    Reject,
}

/// Larger messages are refused: an MTA's limit is far below, and reading on would only
/// fill memory.
const MAX_MESSAGE: u64 = 64 * 1024 * 1024;

/// sysexits.h: what an MTA does with the message after `mail-in` ends.
const EX_DATAERR: i32 = 65;
const EX_NOUSER: i32 = 67;
const EX_TEMPFAIL: i32 = 75;
const EX_NOPERM: i32 = 77;

/// `ictdesk mail-in`: one message from standard input; the exit status.
pub async fn mail_in(args: MailInArgs) -> i32 {
    match take_one(args).await {
        Ok(received) => {
            println!("{}", describe(&received));
            0
        }
        Err(Failure::Message(error)) => {
            eprintln!("ictdesk mail-in: {error}");
            exit_status(&error)
        }
        Err(Failure::Setup(error)) => {
            eprintln!("ictdesk mail-in: {error:#}");
            EX_TEMPFAIL
        }
    }
}

enum Failure {
    /// The desk could not be reached or set up: the message may be taken later.
    Setup(anyhow::Error),
    Message(MailInError),
}

async fn take_one(args: MailInArgs) -> Result<Received, Failure> {
    let mut raw = Vec::new();
    std::io::stdin()
        .take(MAX_MESSAGE + 1)
        .read_to_end(&mut raw)
        .context("cannot read the message from standard input")
        .map_err(Failure::Setup)?;
    if raw.len() as u64 > MAX_MESSAGE {
        return Err(Failure::Message(MailInError::TooLarge(MAX_MESSAGE)));
    }
    let desk = open_desk(&args).await.map_err(Failure::Setup)?;
    let unknown = match args.mail_in_unknown {
        Unknown::Create => UnknownSenders::Create,
        Unknown::Reject => UnknownSenders::Reject,
    };
    desk.receive_mail(&raw, unknown)
        .await
        .map_err(Failure::Message)
}

async fn open_desk(args: &MailInArgs) -> anyhow::Result<Desk> {
    let database = connect(&args.database.url).await?;
    let options = DeskOptions {
        mail: args.mail.settings()?,
        files: args.attachments.file_options()?,
        ..DeskOptions::default()
    };
    Desk::open(&database, database.event_log(), options)
        .await
        .context("cannot open the desk's tables")
}

fn describe(received: &Received) -> String {
    match received {
        Received::Ticket(ticket) => format!("ticket #{} opened", ticket.id),
        Received::Comment(comment) => format!("comment added to ticket #{}", comment.ticket_id),
        Received::Dropped(reason) => format!("dropped, written by a machine: {reason}"),
        Received::AlreadyReceived => "already received; nothing done".to_owned(),
    }
}

fn exit_status(error: &MailInError) -> i32 {
    match error {
        _ if error.is_temporary() => EX_TEMPFAIL,
        MailInError::UnknownSender(_) => EX_NOUSER,
        MailInError::TicketRefused { .. } | MailInError::Refused { .. } => EX_NOPERM,
        _ => EX_DATAERR,
    }
}
