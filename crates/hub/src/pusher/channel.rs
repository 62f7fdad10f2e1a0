//! Channel names and what their prefix makes of them (public, `private-`,
//! `private-encrypted-`, `presence-`).

use std::fmt;

/// Longest channel name the Pusher protocol allows.
const MAX_LEN: usize = 164;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChannelKind {
    Public,
    Private,
    /// End-to-end encrypted by the clients: the server passes the ciphertext on.
    PrivateEncrypted,
    Presence,
}

impl ChannelKind {
    /// Whether subscribing needs the app's signature.
    pub fn needs_auth(self) -> bool {
        self != ChannelKind::Public
    }

    /// Whether subscribers may send `client-*` events.
    pub fn allows_client_events(self) -> bool {
        matches!(self, ChannelKind::Private | ChannelKind::Presence)
    }
}

/// A valid channel name: 1–164 of `A-Z a-z 0-9 _ - = @ , . ;`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ChannelName(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum BadChannel {
    #[error("a channel name must not be empty")]
    Empty,
    #[error("a channel name must be at most {MAX_LEN} characters")]
    TooLong,
    #[error("a channel name may contain only A-Z, a-z, 0-9 and _ - = @ , . ;")]
    BadCharacter,
}

impl ChannelName {
    pub fn parse(name: &str) -> Result<Self, BadChannel> {
        if name.is_empty() {
            return Err(BadChannel::Empty);
        }
        if name.len() > MAX_LEN {
            return Err(BadChannel::TooLong);
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-=@,.;".contains(c))
        {
            return Err(BadChannel::BadCharacter);
        }
        Ok(Self(name.to_owned()))
    }

    pub fn kind(&self) -> ChannelKind {
        let name = self.0.as_str();
        if name.starts_with("presence-") {
            ChannelKind::Presence
        } else if name.starts_with("private-encrypted-") {
            ChannelKind::PrivateEncrypted
        } else if name.starts_with("private-") {
            ChannelKind::Private
        } else {
            ChannelKind::Public
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChannelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> ChannelKind {
        ChannelName::parse(name).expect("valid").kind()
    }

    #[test]
    fn the_prefix_decides_the_kind() {
        assert_eq!(kind("orders"), ChannelKind::Public);
        assert_eq!(kind("private-user.17"), ChannelKind::Private);
        assert_eq!(
            kind("private-encrypted-vault"),
            ChannelKind::PrivateEncrypted
        );
        assert_eq!(kind("presence-ticket.5"), ChannelKind::Presence);
        assert!(!ChannelKind::PrivateEncrypted.allows_client_events());
    }

    #[test]
    fn bad_names_are_named() {
        assert_eq!(ChannelName::parse(""), Err(BadChannel::Empty));
        assert_eq!(
            ChannelName::parse(&"a".repeat(165)),
            Err(BadChannel::TooLong)
        );
        assert_eq!(ChannelName::parse("a b"), Err(BadChannel::BadCharacter));
        assert_eq!(ChannelName::parse("ä"), Err(BadChannel::BadCharacter));
        assert!(ChannelName::parse("Private-x_y=z@a,b.c;d").is_ok());
    }
}
