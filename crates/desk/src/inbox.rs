//! The notification inbox (issue 11 point 4): what concerns each person, kept until
//! they read it — a ticket assigned to them, a comment or a status change on their
//! ticket or one they are assigned to, a system notification meant for them.
//!
//! Entries are written from the change's event, in its transaction ([`record`], called
//! where the event is appended): the event already says what happened, to which ticket,
//! by whom, and who may know. So no service decides about the inbox, and an entry exists
//! exactly when its event does. Nobody gets an entry for their own change.

use ictdesk_hub::{Audience, NewEvent};
use serde::{Deserialize, Serialize};

use crate::{
    desk::{Desk, Outcome, require_active},
    error::{Error, Result},
    events::{self, DeskEvent, InboxRead},
    storage::{Page, Paged, Transaction},
    timestamps,
    users::User,
};

/// One entry, as `GET /api/v1/inbox` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct InboxEntry {
    pub id: i64,
    /// What happened: the type of the event that wrote it.
    #[serde(rename = "type")]
    pub kind: String,
    /// The ticket's or the notification's title.
    pub title: String,
    pub ticket_id: Option<i64>,
    pub created_at: String,
    pub read_at: Option<String>,
    /// Who made the change (the inbox page says it; the API's fields are the issue's).
    #[serde(skip)]
    pub actor_name: Option<String>,
}

/// An entry to write, and for whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub kind: String,
    pub title: String,
    pub ticket_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub created_at: String,
}

/// Who gets an entry: named people, or everyone the event's audience reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipients {
    Users(Vec<i64>),
    Audience(Audience),
}

/// What the inbox reads of an event's data.
#[derive(Deserialize)]
struct Said {
    ticket: Option<TicketSaid>,
    comment: Option<CommentSaid>,
    notification: Option<NotificationSaid>,
    actor: Option<Someone>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    new_assignee: Option<Option<Someone>>,
}

#[derive(Deserialize)]
struct TicketSaid {
    id: i64,
    title: String,
    requester_id: i64,
    assignee_id: Option<i64>,
}

#[derive(Deserialize)]
struct CommentSaid {
    internal: bool,
}

#[derive(Deserialize)]
struct NotificationSaid {
    title: String,
}

#[derive(Deserialize)]
struct Someone {
    id: i64,
    name: String,
}

/// The entries an event writes: `(recipients, entry)` pairs, none for most events.
pub fn entries_for(event: &NewEvent, at: &str) -> Result<Vec<(Recipients, NewEntry)>> {
    let kind = event.kind.as_str();
    if !matches!(
        kind,
        events::TICKET_CREATED
            | events::TICKET_ASSIGNED
            | events::TICKET_STATUS_CHANGED
            | events::TICKET_COMMENT_CREATED
            | events::SYSTEM_NOTIFICATION_CREATED
    ) {
        return Ok(Vec::new());
    }
    let said: Said = serde_json::from_str(event.data.get())
        .map_err(|error| Error::Internal(format!("{kind} data for the inbox: {error}")))?;
    let actor_id = said.actor.as_ref().map(|actor| actor.id);
    let entry = |kind: &str, title: &str, ticket_id: Option<i64>| NewEntry {
        kind: kind.to_owned(),
        title: title.to_owned(),
        ticket_id,
        actor_id,
        actor_name: said.actor.as_ref().map(|actor| actor.name.clone()),
        created_at: at.to_owned(),
    };
    let others = |people: &[Option<i64>]| {
        let mut ids: Vec<i64> = people.iter().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        ids.retain(|id| Some(*id) != actor_id);
        ids
    };
    let mut entries = Vec::new();
    if let Some(notification) = &said.notification {
        let recipients = Recipients::Audience(event.audience.clone());
        entries.push((recipients, entry(kind, &notification.title, None)));
        return Ok(entries);
    }
    let Some(ticket) = &said.ticket else {
        return Ok(entries);
    };
    let on_ticket = |kind: &str| entry(kind, &ticket.title, Some(ticket.id));
    // Whoever the ticket was just assigned to, whichever event said it; a ticket filed
    // into a team that assigns by itself (round-robin) is assigned as it is created.
    let newly_assigned = match (&said.new_assignee, kind) {
        (Some(Some(assignee)), _) => others(&[Some(assignee.id)]),
        (_, events::TICKET_CREATED) => others(&[ticket.assignee_id]),
        _ => Vec::new(),
    };
    if !newly_assigned.is_empty() {
        let recipients = Recipients::Users(newly_assigned.clone());
        entries.push((recipients, on_ticket(events::TICKET_ASSIGNED)));
    }
    let followers = match kind {
        events::TICKET_COMMENT_CREATED => {
            // An internal note is for staff: never its requester.
            let internal = said.comment.as_ref().is_none_or(|comment| comment.internal);
            let requester = (!internal).then_some(ticket.requester_id);
            others(&[requester, ticket.assignee_id])
        }
        events::TICKET_STATUS_CHANGED => others(&[Some(ticket.requester_id), ticket.assignee_id]),
        _ => Vec::new(),
    };
    // The new assignee already has their entry for this event.
    let followers: Vec<i64> = followers
        .into_iter()
        .filter(|id| !newly_assigned.contains(id))
        .collect();
    if !followers.is_empty() {
        entries.push((Recipients::Users(followers), on_ticket(kind)));
    }
    Ok(entries)
}

/// Writes the entries `event` calls for, in the change's transaction.
pub(crate) async fn record(tx: &mut dyn Transaction, event: &NewEvent) -> Result<()> {
    let at = timestamps::format(timestamps::now());
    for (recipients, entry) in entries_for(event, &at)? {
        tx.insert_inbox_entries(&recipients, &entry).await?;
    }
    Ok(())
}

/// `POST /api/v1/inbox/read`: some entries, or all of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkRead {
    Ids(Vec<i64>),
    All,
}

impl Desk {
    /// The actor's entries, newest first; only unread ones with `unread_only`.
    pub async fn inbox(
        &self,
        actor: &User,
        unread_only: bool,
        page: Page,
    ) -> Result<Paged<InboxEntry>> {
        require_active(actor)?;
        self.store.inbox(actor.id, unread_only, page).await
    }

    pub async fn unread_count(&self, actor: &User) -> Result<i64> {
        require_active(actor)?;
        self.store.unread_count(actor.id).await
    }

    /// Marks the actor's entries read (ids of others' entries change nothing) and
    /// returns how many stay unread. When something changed, `inbox_read` tells the
    /// actor's other pages, and only them.
    pub async fn mark_read(&self, actor: &User, which: &MarkRead) -> Result<i64> {
        require_active(actor)?;
        let at = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = mark_read_in(work.tx(), actor, which, &at).await?;
        work.finish(outcome).await
    }
}

async fn mark_read_in(
    tx: &mut dyn Transaction,
    actor: &User,
    which: &MarkRead,
    at: &str,
) -> Result<Outcome<i64>> {
    let ids = match which {
        MarkRead::Ids(ids) => Some(ids.as_slice()),
        MarkRead::All => None,
    };
    let marked = tx.mark_inbox_read(actor.id, ids, at).await?;
    let unread = tx.unread_count(actor.id).await?;
    if marked == 0 {
        return Ok(Outcome::Unchanged(unread));
    }
    let event = DeskEvent::InboxRead(InboxRead {
        user_id: actor.id,
        unread,
    })
    .encode()?;
    Ok(Outcome::changed(unread, event))
}

#[cfg(test)]
mod tests {
    use ictdesk_hub::EventType;
    use serde_json::json;

    use super::*;

    fn event(kind: &str, data: serde_json::Value) -> NewEvent {
        let kind = EventType::parse(kind).expect("a type");
        NewEvent::new(kind, &data, Audience::default()).expect("an event")
    }

    fn ticket(assignee: Option<i64>) -> serde_json::Value {
        json!({"id": 7, "title": "Принтер", "requester_id": 10, "assignee_id": assignee})
    }

    fn users(entries: &[(Recipients, NewEntry)]) -> Vec<(Vec<i64>, &str)> {
        entries
            .iter()
            .map(|(recipients, entry)| match recipients {
                Recipients::Users(ids) => (ids.clone(), entry.kind.as_str()),
                Recipients::Audience(_) => (Vec::new(), entry.kind.as_str()),
            })
            .collect()
    }

    #[test]
    fn an_assignment_reaches_the_new_assignee_only() {
        let data = json!({"ticket": ticket(Some(3)), "new_assignee": {"id": 3, "name": "Gleb"},
                          "old_assignee": null, "actor": {"id": 1, "name": "Ada"}});
        let entries = entries_for(&event("ticket_assigned", data), "t").expect("entries");
        assert_eq!(users(&entries), [(vec![3], "ticket_assigned")]);
    }

    #[test]
    fn taking_a_ticket_oneself_writes_nothing() {
        let data = json!({"ticket": ticket(Some(3)), "new_assignee": {"id": 3, "name": "Gleb"},
                          "actor": {"id": 3, "name": "Gleb"}});
        let entries = entries_for(&event("ticket_assigned", data), "t").expect("entries");
        assert!(entries.is_empty());
    }

    #[test]
    fn a_status_change_reaches_requester_and_assignee_but_not_its_author() {
        let data = json!({"ticket": ticket(Some(3)), "old_status": "new", "new_status": "resolved",
                          "actor": {"id": 3, "name": "Gleb"}});
        let entries = entries_for(&event("ticket_status_changed", data), "t").expect("entries");
        assert_eq!(users(&entries), [(vec![10], "ticket_status_changed")]);
    }

    #[test]
    fn an_edit_that_keeps_the_status_writes_nothing() {
        let data =
            json!({"ticket": ticket(Some(3)), "changes": [], "actor": {"id": 1, "name": "Ada"}});
        let entries = entries_for(&event("ticket_updated", data), "t").expect("entries");
        assert!(entries.is_empty());
    }

    #[test]
    fn an_internal_note_never_reaches_the_requester() {
        let data = json!({"ticket": ticket(Some(3)), "comment": {"internal": true},
                          "actor": {"id": 1, "name": "Ada"}});
        let entries = entries_for(&event("ticket_comment_created", data), "t").expect("entries");
        assert_eq!(users(&entries), [(vec![3], "ticket_comment_created")]);
        let data = json!({"ticket": ticket(Some(3)), "comment": {"internal": false},
                          "actor": {"id": 10, "name": "Maria"}});
        let entries = entries_for(&event("ticket_comment_created", data), "t").expect("entries");
        assert_eq!(users(&entries), [(vec![3], "ticket_comment_created")]);
    }

    #[test]
    fn a_notification_goes_to_its_audience() {
        let kind = EventType::parse("system_notification_created").expect("a type");
        let audience = Audience::default().and_user(5);
        let data = json!({"notification": {"title": "Работы в субботу"}, "actor": {"id": 1, "name": "Ada"}});
        let event = NewEvent::new(kind, &data, audience.clone()).expect("an event");
        let entries = entries_for(&event, "t").expect("entries");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].0, Recipients::Audience(audience));
        assert_eq!(entries[0].1.title, "Работы в субботу");
    }

    #[test]
    fn other_events_write_nothing() {
        let data = json!({"user": {"id": 1}});
        assert!(
            entries_for(&event("user_created", data), "t")
                .expect("entries")
                .is_empty()
        );
    }
}
