//! WebSocket transport (`GET /ws`). Events reach the socket through the connection's
//! [`Outlet`], written by the fan-out itself; each connection's task reads client
//! messages, pings, and writes out whatever the socket could not take at once.

use std::{
    collections::HashMap,
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant, SystemTime},
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
    identity::{Credentials, Identity},
    outlet::{Outlet, text_frame},
    presence::Activity,
    protocol::{BadMessage, ClientMessage, ServerMessage},
    registry::{CloseReason, ConnectionId},
    rights::{self, Identified},
    transport::wire::Wire,
};

type Socket = WebSocketStream<Wire>;

/// Bytes reserved for reading client frames; they are small, and every idle
/// connection pays for this buffer.
const READ_BUFFER: usize = 1024;
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
    // `?token=` stays for the original client; the `auth` message keeps tokens out of
    // URLs (and proxies' logs).
    let credentials = Credentials::new(request.headers(), params.get("token").map(String::as_str));
    let identified_at = hub.inner.feed.head();
    let identified = Identified {
        identity: hub.inner.identify.identify(&credentials).await?,
        at: identified_at,
    };
    // Behind a proxy every peer is the proxy: count per client, not per proxy.
    let client = client_ip(peer.ip(), request.headers(), &hub.config().trusted_proxies);
    let slot = IpSlot::reserve(&hub, client).ok_or_else(|| {
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many WebSocket connections from {client}"),
        )
    })?;
    let config = socket_config(&hub);
    let upgraded = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match upgraded.await {
            Ok(upgraded) => {
                let socket = Upgrade {
                    upgraded,
                    config,
                    slot,
                };
                connection(hub, socket, identified, credentials, since).await;
            }
            Err(error) => tracing::debug!(%error, "WebSocket upgrade failed"),
        }
    });
    Ok(response)
}

/// The socket's limits: the hub's message size, and no write buffer (the outlet is
/// one; see `outlet`).
pub(crate) fn socket_config(hub: &Hub) -> WebSocketConfig {
    let limit = hub.config().max_message_size;
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit))
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

/// The socket just upgraded, and its address slot.
struct Upgrade {
    upgraded: Upgraded,
    config: WebSocketConfig,
    slot: IpSlot,
}

async fn connection(
    hub: Hub,
    socket: Upgrade,
    identified: Identified,
    credentials: Credentials,
    since: Option<i64>,
) {
    let inner = &hub.inner;
    let (source, sink) = tokio::io::split(TokioIo::new(socket.upgraded));
    let heartbeat = inner.config.heartbeat.as_secs();
    let identity = identified.identity.clone();
    let outlet = inner.registry.register(
        identified,
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
    let _slot = socket.slot;
    inner.metrics.connections.inc();
    inner.metrics.messages_sent.inc();
    tracing::info!(connection = id, "New connection! ({id})");

    let wire = Wire::new(Box::pin(source), outlet.clone());
    let mut socket =
        WebSocketStream::from_raw_socket(wire, Role::Server, Some(socket.config)).await;
    let rate = inner.config.client_rate;
    let mut session = Session {
        hub: hub.clone(),
        outlet,
        viewer: identity.viewer,
        expires_at: identity.expires_at,
        credentials,
        replay: since,
        invalid_messages: 0,
        allowance: Allowance::new(rate),
        replay_pages: Allowance::new(rate),
        last_seen: Instant::now(),
        stalled_at: None,
    };
    let ended = session.run(&mut socket).await;
    session.close(&mut socket, ended).await;
}

struct Session {
    hub: Hub,
    outlet: Arc<Outlet>,
    /// The viewer as last identified (the outlet has the same).
    viewer: Viewer,
    /// When the viewer's session or token ends.
    expires_at: Option<SystemTime>,
    /// What the connection identified with, to identify its viewer again.
    credentials: Credentials,
    /// Where an unfinished replay goes on from.
    replay: Option<i64>,
    invalid_messages: u32,
    allowance: Allowance,
    /// Replay pages, paced like client messages: a resume over a long log costs its
    /// reads spread over time, not all at once (issue 9.6).
    replay_pages: Allowance,
    last_seen: Instant,
    /// Bytes the socket had taken at the last heartbeat, if something waited for it
    /// then.
    stalled_at: Option<u64>,
}

/// What the connection does next.
enum Step {
    Close(CloseReason),
    /// The viewer's rights may have changed, or their session ends: identify again.
    Recheck,
    /// What waited for the socket is written out.
    Written(std::io::Result<()>),
    Inbound(Option<Result<Message, tungstenite::Error>>),
    Heartbeat,
    ReplayPage,
}

pub(crate) type Ended = Option<CloseReason>;

impl Session {
    /// Runs until the connection ends; returns how to close it, if the server closes.
    async fn run(&mut self, socket: &mut Socket) -> Ended {
        let heartbeat = self.hub.inner.config.heartbeat;
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        loop {
            let control = &self.outlet.control;
            let expiry = self.expires_at.map(instant_of);
            // The next page once the last one is written out, and not past a change of
            // rights not yet identified again.
            let replaying =
                self.replay.is_some() && !self.outlet.progress().0 && !self.outlet.is_stale();
            let step = tokio::select! {
                biased;
                reason = control.closed() => Step::Close(reason),
                () = control.recheck_requested() => Step::Recheck,
                () = sleep_until_some(expiry), if expiry.is_some() => Step::Recheck,
                written = self.outlet.write_out() => Step::Written(written),
                message = socket.next() => Step::Inbound(message),
                _ = ticker.tick() => Step::Heartbeat,
                () = tokio::time::sleep(self.replay_pages.wait()), if replaying => Step::ReplayPage,
            };
            let outcome = match step {
                Step::Close(reason) => Err(Some(reason)),
                Step::Recheck => self.reidentify().await,
                Step::Written(written) => written.map_err(|_| None),
                Step::Inbound(message) => self.inbound(socket, message).await,
                Step::Heartbeat => self.heartbeat(socket).await,
                Step::ReplayPage => self.replay_page().await,
            };
            if let Err(ended) = outcome {
                return ended;
            }
        }
    }

    /// Identifies the viewer again with the connection's credentials: the same person
    /// with the same role carries on, anyone else is closed (see [`crate::rights`]).
    async fn reidentify(&mut self) -> Result<(), Ended> {
        let inner = &self.hub.inner;
        let at = inner.feed.head();
        let now = inner.identify.identify(&self.credentials).await;
        match rights::verdict(&self.viewer, now).and_then(still_valid) {
            Ok(identity) => {
                self.adopt(Identified { identity, at });
                Ok(())
            }
            Err(reason) => {
                tracing::info!(
                    connection = self.outlet.id,
                    reason = reason.reason,
                    "closing connection {}: its viewer's rights changed",
                    self.outlet.id
                );
                Err(Some(reason))
            }
        }
    }

    fn adopt(&mut self, identified: Identified) {
        self.viewer = identified.identity.viewer.clone();
        self.expires_at = identified.identity.expires_at;
        self.outlet.adopt(identified);
    }

    /// Sends the next page of a replay (every visible event after its cursor, in
    /// order, from memory or the log); live events wait in the outlet meanwhile.
    async fn replay_page(&mut self) -> Result<(), Ended> {
        let Some(cursor) = self.replay else {
            return Ok(());
        };
        self.replay_pages.take();
        let inner = &self.hub.inner;
        let page = inner
            .feed
            .visible_after(&inner.log, &self.viewer, cursor, REPLAY_PAGE, None)
            .await
            .map_err(|error| {
                tracing::warn!(connection = self.outlet.id, %error, "replay failed");
                Some(CloseReason::TRY_AGAIN)
            })?;
        if page.reset {
            self.replay = None;
            return self.reset(page.last_id);
        }
        let reached = self.outlet.push_replayed(&page.events, page.last_id);
        inner.metrics.messages_sent.inc_by(
            page.events
                .iter()
                .take_while(|event| event.id <= reached)
                .count() as u64,
        );
        if page.has_more || reached < page.last_id {
            self.replay = Some(reached);
        } else {
            self.replay = None;
            self.outlet.release(reached);
        }
        Ok(())
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
                    Ok(message) => self.handle(socket, message).await,
                    Err(bad) => self.refuse(socket, &bad).await,
                }
            }
        }
    }

    async fn handle(&mut self, socket: &mut Socket, message: ClientMessage) -> Result<(), Ended> {
        match message {
            ClientMessage::Ping => self.send(socket, ServerMessage::Pong.to_json()).await,
            ClientMessage::Resume { since } => self.resume(since).await,
            ClientMessage::Auth { token } => self.authenticate(socket, token).await,
            ClientMessage::View { ticket_id } => {
                self.present(socket, ticket_id, Some(Activity::Viewing))
                    .await
            }
            ClientMessage::Editing { ticket_id } => {
                self.present(socket, ticket_id, Some(Activity::Editing))
                    .await
            }
            ClientMessage::Leave { ticket_id } => self.present(socket, ticket_id, None).await,
            ClientMessage::Application { kind, message } => {
                self.application(socket, &kind, message).await
            }
        }
    }

    /// Replays from `since` for the viewer as they are now — not as they were when the
    /// connection opened (issue 9.6: a demoted agent's `resume` replayed internal notes).
    async fn resume(&mut self, since: i64) -> Result<(), Ended> {
        self.reidentify().await?;
        self.outlet.hold();
        self.replay = Some(since);
        Ok(())
    }

    /// `{"type":"auth","token":…}`: the connection is now that token's viewer — a
    /// refreshed token before the old one's `exp`, or the first token of a connection
    /// that kept it out of its URL. Answered `auth_ok` or an error.
    async fn authenticate(&mut self, socket: &mut Socket, token: String) -> Result<(), Ended> {
        let credentials = Credentials {
            token: Some(token),
            ..self.credentials.clone()
        };
        let inner = &self.hub.inner;
        let at = inner.feed.head();
        let identity = match inner.identify.identify(&credentials).await {
            Ok(identity) => identity,
            Err(error) => {
                return self
                    .reply_error(socket, "unauthorized", &error.to_string())
                    .await;
            }
        };
        if self.viewer.user_id().is_some() && identity.viewer.user_id() != self.viewer.user_id() {
            return self
                .reply_error(
                    socket,
                    "forbidden",
                    "this token is another user's; open a new connection for them",
                )
                .await;
        }
        self.credentials = credentials;
        self.adopt(Identified { identity, at });
        self.send(socket, ServerMessage::AuthOk.to_json()).await
    }

    async fn present(
        &mut self,
        socket: &mut Socket,
        ticket_id: i64,
        activity: Option<Activity>,
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
            // DEBUG and without the client's text: presence is frequent, and what a
            // client writes does not belong in the logs (issue 18.10).
            tracing::debug!(
                connection = self.outlet.id,
                ticket_id,
                others = announcement.recipients.len().saturating_sub(1),
                "presence changed"
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

    async fn send(&mut self, socket: &mut Socket, json: String) -> Result<(), Ended> {
        socket
            .send(Message::Text(json.into()))
            .await
            .map_err(|_| None)?;
        self.hub.inner.metrics.messages_sent.inc();
        Ok(())
    }

    /// Pings; drops a client silent for two heartbeats, and one whose socket took
    /// nothing of what waited for it during a whole heartbeat (1013: it does not read,
    /// during a replay say, and would hold its memory for good).
    async fn heartbeat(&mut self, socket: &mut Socket) -> Result<(), Ended> {
        let id = self.outlet.id;
        if self.last_seen.elapsed() > self.hub.inner.config.heartbeat * 2 {
            tracing::info!(
                connection = id,
                "Connection {id} silent too long; dropping it"
            );
            return Err(Some(CloseReason::SILENT));
        }
        let (waiting, written) = self.outlet.progress();
        if waiting && self.stalled_at == Some(written) {
            tracing::info!(
                connection = id,
                "Connection {id} takes nothing; dropping it"
            );
            return Err(Some(CloseReason::SLOW_CONSUMER));
        }
        self.stalled_at = waiting.then_some(written);
        socket
            .send(Message::Ping(Default::default()))
            .await
            .map_err(|_| None)
    }
}

/// An identity whose end has passed by this node's clock, though its owner found it
/// valid (the desk judges sessions by the database's clock, and this node's runs ahead),
/// ends here: carrying on would identify it again at once, and again.
fn still_valid(identity: Identity) -> Result<Identity, CloseReason> {
    match identity.expires_at {
        Some(end) if end <= SystemTime::now() => Err(CloseReason::SESSION_ENDED),
        _ => Ok(identity),
    }
}

/// The monotonic instant of a wall-clock time (now, if it has passed).
pub(crate) fn instant_of(time: SystemTime) -> tokio::time::Instant {
    let left = time.duration_since(SystemTime::now()).unwrap_or_default();
    tokio::time::Instant::now() + left
}

/// Completes at `deadline`; never without one.
pub(crate) async fn sleep_until_some(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
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

    /// How long until a message is allowed.
    fn wait(&self) -> Duration {
        let short = 1.0 - self.tokens;
        if short <= 0.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f32(short / self.rate).saturating_sub(self.refilled.elapsed())
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn identity(expires_at: Option<SystemTime>) -> Identity {
        Identity {
            viewer: Viewer::Anonymous,
            expires_at,
        }
    }

    #[test]
    fn an_identity_past_its_end_by_this_nodes_clock_ends_the_session() {
        let past = SystemTime::now() - Duration::from_secs(1);
        let ended = still_valid(identity(Some(past)));
        assert_eq!(ended.err(), Some(CloseReason::SESSION_ENDED));
        let future = SystemTime::now() + Duration::from_secs(60);
        assert!(still_valid(identity(Some(future))).is_ok());
        assert!(still_valid(identity(None)).is_ok());
    }
}
