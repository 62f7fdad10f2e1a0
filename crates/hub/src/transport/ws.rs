//! WebSocket transport (`GET /ws`). One task per connection: it drains the connection's
//! bounded queue, reads client messages, and pings; the fan-out never waits for it.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    time::{Duration, Instant},
};

use axum::{
    extract::{
        ConnectInfo, Query, State,
        ws::{
            CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade,
            rejection::WebSocketUpgradeRejection,
        },
    },
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use futures_util::SinkExt;
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::{
    Hub,
    audience::Viewer,
    client_addr::client_ip,
    http::error::{ApiError, query_param},
    identity::Credentials,
    presence::Activity,
    protocol::{BadMessage, ClientMessage, ServerMessage},
    registry::{CloseReason, ConnectionId, Outgoing},
};

/// Bytes reserved for reading client frames; they are small, and every idle
/// connection pays for this buffer.
const READ_BUFFER: usize = 1024;
/// Outgoing frames are gathered up to this size before a write.
const WRITE_BUFFER: usize = 4 * 1024;
/// Frames written per flush at most, so that one busy connection yields to others and
/// its write buffer (kept at its largest size) stays small.
const WRITE_BATCH: usize = 16;
/// Events per page when replaying from the log.
const REPLAY_PAGE: usize = 256;
/// How long a closing handshake may take on a connection that does not read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) async fn upgrade(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if !hub.config().websocket_enabled {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "WebSocket is disabled on this server (WEBSOCKET_ENABLED=false); poll GET /messages instead",
        ));
    }
    let upgrade =
        upgrade.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
    let since: Option<i64> = query_param(&params, "since")?;
    if since.is_some_and(|since| since < 0) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "since",
            "must not be negative",
        ));
    }
    let credentials = Credentials {
        headers: &headers,
        token: params.get("token").map(String::as_str),
    };
    let viewer = hub.inner.identify.identify(&credentials).await?;
    // Behind a proxy every peer is the proxy: count per client, not per proxy.
    let client = client_ip(peer.ip(), &headers, &hub.config().trusted_proxies);
    let slot = IpSlot::reserve(&hub, client).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many WebSocket connections from {client}"),
        )
    })?;
    let limit = hub.config().max_message_size;
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(limit)
        .max_frame_size(limit)
        .on_upgrade(move |socket| connection(hub, socket, viewer, since, slot))
        .into_response())
}

/// One WebSocket connection per address slot; released when the connection ends (or
/// when the upgrade never completes).
struct IpSlot {
    hub: Hub,
    ip: IpAddr,
}

impl IpSlot {
    fn reserve(hub: &Hub, ip: IpAddr) -> Option<Self> {
        hub.inner.registry.reserve_ip(ip).then(|| Self {
            hub: hub.clone(),
            ip,
        })
    }
}

impl Drop for IpSlot {
    fn drop(&mut self) {
        self.hub.inner.registry.release_ip(self.ip);
    }
}

/// Unregisters the connection however its task ends.
struct Registered {
    hub: Hub,
    id: ConnectionId,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let inner = &self.hub.inner;
        inner.registry.unregister(self.id);
        inner.metrics.connections.dec();
        for announcement in inner.presence.disconnect(self.id) {
            self.hub.announce_presence(announcement);
        }
        tracing::info!(
            connection = self.id,
            "Connection {} has disconnected",
            self.id
        );
    }
}

async fn connection(
    hub: Hub,
    mut socket: WebSocket,
    viewer: Viewer,
    since: Option<i64>,
    slot: IpSlot,
) {
    let inner = &hub.inner;
    let registration = inner
        .registry
        .register(viewer.clone(), || inner.feed.head());
    let id = registration.id;
    let _registered = Registered {
        hub: hub.clone(),
        id,
    };
    let _slot = slot;
    inner.metrics.connections.inc();
    tracing::info!(connection = id, "New connection! ({id})");

    let welcome = ServerMessage::Welcome {
        connection_id: id,
        last_id: registration.joined_at,
        heartbeat: inner.config.heartbeat.as_secs(),
    };
    if socket
        .send(Message::Text(welcome.to_json().into()))
        .await
        .is_err()
    {
        return;
    }
    inner.metrics.messages_sent.inc();
    let mut session = Session {
        hub: hub.clone(),
        id,
        viewer,
        cursor: registration.joined_at,
        invalid_messages: 0,
        allowance: Allowance::new(inner.config.client_messages_per_second),
        last_seen: Instant::now(),
    };
    let reason = session
        .run(&mut socket, registration.queue, registration.control, since)
        .await;
    if let Some(reason) = reason {
        close(&mut socket, reason).await;
    }
}

/// Sends a close frame, without waiting long for a client that does not read.
async fn close(socket: &mut WebSocket, reason: CloseReason) {
    let frame = CloseFrame {
        code: reason.code,
        reason: Utf8Bytes::from_static(reason.reason),
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

struct Session {
    hub: Hub,
    id: ConnectionId,
    viewer: Viewer,
    /// The last event id this connection has delivered (or skipped as already known).
    cursor: i64,
    invalid_messages: u32,
    allowance: Allowance,
    last_seen: Instant,
}

/// What the connection does next.
enum Step {
    Deliver(Outgoing),
    Inbound(Option<Result<Message, axum::Error>>),
    Heartbeat,
    Close(CloseReason),
}

type Ended = Option<CloseReason>;

impl Session {
    /// Runs until the connection ends; returns how to close it, if the server closes.
    async fn run(
        &mut self,
        socket: &mut WebSocket,
        mut queue: mpsc::Receiver<Outgoing>,
        control: std::sync::Arc<crate::registry::Control>,
        since: Option<i64>,
    ) -> Ended {
        let heartbeat = self.hub.inner.config.heartbeat;
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        if let Some(since) = since
            && let Err(ended) = self.replay(socket, since).await
        {
            return ended;
        }
        loop {
            let step = tokio::select! {
                biased;
                reason = control.closed() => Step::Close(reason),
                item = queue.recv() => match item {
                    Some(item) => Step::Deliver(item),
                    None => Step::Close(CloseReason::GOING_AWAY),
                },
                message = socket.recv() => Step::Inbound(message),
                _ = ticker.tick() => Step::Heartbeat,
            };
            let outcome = match step {
                Step::Close(reason) => Err(Some(reason)),
                Step::Deliver(first) => tokio::select! {
                    biased;
                    reason = control.closed() => Err(Some(reason)),
                    written = self.deliver(socket, first, &mut queue) => written,
                },
                Step::Inbound(message) => self.inbound(socket, message).await,
                Step::Heartbeat => self.heartbeat(socket).await,
            };
            if let Err(ended) = outcome {
                return ended;
            }
        }
    }

    /// Writes `first` and whatever else is already queued, then flushes once.
    async fn deliver(
        &mut self,
        socket: &mut WebSocket,
        first: Outgoing,
        queue: &mut mpsc::Receiver<Outgoing>,
    ) -> Result<(), Ended> {
        let mut written = 0u64;
        let mut next = Some(first);
        while let Some(item) = next {
            if let Some(frame) = self.frame_for(item) {
                socket.feed(Message::Text(frame)).await.map_err(|_| None)?;
                written += 1;
            }
            next = if written < WRITE_BATCH as u64 {
                queue.try_recv().ok()
            } else {
                None
            };
        }
        socket.flush().await.map_err(|_| None)?;
        self.hub.inner.metrics.messages_sent.inc_by(written);
        Ok(())
    }

    /// The frame to write, or `None` for an event this connection has already delivered.
    fn frame_for(&mut self, item: Outgoing) -> Option<Utf8Bytes> {
        match item {
            Outgoing::Event(event) if event.id > self.cursor => {
                self.cursor = event.id;
                Some(event.frame.clone())
            }
            Outgoing::Event(_) => None,
            Outgoing::Ephemeral(frame) => Some(Utf8Bytes::clone(&frame)),
        }
    }

    /// Sends every visible event after `since` from the feed (memory or log), in order.
    /// Live events queued meanwhile are skipped by id when their turn comes.
    async fn replay(&mut self, socket: &mut WebSocket, since: i64) -> Result<(), Ended> {
        self.cursor = since;
        let inner = &self.hub.inner;
        loop {
            let page = inner
                .feed
                .visible_after(&inner.log, &self.viewer, self.cursor, REPLAY_PAGE)
                .await
                .map_err(|error| {
                    tracing::warn!(connection = self.id, %error, "replay failed");
                    Some(CloseReason::TRY_AGAIN)
                })?;
            for event in &page.events {
                socket
                    .feed(Message::Text(event.frame.clone()))
                    .await
                    .map_err(|_| None)?;
            }
            socket.flush().await.map_err(|_| None)?;
            inner.metrics.messages_sent.inc_by(page.events.len() as u64);
            self.cursor = self.cursor.max(page.last_id);
            if !page.has_more {
                return Ok(());
            }
        }
    }

    async fn inbound(
        &mut self,
        socket: &mut WebSocket,
        message: Option<Result<Message, axum::Error>>,
    ) -> Result<(), Ended> {
        self.last_seen = Instant::now();
        match message {
            None | Some(Ok(Message::Close(_))) => Err(None),
            Some(Err(error)) => Err(protocol_error(self.id, error)),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(()),
            Some(Ok(Message::Binary(_))) => self.refuse(socket, &BadMessage::Binary).await,
            Some(Ok(Message::Text(text))) => {
                if !self.allowance.take() {
                    return self
                        .reply_error(socket, "rate_limited", "too many messages; slow down")
                        .await;
                }
                match ClientMessage::parse(text.as_str()) {
                    Ok(message) => self.handle(socket, message, text.as_str()).await,
                    Err(bad) => self.refuse(socket, &bad).await,
                }
            }
        }
    }

    async fn handle(
        &mut self,
        socket: &mut WebSocket,
        message: ClientMessage,
        text: &str,
    ) -> Result<(), Ended> {
        match message {
            ClientMessage::Ping => self.send(socket, ServerMessage::Pong.to_json()).await,
            ClientMessage::Resume { since } => self.replay(socket, since).await,
            ClientMessage::View { ticket_id } => {
                self.present(socket, ticket_id, Some(Activity::Viewing), text)
                    .await
            }
            ClientMessage::Editing { ticket_id } => {
                self.present(socket, ticket_id, Some(Activity::Editing), text)
                    .await
            }
            ClientMessage::Leave { ticket_id } => self.present(socket, ticket_id, None, text).await,
            ClientMessage::Application { kind, message } => {
                self.application(socket, &kind, message).await
            }
        }
    }

    async fn present(
        &mut self,
        socket: &mut WebSocket,
        ticket_id: i64,
        activity: Option<Activity>,
        text: &str,
    ) -> Result<(), Ended> {
        let inner = &self.hub.inner;
        let announcement = match activity {
            None => inner.presence.leave(self.id, ticket_id),
            Some(activity) => {
                if !inner.app.may_see_ticket(&self.viewer, ticket_id).await {
                    return self
                        .reply_error(socket, "forbidden", "you may not be present on this ticket")
                        .await;
                }
                match inner
                    .presence
                    .announce(self.id, &self.viewer, ticket_id, activity)
                {
                    Some(announcement) => Some(announcement),
                    None => {
                        return self
                            .reply_error(
                                socket,
                                "forbidden",
                                "sign in to be present, on at most 16 tickets",
                            )
                            .await;
                    }
                }
            }
        };
        if let Some(announcement) = announcement {
            let others = announcement.recipients.len().saturating_sub(1);
            let shown: String = text.chars().take(200).collect();
            tracing::info!(
                connection = self.id,
                "Connection {} sending message \"{shown}\" to {others} other connections",
                self.id
            );
            self.hub.announce_presence(announcement);
        }
        Ok(())
    }

    async fn application(
        &mut self,
        socket: &mut WebSocket,
        kind: &str,
        message: Map<String, Value>,
    ) -> Result<(), Ended> {
        match self
            .hub
            .inner
            .app
            .request(&self.viewer, kind, message)
            .await
        {
            Ok(reply) => self.send(socket, reply.to_string()).await,
            Err(error) => {
                self.reply_error(socket, error.code(), &error.to_string())
                    .await
            }
        }
    }

    /// Answers a bad message; repeated ones close the connection (1008).
    async fn refuse(&mut self, socket: &mut WebSocket, bad: &BadMessage) -> Result<(), Ended> {
        self.reply_error(socket, bad.code(), &bad.to_string()).await
    }

    async fn reply_error(
        &mut self,
        socket: &mut WebSocket,
        code: &str,
        message: &str,
    ) -> Result<(), Ended> {
        self.invalid_messages += 1;
        if self.invalid_messages >= self.hub.inner.config.max_invalid_messages {
            return Err(Some(CloseReason::ABUSE));
        }
        self.send(socket, ServerMessage::Error { code, message }.to_json())
            .await
    }

    async fn send(&mut self, socket: &mut WebSocket, frame: String) -> Result<(), Ended> {
        socket
            .send(Message::Text(frame.into()))
            .await
            .map_err(|_| None)?;
        self.hub.inner.metrics.messages_sent.inc();
        Ok(())
    }

    async fn heartbeat(&mut self, socket: &mut WebSocket) -> Result<(), Ended> {
        if self.last_seen.elapsed() > self.hub.inner.config.heartbeat * 2 {
            tracing::info!(
                connection = self.id,
                "Connection {} silent too long; dropping it",
                self.id
            );
            return Err(Some(CloseReason::SILENT));
        }
        socket
            .send(Message::Ping(Default::default()))
            .await
            .map_err(|_| None)
    }
}

/// Maps a read error to the close the RFC asks for.
fn protocol_error(id: ConnectionId, error: axum::Error) -> Ended {
    let inner = error.into_inner();
    let reason = match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Utf8(_)) => CloseReason::INVALID_UTF8,
        Some(tungstenite::Error::Capacity(_)) => CloseReason::TOO_BIG,
        Some(tungstenite::Error::Protocol(_)) => CloseReason::PROTOCOL,
        _ => return None,
    };
    tracing::info!(connection = id, error = %inner, "closing connection {id}: {}", reason.reason);
    Some(reason)
}

/// A token bucket: `rate` messages a second, bursts of twice that.
struct Allowance {
    rate: f32,
    tokens: f32,
    refilled: Instant,
}

impl Allowance {
    fn new(per_second: u32) -> Self {
        let rate = per_second.max(1) as f32;
        Self {
            rate,
            tokens: rate * 2.0,
            refilled: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let earned = now.duration_since(self.refilled).as_secs_f32() * self.rate;
        self.tokens = (self.tokens + earned).min(self.rate * 2.0);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
