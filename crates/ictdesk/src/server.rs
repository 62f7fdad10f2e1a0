//! Builds a server from the settings and runs it until a shutdown signal.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context;
use ictdesk_desk::{Desk, DeskOptions, login_limit::LoginLimit};
use ictdesk_hub::{
    Database, Hub, HubConfig, HubTokens, NoApplication, Secret, retention::Retention,
};
use rustls::ServerConfig;
use tokio::net::{TcpListener, TcpSocket};

use ictdesk_web::{App, WebConfig};

use crate::cli::{HubArgs, HubSettings, ListenArgs, ServeArgs};

pub struct Server {
    listener: TcpListener,
    hub: Hub,
    router: ictdesk_hub::Router,
    /// Serve https:// and wss:// with this (`ICTDESK_TLS_CERT`/`ICTDESK_TLS_KEY`).
    tls: Option<Arc<ServerConfig>>,
    hsts_max_age: u64,
}

impl Server {
    /// `ictdesk serve`: the desk, its API and pages, and the hub, on one port.
    pub async fn desk(args: ServeArgs) -> anyhow::Result<Self> {
        let tls = tls_config(&args.listen)?;
        let mail = args.mail.settings()?;
        match &mail {
            Some(settings) => tracing::info!(relay = ?settings.smtp, "e-mail is on"),
            None => tracing::info!(
                "e-mail is off: set ICTDESK_SMTP_URL (--smtp-url) to send notifications"
            ),
        }
        let database = connect(&args.database.url).await?;
        let web_config = WebConfig {
            // A cookie for an https site must never travel over plain http.
            secure_cookies: args.secure_cookies || tls.is_some(),
            allowed_origins: args.allowed_origins.clone(),
            login_limit: LoginLimit {
                attempts: args.login_attempts,
                address_attempts: args.login_address_attempts,
                window: Duration::from_secs(args.login_window.get()),
            },
            desk: DeskOptions {
                session_lifetime: Duration::from_secs(args.session_lifetime.get()),
                files: args.attachments.file_options()?,
                mail,
                ..DeskOptions::default()
            },
        };
        let app = App::build(&database, hub_config(&args.hub), web_config)
            .await
            .context("cannot start the desk")?;
        warn_about_clock_skew(&app.desk).await;
        crate::admin::first_run(&app.desk, args.demo).await?;
        let listener = bind(&args.listen).await?;
        announce(&listener, &args.hub, tls.is_some())?;
        Ok(Self {
            listener,
            hub: app.hub,
            router: app.router,
            tls,
            hsts_max_age: args.listen.hsts_max_age,
        })
    }

    /// `ictdesk hub`: the hub alone, viewers identified by `ICTDESK_HUB_SECRET` tokens.
    pub async fn hub(args: HubArgs) -> anyhow::Result<Self> {
        let tls = tls_config(&args.listen)?;
        let database = connect(&args.database.url).await?;
        let identify = Arc::new(HubTokens::new(
            args.hub.hub_secret.as_ref().map(Secret::new).as_ref(),
            Duration::from_secs(args.hub.hub_token_max_lifetime.get()),
        ));
        let hub = Hub::start(
            hub_config(&args.hub),
            database.event_log(),
            Arc::new(NoApplication),
            identify,
        )
        .await
        .context("cannot read the event log")?;
        let listener = bind(&args.listen).await?;
        let router = ictdesk_hub::router(hub.clone());
        announce(&listener, &args.hub, tls.is_some())?;
        Ok(Self {
            listener,
            hub,
            router,
            tls,
            hsts_max_age: args.listen.hsts_max_age,
        })
    }

    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = crate::proxies::warn_about_untrusted_proxies(self.router, &self.hub);
        match self.tls {
            None => ictdesk_hub::http::serve(self.listener, router, self.hub, shutdown).await,
            Some(tls) => {
                let max_age = self.hsts_max_age;
                crate::tls::serve(self.listener, router, self.hub, tls, max_age, shutdown).await
            }
        }
        .context("server failed")?;
        tracing::info!("stopped");
        Ok(())
    }
}

pub async fn connect(url: &str) -> anyhow::Result<Database> {
    Database::connect(url)
        .await
        .context("DATABASE_URL: cannot open the database")
}

/// Pending connections the kernel may queue: bursts of reconnecting clients (after a
/// restart, say) must not lose SYNs to a short queue — mio's default of 128 makes each
/// lost one retry a second later. The kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

async fn bind(listen: &ListenArgs) -> anyhow::Result<TcpListener> {
    let setting = || {
        format!(
            "WEBSOCKET_HOST/WEBSOCKET_PORT: cannot listen on {}:{}",
            listen.host, listen.port
        )
    };
    let addr = tokio::net::lookup_host((listen.host.as_str(), listen.port))
        .await
        .with_context(setting)?
        .next()
        .with_context(setting)?;
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()
    } else {
        TcpSocket::new_v6()
    }
    .with_context(setting)?;
    socket.set_reuseaddr(true).with_context(setting)?;
    socket.bind(addr).with_context(setting)?;
    socket.listen(LISTEN_BACKLOG).with_context(setting)
}

/// Both files or neither: half a TLS setting is a mistake, not a reason to serve plain http.
fn tls_config(listen: &ListenArgs) -> anyhow::Result<Option<Arc<ServerConfig>>> {
    match (&listen.tls_cert, &listen.tls_key) {
        (None, None) => Ok(None),
        (Some(cert), Some(key)) => crate::tls::load(cert, key).map(Some),
        (Some(_), None) => {
            anyhow::bail!("ICTDESK_TLS_KEY is missing: ICTDESK_TLS_CERT needs its private key")
        }
        (None, Some(_)) => {
            anyhow::bail!("ICTDESK_TLS_CERT is missing: ICTDESK_TLS_KEY needs its certificate")
        }
    }
}

fn announce(listener: &TcpListener, settings: &HubSettings, tls: bool) -> anyhow::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    let (http, ws) = if tls {
        ("https", "wss")
    } else {
        ("http", "ws")
    };
    tracing::info!("ictdesk listening on {http}://{addr} (WebSocket {ws}://{addr}/ws)");
    if settings.broadcast_token.is_none() {
        tracing::warn!(
            "ICTDESK_BROADCAST_TOKEN is not set: POST /broadcast will refuse every publish"
        );
    }
    if let Some(path) = &settings.addr_file {
        std::fs::write(path, addr.to_string())
            .with_context(|| format!("ICTDESK_ADDR_FILE: cannot write {}", path.display()))?;
    }
    Ok(())
}

/// How far the node's clock may be from the database's before start-up warns: the
/// login limit and sessions use the database's, but logs and the hub's timestamps use
/// the node's (issue 18 point 3).
const CLOCK_TOLERANCE: Duration = Duration::from_secs(5);

async fn warn_about_clock_skew(desk: &Desk) {
    match desk.clock_skew().await {
        Ok(skew) if skew.unsigned_abs() > CLOCK_TOLERANCE => tracing::warn!(
            "this node's clock is {:.1} s {} the database's: synchronize it (NTP); the login \
             limit and session expiry follow the database's clock, event times this node's",
            skew.as_seconds_f64().abs(),
            if skew.is_positive() {
                "ahead of"
            } else {
                "behind"
            },
        ),
        Ok(_) => {}
        Err(error) => {
            tracing::warn!(%error, "cannot compare this node's clock with the database's")
        }
    }
}

fn hub_config(settings: &HubSettings) -> HubConfig {
    HubConfig {
        node: settings.node.clone().unwrap_or_else(default_node_name),
        heartbeat: Duration::from_secs(settings.heartbeat.get()),
        queue_capacity: settings.queue_capacity as usize,
        max_message_size: settings.max_message_size as usize,
        broadcast_token: settings
            .broadcast_token
            .as_ref()
            .filter(|token| !token.is_empty())
            .map(Secret::new),
        allowed_ips: settings.allowed_ips.clone(),
        trusted_proxies: settings.trusted_proxies.clone(),
        websocket_enabled: settings.websocket_enabled,
        websocket_timeout: Duration::from_secs(settings.websocket_timeout.get()),
        max_connections_per_ip: settings.max_connections_per_ip as usize,
        max_http_connections_per_ip: settings.max_http_connections_per_ip as usize,
        header_timeout: Duration::from_secs(settings.header_timeout.get()),
        client_rate: settings.client_rate,
        pusher_apps: settings.pusher_apps.clone(),
        retention: Retention {
            days: settings.retain_days,
            events: settings.retain_events,
        },
        ..HubConfig::default()
    }
}

fn default_node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .unwrap_or_else(|_| "localhost".into());
    format!("{host}-{}", std::process::id())
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: closing WebSockets (1001) and finishing requests");
}
