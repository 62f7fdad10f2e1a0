//! `/test`, `/status`, `/clients`, `/healthz`, `/metrics`.

use std::{collections::HashMap, net::SocketAddr};

use axum::{
    Json,
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

use crate::{Hub, client_addr::is_operator, cluster, http::error::ApiError, log::NodeRecord};

/// `/metrics` and the cluster's node list are for operators (loopback or
/// `ICTDESK_ALLOWED_IPS`), not for whoever reaches the port.
fn require_operator(hub: &Hub, peer: SocketAddr, headers: &HeaderMap) -> Result<(), ApiError> {
    if is_operator(peer.ip(), headers, hub.config()) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        "only loopback and ICTDESK_ALLOWED_IPS may read this",
    ))
}

pub(crate) async fn test() -> Json<Value> {
    Json(json!({"ok": true, "message": "WebSocket server is running"}))
}

pub(crate) async fn status(State(hub): State<Hub>) -> Json<Value> {
    let inner = &hub.inner;
    // The cluster view and the tailer's lag need the database; /status still answers
    // without it.
    let cluster = match cluster_nodes(&hub).await {
        Ok(nodes) => json!({
            "nodes": nodes.len(),
            "clients": nodes.iter().map(|node| node.clients).sum::<i64>(),
        }),
        Err(_) => Value::Null,
    };
    let tailer_lag = match inner.log.head().await {
        Ok(committed) => json!((committed - inner.tailer.fanned_out()).max(0)),
        Err(_) => Value::Null,
    };
    Json(json!({
        "status": if hub.is_shutting_down() { "stopping" } else { "running" },
        "uptime_seconds": inner.started.elapsed().as_secs(),
        "started_at": inner.started_at,
        "clients": hub.client_count(),
        "events_published": inner.metrics.events.get(),
        "messages_sent": inner.metrics.messages_sent.get(),
        "last_id": hub.head(),
        "tailer_lag": tailer_lag,
        "tasks": inner.supervisor.statuses(),
        "version": env!("CARGO_PKG_VERSION"),
        "node": inner.config.node,
        "websocket_enabled": inner.config.websocket_enabled,
        "cluster": cluster,
    }))
}

/// `{"clients": N}` on this node; with `?all=1` the whole cluster, node by node.
pub(crate) async fn clients(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    if !params
        .get("all")
        .is_some_and(|all| all == "1" || all == "true")
    {
        return Ok(Json(json!({ "clients": hub.client_count() })));
    }
    require_operator(&hub, peer, &headers)?;
    let nodes = cluster_nodes(&hub).await?;
    let total: i64 = nodes.iter().map(|node| node.clients).sum();
    let nodes: Vec<Value> = nodes
        .iter()
        .map(|node| json!({"node": node.node, "clients": node.clients, "started_at": node.started_at}))
        .collect();
    Ok(Json(json!({ "clients": total, "nodes": nodes })))
}

/// The recently seen nodes, with this node's count taken live rather than from its
/// last report.
async fn cluster_nodes(hub: &Hub) -> Result<Vec<NodeRecord>, ApiError> {
    let mut nodes = cluster::nodes(hub).await.map_err(ApiError::unavailable)?;
    let me = &hub.config().node;
    let live = hub.client_count() as i64;
    match nodes.iter_mut().find(|node| &node.node == me) {
        Some(node) => node.clients = live,
        None => nodes.push(NodeRecord {
            node: me.clone(),
            clients: live,
            started_at: hub.inner.started_at.clone(),
            seen_at_ms: 0,
        }),
    }
    Ok(nodes)
}

/// 200 when the node can do its work: the database answers and every background task
/// runs. Otherwise 503, naming what is wrong, so that a load balancer sends clients
/// elsewhere.
pub(crate) async fn healthz(State(hub): State<Hub>) -> Response {
    let database = match hub.log().ping().await {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            "unreachable"
        }
    };
    let tasks_down = hub.supervisor().down();
    let status = if hub.is_shutting_down() {
        "stopping"
    } else if database != "ok" || !tasks_down.is_empty() {
        "unavailable"
    } else {
        "ok"
    };
    let body = Json(json!({"status": status, "database": database, "tasks_down": tasks_down}));
    if status == "ok" {
        body.into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

pub(crate) async fn metrics(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_operator(&hub, peer, &headers)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        )],
        hub.inner.metrics.render(),
    )
        .into_response())
}
