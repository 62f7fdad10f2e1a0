//! A live connection acts for its viewer as they are now (issue 9 point 1). On two nodes
//! of one desk, a person ("Vera", an agent) has connections open on both when something
//! changes who she is: a demotion, a logout, a password change, a revoked API token, her
//! session's end. Every change of every kind follows at once, and:
//! * a connection whose rights are gone or different closes with 1008 and a reason the
//!   page understands, having received nothing from after the change;
//! * whatever she can still open — sockets on both nodes resuming from the change,
//!   polls on both nodes — carries exactly what her new rights allow, for all the desk's
//!   event types (the leak matrix of `leaks.rs`);
//! * a connection that still stands for her as she is (another session) carries on.

use serde_json::{Value, json};

use crate::{
    helpers::{Backend, Client, PASSWORD, TestApp, WsClient, spawn_app_with, web_config},
    leaks::{Expected, Viewers, expected_for, label, make_every_change, sign_in_everyone},
};

/// Two nodes of one desk and everyone of the leak matrix signed in.
struct Cluster {
    a: TestApp,
    b: TestApp,
    viewers: Viewers,
}

impl Cluster {
    async fn start(backend: Backend, config: ictdesk_web::WebConfig) -> Cluster {
        let a = spawn_app_with(backend, config).await;
        let b = a.another_node().await;
        let viewers = sign_in_everyone(&a).await;
        Cluster { a, b, viewers }
    }

    fn nodes(&self) -> [&TestApp; 2] {
        [&self.a, &self.b]
    }

    /// Vera, a new agent, signed in once; returns her id and session.
    async fn vera(&self) -> (i64, Client) {
        let admin = self.viewers.get("admin");
        let id = self
            .a
            .post(
                admin,
                "/api/v1/users",
                json!({"name": "Vera Victim", "email": "vera@test.local", "role": "agent",
                       "password": PASSWORD}),
            )
            .await
            .expect(201)
            .id();
        (id, self.a.sign_in("vera@test.local", id).await)
    }

    /// A socket on each node.
    async fn sockets(&self, client: &Client) -> Vec<WsClient> {
        let mut sockets = Vec::new();
        for node in self.nodes() {
            sockets.push(node.ws_connect(client, None).await);
        }
        sockets
    }

    /// Right after a change: every kind of change once more, then the sentinel. Returns
    /// who must see what, and where the change ended (the log's head before these).
    async fn everything_after_the_change(&self) -> (i64, Vec<Expected>) {
        let boundary = self.a.log_head().await;
        let expected = make_every_change(&self.a, &self.viewers).await;
        self.a.broadcast_sentinel().await;
        (boundary, expected)
    }

    /// What `client` gets after `boundary`, over a socket resuming from it and over
    /// polling, on each node: exactly what viewer `letter` may see.
    async fn sees_as(&self, client: &Client, boundary: i64, letter: char, expected: &[Expected]) {
        let want = expected_for(letter, expected);
        for (name, node) in [("a", &self.a), ("b", &self.b)] {
            let mut socket = node.ws_connect(client, Some(boundary)).await;
            let got = labels(&socket.events_until("sentinel").await);
            assert_eq!(got, want, "WebSocket resuming on node {name}");
            let got = labels(&node.poll_until(client, boundary, "sentinel").await);
            assert_eq!(got, want, "polling on node {name}");
        }
    }

    /// Nothing can be opened with `client` any more: polls and handshakes are refused
    /// on both nodes, saying the session ended.
    async fn is_shut_out(&self, client: &Client, boundary: i64) {
        for node in self.nodes() {
            let refused = node
                .get(client, &format!("/messages?since={boundary}"))
                .await
                .expect(401);
            let error = refused.body["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("session ended") || error.contains("revoked"),
                "{}",
                refused.body
            );
            assert_eq!(node.ws_refusal(client).await, 401);
        }
    }
}

fn labels(events: &[Value]) -> Vec<String> {
    events.iter().map(label).collect()
}

/// The socket closes with 1008 and `reason`, and nothing it received came after the
/// change.
async fn closes(socket: &mut WsClient, reason: &str, boundary: i64) {
    let (events, frame) = socket.events_until_closed().await;
    let frame = frame.expect("a close frame");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1008, reason)
    );
    let late: Vec<&Value> = events
        .iter()
        .filter(|event| event["id"].as_i64().unwrap_or_default() > boundary)
        .collect();
    assert!(late.is_empty(), "received after the change: {late:?}");
}

/// A socket that carries on: what it receives after the change is what `letter` may see.
async fn carries_on(socket: &mut WsClient, boundary: i64, letter: char, expected: &[Expected]) {
    let after: Vec<Value> = socket
        .events_until("sentinel")
        .await
        .into_iter()
        .filter(|event| event["id"].as_i64().unwrap_or_default() > boundary)
        .collect();
    assert_eq!(labels(&after), expected_for(letter, expected));
}

async fn demotion(backend: Backend) {
    let c = Cluster::start(backend, web_config()).await;
    let (vera_id, vera) = c.vera().await;
    let mut sockets = c.sockets(&vera).await;
    // The admin watches the ticket Vera works on; she leaves the list with her role.
    let owner = c.viewers.get("owner");
    let ticket = c.a.create_ticket(owner, "Printer on fire").await;
    let ticket_id = ticket["id"].as_i64().expect("an id");
    let mut admin_socket = c.a.ws_connect(c.viewers.get("admin"), None).await;
    admin_socket
        .send(json!({"type": "view", "ticket_id": ticket_id}))
        .await;
    sockets[0]
        .send(json!({"type": "view", "ticket_id": ticket_id}))
        .await;
    while !present(&admin_socket.reply("presence").await).contains(&vera_id) {}

    c.a.patch(
        c.viewers.get("admin"),
        &format!("/api/v1/users/{vera_id}"),
        json!({"role": "requester"}),
    )
    .await
    .expect(200);
    let (boundary, expected) = c.everything_after_the_change().await;

    for socket in &mut sockets {
        closes(socket, "role changed", boundary).await;
    }
    while present(&admin_socket.reply("presence").await).contains(&vera_id) {}
    c.sees_as(&vera, boundary, 'q', &expected).await;
}

/// The user ids on a presence list.
fn present(frame: &Value) -> Vec<i64> {
    frame["viewers"]
        .as_array()
        .map(|viewers| {
            viewers
                .iter()
                .filter_map(|viewer| viewer["user_id"].as_i64())
                .collect()
        })
        .unwrap_or_default()
}

async fn logout(backend: Backend) {
    let c = Cluster::start(backend, web_config()).await;
    let (vera_id, vera) = c.vera().await;
    let elsewhere = c.b.sign_in("vera@test.local", vera_id).await;
    let mut sockets = c.sockets(&vera).await;
    let mut other_device = c.b.ws_connect(&elsewhere, None).await;

    c.a.delete(&vera, "/api/v1/session").await.expect(204);
    let (boundary, expected) = c.everything_after_the_change().await;

    for socket in &mut sockets {
        closes(socket, "session ended", boundary).await;
    }
    c.is_shut_out(&vera, boundary).await;
    carries_on(&mut other_device, boundary, 'g', &expected).await;
    c.sees_as(&elsewhere, boundary, 'g', &expected).await;
}

/// A password change ends Vera's other sessions (the desk's side): their connections
/// close on both nodes; the session that changed it carries on.
async fn password_change(backend: Backend) {
    let c = Cluster::start(backend, web_config()).await;
    let (vera_id, vera) = c.vera().await;
    let changer = c.b.sign_in("vera@test.local", vera_id).await;
    let mut sockets = c.sockets(&vera).await;
    let mut changers_socket = c.b.ws_connect(&changer, None).await;

    c.b.patch(
        &changer,
        &format!("/api/v1/users/{vera_id}"),
        json!({"password": "a brand new passphrase", "current_password": PASSWORD}),
    )
    .await
    .expect(200);
    let (boundary, expected) = c.everything_after_the_change().await;

    for socket in &mut sockets {
        closes(socket, "session ended", boundary).await;
    }
    c.is_shut_out(&vera, boundary).await;
    carries_on(&mut changers_socket, boundary, 'g', &expected).await;
    c.sees_as(&changer, boundary, 'g', &expected).await;
}

async fn token_revoked(backend: Backend) {
    let c = Cluster::start(backend, web_config()).await;
    let (_, vera) = c.vera().await;
    let token = c.a.token_client(&vera).await;
    let listed = c.a.get(&vera, "/api/v1/tokens").await.expect(200);
    let token_id = listed.body["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a token in {}", listed.body));
    let mut sockets = c.sockets(&token).await;
    let mut session_socket = c.b.ws_connect(&vera, None).await;

    c.a.delete(&vera, &format!("/api/v1/tokens/{token_id}"))
        .await
        .expect(204);
    let (boundary, expected) = c.everything_after_the_change().await;

    for socket in &mut sockets {
        closes(socket, "session ended", boundary).await;
    }
    c.is_shut_out(&token, boundary).await;
    carries_on(&mut session_socket, boundary, 'g', &expected).await;
    c.sees_as(&vera, boundary, 'g', &expected).await;
}

/// Sessions of three seconds: Vera's connections close when hers ends, on both nodes,
/// and nothing more is delivered to her.
async fn session_expiry(backend: Backend) {
    let mut config = web_config();
    config.desk.session_lifetime = std::time::Duration::from_secs(3);
    let c = Cluster::start(backend, config).await;
    let (_, vera) = c.vera().await;
    let start = c.a.log_head().await;
    let mut sockets = c.sockets(&vera).await;
    for socket in &mut sockets {
        let (events, frame) = socket.events_until_closed().await;
        let frame = frame.expect("a close frame");
        assert_eq!(
            (u16::from(frame.code), frame.reason.as_str()),
            (1008, "session ended")
        );
        assert!(events.is_empty(), "{events:?}");
    }
    c.is_shut_out(&vera, start).await;
}

/// Issue 9.6: `resume` replays for the viewer as they are now. The role changes behind
/// the desk's back (no event, as if its notice were lost): the resume itself notices.
async fn a_resume_replays_for_the_viewer_as_they_are_now(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "Disk full").await;
    app.post(
        &agent,
        &format!("/api/v1/tickets/{}/comments", ticket["id"]),
        json!({"body": "The owner deleted it himself", "internal": true}),
    )
    .await
    .expect(201);
    // The comment is answered at commit, before the fan-out: let it be delivered first,
    // or the socket opened next gets it live instead of only through the resume.
    let comment = app.log_head().await;
    let deadline = tokio::time::Instant::now() + crate::helpers::PATIENCE;
    while app.hub.head() < comment {
        assert!(tokio::time::Instant::now() < deadline, "never delivered");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let mut socket = app.ws_connect(&agent, None).await;
    app.set_role_unannounced(app.agent.id, "requester").await;

    socket.send(json!({"type": "resume", "since": 0})).await;
    let (replayed, frame) = socket.events_until_closed().await;
    let frame = frame.expect("a close frame");
    assert_eq!(
        (u16::from(frame.code), frame.reason.as_str()),
        (1008, "role changed")
    );
    assert!(replayed.is_empty(), "{replayed:?}");
}

on_both_databases!(
    demotion,
    logout,
    password_change,
    token_revoked,
    session_expiry,
    a_resume_replays_for_the_viewer_as_they_are_now,
);
