//! Who is looking at (or writing on) which ticket. Kept in memory only, never stored:
//! a reconnecting client announces itself again.
//!
//! Each node knows its own watchers and, through the relay (`cluster.rs`), the latest
//! snapshot every other node sent for a ticket; lists sent to clients merge both.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::{Deserialize, Serialize};

use crate::{audience::Viewer, registry::ConnectionId};

/// What a connection announced about a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Viewing,
    Editing,
}

#[derive(Debug)]
struct Watcher {
    user_id: i64,
    name: Option<String>,
    role: String,
    activity: Activity,
    last_active: Instant,
    /// Whether the last list sent out showed this watcher as idle.
    shown_idle: bool,
}

/// One line of a presence list, as clients receive it. A connection is identified by
/// its node and its id there (ids are per node).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PresenceEntry {
    pub node: String,
    pub connection_id: ConnectionId,
    pub user_id: i64,
    pub name: Option<String>,
    pub role: String,
    pub state: String,
}

/// A ticket's full presence list (`frame`) and the local connections to send it to.
pub(crate) struct Announcement {
    pub ticket_id: i64,
    pub recipients: Vec<ConnectionId>,
    pub frame: String,
}

/// What another node last said about a ticket.
struct Remote {
    entries: Vec<PresenceEntry>,
    received: Instant,
}

#[derive(Default)]
struct State {
    local: HashMap<i64, BTreeMap<ConnectionId, Watcher>>,
    remote: HashMap<i64, BTreeMap<String, Remote>>,
}

pub(crate) struct Presence {
    state: Mutex<State>,
    node: String,
    idle_after: Duration,
}

#[derive(Serialize)]
struct PresenceFrame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    ticket_id: i64,
    viewers: &'a [PresenceEntry],
}

/// How many tickets one connection may be present on at once.
pub(crate) const MAX_TICKETS_PER_CONNECTION: usize = 16;

impl Presence {
    pub fn new(node: String, idle_after: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            node,
            idle_after,
        }
    }

    /// Records that `connection` (of a signed-in `viewer`) views or edits `ticket_id`.
    /// `None` for anonymous viewers and connections already on too many tickets.
    pub fn announce(
        &self,
        connection: ConnectionId,
        viewer: &Viewer,
        ticket_id: i64,
        activity: Activity,
    ) -> Option<Announcement> {
        let Viewer::User { id, role, name } = viewer else {
            return None;
        };
        let mut state = self.lock();
        let on_other_tickets = state
            .local
            .iter()
            .filter(|(ticket, watchers)| {
                **ticket != ticket_id && watchers.contains_key(&connection)
            })
            .count();
        if on_other_tickets >= MAX_TICKETS_PER_CONNECTION {
            return None;
        }
        state.local.entry(ticket_id).or_default().insert(
            connection,
            Watcher {
                user_id: *id,
                name: name.clone(),
                role: role.clone(),
                activity,
                last_active: Instant::now(),
                shown_idle: false,
            },
        );
        Some(self.announcement(&state, ticket_id))
    }

    pub fn leave(&self, connection: ConnectionId, ticket_id: i64) -> Option<Announcement> {
        let mut state = self.lock();
        let watchers = state.local.get_mut(&ticket_id)?;
        watchers.remove(&connection)?;
        if watchers.is_empty() {
            state.local.remove(&ticket_id);
        }
        Some(self.announcement(&state, ticket_id))
    }

    /// Removes a closed connection from every ticket it was on.
    pub fn disconnect(&self, connection: ConnectionId) -> Vec<Announcement> {
        let mut state = self.lock();
        let mut left = Vec::new();
        state.local.retain(|ticket_id, watchers| {
            if watchers.remove(&connection).is_some() {
                left.push(*ticket_id);
            }
            !watchers.is_empty()
        });
        left.into_iter()
            .map(|ticket| self.announcement(&state, ticket))
            .collect()
    }

    /// Lists of the tickets where someone local has just become idle, or where another
    /// node's snapshot is older than `remote_ttl` (that node is gone) and was dropped.
    pub fn sweep(&self, remote_ttl: Duration) -> Vec<Announcement> {
        let mut state = self.lock();
        let mut changed = Vec::new();
        for (ticket_id, watchers) in state.local.iter_mut() {
            let mut idle_changed = false;
            for watcher in watchers.values_mut() {
                let idle = watcher.last_active.elapsed() >= self.idle_after;
                idle_changed |= idle != watcher.shown_idle;
                watcher.shown_idle = idle;
            }
            if idle_changed {
                changed.push(*ticket_id);
            }
        }
        state.remote.retain(|ticket_id, nodes| {
            let before = nodes.len();
            nodes.retain(|_, remote| remote.received.elapsed() < remote_ttl);
            if nodes.len() != before {
                changed.push(*ticket_id);
            }
            !nodes.is_empty()
        });
        changed.sort_unstable();
        changed.dedup();
        changed
            .into_iter()
            .map(|ticket| self.announcement(&state, ticket))
            .collect()
    }

    /// This node's own entries for a ticket, for the other nodes.
    pub fn local_entries(&self, ticket_id: i64) -> Vec<PresenceEntry> {
        let state = self.lock();
        self.local_list(&state, ticket_id)
    }

    /// The tickets this node has watchers on.
    pub fn local_tickets(&self) -> Vec<i64> {
        self.lock().local.keys().copied().collect()
    }

    /// Takes another node's snapshot of a ticket; the merged list is for the local
    /// watchers of that ticket, if any.
    pub fn apply_remote(
        &self,
        node: &str,
        ticket_id: i64,
        entries: Vec<PresenceEntry>,
    ) -> Option<Announcement> {
        if node == self.node {
            return None;
        }
        let mut state = self.lock();
        let nodes = state.remote.entry(ticket_id).or_default();
        if entries.is_empty() {
            nodes.remove(node);
        } else {
            nodes.insert(
                node.to_owned(),
                Remote {
                    entries,
                    received: Instant::now(),
                },
            );
        }
        if nodes.is_empty() {
            state.remote.remove(&ticket_id);
        }
        state
            .local
            .contains_key(&ticket_id)
            .then(|| self.announcement(&state, ticket_id))
    }

    fn local_list(&self, state: &State, ticket_id: i64) -> Vec<PresenceEntry> {
        let Some(watchers) = state.local.get(&ticket_id) else {
            return Vec::new();
        };
        watchers
            .iter()
            .map(|(connection, watcher)| PresenceEntry {
                node: self.node.clone(),
                connection_id: *connection,
                user_id: watcher.user_id,
                name: watcher.name.clone(),
                role: watcher.role.clone(),
                state: self.state_of(watcher).to_owned(),
            })
            .collect()
    }

    fn state_of(&self, watcher: &Watcher) -> &'static str {
        if watcher.last_active.elapsed() >= self.idle_after {
            return "idle";
        }
        match watcher.activity {
            Activity::Viewing => "viewing",
            Activity::Editing => "editing",
        }
    }

    fn announcement(&self, state: &State, ticket_id: i64) -> Announcement {
        let mut viewers = self.local_list(state, ticket_id);
        if let Some(nodes) = state.remote.get(&ticket_id) {
            viewers.extend(
                nodes
                    .values()
                    .flat_map(|remote| remote.entries.iter().cloned()),
            );
        }
        let frame = PresenceFrame {
            kind: "presence",
            ticket_id,
            viewers: &viewers,
        };
        Announcement {
            ticket_id,
            recipients: state
                .local
                .get(&ticket_id)
                .map(|watchers| watchers.keys().copied().collect())
                .unwrap_or_default(),
            frame: serde_json::to_string(&frame).expect("a presence list always serializes"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: i64) -> Viewer {
        Viewer::User {
            id,
            role: "agent".into(),
            name: Some(format!("Agent {id}")),
        }
    }

    fn presence(idle_after: Duration) -> Presence {
        Presence::new("a".into(), idle_after)
    }

    #[test]
    fn everyone_on_a_ticket_receives_the_full_list() {
        let presence = presence(Duration::from_secs(300));
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        let announcement = presence
            .announce(2, &agent(11), 5, Activity::Editing)
            .expect("announced");
        assert_eq!(announcement.recipients, vec![1, 2]);
        assert!(announcement.frame.contains(r#""state":"viewing""#));
        assert!(announcement.frame.contains(r#""state":"editing""#));
    }

    #[test]
    fn anonymous_viewers_are_not_present() {
        let presence = presence(Duration::from_secs(300));
        assert!(
            presence
                .announce(1, &Viewer::Anonymous, 5, Activity::Viewing)
                .is_none()
        );
    }

    #[test]
    fn a_closed_connection_leaves_every_ticket() {
        let presence = presence(Duration::from_secs(300));
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        presence.announce(1, &agent(10), 6, Activity::Viewing);
        presence.announce(2, &agent(11), 6, Activity::Viewing);
        let announcements = presence.disconnect(1);
        assert_eq!(announcements.len(), 2);
        let six = announcements
            .iter()
            .find(|a| a.ticket_id == 6)
            .expect("ticket 6");
        assert_eq!(six.recipients, vec![2]);
    }

    #[test]
    fn watchers_become_idle_once_and_are_announced_once() {
        let presence = presence(Duration::ZERO);
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        let first = presence.sweep(Duration::from_secs(60));
        assert_eq!(first.len(), 1);
        assert!(first[0].frame.contains(r#""state":"idle""#));
        assert!(presence.sweep(Duration::from_secs(60)).is_empty());
    }

    #[test]
    fn other_nodes_watchers_are_merged_in_and_expire() {
        let presence = presence(Duration::from_secs(300));
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        let elsewhere = PresenceEntry {
            node: "b".into(),
            connection_id: 1,
            user_id: 20,
            name: None,
            role: "agent".into(),
            state: "editing".into(),
        };
        let merged = presence
            .apply_remote("b", 5, vec![elsewhere])
            .expect("local watchers hear of it");
        assert!(merged.frame.contains(r#""node":"b""#) && merged.frame.contains(r#""user_id":20"#));
        assert_eq!(
            presence.local_entries(5).len(),
            1,
            "only local entries are relayed"
        );
        let expired = presence.sweep(Duration::ZERO);
        assert_eq!(expired.len(), 1);
        assert!(!expired[0].frame.contains(r#""node":"b""#));
    }

    #[test]
    fn a_nodes_own_snapshot_is_ignored() {
        let presence = presence(Duration::from_secs(300));
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        assert!(presence.apply_remote("a", 5, Vec::new()).is_none());
    }
}
