//! Tickets («Заявки»): statuses and their transitions, priorities, types.

use crate::{choice::choice, users::Role};

choice!(
    /// Where a ticket is in its life (Новая, В работе, Ожидание, Решена, Закрыта).
    TicketStatus {
        New = "new",
        InProgress = "in_progress",
        /// Waiting on the requester or a third party.
        Waiting = "waiting",
        Resolved = "resolved",
        Closed = "closed",
    }
);

choice!(
    Priority {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
);

choice!(
    /// Something broke (incident) or someone needs something (request).
    TicketType {
        Incident = "incident",
        Request = "request",
    }
);

/// Why a status change is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a closed ticket can only be reopened, which returns it to in_progress")]
    ClosedIsFinal,
    #[error("only an agent can reopen a closed ticket")]
    ReopenNeedsAgent,
    #[error("a ticket cannot go back to new")]
    BackToNew,
    #[error("the ticket already has this status")]
    Unchanged,
}

impl TicketStatus {
    /// Whether `by` may move a ticket from `self` to `to`. Resolving also needs a
    /// resolution; that is a field of the request, checked where the request is.
    pub fn check_transition(self, to: TicketStatus, by: Role) -> Result<(), TransitionError> {
        use TicketStatus::*;
        match (self, to) {
            (from, to) if from == to => Err(TransitionError::Unchanged),
            (Closed, InProgress) if by.is_staff() => Ok(()),
            (Closed, InProgress) => Err(TransitionError::ReopenNeedsAgent),
            (Closed, _) => Err(TransitionError::ClosedIsFinal),
            // "new" means nobody has looked at it yet; once touched, it stays touched.
            (_, New) => Err(TransitionError::BackToNew),
            _ => Ok(()),
        }
    }

    /// Counted as open work (not resolved, not closed).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            TicketStatus::New | TicketStatus::InProgress | TicketStatus::Waiting
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    #[test]
    fn statuses_parse_from_their_names() {
        assert_eq!(TicketStatus::parse("in_progress"), Ok(InProgress));
        assert!(TicketStatus::parse("open").is_err());
        assert_eq!(TicketStatus::ALL.len(), 5);
    }

    #[test]
    fn an_agent_can_take_a_new_ticket_into_work() {
        assert_eq!(New.check_transition(InProgress, Role::Agent), Ok(()));
    }

    #[test]
    fn any_open_ticket_can_be_resolved_waited_on_or_closed() {
        for from in [New, InProgress, Waiting] {
            for to in [Waiting, Resolved, Closed] {
                if from != to {
                    assert_eq!(
                        from.check_transition(to, Role::Agent),
                        Ok(()),
                        "{from}→{to}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_resolved_ticket_can_be_reopened_or_closed() {
        assert_eq!(Resolved.check_transition(InProgress, Role::Agent), Ok(()));
        assert_eq!(Resolved.check_transition(Closed, Role::Agent), Ok(()));
    }

    #[test]
    fn a_closed_ticket_is_final_except_reopening() {
        for to in [New, Waiting, Resolved] {
            assert!(
                Closed.check_transition(to, Role::Admin).is_err(),
                "closed→{to}"
            );
        }
        assert_eq!(Closed.check_transition(InProgress, Role::Agent), Ok(()));
    }

    #[test]
    fn a_requester_cannot_reopen_a_closed_ticket() {
        assert_eq!(
            Closed.check_transition(InProgress, Role::Requester),
            Err(TransitionError::ReopenNeedsAgent)
        );
    }

    #[test]
    fn no_ticket_goes_back_to_new() {
        assert_eq!(
            InProgress.check_transition(New, Role::Admin),
            Err(TransitionError::BackToNew)
        );
    }

    #[test]
    fn staying_in_the_same_status_is_not_a_transition() {
        assert_eq!(
            Waiting.check_transition(Waiting, Role::Agent),
            Err(TransitionError::Unchanged)
        );
    }

    #[test]
    fn priorities_and_types_parse() {
        assert_eq!(Priority::parse("critical"), Ok(Priority::Critical));
        assert_eq!(TicketType::parse("incident"), Ok(TicketType::Incident));
        assert!(Priority::parse("urgent").is_err());
    }
}
