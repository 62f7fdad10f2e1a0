//! A live connection acts for its viewer as they are now, not as they were when it
//! opened (issue 9 point 1). Events that may change someone's rights (a role change, a
//! logout, a revoked token, a block) are recognised by the application's
//! [`Identify::rights_change`] as the tailer reads them, so on every node and in log
//! order: each of that person's connections delivers what came up to that event, holds
//! what comes after it, and identifies again with the credentials it opened with. The
//! same person with the same role carries on where it stopped; anyone else is closed
//! with 1008 and a reason the page understands, and resumes under their new rights.
//! A session's or token's end is a change too, found by the clock instead of an event.
//! Polls stop their page at such an event and identify again with the next request.

use std::sync::Arc;

use crate::{
    audience::Viewer,
    event::Delivered,
    identity::{Identify, IdentifyError, Identity},
    registry::CloseReason,
};

/// How an event changes someone's rights.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RightsChange {
    /// Their role, sessions or tokens may have changed: their connections identify again.
    Recheck { user_id: i64 },
    /// They may not be connected at all any more (blocked): their connections close.
    Revoke { user_id: i64, reason: CloseReason },
}

impl RightsChange {
    pub fn user_id(&self) -> i64 {
        match self {
            RightsChange::Recheck { user_id } | RightsChange::Revoke { user_id, .. } => *user_id,
        }
    }

    /// Whether this change concerns `viewer`.
    pub fn concerns(&self, viewer: &Viewer) -> bool {
        viewer.user_id() == Some(self.user_id())
    }
}

/// An identity, and the head when it was established: the rights changes up to that
/// event are reflected in it, later ones may not be.
#[derive(Debug, Clone)]
pub(crate) struct Identified {
    pub identity: Identity,
    pub at: i64,
}

/// The rights changes among a batch of events, with the id of the event of each (in
/// order; usually none).
pub(crate) fn changes_in(
    batch: &[Arc<Delivered>],
    identify: &dyn Identify,
) -> Vec<(i64, RightsChange)> {
    batch
        .iter()
        .filter_map(|event| {
            identify
                .rights_change(event)
                .map(|change| (event.id, change))
        })
        .collect()
}

/// What identifying a connection's viewer again means for it: carry on (as the same
/// person with the same role, whose visibility is unchanged) or close, and why.
pub(crate) fn verdict(
    before: &Viewer,
    now: Result<Identity, IdentifyError>,
) -> Result<Identity, CloseReason> {
    let identity = match now {
        Ok(identity) => identity,
        Err(IdentifyError::Expired(_)) => return Err(CloseReason::TOKEN_EXPIRED),
        Err(IdentifyError::Unavailable(_)) => return Err(CloseReason::TRY_AGAIN),
        Err(IdentifyError::Unauthenticated(_) | IdentifyError::Forbidden(_)) => {
            return Err(CloseReason::SESSION_ENDED);
        }
    };
    match (before, &identity.viewer) {
        (Viewer::Anonymous, Viewer::Anonymous) => Ok(identity),
        (
            Viewer::User { id, role, .. },
            Viewer::User {
                id: now_id,
                role: now_role,
                ..
            },
        ) if id == now_id => {
            if role == now_role {
                Ok(identity)
            } else {
                Err(CloseReason::ROLE_CHANGED)
            }
        }
        _ => Err(CloseReason::SESSION_ENDED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: i64, role: &str, name: &str) -> Viewer {
        Viewer::User {
            id,
            role: role.into(),
            name: Some(name.into()),
        }
    }

    fn identity(viewer: Viewer) -> Result<Identity, IdentifyError> {
        Ok(Identity {
            viewer,
            expires_at: None,
        })
    }

    #[test]
    fn the_same_person_with_the_same_role_carries_on_even_renamed() {
        let before = user(7, "agent", "Gleb");
        let after = verdict(&before, identity(user(7, "agent", "Gleb P."))).expect("carries on");
        assert_eq!(after.viewer, user(7, "agent", "Gleb P."));
    }

    #[test]
    fn a_new_role_closes_with_role_changed() {
        let before = user(7, "agent", "Gleb");
        let closed = verdict(&before, identity(user(7, "requester", "Gleb")));
        assert_eq!(closed.err(), Some(CloseReason::ROLE_CHANGED));
    }

    #[test]
    fn no_longer_signed_in_closes_with_session_ended_or_token_expired() {
        let before = user(7, "agent", "Gleb");
        let anonymous = verdict(&before, identity(Viewer::Anonymous));
        assert_eq!(anonymous.err(), Some(CloseReason::SESSION_ENDED));
        let refused = verdict(
            &before,
            Err(IdentifyError::Unauthenticated("revoked".into())),
        );
        assert_eq!(refused.err(), Some(CloseReason::SESSION_ENDED));
        let expired = verdict(&before, Err(IdentifyError::Expired("token expired".into())));
        assert_eq!(expired.err(), Some(CloseReason::TOKEN_EXPIRED));
        let someone_else = verdict(&before, identity(user(8, "agent", "Ivan")));
        assert_eq!(someone_else.err(), Some(CloseReason::SESSION_ENDED));
    }

    #[test]
    fn a_database_that_does_not_answer_asks_the_client_to_come_back() {
        let before = user(7, "agent", "Gleb");
        let closed = verdict(&before, Err(IdentifyError::Unavailable("down".into())));
        assert_eq!(closed.err(), Some(CloseReason::TRY_AGAIN));
    }
}
