//! The JSON API under `/api/v1/` (issue 3 point 6): one module per area. JSON in and
//! out; objects come back with their `id`; lists are `{"items", "page", "per_page",
//! "total"}`; errors are `{"error", "fields"}`.

mod articles;
mod attachments;
mod categories;
mod equipment;
mod inbox;
mod locations;
mod mail;
mod notifications;
mod teams;
mod tickets;
mod tokens;
mod users;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::StatusCode,
    routing::{delete, get, post},
};

use crate::{AppState, error::Error, session};

/// The API; requests that carry files may be `max_upload` bytes (plus their form).
pub fn routes(max_upload: u64) -> Router<AppState> {
    let upload_limit = DefaultBodyLimit::max(
        usize::try_from(max_upload)
            .unwrap_or(usize::MAX)
            .saturating_add(attachments::FORM_OVERHEAD),
    );
    Router::new()
        .route(
            "/session",
            post(session::login)
                .get(session::current)
                .delete(session::logout),
        )
        .route("/tokens", get(tokens::list).post(tokens::create))
        .route("/tokens/{id}", delete(tokens::remove))
        .route("/tickets", get(tickets::list).post(tickets::create))
        .route("/tickets/{id}", get(tickets::get).patch(tickets::change))
        .route(
            "/tickets/{id}/comments",
            post(tickets::comment).layer(upload_limit),
        )
        .route(
            "/tickets/{id}/attachments",
            post(attachments::upload).layer(upload_limit),
        )
        .route(
            "/attachments/{id}",
            get(attachments::download).delete(attachments::remove),
        )
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::change))
        .route("/users/{id}/card", get(users::card))
        .route("/equipment", get(equipment::list).post(equipment::create))
        .route(
            "/equipment/{id}",
            get(equipment::get).patch(equipment::change),
        )
        .route("/locations", get(locations::list).post(locations::create))
        .route(
            "/categories",
            get(categories::list).post(categories::create),
        )
        .route("/articles", get(articles::list).post(articles::create))
        .route("/articles/{id}", get(articles::get).patch(articles::change))
        .route(
            "/articles/{id}/attachments",
            post(attachments::upload_to_article).layer(upload_limit),
        )
        .route("/teams", get(teams::list).post(teams::create))
        .route("/teams/{id}", get(teams::get).patch(teams::change))
        .route("/inbox", get(inbox::list))
        .route("/inbox/read", post(inbox::read))
        .route(
            "/notifications",
            get(notifications::list).post(notifications::create),
        )
        .route(
            "/notifications/{id}/withdraw",
            post(notifications::withdraw),
        )
        .route(
            "/me/mail-preferences",
            get(mail::preferences).put(mail::change_preferences),
        )
        .fallback(not_found)
}

async fn not_found() -> Error {
    Error::new(StatusCode::NOT_FOUND, "no such API endpoint")
}
