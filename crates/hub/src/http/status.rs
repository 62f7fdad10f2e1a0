//! `/test`, `/status`, `/clients`, `/healthz`, `/metrics`.

use std::collections::HashMap;

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::Hub;

pub(crate) async fn test() -> Json<Value> {
    Json(json!({"ok": true, "message": "WebSocket server is running"}))
}

pub(crate) async fn status(State(hub): State<Hub>) -> Json<Value> {
    let inner = &hub.inner;
    Json(json!({
        "status": if hub.is_shutting_down() { "stopping" } else { "running" },
        "uptime_seconds": inner.started.elapsed().as_secs(),
        "started_at": inner.started_at,
        "clients": hub.client_count(),
        "events_published": inner.metrics.events.get(),
        "messages_sent": inner.metrics.messages_sent.get(),
        "last_id": hub.head(),
        "version": env!("CARGO_PKG_VERSION"),
        "node": inner.config.node,
        "websocket_enabled": inner.config.websocket_enabled,
    }))
}

/// `{"clients": N}` on this node. With `?all=1` the answer also lists the nodes it
/// counted; a node knows only itself until nodes share their counts.
pub(crate) async fn clients(
    State(hub): State<Hub>,
    Query(params): Query<HashMap<String, String>>,
) -> Json<Value> {
    let clients = hub.client_count();
    if params
        .get("all")
        .is_some_and(|all| all == "1" || all == "true")
    {
        return Json(json!({
            "clients": clients,
            "nodes": [{"node": hub.config().node, "clients": clients}],
        }));
    }
    Json(json!({ "clients": clients }))
}

pub(crate) async fn healthz(State(hub): State<Hub>) -> Response {
    match hub.log().ping().await {
        Ok(()) if !hub.is_shutting_down() => {
            Json(json!({"status": "ok", "database": "ok"})).into_response()
        }
        Ok(()) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "stopping", "database": "ok"})),
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": "unreachable"})),
            )
                .into_response()
        }
    }
}

pub(crate) async fn metrics(State(hub): State<Hub>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        hub.inner.metrics.render(),
    )
        .into_response()
}
