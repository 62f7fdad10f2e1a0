//! System notifications: the ones meant for the visitor; admins see all and create them.

use askama::Template;
use axum::{Router, extract::State, http::HeaderMap, response::Response, routing::get};
use ictdesk_desk::{Page, notifications::Notification};

use super::{PageError, Pages, Shell, Visitor, i18n::Tr, render, visitor};

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

async fn find(pages: &Pages, visitor: &Visitor) -> Result<Vec<Notification>, PageError> {
    let desk = &pages.app.desk;
    let found = if visitor.is_admin() {
        desk.all_notifications(&visitor.user, Page::all()).await?
    } else {
        desk.list_notifications(&visitor.user, Page::all()).await?
    };
    Ok(found.items)
}

async fn list(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let visitor = visitor(&pages, &headers, "/notifications").await?;
    let last_id = pages.app.hub.head();
    let notifications = find(&pages, &visitor).await?;
    render(&ListPage {
        shell: Shell::new(
            &pages,
            &visitor,
            visitor.t.t("notifications.title"),
            "notifications",
            last_id,
        ),
        t: visitor.t,
        admin: visitor.is_admin(),
        notifications,
    })
}

async fn rows(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let visitor = visitor(&pages, &headers, "/notifications").await?;
    let notifications = find(&pages, &visitor).await?;
    render(&Rows {
        t: visitor.t,
        notifications,
    })
}
