//! `/inbox`: the caller's notification inbox, newest first, paged; the list is a
//! fragment (`/inbox/list`) that `inbox.js` fetches again when entries change.

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    http::HeaderMap,
    response::Response,
    routing::get,
};
use ictdesk_desk::{Page, Paged, inbox::InboxEntry};
use serde::Deserialize;

use super::{PageCaller, PageError, Pages, Shell, i18n::Tr, page_caller, pager::Pager, render};

pub fn routes() -> Router<Pages> {
    Router::new()
        .route("/inbox", get(page))
        .route("/inbox/list", get(list))
}

const PER_PAGE: u32 = 30;

#[derive(Deserialize, Default)]
struct Filters {
    /// `1`: unread entries only.
    unread: Option<String>,
    page: Option<u32>,
}

impl Filters {
    fn unread_only(&self) -> bool {
        self.unread.as_deref() == Some("1")
    }
}

/// The list with its pager, as the page and the fragment show it.
#[derive(Template)]
#[template(path = "inbox/list.html")]
struct List {
    t: Tr,
    entries: Vec<InboxEntry>,
    unread_only: bool,
    pager: Pager,
    fragment: String,
}

#[derive(Template)]
#[template(path = "inbox/page.html")]
struct InboxPage {
    shell: Shell,
    t: Tr,
    list: List,
}

async fn find(pages: &Pages, caller: &PageCaller, filters: &Filters) -> Result<List, PageError> {
    let page = Page::new(filters.page, Some(PER_PAGE));
    let found: Paged<InboxEntry> = pages
        .app
        .desk
        .inbox(&caller.user, filters.unread_only(), page)
        .await?;
    let unread = filters.unread_only().then(|| "1".to_owned());
    let pager = Pager::new(&found, "/inbox", &[("unread", unread.clone())]);
    let fragment = match (unread, found.page) {
        (Some(_), page) => format!("/inbox/list?unread=1&page={page}"),
        (None, page) => format!("/inbox/list?page={page}"),
    };
    Ok(List {
        t: caller.t,
        entries: found.items,
        unread_only: filters.unread_only(),
        pager,
        fragment,
    })
}

async fn page(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/inbox").await?;
    let last_id = pages.app.hub.head();
    let list = find(&pages, &caller, &filters).await?;
    render(&InboxPage {
        shell: Shell::new(&pages, &caller, caller.t.t("inbox.title"), "inbox", last_id),
        t: caller.t,
        list,
    })
}

async fn list(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/inbox").await?;
    render(&find(&pages, &caller, &filters).await?)
}
