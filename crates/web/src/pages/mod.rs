//! The server-rendered pages (docs/architecture.md): askama view models (one module per page), a
//! base layout that starts `live-updates.js`, and small HTML fragments (a table's
//! rows, a ticket's live part) that the page scripts fetch again when an event says
//! something changed. Fragments go through the same permission checks as the pages,
//! so an event only ever tells a page *that* something changed; what it may show comes
//! from the server.
//!
//! Changes are made by the page scripts through the JSON API (`/api/v1`, with the
//! session's CSRF token); the pages themselves only read.

mod articles;
mod assets;
mod equipment;
mod i18n;
mod inbox;
mod login;
mod markdown;
mod notifications;
mod pager;
mod preferences;
mod teams;
mod tickets;
mod users;

use askama::Template;
use axum::{
    Router,
    extract::FromRef,
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};
use ictdesk_desk::{ErrorKind, notifications::Notification, users::User};
use serde_json::json;

pub use self::assets::Assets;
use self::i18n::{Lang, Tr};
use crate::{AppState, identity::identify};

/// What the page handlers share: the application and the embedded assets.
#[derive(Clone)]
pub struct Pages {
    pub app: AppState,
    pub assets: Assets,
}

impl FromRef<Pages> for Assets {
    fn from_ref(pages: &Pages) -> Assets {
        pages.assets.clone()
    }
}

pub fn router(app: AppState) -> Router {
    let pages = Pages {
        app,
        assets: Assets::embedded(),
    };
    Router::new()
        .route("/", get(|| async { Redirect::to("/tickets") }))
        .route("/assets/{file}", get(assets::serve))
        .route("/assets/{folder}/{file}", get(assets::serve_module))
        .route("/lang/{code}", get(login::switch_language))
        .merge(login::routes())
        .merge(tickets::routes())
        .merge(users::routes())
        .merge(equipment::routes())
        .merge(articles::routes())
        .merge(notifications::routes())
        .merge(inbox::routes())
        .merge(preferences::routes())
        .merge(teams::routes())
        .with_state(pages)
}

/// The caller a page is rendered for: signed in with a session (pages are not for API
/// tokens), with their language and unread count.
pub struct PageCaller {
    pub user: User,
    pub csrf_token: String,
    pub t: Tr,
    /// Unread inbox entries, for the bell.
    pub unread: i64,
    /// Active warnings and critical notices, shown as a banner on every page.
    pub banners: Vec<Notification>,
}

impl PageCaller {
    pub fn is_staff(&self) -> bool {
        self.user.role.is_staff()
    }

    pub fn is_admin(&self) -> bool {
        self.user.role.is_admin()
    }
}

/// The caller, or a redirect to the login page that comes back here afterwards.
pub async fn page_caller(
    pages: &Pages,
    headers: &HeaderMap,
    back_to: &str,
) -> Result<PageCaller, PageError> {
    let t = Tr::new(Lang::from_request(headers));
    match identify(&pages.app.desk, headers, None).await {
        Ok(Some(caller)) => match caller.proof {
            crate::identity::Proof::Session { csrf_token } => Ok(PageCaller {
                unread: pages.app.desk.unread_count(&caller.user).await?,
                banners: pages.app.desk.banners(&caller.user).await?,
                t: t.for_role(caller.user.role),
                user: caller.user,
                csrf_token,
            }),
            crate::identity::Proof::ApiToken => Err(PageError::Login(back_to.to_owned())),
        },
        Ok(None) => Err(PageError::Login(back_to.to_owned())),
        Err(crate::error::Error::Desk(error)) => Err(PageError::Desk(error)),
        // Only a bearer token can be refused; pages are for sessions.
        Err(crate::error::Error::Api(_)) => Err(PageError::Login(back_to.to_owned())),
    }
}

/// The layout's part of every page: title, navigation, the live client's settings.
pub struct Shell {
    pub t: Tr,
    pub title: String,
    pub nav: &'static str,
    pub user: Option<ShellUser>,
    pub css: String,
    pub app_js: String,
    pub live_js: String,
    pub config_json: String,
    pub strings_json: String,
    pub banners: Vec<Notification>,
}

pub struct ShellUser {
    pub unread: i64,
    pub name: String,
    pub role: &'static str,
    pub is_staff: bool,
    pub is_admin: bool,
}

impl Shell {
    /// `last_id` is the hub's head read *before* the page's data, so the live client
    /// starts from there and misses nothing that happened while the page was rendered.
    pub fn new(
        pages: &Pages,
        caller: &PageCaller,
        title: &str,
        nav: &'static str,
        last_id: i64,
    ) -> Shell {
        let hub = pages.app.hub.config();
        let config = json!({
            "userId": caller.user.id,
            "role": caller.user.role.as_str(),
            "csrfToken": caller.csrf_token,
            "lastId": last_id,
            "useWebSocket": hub.websocket_enabled,
            "timeoutMs": u64::try_from(hub.websocket_timeout.as_millis()).unwrap_or(5000),
            "lang": caller.t.lang.code(),
        });
        let mut shell = Shell::anonymous(pages, caller.t, title);
        shell.nav = nav;
        shell.config_json = config.to_string().replace("</", "<\\/");
        shell.banners.clone_from(&caller.banners);
        shell.user = Some(ShellUser {
            unread: caller.unread,
            name: caller.user.name.clone(),
            role: caller.user.role.as_str(),
            is_staff: caller.is_staff(),
            is_admin: caller.is_admin(),
        });
        shell
    }

    /// The login and error pages: no live client.
    pub fn anonymous(pages: &Pages, t: Tr, title: &str) -> Shell {
        Shell {
            t,
            title: title.to_owned(),
            nav: "",
            user: None,
            css: pages.assets.url("app.css"),
            app_js: pages.assets.module_url("app.js"),
            live_js: pages.assets.url("live-updates.js"),
            config_json: "null".to_owned(),
            strings_json: t.json(),
            banners: Vec::new(),
        }
    }
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("not signed in")]
    Login(String),
    #[error(transparent)]
    Desk(#[from] ictdesk_desk::Error),
    #[error("rendering failed: {0}")]
    Render(#[from] askama::Error),
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    message: &'static str,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, message) = match &self {
            PageError::Login(back_to) => {
                let target = format!("/login?next={}", percent_encode(back_to));
                return Redirect::to(&target).into_response();
            }
            PageError::Desk(error) => match error.kind() {
                ErrorKind::NotFound => (StatusCode::NOT_FOUND, "Не найдено · Not found"),
                ErrorKind::Forbidden => (
                    StatusCode::FORBIDDEN,
                    "Эта страница вам недоступна · You may not see this page",
                ),
                ErrorKind::Unauthenticated => {
                    return Redirect::to("/login").into_response();
                }
                ErrorKind::Validation => (StatusCode::BAD_REQUEST, "Неверный запрос · Bad request"),
                _ => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Что-то пошло не так · Something went wrong",
                ),
            },
            PageError::Render(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Что-то пошло не так · Something went wrong",
            ),
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "a page failed");
        }
        let page = ErrorPage {
            status: status.as_u16(),
            message,
        };
        let body = page.render().unwrap_or_else(|_| message.to_owned());
        (status, Html(body)).into_response()
    }
}

/// Renders a view model into a `text/html` response.
pub fn render(page: &impl Template) -> Result<Response, PageError> {
    Ok(([(header::CACHE_CONTROL, "no-store")], Html(page.render()?)).into_response())
}

/// A size in bytes as a person reads it, in the page's language.
pub fn size_label(bytes: i64, t: Tr) -> String {
    const KB: f64 = 1024.0;
    #[expect(clippy::cast_precision_loss, reason = "a label, not arithmetic")]
    let size = bytes as f64;
    if size < KB {
        t.t("files.bytes").replace("{0}", &bytes.to_string())
    } else if size < KB * KB {
        t.t("files.kb").replace("{0}", &format!("{:.0}", size / KB))
    } else {
        t.t("files.mb")
            .replace("{0}", &format!("{:.1}", size / KB / KB))
    }
}

/// Just enough encoding for a path or a search in a query value.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
