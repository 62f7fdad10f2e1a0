//! The login page and the language switch. The form posts to `POST /api/v1/session`
//! (which checks the Origin, limits attempts and sets the HttpOnly cookie); logging out
//! is `DELETE /api/v1/session` with the CSRF token, from the header's button.

use askama::Template;
use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use serde::Deserialize;

use super::{
    PageError, Pages, Shell,
    i18n::{LANG_COOKIE, Lang, Tr},
    render,
};

pub fn routes() -> Router<Pages> {
    Router::new().route("/login", get(page))
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    t: Tr,
    next: String,
    /// The demo logins are shown only on a demo database, where they exist.
    demo: bool,
}

async fn page(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Result<Response, PageError> {
    let t = Tr::new(Lang::from_request(&headers));
    let page = LoginPage {
        shell: Shell::anonymous(&pages, t, t.t("login.title")),
        t,
        next: local_path(query.next.as_deref()),
        demo: matches!(
            pages.app.desk.find_user_by_email("admin@demo.local").await,
            Ok(Some(_))
        ),
    };
    render(&page)
}

/// Only a path on this site: `?next=https://evil.example` must not send people away.
/// Browsers drop tabs and line breaks from URLs and read `\` as `/`, so
/// `/%09/evil.example` would become `//evil.example` — another site (issue 9 point 6):
/// no control characters, whitespace or backslashes at all, and no second leading `/`.
fn local_path(next: Option<&str>) -> String {
    let local = |path: &&str| {
        path.starts_with('/')
            && !path.starts_with("//")
            && !path
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    };
    next.filter(local).unwrap_or("/tickets").to_owned()
}

/// `GET /lang/ru` sets the language cookie and goes back where the person was.
pub async fn switch_language(Path(code): Path<String>, headers: HeaderMap) -> Response {
    let lang = if code == "en" { Lang::En } else { Lang::Ru };
    let back = headers
        .get(header::REFERER)
        .and_then(|value| value.to_str().ok())
        .and_then(|referer| referer.split_once("://").map(|(_, rest)| rest))
        .and_then(|rest| rest.find('/').map(|slash| &rest[slash..]))
        .map_or_else(|| "/tickets".to_owned(), |path| local_path(Some(path)));
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        lang.code()
    );
    let mut response = Redirect::to(&back).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(local_path(Some("/tickets/5")), "/tickets/5");
        assert_eq!(local_path(Some("//evil.example/")), "/tickets");
        assert_eq!(local_path(Some("https://evil.example/")), "/tickets");
        assert_eq!(local_path(None), "/tickets");
    }

    #[test]
    fn next_with_characters_browsers_drop_is_refused() {
        for sneaky in [
            "/\t/evil.example/x",
            "/\n/evil.example/x",
            "/\r/evil.example",
            "/ /evil.example",
            "/\\evil.example",
            "/\u{a0}/evil.example",
            "/\u{2028}/evil.example",
        ] {
            assert_eq!(local_path(Some(sneaky)), "/tickets", "{sneaky:?}");
        }
        assert_eq!(local_path(Some("/kb?q=a+b")), "/kb?q=a+b");
    }
}
