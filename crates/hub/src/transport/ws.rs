//! WebSocket transport (`GET /ws`). Events reach the socket through the connection's
//! [`Outlet`], written by the fan-out itself; each connection's task reads client
//! messages, pings, and writes out whatever the socket could not take at once.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    extract::{ConnectInfo, Query, Request, State},
    http::StatusCode,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio_tungstenite::WebSocketStream;
use tungstenite::{
    Message, Utf8Bytes,
    error::ProtocolError,
    handshake::server::create_response_with_body,
    protocol::{CloseFrame, Role, WebSocketConfig, frame::coding::CloseCode},
};

use crate::{
    Hub,
    audience::Viewer,
    client_addr::client_ip,
    http::error::{ApiError, query_param},
    identity::Credentials,
    outlet::{Outlet, text_frame},
    presence::Activity,
    protocol::{BadMessage, ClientMessage, ServerMessage},
    registry::{CloseReason, ConnectionId},
    transport::wire::Wire,
};

type Socket = WebSocketStream<Wire>;

/// Bytes reserved for reading client frames; they are small, and every idle
/// connection pays for this buffer.
pub(crate) const READ_BUFFER: usize = 1024;
/// Events per page when replaying from the log.
const REPLAY_PAGE: usize = 256;
/// How long the last frames (the close frame) may take on a connection that does not
/// read.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

pub(crate) async fn upgrade(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(params): Query<HashMap<String, String>>,
    request: Request,
) -> Result<Response, ApiError> {
    if !hub.config().websocket_enabled {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "WebSocket is disabled on this server (WEBSOCKET_ENABLED=false); poll GET /messages instead",
        ));
    }
    let response = handshake(&request)?;
    let since: Option<i64> = query_param(&params, "since")?;
    if since.is_some_and(|since| since < 0) {
        return Err(ApiError::field(
            StatusCode::BAD_REQUEST,
            "since",
            "must not be negative",
        ));
    }
    let credentials = Credentials {
        headers: request.headers(),
        token: params.get("token").map(String::as_str),
    };
    let viewer = hub.inner.identify.identify(&credentials).await?;
    // Behind a proxy every peer is the proxy: count per client, not per proxy.
    let client = client_ip(peer.ip(), request.headers(), &hub.config().trusted_proxies);
    let slot = IpSlot::reserve(&hub, client).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many WebSocket connections from {client}"),
        )
    })?;
    let limit = hub.config().max_message_size;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    let upgraded = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match upgraded.await {
            Ok(upgraded) => connection(hub, upgraded, config, viewer, since, slot).await,
            Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
        }
    });
    Ok(response)
}

/// Checks the WebSocket handshake and answers it (101 Switching Protocols).
pub(crate) fn handshake(request: &Request) -> Result<Response, ApiError> {
    if request.extensions().get::<OnUpgrade>().is_none() {
        return Err(ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            "this connection cannot be upgraded to a WebSocket",
        ));
    }
    create_response_with_body(request, Body::empty).map_err(|error| {
        let status = match error {
            tungstenite::Error::Protocol(ProtocolError::WrongHttpMethod) => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, format!("not a WebSocket handshake: {error}"))
    })
}

/// One WebSocket connection per address slot; released when the connection ends (or
/// when the upgrade never completes).
pub(crate) struct IpSlot {
    hub: Hub,
    ip: IpAddr,
}

impl IpSlot {
    pub(crate) fn reserve(hub: &Hub, ip: IpAddr) -> Option<Self> {
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
    upgraded: Upgraded,
    config: WebSocketConfig,
    viewer: Viewer,
    since: Option<i64>,
    slot: IpSlot,
) {
    let inner = &hub.inner;
    let (source, sink) = tokio::io::split(TokioIo::new(upgraded));
    let heartbeat = inner.config.heartbeat.as_secs();
    let outlet = inner.registry.register(
        viewer.clone(),
        Box::pin(sink),
        since.is_some(),
        || inner.feed.head(),
        |connection_id, last_id| {
            let welcome = ServerMessage::Welcome {
                connection_id,
                last_id,
                heartbeat,
            };
            text_frame(&welcome.to_json())
        },
    );
    let id = outlet.id;
    let _registered = Registered {
        hub: hub.clone(),
        id,
    };
    let _slot = slot;
    inner.metrics.connections.inc();
    inner.metrics.messages_sent.inc();
    tracing::info!(connection = id, "New connection! ({id})");

    let wire = Wire::new(Box::pin(source), outlet.clone());
    let mut socket = WebSocketStream::from_raw_socket(wire, Role::Server, Some(config)).await;
    let mut session = Session {
        hub: hub.clone(),
        outlet,
        viewer,
        invalid_messages: 0,
        allowance: Allowance::new(inner.config.client_messages_per_second),
        last_seen: Instant::now(),
    };
    let ended = session.run(&mut socket, since).await;
    session.close(&mut socket, ended).await;
}

struct Session {
    hub: Hub,
    outlet: Arc<Outlet>,
    viewer: Viewer,
    invalid_messages: u32,
    allowance: Allowance,
    last_seen: Instant,
}

/// What the connection does next.
enum Step {
    /// Frames wait for the socket.
    Drain,
    Inbound(Option<Result<Message, tungstenite::Error>>),
    Heartbeat,
    Close(CloseReason),
}

pub(crate) type Ended = Option<CloseReason>;

impl Session {
    /// Runs until the connection ends; returns how to close it, if the server closes.
    async fn run(&mut self, socket: &mut Socket, since: Option<i64>) -> Ended {
        let heartbeat = self.hub.inner.config.heartbeat;
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        if let Some(since) = since
            && let Err(ended) = self.replay(since).await
        {
            return ended;
        }
        loop {
            let step = tokio::select! {
                biased;
                reason = self.outlet.control.closed() => Step::Close(reason),
                () = self.outlet.backlog() => Step::Drain,
                message = socket.next() => Step::Inbound(message),
                _ = ticker.tick() => Step::Heartbeat,
            };
            let outcome = match step {
                Step::Close(reason) => Err(Some(reason)),
                Step::Drain => self.drain().await,
                Step::Inbound(message) => self.inbound(socket, message).await,
                Step::Heartbeat => self.heartbeat(socket).await,
            };
            if let Err(ended) = outcome {
                return ended;
            }
        }
    }

    /// Writes out what the socket did not take at once, unless told to close first.
    async fn drain(&self) -> Result<(), Ended> {
        let outlet = &self.outlet;
        tokio::select! {
            biased;
            reason = outlet.control.closed() => Err(Some(reason)),
            drained = outlet.drain() => drained.map_err(|_| None),
        }
    }

    /// Sends every visible event after `since` from the feed (memory or log), in order,
    /// a page at a time; live events wait in the outlet meanwhile.
    async fn replay(&mut self, since: i64) -> Result<(), Ended> {
        self.outlet.hold();
        let mut cursor = since;
        let inner = &self.hub.inner;
        loop {
            let page = inner
                .feed
                .visible_after(&inner.log, &self.viewer, cursor, REPLAY_PAGE)
                .await
                .map_err(|error| {
                    tracing::warn!(connection = self.outlet.id, %error, "replay failed");
                    Some(CloseReason::TRY_AGAIN)
                })?;
            if page.reset {
                return self.reset(page.last_id);
            }
            self.outlet.push_replayed(&page.events);
            inner.metrics.messages_sent.inc_by(page.events.len() as u64);
            cursor = cursor.max(page.last_id);
            if !page.has_more {
                self.outlet.release(cursor);
                return Ok(());
            }
            self.drain().await?;
        }
    }

    /// Tells the client that the events it asked for were pruned, and continues live
    /// from `head` (the held live events after it follow).
    fn reset(&self, head: i64) -> Result<(), Ended> {
        let reset = ServerMessage::Reset { last_id: head }.to_json();
        self.outlet.push(text_frame(&reset)).map_err(|_| None)?;
        self.hub.inner.metrics.messages_sent.inc();
        self.outlet.release(head);
        Ok(())
    }

    /// Says goodbye: the close frame when the server closes, then whatever still waits
    /// (also the answer to a client's close), for a short while at most.
    async fn close(&self, socket: &mut Socket, ended: Ended) {
        if let Some(reason) = ended.or_else(|| self.outlet.control.reason()) {
            if reason == CloseReason::SLOW_CONSUMER {
                self.outlet.discard();
            }
            let frame = CloseFrame {
                code: CloseCode::from(reason.code),
                reason: Utf8Bytes::from_static(reason.reason),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
        }
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, self.outlet.drain()).await;
    }

    async fn inbound(
        &mut self,
        socket: &mut Socket,
        message: Option<Result<Message, tungstenite::Error>>,
    ) -> Result<(), Ended> {
        self.last_seen = Instant::now();
        match message {
            None | Some(Ok(Message::Close(_))) => Err(None),
            Some(Err(error)) => Err(protocol_error(self.outlet.id, error)),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(()),
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
        socket: &mut Socket,
        message: ClientMessage,
        text: &str,
    ) -> Result<(), Ended> {
        match message {
            ClientMessage::Ping => self.send(socket, ServerMessage::Pong.to_json()).await,
            ClientMessage::Resume { since } => self.replay(since).await,
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
        socket: &mut Socket,
        ticket_id: i64,
        activity: Option<Activity>,
        text: &str,
    ) -> Result<(), Ended> {
        let inner = &self.hub.inner;
        let announcement = match activity {
            None => inner.presence.leave(self.outlet.id, ticket_id),
            Some(activity) => {
                if !inner.app.may_see_ticket(&self.viewer, ticket_id).await {
                    return self
                        .reply_error(socket, "forbidden", "you may not be present on this ticket")
                        .await;
                }
                match inner
                    .presence
                    .announce(self.outlet.id, &self.viewer, ticket_id, activity)
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
                connection = self.outlet.id,
                "Connection {} sending message \"{shown}\" to {others} other connections",
                self.outlet.id
            );
            self.hub.announce_presence(announcement);
        }
        Ok(())
    }

    async fn application(
        &mut self,
        socket: &mut Socket,
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
    async fn refuse(&mut self, socket: &mut Socket, bad: &BadMessage) -> Result<(), Ended> {
        self.reply_error(socket, bad.code(), &bad.to_string()).await
    }

    async fn reply_error(
        &mut self,
        socket: &mut Socket,
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

    async fn send(&mut self, socket: &mut Socket, frame: String) -> Result<(), Ended> {
        socket
            .send(Message::Text(frame.into()))
            .await
            .map_err(|_| None)?;
        self.hub.inner.metrics.messages_sent.inc();
        Ok(())
    }

    async fn heartbeat(&mut self, socket: &mut Socket) -> Result<(), Ended> {
        if self.last_seen.elapsed() > self.hub.inner.config.heartbeat * 2 {
            tracing::info!(
                connection = self.outlet.id,
                "Connection {} silent too long; dropping it",
                self.outlet.id
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
pub(crate) fn protocol_error(id: ConnectionId, error: tungstenite::Error) -> Ended {
    let reason = match error {
        tungstenite::Error::Utf8(_) => CloseReason::INVALID_UTF8,
        tungstenite::Error::Capacity(_) => CloseReason::TOO_BIG,
        tungstenite::Error::Protocol(_) => CloseReason::PROTOCOL,
        _ => return None,
    };
    tracing::info!(connection = id, %error, "closing connection {id}: {}", reason.reason);
    Some(reason)
}

/// A token bucket: `rate` messages a second, bursts of twice that.
pub(crate) struct Allowance {
    rate: f32,
    tokens: f32,
    refilled: Instant,
}

impl Allowance {
    pub(crate) fn new(per_second: u32) -> Self {
        let rate = per_second.max(1) as f32;
        Self {
            rate,
            tokens: rate * 2.0,
            refilled: Instant::now(),
        }
    }

    pub(crate) fn take(&mut self) -> bool {
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
