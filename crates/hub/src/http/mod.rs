//! The hub's HTTP surface (docs/protocol.md): the original system's endpoints, the transports,
//! and operations endpoints. `router` is merged into the desk's router by `ictdesk serve`.

mod broadcast;
mod connections;
pub mod error;
mod status;

pub use connections::{REQUEST_GRACE, serve_with};

use std::{
    future::Future,
    time::{Duration, Instant},
};

use axum::{
    Router,
    extract::{DefaultBodyLimit, MatchedPath, Request, State},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use tokio::net::TcpListener;

use crate::{
    Hub,
    metrics::RequestLabels,
    transport::{polling, ws},
};

pub fn router(hub: Hub) -> Router {
    // Without a Pusher app, `/app/` and `/apps/` stay unknown paths (404).
    let pusher = if hub.inner.pusher.is_enabled() {
        crate::pusher::router()
    } else {
        Router::new()
    };
    pusher
        .route("/ws", get(ws::upgrade))
        .route("/messages", get(polling::messages))
        .route("/get_tickets", get(polling::get_tickets))
        .route(
            "/broadcast",
            post(broadcast::publish).layer(DefaultBodyLimit::max(hub.config().max_message_size)),
        )
        .route("/test", get(status::test))
        .route("/status", get(status::status))
        .route("/clients", get(status::clients))
        .route("/healthz", get(status::healthz))
        .route("/metrics", get(status::metrics))
        .route_layer(middleware::from_fn_with_state(hub.clone(), track_latency))
        .with_state(hub)
}

/// Records each request's latency by route (not by raw path, which would let clients
/// create unbounded label sets).
async fn track_latency(State(hub): State<Hub>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".into());
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        path,
        status: response.status().as_u16(),
    };
    hub.inner
        .metrics
        .requests
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Serves `router` over plain HTTP on `listener` until `shutdown` completes, then
/// shuts the hub down (closing WebSockets with 1001) and lets running requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    hub: Hub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let plain = |stream| std::future::ready(Ok(stream));
    serve_with(listener, router, hub, plain, shutdown).await
}

/// How long WebSockets get, after a shutdown, to send their close frames.
pub const CLOSE_GRACE: Duration = Duration::from_secs(5);
