//! System notifications: the ones meant for the caller, as notices (admins see all in a
//! table, create and withdraw them), and the banner of active warnings on every page.

use askama::Template;
use axum::{Router, extract::State, http::HeaderMap, response::Response, routing::get};
use ictdesk_desk::{Page, notifications::Notification, timestamps};

use super::{PageCaller, PageError, Pages, Shell, i18n::Tr, page_caller, render};

pub fn routes() -> Router<Pages> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/rows", get(rows))
        .route("/notifications/notices", get(notices))
        .route("/notifications/banners", get(banners))
}

#[derive(Template)]
#[template(path = "notifications/list.html")]
struct ListPage {
    shell: Shell,
    t: Tr,
    admin: bool,
    notifications: Vec<Notification>,
    now: String,
}

/// The admins' table rows.
#[derive(Template)]
#[template(path = "notifications/rows.html")]
struct Rows {
    t: Tr,
    notifications: Vec<Notification>,
    now: String,
}

/// Everyone else's notices: what is said to them, not who it was sent to.
#[derive(Template)]
#[template(path = "notifications/notices.html")]
struct Notices {
    t: Tr,
    notifications: Vec<Notification>,
}

/// The banner's content, fetched again when a notice is published, withdrawn or expires.
#[derive(Template)]
#[template(path = "notifications/banners.html")]
struct Banners {
    t: Tr,
    banners: Vec<Notification>,
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

fn now() -> String {
    timestamps::format(timestamps::now())
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
        now: now(),
    })
}

async fn rows(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/notifications").await?;
    let notifications = find(&pages, &caller).await?;
    render(&Rows {
        t: caller.t,
        notifications,
        now: now(),
    })
}

async fn notices(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/notifications").await?;
    let found = pages
        .app
        .desk
        .list_notifications(&caller.user, Page::all())
        .await?;
    render(&Notices {
        t: caller.t,
        notifications: found.items,
    })
}

async fn banners(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/notifications").await?;
    render(&Banners {
        t: caller.t,
        banners: caller.banners,
    })
}
