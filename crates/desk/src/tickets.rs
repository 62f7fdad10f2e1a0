//! Tickets («Заявки»): statuses and their transitions, priorities, types.

use serde::{Deserialize, Serialize};

use crate::{
    attachments::{self, Attachment, StoredFile, Target},
    categories::CategoryScope,
    choice::choice,
    comments::{Comment, NewComment},
    desk::{Desk, Outcome, check_version, require_active, require_staff},
    error::{Error, Fields, Result, optional_text, required_text},
    events::{
        DeskEvent, TicketAssigned, TicketCommentCreated, TicketCreated, TicketStatusChanged,
        TicketUpdated,
    },
    history::{Changes, EntityKind, HistoryEntry},
    storage::{Page, Paged, Transaction},
    timestamps,
    users::{Person, Role, User, UserStatus},
};

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
#[derive(Debug, Serialize, schemars::JsonSchema)]
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

/// `POST /tickets`: `{title, description, priority, type?, category_id?, equipment_id?}`;
/// agents may also file on someone's behalf (`requester_id`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewTicket {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default, rename = "type")]
    pub ticket_type: Option<String>,
    #[serde(default)]
    pub category_id: Option<i64>,
    #[serde(default)]
    pub equipment_id: Option<i64>,
    #[serde(default)]
    pub requester_id: Option<i64>,
    /// Files already stored (multipart requests, mail), attached to the new ticket.
    #[serde(skip)]
    pub files: Vec<StoredFile>,
}

/// `PATCH /tickets/{id}`: any of these; `null` clears the nullable ones.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TicketChange {
    /// The version the change was made against; a stale one is refused.
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub resolution: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub assignee_id: Option<Option<i64>>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, rename = "type")]
    pub ticket_type: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub category_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub equipment_id: Option<Option<i64>>,
}

/// `{"type": "tickets", "tickets": [...], "stats": {...}, "last_updated": "..."}`.
#[derive(Debug, Clone, Serialize)]
pub struct TicketsMessage {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub tickets: Vec<Ticket>,
    pub total: i64,
    pub stats: TicketStats,
    pub last_updated: String,
}

/// A ticket's page: the ticket, its comments (internal ones for staff only), history.
#[derive(Debug, Clone, Serialize)]
pub struct TicketPage {
    pub ticket: Ticket,
    /// The files on the ticket itself; each comment lists its own.
    pub attachments: Vec<Attachment>,
    pub comments: Vec<Comment>,
    pub history: Vec<HistoryEntry>,
}

fn assignee(ticket: &Ticket) -> Option<Person<'_>> {
    ticket.assignee_id.map(|id| Person {
        id,
        name: ticket.assignee_name.as_deref().unwrap_or_default(),
    })
}

/// A requester sees their own tickets only; anyone else's is "not found" to them, so
/// that ticket ids do not reveal what exists.
pub(crate) fn check_can_see(viewer: &User, ticket: &Ticket) -> Result<()> {
    require_active(viewer)?;
    if viewer.role.is_staff() || ticket.requester_id == viewer.id {
        Ok(())
    } else {
        Err(Error::NotFound("ticket"))
    }
}

async fn check_category(
    tx: &mut dyn Transaction,
    id: i64,
    scope: CategoryScope,
) -> Result<(), String> {
    match tx.category(id).await {
        Ok(Some(category)) if category.scope == scope && category.active => Ok(()),
        Ok(_) => Err("no such active category".into()),
        Err(_) => Err("cannot be checked now".into()),
    }
}

async fn check_equipment(tx: &mut dyn Transaction, id: i64) -> Result<(), String> {
    match tx.equipment(id).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("no such equipment".into()),
        Err(_) => Err("cannot be checked now".into()),
    }
}

async fn check_assignee(tx: &mut dyn Transaction, id: i64) -> Result<(), String> {
    match tx.user(id).await {
        Ok(Some(user)) if user.role.is_staff() && user.status == UserStatus::Active => Ok(()),
        Ok(_) => Err("must be an active agent or admin".into()),
        Err(_) => Err("cannot be checked now".into()),
    }
}

/// Files a ticket and appends `ticket_created`.
pub(crate) async fn create_ticket_in(
    tx: &mut dyn Transaction,
    actor: &User,
    input: &NewTicket,
    at: &str,
) -> Result<Outcome<Ticket>> {
    require_active(actor)?;
    let mut fields = Fields::new();
    let title = fields.check("title", required_text(&input.title, 200));
    let description = fields.check(
        "description",
        optional_text(Some(&input.description), 20_000),
    );
    let priority = fields.check(
        "priority",
        Priority::parse(input.priority.as_deref().unwrap_or("medium")),
    );
    let ticket_type = fields.check(
        "type",
        TicketType::parse(input.ticket_type.as_deref().unwrap_or("incident")),
    );
    if let Some(id) = input.category_id {
        fields.check(
            "category_id",
            check_category(tx, id, CategoryScope::Ticket).await,
        );
    }
    if let Some(id) = input.equipment_id {
        fields.check("equipment_id", check_equipment(tx, id).await);
    }
    let requester_id = match input.requester_id {
        Some(id) if id != actor.id => {
            if !actor.role.is_staff() {
                return Err(Error::forbidden(
                    "only agents can file tickets for someone else",
                ));
            }
            match tx.user(id).await? {
                Some(user) if user.status == UserStatus::Active => id,
                _ => {
                    fields.add("requester_id", "no such active user");
                    id
                }
            }
        }
        _ => actor.id,
    };
    fields.finish()?;
    let (Some(title), Some(description), Some(priority), Some(ticket_type)) =
        (title, description, priority, ticket_type)
    else {
        return Err(Error::Internal("a parsed ticket lost a field".into()));
    };
    let draft = Ticket {
        id: 0,
        title,
        description: description.unwrap_or_default(),
        ticket_type,
        status: TicketStatus::New,
        priority,
        category_id: input.category_id,
        category_name: None,
        requester_id,
        requester_name: String::new(),
        assignee_id: None,
        assignee_name: None,
        equipment_id: input.equipment_id,
        equipment_inventory_number: None,
        equipment_name: None,
        resolution: None,
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
        resolved_at: None,
        closed_at: None,
        version: 1,
        updated_by: Some(actor.id),
        updated_by_name: None,
    };
    let id = tx.insert_ticket(&draft).await?;
    let ticket = tx.ticket(id).await?.ok_or(Error::NotFound("ticket"))?;
    let target = Target::Ticket {
        id,
        comment_id: None,
    };
    let files = attachments::record_files(tx, actor, target, &input.files, at).await?;
    let event = DeskEvent::TicketCreated(TicketCreated {
        ticket: ticket.summary(),
        attachments: &files,
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(ticket, event))
}

/// The parsed fields of a change request.
struct ParsedChange {
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    ticket_type: Option<TicketType>,
    title: Option<String>,
    description: Option<String>,
    resolution: Option<Option<String>>,
}

async fn parse_change(tx: &mut dyn Transaction, change: &TicketChange) -> Result<ParsedChange> {
    let mut fields = Fields::new();
    let status = change
        .status
        .as_deref()
        .and_then(|s| fields.check("status", TicketStatus::parse(s)));
    let priority = change
        .priority
        .as_deref()
        .and_then(|p| fields.check("priority", Priority::parse(p)));
    let ticket_type = change
        .ticket_type
        .as_deref()
        .and_then(|t| fields.check("type", TicketType::parse(t)));
    let title = change
        .title
        .as_deref()
        .and_then(|t| fields.check("title", required_text(t, 200)));
    let description = change
        .description
        .as_deref()
        .and_then(|d| fields.check("description", optional_text(Some(d), 20_000)))
        .map(Option::unwrap_or_default);
    let resolution = change
        .resolution
        .as_deref()
        .and_then(|r| fields.check("resolution", optional_text(Some(r), 20_000)));
    if let Some(Some(id)) = change.assignee_id {
        fields.check("assignee_id", check_assignee(tx, id).await);
    }
    if let Some(Some(id)) = change.category_id {
        fields.check(
            "category_id",
            check_category(tx, id, CategoryScope::Ticket).await,
        );
    }
    if let Some(Some(id)) = change.equipment_id {
        fields.check("equipment_id", check_equipment(tx, id).await);
    }
    fields.finish()?;
    Ok(ParsedChange {
        status,
        priority,
        ticket_type,
        title,
        description,
        resolution,
    })
}

/// Applies a status change: the transition rules, the resolution rule, the times.
fn apply_status(ticket: &mut Ticket, to: TicketStatus, actor: &User, at: &str) -> Result<()> {
    let from = ticket.status;
    if from == to {
        return Ok(());
    }
    from.check_transition(to, actor.role)
        .map_err(|error| Error::InvalidTransition {
            from: from.to_string(),
            to: to.to_string(),
            reason: error.to_string(),
        })?;
    match to {
        TicketStatus::Resolved => {
            if ticket.resolution.as_deref().is_none_or(str::is_empty) {
                return Err(Error::field(
                    "resolution",
                    "is required to resolve a ticket",
                ));
            }
            ticket.resolved_at = Some(at.to_owned());
        }
        TicketStatus::Closed => ticket.closed_at = Some(at.to_owned()),
        // Reopened: no longer resolved or closed.
        _ => {
            ticket.resolved_at = None;
            ticket.closed_at = None;
        }
    }
    ticket.status = to;
    Ok(())
}

/// Changes a ticket and appends one event: `ticket_status_changed` when the status
/// changed (whatever else changed with it), else `ticket_assigned` when the assignee
/// changed, else — priority, title, category, … — `ticket_updated`. Every one lists all
/// changed fields in `changes`.
pub(crate) async fn change_ticket_in(
    tx: &mut dyn Transaction,
    actor: &User,
    id: i64,
    change: &TicketChange,
    at: &str,
) -> Result<Outcome<Ticket>> {
    let old = tx.ticket(id).await?.ok_or(Error::NotFound("ticket"))?;
    check_can_see(actor, &old)?;
    require_staff(actor, "change tickets")?;
    check_version(change.version, old.version, old.updated_by_name.as_deref())?;
    let parsed = parse_change(tx, change).await?;

    let mut new = old.clone();
    new.title = parsed.title.unwrap_or(new.title);
    new.description = parsed.description.unwrap_or(new.description);
    new.priority = parsed.priority.unwrap_or(new.priority);
    new.ticket_type = parsed.ticket_type.unwrap_or(new.ticket_type);
    if let Some(resolution) = parsed.resolution {
        new.resolution = resolution;
    }
    new.assignee_id = change.assignee_id.unwrap_or(new.assignee_id);
    new.category_id = change.category_id.unwrap_or(new.category_id);
    new.equipment_id = change.equipment_id.unwrap_or(new.equipment_id);
    if let Some(status) = parsed.status {
        apply_status(&mut new, status, actor, at)?;
    }
    new.updated_at = at.to_owned();

    let mut changes = Changes::new(EntityKind::Ticket, id, actor.id, at);
    record_ticket_changes(tx, &mut changes, &old, &new).await?;
    if changes.is_empty() {
        return Ok(Outcome::Unchanged(old));
    }
    tx.update_ticket(&new, actor.id).await?;
    tx.insert_history(changes.entries()).await?;
    let ticket = tx.ticket(id).await?.ok_or(Error::NotFound("ticket"))?;
    let event = ticket_change_event(&old, &ticket, &changes, actor).encode()?;
    Ok(Outcome::changed(ticket, event))
}

fn ticket_change_event<'a>(
    old: &'a Ticket,
    new: &'a Ticket,
    changes: &'a Changes,
    actor: &'a User,
) -> DeskEvent<'a> {
    let (reassigned, status_changed) = (changes.touched("assignee"), changes.touched("status"));
    let (ticket, changes, actor) = (new.summary(), changes.entries(), actor.person());
    if status_changed {
        DeskEvent::TicketStatusChanged(TicketStatusChanged {
            ticket,
            old_status: old.status,
            new_status: new.status,
            old_assignee: reassigned.then(|| assignee(old)),
            new_assignee: reassigned.then(|| assignee(new)),
            changes,
            actor,
        })
    } else if reassigned {
        DeskEvent::TicketAssigned(TicketAssigned {
            ticket,
            old_status: old.status,
            new_status: new.status,
            old_assignee: assignee(old),
            new_assignee: assignee(new),
            changes,
            actor,
        })
    } else {
        DeskEvent::TicketUpdated(TicketUpdated {
            ticket,
            changes,
            attachments: &[],
            internal: false,
            actor,
        })
    }
}

/// History values are what a person reads: names, not ids.
async fn record_ticket_changes(
    tx: &mut dyn Transaction,
    changes: &mut Changes,
    old: &Ticket,
    new: &Ticket,
) -> Result<()> {
    changes.field("status", Some(old.status), Some(new.status));
    changes.field("priority", Some(old.priority), Some(new.priority));
    changes.field("type", Some(old.ticket_type), Some(new.ticket_type));
    changes.field("title", Some(&old.title), Some(&new.title));
    changes.field(
        "description",
        Some(&old.description),
        Some(&new.description),
    );
    changes.field(
        "resolution",
        old.resolution.as_ref(),
        new.resolution.as_ref(),
    );
    if old.assignee_id != new.assignee_id {
        let name = match new.assignee_id {
            Some(id) => tx.user(id).await?.map(|user| user.name),
            None => None,
        };
        changes.field("assignee", old.assignee_name.clone(), name);
    }
    if old.category_id != new.category_id {
        let name = match new.category_id {
            Some(id) => tx.category(id).await?.map(|category| category.name),
            None => None,
        };
        changes.field("category", old.category_name.clone(), name);
    }
    if old.equipment_id != new.equipment_id {
        let number = match new.equipment_id {
            Some(id) => tx.equipment(id).await?.map(|piece| piece.inventory_number),
            None => None,
        };
        changes.field("equipment", old.equipment_inventory_number.clone(), number);
    }
    Ok(())
}

/// Adds a comment and appends `ticket_comment_created`; internal notes go to staff only.
pub(crate) async fn add_comment_in(
    tx: &mut dyn Transaction,
    actor: &User,
    ticket_id: i64,
    input: &NewComment,
    at: &str,
) -> Result<Outcome<Comment>> {
    let ticket = tx
        .ticket(ticket_id)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    check_can_see(actor, &ticket)?;
    if input.internal && !actor.role.is_staff() {
        return Err(Error::forbidden(
            "only agents and admins can write internal notes",
        ));
    }
    let body =
        required_text(&input.body, 10_000).map_err(|message| Error::field("body", message))?;
    let draft = Comment {
        id: 0,
        ticket_id,
        author_id: actor.id,
        author_name: actor.name.clone(),
        author_role: actor.role,
        body,
        internal: input.internal,
        created_at: at.to_owned(),
        attachments: Vec::new(),
    };
    let id = tx.insert_comment(&draft).await?;
    let mut comment = tx.comment(id).await?.ok_or(Error::NotFound("comment"))?;
    let target = Target::Ticket {
        id: ticket_id,
        comment_id: Some(id),
    };
    comment.attachments = attachments::record_files(tx, actor, target, &input.files, at).await?;
    let event = DeskEvent::TicketCommentCreated(TicketCommentCreated {
        ticket: ticket.summary(),
        comment: &comment,
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(comment, event))
}

impl Desk {
    pub async fn create_ticket(&self, actor: &User, input: &NewTicket) -> Result<Ticket> {
        let mut work = self.begin_change().await?;
        let outcome = create_ticket_in(work.tx(), actor, input, &now()).await?;
        work.finish(outcome).await
    }

    /// See [`change_ticket_in`] for which event a change emits.
    pub async fn change_ticket(
        &self,
        actor: &User,
        id: i64,
        change: &TicketChange,
    ) -> Result<Ticket> {
        let mut work = self.begin_change().await?;
        let outcome = change_ticket_in(work.tx(), actor, id, change, &now()).await?;
        work.finish(outcome).await
    }

    pub async fn add_comment(
        &self,
        actor: &User,
        ticket_id: i64,
        input: &NewComment,
    ) -> Result<Comment> {
        let mut work = self.begin_change().await?;
        let outcome = add_comment_in(work.tx(), actor, ticket_id, input, &now()).await?;
        work.finish(outcome).await
    }

    /// The tickets `viewer` may see (a requester: their own), filtered and paged.
    pub async fn list_tickets(
        &self,
        viewer: &User,
        query: &TicketQuery,
        page: Page,
    ) -> Result<Paged<Ticket>> {
        require_active(viewer)?;
        let mut query = query.clone();
        if !viewer.role.is_staff() {
            query.requester_id = Some(viewer.id);
        }
        self.store.tickets(&query, page).await
    }

    /// The statistics cards over the tickets `viewer` may see.
    pub async fn ticket_stats(&self, viewer: &User) -> Result<TicketStats> {
        require_active(viewer)?;
        let scope = (!viewer.role.is_staff()).then_some(viewer.id);
        let day_start = timestamps::day_start(timestamps::now());
        self.store.ticket_stats(scope, viewer.id, &day_start).await
    }

    pub async fn get_ticket(&self, viewer: &User, id: i64) -> Result<Ticket> {
        let ticket = self
            .store
            .ticket(id)
            .await?
            .ok_or(Error::NotFound("ticket"))?;
        check_can_see(viewer, &ticket)?;
        Ok(ticket)
    }

    /// The ticket with its comments and history, as `viewer` may see them.
    pub async fn ticket_page(&self, viewer: &User, id: i64) -> Result<TicketPage> {
        let ticket = self.get_ticket(viewer, id).await?;
        let staff = viewer.role.is_staff();
        let mut comments = self.store.comments(id, staff).await?;
        let mut attachments = self.store.ticket_attachments(id, staff).await?;
        Comment::take_attachments(&mut comments, &mut attachments);
        let history = self.store.history(EntityKind::Ticket, id).await?;
        Ok(TicketPage {
            ticket,
            attachments,
            comments,
            history,
        })
    }

    /// The reply to the hub's `get_tickets`: the original system's keys `tickets`,
    /// `stats` and `last_updated`, over the tickets `viewer` may see.
    pub async fn tickets_message(
        &self,
        viewer: &User,
        query: &TicketQuery,
        page: Page,
    ) -> Result<TicketsMessage> {
        let tickets = self.list_tickets(viewer, query, page).await?;
        let stats = self.ticket_stats(viewer).await?;
        Ok(TicketsMessage {
            kind: "tickets",
            tickets: tickets.items,
            total: tickets.total,
            stats,
            last_updated: now(),
        })
    }

    /// Whether `viewer` may see a ticket (for presence on its page).
    pub async fn may_see_ticket(&self, viewer: &User, id: i64) -> bool {
        self.get_ticket(viewer, id).await.is_ok()
    }
}

fn now() -> String {
    timestamps::format(timestamps::now())
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
