//! `POST /broadcast`: another application publishes an event. Needs the bearer token and
//! a loopback or allow-listed source; the event is durable in the log before `202`.

use std::net::{IpAddr, SocketAddr};

use axum::{
    Json,
    body::Bytes,
    extract::{ConnectInfo, State, rejection::BytesRejection},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use serde_json::{json, value::RawValue};

use crate::{
    Hub,
    audience::Audience,
    client_addr::{client_ip, is_operator_address},
    event::{EventType, NewEvent},
    http::error::{ApiError, parse_json},
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BroadcastRequest {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: Option<Box<RawValue>>,
    #[serde(default)]
    audience: Option<Audience>,
}

pub(crate) async fn publish(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let client = client_ip(peer.ip(), &headers, &hub.config().trusted_proxies);
    check_source(&hub, client)?;
    check_token(&hub, &headers)?;
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "body is larger than {} bytes",
                hub.config().max_message_size
            ),
        ),
        status => ApiError::new(status, rejection.body_text()),
    })?;
    let request: BroadcastRequest = parse_json(&body)?;
    let kind = EventType::parse(&request.kind)
        .map_err(|error| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, "type", error))?;
    if hub.inner.app.owns_event_type(kind.as_str()) {
        return Err(ApiError::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            "type",
            format!("'{kind}' is the desk's own event type; only the desk publishes it"),
        ));
    }
    let data = match request.data {
        Some(data) => data,
        None => RawValue::from_string("null".into()).map_err(ApiError::unavailable)?,
    };
    let event = NewEvent {
        kind,
        data,
        audience: request.audience.unwrap_or_default(),
        topic: None,
    };
    let timeout = hub.config().websocket_timeout;
    let id = tokio::time::timeout(timeout, hub.log().append(event))
        .await
        .map_err(|_| {
            // The append may still commit after this answer, so say only what is known.
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the event log did not confirm the event in time; it may or may not be published",
            )
        })?
        .map_err(ApiError::unavailable)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response())
}

fn check_source(hub: &Hub, ip: IpAddr) -> Result<(), ApiError> {
    if is_operator_address(ip, &hub.config().allowed_ips) {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::FORBIDDEN,
        format!("{ip} may not publish: only loopback and ICTDESK_ALLOWED_IPS may"),
    ))
}

fn check_token(hub: &Hub, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &hub.config().broadcast_token else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "publishing is disabled: the server has no ICTDESK_BROADCAST_TOKEN",
        ));
    };
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(token) if expected.matches(token) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong broadcast token",
        )),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing 'Authorization: Bearer <ICTDESK_BROADCAST_TOKEN>' header",
        )),
    }
}
