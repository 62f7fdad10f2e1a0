//! Who is on each presence channel, for every node alike: each subscribing or leaving
//! connection appends a `member_added` / `member_removed` event to the log, and every
//! node applies them in log order. A user is a member while at least one of their
//! connections is subscribed; clients hear `member_added` for the first connection and
//! `member_removed` for the last.

use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    sync::{Mutex, MutexGuard},
};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{channel::ChannelName, subscriptions::ChannelKey};
use crate::{event::Delivered, outlet::text_frame};

/// The log's event types for presence changes (never sent as such).
pub(crate) const MEMBER_ADDED: &str = "pusher_internal:member_added";
pub(crate) const MEMBER_REMOVED: &str = "pusher_internal:member_removed";

/// What a membership event carries in the log.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct MemberEvent {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_info: Option<Box<RawValue>>,
    pub socket_id: String,
}

#[derive(Deserialize)]
struct Logged {
    data: MemberEvent,
}

struct Member {
    info: Option<Box<RawValue>>,
    sockets: BTreeSet<String>,
}

/// What a membership event changed, as the channel's subscribers hear it.
#[derive(Debug, PartialEq)]
pub(crate) enum Change {
    Added {
        user_id: String,
        user_info: Option<String>,
    },
    Removed {
        user_id: String,
    },
    /// Another connection of a member came or went.
    Unchanged,
}

#[derive(Serialize)]
struct MemberData<'a> {
    user_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_info: Option<&'a RawValue>,
}

#[derive(Serialize)]
struct MemberMessage<'a> {
    event: &'a str,
    channel: &'a str,
    data: String,
}

impl Change {
    /// The protocol's message for it, encoded as a frame (`data` is a JSON string, as Pusher sends it).
    pub fn frame(&self, channel: &str) -> Bytes {
        let (event, data) = match self {
            Change::Added { user_id, user_info } => {
                let info = user_info
                    .as_deref()
                    .and_then(|info| serde_json::from_str::<&RawValue>(info).ok());
                (
                    MEMBER_ADDED,
                    MemberData {
                        user_id,
                        user_info: info,
                    },
                )
            }
            Change::Removed { user_id } => (
                MEMBER_REMOVED,
                MemberData {
                    user_id,
                    user_info: None,
                },
            ),
            Change::Unchanged => return Bytes::new(),
        };
        let message = MemberMessage {
            event,
            channel,
            data: serde_json::to_string(&data).expect("member data always serializes"),
        };
        text_frame(&serde_json::to_string(&message).expect("a member message always serializes"))
    }
}

/// A presence channel's members as `subscription_succeeded` lists them.
#[derive(Serialize)]
pub(crate) struct PresenceList {
    pub ids: Vec<String>,
    pub hash: BTreeMap<String, Option<Box<RawValue>>>,
    pub count: usize,
}

#[derive(Default)]
pub(crate) struct Members {
    channels: Mutex<HashMap<ChannelKey, BTreeMap<String, Member>>>,
}

impl Members {
    /// Applies a membership event; `None` if `event` is not one.
    pub fn apply(&self, event: &Delivered) -> Option<Change> {
        let topic = event.topic.as_ref()?;
        let added = match event.kind.as_str() {
            MEMBER_ADDED => true,
            MEMBER_REMOVED => false,
            _ => return None,
        };
        let channel = ChannelName::parse(&topic.channel).ok()?;
        let Ok(Logged { data }) = serde_json::from_str::<Logged>(&event.json) else {
            tracing::error!(id = event.id, "unreadable presence event");
            return Some(Change::Unchanged);
        };
        let key = (topic.app.clone(), channel);
        Some(if added {
            self.add(key, data)
        } else {
            self.remove(&key, &data.user_id, &data.socket_id)
        })
    }

    /// Adds a connection of a member (also when a node starts and loads the table).
    pub fn add(&self, key: ChannelKey, member: MemberEvent) -> Change {
        let mut channels = self.lock();
        let users = channels.entry(key).or_default();
        let entry = users
            .entry(member.user_id.clone())
            .or_insert_with(|| Member {
                info: None,
                sockets: BTreeSet::new(),
            });
        let first = entry.sockets.is_empty();
        entry.sockets.insert(member.socket_id);
        if member.user_info.is_some() {
            entry.info = member.user_info;
        }
        if first {
            Change::Added {
                user_info: entry.info.as_ref().map(|info| info.get().to_owned()),
                user_id: member.user_id,
            }
        } else {
            Change::Unchanged
        }
    }

    fn remove(&self, key: &ChannelKey, user_id: &str, socket_id: &str) -> Change {
        let mut channels = self.lock();
        let Some(users) = channels.get_mut(key) else {
            return Change::Unchanged;
        };
        let Some(member) = users.get_mut(user_id) else {
            return Change::Unchanged;
        };
        if !member.sockets.remove(socket_id) || !member.sockets.is_empty() {
            return Change::Unchanged;
        }
        users.remove(user_id);
        if users.is_empty() {
            channels.remove(key);
        }
        Change::Removed {
            user_id: user_id.to_owned(),
        }
    }

    pub fn list(&self, key: &ChannelKey) -> PresenceList {
        let channels = self.lock();
        let mut list = PresenceList {
            ids: Vec::new(),
            hash: BTreeMap::new(),
            count: 0,
        };
        for (user_id, member) in channels.get(key).into_iter().flatten() {
            list.ids.push(user_id.clone());
            list.hash.insert(user_id.clone(), member.info.clone());
        }
        list.count = list.ids.len();
        list
    }

    pub fn user_ids(&self, key: &ChannelKey) -> Vec<String> {
        self.lock()
            .get(key)
            .map(|users| users.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Users per presence channel of an app, on every node.
    pub fn occupied(&self, app: &str) -> Vec<(ChannelName, usize)> {
        self.lock()
            .iter()
            .filter(|((channel_app, _), _)| channel_app == app)
            .map(|((_, name), users)| (name.clone(), users.len()))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ChannelKey, BTreeMap<String, Member>>> {
        self.channels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ChannelKey {
        (
            "1".into(),
            ChannelName::parse("presence-room").expect("valid"),
        )
    }

    fn member(user: &str, socket: &str) -> MemberEvent {
        MemberEvent {
            user_id: user.into(),
            user_info: serde_json::from_str(r#"{"name":"Ann"}"#).ok(),
            socket_id: socket.into(),
        }
    }

    #[test]
    fn a_user_joins_with_the_first_connection_and_leaves_with_the_last() {
        let members = Members::default();
        assert!(matches!(
            members.add(key(), member("7", "1.1")),
            Change::Added { .. }
        ));
        assert_eq!(members.add(key(), member("7", "1.2")), Change::Unchanged);
        assert_eq!(members.list(&key()).count, 1);
        assert_eq!(members.remove(&key(), "7", "1.1"), Change::Unchanged);
        assert_eq!(
            members.remove(&key(), "7", "1.2"),
            Change::Removed {
                user_id: "7".into()
            }
        );
        assert_eq!(members.list(&key()).count, 0);
        assert!(members.occupied("1").is_empty());
    }

    #[test]
    fn the_frames_carry_data_as_a_json_string() {
        let frame = Change::Added {
            user_id: "7".into(),
            user_info: Some(r#"{"name":"Ann"}"#.into()),
        }
        .frame("presence-room");
        // A 2-byte header and a 2-byte length (126 < size < 65536) before the text.
        let text = String::from_utf8_lossy(&frame[4..]).into_owned();
        assert_eq!(
            text,
            r#"{"event":"pusher_internal:member_added","channel":"presence-room","data":"{\"user_id\":\"7\",\"user_info\":{\"name\":\"Ann\"}}"}"#
        );
    }
}
