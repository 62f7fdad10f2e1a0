//! The Pusher protocol's messages (version 7): what clients send, and what the server
//! sends besides channel events. Server `data` is a JSON *string* where the protocol
//! says so (`connection_established`, `subscription_succeeded`, member changes), an
//! object for errors and pongs.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::members::PresenceList;

/// A client's message: `{"event": …, "channel"?: …, "data"?: …}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ClientMessage {
    pub event: String,
    #[serde(default)]
    pub channel: Option<String>,
    #[serde(default)]
    pub data: Option<Box<RawValue>>,
}

/// `pusher:subscribe` data; `since` is this server's resume extension (docs/pusher.md).
#[derive(Debug, Deserialize)]
pub(crate) struct Subscribe {
    pub channel: String,
    #[serde(default)]
    pub auth: Option<String>,
    #[serde(default)]
    pub channel_data: Option<String>,
    #[serde(default, deserialize_with = "id_as_number_or_text")]
    pub since: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Unsubscribe {
    pub channel: String,
}

/// A presence subscriber's `channel_data`, as the app's auth endpoint signed it.
#[derive(Debug, Deserialize)]
pub(crate) struct ChannelData {
    #[serde(deserialize_with = "user_id_text")]
    pub user_id: String,
    #[serde(default)]
    pub user_info: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(i64),
    Text(String),
}

fn id_as_number_or_text<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    match Option::<NumberOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(NumberOrText::Number(id)) => Ok(Some(id)),
        Some(NumberOrText::Text(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("since must be an event id")),
    }
}

/// Laravel sends numeric user ids; the protocol lists them as strings.
fn user_id_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match NumberOrText::deserialize(deserializer)? {
        NumberOrText::Number(id) => Ok(id.to_string()),
        NumberOrText::Text(text) if !text.is_empty() => Ok(text),
        NumberOrText::Text(_) => Err(serde::de::Error::custom("user_id must not be empty")),
    }
}

/// Reads a message's `data` as `T`: an object, or (as some clients send it) a JSON
/// string holding one.
pub(crate) fn data_as<T: serde::de::DeserializeOwned>(
    data: Option<&RawValue>,
) -> Result<T, String> {
    let raw = data.map_or("null", RawValue::get);
    let value: T = match serde_json::from_str::<String>(raw) {
        Ok(text) => serde_json::from_str(&text),
        Err(_) => serde_json::from_str(raw),
    }
    .map_err(|error| format!("bad data: {error}"))?;
    Ok(value)
}

#[derive(Serialize)]
struct Message<'a, D: Serialize> {
    event: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
    data: D,
}

fn encode<D: Serialize>(event: &str, channel: Option<&str>, data: D) -> String {
    serde_json::to_string(&Message {
        event,
        channel,
        data,
    })
    .expect("protocol messages always serialize")
}

fn json_string(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("protocol data always serializes")
}

pub(crate) fn connection_established(socket_id: &str, activity_timeout: u64) -> String {
    #[derive(Serialize)]
    struct Established<'a> {
        socket_id: &'a str,
        activity_timeout: u64,
    }
    encode(
        "pusher:connection_established",
        None,
        json_string(&Established {
            socket_id,
            activity_timeout,
        }),
    )
}

/// `pusher:error`: codes 4000–4099 refuse, 4100–4199 ask to back off, 4200–4299 to
/// reconnect at once, 4300–4399 are other errors.
pub(crate) fn error(code: u16, message: &str) -> String {
    #[derive(Serialize)]
    struct Error<'a> {
        code: u16,
        message: &'a str,
    }
    encode("pusher:error", None, Error { code, message })
}

pub(crate) fn pong() -> String {
    encode("pusher:pong", None, serde_json::json!({}))
}

pub(crate) fn subscription_succeeded(channel: &str, presence: Option<&PresenceList>) -> String {
    #[derive(Serialize)]
    struct Presence<'a> {
        presence: &'a PresenceList,
    }
    let data = match presence {
        Some(presence) => json_string(&Presence { presence }),
        None => "{}".to_owned(),
    };
    encode(
        "pusher_internal:subscription_succeeded",
        Some(channel),
        data,
    )
}

/// `pusher:subscription_error` on the channel: pusher-js hands it to the channel's
/// `pusher:subscription_error` listeners.
pub(crate) fn subscription_error(channel: &str, status: u16, message: &str) -> String {
    #[derive(Serialize)]
    struct SubscriptionError<'a> {
        #[serde(rename = "type")]
        kind: &'a str,
        error: &'a str,
        status: u16,
    }
    encode(
        "pusher:subscription_error",
        Some(channel),
        SubscriptionError {
            kind: "AuthError",
            error: message,
            status,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_established_data_is_a_json_string() {
        assert_eq!(
            connection_established("1.2", 120),
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.2\",\"activity_timeout\":120}"}"#
        );
    }

    #[test]
    fn subscribe_data_may_be_an_object_or_a_string() {
        let object: Box<RawValue> =
            serde_json::from_str(r#"{"channel":"a","since":"41"}"#).expect("json");
        let parsed: Subscribe = data_as(Some(&object)).expect("valid");
        assert_eq!((parsed.channel.as_str(), parsed.since), ("a", Some(41)));
        let text: Box<RawValue> =
            serde_json::from_str(r#""{\"channel\":\"b\",\"since\":7}""#).expect("json");
        let parsed: Subscribe = data_as(Some(&text)).expect("valid");
        assert_eq!((parsed.channel.as_str(), parsed.since), ("b", Some(7)));
        assert!(data_as::<Subscribe>(None).is_err());
    }

    #[test]
    fn numeric_user_ids_become_text() {
        let data: ChannelData =
            serde_json::from_str(r#"{"user_id":17,"user_info":{"name":"Ann"}}"#).expect("valid");
        assert_eq!(data.user_id, "17");
        assert!(serde_json::from_str::<ChannelData>(r#"{"user_id":""}"#).is_err());
    }
}
