//! The WebSocket wire protocol (docs/protocol.md): JSON text frames.

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};

use crate::registry::ConnectionId;

/// Server → client messages other than events.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage<'a> {
    Welcome {
        connection_id: ConnectionId,
        last_id: i64,
        heartbeat: u64,
    },
    Pong,
    /// Events after the client's position were pruned from the log (retention): it
    /// re-fetches what it shows and continues from `last_id`.
    Reset {
        last_id: i64,
    },
    /// The `auth` message's token was accepted.
    AuthOk,
    Error {
        code: &'a str,
        message: &'a str,
    },
}

impl ServerMessage<'_> {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server messages always serialize")
    }
}

/// Client → server messages.
#[derive(Debug, PartialEq)]
pub enum ClientMessage {
    Ping,
    Resume {
        since: i64,
    },
    /// A token for the connection: a refreshed one, or the first (kept out of the URL).
    Auth {
        token: String,
    },
    View {
        ticket_id: i64,
    },
    Editing {
        ticket_id: i64,
    },
    Leave {
        ticket_id: i64,
    },
    /// Anything else goes to the application (`get_tickets`, …).
    Application {
        kind: String,
        message: Map<String, Value>,
    },
}

/// Why a client message was refused; the connection stays open.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum BadMessage {
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("a message must be a JSON object")]
    NotAnObject,
    #[error("missing field 'type' (a string)")]
    MissingType,
    #[error("{field}: {message}")]
    Field { field: String, message: String },
    #[error("binary frames are not supported; send JSON text")]
    Binary,
}

impl BadMessage {
    pub fn code(&self) -> &'static str {
        match self {
            BadMessage::Json(_) => "bad_json",
            BadMessage::NotAnObject | BadMessage::MissingType => "bad_message",
            BadMessage::Field { .. } => "bad_field",
            BadMessage::Binary => "binary_unsupported",
        }
    }
}

#[derive(Deserialize)]
struct Since {
    since: i64,
}

#[derive(Deserialize)]
struct Token {
    token: String,
}

#[derive(Deserialize)]
struct Ticket {
    ticket_id: i64,
}

impl ClientMessage {
    pub fn parse(text: &str) -> Result<Self, BadMessage> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| BadMessage::Json(error.to_string()))?;
        let Value::Object(mut message) = value else {
            return Err(BadMessage::NotAnObject);
        };
        let kind = match message.remove("type") {
            Some(Value::String(kind)) => kind,
            _ => return Err(BadMessage::MissingType),
        };
        Ok(match kind.as_str() {
            "ping" => ClientMessage::Ping,
            "resume" => {
                let Since { since } = fields(message)?;
                if since < 0 {
                    return Err(BadMessage::Field {
                        field: "since".into(),
                        message: "must not be negative".into(),
                    });
                }
                ClientMessage::Resume { since }
            }
            "auth" => ClientMessage::Auth {
                token: fields::<Token>(message)?.token,
            },
            "view" => ClientMessage::View {
                ticket_id: fields::<Ticket>(message)?.ticket_id,
            },
            "editing" => ClientMessage::Editing {
                ticket_id: fields::<Ticket>(message)?.ticket_id,
            },
            "leave" => ClientMessage::Leave {
                ticket_id: fields::<Ticket>(message)?.ticket_id,
            },
            _ => ClientMessage::Application { kind, message },
        })
    }
}

/// Reads typed fields, naming the first bad one.
fn fields<T: DeserializeOwned>(message: Map<String, Value>) -> Result<T, BadMessage> {
    serde_path_to_error::deserialize(Value::Object(message)).map_err(|error| {
        let field = error.path().to_string();
        let inner = error.into_inner().to_string();
        match inner.strip_prefix("missing field `") {
            Some(rest) => BadMessage::Field {
                field: rest.split('`').next().unwrap_or_default().to_owned(),
                message: "is required".into(),
            },
            None => BadMessage::Field {
                field,
                message: inner,
            },
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_protocol_messages_parse() {
        assert_eq!(
            ClientMessage::parse(r#"{"type":"ping"}"#),
            Ok(ClientMessage::Ping)
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"resume","since":41}"#),
            Ok(ClientMessage::Resume { since: 41 })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"editing","ticket_id":7}"#),
            Ok(ClientMessage::Editing { ticket_id: 7 })
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"auth","token":"abc"}"#),
            Ok(ClientMessage::Auth {
                token: "abc".into()
            })
        );
    }

    #[test]
    fn other_types_go_to_the_application_with_their_fields() {
        let parsed = ClientMessage::parse(r#"{"type":"get_tickets","status":"new"}"#);
        let Ok(ClientMessage::Application { kind, message }) = parsed else {
            panic!("expected an application request, got {parsed:?}");
        };
        assert_eq!(kind, "get_tickets");
        assert_eq!(message.get("status"), Some(&Value::from("new")));
    }

    #[test]
    fn bad_messages_name_the_problem() {
        assert!(matches!(
            ClientMessage::parse("{nope"),
            Err(BadMessage::Json(_))
        ));
        assert_eq!(ClientMessage::parse("[1]"), Err(BadMessage::NotAnObject));
        assert_eq!(
            ClientMessage::parse(r#"{"type":5}"#),
            Err(BadMessage::MissingType)
        );
        assert_eq!(
            ClientMessage::parse(r#"{"type":"resume"}"#),
            Err(BadMessage::Field {
                field: "since".into(),
                message: "is required".into()
            })
        );
        let Err(BadMessage::Field { field, .. }) =
            ClientMessage::parse(r#"{"type":"resume","since":"x"}"#)
        else {
            panic!("expected a field error");
        };
        assert_eq!(field, "since");
        assert!(matches!(
            ClientMessage::parse(r#"{"type":"resume","since":-1}"#),
            Err(BadMessage::Field { .. })
        ));
    }
}
