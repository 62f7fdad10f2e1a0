//! Users management (admins; agents may look): the live list, create, block/unblock;
//! a person's card for staff (`/users/{id}`: open tickets, equipment, where it stands).

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
    person_card::PersonCard,
    users::{Role, User, UserQuery},
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
        .route("/users", get(list))
        .route("/users/rows", get(rows))
        .route("/users/{id}", get(card))
}

#[derive(Deserialize, Default)]
struct Filters {
    q: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "users/list.html")]
struct ListPage {
    shell: Shell,
    t: Tr,
    admin: bool,
    users: Vec<User>,
    q: String,
    pager: Pager,
    roles: &'static [Role],
}

#[derive(Template)]
#[template(path = "users/rows.html")]
struct Rows {
    t: Tr,
    admin: bool,
    users: Vec<User>,
}

async fn find(
    pages: &Pages,
    caller: &PageCaller,
    filters: &Filters,
) -> Result<Paged<User>, PageError> {
    let query = UserQuery {
        q: filters.q.clone().filter(|q| !q.trim().is_empty()),
        ..UserQuery::default()
    };
    let page = Page::new(filters.page, Some(PER_PAGE));
    Ok(pages
        .app
        .desk
        .list_users(&caller.user, &query, page)
        .await?)
}

async fn list(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/users").await?;
    let last_id = pages.app.hub.head();
    let found = find(&pages, &caller, &filters).await?;
    render(&ListPage {
        shell: Shell::new(&pages, &caller, caller.t.t("users.title"), "users", last_id),
        t: caller.t,
        admin: caller.is_admin(),
        pager: Pager::new(&found, "/users", &[("q", filters.q.clone())]),
        users: found.items,
        q: filters.q.unwrap_or_default(),
        roles: Role::ALL,
    })
}

async fn rows(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/users").await?;
    let users = find(&pages, &caller, &filters).await?.items;
    render(&Rows {
        t: caller.t,
        admin: caller.is_admin(),
        users,
    })
}

#[derive(Template)]
#[template(path = "users/card.html")]
struct CardPage {
    shell: Shell,
    t: Tr,
    card: PersonCard,
}

/// A person's card (issue 17, point 5): staff reach it from a ticket's requester.
async fn card(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/users/{id}")).await?;
    let last_id = pages.app.hub.head();
    let card = pages.app.desk.person_card(&caller.user, id).await?;
    render(&CardPage {
        shell: Shell::new(&pages, &caller, &card.user.name, "users", last_id),
        t: caller.t,
        card,
    })
}
