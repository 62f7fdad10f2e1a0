//! The Pusher apps this hub serves, each `ID:KEY:SECRET` (`--pusher-app`).

use std::{fmt, str::FromStr};

use crate::config::Secret;

/// One Pusher app: clients connect with its key, servers sign with its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PusherApp {
    pub id: String,
    pub key: String,
    pub secret: Secret,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a Pusher app: write ID:KEY:SECRET, each non-empty, ID and KEY without ':'")]
pub struct BadPusherApp(String);

impl FromStr for PusherApp {
    type Err = BadPusherApp;

    /// `ID:KEY:SECRET`; the secret may itself contain `:`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || BadPusherApp(redact(text));
        let mut parts = text.trim().splitn(3, ':');
        let (Some(id), Some(key), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if id.is_empty() || key.is_empty() || secret.is_empty() {
            return Err(bad());
        }
        Ok(Self {
            id: id.to_owned(),
            key: key.to_owned(),
            secret: Secret::new(secret),
        })
    }
}

/// The text without its secret part, for messages.
fn redact(text: &str) -> String {
    match text.trim().splitn(3, ':').collect::<Vec<_>>()[..] {
        [id, key, _] => format!("{id}:{key}:***"),
        _ => text.trim().to_owned(),
    }
}

impl fmt::Display for PusherApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:***", self.id, self.key)
    }
}

/// The configured apps, looked up by key (WebSocket) or id (HTTP API).
#[derive(Debug, Clone, Default)]
pub(crate) struct Apps(Vec<PusherApp>);

impl Apps {
    pub fn new(apps: Vec<PusherApp>) -> Self {
        Self(apps)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first app: the application's own events are mirrored onto its channels.
    pub fn first(&self) -> Option<&PusherApp> {
        self.0.first()
    }

    pub fn by_key(&self, key: &str) -> Option<&PusherApp> {
        self.0.iter().find(|app| app.key == key)
    }

    pub fn by_id(&self, id: &str) -> Option<&PusherApp> {
        self.0.iter().find(|app| app.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_app_is_id_key_and_secret() {
        let app: PusherApp = "1:key:sec:ret".parse().expect("valid");
        assert_eq!(
            (app.id.as_str(), app.key.as_str(), app.secret.expose()),
            ("1", "key", "sec:ret")
        );
    }

    #[test]
    fn a_bad_app_is_named_without_its_secret() {
        let error = "1:key:".parse::<PusherApp>().expect_err("no secret");
        assert!(error.to_string().contains("'1:key:***'"), "{error}");
        assert!("1:key".parse::<PusherApp>().is_err());
        assert!(":key:secret".parse::<PusherApp>().is_err());
    }
}
