//! Who is looking at (or writing on) which ticket. Kept in memory only, never stored:
//! a reconnecting client announces itself again.
//!
//! Each node knows its own watchers and, through the relay (`cluster.rs`), the latest
//! list every other live node keeps for a ticket; lists sent to clients merge both.
//! Names are cleaned and capped here, once, before anyone is shown them.

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

/// A ticket's full presence list (`json`) and the local connections to send it to.
pub(crate) struct Announcement {
    pub ticket_id: i64,
    pub recipients: Vec<ConnectionId>,
    pub json: String,
}

/// The other nodes' entries on one ticket, by node.
pub(crate) type RemoteLists = BTreeMap<String, Vec<PresenceEntry>>;

#[derive(Default)]
struct State {
    local: HashMap<i64, BTreeMap<ConnectionId, Watcher>>,
    remote: HashMap<i64, RemoteLists>,
}

pub(crate) struct Presence {
    state: Mutex<State>,
    node: String,
    idle_after: Duration,
}

#[derive(Serialize)]
struct PresenceMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    ticket_id: i64,
    viewers: &'a [PresenceEntry],
}

/// How many tickets one connection may be present on at once.
pub(crate) const MAX_TICKETS_PER_CONNECTION: usize = 16;
/// Longest name shown in presence, in characters…
const MAX_NAME_CHARS: usize = 64;
/// …and longest role.
const MAX_ROLE_CHARS: usize = 32;

/// A viewer's name or role as presence shows it: without control or invisible
/// formatting characters (which could fake line breaks or reverse the text around
/// them), whitespace runs as one space, at most `max` characters. `None` when nothing
/// is left.
fn shown(text: &str, max: usize) -> Option<String> {
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
    };
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || invisible(c))
        .filter(|word| !word.is_empty())
        .collect();
    let joined = words.join(" ");
    let mut chars = joined.chars();
    let mut cleaned: String = chars.by_ref().take(max).collect();
    if chars.next().is_some() {
        cleaned.pop();
        cleaned.push('…');
    }
    (!cleaned.is_empty()).then_some(cleaned)
}

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
                name: name.as_deref().and_then(|name| shown(name, MAX_NAME_CHARS)),
                role: shown(role, MAX_ROLE_CHARS).unwrap_or_default(),
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

    /// Lists of the tickets where someone local has just become idle (or active again).
    pub fn sweep(&self) -> Vec<Announcement> {
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

    /// Takes what the other nodes keep for one ticket (this node's own list, if among
    /// them, is ignored); the merged list is for the local watchers, if it changed and
    /// there are any.
    pub fn replace_remote(&self, ticket_id: i64, mut lists: RemoteLists) -> Option<Announcement> {
        lists.remove(&self.node);
        lists.retain(|_, entries| !entries.is_empty());
        let mut state = self.lock();
        let before = state.remote.get(&ticket_id);
        if before.map_or(lists.is_empty(), |before| *before == lists) {
            return None;
        }
        if lists.is_empty() {
            state.remote.remove(&ticket_id);
        } else {
            state.remote.insert(ticket_id, lists);
        }
        state
            .local
            .contains_key(&ticket_id)
            .then(|| self.announcement(&state, ticket_id))
    }

    /// Takes what the other nodes keep for every ticket: tickets missing from `all`
    /// have no remote watchers (any more). Returns the changed lists for local watchers.
    pub fn replace_all_remote(&self, mut all: HashMap<i64, RemoteLists>) -> Vec<Announcement> {
        let mut tickets: Vec<i64> = self.lock().remote.keys().copied().collect();
        tickets.extend(all.keys().copied());
        tickets.sort_unstable();
        tickets.dedup();
        tickets
            .into_iter()
            .filter_map(|ticket| {
                self.replace_remote(ticket, all.remove(&ticket).unwrap_or_default())
            })
            .collect()
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
            viewers.extend(nodes.values().flatten().cloned());
        }
        let message = PresenceMessage {
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
            json: serde_json::to_string(&message).expect("a presence list always serializes"),
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
        assert!(announcement.json.contains(r#""state":"viewing""#));
        assert!(announcement.json.contains(r#""state":"editing""#));
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
        let first = presence.sweep();
        assert_eq!(first.len(), 1);
        assert!(first[0].json.contains(r#""state":"idle""#));
        assert!(presence.sweep().is_empty());
    }

    fn elsewhere(node: &str, user_id: i64) -> PresenceEntry {
        PresenceEntry {
            node: node.into(),
            connection_id: 1,
            user_id,
            name: None,
            role: "agent".into(),
            state: "editing".into(),
        }
    }

    #[test]
    fn other_nodes_watchers_are_merged_in_and_replaced() {
        let presence = presence(Duration::from_secs(300));
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        let merged = presence
            .replace_remote(
                5,
                RemoteLists::from([("b".into(), vec![elsewhere("b", 20)])]),
            )
            .expect("local watchers hear of it");
        assert!(merged.json.contains(r#""node":"b""#) && merged.json.contains(r#""user_id":20"#));
        assert_eq!(
            presence.local_entries(5).len(),
            1,
            "only local entries are relayed"
        );
        assert!(
            presence
                .replace_remote(
                    5,
                    RemoteLists::from([("b".into(), vec![elsewhere("b", 20)])])
                )
                .is_none(),
            "nothing changed, nothing announced"
        );
        let gone = presence.replace_all_remote(HashMap::new());
        assert_eq!(gone.len(), 1);
        assert!(!gone[0].json.contains(r#""node":"b""#));
    }

    #[test]
    fn a_nodes_own_list_is_ignored() {
        let presence = presence(Duration::from_secs(300));
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        let own = RemoteLists::from([("a".into(), vec![elsewhere("a", 30)])]);
        assert!(presence.replace_remote(5, own).is_none());
    }

    #[test]
    fn names_are_cleaned_and_capped() {
        assert_eq!(
            shown("  Ada\u{0}\u{7}  Lovelace\n", 64).as_deref(),
            Some("Ada Lovelace")
        );
        assert_eq!(shown("\u{202E}evil\u{202C}", 64).as_deref(), Some("evil"));
        assert_eq!(shown(&"\u{1}".repeat(200), 64), None);
        let long = shown(&"я".repeat(9000), 64).expect("a name");
        assert_eq!(long.chars().count(), 64);
        assert!(long.ends_with('…'));
        assert_eq!(shown("Ada", 64).as_deref(), Some("Ada"));
    }
}
