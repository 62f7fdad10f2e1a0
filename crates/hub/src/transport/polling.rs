//! HTTP polling and long polling (`GET /messages?since=ID[&wait=S][&limit=N]`): the same
//! feed as the WebSocket, answered as one JSON document; and `GET /get_tickets`, the
//! WebSocket's `get_tickets` for a page that polls.

use std::{
    collections::HashMap,
    time::{Duration, SystemTime},
};

use axum::{
    Json,
    extract::{Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use serde_json::{Map, Value};

use crate::{
    Hub,
    app::RequestError,
    feed::{Page, RightsWatch},
    http::error::{ApiError, query_param},
    identity::Credentials,
};

/// Longest a long poll may be held (seconds).
const MAX_WAIT: u64 = 30;
const DEFAULT_LIMIT: usize = 100;
const MAX_LIMIT: usize = 1000;

pub(crate) async fn messages(
    State(hub): State<Hub>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let since: Option<i64> = query_param(&params, "since")?;
    if since.is_some_and(|since| since < 0) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "since",
            "must not be negative",
        ));
    }
    let wait = Duration::from_secs(
        query_param::<u64>(&params, "wait")?
            .unwrap_or(0)
            .min(MAX_WAIT),
    );
    let limit = query_param::<usize>(&params, "limit")?.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let inner = &hub.inner;
    let credentials = Credentials::new(&headers, params.get("token").map(String::as_str));
    let watch = RightsWatch {
        identify: inner.identify.as_ref(),
        identified_at: inner.feed.head(),
    };
    let identity = inner.identify.identify(&credentials).await?;
    let viewer = identity.viewer;

    let websocket = inner.config.websocket_enabled;
    // A long poll does not outlive the session or token it was identified with.
    let wait = identity.expires_at.map_or(wait, |end| {
        wait.min(end.duration_since(SystemTime::now()).unwrap_or_default())
    });
    let deadline = tokio::time::Instant::now() + wait;
    let mut head = inner.feed.subscribe();
    let mut since = since.unwrap_or_else(|| inner.feed.head());
    loop {
        let page = inner
            .feed
            .visible_after(&inner.log, &viewer, since, limit, Some(&watch))
            .await
            .map_err(ApiError::unavailable)?;
        if !page.events.is_empty()
            || page.reset
            || page.has_more
            || page.rights_changed
            || wait.is_zero()
        {
            return Ok(respond(&page, websocket));
        }
        since = page.last_id;
        let _waiting = Waiting::new(&hub);
        tokio::select! {
            changed = head.changed() => if changed.is_err() { return Ok(respond(&page, websocket)) },
            () = tokio::time::sleep_until(deadline) => return Ok(respond(&page, websocket)),
            () = inner.shutdown.cancelled() => return Ok(respond(&page, websocket)),
        }
    }
}

/// `GET /get_tickets?…`: the application's answer to `get_tickets` (filters as query
/// parameters), as over WebSocket — the original client's `onSuccess` data
/// (`{tickets, stats, last_updated}`) while it polls.
pub(crate) async fn get_tickets(
    State(hub): State<Hub>,
    Query(mut params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let credentials = Credentials::new(&headers, params.remove("token").as_deref());
    let identity = hub.inner.identify.identify(&credentials).await?;
    // Query values are text; the request's numbers are JSON numbers.
    let message: Map<String, Value> = params
        .into_iter()
        .map(|(name, value)| {
            let value = value
                .parse::<i64>()
                .map_or(Value::String(value), Value::from);
            (name, value)
        })
        .collect();
    let reply = hub
        .inner
        .app
        .request(&identity.viewer, "get_tickets", message)
        .await
        .map_err(|error| match &error {
            RequestError::Unsupported(_) => ApiError::new(StatusCode::NOT_FOUND, error.to_string()),
            RequestError::Invalid { field, message } => {
                ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, message)
            }
            RequestError::Forbidden(_) => ApiError::new(StatusCode::FORBIDDEN, error.to_string()),
            RequestError::Failed => ApiError::unavailable(error),
        })?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(reply)).into_response())
}

/// Counts a long poll while it is held (`ictdesk_long_polls_waiting`).
struct Waiting<'a>(&'a Hub);

impl<'a> Waiting<'a> {
    fn new(hub: &'a Hub) -> Self {
        hub.inner.metrics.waiting_polls.inc();
        Self(hub)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.inner.metrics.waiting_polls.dec();
    }
}

/// `{"messages":[…],"last_id":N,"has_more":b,"websocket":b}`, splicing the
/// events' JSON made once. `websocket` says whether `/ws` is open here, so that a page
/// that had to poll switches to WebSocket by itself once it is. A reader from before
/// the log's horizon gets `"reset":true` first: events it missed were pruned, so it
/// re-fetches what it shows and continues from `last_id`. A page that ends at a change
/// of the viewer's rights has more: the next poll identifies them again.
fn respond(page: &Page, websocket: bool) -> Response {
    let json_length: usize = page
        .events
        .iter()
        .map(|event| event.json.as_str().len() + 1)
        .sum();
    let mut body = String::with_capacity(json_length + 64);
    body.push_str(if page.reset {
        r#"{"reset":true,"messages":["#
    } else {
        r#"{"messages":["#
    });
    for (index, event) in page.events.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(event.json.as_str());
    }
    body.push_str(&format!(
        r#"],"last_id":{},"has_more":{},"websocket":{websocket}}}"#,
        page.last_id,
        page.has_more || page.rights_changed
    ));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response()
}
