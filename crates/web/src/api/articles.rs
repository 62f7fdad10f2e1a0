//! `/articles`: the knowledge base; `?q=` is full-text search.

use axum::{Json, extract::State, response::Response};
use ictdesk_desk::articles::{Article, ArticleChange, ArticleQuery, NewArticle};

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{Id, JsonBody, KnownFields, List, Params, created},
};

impl KnownFields for NewArticle {
    const FIELDS: &'static [&'static str] = &["title", "body", "category_id", "visibility"];
}

impl KnownFields for ArticleChange {
    const FIELDS: &'static [&'static str] =
        &["version", "title", "body", "category_id", "visibility"];
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    params: Params,
) -> Result<List<Article>> {
    let query = ArticleQuery {
        q: params.text("q").map(str::to_owned),
        category_id: params.get("category_id")?,
        // Decided by the desk from the caller's role, never by the request.
        with_agents_only: false,
    };
    let articles = state
        .desk
        .list_articles(&caller.user, &query, params.page()?)
        .await?;
    Ok(articles.into())
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(input): JsonBody<NewArticle>,
) -> Result<Response> {
    Ok(created(
        state.desk.create_article(&caller.user, &input).await?,
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<Article>> {
    Ok(Json(state.desk.get_article(&caller.user, id).await?))
}

pub async fn change(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
    JsonBody(change): JsonBody<ArticleChange>,
) -> Result<Json<Article>> {
    Ok(Json(
        state.desk.change_article(&caller.user, id, &change).await?,
    ))
}
