//! The caller's own preferences: which kinds of mail they get. The form saves through
//! `PUT /api/v1/me/mail-preferences`.

use askama::Template;
use axum::{Router, extract::State, http::HeaderMap, response::Response, routing::get};

use super::{PageError, Pages, Shell, i18n::Tr, page_caller, render};

pub fn routes() -> Router<Pages> {
    Router::new().route("/preferences", get(page))
}

#[derive(Template)]
#[template(path = "preferences.html")]
struct PreferencesPage {
    shell: Shell,
    t: Tr,
    email: String,
    mail_enabled: bool,
    /// Each kind offered to the caller, by name, and whether it is on.
    kinds: Vec<(&'static str, bool)>,
}

async fn page(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/preferences").await?;
    let desk = &pages.app.desk;
    let preferences = desk.mail_preferences(&caller.user).await?;
    let last_id = pages.app.hub.head();
    render(&PreferencesPage {
        shell: Shell::new(
            &pages,
            &caller,
            caller.t.t("preferences.title"),
            "preferences",
            last_id,
        ),
        t: caller.t,
        email: caller.user.email.clone(),
        mail_enabled: desk.mail_enabled(),
        kinds: preferences
            .iter()
            .map(|(kind, on)| (kind.as_str(), on))
            .collect(),
    })
}
