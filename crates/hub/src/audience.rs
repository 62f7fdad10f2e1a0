//! Who may receive an event. The audience is decided by the server when the event is
//! written and never by the receiving client.

use serde::{Deserialize, Serialize};

/// A user's role as the hub sees it: an opaque, short name (`requester`, `agent`, `admin`
/// for the desk; whatever a publishing application uses in hub-only mode).
pub type Role = String;

/// The set of viewers an event is for. Both lists empty (or the audience absent) means
/// everyone, the anonymous included; otherwise a viewer belongs to it when their role is
/// listed or their user id is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<i64>,
}

impl Audience {
    /// Everyone, including anonymous viewers.
    pub fn everyone() -> Self {
        Self::default()
    }

    pub fn roles<I, S>(roles: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Role>,
    {
        Self {
            roles: roles.into_iter().map(Into::into).collect(),
            users: Vec::new(),
        }
    }

    /// Adds one user to the audience (e.g. a ticket's requester next to the agents).
    pub fn and_user(mut self, user_id: i64) -> Self {
        if !self.users.contains(&user_id) {
            self.users.push(user_id);
        }
        self
    }

    pub fn is_everyone(&self) -> bool {
        self.roles.is_empty() && self.users.is_empty()
    }

    pub fn includes(&self, viewer: &Viewer) -> bool {
        if self.is_everyone() {
            return true;
        }
        match viewer {
            Viewer::Anonymous => false,
            Viewer::User { id, role, .. } => {
                self.users.contains(id) || self.roles.iter().any(|r| r == role)
            }
        }
    }
}

/// The person (or program) on the other end of a connection or poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewer {
    Anonymous,
    User {
        id: i64,
        role: Role,
        /// Shown to others in presence lists.
        name: Option<String>,
    },
}

impl Viewer {
    pub fn user_id(&self) -> Option<i64> {
        match self {
            Viewer::Anonymous => None,
            Viewer::User { id, .. } => Some(*id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, role: &str) -> Viewer {
        Viewer::User {
            id,
            role: role.into(),
            name: None,
        }
    }

    #[test]
    fn an_empty_audience_includes_anonymous_viewers() {
        assert!(Audience::everyone().includes(&Viewer::Anonymous));
        assert!(Audience::everyone().includes(&user(1, "requester")));
    }

    #[test]
    fn a_role_audience_excludes_anonymous_and_other_roles() {
        let agents = Audience::roles(["agent", "admin"]);
        assert!(!agents.includes(&Viewer::Anonymous));
        assert!(!agents.includes(&user(1, "requester")));
        assert!(agents.includes(&user(2, "agent")));
        assert!(agents.includes(&user(3, "admin")));
    }

    #[test]
    fn a_listed_user_is_included_whatever_the_role() {
        let audience = Audience::roles(["agent"]).and_user(17);
        assert!(audience.includes(&user(17, "requester")));
        assert!(!audience.includes(&user(18, "requester")));
    }

    #[test]
    fn unknown_audience_fields_are_rejected() {
        let parsed: Result<Audience, _> = serde_json::from_str(r#"{"role": ["agent"]}"#);
        assert!(parsed.is_err());
    }
}
