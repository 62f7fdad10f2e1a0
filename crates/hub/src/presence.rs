//! Who is looking at (or writing on) which ticket. Kept in memory only, never stored:
//! a reconnecting client announces itself again.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Mutex,
    time::{Duration, Instant},
};

use serde::Serialize;

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

/// One line of a presence list, as clients receive it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct PresenceEntry {
    pub connection_id: ConnectionId,
    pub user_id: i64,
    pub name: Option<String>,
    pub role: String,
    pub state: &'static str,
}

/// A ticket's full presence list (`frame`) and the connections to send it to.
pub(crate) struct Announcement {
    pub recipients: Vec<ConnectionId>,
    pub frame: String,
}

pub(crate) struct Presence {
    tickets: Mutex<HashMap<i64, BTreeMap<ConnectionId, Watcher>>>,
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
    pub fn new(idle_after: Duration) -> Self {
        Self {
            tickets: Mutex::new(HashMap::new()),
            idle_after,
        }
    }

    /// Records that `connection` (of a signed-in `viewer`) views or edits `ticket_id`.
    /// `None` when the connection is already on too many tickets.
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
        let mut tickets = self.lock();
        let on_other_tickets = tickets
            .iter()
            .filter(|(ticket, watchers)| {
                **ticket != ticket_id && watchers.contains_key(&connection)
            })
            .count();
        if on_other_tickets >= MAX_TICKETS_PER_CONNECTION {
            return None;
        }
        let watchers = tickets.entry(ticket_id).or_default();
        watchers.insert(
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
        Some(self.announcement(ticket_id, watchers))
    }

    pub fn leave(&self, connection: ConnectionId, ticket_id: i64) -> Option<Announcement> {
        let mut tickets = self.lock();
        let watchers = tickets.get_mut(&ticket_id)?;
        watchers.remove(&connection)?;
        let announcement = self.announcement(ticket_id, watchers);
        if watchers.is_empty() {
            tickets.remove(&ticket_id);
        }
        Some(announcement)
    }

    /// Removes a closed connection from every ticket it was on.
    pub fn disconnect(&self, connection: ConnectionId) -> Vec<Announcement> {
        let mut tickets = self.lock();
        let mut announcements = Vec::new();
        tickets.retain(|ticket_id, watchers| {
            if watchers.remove(&connection).is_some() {
                announcements.push(self.announcement(*ticket_id, watchers));
            }
            !watchers.is_empty()
        });
        announcements
    }

    /// Lists of the tickets where someone has just become idle.
    pub fn sweep_idle(&self) -> Vec<Announcement> {
        let mut tickets = self.lock();
        let mut announcements = Vec::new();
        for (ticket_id, watchers) in tickets.iter_mut() {
            let mut changed = false;
            for watcher in watchers.values_mut() {
                let idle = watcher.last_active.elapsed() >= self.idle_after;
                changed |= idle != watcher.shown_idle;
                watcher.shown_idle = idle;
            }
            if changed {
                announcements.push(self.announcement(*ticket_id, watchers));
            }
        }
        announcements
    }

    fn announcement(
        &self,
        ticket_id: i64,
        watchers: &BTreeMap<ConnectionId, Watcher>,
    ) -> Announcement {
        let viewers: Vec<PresenceEntry> = watchers
            .iter()
            .map(|(connection, watcher)| PresenceEntry {
                connection_id: *connection,
                user_id: watcher.user_id,
                name: watcher.name.clone(),
                role: watcher.role.clone(),
                state: if watcher.last_active.elapsed() >= self.idle_after {
                    "idle"
                } else {
                    match watcher.activity {
                        Activity::Viewing => "viewing",
                        Activity::Editing => "editing",
                    }
                },
            })
            .collect();
        let frame = PresenceFrame {
            kind: "presence",
            ticket_id,
            viewers: &viewers,
        };
        Announcement {
            recipients: watchers.keys().copied().collect(),
            frame: serde_json::to_string(&frame).expect("a presence list always serializes"),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, BTreeMap<ConnectionId, Watcher>>> {
        self.tickets
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

    #[test]
    fn everyone_on_a_ticket_receives_the_full_list() {
        let presence = Presence::new(Duration::from_secs(300));
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
        let presence = Presence::new(Duration::from_secs(300));
        assert!(
            presence
                .announce(1, &Viewer::Anonymous, 5, Activity::Viewing)
                .is_none()
        );
    }

    #[test]
    fn a_closed_connection_leaves_every_ticket() {
        let presence = Presence::new(Duration::from_secs(300));
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        presence.announce(1, &agent(10), 6, Activity::Viewing);
        presence.announce(2, &agent(11), 6, Activity::Viewing);
        let announcements = presence.disconnect(1);
        assert_eq!(announcements.len(), 2);
        let six = announcements
            .iter()
            .find(|a| a.frame.contains(r#""ticket_id":6"#))
            .expect("ticket 6");
        assert_eq!(six.recipients, vec![2]);
    }

    #[test]
    fn watchers_become_idle_once_and_are_announced_once() {
        let presence = Presence::new(Duration::ZERO);
        presence.announce(1, &agent(10), 5, Activity::Viewing);
        let first = presence.sweep_idle();
        assert_eq!(first.len(), 1);
        assert!(first[0].frame.contains(r#""state":"idle""#));
        assert!(presence.sweep_idle().is_empty());
    }
}
