//! Who receives which event (docs/events.md, "Who receives what"). Decided here, on
//! the server, when the event is written; never by the receiving client.
//!
//! "Everyone" in the desk means every signed-in person: the three roles, not the hub's
//! empty audience, which would include anonymous connections too.

use ictdesk_hub::{Audience, Viewer};

use crate::{articles::Visibility, notifications::NotificationAudience, users::Role};

fn staff() -> Audience {
    Audience::roles([Role::Agent.as_str(), Role::Admin.as_str()])
}

fn signed_in() -> Audience {
    Audience::roles([
        Role::Requester.as_str(),
        Role::Agent.as_str(),
        Role::Admin.as_str(),
    ])
}

/// Ticket events and public comments: agents, admins, and the ticket's requester.
pub fn ticket(requester_id: i64) -> Audience {
    staff().and_user(requester_id)
}

/// A comment: internal notes are for agents and admins only.
pub fn comment(requester_id: i64, internal: bool) -> Audience {
    if internal {
        staff()
    } else {
        ticket(requester_id)
    }
}

/// Team events: agents and admins (teams are the desk's internal organisation).
pub fn teams() -> Audience {
    staff()
}

/// User events: admins.
pub fn users() -> Audience {
    Audience::roles([Role::Admin.as_str()])
}

/// Equipment events: agents, admins, and whoever has the piece now. Not whoever had
/// it: the event carries the new record (notes included), which its previous holder
/// may no longer read (issue 9 point 6).
pub fn equipment(holder: Option<i64>) -> Audience {
    holder.into_iter().fold(staff(), Audience::and_user)
}

/// Articles: every signed-in person, or agents and admins only.
pub fn article(visibility: Visibility) -> Audience {
    match visibility {
        Visibility::Everyone => signed_in(),
        Visibility::Agents => staff(),
    }
}

/// One person only (their own sessions, a notification addressed to them).
pub fn own(user_id: i64) -> Audience {
    Audience::default().and_user(user_id)
}

/// System notifications: their audience field.
pub fn notification(audience: NotificationAudience) -> Audience {
    match audience {
        NotificationAudience::Everyone => signed_in(),
        NotificationAudience::Agents => staff(),
        NotificationAudience::Admins => users(),
        NotificationAudience::User(id) => own(id),
    }
}

/// How the hub sees a signed-in person.
pub fn viewer(id: i64, role: Role, name: &str) -> Viewer {
    Viewer::User {
        id,
        role: role.as_str().to_owned(),
        name: Some(name.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn as_(id: i64, role: Role) -> Viewer {
        viewer(id, role, "x")
    }

    #[test]
    fn a_ticket_event_reaches_staff_and_its_requester_only() {
        let audience = ticket(10);
        assert!(audience.includes(&as_(1, Role::Agent)));
        assert!(audience.includes(&as_(2, Role::Admin)));
        assert!(audience.includes(&as_(10, Role::Requester)));
        assert!(!audience.includes(&as_(11, Role::Requester)));
        assert!(!audience.includes(&Viewer::Anonymous));
    }

    #[test]
    fn an_internal_comment_never_reaches_the_requester() {
        let audience = comment(10, true);
        assert!(!audience.includes(&as_(10, Role::Requester)));
        assert!(audience.includes(&as_(1, Role::Agent)));
    }

    #[test]
    fn team_events_reach_staff_only() {
        assert!(teams().includes(&as_(1, Role::Agent)));
        assert!(teams().includes(&as_(2, Role::Admin)));
        assert!(!teams().includes(&as_(3, Role::Requester)));
        assert!(!teams().includes(&Viewer::Anonymous));
    }

    #[test]
    fn user_events_reach_admins_only() {
        assert!(users().includes(&as_(1, Role::Admin)));
        assert!(!users().includes(&as_(2, Role::Agent)));
    }

    #[test]
    fn equipment_events_reach_the_holder_and_staff_only() {
        let audience = equipment(Some(6));
        assert!(audience.includes(&as_(6, Role::Requester)));
        assert!(!audience.includes(&as_(7, Role::Requester)));
        assert!(audience.includes(&as_(7, Role::Agent)));
    }

    #[test]
    fn agent_only_articles_never_reach_requesters() {
        assert!(!article(Visibility::Agents).includes(&as_(5, Role::Requester)));
        assert!(article(Visibility::Everyone).includes(&as_(5, Role::Requester)));
        assert!(!article(Visibility::Everyone).includes(&Viewer::Anonymous));
    }

    #[test]
    fn a_personal_notification_reaches_that_person_only() {
        let audience = notification(NotificationAudience::User(5));
        assert!(audience.includes(&as_(5, Role::Requester)));
        assert!(!audience.includes(&as_(6, Role::Admin)));
    }

    #[test]
    fn an_admins_notification_skips_agents() {
        let audience = notification(NotificationAudience::Admins);
        assert!(!audience.includes(&as_(1, Role::Agent)));
        assert!(audience.includes(&as_(2, Role::Admin)));
    }
}
