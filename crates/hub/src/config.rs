//! The hub's settings. The binary fills them from flags and environment.

use std::{fmt, time::Duration};

use ipnet::IpNet;

use crate::retention::Retention;

/// A secret that never shows in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares in time independent of where the first difference is.
    pub fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Each setting a flag sets is named like the flag (`--websocket-timeout` is
/// `websocket_timeout`); the rest are fixed here.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// This node's name in `/status` and logs.
    pub node: String,
    /// Interval of server pings; a connection silent for two of them is dropped.
    pub heartbeat: Duration,
    /// Writes (event frames, replies) a connection may have waiting for its socket
    /// before it counts as too slow.
    pub queue_capacity: usize,
    /// Largest client frame or message, and largest `/broadcast` body.
    pub max_message_size: usize,
    /// Events kept in memory for resumes and polls.
    pub recent_events: usize,
    /// `POST /broadcast` needs this bearer token; without one it is refused.
    pub broadcast_token: Option<Secret>,
    /// Besides loopback, the networks allowed to `POST /broadcast` (`--allowed-ips`).
    pub allowed_ips: Vec<IpNet>,
    /// Reverse proxies whose `X-Forwarded-For`/`X-Real-IP` name the client
    /// (see [`crate::client_addr`]); from any other peer those headers are ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// When false, `/ws` refuses upgrades and clients use (long) polling.
    pub websocket_enabled: bool,
    /// `--websocket-timeout`: the longest time a publish may take before it is answered
    /// with 503; the desk's pages also wait this long for a WebSocket before polling.
    pub websocket_timeout: Duration,
    /// WebSocket connections one address may hold (0 = unlimited).
    pub max_connections_per_ip: usize,
    /// Connections still speaking HTTP (not yet WebSockets) one address may hold; more
    /// are closed at accept (0 = unlimited; trusted proxies are exempt).
    pub max_http_connections_per_ip: usize,
    /// Time to send a request's headers, from when the connection opens or its
    /// previous answer ended (so also how long an idle keep-alive connection stays).
    pub header_timeout: Duration,
    /// Client messages per second a connection may send (bursts of twice that).
    pub client_rate: u32,
    /// Invalid messages after which a connection is closed with 1008.
    pub max_invalid_messages: u32,
    /// After this long without activity a present viewer shows as idle.
    pub presence_idle_after: Duration,
    /// How often the tailer looks at the log without being woken.
    pub poll_interval: Duration,
    /// Pusher apps served at `/app/{key}` and `/apps/{id}/` (none: those paths are 404).
    pub pusher_apps: Vec<crate::pusher::PusherApp>,
    /// What the event log keeps (see [`crate::retention`]).
    pub retention: Retention,
    /// How often retention looks for events to prune.
    pub retention_interval: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            node: "local".into(),
            heartbeat: Duration::from_secs(25),
            queue_capacity: 1024,
            max_message_size: 64 * 1024,
            recent_events: 8192,
            broadcast_token: None,
            allowed_ips: Vec::new(),
            trusted_proxies: Vec::new(),
            websocket_enabled: true,
            websocket_timeout: Duration::from_secs(5),
            max_connections_per_ip: 1000,
            max_http_connections_per_ip: 256,
            header_timeout: Duration::from_secs(15),
            client_rate: 20,
            max_invalid_messages: 10,
            presence_idle_after: Duration::from_secs(300),
            poll_interval: Duration::from_secs(1),
            pusher_apps: Vec::new(),
            retention: Retention::default(),
            retention_interval: Duration::from_secs(60),
        }
    }
}
