//! The Pusher HTTP API under `/apps/{app_id}/`: publish (`events`, `batch_events`),
//! channel information, and this server's extension, a channel's history (`events` by
//! GET). Every request is signed with the app's secret (`auth_key`, `auth_timestamp`
//! within 600 s, `auth_version`, `body_md5`, `auth_signature`); answers are JSON, and
//! errors name the problem in our usual shape.

use std::{
    collections::BTreeMap,
    time::{SystemTime, UNIX_EPOCH},
};

use axum::{
    Json,
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Path, Query, Request, State},
    http::{HeaderValue, Method, StatusCode, Uri, header},
    response::{IntoResponse, Response},
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use super::{
    apps::PusherApp,
    channel::{ChannelKind, ChannelName},
    signature::{body_md5, request_string, verify},
    store,
    subscriptions::ChannelKey,
};
use crate::{
    Hub,
    audience::Audience,
    event::{Delivered, EventType, NewEvent, Topic},
    http::error::{ApiError, parse_json},
};

/// Largest request body: ten events of the largest message, with room for the JSON.
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// Channels one publish may name (Pusher's limit).
const MAX_CHANNELS: usize = 100;
/// Events one batch may hold (Pusher's limit).
const MAX_BATCH: usize = 10;
/// How far `auth_timestamp` may be from the server's clock, in seconds.
const TIMESTAMP_WINDOW: i64 = 600;
const HISTORY_LIMIT: u32 = 100;
const MAX_HISTORY_LIMIT: u32 = 1000;

/// A request of the HTTP API whose signature checked out: the app it is for, its query,
/// the channel its path names (if any) and its body. Every handler starts from it.
pub(crate) struct Signed {
    app: PusherApp,
    params: Vec<(String, String)>,
    channel: Option<String>,
    body: Bytes,
}

/// The path's parameters: `/apps/{app_id}[/channels/{channel}…]`.
#[derive(Deserialize)]
struct AppPath {
    app_id: String,
    #[serde(default)]
    channel: Option<String>,
}

impl FromRequest<Hub> for Signed {
    type Rejection = ApiError;

    async fn from_request(request: Request, hub: &Hub) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let Path(path) = Path::<AppPath>::from_request_parts(&mut parts, hub)
            .await
            .map_err(|rejection| ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
        let Query(params) = Query::<Vec<(String, String)>>::from_request_parts(&mut parts, hub)
            .await
            .map_err(|rejection| ApiError::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
        let (method, uri) = (parts.method.clone(), parts.uri.clone());
        let body = Bytes::from_request(Request::from_parts(parts, body), hub)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        let app = authenticate(hub, &path.app_id, &method, &uri, &params, &body)?.clone();
        Ok(Self {
            app,
            params,
            channel: path.channel,
            body,
        })
    }
}

impl Signed {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The channel the path names.
    fn channel(&self) -> Result<ChannelName, ApiError> {
        parse_channel("channel", self.channel.as_deref().unwrap_or_default())
    }
}

/// Checks the request's signature; returns the app it is for.
fn authenticate<'a>(
    hub: &'a Hub,
    app_id: &str,
    method: &Method,
    uri: &Uri,
    params: &[(String, String)],
    body: &[u8],
) -> Result<&'a PusherApp, ApiError> {
    let app =
        hub.inner.pusher.apps.by_id(app_id).ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, format!("no Pusher app '{app_id}'"))
        })?;
    let param = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let unauthorized =
        |field: &str, problem: &str| ApiError::field(StatusCode::UNAUTHORIZED, field, problem);
    match param("auth_key") {
        Some(key) if key == app.key => {}
        Some(_) => return Err(unauthorized("auth_key", "is not this app's key")),
        None => return Err(unauthorized("auth_key", "is required")),
    }
    let timestamp: i64 = param("auth_timestamp")
        .ok_or_else(|| unauthorized("auth_timestamp", "is required"))?
        .parse()
        .map_err(|_| unauthorized("auth_timestamp", "must be seconds since 1970"))?;
    if (now() - timestamp).abs() > TIMESTAMP_WINDOW {
        return Err(unauthorized(
            "auth_timestamp",
            "is more than 600 seconds from the server's time; check the clock",
        ));
    }
    if param("auth_version").is_some_and(|version| version != "1.0") {
        return Err(unauthorized("auth_version", "must be 1.0"));
    }
    if !body.is_empty() {
        match param("body_md5") {
            Some(md5) if md5.eq_ignore_ascii_case(&body_md5(body)) => {}
            Some(_) => return Err(unauthorized("body_md5", "does not match the body")),
            None => return Err(unauthorized("body_md5", "is required with a body")),
        }
    }
    let signature =
        param("auth_signature").ok_or_else(|| unauthorized("auth_signature", "is required"))?;
    let signed = request_string(method.as_str(), uri.path(), params);
    if !verify(app, &signed, signature) {
        return Err(unauthorized(
            "auth_signature",
            "does not match: sign METHOD\\nPATH\\nsorted query with the app's secret",
        ));
    }
    Ok(app)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or_default()
}

/// `POST /apps/{app_id}/events`.
#[derive(Deserialize)]
struct Publish {
    name: String,
    data: Box<RawValue>,
    #[serde(default)]
    channels: Option<Vec<String>>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    socket_id: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

/// One event of `POST /apps/{app_id}/batch_events`.
#[derive(Deserialize)]
struct BatchEvent {
    name: String,
    data: Box<RawValue>,
    channel: String,
    #[serde(default)]
    socket_id: Option<String>,
    #[serde(default)]
    info: Option<String>,
}

#[derive(Deserialize)]
struct Batch {
    batch: Vec<BatchEvent>,
}

pub(crate) async fn events(State(hub): State<Hub>, signed: Signed) -> Result<Response, ApiError> {
    let app = &signed.app;
    let publish: Publish = parse_json(&signed.body)?;
    let names = match (publish.channels, publish.channel) {
        (Some(channels), None) => channels,
        (None, Some(channel)) => vec![channel],
        _ => {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "channels",
                "give either channels (a list) or channel",
            ));
        }
    };
    if names.is_empty() || names.len() > MAX_CHANNELS {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "channels",
            format!("must list 1 to {MAX_CHANNELS} channels"),
        ));
    }
    let channels = names
        .iter()
        .map(|name| parse_channel("channels", name))
        .collect::<Result<Vec<_>, _>>()?;
    let event = Outgoing::parse(&hub, &publish.name, &publish.data, publish.socket_id)?;
    let events: Vec<NewEvent> = channels
        .iter()
        .map(|channel| event.on(app, channel))
        .collect();
    append(&hub, &events).await?;
    let info = info_fields(publish.info.as_deref());
    if info.is_empty() {
        return Ok(Json(serde_json::json!({})).into_response());
    }
    let channels: BTreeMap<&str, ChannelInfo> = channels
        .iter()
        .map(|channel| (channel.as_str(), channel_info(&hub, app, channel, &info)))
        .collect();
    Ok(Json(serde_json::json!({ "channels": channels })).into_response())
}

pub(crate) async fn batch_events(
    State(hub): State<Hub>,
    signed: Signed,
) -> Result<Response, ApiError> {
    let app = &signed.app;
    let Batch { batch } = parse_json(&signed.body)?;
    if batch.is_empty() || batch.len() > MAX_BATCH {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "batch",
            format!("must hold 1 to {MAX_BATCH} events"),
        ));
    }
    let mut events = Vec::with_capacity(batch.len());
    let mut infos = Vec::with_capacity(batch.len());
    for (index, item) in batch.into_iter().enumerate() {
        let field = format!("batch[{index}].channel");
        let channel = parse_channel(&field, &item.channel)?;
        let event = Outgoing::parse(&hub, &item.name, &item.data, item.socket_id)?;
        events.push(event.on(app, &channel));
        infos.push((channel, info_fields(item.info.as_deref())));
    }
    append(&hub, &events).await?;
    if infos.iter().all(|(_, info)| info.is_empty()) {
        return Ok(Json(serde_json::json!({})).into_response());
    }
    let batch: Vec<ChannelInfo> = infos
        .iter()
        .map(|(channel, info)| channel_info(&hub, app, channel, info))
        .collect();
    Ok(Json(serde_json::json!({ "batch": batch })).into_response())
}

/// A published event, checked, before it is put on its channels.
struct Outgoing {
    kind: EventType,
    data: Box<RawValue>,
    socket_id: Option<String>,
}

impl Outgoing {
    fn parse(
        hub: &Hub,
        name: &str,
        data: &RawValue,
        socket_id: Option<String>,
    ) -> Result<Self, ApiError> {
        let kind = EventType::pusher(name)
            .map_err(|error| ApiError::field(StatusCode::BAD_REQUEST, "name", error))?;
        if name.starts_with("pusher:") || name.starts_with("pusher_internal:") {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "name",
                "names starting with pusher: are the protocol's",
            ));
        }
        if serde_json::from_str::<&str>(data.get()).is_err()
            && serde_json::from_str::<String>(data.get()).is_err()
        {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "data",
                "must be a string (the SDKs encode objects as JSON text)",
            ));
        }
        let limit = hub.config().max_message_size;
        if data.get().len() > limit {
            return Err(ApiError::field(
                StatusCode::PAYLOAD_TOO_LARGE,
                "data",
                format!("is larger than {limit} bytes"),
            ));
        }
        if let Some(socket_id) = &socket_id
            && !is_socket_id(socket_id)
        {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "socket_id",
                "must look like 1234.5678",
            ));
        }
        Ok(Self {
            kind,
            data: data.to_owned(),
            socket_id,
        })
    }

    fn on(&self, app: &PusherApp, channel: &ChannelName) -> NewEvent {
        NewEvent {
            kind: self.kind.clone(),
            data: self.data.clone(),
            audience: Audience::everyone(),
            topic: Some(Topic {
                app: app.id.clone(),
                channel: channel.as_str().to_owned(),
                except_socket: self.socket_id.clone(),
                user_id: None,
            }),
        }
    }
}

fn is_socket_id(text: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    text.split_once('.')
        .is_some_and(|(node, connection)| digits(node) && digits(connection))
}

fn parse_channel(field: &str, name: &str) -> Result<ChannelName, ApiError> {
    ChannelName::parse(name).map_err(|error| ApiError::field(StatusCode::BAD_REQUEST, field, error))
}

/// Appends all of them in one transaction: durable before the answer.
async fn append(hub: &Hub, events: &[NewEvent]) -> Result<(), ApiError> {
    let timeout = hub.config().websocket_timeout;
    tokio::time::timeout(timeout, store::append_all(hub.log(), events))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the event log did not answer in time; not published",
            )
        })?
        .map_err(ApiError::unavailable)?;
    Ok(())
}

/// The `info` attributes asked for (`subscription_count`, `user_count`).
fn info_fields(info: Option<&str>) -> Vec<String> {
    info.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|field| !field.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Serialize, Default)]
struct ChannelInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    occupied: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subscription_count: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_count: Option<usize>,
}

fn channel_info(hub: &Hub, app: &PusherApp, channel: &ChannelName, info: &[String]) -> ChannelInfo {
    let pusher = &hub.inner.pusher;
    let key: ChannelKey = (app.id.clone(), channel.clone());
    let wants = |field: &str| info.iter().any(|asked| asked == field);
    ChannelInfo {
        occupied: None,
        subscription_count: wants("subscription_count").then(|| pusher.subscriptions.count(&key)),
        user_count: (wants("user_count") && channel.kind() == ChannelKind::Presence)
            .then(|| pusher.members.user_ids(&key).len()),
    }
}

/// `GET /apps/{app_id}/channels[?filter_by_prefix=…&info=user_count]`.
pub(crate) async fn channels(State(hub): State<Hub>, signed: Signed) -> Result<Response, ApiError> {
    let app = &signed.app;
    let prefix = signed.param("filter_by_prefix").unwrap_or_default();
    let info = info_fields(signed.param("info"));
    if info.iter().any(|field| field == "user_count") && !prefix.starts_with("presence-") {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "info",
            "user_count needs filter_by_prefix=presence-",
        ));
    }
    let pusher = &hub.inner.pusher;
    let mut occupied: BTreeMap<String, ChannelInfo> = BTreeMap::new();
    let local = pusher.subscriptions.occupied(&app.id).into_iter();
    let presence = pusher.members.occupied(&app.id).into_iter();
    for (channel, _) in local.chain(presence) {
        if channel.as_str().starts_with(prefix) {
            let details = channel_info(&hub, app, &channel, &info);
            occupied.insert(channel.to_string(), details);
        }
    }
    Ok(Json(serde_json::json!({ "channels": occupied })).into_response())
}

/// `GET /apps/{app_id}/channels/{channel}[?info=subscription_count,user_count]`.
pub(crate) async fn channel(State(hub): State<Hub>, signed: Signed) -> Result<Response, ApiError> {
    let app = &signed.app;
    let channel = signed.channel()?;
    let info = info_fields(signed.param("info"));
    if info.iter().any(|field| field == "user_count") && channel.kind() != ChannelKind::Presence {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "info",
            "user_count is for presence- channels",
        ));
    }
    let pusher = &hub.inner.pusher;
    let key: ChannelKey = (app.id.clone(), channel.clone());
    let mut details = channel_info(&hub, app, &channel, &info);
    details.occupied =
        Some(pusher.subscriptions.count(&key) > 0 || !pusher.members.user_ids(&key).is_empty());
    Ok(Json(details).into_response())
}

/// `GET /apps/{app_id}/channels/{channel}/users`: a presence channel's members.
pub(crate) async fn users(State(hub): State<Hub>, signed: Signed) -> Result<Response, ApiError> {
    let channel = signed.channel()?;
    if channel.kind() != ChannelKind::Presence {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "channel",
            "users are listed for presence- channels only",
        ));
    }
    let key: ChannelKey = (signed.app.id.clone(), channel);
    let users: Vec<_> = hub
        .inner
        .pusher
        .members
        .user_ids(&key)
        .into_iter()
        .map(|id| serde_json::json!({ "id": id }))
        .collect();
    Ok(Json(serde_json::json!({ "users": users })).into_response())
}

/// `GET /apps/{app_id}/channels/{channel}/events?since=ID&limit=N` (this server's
/// extension): the channel's events after `since`, oldest first, as subscribers got
/// them (with `id`), and `last_id` to continue from.
pub(crate) async fn history(State(hub): State<Hub>, signed: Signed) -> Result<Response, ApiError> {
    let channel = signed.channel()?;
    let number = |field: &str| -> Result<Option<i64>, ApiError> {
        signed
            .param(field)
            .map(|text| {
                text.parse::<i64>()
                    .ok()
                    .filter(|value| *value >= 0)
                    .ok_or_else(|| {
                        ApiError::field(
                            StatusCode::BAD_REQUEST,
                            field,
                            "must be a whole number ≥ 0",
                        )
                    })
            })
            .transpose()
    };
    let since = number("since")?.unwrap_or(0);
    let limit = match number("limit")? {
        None => HISTORY_LIMIT,
        Some(limit) if (1..=i64::from(MAX_HISTORY_LIMIT)).contains(&limit) => limit as u32,
        Some(_) => {
            return Err(ApiError::field(
                StatusCode::BAD_REQUEST,
                "limit",
                format!("must be between 1 and {MAX_HISTORY_LIMIT}"),
            ));
        }
    };
    let key: ChannelKey = (signed.app.id.clone(), channel);
    let head = hub.head();
    let rows = store::channel_events(hub.log(), &key, since, head, limit + 1)
        .await
        .map_err(ApiError::unavailable)?;
    let has_more = rows.len() > limit as usize;
    let mut body = String::from(r#"{"events":["#);
    // Without more, the scan reached the head: the next read starts there.
    let mut last_id = if has_more { since } else { head.max(since) };
    for (index, row) in rows.into_iter().take(limit as usize).enumerate() {
        if has_more {
            last_id = row.id;
        }
        if let Ok(event) = Delivered::from_stored(row) {
            if index > 0 {
                body.push(',');
            }
            body.push_str(&event.json);
        }
    }
    body.push_str(&format!(r#"],"last_id":{last_id},"has_more":{has_more}}}"#));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_ids_are_two_numbers() {
        assert!(is_socket_id("123.456"));
        assert!(!is_socket_id("123."));
        assert!(!is_socket_id("a.1"));
        assert!(!is_socket_id("1.2.3"));
    }

    #[test]
    fn info_lists_fields() {
        assert_eq!(
            info_fields(Some("user_count, subscription_count")),
            ["user_count", "subscription_count"]
        );
        assert!(info_fields(None).is_empty());
    }
}
