//! Delivering the outbox over SMTP (lettre). One sender per node, supervised by the hub:
//! it claims the oldest due mail with a lease, sends the stored message, and records
//! the outcome — sent, retry later (doubling from 1 s to 10 min), or given up (a
//! permanent SMTP refusal, or three days of failures).
//!
//! Nothing is lost: a mail leaves the outbox only as sent or given up. Nothing is sent
//! twice by the desk: a claim is exclusive (`Storage::claim_mail`) and a retry sends
//! the same bytes, so the same Message-ID. One window remains, as with any SMTP client:
//! a node that dies after the relay accepted a mail and before recording it sends it
//! again when the lease runs out — with the same Message-ID, by which mail systems
//! recognise the copy.

use std::{fmt, future::Future, time::Duration};

use lettre::{
    AsyncSmtpTransport, AsyncTransport, Tokio1Executor,
    address::Envelope,
    transport::smtp::{
        authentication::Credentials,
        client::{Certificate, Tls, TlsParameters},
    },
};
use time::OffsetDateTime;
use url::Url;

use super::OutboxMail;
use crate::{desk::Desk, error::Result, timestamps};

/// How an attempt ended, as the outbox records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Not delivered this time; try again at `at`.
    Retry {
        at: String,
        error: String,
    },
    /// Given up for good.
    Failed {
        error: String,
    },
}

/// The wait after the first failed attempt…
const FIRST_RETRY: Duration = Duration::from_secs(1);
/// …doubling up to this.
const MAX_RETRY: Duration = Duration::from_secs(600);
/// A mail still undelivered this long after it was written is given up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(3 * 24 * 3600);
/// Between looks at the outbox when nothing wakes the sender: mail queued on other
/// nodes, retries falling due.
const POLL: Duration = Duration::from_secs(2);

/// An SMTP relay as `--smtp-url` names it, ready to send.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// The URL without its password, for logs.
    shown: String,
    /// The longest one mail's delivery may take.
    timeout: Duration,
}

impl fmt::Debug for Smtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    #[error("is not a URL: {0}")]
    Url(#[from] url::ParseError),
    #[error("must start with smtp:// or smtps://")]
    Scheme,
    #[error("names no host")]
    NoHost,
    #[error("?tls= must be none, opportunistic or required")]
    TlsMode,
    #[error("the user name or password is not valid percent-encoding")]
    Credentials,
    #[error("the CA certificate is not PEM: {0}")]
    Certificate(lettre::transport::smtp::Error),
    #[error("TLS cannot be set up: {0}")]
    Tls(lettre::transport::smtp::Error),
}

impl Smtp {
    /// `smtps://host[:465]` speaks TLS from the start; `smtp://host[:25]` upgrades with
    /// STARTTLS when the port is 587 or a user is given (credentials never cross in
    /// the clear), else speaks plain; `?tls=none|opportunistic|required` overrides.
    /// `ca_pem` is trusted besides Mozilla's roots (a relay with an in-house CA).
    pub fn new(url: &str, ca_pem: Option<&[u8]>, timeout: Duration) -> Result<Self, SmtpError> {
        let url = Url::parse(url)?;
        let host = url.host_str().ok_or(SmtpError::NoHost)?.to_owned();
        let credentials = credentials(&url)?;
        let tls_parameters = || tls_parameters(&host, ca_pem);
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&host);
        let port = match url.scheme() {
            "smtps" => {
                builder = builder.tls(Tls::Wrapper(tls_parameters()?));
                url.port().unwrap_or(465)
            }
            "smtp" => {
                let port = url.port().unwrap_or(25);
                let mode = url
                    .query_pairs()
                    .find(|(key, _)| key == "tls")
                    .map(|(_, mode)| mode.into_owned());
                let tls = match mode.as_deref() {
                    Some("none") => None,
                    Some("opportunistic") => Some(Tls::Opportunistic(tls_parameters()?)),
                    Some("required") => Some(Tls::Required(tls_parameters()?)),
                    Some(_) => return Err(SmtpError::TlsMode),
                    None if port == 587 || credentials.is_some() => {
                        Some(Tls::Required(tls_parameters()?))
                    }
                    None => None,
                };
                if let Some(tls) = tls {
                    builder = builder.tls(tls);
                }
                port
            }
            _ => return Err(SmtpError::Scheme),
        };
        builder = builder.port(port).timeout(Some(timeout));
        if let Some(credentials) = credentials {
            builder = builder.credentials(credentials);
        }
        let mut shown = url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        Ok(Self {
            transport: builder.build(),
            shown: shown.to_string(),
            timeout,
        })
    }

    /// Sends one stored message to its envelope.
    async fn send(&self, mail: &OutboxMail) -> Attempt {
        let envelope = (mail.from_address.parse().ok())
            .zip(mail.to_address.parse().ok())
            .and_then(|(from, to)| Envelope::new(Some(from), vec![to]).ok());
        let Some(envelope) = envelope else {
            return Attempt::Refused("the envelope's addresses are not valid".into());
        };
        let sending = self.transport.send_raw(&envelope, mail.message.as_bytes());
        match tokio::time::timeout(self.timeout, sending).await {
            Ok(Ok(_)) => Attempt::Sent,
            Ok(Err(error)) if error.is_permanent() => Attempt::Refused(error.to_string()),
            Ok(Err(error)) => Attempt::Failed(error.to_string()),
            Err(_) => Attempt::Failed(format!("no answer within {:?}", self.timeout)),
        }
    }
}

fn credentials(url: &Url) -> Result<Option<Credentials>, SmtpError> {
    if url.username().is_empty() {
        return Ok(None);
    }
    let decode = |text: &str| {
        percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map(|decoded| decoded.into_owned())
            .map_err(|_| SmtpError::Credentials)
    };
    Ok(Some(Credentials::new(
        decode(url.username())?,
        decode(url.password().unwrap_or_default())?,
    )))
}

fn tls_parameters(host: &str, ca_pem: Option<&[u8]>) -> Result<TlsParameters, SmtpError> {
    let mut builder = TlsParameters::builder(host.to_owned());
    if let Some(pem) = ca_pem {
        builder = builder
            .add_root_certificate(Certificate::from_pem(pem).map_err(SmtpError::Certificate)?);
    }
    builder.build_rustls().map_err(SmtpError::Tls)
}

/// One attempt's result, before the outbox's view of it.
enum Attempt {
    Sent,
    /// Might work later (the relay is down, busy, or answered 4xx).
    Failed(String),
    /// Will never work (5xx).
    Refused(String),
}

/// This node's sender of the outbox (`Desk::mail_sender`); cheap to clone.
#[derive(Clone)]
pub struct MailSender {
    desk: Desk,
    smtp: Smtp,
}

impl Desk {
    /// The sender of the outbox, when e-mail is on (`--smtp-url`).
    pub fn mail_sender(&self) -> Option<MailSender> {
        let settings = self.mail.settings.as_ref()?;
        Some(MailSender {
            desk: self.clone(),
            smtp: settings.smtp.clone(),
        })
    }
}

impl MailSender {
    /// Delivers due mail until `stop` completes. `node` names this node in the claims.
    pub async fn run(&self, node: &str, stop: impl Future<Output = ()>) -> Result<()> {
        // A restarted node must not take its previous life's claims for its own.
        let owner = format!("{node}.{:08x}", rand::random::<u32>());
        tokio::pin!(stop);
        loop {
            let delivered = self.deliver_one(&owner).await?;
            let pause = if delivered { Duration::ZERO } else { POLL };
            tokio::select! {
                biased;
                () = &mut stop => return Ok(()),
                () = self.desk.mail.queued.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// Claims the oldest due mail and attempts it; whether there was one.
    async fn deliver_one(&self, owner: &str) -> Result<bool> {
        let now = self.desk.database_now().await?;
        // Long enough for the attempt and its record, short enough that a dead node's
        // mail is picked up soon.
        let until = timestamps::format(now + self.smtp.timeout * 2);
        let store = self.desk.storage();
        let Some(mail) = store
            .claim_mail(owner, &timestamps::format(now), &until)
            .await?
        else {
            return Ok(false);
        };
        let attempt = self.smtp.send(&mail).await;
        let now = self.desk.database_now().await?;
        let delivery = outcome(&mail, attempt, now);
        log(&mail, &delivery, &self.smtp);
        if !store
            .record_delivery(mail.id, owner, &timestamps::format(now), &delivery)
            .await?
        {
            tracing::warn!(
                mail = mail.id,
                "a mail's claim ran out before its attempt was recorded; another node may send it again (same Message-ID)"
            );
        }
        Ok(true)
    }
}

fn outcome(mail: &OutboxMail, attempt: Attempt, now: OffsetDateTime) -> Delivery {
    match attempt {
        Attempt::Sent => Delivery::Sent,
        Attempt::Refused(error) => Delivery::Failed { error },
        Attempt::Failed(error) => {
            let written = OffsetDateTime::parse(
                &mail.created_at,
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap_or(now);
            if now - written > GIVE_UP_AFTER {
                Delivery::Failed {
                    error: format!(
                        "still failing after {} days: {error}",
                        GIVE_UP_AFTER.as_secs() / 86_400
                    ),
                }
            } else {
                Delivery::Retry {
                    at: timestamps::format(now + retry_after(mail.attempts)),
                    error,
                }
            }
        }
    }
}

/// The wait after `attempts` failed attempts: 1 s, 2 s, 4 s, … up to 10 minutes.
fn retry_after(attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    FIRST_RETRY
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(MAX_RETRY)
}

fn log(mail: &OutboxMail, delivery: &Delivery, smtp: &Smtp) {
    match delivery {
        Delivery::Sent => tracing::debug!(mail = mail.id, to = %mail.to_address, "mail sent"),
        Delivery::Retry { at, error } => tracing::warn!(
            mail = mail.id,
            attempts = mail.attempts,
            relay = ?smtp,
            %error,
            retry_at = %at,
            "mail not delivered; will retry"
        ),
        Delivery::Failed { error } => tracing::error!(
            mail = mail.id,
            to = %mail.to_address,
            relay = ?smtp,
            %error,
            "mail given up"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_from_a_second_to_ten_minutes() {
        assert_eq!(retry_after(1), Duration::from_secs(1));
        assert_eq!(retry_after(2), Duration::from_secs(2));
        assert_eq!(retry_after(4), Duration::from_secs(8));
        assert_eq!(retry_after(30), MAX_RETRY);
        assert_eq!(retry_after(i64::MAX), MAX_RETRY);
    }

    #[test]
    fn smtp_urls_choose_their_tls() {
        let timeout = Duration::from_secs(5);
        assert!(Smtp::new("smtp://relay.example.org", None, timeout).is_ok());
        assert!(Smtp::new("smtp://u:p@relay.example.org:587", None, timeout).is_ok());
        assert!(Smtp::new("smtps://relay.example.org", None, timeout).is_ok());
        assert!(matches!(
            Smtp::new("http://relay.example.org", None, timeout),
            Err(SmtpError::Scheme)
        ));
        assert!(matches!(
            Smtp::new("smtp://relay.example.org?tls=maybe", None, timeout),
            Err(SmtpError::TlsMode)
        ));
        assert!(matches!(
            Smtp::new("relay.example.org", None, timeout),
            Err(SmtpError::Url(_))
        ));
    }

    #[test]
    fn a_password_never_shows() {
        let smtp = Smtp::new(
            "smtp://desk:s3cret@relay.example.org:587",
            None,
            Duration::from_secs(5),
        )
        .expect("valid");
        let shown = format!("{smtp:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("desk"), "{shown}");
    }
}
