//! System notifications: the ones meant for the caller; admins see all and create them.

use askama::Template;
use axum::{Router, extract::State, http::HeaderMap, response::Response, routing::get};
use ictdesk_desk::{Page, notifications::Notification};

use super::{PageCaller, PageError, Pages, Shell, i18n::Tr, page_caller, render};

pub fn routes() -> Router<Pages> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/rows", get(rows))
}

#[derive(Template)]
#[template(path = "notifications/list.html")]
struct ListPage {
    shell: Shell,
    t: Tr,
    admin: bool,
    notifications: Vec<Notification>,
}

#[derive(Template)]
#[template(path = "notifications/rows.html")]
struct Rows {
    t: Tr,
    notifications: Vec<Notification>,
}

async fn find(pages: &Pages, caller: &PageCaller) -> Result<Vec<Notification>, PageError> {
    let desk = &pages.app.desk;
    let found = if caller.is_admin() {
        desk.all_notifications(&caller.user, Page::all()).await?
    } else {
        desk.list_notifications(&caller.user, Page::all()).await?
    };
    Ok(found.items)
}

async fn list(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/notifications").await?;
    let last_id = pages.app.hub.head();
    let notifications = find(&pages, &caller).await?;
    render(&ListPage {
        shell: Shell::new(
            &pages,
            &caller,
            caller.t.t("notifications.title"),
            "notifications",
            last_id,
        ),
        t: caller.t,
        admin: caller.is_admin(),
        notifications,
    })
}

async fn rows(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/notifications").await?;
    let notifications = find(&pages, &caller).await?;
    render(&Rows {
        t: caller.t,
        notifications,
    })
}
