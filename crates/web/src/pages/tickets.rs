//! All tickets (filters, search, pages, live statistics), one ticket (details,
//! comments, status and assignment, history, presence) and the new-ticket form, with
//! the fragments their scripts fetch again when events arrive.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::Response,
    routing::get,
};
use ictdesk_desk::{
    Desk, ErrorKind, Page, Paged,
    attachments::Attachment,
    categories::{Category, CategoryScope},
    comments::Comment,
    equipment::{Equipment, EquipmentQuery},
    history::HistoryEntry,
    teams::Team,
    tickets::{Priority, Ticket, TicketOrder, TicketQuery, TicketStats, TicketStatus, TicketType},
    timestamps,
    users::{Role, User, UserQuery},
};
use serde::Deserialize;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

use super::{PageError, Pages, Shell, i18n::Tr, page_caller, pager::Pager, render, size_label};

pub fn routes() -> Router<Pages> {
    Router::new()
        .route("/tickets", get(list))
        .route("/tickets/rows", get(rows))
        .route("/tickets/stats", get(stats))
        .route("/tickets/new", get(new_ticket))
        .route("/tickets/{id}", get(ticket))
        .route("/tickets/{id}/row", get(row))
        .route("/tickets/{id}/live", get(live_part))
}

/// The list's filters as they come in the query; anything unparsable is ignored.
#[derive(Deserialize, Default, Clone)]
struct Filters {
    /// One status or several (`new,waiting`), `all`, or absent: for staff the open ones
    /// — what a shift starts with (issue 17, point 6) —, for a requester all.
    status: Option<String>,
    /// `recent`, `triage` (most urgent first, then oldest) or `open_first`; absent:
    /// triage for staff, open first for a requester (issue 17 point 8).
    order: Option<String>,
    /// `today`: filed since midnight, or resolved since midnight (the two day tiles).
    created: Option<String>,
    resolved: Option<String>,
    priority: Option<String>,
    /// `me`, `none`, or empty.
    assignee: Option<String>,
    /// A category id.
    category: Option<String>,
    /// A team id: that team's queue (staff).
    team: Option<String>,
    /// A requester's user id (staff only: requesters see their own tickets anyway).
    requester: Option<String>,
    /// `1`: only open tickets whose requester spoke last («Ждёт ответа ИТ»).
    awaiting: Option<String>,
    q: Option<String>,
    page: Option<u32>,
}

const PER_PAGE: u32 = 20;

impl Filters {
    fn query(&self, me: &User) -> TicketQuery {
        let text = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        // Staff start a shift on the open tickets, most urgent and oldest first.
        let shift = me.role.is_staff();
        let today = || Some(timestamps::day_start(timestamps::now()));
        TicketQuery {
            statuses: match self.status.as_deref().map(str::trim) {
                None | Some("") if shift => TicketStatus::OPEN.to_vec(),
                None | Some("") | Some("all") => Vec::new(),
                Some(list) => TicketStatus::parse_list(list).unwrap_or_default(),
            },
            order: match self.order.as_deref().map(TicketOrder::parse) {
                Some(Ok(order)) => order,
                _ if shift => TicketOrder::Triage,
                _ => TicketOrder::OpenFirst,
            },
            created_since: (self.created.as_deref() == Some("today"))
                .then(today)
                .flatten(),
            resolved_since: (self.resolved.as_deref() == Some("today"))
                .then(today)
                .flatten(),
            priority: self
                .priority
                .as_deref()
                .and_then(|p| Priority::parse(p).ok()),
            assignee_id: (self.assignee.as_deref() == Some("me")).then_some(me.id),
            unassigned: self.assignee.as_deref() == Some("none"),
            category_id: self.category_id(),
            team_id: self.team_id(),
            requester_id: self.requester_id(),
            awaiting_staff: self.awaiting.as_deref() == Some("1"),
            q: text(&self.q),
            ..TicketQuery::default()
        }
    }

    fn category_id(&self) -> Option<i64> {
        self.category.as_deref()?.parse().ok()
    }

    fn team_id(&self) -> Option<i64> {
        self.team.as_deref()?.parse().ok()
    }

    fn requester_id(&self) -> Option<i64> {
        self.requester.as_deref()?.parse().ok()
    }

    fn page(&self) -> Page {
        Page::new(self.page, Some(PER_PAGE))
    }

    fn pager<T>(&self, found: &Paged<T>) -> Pager {
        Pager::new(
            found,
            "/tickets",
            &[
                ("status", self.status.clone()),
                ("order", self.order.clone()),
                ("created", self.created.clone()),
                ("resolved", self.resolved.clone()),
                ("priority", self.priority.clone()),
                ("assignee", self.assignee.clone()),
                ("category", self.category.clone()),
                ("team", self.team.clone()),
                ("requester", self.requester.clone()),
                ("awaiting", self.awaiting.clone()),
                ("q", self.q.clone()),
            ],
        )
    }
}

#[derive(Template)]
#[template(path = "tickets/list.html")]
struct ListPage {
    shell: Shell,
    t: Tr,
    staff: bool,
    tickets: Vec<Ticket>,
    marks: RowMarks,
    stats: TicketStats,
    status: String,
    order: String,
    priority: String,
    assignee: String,
    categories: Vec<Category>,
    category: Option<i64>,
    /// The teams whose queue staff may choose.
    teams: Vec<Team>,
    team: Option<i64>,
    /// The requester the list is narrowed to, with the link that widens it again.
    requester: Option<Narrowed>,
    q: String,
    pager: Pager,
}

/// A filter set by a link rather than the form (the requester): who, and how to drop it.
struct Narrowed {
    id: i64,
    name: String,
    without: String,
}

async fn list(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/tickets").await?;
    let last_id = pages.app.hub.head();
    let desk = &pages.app.desk;
    let found = desk
        .list_tickets(&caller.user, &filters.query(&caller.user), filters.page())
        .await?;
    let stats = desk.ticket_stats(&caller.user).await?;
    let categories = desk
        .list_categories(&caller.user, Some(CategoryScope::Ticket))
        .await?;
    let teams = if caller.is_staff() {
        desk.list_teams(&caller.user).await?
    } else {
        Vec::new()
    };
    let requester = match filters.requester_id() {
        Some(id) if caller.is_staff() => Some(Narrowed {
            id,
            name: match desk.get_user(&caller.user, id).await {
                Ok(user) => user.name,
                // A link to someone since deleted: the list is simply empty.
                Err(error) if error.kind() == ErrorKind::NotFound => format!("#{id}"),
                Err(error) => return Err(error.into()),
            },
            without: Filters {
                requester: None,
                page: None,
                ..filters.clone()
            }
            .pager(&found)
            .link(1),
        }),
        _ => None,
    };
    let title = if caller.is_staff() {
        "tickets.title"
    } else {
        "tickets.mine_title"
    };
    let page = ListPage {
        shell: Shell::new(&pages, &caller, caller.t.t(title), "tickets", last_id),
        t: caller.t,
        staff: caller.is_staff(),
        pager: filters.pager(&found),
        marks: RowMarks::of(desk, &caller.user, &found.items).await?,
        tickets: found.items,
        stats,
        status: filters.status.clone().unwrap_or_default(),
        order: filters.order.clone().unwrap_or_default(),
        priority: filters.priority.clone().unwrap_or_default(),
        assignee: filters.assignee.clone().unwrap_or_default(),
        categories,
        category: filters.category_id(),
        teams,
        team: filters.team_id(),
        requester,
        q: filters.q.clone().unwrap_or_default(),
    };
    render(&page)
}

/// The rows of one page of the list as it is now: the script merges them in.
#[derive(Template)]
#[template(path = "tickets/rows.html")]
struct Rows {
    t: Tr,
    staff: bool,
    tickets: Vec<Ticket>,
    marks: RowMarks,
}

/// An open ticket older than this is marked in the age column.
const OLD_AFTER: Duration = Duration::days(3);

/// What a row shows beyond the ticket (issue 17): whether it has a reply the caller has
/// not seen (for staff the requester's, for a requester IT's), and its age.
struct RowMarks {
    unseen: Vec<i64>,
    now: OffsetDateTime,
}

impl RowMarks {
    async fn of(desk: &Desk, caller: &User, tickets: &[Ticket]) -> Result<Self, PageError> {
        Ok(Self {
            unseen: desk.unseen_replies(caller, tickets).await?,
            now: timestamps::now(),
        })
    }

    fn unseen(&self, id: &i64) -> bool {
        self.unseen.contains(id)
    }

    fn age(&self, ticket: &Ticket) -> Duration {
        OffsetDateTime::parse(&ticket.created_at, &Rfc3339)
            .map_or(Duration::ZERO, |created| self.now - created)
    }

    /// «5 ч», «3 дн.»: whole hours under a day, else whole days.
    fn age_label(&self, ticket: &Ticket, t: &Tr) -> String {
        let age = self.age(ticket);
        match age.whole_days() {
            0 => t
                .t("tickets.age_hours")
                .replace("{0}", &age.whole_hours().to_string()),
            days => t.t("tickets.age_days").replace("{0}", &days.to_string()),
        }
    }

    fn is_old(&self, ticket: &Ticket) -> bool {
        ticket.status.is_open() && self.age(ticket) > OLD_AFTER
    }
}

async fn rows(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/tickets").await?;
    let desk = &pages.app.desk;
    let found = desk
        .list_tickets(&caller.user, &filters.query(&caller.user), filters.page())
        .await?;
    render(&Rows {
        t: caller.t,
        staff: caller.is_staff(),
        marks: RowMarks::of(desk, &caller.user, &found.items).await?,
        tickets: found.items,
    })
}

/// One row, for a ticket on the page that no longer matches its filters.
async fn row(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/tickets").await?;
    let desk = &pages.app.desk;
    let tickets = vec![desk.get_ticket(&caller.user, id).await?];
    render(&Rows {
        t: caller.t,
        staff: caller.is_staff(),
        marks: RowMarks::of(desk, &caller.user, &tickets).await?,
        tickets,
    })
}

#[derive(Template)]
#[template(path = "tickets/stats.html")]
struct Stats {
    t: Tr,
    staff: bool,
    stats: TicketStats,
}

async fn stats(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/tickets").await?;
    let stats = pages.app.desk.ticket_stats(&caller.user).await?;
    render(&Stats {
        t: caller.t,
        staff: caller.is_staff(),
        stats,
    })
}

/// The part of a ticket's page that others' changes replace: never the forms.
#[derive(Template)]
#[template(path = "tickets/live.html")]
struct LivePart {
    t: Tr,
    staff: bool,
    /// The caller's id: their own files get a delete button.
    me: i64,
    ticket: Ticket,
    attachments: Vec<Attachment>,
    comments: Vec<Comment>,
    history: Vec<HistoryEntry>,
}

#[derive(Template)]
#[template(path = "tickets/ticket.html")]
struct TicketPage {
    shell: Shell,
    t: Tr,
    live: LivePart,
    agents: Vec<User>,
    /// The requester's equipment, offered first for the ticket's.
    devices: Vec<Equipment>,
    /// The ticket's equipment when it is not the requester's: its id and label.
    other_device: Option<(i64, String)>,
    statuses: &'static [TicketStatus],
    priorities: &'static [Priority],
}

async fn ticket(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/tickets/{id}")).await?;
    let last_id = pages.app.hub.head();
    let live = live(&pages, &caller.user, caller.t, id).await?;
    let (agents, devices) = if caller.is_staff() {
        let devices = devices_of(&pages, &caller.user, live.ticket.requester_id).await?;
        (staff(&pages, &caller.user).await?, devices)
    } else {
        (Vec::new(), Vec::new())
    };
    let other_device = other_device(&live.ticket, &devices);
    let title = format!("#{} {}", live.ticket.id, live.ticket.title);
    render(&TicketPage {
        shell: Shell::new(&pages, &caller, &title, "tickets", last_id),
        t: caller.t,
        live,
        agents,
        devices,
        other_device,
        statuses: TicketStatus::ALL,
        priorities: Priority::ALL,
    })
}

impl LivePart {
    /// A file's size as a person reads it: «12 KB», «3.4 MB».
    fn size(&self, bytes: &i64) -> String {
        size_label(*bytes, self.t)
    }
}

async fn live_part(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/tickets/{id}")).await?;
    render(&live(&pages, &caller.user, caller.t, id).await?)
}

/// The ticket as the caller sees it now, which counts as having seen its replies.
async fn live(pages: &Pages, caller: &User, t: Tr, id: i64) -> Result<LivePart, PageError> {
    let page = pages.app.desk.ticket_page(caller, id).await?;
    pages.app.desk.mark_ticket_read(caller, id).await?;
    Ok(LivePart {
        t,
        staff: caller.role.is_staff(),
        me: caller.id,
        ticket: page.ticket,
        attachments: page.attachments,
        comments: page.comments,
        history: page.history,
    })
}

/// What the requester holds: the first choices for a ticket's equipment.
async fn devices_of(
    pages: &Pages,
    viewer: &User,
    requester_id: i64,
) -> Result<Vec<Equipment>, PageError> {
    let held = EquipmentQuery {
        assigned_user_id: Some(requester_id),
        ..EquipmentQuery::default()
    };
    let found = pages.app.desk.list_equipment(viewer, &held, Page::all());
    Ok(found.await?.items)
}

/// The ticket's equipment when the requester does not hold it (the select offers it
/// beside theirs, so the form shows what is set).
fn other_device(ticket: &Ticket, devices: &[Equipment]) -> Option<(i64, String)> {
    let id = ticket.equipment_id?;
    if devices.iter().any(|device| device.id == id) {
        return None;
    }
    let number = ticket.equipment_inventory_number.as_deref().unwrap_or("");
    let name = ticket.equipment_name.as_deref().unwrap_or("");
    Some((id, format!("{number} — {name}")))
}

/// Agents and admins, for the assignment list.
async fn staff(pages: &Pages, caller: &User) -> Result<Vec<User>, PageError> {
    let mut people = Vec::new();
    for role in [Role::Agent, Role::Admin] {
        let query = UserQuery {
            role: Some(role),
            ..UserQuery::default()
        };
        people.extend(
            pages
                .app
                .desk
                .list_users(caller, &query, Page::all())
                .await?
                .items,
        );
    }
    people.retain(|user| user.status.as_str() == "active");
    people.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(people)
}

#[derive(Template)]
#[template(path = "tickets/new.html")]
struct NewPage {
    shell: Shell,
    t: Tr,
    /// Staff file on someone's behalf: the requester field.
    staff: bool,
    categories: Vec<Category>,
    equipment: Vec<Equipment>,
    priorities: &'static [Priority],
    types: &'static [TicketType],
}

async fn new_ticket(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/tickets/new").await?;
    let last_id = pages.app.hub.head();
    let desk = &pages.app.desk;
    let categories = desk
        .list_categories(&caller.user, Some(CategoryScope::Ticket))
        .await?
        .into_iter()
        .filter(|category| category.active)
        .collect();
    // Requesters cannot list equipment; agents link it when they file for someone.
    let equipment = if caller.is_staff() {
        desk.list_equipment(&caller.user, &EquipmentQuery::default(), Page::all())
            .await?
            .items
    } else {
        Vec::new()
    };
    render(&NewPage {
        shell: Shell::new(
            &pages,
            &caller,
            caller.t.t("new_ticket.title"),
            "new",
            last_id,
        ),
        t: caller.t,
        staff: caller.is_staff(),
        categories,
        equipment,
        priorities: Priority::ALL,
        types: TicketType::ALL,
    })
}
