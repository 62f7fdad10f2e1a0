//! Pusher's signatures: HMAC-SHA256 with the app's secret, hex-encoded, compared in
//! constant time. Channel authorisations sign `socket_id:channel[:channel_data]`; HTTP
//! API requests sign `METHOD\nPATH\nsorted query` (with `body_md5` of the body).

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::apps::PusherApp;

type HmacSha256 = Hmac<Sha256>;

/// Hex HMAC-SHA256 of `message` with the app's secret.
pub fn sign(app: &PusherApp, message: &str) -> String {
    let mut mac = HmacSha256::new_from_slice(app.secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` is the app's signature of `message`, in time independent of
/// where they differ.
pub(crate) fn verify(app: &PusherApp, message: &str, signature: &str) -> bool {
    let expected = sign(app, message);
    expected.as_bytes().ct_eq(signature.as_bytes()).into()
}

/// The `auth` a client presents to subscribe: `KEY:SIGNATURE` of
/// `socket_id:channel` (and `:channel_data` for presence channels).
pub(crate) fn channel_auth_is_valid(
    app: &PusherApp,
    auth: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> bool {
    let Some((key, signature)) = auth.split_once(':') else {
        return false;
    };
    let message = match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    };
    // Both checks always run, so that a wrong key takes as long as a wrong signature.
    let key_matches: bool = key.as_bytes().ct_eq(app.key.as_bytes()).into();
    verify(app, &message, signature) & key_matches
}

/// The `auth` string for a subscription, as an app's auth endpoint returns it.
pub fn channel_auth(
    app: &PusherApp,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> String {
    let message = match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    };
    format!("{}:{}", app.key, sign(app, &message))
}

/// Hex MD5 of a request body (`body_md5`).
pub fn body_md5(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// The string an HTTP API request signs: method, path, and the query parameters
/// other than `auth_signature`, keys lower-cased, sorted, joined as `k=v&…`.
pub fn request_string(method: &str, path: &str, query: &[(String, String)]) -> String {
    let mut params: Vec<(String, &str)> = query
        .iter()
        .filter(|(key, _)| key != "auth_signature")
        .map(|(key, value)| (key.to_ascii_lowercase(), value.as_str()))
        .collect();
    params.sort();
    let query = params
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    format!("{method}\n{path}\n{query}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn app() -> PusherApp {
        PusherApp {
            id: "3".into(),
            key: "278d425bdf160c739803".into(),
            secret: Secret::new("7ad3773142a6692b25b8"),
        }
    }

    /// The example of Pusher's "Authentication and authorization signatures" page.
    #[test]
    fn the_documented_private_channel_signature() {
        let auth = channel_auth(&app(), "1234.1234", "private-foobar", None);
        assert_eq!(
            auth,
            "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
        );
        assert!(channel_auth_is_valid(
            &app(),
            &auth,
            "1234.1234",
            "private-foobar",
            None
        ));
        assert!(!channel_auth_is_valid(
            &app(),
            &auth,
            "1234.1235",
            "private-foobar",
            None
        ));
        assert!(!channel_auth_is_valid(
            &app(),
            "nonsense",
            "1234.1234",
            "private-foobar",
            None
        ));
    }

    #[test]
    fn a_presence_signature_covers_the_channel_data() {
        let data = r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#;
        let auth = channel_auth(&app(), "1234.1234", "presence-foobar", Some(data));
        assert!(channel_auth_is_valid(
            &app(),
            &auth,
            "1234.1234",
            "presence-foobar",
            Some(data)
        ));
        assert!(!channel_auth_is_valid(
            &app(),
            &auth,
            "1234.1234",
            "presence-foobar",
            Some(r#"{"user_id":11}"#)
        ));
    }

    /// The example of Pusher's "HTTP API reference" (authentication section).
    #[test]
    fn the_documented_request_signature() {
        let body = br#"{"name":"foo","channels":["project-3"],"data":"{\"some\":\"data\"}"}"#;
        assert_eq!(body_md5(body), "ec365a775a4cd0599faeb73354201b6f");
        let query: Vec<(String, String)> = [
            ("auth_key", "278d425bdf160c739803"),
            ("auth_timestamp", "1353088179"),
            ("auth_version", "1.0"),
            ("body_md5", "ec365a775a4cd0599faeb73354201b6f"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        let signed = request_string("POST", "/apps/3/events", &query);
        assert_eq!(
            sign(&app(), &signed),
            "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
        );
    }
}
