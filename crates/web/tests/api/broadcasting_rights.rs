//! A subscription to a desk channel acts for its subscriber as they are now (issue 9
//! point 1, on the Pusher transport). Vera, an agent, follows her user channel, the
//! agents' channel and a ticket's presence channel when something changes who she is —
//! a demotion, a logout, a revoked API token, her account blocked. Right after it one
//! change of every kind is made (the leak matrix of `leaks.rs`), and:
//! * a channel her new rights no longer allow ends (`pusher:subscription_error` on it,
//!   `pusher:error` 4009) having carried nothing from after the change, and she leaves
//!   the ticket's presence list;
//! * a channel she may still follow carries exactly what her new rights allow;
//! * a subscription granted to a session or token that still stands carries on;
//! * a session's end, found by the clock, ends what it was granted.

use std::time::{SystemTime, UNIX_EPOCH};

use ictdesk_hub::pusher::signature::{body_md5, request_string, sign};
use serde_json::{Value, json};

use crate::{
    broadcasting::PusherClient,
    helpers::{Backend, Client, PASSWORD, PUSHER_APP, TestApp, spawn_app_with, web_config},
    leaks::{Expected, Viewers, expected_for, label, make_every_change, sign_in_everyone},
};

/// A public channel on the same connection: what arrives on it last ends a reading.
const MARKER: &str = "marker";

/// One desk, everyone of the leak matrix signed in, Vera, and a ticket the admin watches.
struct Desk {
    app: TestApp,
    viewers: Viewers,
    vera_id: i64,
    ticket_id: i64,
    /// The admin on the ticket's presence channel.
    admin_on_ticket: PusherClient,
}

impl Desk {
    async fn start(backend: Backend) -> Desk {
        Desk::start_with(backend, web_config()).await
    }

    async fn start_with(backend: Backend, config: ictdesk_web::WebConfig) -> Desk {
        let app = spawn_app_with(backend, config).await;
        let viewers = sign_in_everyone(&app).await;
        let vera_id = app
            .post(
                viewers.get("admin"),
                "/api/v1/users",
                json!({"name": "Vera Victim", "email": "vera@test.local", "role": "agent",
                       "password": PASSWORD}),
            )
            .await
            .expect(201)
            .id();
        let ticket = app
            .create_ticket(viewers.get("owner"), "Printer on fire")
            .await;
        let ticket_id = ticket["id"].as_i64().expect("an id");
        let mut admin_on_ticket = PusherClient::connect(&app).await;
        admin_on_ticket
            .subscribe(&app, viewers.get("admin"), &ticket_channel(ticket_id))
            .await;
        Desk {
            app,
            viewers,
            vera_id,
            ticket_id,
            admin_on_ticket,
        }
    }

    async fn vera(&self) -> Client {
        self.app.sign_in("vera@test.local", self.vera_id).await
    }

    /// The desk channels an agent may follow, in the order they are subscribed.
    fn channels(&self) -> [String; 3] {
        [
            format!("private-user.{}", self.vera_id),
            "private-role.agent".to_owned(),
            ticket_channel(self.ticket_id),
        ]
    }

    /// A connection on every channel of [`Desk::channels`], granted to `client`, and on
    /// the marker.
    async fn follow(&self, client: &Client) -> PusherClient {
        let mut pusher = PusherClient::connect(&self.app).await;
        for channel in self.channels() {
            pusher.subscribe(&self.app, client, &channel).await;
        }
        pusher.subscribe_public(MARKER).await;
        pusher
    }

    /// Waits for the admin to see Vera join or leave the ticket's presence list.
    async fn member_event(&mut self, event: &str) {
        let vera = self.vera_id.to_string();
        loop {
            let frame = self.admin_on_ticket.next().await;
            let member = data_of(&frame);
            let user_id = match &member["user_id"] {
                Value::String(id) => id.clone(),
                other => other.to_string(),
            };
            if frame["event"] == event && user_id == vera {
                return;
            }
        }
    }

    /// Right after a change: two comments on the watched ticket (for staff and for
    /// all), every kind of change once more, then the marker. Returns where the change
    /// ended (the log's head before these) and who must see what.
    async fn everything_after_the_change(&self) -> (i64, Vec<Expected>) {
        let boundary = self.app.log_head().await;
        let comments = format!("/api/v1/tickets/{}/comments", self.ticket_id);
        let agent = self.viewers.get("agent");
        for (body, internal) in [("Check the fuser", true), ("On my way", false)] {
            self.app
                .post(
                    agent,
                    &comments,
                    json!({"body": body, "internal": internal}),
                )
                .await
                .expect(201);
        }
        let expected = make_every_change(&self.app, &self.viewers).await;
        publish(&self.app, MARKER).await;
        (boundary, expected)
    }

    async fn patch_vera(&self, change: Value) {
        self.app
            .patch(
                self.viewers.get("admin"),
                &format!("/api/v1/users/{}", self.vera_id),
                change,
            )
            .await
            .expect(200);
    }
}

fn ticket_channel(ticket_id: i64) -> String {
    format!("presence-ticket.{ticket_id}")
}

/// What the watched ticket's channel carries, for staff, of the two comments made after
/// the change.
fn ticket_comments_for_staff() -> Vec<String> {
    vec![
        "ticket_comment_created internal=true".to_owned(),
        "ticket_comment_created internal=false".to_owned(),
    ]
}

/// A frame's `data`, decoded when it is a JSON string (as the protocol sends it).
fn data_of(frame: &Value) -> Value {
    match &frame["data"] {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    }
}

/// Publishes an event on `channel` of the desk's Pusher app, signed as the SDKs sign.
async fn publish(app: &TestApp, channel: &str) {
    let pusher_app: ictdesk_hub::PusherApp = PUSHER_APP.parse().expect("a Pusher app");
    let path = format!("/apps/{}/events", pusher_app.id);
    let body = json!({"name": "marker", "channels": [channel], "data": "{}"}).to_string();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let mut params: Vec<(String, String)> = vec![
        ("auth_key".into(), pusher_app.key.clone()),
        ("auth_timestamp".into(), now.to_string()),
        ("auth_version".into(), "1.0".into()),
        ("body_md5".into(), body_md5(body.as_bytes())),
    ];
    let signature = sign(&pusher_app, &request_string("POST", &path, &params));
    params.push(("auth_signature".into(), signature));
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let response = app
        .http
        .post(app.url(&format!("{path}?{}", query.join("&"))))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("publish");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

/// What one connection received up to the marker, by channel.
struct Received {
    /// Each channel's desk events after the boundary, as `leaks::label`s.
    events: Vec<(String, String)>,
    /// The channels ended by the server, with the reason given.
    ended: Vec<(String, String)>,
    /// The codes of `pusher:error`s.
    errors: Vec<u64>,
}

impl Received {
    /// Reads up to the marker, and on until `settled`: a channel's end and the events
    /// held while its grant was checked again may come after the marker, which no
    /// check holds.
    async fn read(
        pusher: &mut PusherClient,
        boundary: i64,
        settled: impl Fn(&Received) -> bool,
    ) -> Received {
        let mut received = Received {
            events: Vec::new(),
            ended: Vec::new(),
            errors: Vec::new(),
        };
        let mut marked = false;
        while !(marked && settled(&received)) {
            let frame = pusher.next().await;
            let channel = frame["channel"].as_str().unwrap_or_default().to_owned();
            let data = data_of(&frame);
            match frame["event"].as_str().unwrap_or_default() {
                "marker" if channel == MARKER => marked = true,
                "pusher:subscription_error" => {
                    let reason = data["error"].as_str().unwrap_or_default().to_owned();
                    received.ended.push((channel, reason));
                }
                "pusher:error" => received.errors.push(data["code"].as_u64().unwrap_or(0)),
                kind if frame["id"].as_i64().is_some_and(|id| id > boundary) => {
                    let event = json!({"type": kind, "data": data});
                    received.events.push((channel, label(&event)));
                }
                _ => {}
            }
        }
        received
    }

    /// Whether every desk channel has ended.
    fn all_ended(&self) -> bool {
        self.ended.len() == 3
    }

    /// Whether an agent's channels have had what they carry of the change's events.
    fn has_all_for_an_agent(&self, desk: &Desk, expected: &[Expected]) -> bool {
        let [user, role, ticket] = desk.channels();
        let everything = ticket_comments_for_staff().len() + expected_for('g', expected).len();
        self.on(&user).len() >= everything
            && self.on(&role).len() >= everything
            && self.on(&ticket).len() >= ticket_comments_for_staff().len()
    }

    fn on(&self, channel: &str) -> Vec<String> {
        self.events
            .iter()
            .filter(|(on, _)| on == channel)
            .map(|(_, label)| label.clone())
            .collect()
    }

    /// `channel` ended for `reason` and carried nothing from after the change.
    fn ended(&self, channel: &str, reason: &str) {
        assert!(
            self.ended
                .iter()
                .any(|(on, why)| on == channel && why == reason),
            "{channel} not ended for '{reason}': {:?}",
            self.ended
        );
        assert!(self.errors.contains(&4009), "{:?}", self.errors);
        assert_eq!(self.on(channel), Vec::<String>::new(), "{channel}");
    }

    /// Every channel of `desk` carries on, as an agent sees it.
    fn carries_on_as_agent(&self, desk: &Desk, expected: &[Expected]) {
        assert!(self.ended.is_empty(), "{:?}", self.ended);
        let [user, role, ticket] = desk.channels();
        let mut everything = ticket_comments_for_staff();
        everything.extend(expected_for('g', expected));
        assert_eq!(self.on(&user), everything, "{user}");
        assert_eq!(self.on(&role), everything, "{role}");
        assert_eq!(self.on(&ticket), ticket_comments_for_staff(), "{ticket}");
    }
}

/// Demoted to requester: her own channel carries what a requester may see; the agents'
/// channel and the ticket's (whose member list shows her role) end.
async fn demotion(backend: Backend) {
    let mut desk = Desk::start(backend).await;
    let vera = desk.vera().await;
    let mut pusher = desk.follow(&vera).await;
    desk.member_event("pusher_internal:member_added").await;

    desk.patch_vera(json!({"role": "requester"})).await;
    let (boundary, expected) = desk.everything_after_the_change().await;

    let [user, role, ticket] = desk.channels();
    let requester_sees = expected_for('q', &expected);
    let received = Received::read(&mut pusher, boundary, |received| {
        received.ended.len() == 2 && received.on(&user).len() >= requester_sees.len()
    })
    .await;
    assert_eq!(received.on(&user), expected_for('q', &expected), "{user}");
    received.ended(&role, "role changed");
    received.ended(&ticket, "role changed");
    desk.member_event("pusher_internal:member_removed").await;
}

/// Signed out: everything granted to that session ends; another session carries on.
async fn logout(backend: Backend) {
    let desk = Desk::start(backend).await;
    let vera = desk.vera().await;
    let elsewhere = desk.vera().await;
    let mut pusher = desk.follow(&vera).await;
    let mut other_device = desk.follow(&elsewhere).await;

    desk.app.delete(&vera, "/api/v1/session").await.expect(204);
    let (boundary, expected) = desk.everything_after_the_change().await;

    let received = Received::read(&mut pusher, boundary, Received::all_ended).await;
    for channel in desk.channels() {
        received.ended(&channel, "session ended");
    }
    Received::read(&mut other_device, boundary, |received| {
        received.has_all_for_an_agent(&desk, &expected)
    })
    .await
    .carries_on_as_agent(&desk, &expected);
}

/// An API token revoked: what it was granted ends; her session's subscriptions carry on.
async fn token_revoked(backend: Backend) {
    let desk = Desk::start(backend).await;
    let vera = desk.vera().await;
    let token = desk.app.token_client(&vera).await;
    let listed = desk.app.get(&vera, "/api/v1/tokens").await.expect(200);
    let token_id = listed.body["items"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("a token in {}", listed.body));
    let mut by_token = desk.follow(&token).await;
    let mut by_session = desk.follow(&vera).await;

    desk.app
        .delete(&vera, &format!("/api/v1/tokens/{token_id}"))
        .await
        .expect(204);
    let (boundary, expected) = desk.everything_after_the_change().await;

    let received = Received::read(&mut by_token, boundary, Received::all_ended).await;
    for channel in desk.channels() {
        received.ended(&channel, "session ended");
    }
    Received::read(&mut by_session, boundary, |received| {
        received.has_all_for_an_agent(&desk, &expected)
    })
    .await
    .carries_on_as_agent(&desk, &expected);
}

/// Blocked: every subscription of hers ends, and she leaves the presence list.
async fn blocked(backend: Backend) {
    let mut desk = Desk::start(backend).await;
    let vera = desk.vera().await;
    let mut pusher = desk.follow(&vera).await;
    desk.member_event("pusher_internal:member_added").await;

    desk.patch_vera(json!({"status": "blocked"})).await;
    let (boundary, _) = desk.everything_after_the_change().await;

    let received = Received::read(&mut pusher, boundary, Received::all_ended).await;
    for channel in desk.channels() {
        received.ended(&channel, "account blocked");
    }
    desk.member_event("pusher_internal:member_removed").await;
}

/// Sessions of five seconds: what hers was granted ends when it does, by the clock.
async fn session_expiry(backend: Backend) {
    let mut config = web_config();
    config.desk.session_lifetime = std::time::Duration::from_secs(5);
    let desk = Desk::start_with(backend, config).await;
    let vera = desk.vera().await;
    let mut pusher = desk.follow(&vera).await;
    let mut ended = Vec::new();
    while ended.len() < desk.channels().len() {
        let frame = pusher.next().await;
        assert!(frame.get("id").is_none(), "{frame}");
        if frame["event"] == "pusher:subscription_error" {
            assert_eq!(data_of(&frame)["error"], "session ended", "{frame}");
            ended.push(frame["channel"].as_str().unwrap_or_default().to_owned());
        }
    }
    ended.sort();
    let mut channels = desk.channels().to_vec();
    channels.sort();
    assert_eq!(ended, channels);
}

/// A change that leaves her rights as they were (her name) ends nothing.
async fn a_change_within_her_rights(backend: Backend) {
    let desk = Desk::start(backend).await;
    let vera = desk.vera().await;
    let mut pusher = desk.follow(&vera).await;

    desk.patch_vera(json!({"name": "Vera Valid"})).await;
    let (boundary, expected) = desk.everything_after_the_change().await;

    Received::read(&mut pusher, boundary, |received| {
        received.has_all_for_an_agent(&desk, &expected)
    })
    .await
    .carries_on_as_agent(&desk, &expected);
}

on_both_databases!(
    demotion,
    logout,
    token_revoked,
    blocked,
    session_expiry,
    a_change_within_her_rights
);
