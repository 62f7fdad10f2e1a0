//! The knowledge base: list with full-text search, an article (Markdown rendered and
//! sanitised), and the create/edit form for agents.

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
    articles::{Article, ArticleQuery, Visibility},
    categories::{Category, CategoryScope},
};
use serde::Deserialize;

use super::{
    PageCaller, PageError, Pages, Shell,
    i18n::Tr,
    markdown, page_caller,
    pager::{PER_PAGE, Pager},
    render,
};

pub fn routes() -> Router<Pages> {
    Router::new()
        .route("/kb", get(list))
        .route("/kb/rows", get(rows))
        .route("/kb/new", get(new_article))
        .route("/kb/{id}", get(article))
        .route("/kb/{id}/live", get(live_part))
        .route("/kb/{id}/edit", get(edit))
}

#[derive(Deserialize, Default)]
struct Filters {
    q: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "kb/list.html")]
struct ListPage {
    shell: Shell,
    t: Tr,
    staff: bool,
    articles: Vec<Article>,
    q: String,
    pager: Pager,
}

#[derive(Template)]
#[template(path = "kb/rows.html")]
struct Rows {
    t: Tr,
    articles: Vec<Article>,
}

async fn find(
    pages: &Pages,
    caller: &PageCaller,
    filters: &Filters,
) -> Result<Paged<Article>, PageError> {
    let query = ArticleQuery {
        q: filters.q.clone().filter(|q| !q.trim().is_empty()),
        with_agents_only: caller.is_staff(),
        ..ArticleQuery::default()
    };
    let page = Page::new(filters.page, Some(PER_PAGE));
    Ok(pages
        .app
        .desk
        .list_articles(&caller.user, &query, page)
        .await?)
}

async fn list(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/kb").await?;
    let last_id = pages.app.hub.head();
    let found = find(&pages, &caller, &filters).await?;
    render(&ListPage {
        shell: Shell::new(&pages, &caller, caller.t.t("kb.title"), "kb", last_id),
        t: caller.t,
        staff: caller.is_staff(),
        pager: Pager::new(&found, "/kb", &[("q", filters.q.clone())]),
        articles: found.items,
        q: filters.q.unwrap_or_default(),
    })
}

async fn rows(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/kb").await?;
    let articles = find(&pages, &caller, &filters).await?.items;
    render(&Rows {
        t: caller.t,
        articles,
    })
}

#[derive(Template)]
#[template(path = "kb/live.html")]
struct LivePart {
    t: Tr,
    article: Article,
    html: String,
}

#[derive(Template)]
#[template(path = "kb/article.html")]
struct ArticlePage {
    shell: Shell,
    t: Tr,
    staff: bool,
    live: LivePart,
}

async fn live(pages: &Pages, caller: &PageCaller, id: i64) -> Result<LivePart, PageError> {
    let article = pages.app.desk.get_article(&caller.user, id).await?;
    Ok(LivePart {
        t: caller.t,
        html: markdown::to_safe_html(&article.body),
        article,
    })
}

async fn article(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/kb/{id}")).await?;
    let last_id = pages.app.hub.head();
    let live = live(&pages, &caller, id).await?;
    let title = live.article.title.clone();
    render(&ArticlePage {
        shell: Shell::new(&pages, &caller, &title, "kb", last_id),
        t: caller.t,
        staff: caller.is_staff(),
        live,
    })
}

async fn live_part(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/kb/{id}")).await?;
    render(&live(&pages, &caller, id).await?)
}

#[derive(Template)]
#[template(path = "kb/form.html")]
struct FormPage {
    shell: Shell,
    t: Tr,
    article: Option<Article>,
    categories: Vec<Category>,
    visibilities: &'static [Visibility],
}

async fn form(pages: Pages, headers: HeaderMap, id: Option<i64>) -> Result<Response, PageError> {
    let back = id.map_or_else(|| "/kb/new".to_owned(), |id| format!("/kb/{id}/edit"));
    let caller = page_caller(&pages, &headers, &back).await?;
    let last_id = pages.app.hub.head();
    let desk = &pages.app.desk;
    let article = match id {
        Some(id) => Some(desk.get_article(&caller.user, id).await?),
        None => None,
    };
    let categories = desk
        .list_categories(&caller.user, Some(CategoryScope::Article))
        .await?;
    let title = caller.t.t(if article.is_some() {
        "kb.edit"
    } else {
        "kb.new"
    });
    render(&FormPage {
        shell: Shell::new(&pages, &caller, title, "kb", last_id),
        t: caller.t,
        article,
        categories,
        visibilities: Visibility::ALL,
    })
}

async fn new_article(
    State(pages): State<Pages>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    form(pages, headers, None).await
}

async fn edit(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    form(pages, headers, Some(id)).await
}
