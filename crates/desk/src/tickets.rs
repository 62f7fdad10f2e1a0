//! Tickets («Заявки»): statuses and their transitions, priorities, types.

use serde::Serialize;

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

/// A ticket with the names of what it refers to, as lists, pages and events show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Ticket {
    pub id: i64,
    pub title: String,
    pub description: String,
    #[sqlx(try_from = "String")]
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    #[sqlx(try_from = "String")]
    pub status: TicketStatus,
    #[sqlx(try_from = "String")]
    pub priority: Priority,
    pub category_id: Option<i64>,
    pub category_name: Option<String>,
    pub requester_id: i64,
    pub requester_name: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub equipment_id: Option<i64>,
    pub equipment_inventory_number: Option<String>,
    pub equipment_name: Option<String>,
    pub resolution: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub resolved_at: Option<String>,
    pub closed_at: Option<String>,
    pub version: i64,
    pub updated_by: Option<i64>,
    pub updated_by_name: Option<String>,
}

/// What an event carries about a ticket: enough to render its row in a list, without
/// the (possibly long) description.
#[derive(Debug, Serialize)]
pub struct TicketSummary<'a> {
    pub id: i64,
    pub title: &'a str,
    #[serde(rename = "type")]
    pub ticket_type: TicketType,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category_id: Option<i64>,
    pub category_name: Option<&'a str>,
    pub requester_id: i64,
    pub requester_name: &'a str,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<&'a str>,
    pub equipment_id: Option<i64>,
    pub equipment_inventory_number: Option<&'a str>,
    pub created_at: &'a str,
    pub updated_at: &'a str,
    pub resolved_at: Option<&'a str>,
    pub closed_at: Option<&'a str>,
    pub version: i64,
}

impl Ticket {
    pub fn summary(&self) -> TicketSummary<'_> {
        TicketSummary {
            id: self.id,
            title: &self.title,
            ticket_type: self.ticket_type,
            status: self.status,
            priority: self.priority,
            category_id: self.category_id,
            category_name: self.category_name.as_deref(),
            requester_id: self.requester_id,
            requester_name: &self.requester_name,
            assignee_id: self.assignee_id,
            assignee_name: self.assignee_name.as_deref(),
            equipment_id: self.equipment_id,
            equipment_inventory_number: self.equipment_inventory_number.as_deref(),
            created_at: &self.created_at,
            updated_at: &self.updated_at,
            resolved_at: self.resolved_at.as_deref(),
            closed_at: self.closed_at.as_deref(),
            version: self.version,
        }
    }

    /// Lower-cased title and description, for case-insensitive search in any script.
    pub(crate) fn search_text(&self) -> String {
        format!("{}\n{}", self.title, self.description).to_lowercase()
    }
}

/// Filters of the ticket list. Which tickets a person may see at all is added by the
/// service, never taken from the request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketQuery {
    pub status: Option<TicketStatus>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<i64>,
    /// Only tickets nobody is assigned to.
    pub unassigned: bool,
    pub requester_id: Option<i64>,
    pub category_id: Option<i64>,
    /// Words in the title or description.
    pub q: Option<String>,
}

/// The statistics cards of the ticket list: counts per status and a few more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TicketStats {
    pub total: i64,
    pub new: i64,
    pub in_progress: i64,
    pub waiting: i64,
    pub resolved: i64,
    pub closed: i64,
    /// Open tickets nobody is assigned to.
    pub unassigned: i64,
    /// Open tickets assigned to the viewer (a requester: their own open tickets).
    pub mine: i64,
    pub created_today: i64,
    pub resolved_today: i64,
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
