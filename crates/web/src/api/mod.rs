//! The JSON API under `/api/v1/` (issue 3 point 6): one module per area. JSON in and
//! out; objects come back with their `id`; lists are `{"items", "page", "per_page",
//! "total"}`; errors are `{"error", "fields"}`.

mod articles;
mod categories;
mod equipment;
mod locations;
mod notifications;
mod tickets;
mod tokens;
mod users;

use axum::{
    Router,
    http::StatusCode,
    routing::{delete, get, post},
};

use crate::{AppState, error::Error, session};

pub fn routes() -> Router<AppState> {
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
        .route("/tickets/{id}/comments", post(tickets::comment))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}", get(users::get).patch(users::change))
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
            "/notifications",
            get(notifications::list).post(notifications::create),
        )
        .fallback(not_found)
}

async fn not_found() -> Error {
    Error::new(StatusCode::NOT_FOUND, "no such API endpoint")
}
