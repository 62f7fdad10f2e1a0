//! The test harness: a real hub on 127.0.0.1:0 with a fresh database per test, and real
//! WebSocket and HTTP clients.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use futures_util::{SinkExt, StreamExt};
use ictdesk_hub::{Database, Hub, HubConfig, HubTokens, NoApplication, Secret};
use ictdesk_testing::TestDatabase;
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::oneshot};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, protocol::CloseFrame},
};

pub const BROADCAST_TOKEN: &str = "test-broadcast-token";
pub const HUB_SECRET: &str = "test-hub-secret";
/// Upper bound for anything a test waits for; never a pacing sleep.
pub const PATIENCE: Duration = Duration::from_secs(15);

/// Where a test's database lives.
pub enum Backend {
    Sqlite,
    Postgres(TestDatabase),
}

impl Backend {
    /// A fresh PostgreSQL database (see `ictdesk_testing::fresh_postgres`).
    pub async fn postgres() -> Option<Backend> {
        ictdesk_testing::fresh_postgres("hub")
            .await
            .map(Backend::Postgres)
    }
}

pub struct TestHub {
    pub addr: SocketAddr,
    /// The database's URL, for tests that look at it directly.
    pub database_url: String,
    pub hub: Hub,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    /// Owned by the first node; others share them.
    _dir: Option<tempfile::TempDir>,
    _database: Option<TestDatabase>,
}

pub fn test_config() -> HubConfig {
    HubConfig {
        broadcast_token: Some(Secret::new(BROADCAST_TOKEN)),
        max_connections_per_ip: 0,
        poll_interval: Duration::from_millis(200),
        ..HubConfig::default()
    }
}

pub async fn spawn_hub() -> TestHub {
    spawn_hub_with(Backend::Sqlite, test_config()).await
}

pub async fn spawn_hub_with(backend: Backend, config: HubConfig) -> TestHub {
    init_logs();
    let dir = tempfile::tempdir().expect("temporary directory");
    let (url, dropped) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("hub.db").display()),
            None,
        ),
        Backend::Postgres(database) => (database.url().to_owned(), Some(database)),
    };
    let mut app = start_node(&url, config).await;
    app._dir = Some(dir);
    app._database = dropped;
    app
}

/// A hub node on the database at `url`, serving on a free port.
async fn start_node(url: &str, config: HubConfig) -> TestHub {
    let database = Database::connect(url).await.expect("database");
    let identify = Arc::new(HubTokens::new(
        Some(&Secret::new(HUB_SECRET)),
        Duration::from_secs(2 * 3600),
    ));
    let hub = Hub::start(
        config,
        database.event_log(),
        Arc::new(NoApplication),
        identify,
    )
    .await
    .expect("hub starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = oneshot::channel::<()>();
    let router = ictdesk_hub::router(hub.clone());
    tokio::spawn(ictdesk_hub::http::serve(
        listener,
        router,
        hub.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    TestHub {
        addr,
        database_url: url.to_owned(),
        hub,
        http: reqwest::Client::new(),
        stop: Some(stop),
        _dir: None,
        _database: None,
    }
}

/// Logs only when `TEST_LOG` is set.
fn init_logs() {
    static INIT: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("TEST_LOG").is_some() {
        INIT.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_test_writer()
                .with_env_filter("info")
                .try_init();
        });
    }
}

impl TestHub {
    /// Another node of this hub's cluster: the same database (several nodes share a
    /// PostgreSQL one), a server of its own. Drop it before this one.
    pub async fn another_node(&self, config: HubConfig) -> TestHub {
        start_node(&self.database_url, config).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn connect(&self, query: &str) -> WsClient {
        WsClient::connect(&format!("ws://{}/ws{query}", self.addr)).await
    }

    /// Publishes through `POST /broadcast` and returns the id.
    pub async fn publish(&self, kind: &str, data: Value, audience: Option<Value>) -> i64 {
        let mut body = json!({"type": kind, "data": data});
        if let Some(audience) = audience {
            body["audience"] = audience;
        }
        let response = self
            .http
            .post(self.url("/broadcast"))
            .bearer_auth(BROADCAST_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("broadcast request");
        assert_eq!(
            response.status(),
            202,
            "broadcast answered {}",
            response.status()
        );
        let reply: Value = response.json().await.expect("JSON reply");
        reply["id"].as_i64().expect("id in the reply")
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).send().await.expect("GET");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A GET that must be answered within [`PATIENCE`] (a long poll that should end
    /// early, before its `wait`).
    pub async fn get_within(&self, path: &str) -> (u16, Value) {
        tokio::time::timeout(PATIENCE, self.get(path))
            .await
            .unwrap_or_else(|_| panic!("{path} was not answered in time"))
    }

    /// Polls `/messages` from `since` until `count` events arrived; returns their ids.
    pub async fn poll_ids(&self, since: i64, count: usize, token: Option<&str>) -> Vec<i64> {
        let mut ids = Vec::new();
        let mut cursor = since;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while ids.len() < count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "polling got {ids:?}, wanted {count}"
            );
            let mut path = format!("/messages?since={cursor}&wait=5");
            if let Some(token) = token {
                path.push_str(&format!("&token={token}"));
            }
            let (status, page) = self.get(&path).await;
            assert_eq!(status, 200, "{page}");
            for message in page["messages"].as_array().expect("messages") {
                ids.push(message["id"].as_i64().expect("id"));
            }
            cursor = page["last_id"].as_i64().expect("last_id");
        }
        ids
    }

    /// A value from `/metrics`.
    pub async fn metric(&self, name: &str) -> i64 {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics");
        let text = text.text().await.expect("metrics text");
        text.lines()
            .find_map(|line| {
                line.strip_prefix(name)?
                    .strip_prefix(' ')?
                    .parse::<f64>()
                    .ok()
            })
            .map(|value| value as i64)
            .unwrap_or_else(|| panic!("no metric {name} in\n{text}"))
    }

    pub async fn wait_for_metric(&self, name: &str, value: i64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.metric(name).await != value {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{name} never reached {value}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the hub has delivered event `id` live: `POST /broadcast` answers once
    /// the event is committed, before the fan-out, and a poll without `wait` only sees
    /// delivered events.
    pub async fn wait_for_delivery(&self, id: i64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.hub.head() < id {
            assert!(
                tokio::time::Instant::now() < deadline,
                "event {id} never delivered"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub async fn client_count(&self) -> i64 {
        self.get("/clients").await.1["clients"]
            .as_i64()
            .expect("clients")
    }

    /// Waits until `/clients` reports `count`.
    pub async fn wait_for_clients(&self, count: i64) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while self.client_count().await != count {
            assert!(
                tokio::time::Instant::now() < deadline,
                "clients never reached {count}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A signed viewer token for `ICTDESK_HUB_SECRET`, valid for an hour.
pub fn token(user_id: i64, role: &str) -> String {
    signed(
        &json!({"sub": user_id.to_string(), "role": role, "exp": now_secs() + 3600,
                   "name": format!("User {user_id}")}),
    )
}

/// Any claims, signed with `ICTDESK_HUB_SECRET`.
pub fn signed(claims: &Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(HUB_SECRET.as_bytes()),
    )
    .expect("token")
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub welcome: Value,
}

/// What a client saw next.
#[derive(Debug)]
pub enum Received {
    Json(Value),
    Closed(Option<CloseFrame>),
}

impl WsClient {
    pub async fn connect(url: &str) -> WsClient {
        let (stream, _) = connect_async(url).await.expect("WebSocket handshake");
        let mut client = WsClient {
            stream,
            welcome: Value::Null,
        };
        client.welcome = client.next_json().await;
        assert_eq!(
            client.welcome["type"], "welcome",
            "first frame: {}",
            client.welcome
        );
        client
    }

    pub fn last_id(&self) -> i64 {
        self.welcome["last_id"].as_i64().expect("welcome.last_id")
    }

    pub async fn receive(&mut self) -> Received {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("a frame within the patience limit");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return Received::Json(
                        serde_json::from_str(text.as_str()).expect("server frames are JSON"),
                    );
                }
                Some(Ok(Message::Close(frame))) => return Received::Closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }

    pub async fn next_json(&mut self) -> Value {
        match self.receive().await {
            Received::Json(value) => value,
            Received::Closed(frame) => panic!("connection closed: {frame:?}"),
        }
    }

    /// The next `count` events (frames with an id), skipping presence and the like.
    pub async fn events(&mut self, count: usize) -> Vec<Value> {
        let mut events = Vec::with_capacity(count);
        while events.len() < count {
            let frame = self.next_json().await;
            if frame.get("id").is_some() {
                events.push(frame);
            }
        }
        events
    }

    pub async fn event_ids(&mut self, count: usize) -> Vec<i64> {
        self.events(count)
            .await
            .iter()
            .map(|event| event["id"].as_i64().expect("id"))
            .collect()
    }

    pub async fn send_json(&mut self, value: Value) {
        self.send(Message::text(value.to_string())).await;
    }

    pub async fn send(&mut self, message: Message) {
        self.stream.send(message).await.expect("send");
    }

    /// Reads until the server closes; returns the close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match self.receive().await {
                Received::Json(_) => continue,
                Received::Closed(frame) => return frame.map(|frame| u16::from(frame.code)),
            }
        }
    }

    /// Asserts that nothing with an id arrives before a ping/pong round trip completes.
    pub async fn assert_no_event_pending(&mut self) {
        self.send_json(json!({"type": "ping"})).await;
        loop {
            let frame = self.next_json().await;
            assert!(frame.get("id").is_none(), "unexpected event {frame}");
            if frame["type"] == "pong" {
                return;
            }
        }
    }
}
