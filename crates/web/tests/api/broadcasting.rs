//! The desk on Pusher channels: `/broadcasting/auth` signs only what the signed-in user
//! may follow, and the desk's events reach `private-user.{id}`, `private-role.{role}` and
//! `presence-ticket.{id}` subscribers as their rights allow (a raw Pusher client here;
//! Laravel Echo itself is exercised against the hub in crates/hub/tests/pusher).

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

use crate::helpers::{Client, PATIENCE, TestApp, spawn_app};

pub struct PusherClient {
    stream: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
    socket_id: String,
}

impl PusherClient {
    pub async fn connect(app: &TestApp) -> PusherClient {
        let url = format!("ws://{}/app/desk-key?protocol=7", app.addr);
        let (stream, _) = connect_async(url).await.expect("handshake");
        let mut client = PusherClient {
            stream,
            socket_id: String::new(),
        };
        let hello = client.next().await;
        let data: Value =
            serde_json::from_str(hello["data"].as_str().expect("data")).expect("JSON data");
        client.socket_id = data["socket_id"].as_str().expect("socket_id").to_owned();
        client
    }

    pub async fn next(&mut self) -> Value {
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.stream.next())
                .await
                .expect("a frame in time")
                .expect("open")
                .expect("a frame");
            if let Message::Text(text) = frame {
                return serde_json::from_str(text.as_str()).expect("JSON");
            }
        }
    }

    /// Authorises through `/broadcasting/auth` as `session`, then subscribes.
    pub async fn subscribe(&mut self, app: &TestApp, session: &Client, channel: &str) {
        let auth = authorize(app, session, &self.socket_id, channel).await;
        assert_eq!(auth.0, 200, "{}", auth.1);
        let mut data = json!({"channel": channel, "auth": auth.1["auth"]});
        if let Some(channel_data) = auth.1.get("channel_data") {
            data["channel_data"] = channel_data.clone();
        }
        self.send(json!({"event": "pusher:subscribe", "data": data}))
            .await;
        let reply = self.next().await;
        assert_eq!(
            reply["event"], "pusher_internal:subscription_succeeded",
            "{reply}"
        );
    }

    /// Subscribes to a public channel (no authorisation).
    pub async fn subscribe_public(&mut self, channel: &str) {
        self.send(json!({"event": "pusher:subscribe", "data": {"channel": channel}}))
            .await;
        let reply = self.next().await;
        assert_eq!(
            reply["event"], "pusher_internal:subscription_succeeded",
            "{reply}"
        );
    }

    async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// The next desk event (skipping protocol frames): its name and decoded data.
    async fn event(&mut self) -> (String, Value) {
        loop {
            let frame = self.next().await;
            if frame.get("id").is_some() {
                let data = serde_json::from_str(frame["data"].as_str().expect("a string"))
                    .expect("JSON data");
                return (frame["event"].as_str().unwrap_or_default().to_owned(), data);
            }
        }
    }

    /// Nothing with an id waits ahead of a pong.
    async fn assert_nothing_pending(&mut self) {
        self.send(json!({"event": "pusher:ping", "data": {}})).await;
        loop {
            let frame = self.next().await;
            assert!(frame.get("id").is_none(), "unexpected {frame}");
            if frame["event"] == "pusher:pong" {
                return;
            }
        }
    }
}

/// `POST /broadcasting/auth` as Laravel Echo sends it: a form, the session cookie and
/// the CSRF token (or an API token).
async fn authorize(
    app: &TestApp,
    session: &Client,
    socket_id: &str,
    channel: &str,
) -> (u16, Value) {
    let mut request = app
        .http
        .post(app.url("/broadcasting/auth"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("socket_id={socket_id}&channel_name={channel}"));
    if let Some(cookie) = &session.cookie {
        request = request.header("Cookie", format!("ictdesk_session={cookie}"));
    }
    if let Some(csrf) = &session.csrf {
        request = request.header("X-CSRF-TOKEN", csrf);
    }
    if let Some(token) = &session.token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn broadcasting_auth_signs_only_what_the_user_may_follow() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let other = app.login_as(&app.other).await;
    let ticket = app.create_ticket(&owner, "Printer").await;
    let ticket_channel = format!("presence-ticket.{}", ticket["id"]);
    let allowed = [
        format!("private-user.{}", app.owner.id),
        "private-role.requester".to_owned(),
        ticket_channel.clone(),
    ];
    for channel in &allowed {
        let (status, body) = authorize(&app, &owner, "1.2", channel).await;
        assert_eq!(status, 200, "{channel}: {body}");
        assert!(
            body["auth"]
                .as_str()
                .is_some_and(|auth| auth.starts_with("desk-key:"))
        );
    }
    let (_, presence) = authorize(&app, &owner, "1.2", &ticket_channel).await;
    let member: Value =
        serde_json::from_str(presence["channel_data"].as_str().expect("channel_data"))
            .expect("JSON");
    assert_eq!(member["user_id"], app.owner.id);
    assert_eq!(member["user_info"]["role"], "requester");

    for channel in [
        format!("private-user.{}", app.other.id),
        "private-role.agent".to_owned(),
        "orders".to_owned(),
    ] {
        let (status, body) = authorize(&app, &owner, "1.2", &channel).await;
        assert_eq!(status, 403, "{channel}: {body}");
        assert!(body["error"].is_string());
    }
    assert_eq!(authorize(&app, &other, "1.2", &ticket_channel).await.0, 403);
    assert_eq!(
        authorize(&app, &owner.without_csrf(), "1.2", &allowed[0])
            .await
            .0,
        403
    );
    assert_eq!(
        authorize(&app, &Client::default(), "1.2", &allowed[0])
            .await
            .0,
        401
    );
}

#[tokio::test]
async fn desk_events_reach_user_role_and_ticket_channels_as_rights_allow() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let other = app.login_as(&app.other).await;
    let agent = app.login_as(&app.agent).await;

    let mut owners = PusherClient::connect(&app).await;
    owners
        .subscribe(&app, &owner, &format!("private-user.{}", app.owner.id))
        .await;
    let mut others = PusherClient::connect(&app).await;
    others
        .subscribe(&app, &other, &format!("private-user.{}", app.other.id))
        .await;
    let mut agents = PusherClient::connect(&app).await;
    agents.subscribe(&app, &agent, "private-role.agent").await;

    let ticket = app.create_ticket(&owner, "Laptop").await;
    let (name, data) = owners.event().await;
    assert_eq!(name, "ticket_created");
    assert_eq!(data["ticket"]["id"], ticket["id"]);
    assert_eq!(agents.event().await.0, "ticket_created");
    others.assert_nothing_pending().await;

    // On the ticket's channel an internal comment reaches the agent, not the requester.
    let channel = format!("presence-ticket.{}", ticket["id"]);
    let mut owner_on_ticket = PusherClient::connect(&app).await;
    owner_on_ticket.subscribe(&app, &owner, &channel).await;
    let mut agent_on_ticket = PusherClient::connect(&app).await;
    agent_on_ticket.subscribe(&app, &agent, &channel).await;
    let path = format!("/api/v1/tickets/{}/comments", ticket["id"]);
    app.post(
        &agent,
        &path,
        json!({"body": "Check the PSU", "internal": true}),
    )
    .await
    .expect(201);
    app.post(&agent, &path, json!({"body": "On my way"}))
        .await
        .expect(201);
    let (first, internal) = agent_on_ticket.event().await;
    assert_eq!(first, "ticket_comment_created");
    assert_eq!(internal["comment"]["body"], "Check the PSU");
    let (_, public) = owner_on_ticket.event().await;
    assert_eq!(
        public["comment"]["body"], "On my way",
        "the internal note stays with staff"
    );
}
