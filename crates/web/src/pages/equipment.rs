//! Equipment: the list (search, status and kind filters) and one item's page with its
//! status, location, assignment and history, both live.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::Response,
    routing::get,
};
use ictdesk_desk::{
    Page, Paged,
    equipment::{Equipment, EquipmentKind, EquipmentQuery, EquipmentStatus},
    history::HistoryEntry,
    locations::Location,
    tickets::{Ticket, TicketQuery},
    users::{User, UserQuery},
};
use serde::Deserialize;

use super::{
    PageCaller, PageError, Pages, Shell,
    i18n::Tr,
    page_caller,
    pager::{PER_PAGE, Pager},
    render,
};

pub fn routes() -> Router<Pages> {
    Router::new()
        .route("/equipment", get(list))
        .route("/equipment/rows", get(rows))
        .route("/equipment/{id}", get(item))
        .route("/equipment/{id}/live", get(live_part))
}

#[derive(Deserialize, Default)]
struct Filters {
    q: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    page: Option<u32>,
}

impl Filters {
    fn query(&self) -> EquipmentQuery {
        EquipmentQuery {
            q: self.q.clone().filter(|q| !q.trim().is_empty()),
            status: self
                .status
                .as_deref()
                .and_then(|s| EquipmentStatus::parse(s).ok()),
            kind: self
                .kind
                .as_deref()
                .and_then(|k| EquipmentKind::parse(k).ok()),
            ..EquipmentQuery::default()
        }
    }

    fn pager(&self, found: &Paged<Equipment>) -> Pager {
        Pager::new(
            found,
            "/equipment",
            &[
                ("q", self.q.clone()),
                ("status", self.status.clone()),
                ("kind", self.kind.clone()),
            ],
        )
    }
}

#[derive(Template)]
#[template(path = "equipment/list.html")]
struct ListPage {
    shell: Shell,
    t: Tr,
    items: Vec<Equipment>,
    q: String,
    status: String,
    kind: String,
    statuses: &'static [EquipmentStatus],
    kinds: &'static [EquipmentKind],
    pager: Pager,
}

#[derive(Template)]
#[template(path = "equipment/rows.html")]
struct Rows {
    t: Tr,
    items: Vec<Equipment>,
}

async fn find(
    pages: &Pages,
    caller: &PageCaller,
    filters: &Filters,
) -> Result<Paged<Equipment>, PageError> {
    let page = Page::new(filters.page, Some(PER_PAGE));
    Ok(pages
        .app
        .desk
        .list_equipment(&caller.user, &filters.query(), page)
        .await?)
}

async fn list(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/equipment").await?;
    let last_id = pages.app.hub.head();
    let found = find(&pages, &caller, &filters).await?;
    render(&ListPage {
        shell: Shell::new(
            &pages,
            &caller,
            caller.t.t("equipment.title"),
            "equipment",
            last_id,
        ),
        t: caller.t,
        pager: filters.pager(&found),
        items: found.items,
        q: filters.q.unwrap_or_default(),
        status: filters.status.unwrap_or_default(),
        kind: filters.kind.unwrap_or_default(),
        statuses: EquipmentStatus::ALL,
        kinds: EquipmentKind::ALL,
    })
}

async fn rows(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/equipment").await?;
    let items = find(&pages, &caller, &filters).await?.items;
    render(&Rows { t: caller.t, items })
}

#[derive(Template)]
#[template(path = "equipment/live.html")]
struct LivePart {
    t: Tr,
    item: Equipment,
    history: Vec<HistoryEntry>,
}

#[derive(Template)]
#[template(path = "equipment/item.html")]
struct ItemPage {
    shell: Shell,
    t: Tr,
    live: LivePart,
    statuses: &'static [EquipmentStatus],
    locations: Vec<Location>,
    people: Vec<User>,
    /// The tickets about it that the caller may see, the last changed first.
    tickets: Paged<Ticket>,
}

/// How many of a device's tickets its page lists.
const TICKETS_SHOWN: u32 = 20;

async fn live(pages: &Pages, caller: &PageCaller, id: i64) -> Result<LivePart, PageError> {
    let page = pages.app.desk.equipment_page(&caller.user, id).await?;
    Ok(LivePart {
        t: caller.t,
        item: page.equipment,
        history: page.history,
    })
}

async fn item(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/equipment/{id}")).await?;
    let last_id = pages.app.hub.head();
    let live = live(&pages, &caller, id).await?;
    let desk = &pages.app.desk;
    let locations = desk.list_locations(&caller.user).await?;
    let people = desk
        .list_users(&caller.user, &UserQuery::default(), Page::all())
        .await?
        .items;
    let about = TicketQuery {
        equipment_id: Some(id),
        ..TicketQuery::default()
    };
    let tickets = desk
        .list_tickets(
            &caller.user,
            &about,
            Page::new(Some(1), Some(TICKETS_SHOWN)),
        )
        .await?;
    let title = format!("{} — {}", live.item.inventory_number, live.item.name);
    render(&ItemPage {
        shell: Shell::new(&pages, &caller, &title, "equipment", last_id),
        t: caller.t,
        live,
        statuses: EquipmentStatus::ALL,
        locations,
        people,
        tickets,
    })
}

async fn live_part(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/equipment/{id}")).await?;
    render(&live(&pages, &caller, id).await?)
}
