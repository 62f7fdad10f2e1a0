//! The Pusher WebSocket (`/app/{key}`): one task per connection, like `/ws`, writing
//! through the connection's [`Outlet`]. It answers the handshake with
//! `pusher:connection_established`, subscribes (checking the app's signature for
//! `private-`, `private-encrypted-` and `presence-` channels), relays client events
//! through the log, and leaves its presence channels when it ends.

use std::{
    collections::{HashMap, HashSet},
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant, SystemTime},
};

use axum::{
    extract::{ConnectInfo, Path, Query, Request, State},
    http::StatusCode,
    response::Response,
};
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::Upgraded;
use hyper_util::rt::TokioIo;
use serde_json::value::RawValue;
use tokio_tungstenite::WebSocketStream;
use tungstenite::{
    Message, Utf8Bytes,
    protocol::{CloseFrame, Role, WebSocketConfig, frame::coding::CloseCode},
};

use super::{
    apps::PusherApp,
    channel::{ChannelKind, ChannelName},
    members::MemberEvent,
    messages::{self, ChannelData, ClientMessage, Subscribe, Unsubscribe, data_as},
    signature::channel_auth_is_valid,
    store,
    subscriptions::{ChannelKey, Subscription, Subscriptions},
};
use crate::{
    Hub,
    app::ChannelGrant,
    audience::Audience,
    client_addr::client_ip,
    event::{Delivered, EventType, NewEvent, Topic},
    http::error::ApiError,
    identity::{IdentifyError, Identity},
    outlet::{Outlet, text_frame},
    registry::{CloseReason, ConnectionId},
    rights::Identified,
    transport::{
        wire::Wire,
        ws::{
            Allowance, Ended, IpSlot, handshake, instant_of, protocol_error, sleep_until_some,
            socket_config,
        },
    },
};

type Socket = WebSocketStream<Wire>;

/// Client events a connection may send per second (the Pusher default).
const CLIENT_EVENTS_PER_SECOND: u32 = 10;
/// Channels one connection may be subscribed to at once.
const MAX_CHANNELS: usize = 100;
/// Events per page when a subscription resumes from the log.
const REPLAY_PAGE: u32 = 256;
/// How long a presence subscription waits for its own join to come back from the log.
const JOIN_TIMEOUT: Duration = Duration::from_secs(10);
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Protocol versions this server speaks (pusher-js 8 uses 7).
const PROTOCOLS: std::ops::RangeInclusive<u32> = 5..=7;

const GOING_AWAY: CloseReason = CloseReason {
    code: 4200,
    reason: "server shutting down; reconnect",
};
const SILENT: CloseReason = CloseReason {
    code: 4201,
    reason: "pong reply not received",
};
const ABUSE: CloseReason = CloseReason {
    code: 4009,
    reason: "too many invalid messages",
};
/// A grant could not be checked (the database did not answer): reconnect and
/// subscribe again.
const TRY_AGAIN: CloseReason = CloseReason {
    code: 4200,
    reason: "temporary server problem; reconnect",
};

/// Why a connection is refused right after the handshake (the protocol sends a
/// `pusher:error` and closes with the same code, rather than failing the upgrade).
struct Refusal {
    code: u16,
    reason: &'static str,
}

pub(crate) async fn upgrade(
    State(hub): State<Hub>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(key): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    request: Request,
) -> Result<Response, ApiError> {
    if !hub.config().websocket_enabled {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "WebSocket is disabled on this server (WEBSOCKET_ENABLED=false)",
        ));
    }
    let response = handshake(&request)?;
    let app = hub.inner.pusher.apps.by_key(&key).cloned();
    let client = client_ip(peer.ip(), request.headers(), &hub.config().trusted_proxies);
    let slot = IpSlot::reserve(&hub, client);
    let refusal = refusal(app.is_some(), params.get("protocol"), slot.is_some());
    let config = socket_config(&hub);
    let upgraded = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match upgraded.await {
            Ok(upgraded) => connection(hub, app, upgraded, config, slot, refusal).await,
            Err(error) => tracing::debug!(%error, "Pusher WebSocket upgrade failed"),
        }
    });
    Ok(response)
}

fn refusal(known_app: bool, protocol: Option<&String>, has_slot: bool) -> Option<Refusal> {
    if !known_app {
        return Some(Refusal {
            code: 4001,
            reason: "application does not exist",
        });
    }
    match protocol.map(|text| text.parse::<u32>()) {
        None => {
            return Some(Refusal {
                code: 4008,
                reason: "no protocol version supplied",
            });
        }
        Some(Ok(version)) if PROTOCOLS.contains(&version) => {}
        Some(_) => {
            return Some(Refusal {
                code: 4007,
                reason: "unsupported protocol version",
            });
        }
    }
    (!has_slot).then_some(Refusal {
        code: 4100,
        reason: "over capacity: too many connections from this address",
    })
}

async fn connection(
    hub: Hub,
    app: Option<PusherApp>,
    upgraded: Upgraded,
    config: WebSocketConfig,
    slot: Option<IpSlot>,
    refusal: Option<Refusal>,
) {
    let pusher = &hub.inner.pusher;
    let (source, sink) = tokio::io::split(TokioIo::new(upgraded));
    let id = pusher.next_connection();
    let socket_id: Arc<str> = pusher.socket_id(id).into();
    let greeting = match &refusal {
        Some(refusal) => messages::error(refusal.code, refusal.reason),
        None => messages::connection_established(&socket_id, hub.config().heartbeat.as_secs()),
    };
    let outlet = Arc::new(Outlet::new(
        id,
        Identified {
            identity: Identity::anonymous(),
            at: 0,
        },
        Box::pin(sink),
        hub.config().queue_capacity,
        0,
        false,
        text_frame(&greeting),
    ));
    let wire = Wire::new(Box::pin(source), outlet.clone());
    let mut socket = WebSocketStream::from_raw_socket(wire, Role::Server, Some(config)).await;
    let (Some(app), None, Some(_slot)) = (app, refusal.as_ref(), slot) else {
        let reason = refusal.map_or(GOING_AWAY, |refusal| CloseReason {
            code: refusal.code,
            reason: refusal.reason,
        });
        close(&mut socket, &outlet, Some(reason)).await;
        return;
    };
    tracing::info!(connection = id, app = %app.id, "Pusher connection {socket_id}");
    // Counted in /clients and /status, and waited for at shutdown, until its close frame.
    let _open = pusher.count_connection();
    let mut session = Session {
        hub: hub.clone(),
        app,
        id,
        socket_id,
        outlet,
        channels: HashMap::new(),
        invalid_messages: 0,
        allowance: Allowance::new(hub.config().client_rate),
        client_events: Allowance::new(CLIENT_EVENTS_PER_SECOND),
        last_seen: Instant::now(),
        expiry: None,
    };
    let ended = session.run(&mut socket).await;
    session.leave_all().await;
    close(&mut socket, &session.outlet, ended).await;
}

/// Sends the close frame (when the server closes) and what still waits, briefly.
async fn close(socket: &mut Socket, outlet: &Outlet, ended: Ended) {
    if let Some(reason) = ended.or_else(|| outlet.control.reason()) {
        if reason == super::subscriptions::SLOW_CONSUMER {
            outlet.discard();
        }
        let frame = CloseFrame {
            code: CloseCode::from(reason.code),
            reason: Utf8Bytes::from_static(reason.reason),
        };
        let _ = socket.send(Message::Close(Some(frame))).await;
    }
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, outlet.drain()).await;
}

/// A channel this connection is subscribed to.
struct Joined {
    subscription: Arc<Subscription>,
    /// The member it is on a presence channel.
    user_id: Option<String>,
    /// What the app's signature covered, to check the grant again.
    channel_data: Option<String>,
}

struct Session {
    hub: Hub,
    app: PusherApp,
    id: ConnectionId,
    socket_id: Arc<str>,
    outlet: Arc<Outlet>,
    channels: HashMap<ChannelName, Joined>,
    invalid_messages: u32,
    allowance: Allowance,
    client_events: Allowance,
    last_seen: Instant,
    /// When the first grant of its subscriptions runs out.
    expiry: Option<SystemTime>,
}

enum Step {
    Drain,
    /// Some subscription's holder's rights changed, or its grant ran out.
    Recheck,
    Inbound(Option<Result<Message, tungstenite::Error>>),
    Heartbeat,
    Close(CloseReason),
}

/// A refused client message: the `pusher:error` code and message; the connection stays.
struct Refused(u16, String);

impl Session {
    async fn run(&mut self, socket: &mut Socket) -> Ended {
        let heartbeat = self.hub.config().heartbeat;
        let mut ticker =
            tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
        let hub = self.hub.clone();
        loop {
            let expiry = self.expiry.map(instant_of);
            let step = tokio::select! {
                biased;
                () = hub.stopped() => Step::Close(GOING_AWAY),
                reason = self.outlet.control.closed() => Step::Close(reason),
                () = self.outlet.control.recheck_requested() => Step::Recheck,
                () = sleep_until_some(expiry), if expiry.is_some() => Step::Recheck,
                () = self.outlet.backlog() => Step::Drain,
                message = socket.next() => Step::Inbound(message),
                _ = ticker.tick() => Step::Heartbeat,
            };
            let outcome = match step {
                Step::Close(reason) => Err(Some(reason)),
                Step::Drain => self.drain().await,
                Step::Recheck => self.recheck().await,
                Step::Inbound(message) => self.inbound(message).await,
                Step::Heartbeat => self.heartbeat(socket).await,
            };
            if let Err(ended) = outcome {
                return ended;
            }
        }
    }

    async fn drain(&self) -> Result<(), Ended> {
        tokio::select! {
            biased;
            reason = self.outlet.control.closed() => Err(Some(reason)),
            drained = self.outlet.drain() => drained.map_err(|_| None),
        }
    }

    async fn heartbeat(&mut self, socket: &mut Socket) -> Result<(), Ended> {
        if self.last_seen.elapsed() > self.hub.config().heartbeat * 2 {
            return Err(Some(SILENT));
        }
        socket
            .send(Message::Ping(Default::default()))
            .await
            .map_err(|_| None)
    }

    async fn inbound(
        &mut self,
        message: Option<Result<Message, tungstenite::Error>>,
    ) -> Result<(), Ended> {
        self.last_seen = Instant::now();
        let outcome = match message {
            None | Some(Ok(Message::Close(_))) => return Err(None),
            Some(Err(error)) => return Err(protocol_error(self.id, error)),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => return Ok(()),
            Some(Ok(Message::Binary(_))) => Err(Refused(4300, "send JSON text frames".into())),
            Some(Ok(Message::Text(text))) if !self.allowance.take() => {
                let _ = text;
                Err(Refused(4301, "too many messages; slow down".into()))
            }
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ClientMessage>(&text) {
                Ok(message) => self.handle(message).await,
                Err(error) => Err(Refused(4300, format!("malformed message: {error}"))),
            },
        };
        match outcome {
            Ok(()) => Ok(()),
            Err(Refused(code, message)) => self.refuse(code, &message),
        }
    }

    /// Answers a refused message with `pusher:error`; repeated ones close (4009).
    fn refuse(&mut self, code: u16, message: &str) -> Result<(), Ended> {
        self.invalid_messages += 1;
        if self.invalid_messages >= self.hub.config().max_invalid_messages {
            return Err(Some(ABUSE));
        }
        self.send(&messages::error(code, message))
    }

    fn send(&self, json: &str) -> Result<(), Ended> {
        self.outlet.push(text_frame(json)).map_err(|_| None)?;
        self.hub.inner.metrics.messages_sent.inc();
        Ok(())
    }

    async fn handle(&mut self, message: ClientMessage) -> Result<(), Refused> {
        let data = message.data.as_deref();
        match message.event.as_str() {
            "pusher:ping" => self.send(&messages::pong()).map_err(|_| closed()),
            "pusher:pong" => Ok(()),
            "pusher:subscribe" => self.subscribe(data_as(data).map_err(bad)?).await,
            "pusher:unsubscribe" => {
                let Unsubscribe { channel } = data_as(data).map_err(bad)?;
                self.unsubscribe(&channel).await;
                Ok(())
            }
            name if name.starts_with("client-") => {
                self.client_event(name, message.channel.as_deref(), data)
                    .await
            }
            "pusher:signin" => Err(Refused(
                4300,
                "user authentication (pusher:signin) is not supported".into(),
            )),
            other => Err(Refused(4300, format!("unknown event '{other}'"))),
        }
    }

    async fn subscribe(&mut self, request: Subscribe) -> Result<(), Refused> {
        let channel = ChannelName::parse(&request.channel)
            .map_err(|error| Refused(4300, format!("channel: {error}")))?;
        if self.channels.contains_key(&channel) {
            return Ok(());
        }
        if self.channels.len() >= MAX_CHANNELS {
            return Err(Refused(
                4300,
                format!("at most {MAX_CHANNELS} channels per connection"),
            ));
        }
        let presence = channel.kind() == ChannelKind::Presence;
        let channel_data = self.signed_channel_data(&channel, &request)?;
        let member = match (presence, &channel_data) {
            (true, data) => Some(self.member(data.as_deref().unwrap_or(""))?),
            (false, _) => None,
        };
        let grant = self.grant(&channel, channel_data.as_deref()).await?;
        let key: ChannelKey = (self.app.id.clone(), channel.clone());
        if let Some(member) = &member {
            self.join(&key, member).await?;
        }
        let pusher = &self.hub.inner.pusher;
        let (subscription, list) =
            pusher
                .subscriptions
                .subscribe(key.clone(), grant, |joined_at| {
                    let subscription = Subscriptions::new_subscription(
                        self.id,
                        self.socket_id.clone(),
                        self.outlet.clone(),
                        joined_at,
                    );
                    (subscription, presence.then(|| pusher.members.list(&key)))
                });
        self.channels.insert(
            channel.clone(),
            Joined {
                subscription: subscription.clone(),
                user_id: member.map(|member| member.user_id),
                channel_data,
            },
        );
        self.expiry = self.next_expiry();
        self.send(&messages::subscription_succeeded(
            channel.as_str(),
            list.as_ref(),
        ))
        .map_err(|_| closed())?;
        if let Some(since) = request.since {
            self.replay(&key, &subscription, since).await?;
        }
        subscription.release(subscription.joined_at);
        Ok(())
    }

    /// The `channel_data` the app's signature covers. A presence channel's must be
    /// signed; on a private channel it may be (the application's grant, see
    /// [`crate::Application::channel_grant`]) and is ignored when it is not. A bad
    /// signature gets `pusher:subscription_error` on the channel and 4009.
    fn signed_channel_data(
        &self,
        channel: &ChannelName,
        request: &Subscribe,
    ) -> Result<Option<String>, Refused> {
        let kind = channel.kind();
        if !kind.needs_auth() {
            return Ok(None);
        }
        let auth = request.auth.as_deref().unwrap_or("");
        let signs = |data: Option<&str>| {
            channel_auth_is_valid(&self.app, auth, &self.socket_id, channel.as_str(), data)
        };
        let data = request.channel_data.as_deref();
        if kind == ChannelKind::Presence {
            let data = data.unwrap_or("");
            if signs(Some(data)) {
                return Ok(Some(data.to_owned()));
            }
        } else if let Some(data) = data.filter(|data| signs(Some(data))) {
            return Ok(Some(data.to_owned()));
        } else if signs(None) {
            return Ok(None);
        }
        let message = format!("invalid signature for channel '{channel}'");
        let _ = self.send(&messages::subscription_error(
            channel.as_str(),
            401,
            &message,
        ));
        Err(Refused(4009, message))
    }

    /// On the first app's channels, what the subscription may receive of the
    /// application's own events, and the log position the check reflects; a refusal
    /// gets `pusher:subscription_error` on the channel and 4009.
    async fn grant(
        &self,
        channel: &ChannelName,
        channel_data: Option<&str>,
    ) -> Result<Option<(ChannelGrant, i64)>, Refused> {
        let pusher = &self.hub.inner.pusher;
        if pusher
            .apps
            .first()
            .is_none_or(|first| first.id != self.app.id)
        {
            return Ok(None);
        }
        let at = pusher.subscriptions.through();
        let application = &self.hub.inner.app;
        match application
            .channel_grant(channel.as_str(), channel_data)
            .await
        {
            Ok(grant) => Ok(grant.map(|grant| (grant, at))),
            Err(IdentifyError::Unavailable(reason)) => Err(unavailable(reason)),
            Err(refused) => {
                let reason = refused.to_string();
                let _ = self.send(&messages::subscription_error(
                    channel.as_str(),
                    refused.status().as_u16(),
                    &reason,
                ));
                Err(Refused(
                    4009,
                    format!("may not subscribe to '{channel}': {reason}"),
                ))
            }
        }
    }

    /// Checks again the subscriptions whose holder's rights changed or whose grant
    /// ran out: each carries on with its grant as it is now, or ends.
    async fn recheck(&mut self) -> Result<(), Ended> {
        let now = SystemTime::now();
        let due: Vec<ChannelName> = self
            .channels
            .iter()
            .filter(|(_, joined)| {
                joined.subscription.holder.is_some() && joined.subscription.needs_check(now)
            })
            .map(|(channel, _)| channel.clone())
            .collect();
        let hub = self.hub.clone();
        let inner = &hub.inner;
        for channel in due {
            let Some(joined) = self.channels.get(&channel) else {
                continue;
            };
            let at = inner.pusher.subscriptions.through();
            let grant = inner
                .app
                .channel_grant(channel.as_str(), joined.channel_data.as_deref())
                .await;
            match grant {
                Ok(Some(grant)) => joined.subscription.adopt(grant, at),
                Err(IdentifyError::Unavailable(reason)) => {
                    tracing::warn!(connection = self.id, reason, "cannot check a subscription");
                    return Err(Some(TRY_AGAIN));
                }
                Ok(None) => self.end(&channel, 403, "no longer granted").await?,
                Err(refused) => {
                    let status = refused.status().as_u16();
                    self.end(&channel, status, &refused.to_string()).await?;
                }
            }
        }
        self.expiry = self.next_expiry();
        Ok(())
    }

    /// Ends a subscription the server no longer allows (its holder's rights changed):
    /// the client hears `pusher:subscription_error` on the channel and `pusher:error`
    /// 4009, and leaves the channel's presence list.
    async fn end(&mut self, channel: &ChannelName, status: u16, reason: &str) -> Result<(), Ended> {
        if let Some(joined) = self.channels.remove(channel) {
            self.leave((self.app.id.clone(), channel.clone()), joined)
                .await;
        }
        tracing::info!(
            connection = self.id,
            %channel,
            reason,
            "Pusher subscription ended: its holder's rights changed"
        );
        self.send(&messages::subscription_error(
            channel.as_str(),
            status,
            reason,
        ))?;
        self.send(&messages::error(
            4009,
            &format!("subscription to '{channel}' ended: {reason}"),
        ))
    }

    /// When the first grant of this connection's subscriptions runs out.
    fn next_expiry(&self) -> Option<SystemTime> {
        self.channels
            .values()
            .filter_map(|joined| joined.subscription.expires_at())
            .min()
    }

    fn member(&self, channel_data: &str) -> Result<MemberEvent, Refused> {
        let data: ChannelData = serde_json::from_str(channel_data)
            .map_err(|error| Refused(4300, format!("channel_data: {error}")))?;
        Ok(MemberEvent {
            user_id: data.user_id,
            user_info: data.user_info,
            socket_id: self.socket_id.to_string(),
        })
    }

    /// Records the member and waits until this node has applied it, so that the list
    /// it gets includes itself.
    async fn join(&self, key: &ChannelKey, member: &MemberEvent) -> Result<(), Refused> {
        let pusher = &self.hub.inner.pusher;
        let id = store::join(self.hub.log(), key, member, &self.hub.config().node)
            .await
            .map_err(unavailable)?;
        tokio::time::timeout(JOIN_TIMEOUT, pusher.applied(id))
            .await
            .map_err(|_| Refused(4302, "temporarily unavailable; subscribe again".into()))
    }

    /// Sends the channel's events after `since` up to the join, from the log.
    async fn replay(
        &self,
        key: &ChannelKey,
        subscription: &Subscription,
        since: i64,
    ) -> Result<(), Refused> {
        let mut cursor = since.max(0);
        while cursor < subscription.joined_at {
            let rows = store::channel_events(
                self.hub.log(),
                key,
                cursor,
                subscription.joined_at,
                REPLAY_PAGE,
            )
            .await
            .map_err(unavailable)?;
            let Some(last) = rows.last().map(|row| row.id) else {
                break;
            };
            let events: Vec<Arc<Delivered>> = rows
                .into_iter()
                .filter_map(|row| Delivered::from_stored(row).ok().map(Arc::new))
                .collect();
            subscription.push_replayed(&events);
            self.hub
                .inner
                .metrics
                .messages_sent
                .inc_by(events.len() as u64);
            cursor = last;
            self.drain().await.map_err(|_| closed())?;
        }
        Ok(())
    }

    async fn unsubscribe(&mut self, channel: &str) {
        let Ok(channel) = ChannelName::parse(channel) else {
            return;
        };
        if let Some(joined) = self.channels.remove(&channel) {
            self.leave((self.app.id.clone(), channel), joined).await;
        }
        self.expiry = self.next_expiry();
    }

    async fn leave(&self, key: ChannelKey, joined: Joined) {
        let pusher = &self.hub.inner.pusher;
        pusher.subscriptions.unsubscribe(&key, self.id);
        drop(joined.subscription);
        if joined.user_id.is_some()
            && let Err(error) = store::leave(self.hub.log(), &key, &self.socket_id).await
        {
            // The node's rows go when it restarts or is seen dead.
            tracing::warn!(%error, "cannot record leaving a presence channel");
        }
    }

    async fn leave_all(&mut self) {
        let channels: Vec<_> = self.channels.drain().collect();
        let mut left = HashSet::new();
        for (channel, joined) in channels {
            left.insert(channel.clone());
            self.leave((self.app.id.clone(), channel), joined).await;
        }
        tracing::info!(
            connection = self.id,
            channels = left.len(),
            "Pusher connection {} closed",
            self.socket_id
        );
    }

    /// A `client-*` event: to the channel's other subscribers, through the log.
    async fn client_event(
        &mut self,
        name: &str,
        channel: Option<&str>,
        data: Option<&RawValue>,
    ) -> Result<(), Refused> {
        let channel =
            channel.ok_or_else(|| Refused(4300, "a client event needs a channel".into()))?;
        let (channel, joined) = ChannelName::parse(channel)
            .ok()
            .and_then(|channel| self.channels.get_key_value(&channel))
            .ok_or_else(|| Refused(4300, format!("not subscribed to '{channel}'")))?;
        if !channel.kind().allows_client_events() {
            return Err(Refused(
                4300,
                "client events are allowed on private- and presence- channels only".into(),
            ));
        }
        if !self.client_events.take() {
            return Err(Refused(
                4301,
                "client event rejected due to rate limit".into(),
            ));
        }
        let kind =
            EventType::pusher(name).map_err(|error| Refused(4300, format!("event: {error}")))?;
        let data = match data {
            Some(data) => data.to_owned(),
            None => RawValue::from_string("null".into()).map_err(|_| closed())?,
        };
        let event = NewEvent {
            kind,
            data,
            audience: Audience::everyone(),
            topic: Some(Topic {
                app: self.app.id.clone(),
                channel: channel.as_str().to_owned(),
                except_socket: Some(self.socket_id.to_string()),
                user_id: joined.user_id.clone(),
            }),
        };
        let timeout = self.hub.config().websocket_timeout;
        match tokio::time::timeout(timeout, self.hub.log().append(event)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(unavailable(error)),
            Err(_) => Err(Refused(4302, "the event log did not answer in time".into())),
        }
    }
}

fn bad(problem: String) -> Refused {
    Refused(4300, problem)
}

/// The connection is going: nothing more to answer.
fn closed() -> Refused {
    Refused(4200, "connection closing".into())
}

fn unavailable(error: impl std::fmt::Display) -> Refused {
    tracing::error!(%error, "Pusher request failed");
    Refused(4302, "temporarily unavailable; try again".into())
}
