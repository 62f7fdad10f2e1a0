//! Events: what is appended to the log, what is read back, and the JSON and the
//! WebSocket frame every client receives (both made once, shared by all of them).

use std::fmt;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::audience::{Audience, Viewer};

/// Message types of the wire protocol itself; an event may not take one of these names,
/// or a client could not tell the two apart.
const RESERVED_TYPES: &[&str] = &["welcome", "error", "pong", "presence", "tickets", "auth_ok"];

/// The `type` of an event: 1–64 characters of `a-z`, `0-9`, `_`, `.`, `-`, `:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventType(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventTypeError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 64 characters")]
    TooLong,
    #[error("must be at most 200 characters")]
    TooLongForPusher,
    #[error("may contain only a-z, 0-9, '_', '.', '-' and ':'")]
    BadCharacter,
    #[error("'{0}' is reserved for the protocol")]
    Reserved(String),
}

impl EventType {
    pub fn parse(name: &str) -> Result<Self, EventTypeError> {
        if name.is_empty() {
            return Err(EventTypeError::Empty);
        }
        if name.len() > 64 {
            return Err(EventTypeError::TooLong);
        }
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-:".contains(c);
        if !name.chars().all(allowed) {
            return Err(EventTypeError::BadCharacter);
        }
        if RESERVED_TYPES.contains(&name) {
            return Err(EventTypeError::Reserved(name.to_owned()));
        }
        Ok(Self(name.to_owned()))
    }

    /// A Pusher event name: 1–200 characters of any kind, as the Pusher protocol allows
    /// (Laravel names events after their class, `App\\Events\\OrderShipped`).
    pub fn pusher(name: &str) -> Result<Self, EventTypeError> {
        match name.chars().count() {
            0 => Err(EventTypeError::Empty),
            1..=200 => Ok(Self(name.to_owned())),
            _ => Err(EventTypeError::TooLongForPusher),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a Pusher event goes: one channel of one app (docs/pusher.md). Native
/// viewers never see such events; the channel's subscribers do, except `except_socket`
/// (the publisher's own connection, as the Pusher protocol asks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub app: String,
    pub channel: String,
    pub except_socket: Option<String>,
    /// The member who sent a client event on a presence channel.
    pub user_id: Option<String>,
}

/// An event about to be appended. `data` is JSON text, kept byte for byte.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventType,
    pub data: Box<RawValue>,
    pub audience: Audience,
    /// `Some` for an event of a Pusher channel.
    pub topic: Option<Topic>,
}

impl NewEvent {
    pub fn new(
        kind: EventType,
        data: &impl Serialize,
        audience: Audience,
    ) -> serde_json::Result<Self> {
        Ok(Self {
            kind,
            data: serde_json::value::to_raw_value(data)?,
            audience,
            topic: None,
        })
    }

    /// The audience as stored: `None` for everyone.
    pub(crate) fn audience_json(&self) -> Option<String> {
        (!self.audience.is_everyone())
            .then(|| serde_json::to_string(&self.audience).expect("an audience always serializes"))
    }
}

/// A row of the log as read back.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub created_at: String,
    pub data: String,
    pub audience: Option<String>,
    pub app: Option<String>,
    pub channel: Option<String>,
    pub except_socket: Option<String>,
    pub user_id: Option<String>,
}

impl StoredEvent {
    /// Whether `viewer` may see this row, reading only its audience (one that cannot be
    /// read: no), so that a reader can skip what is not for them cheaply.
    pub(crate) fn visible_to(&self, viewer: &Viewer) -> bool {
        match &self.audience {
            None => true,
            Some(json) => serde_json::from_str::<Audience>(json)
                .is_ok_and(|audience| audience.includes(viewer)),
        }
    }
}

/// An event ready for delivery: its audience, and its envelope serialized once.
#[derive(Debug)]
pub struct Delivered {
    pub id: i64,
    pub kind: String,
    pub audience: Audience,
    /// The Pusher channel of the event, if it is one's.
    pub topic: Option<Topic>,
    /// The envelope as JSON text (for polling; the Pusher message for a Pusher event).
    pub json: String,
    /// The same JSON encoded as one WebSocket frame, written as is to every socket.
    pub frame: Bytes,
}

#[derive(Debug, thiserror::Error)]
#[error("event {id} in the log is unreadable: {source}")]
pub struct CorruptEvent {
    id: i64,
    source: serde_json::Error,
}

#[derive(Serialize)]
struct Envelope<'a> {
    id: i64,
    #[serde(rename = "type")]
    kind: &'a str,
    timestamp: &'a str,
    data: &'a RawValue,
}

/// A Pusher channel event as its subscribers receive it; `id` is this server's
/// extension (the log id, for resuming: docs/pusher.md).
#[derive(Serialize)]
struct PusherMessage<'a> {
    event: &'a str,
    channel: &'a str,
    data: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    id: i64,
}

impl Delivered {
    pub fn from_stored(row: StoredEvent) -> Result<Self, CorruptEvent> {
        let corrupt = |source| CorruptEvent { id: row.id, source };
        let audience = match &row.audience {
            Some(json) => serde_json::from_str(json).map_err(corrupt)?,
            None => Audience::everyone(),
        };
        let data: &RawValue = serde_json::from_str(&row.data).map_err(corrupt)?;
        let topic = match (row.app, row.channel) {
            (Some(app), Some(channel)) => Some(Topic {
                app,
                channel,
                except_socket: row.except_socket,
                user_id: row.user_id,
            }),
            _ => None,
        };
        let json = match &topic {
            None => serde_json::to_string(&Envelope {
                id: row.id,
                kind: &row.kind,
                timestamp: &row.created_at,
                data,
            }),
            Some(topic) => serde_json::to_string(&PusherMessage {
                event: &row.kind,
                channel: &topic.channel,
                data,
                user_id: topic.user_id.as_deref(),
                id: row.id,
            }),
        }
        .map_err(corrupt)?;
        Ok(Self {
            id: row.id,
            kind: row.kind,
            audience,
            topic,
            frame: crate::outlet::text_frame(&json),
            json,
        })
    }

    /// Whether a native viewer (`/ws`, `/messages`) receives the event: never a Pusher
    /// channel's, whose subscribers are decided at subscription (see `pusher`).
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        self.topic.is_none() && self.audience.includes(viewer)
    }
}

/// Now, as the envelope's `timestamp`: RFC 3339, UTC, milliseconds.
pub(crate) fn timestamp_now() -> String {
    timestamp(time::OffsetDateTime::now_utc())
}

/// A time as events store it (`created_at`): fixed width, so that text order is time
/// order.
pub(crate) fn timestamp(at: time::OffsetDateTime) -> String {
    const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.to_offset(time::UtcOffset::UTC)
        .format(FORMAT)
        .expect("the fixed format always applies to a UTC time")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_accept_the_desk_names() {
        assert!(EventType::parse("ticket_status_changed").is_ok());
        assert!(EventType::parse("billing.invoice:paid-2").is_ok());
    }

    #[test]
    fn event_types_reject_empty_long_odd_and_reserved_names() {
        assert_eq!(EventType::parse(""), Err(EventTypeError::Empty));
        assert_eq!(
            EventType::parse(&"a".repeat(65)),
            Err(EventTypeError::TooLong)
        );
        assert_eq!(
            EventType::parse("Ticket"),
            Err(EventTypeError::BadCharacter)
        );
        assert_eq!(EventType::parse("a b"), Err(EventTypeError::BadCharacter));
        assert!(matches!(
            EventType::parse("welcome"),
            Err(EventTypeError::Reserved(_))
        ));
    }

    #[test]
    fn the_envelope_keeps_data_byte_for_byte() {
        let row = StoredEvent {
            id: 42,
            kind: "ticket_created".into(),
            created_at: "2026-11-21T10:15:02.123Z".into(),
            data: r#"{"b":1,"a":[1.50,"x"]}"#.into(),
            audience: Some(r#"{"roles":["agent"]}"#.into()),
            app: None,
            channel: None,
            except_socket: None,
            user_id: None,
        };
        let delivered = Delivered::from_stored(row).expect("valid row");
        assert_eq!(
            delivered.json.as_str(),
            r#"{"id":42,"type":"ticket_created","timestamp":"2026-11-21T10:15:02.123Z","data":{"b":1,"a":[1.50,"x"]}}"#
        );
        assert_eq!(delivered.audience, Audience::roles(["agent"]));
    }

    #[test]
    fn timestamps_have_milliseconds_and_zulu() {
        let now = timestamp_now();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.ends_with('Z'));
    }
}
