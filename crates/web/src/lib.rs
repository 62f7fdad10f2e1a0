//! ictdesk's HTTP side: the JSON API under `/api/v1/`, login with sessions and CSRF
//! tokens, API tokens, and the two hooks the hub asks of the desk — who a connection
//! is ([`identity::DeskIdentify`]) and what `get_tickets` answers
//! ([`application::DeskApplication`]).
//!
//! [`App::build`] wires desk, hub and router together; the binary serves the result.

pub mod api;
pub mod application;
pub mod broadcasting;
pub mod csrf;
pub mod error;
pub mod identity;
mod mail_sender;
pub mod origin;
pub mod pages;
pub mod requests;
mod security_headers;
pub mod session;
mod sweeper;

use std::{future::Future, sync::Arc};

use axum::Router;
use ictdesk_desk::{Desk, DeskOptions, login_limit::LoginLimit};
use ictdesk_hub::{Database, Hub, HubConfig, LogError};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;

use crate::{application::DeskApplication, identity::DeskIdentify};

/// The web layer's settings. The binary fills them from flags and environment.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Marks the session cookie `Secure` (set when serving over TLS).
    pub secure_cookies: bool,
    /// The login attempt limit (per address and account, per address, window).
    pub login_limit: LoginLimit,
    /// Origins (`https://desk.example.org`) allowed besides the request's own host, for
    /// WebSocket upgrades, polls and logins behind proxies that rewrite `Host`.
    pub allowed_origins: Vec<origin::Origin>,
    /// Password hashing cost and other desk settings.
    pub desk: DeskOptions,
}

/// What every handler gets: cheap to clone, no globals (STYLE 3).
#[derive(Clone)]
pub struct AppState {
    pub desk: Desk,
    pub hub: Hub,
    pub config: Arc<WebConfig>,
    pub login_limit: LoginLimit,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("opening the desk failed: {0}")]
    Desk(#[from] ictdesk_desk::Error),
    #[error("starting the hub failed: {0}")]
    Hub(#[from] LogError),
}

/// The whole service desk, ready to serve: desk, running hub, and one router with the
/// API and the hub's endpoints.
pub struct App {
    pub hub: Hub,
    pub desk: Desk,
    pub router: Router,
}

impl App {
    /// Opens the desk (running its migrations) on `database`, starts the hub with the
    /// desk's identification and `get_tickets`, and builds the router.
    pub async fn build(
        database: &Database,
        hub_config: HubConfig,
        web_config: WebConfig,
    ) -> Result<App, BuildError> {
        // One log for both: the desk's commits wake the hub's tailer.
        let log = database.event_log();
        let desk = Desk::open(database, log.clone(), web_config.desk.clone()).await?;
        let config = Arc::new(web_config);
        let identify = Arc::new(DeskIdentify::new(desk.clone(), config.clone()));
        let application = Arc::new(DeskApplication::new(desk.clone()));
        let hub = Hub::start(hub_config, log, application, identify).await?;
        sweeper::supervise(&hub, desk.clone());
        mail_sender::supervise(&hub, &desk);
        let state = AppState {
            login_limit: config.login_limit,
            desk: desk.clone(),
            hub: hub.clone(),
            config,
        };
        let router = router(state)
            .merge(ictdesk_hub::router(hub.clone()))
            .layer(axum::middleware::from_fn(requests::refuse_nul_in_query));
        let router = security_headers::apply(router);
        Ok(App { hub, desk, router })
    }

    /// Serves until `shutdown` completes, then closes WebSockets with 1001 and lets
    /// running requests finish.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        ictdesk_hub::http::serve(listener, self.router, self.hub, shutdown).await
    }
}

/// The desk's own routes (the API, the pages and their assets), with their state applied.
///
/// Their answers are compressed (brotli or gzip, as the client prefers; not images,
/// which are compressed already, nor answers under 32 bytes): a list page's HTML or
/// JSON shrinks to a fifth or less. The hub's routes are merged outside this layer and
/// stay uncompressed: a long poll's or a WebSocket's delivery must not wait for an
/// encoder.
pub fn router(state: AppState) -> Router {
    Router::new()
        .nest("/api/v1", api::routes(state.desk.max_upload_size()))
        .route(
            "/broadcasting/auth",
            axum::routing::post(broadcasting::auth),
        )
        .with_state(state.clone())
        .merge(pages::router(state))
        .layer(CompressionLayer::new())
}
