//! Tickets («Заявки»): statuses and their transitions, priorities, types.

use serde::{Deserialize, Serialize};

use crate::{
    attachments::{self, Attachment, StoredFile, Target},
    categories::CategoryScope,
    choice::choice,
    comments::{Comment, NewComment},
    desk::{Desk, Outcome, require_active, require_staff},
    error::{Error, Fields, Result, optional_text, required_text},
    events::{
        DeskEvent, TicketAssigned, TicketCommentCreated, TicketCreated, TicketStatusChanged,
        TicketUpdated,
    },
    history::{Changes, EntityKind, HistoryEntry},
    storage::{Page, Paged, Transaction},
    teams::{check_team, next_assignee},
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

    /// The statuses of open work.
    pub const OPEN: &[TicketStatus] = &[
        TicketStatus::New,
        TicketStatus::InProgress,
        TicketStatus::Waiting,
    ];

    /// A comma-separated list (`new,in_progress`), in the order given, without repeats.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, crate::UnknownChoice> {
        let mut statuses = Vec::new();
        for name in text.split(',').filter(|name| !name.trim().is_empty()) {
            let status = Self::parse(name)?;
            if !statuses.contains(&status) {
                statuses.push(status);
            }
        }
        Ok(statuses)
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
    /// When the requester last wrote a public comment.
    pub requester_replied_at: Option<String>,
    /// When an agent or admin last wrote a public comment.
    pub staff_replied_at: Option<String>,
    /// The team whose queue it is in.
    pub team_id: Option<i64>,
    pub team_name: Option<String>,
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
    pub team_id: Option<i64>,
    pub team_name: Option<&'a str>,
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
            team_id: self.team_id,
            team_name: self.team_name.as_deref(),
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
    /// Any of these (none: any status).
    pub statuses: Vec<TicketStatus>,
    pub priority: Option<Priority>,
    pub assignee_id: Option<i64>,
    /// Only tickets nobody is assigned to.
    pub unassigned: bool,
    pub requester_id: Option<i64>,
    pub category_id: Option<i64>,
    /// The tickets about one piece of equipment.
    pub equipment_id: Option<i64>,
    /// One team's queue.
    pub team_id: Option<i64>,
    /// Only open tickets whose last public comment is the requester's: IT owes an answer.
    pub awaiting_staff: bool,
    /// Filed at or after this time (the stored format).
    pub created_since: Option<String>,
    /// Resolved at or after this time.
    pub resolved_since: Option<String>,
    /// Words in the title or description.
    pub q: Option<String>,
    pub order: TicketOrder,
}

impl TicketQuery {
    /// The open statuses: new, in progress and waiting.
    pub fn open() -> Self {
        Self {
            statuses: TicketStatus::OPEN.to_vec(),
            ..Self::default()
        }
    }
}

choice!(
    /// The order of a ticket list: `recent` (most recently changed first), `triage`
    /// for the start of a shift (the most urgent first, then the oldest), or
    /// `open_first` — a requester's home: what is still open, then the rest, each most
    /// recently changed first.
    #[derive(Default)]
    TicketOrder {
        #[default]
        Recent = "recent",
        Triage = "triage",
        OpenFirst = "open_first",
    }
);

/// The statistics cards of the ticket list: counts per status and a few more.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct TicketStats {
    pub total: i64,
    /// New, in progress or waiting.
    pub open: i64,
    pub new: i64,
    pub in_progress: i64,
    pub waiting: i64,
    pub resolved: i64,
    pub closed: i64,
    /// Open tickets nobody is assigned to.
    pub unassigned: i64,
    /// Open tickets assigned to the actor (a requester: their own open tickets).
    pub mine: i64,
    /// Open tickets whose last public comment is the requester's.
    pub awaiting_staff: i64,
    pub created_today: i64,
    pub resolved_today: i64,
}

/// `POST /tickets`: `{title, description, priority, type?, category_id?, equipment_id?}`;
/// agents may also file on someone's behalf (`requester_id`) and choose the team
/// (`team_id`; else the category's team, if it names one).
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
    #[serde(default)]
    pub team_id: Option<i64>,
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
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub team_id: Option<Option<i64>>,
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
pub(crate) fn check_can_see(actor: &User, ticket: &Ticket) -> Result<()> {
    require_active(actor)?;
    if actor.role.is_staff() || ticket.requester_id == actor.id {
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

/// The equipment a ticket is about: staff may name any piece, a requester only one they
/// hold — anything else is "no such equipment", as for an id that does not exist, so a
/// requester's ticket never shows, nor tells apart, someone else's device.
async fn check_equipment(tx: &mut dyn Transaction, id: i64, actor: &User) -> Result<(), String> {
    match tx.equipment(id).await {
        Ok(Some(piece)) if actor.role.is_staff() || piece.assigned_user_id == Some(actor.id) => {
            Ok(())
        }
        Ok(_) => Err("no such equipment".into()),
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
        fields.check("equipment_id", check_equipment(tx, id, actor).await);
    }
    if let Some(id) = input.team_id {
        if !actor.role.is_staff() {
            return Err(Error::forbidden("only agents can choose a ticket's team"));
        }
        fields.check("team_id", check_team(tx, id).await);
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
    let team_id = match input.team_id {
        Some(id) => Some(id),
        None => category_team(tx, input.category_id).await?,
    };
    let assignee_id = match team_id {
        Some(id) => next_assignee(tx, id).await?,
        None => None,
    };
    let draft = Ticket {
        requester_replied_at: None,
        staff_replied_at: None,
        team_id,
        team_name: None,
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
        assignee_id,
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

/// The team a category sends its new tickets to, if it names an active one.
async fn category_team(tx: &mut dyn Transaction, category_id: Option<i64>) -> Result<Option<i64>> {
    let Some(category_id) = category_id else {
        return Ok(None);
    };
    let Some(team_id) = tx
        .category(category_id)
        .await?
        .and_then(|category| category.default_team_id)
    else {
        return Ok(None);
    };
    Ok(check_team(tx, team_id).await.is_ok().then_some(team_id))
}

/// A ticket's agent is in its team. Moved to a team its agent is not in, the ticket
/// leaves that agent (and goes to the team's next agent when the team assigns by
/// itself); an agent named outside the ticket's team is refused.
async fn settle_team(
    tx: &mut dyn Transaction,
    change: &TicketChange,
    old: &Ticket,
    new: &mut Ticket,
) -> Result<()> {
    let moved = new.team_id != old.team_id;
    if !moved && new.assignee_id == old.assignee_id {
        return Ok(());
    }
    let Some(team_id) = new.team_id else {
        return Ok(());
    };
    let team = tx.team(team_id).await?.ok_or(Error::NotFound("team"))?;
    if let Some(agent) = new.assignee_id.filter(|agent| !team.has_member(*agent)) {
        if change.assignee_id == Some(Some(agent)) {
            return Err(Error::field(
                "assignee_id",
                format!("is not in the ticket's team ({})", team.name),
            ));
        }
        new.assignee_id = None;
    }
    if moved && new.assignee_id.is_none() && change.assignee_id.is_none() {
        new.assignee_id = next_assignee(tx, team_id).await?;
    }
    Ok(())
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

async fn parse_change(
    tx: &mut dyn Transaction,
    actor: &User,
    change: &TicketChange,
) -> Result<ParsedChange> {
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
        fields.check("equipment_id", check_equipment(tx, id, actor).await);
    }
    if let Some(Some(id)) = change.team_id {
        fields.check("team_id", check_team(tx, id).await);
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
///
/// A change made against an older `version` goes through when none of the fields it
/// changes were changed since; it then says what it was merged with. When they
/// overlap it is refused, naming who changed which of them.
pub(crate) async fn change_ticket_in(
    tx: &mut dyn Transaction,
    actor: &User,
    id: i64,
    change: &TicketChange,
    at: &str,
) -> Result<Outcome<SavedTicket>> {
    let old = tx.ticket(id).await?.ok_or(Error::NotFound("ticket"))?;
    check_can_see(actor, &old)?;
    require_staff(actor, "change tickets")?;
    let parsed = parse_change(tx, actor, change).await?;

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
    new.team_id = change.team_id.unwrap_or(new.team_id);
    settle_team(tx, change, &old, &mut new).await?;
    new.updated_at = at.to_owned();
    // The status is recorded as asked, but its transition is checked only after a stale
    // save is told apart: "someone changed it meanwhile" explains more than "cannot go
    // from closed to waiting".
    let status = parsed.status.unwrap_or(old.status);
    new.status = status;

    let mut changes = Changes::new(EntityKind::Ticket, id, actor.id, at).producing(old.version + 1);
    record_ticket_changes(tx, &mut changes, &old, &new).await?;
    let merged = check_stale(tx, change.version, &old, &changes.fields()).await?;
    new.status = old.status;
    apply_status(&mut new, status, actor, at)?;
    if changes.is_empty() {
        return Ok(Outcome::Unchanged(SavedTicket {
            ticket: old,
            merged,
        }));
    }
    tx.update_ticket(&new, actor.id).await?;
    tx.insert_history(changes.entries()).await?;
    let ticket = tx.ticket(id).await?.ok_or(Error::NotFound("ticket"))?;
    let event = ticket_change_event(&old, &ticket, &changes, actor).encode()?;
    Ok(Outcome::changed(SavedTicket { ticket, merged }, event))
}

/// A saved ticket change.
#[derive(Debug, Clone, Serialize)]
pub struct SavedTicket {
    #[serde(flatten)]
    pub ticket: Ticket,
    /// What others had changed since the version the change was made against, none of
    /// which it touched (absent when it was made against the current version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged: Option<Merged>,
}

/// Others' changes that a save from an older version left as they were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merged {
    /// Who made them (names, in the order they changed the ticket).
    pub changed_by: String,
    /// Which fields, named as in `PATCH` (`assignee_id`, not `assignee`).
    pub fields: Vec<String>,
}

impl Merged {
    /// `None` when nothing was changed.
    fn of(entries: &[HistoryEntry]) -> Option<Self> {
        (!entries.is_empty()).then(|| Self {
            changed_by: names_of(entries),
            fields: request_fields(entries),
        })
    }
}

/// Refuses a change made against an older version when someone changed one of the
/// fields it `touches` (history names) since; otherwise says what was changed
/// meanwhile, if anything.
async fn check_stale(
    tx: &mut dyn Transaction,
    version: Option<i64>,
    current: &Ticket,
    touches: &[&str],
) -> Result<Option<Merged>> {
    let Some(version) = version.filter(|version| *version != current.version) else {
        return Ok(None);
    };
    if version > current.version {
        return Err(Error::field(
            "version",
            format!("is newer than the ticket's ({})", current.version),
        ));
    }
    let since = tx
        .history_since(EntityKind::Ticket, current.id, version)
        .await?;
    let overlapping: Vec<HistoryEntry> = since
        .iter()
        .filter(|entry| touches.contains(&entry.field.as_str()))
        .cloned()
        .collect();
    if !overlapping.is_empty() {
        let fields = request_fields(&overlapping)
            .into_iter()
            .map(|field| {
                let by = overlapping
                    .iter()
                    .filter(|entry| request_field(&entry.field) == field);
                let message = format!("changed by {}", names_of(by));
                (field, message)
            })
            .collect();
        return Err(Error::Conflict {
            changed_by: names_of(&overlapping),
            fields,
        });
    }
    Ok(Merged::of(&since))
}

/// The distinct names of whoever made `entries`, in order.
fn names_of<'a>(entries: impl IntoIterator<Item = &'a HistoryEntry>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for entry in entries {
        let name = entry.actor_name.as_deref().unwrap_or("someone else");
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(", ")
}

/// The distinct `PATCH` fields of `entries`, in order.
fn request_fields(entries: &[HistoryEntry]) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for entry in entries {
        let field = request_field(&entry.field).to_owned();
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    fields
}

/// The `PATCH` field that changes a history field (history names what a person reads:
/// the assignee, not their id).
pub fn request_field(history_field: &str) -> &str {
    match history_field {
        "assignee" => "assignee_id",
        "category" => "category_id",
        "equipment" => "equipment_id",
        "team" => "team_id",
        other => other,
    }
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
    if old.team_id != new.team_id {
        let name = match new.team_id {
            Some(id) => tx.team(id).await?.map(|team| team.name),
            None => None,
        };
        changes.field("team", old.team_name.clone(), name);
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
/// Every comment is activity on the ticket (its `updated_at` and version move); a
/// requester's reply also takes a waiting or resolved ticket back into work — recorded
/// in its history and said in the same event — so that it is never lost.
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
    let changes = record_reply(tx, actor, &ticket, &comment, at).await?;
    let ticket = tx
        .ticket(ticket_id)
        .await?
        .ok_or(Error::NotFound("ticket"))?;
    let event = DeskEvent::TicketCommentCreated(TicketCommentCreated {
        ticket: ticket.summary(),
        comment: &comment,
        changes: changes.entries(),
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(comment, event))
}

/// What a comment does to its ticket: activity (`updated_at`, version), who spoke last
/// in public, and a requester's reply reopening work. Returns the status change, if any.
async fn record_reply(
    tx: &mut dyn Transaction,
    actor: &User,
    ticket: &Ticket,
    comment: &Comment,
    at: &str,
) -> Result<Changes> {
    let mut updated = ticket.clone();
    updated.updated_at = at.to_owned();
    let from_requester = !actor.role.is_staff();
    match (comment.internal, from_requester) {
        (true, _) => {}
        (false, true) => updated.requester_replied_at = Some(at.to_owned()),
        (false, false) => updated.staff_replied_at = Some(at.to_owned()),
    }
    if from_requester
        && matches!(
            ticket.status,
            TicketStatus::Waiting | TicketStatus::Resolved
        )
    {
        apply_status(&mut updated, TicketStatus::InProgress, actor, at)?;
    }
    let mut changes =
        Changes::new(EntityKind::Ticket, ticket.id, actor.id, at).producing(ticket.version + 1);
    changes.field("status", Some(ticket.status), Some(updated.status));
    tx.update_ticket(&updated, actor.id).await?;
    tx.insert_history(changes.entries()).await?;
    Ok(changes)
}

impl Desk {
    pub async fn create_ticket(&self, actor: &User, input: &NewTicket) -> Result<Ticket> {
        let mut work = self.begin_change().await?;
        let outcome = create_ticket_in(work.tx(), actor, input, &now()).await?;
        work.finish(outcome).await
    }

    /// See [`change_ticket_in`] for which event a change emits, and how a change made
    /// against an older version is merged or refused.
    pub async fn change_ticket(
        &self,
        actor: &User,
        id: i64,
        change: &TicketChange,
    ) -> Result<SavedTicket> {
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

    /// The tickets `actor` may see (a requester: their own), filtered and paged.
    pub async fn list_tickets(
        &self,
        actor: &User,
        query: &TicketQuery,
        page: Page,
    ) -> Result<Paged<Ticket>> {
        require_active(actor)?;
        let mut query = query.clone();
        if !actor.role.is_staff() {
            query.requester_id = Some(actor.id);
        }
        self.store.tickets(&query, page).await
    }

    /// The statistics cards over the tickets `actor` may see.
    pub async fn ticket_stats(&self, actor: &User) -> Result<TicketStats> {
        require_active(actor)?;
        let scope = (!actor.role.is_staff()).then_some(actor.id);
        let day_start = timestamps::day_start(timestamps::now());
        self.store.ticket_stats(scope, actor.id, &day_start).await
    }

    pub async fn get_ticket(&self, actor: &User, id: i64) -> Result<Ticket> {
        let ticket = self
            .store
            .ticket(id)
            .await?
            .ok_or(Error::NotFound("ticket"))?;
        check_can_see(actor, &ticket)?;
        Ok(ticket)
    }

    /// The ticket with its comments and history, as `actor` may see them.
    pub async fn ticket_page(&self, actor: &User, id: i64) -> Result<TicketPage> {
        let ticket = self.get_ticket(actor, id).await?;
        let staff = actor.role.is_staff();
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
    /// `stats` and `last_updated`, over the tickets `actor` may see.
    pub async fn tickets_message(
        &self,
        actor: &User,
        query: &TicketQuery,
        page: Page,
    ) -> Result<TicketsMessage> {
        let tickets = self.list_tickets(actor, query, page).await?;
        let stats = self.ticket_stats(actor).await?;
        Ok(TicketsMessage {
            kind: "tickets",
            tickets: tickets.items,
            total: tickets.total,
            stats,
            last_updated: now(),
        })
    }

    /// What changed on a ticket after `version`, as `actor` may read it (the history
    /// of fields, which requesters read too): for a page whose save was refused, to show
    /// the colleague's change beside each field.
    pub async fn ticket_changes_since(
        &self,
        actor: &User,
        id: i64,
        version: i64,
    ) -> Result<Vec<HistoryEntry>> {
        self.get_ticket(actor, id).await?;
        let mut history = self.store.history(EntityKind::Ticket, id).await?;
        history.retain(|entry| entry.version.is_some_and(|v| v > version));
        Ok(history)
    }

    /// Remembers that `actor` has seen the ticket as it is now (its replies too). No
    /// event: only the actor's own lists show it, the next time they are drawn.
    pub async fn mark_ticket_read(&self, actor: &User, id: i64) -> Result<()> {
        self.get_ticket(actor, id).await?;
        let mut work = self.begin_change().await?;
        work.tx().mark_ticket_read(actor.id, id, &now()).await?;
        work.commit().await
    }

    /// Which of `tickets` have a reply `actor` has not seen: for staff, the requester's
    /// last public comment; for a requester, IT's.
    pub async fn unseen_replies(&self, actor: &User, tickets: &[Ticket]) -> Result<Vec<i64>> {
        let ids: Vec<i64> = tickets.iter().map(|ticket| ticket.id).collect();
        let reads: std::collections::HashMap<i64, String> = self
            .store
            .ticket_reads(actor.id, &ids)
            .await?
            .into_iter()
            .collect();
        let staff = actor.role.is_staff();
        Ok(tickets
            .iter()
            .filter(|ticket| {
                let replied = if staff {
                    &ticket.requester_replied_at
                } else {
                    &ticket.staff_replied_at
                };
                let read = reads.get(&ticket.id);
                replied
                    .as_ref()
                    .is_some_and(|replied| read.is_none_or(|read| replied > read))
            })
            .map(|ticket| ticket.id)
            .collect())
    }

    /// Whether `actor` may see a ticket (for presence on its page).
    pub async fn may_see_ticket(&self, actor: &User, id: i64) -> bool {
        self.get_ticket(actor, id).await.is_ok()
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
    fn status_lists_parse_without_repeats() {
        assert_eq!(
            TicketStatus::parse_list("new, waiting,new"),
            Ok(vec![New, Waiting])
        );
        assert_eq!(TicketStatus::parse_list(""), Ok(vec![]));
        assert!(TicketStatus::parse_list("new,open").is_err());
    }

    #[test]
    fn priorities_and_types_parse() {
        assert_eq!(Priority::parse("critical"), Ok(Priority::Critical));
        assert_eq!(TicketType::parse("incident"), Ok(TicketType::Incident));
        assert!(Priority::parse("urgent").is_err());
    }
}
