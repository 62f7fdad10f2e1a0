//! The Pusher side of the benchmark: the subscribe handshake every client makes, and the
//! signed HTTP API requests of the publisher (HMAC-SHA256 as the Pusher SDKs sign).

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use tokio_tungstenite::tungstenite::Message;

use crate::client::Socket;

/// The channel every client subscribes to.
pub const CHANNEL: &str = "bench";

/// `ID:KEY:SECRET` (the id is in the publish URL already).
#[derive(Debug, Clone)]
pub struct App {
    key: String,
    secret: String,
}

impl App {
    pub fn parse(text: &str) -> Result<Self> {
        let mut parts = text.splitn(3, ':');
        match (parts.next(), parts.next(), parts.next()) {
            (Some(_id), Some(key), Some(secret)) => Ok(Self {
                key: key.into(),
                secret: secret.into(),
            }),
            _ => bail!("--pusher-app must be ID:KEY:SECRET"),
        }
    }

    /// `url` with the query a signed request needs (`body` empty for a GET).
    pub fn sign(&self, method: &str, url: &str, extra: &[(&str, &str)], body: &str) -> String {
        let path_start = url.find("://").map_or(0, |i| i + 3);
        let path = url[path_start..]
            .find('/')
            .map_or("/", |i| &url[path_start + i..]);
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs())
            .to_string();
        let mut params: Vec<(String, String)> = vec![
            ("auth_key".into(), self.key.clone()),
            ("auth_timestamp".into(), timestamp),
            ("auth_version".into(), "1.0".into()),
        ];
        if !body.is_empty() {
            params.push(("body_md5".into(), hex::encode(Md5::digest(body.as_bytes()))));
        }
        params.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        params.sort();
        let query = params
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        let mut mac =
            Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).expect("any key length");
        mac.update(format!("{method}\n{path}\n{query}").as_bytes());
        let signature = hex::encode(mac.finalize().into_bytes());
        format!("{url}?{query}&auth_signature={signature}")
    }
}

/// After the handshake: waits for `connection_established`, subscribes to the bench
/// channel and waits for `subscription_succeeded` (from then on the client is live).
pub async fn subscribe(socket: &mut Socket) -> Result<()> {
    expect(socket, "pusher:connection_established").await?;
    let request = format!(r#"{{"event":"pusher:subscribe","data":{{"channel":"{CHANNEL}"}}}}"#);
    socket.send(Message::text(request)).await?;
    expect(socket, "pusher_internal:subscription_succeeded").await
}

/// What answers the server's `pusher:ping`.
pub const PONG: &str = r#"{"event":"pusher:pong","data":{}}"#;

/// Whether a frame is the server's `pusher:ping` (the protocol's own events are never
/// the bench's, whose data is a string).
pub fn is_ping(frame: &str) -> bool {
    frame.contains("pusher:ping")
        && serde_json::from_str::<serde_json::Value>(frame)
            .is_ok_and(|message| message["event"] == "pusher:ping")
}

async fn expect(socket: &mut Socket, event: &str) -> Result<()> {
    match socket.next().await {
        Some(Ok(Message::Text(text))) if text.contains(event) => Ok(()),
        Some(Ok(other)) => bail!("expected {event}, got {other:?}"),
        Some(Err(error)) => Err(error).with_context(|| format!("reading {event}")),
        None => bail!("closed before {event}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Pusher's HTTP API reference, with its fixed timestamp.
    #[test]
    fn signs_as_the_pusher_reference_does() {
        let app = App::parse("3:278d425bdf160c739803:7ad3773142a6692b25b8").expect("valid");
        let body = r#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        let url = app.sign("POST", "http://127.0.0.1:1/apps/3/events", &[], body);
        assert!(
            url.contains("body_md5=ec365a775a4cd0599faeb73354201b6f"),
            "{url}"
        );
        assert!(App::parse("nope").is_err());
    }

    #[test]
    fn knows_a_ping_from_an_event() {
        assert!(is_ping(r#"{"event":"pusher:ping","data":{}}"#));
        assert!(!is_ping(r#"{"event":"pusher:pong","data":{}}"#));
        let event =
            r#"{"event":"bench","channel":"bench","data":"{\"seq\":1,\"pad\":\"pusher:ping\"}"}"#;
        assert!(!is_ping(event));
    }
}
