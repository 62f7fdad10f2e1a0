//! The test harness: the whole desk (API + hub) on 127.0.0.1:0 with a fresh database
//! per test, four people in it, and real HTTP and WebSocket clients.

use ictdesk_testing::{TestDatabase, desk_events::check_if_desk_event};
use std::{net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use ictdesk_desk::{
    Desk, DeskOptions, PasswordCost,
    users::{NewUser, User},
};
use ictdesk_hub::{Database, Hub, HubConfig, Secret};
use ictdesk_web::{App, WebConfig};
use reqwest::{Method, header::HeaderMap};
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::oneshot};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async,
    tungstenite::{Message, client::IntoClientRequest, protocol::CloseFrame},
};

pub const PASSWORD: &str = "correct horse";
pub const BROADCAST_TOKEN: &str = "test-broadcast-token";
/// The Pusher app (`ID:KEY:SECRET`) the desk's channels are served on.
pub const PUSHER_APP: &str = "1001:desk-key:desk-secret";
/// Upper bound for anything a test waits for; never a pacing sleep.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub enum Backend {
    Sqlite,
    Postgres(TestDatabase),
}

impl Backend {
    /// A fresh PostgreSQL database (see `ictdesk_testing::fresh_postgres`).
    pub async fn postgres() -> Option<Backend> {
        ictdesk_testing::fresh_postgres("web")
            .await
            .map(Backend::Postgres)
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub hub: Hub,
    pub http: reqwest::Client,
    pub admin: User,
    pub agent: User,
    /// A requester who files the tickets in the tests.
    pub owner: User,
    /// Another requester, who must never learn about the owner's tickets.
    pub other: User,
    /// The database, for another node of the same desk.
    url: String,
    config: WebConfig,
    stop: Option<oneshot::Sender<()>>,
    _dir: Option<tempfile::TempDir>,
    _database: Option<TestDatabase>,
}

pub fn web_config() -> WebConfig {
    WebConfig {
        desk: DeskOptions {
            password_cost: PasswordCost::TestsOnly,
            ..DeskOptions::default()
        },
        ..WebConfig::default()
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(Backend::Sqlite, web_config()).await
}

pub async fn spawn_app_with(backend: Backend, config: WebConfig) -> TestApp {
    init_logs();
    let dir = tempfile::tempdir().expect("temporary directory");
    let (url, dropped) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("desk.db").display()),
            None,
        ),
        Backend::Postgres(database) => (database.url().to_owned(), Some(database)),
    };
    let (addr, hub, desk, stop) = serve(&url, config.clone()).await;
    TestApp {
        addr,
        admin: add_user(&desk, "Ada Admin", "admin@test.local", "admin").await,
        agent: add_user(&desk, "Gleb Agent", "agent@test.local", "agent").await,
        owner: add_user(&desk, "Olga Owner", "owner@test.local", "requester").await,
        other: add_user(&desk, "Oleg Other", "other@test.local", "requester").await,
        hub,
        http: reqwest::Client::new(),
        url,
        config,
        stop: Some(stop),
        _dir: Some(dir),
        _database: dropped,
    }
}

/// Builds the desk on `url` and serves it on 127.0.0.1:0 until the sender is used or
/// dropped.
async fn serve(url: &str, config: WebConfig) -> (SocketAddr, Hub, Desk, oneshot::Sender<()>) {
    let database = Database::connect(url).await.expect("database");
    let hub_config = HubConfig {
        broadcast_token: Some(Secret::new(BROADCAST_TOKEN)),
        pusher_apps: vec![PUSHER_APP.parse().expect("a Pusher app")],
        max_connections_per_ip: 0,
        poll_interval: Duration::from_millis(200),
        ..HubConfig::default()
    };
    let app = App::build(&database, hub_config, config)
        .await
        .expect("the app builds");
    let (hub, desk) = (app.hub.clone(), app.desk.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    (addr, hub, desk, stop)
}

impl TestApp {
    /// Another node of the same desk: a second server on the same database, as in a
    /// cluster, with the same people.
    pub async fn another_node(&self) -> TestApp {
        let (addr, hub, _desk, stop) = serve(&self.url, self.config.clone()).await;
        TestApp {
            addr,
            hub,
            http: reqwest::Client::new(),
            admin: self.admin.clone(),
            agent: self.agent.clone(),
            owner: self.owner.clone(),
            other: self.other.clone(),
            url: self.url.clone(),
            config: self.config.clone(),
            stop: Some(stop),
            _dir: None,
            _database: None,
        }
    }
}

async fn add_user(desk: &Desk, name: &str, email: &str, role: &str) -> User {
    desk.create_user_by_system(&NewUser {
        name: name.into(),
        email: email.into(),
        role: role.into(),
        password: PASSWORD.into(),
        ..NewUser::default()
    })
    .await
    .expect("a test user")
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

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// An answer: status, JSON body (`null` if none), headers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: HeaderMap,
}

impl Reply {
    /// An answer whose body is JSON (or nothing).
    async fn of(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.json().await.unwrap_or(Value::Null);
        Reply {
            status,
            body,
            headers,
        }
    }

    pub fn id(&self) -> i64 {
        self.body["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {}", self.body))
    }

    /// Asserts the status, showing the body if it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status, status, "answer: {}", self.body);
        self
    }
}

/// Someone using the API: anonymous, signed in by session, or with an API token.
#[derive(Clone, Default)]
pub struct Client {
    pub cookie: Option<String>,
    pub csrf: Option<String>,
    pub token: Option<String>,
    pub user_id: Option<i64>,
}

impl Client {
    /// The same session without the CSRF token, as another site's form would send it.
    pub fn without_csrf(&self) -> Client {
        Client {
            csrf: None,
            ..self.clone()
        }
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn send(
        &self,
        client: &Client,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.request(client, method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("an HTTP answer");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            body,
            headers,
        }
    }

    /// A request carrying the client's session (with its CSRF token) or API token.
    pub fn request(&self, client: &Client, method: Method, path: &str) -> reqwest::RequestBuilder {
        let mut request = self.http.request(method, self.url(path));
        if let Some(cookie) = &client.cookie {
            request = request.header("Cookie", format!("ictdesk_session={cookie}"));
        }
        if let Some(csrf) = &client.csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        if let Some(token) = &client.token {
            request = request.bearer_auth(token);
        }
        request
    }

    /// A page's HTML, as a signed-in browser gets it.
    pub async fn get_html(&self, client: &Client, path: &str) -> String {
        let mut request = self.http.get(self.url(path));
        if let Some(cookie) = &client.cookie {
            request = request.header("Cookie", format!("ictdesk_session={cookie}"));
        }
        let response = request.send().await.expect("an HTTP answer");
        assert_eq!(response.status().as_u16(), 200, "GET {path}");
        response.text().await.expect("a body")
    }

    pub async fn get(&self, client: &Client, path: &str) -> Reply {
        self.send(client, Method::GET, path, None).await
    }

    pub async fn post(&self, client: &Client, path: &str, body: Value) -> Reply {
        self.send(client, Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, client: &Client, path: &str, body: Value) -> Reply {
        self.send(client, Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, client: &Client, path: &str) -> Reply {
        self.send(client, Method::DELETE, path, None).await
    }

    /// Posts a raw body (for malformed JSON).
    pub async fn post_raw(&self, client: &Client, path: &str, body: &'static str) -> Reply {
        let mut request = self
            .http
            .post(self.url(path))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(cookie) = &client.cookie {
            request = request.header("Cookie", format!("ictdesk_session={cookie}"));
        }
        if let Some(csrf) = &client.csrf {
            request = request.header("X-CSRF-Token", csrf);
        }
        Reply::of(request.send().await.expect("an HTTP answer")).await
    }

    /// `POST /api/v1/session`, returning the whole answer.
    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            &Client::default(),
            "/api/v1/session",
            json!({"email": email, "password": password}),
        )
        .await
    }

    /// Logs in with the test password and keeps the session cookie and CSRF token.
    pub async fn login_as(&self, user: &User) -> Client {
        self.sign_in(&user.email, user.id).await
    }

    /// Logs in by email with the test password (someone made during the test).
    pub async fn sign_in(&self, email: &str, user_id: i64) -> Client {
        let reply = self.login(email, PASSWORD).await.expect(200);
        let cookie = reply
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.strip_prefix("ictdesk_session="))
            .and_then(|value| value.split(';').next())
            .expect("a session cookie")
            .to_owned();
        Client {
            cookie: Some(cookie),
            csrf: reply.body["csrf_token"].as_str().map(str::to_owned),
            token: None,
            user_id: Some(user_id),
        }
    }

    /// Creates an API token for a signed-in client and returns a client using it.
    pub async fn token_client(&self, session: &Client) -> Client {
        let reply = self
            .post(session, "/api/v1/tokens", json!({"name": "integration"}))
            .await
            .expect(201);
        Client {
            token: reply.body["secret"].as_str().map(str::to_owned),
            user_id: session.user_id,
            ..Client::default()
        }
    }

    pub async fn create_ticket(&self, client: &Client, title: &str) -> Value {
        self.post(
            client,
            "/api/v1/tickets",
            json!({"title": title, "description": "It does not work", "priority": "high"}),
        )
        .await
        .expect(201)
        .body
    }

    /// Changes a role in the database directly, with no event: as if the notice of a
    /// change were lost, for what must not depend on it.
    pub async fn set_role_unannounced(&self, user_id: i64, role: &str) {
        let statement = "UPDATE users SET role = $1 WHERE id = $2";
        let done = match Database::connect(&self.url).await.expect("database") {
            Database::Sqlite(db) => sqlx::query(statement)
                .bind(role)
                .bind(user_id)
                .execute(&db.writer)
                .await
                .map(|done| done.rows_affected()),
            Database::Postgres(db) => sqlx::query(statement)
                .bind(role)
                .bind(user_id)
                .execute(&db.pool)
                .await
                .map(|done| done.rows_affected()),
        };
        assert_eq!(done.expect("the update runs"), 1);
    }

    /// The newest event id in the log.
    pub async fn log_head(&self) -> i64 {
        self.hub.log().head().await.expect("the log's head")
    }

    /// `POST /broadcast` with the broadcast token, as another application would.
    pub async fn broadcast(&self, body: Value) -> Reply {
        let response = self
            .http
            .post(self.url("/broadcast"))
            .bearer_auth(BROADCAST_TOKEN)
            .json(&body)
            .send()
            .await
            .expect("broadcast");
        Reply::of(response).await
    }

    /// Publishes an event everyone may see (the anonymous included), through the hub.
    pub async fn broadcast_sentinel(&self) {
        self.broadcast(json!({"type": "sentinel", "data": {}}))
            .await
            .expect(202);
    }

    pub async fn ws_connect(&self, client: &Client, since: Option<i64>) -> WsClient {
        WsClient::connect(self.ws_request(client, since)).await
    }

    /// The HTTP status of a WebSocket handshake that is refused.
    pub async fn ws_refusal(&self, client: &Client) -> u16 {
        match connect_async(self.ws_request(client, None)).await {
            Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                response.status().as_u16()
            }
            other => panic!("expected the handshake to be refused, got {other:?}"),
        }
    }

    fn ws_request(
        &self,
        client: &Client,
        since: Option<i64>,
    ) -> tokio_tungstenite::tungstenite::handshake::client::Request {
        let query = since
            .map(|since| format!("?since={since}"))
            .unwrap_or_default();
        let mut request = format!("ws://{}/ws{query}", self.addr)
            .into_client_request()
            .expect("a WebSocket request");
        if let Some(cookie) = &client.cookie {
            request.headers_mut().insert(
                "Cookie",
                format!("ictdesk_session={cookie}")
                    .parse()
                    .expect("a header value"),
            );
        }
        if let Some(token) = &client.token {
            request.headers_mut().insert(
                "Authorization",
                format!("Bearer {token}").parse().expect("a header value"),
            );
        }
        request
    }

    /// Polls `/messages` from `since` until an event of type `last` arrives; returns the
    /// events before it.
    pub async fn poll_until(&self, client: &Client, since: i64, last: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor = since;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "polling never saw {last}; got {events:?}"
            );
            let page = self
                .get(client, &format!("/messages?since={cursor}&wait=5"))
                .await
                .expect(200)
                .body;
            for message in page["messages"].as_array().expect("messages") {
                check_if_desk_event(message);
                if message["type"] == last {
                    return events;
                }
                events.push(message.clone());
            }
            cursor = page["last_id"].as_i64().expect("last_id");
        }
    }
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
    async fn connect(
        request: tokio_tungstenite::tungstenite::handshake::client::Request,
    ) -> WsClient {
        let (stream, _) = connect_async(request).await.expect("WebSocket handshake");
        let mut client = WsClient {
            stream,
            welcome: Value::Null,
        };
        client.welcome = client.next_json().await;
        assert_eq!(client.welcome["type"], "welcome", "{}", client.welcome);
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    pub async fn next(&mut self) -> Received {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("a frame within the patience");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message = serde_json::from_str(&text).expect("JSON frame");
                    check_if_desk_event(&message);
                    return Received::Json(message);
                }
                Some(Ok(Message::Close(frame))) => return Received::Closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Received::Closed(None),
            }
        }
    }

    pub async fn next_json(&mut self) -> Value {
        match self.next().await {
            Received::Json(value) => value,
            Received::Closed(frame) => panic!("closed: {frame:?}"),
        }
    }

    /// Events (frames with an id) until one of type `last`; presence and replies are
    /// skipped.
    pub async fn events_until(&mut self, last: &str) -> Vec<Value> {
        let mut events = Vec::new();
        loop {
            let frame = self.next_json().await;
            if frame["type"] == last {
                return events;
            }
            if frame.get("id").is_some() {
                events.push(frame);
            }
        }
    }

    /// The next frame of `kind`, skipping events and presence.
    pub async fn reply(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next_json().await;
            if frame["type"] == kind || frame["type"] == "error" {
                return frame;
            }
        }
    }

    /// Every event until the server closes, and its close frame.
    pub async fn events_until_closed(&mut self) -> (Vec<Value>, Option<CloseFrame>) {
        let mut events = Vec::new();
        loop {
            match self.next().await {
                Received::Json(frame) if frame.get("id").is_some() => events.push(frame),
                Received::Json(_) => {}
                Received::Closed(frame) => return (events, frame),
            }
        }
    }

    /// Waits for the close frame, skipping anything sent before it.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            if let Received::Closed(frame) = self.next().await {
                return frame;
            }
        }
    }
}
