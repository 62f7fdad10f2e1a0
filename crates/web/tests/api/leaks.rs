//! The leak matrix: for every event type the API can trigger and every kind of viewer
//! — admin, agent, the requester who owns the ticket, another requester, anonymous —
//! who receives it, over WebSocket and over polling, and who never does.

use std::collections::BTreeMap;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::{
    attachments::upload,
    helpers::{Client, TestApp, spawn_app},
};

/// The five viewers, in the order of the `who` strings below.
const VIEWERS: [&str; 5] = ["admin", "agent", "owner", "other", "anonymous"];

/// One change and who must receive its event: letters from `VIEWERS`' initials
/// (a = admin, g = agent, o = owner, r = the other requester, n = anonymous), and q for
/// any further requester, who owns nothing of what changes.
pub struct Expected {
    label: String,
    who: &'static str,
}

pub fn viewer_letter(viewer: &str) -> char {
    match viewer {
        "admin" => 'a',
        "agent" => 'g',
        "owner" => 'o',
        "other" => 'r',
        _ => 'n',
    }
}

/// What identifies an event in the matrix: its type, and what tells same-typed events
/// apart.
pub fn label(event: &Value) -> String {
    let kind = event["type"].as_str().unwrap_or_default();
    let data = &event["data"];
    match kind {
        "ticket_comment_created" => format!("{kind} internal={}", data["comment"]["internal"]),
        "ticket_updated" if data["attachments"].is_array() => format!(
            "ticket_files {}",
            data["attachments"][0]["name"].as_str().unwrap_or_default()
        ),
        "knowledge_article_created" | "knowledge_article_updated" => {
            format!(
                "{kind} {}",
                data["article"]["title"].as_str().unwrap_or_default()
            )
        }
        "system_notification_created" | "system_notification_withdrawn" => format!(
            "{kind} {}",
            data["notification"]["title"].as_str().unwrap_or_default()
        ),
        _ => kind.to_owned(),
    }
}

pub struct Viewers {
    clients: BTreeMap<&'static str, Client>,
}

pub async fn sign_in_everyone(app: &TestApp) -> Viewers {
    let mut clients = BTreeMap::new();
    clients.insert("admin", app.login_as(&app.admin).await);
    clients.insert("agent", app.login_as(&app.agent).await);
    clients.insert("owner", app.login_as(&app.owner).await);
    clients.insert("other", app.login_as(&app.other).await);
    clients.insert("anonymous", Client::default());
    Viewers { clients }
}

impl Viewers {
    pub fn get(&self, viewer: &str) -> &Client {
        &self.clients[viewer]
    }
}

/// Makes one change of every kind through the API; returns who must see each event.
pub async fn make_every_change(app: &TestApp, v: &Viewers) -> Vec<Expected> {
    let mut expected = Vec::new();
    let mut expect = |label: &str, who: &'static str| {
        expected.push(Expected {
            label: label.to_owned(),
            who,
        })
    };
    let (admin, agent, owner) = (v.get("admin"), v.get("agent"), v.get("owner"));

    let ticket = app.create_ticket(owner, "VPN drops every hour").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    expect("ticket_created", "ago");
    app.patch(agent, &path, json!({"assignee_id": app.agent.id}))
        .await
        .expect(200);
    expect("ticket_assigned", "ago");
    app.patch(agent, &path, json!({"status": "in_progress"}))
        .await
        .expect(200);
    expect("ticket_status_changed", "ago");
    let comments = format!("{path}/comments");
    app.post(owner, &comments, json!({"body": "Still dropping"}))
        .await
        .expect(201);
    expect("ticket_comment_created internal=false", "ago");
    let note = app
        .post(
            agent,
            &comments,
            json!({"body": "Router firmware?", "internal": true}),
        )
        .await
        .expect(201);
    expect("ticket_comment_created internal=true", "ag");
    let files = format!("{path}/attachments");
    let form = Form::new().part("file", Part::bytes(b"log".to_vec()).file_name("vpn.log"));
    upload(app, owner, &files, form).await.expect(201);
    expect("ticket_files vpn.log", "ago");
    let form = Form::new()
        .text("comment_id", note.id().to_string())
        .part("file", Part::bytes(b"cfg".to_vec()).file_name("router.cfg"));
    upload(app, agent, &files, form).await.expect(201);
    expect("ticket_files router.cfg", "ag");

    let user = app
        .post(
            admin,
            "/api/v1/users",
            json!({"name": "New Hire", "email": "new@test.local", "role": "requester",
                   "password": "long enough"}),
        )
        .await
        .expect(201);
    expect("user_created", "a");
    app.patch(
        admin,
        &format!("/api/v1/users/{}", user.id()),
        json!({"status": "blocked"}),
    )
    .await
    .expect(200);
    expect("user_status_changed", "a");

    // Reading one's inbox tells one's own other pages, nobody else's.
    app.post(owner, "/api/v1/inbox/read", json!({"all": true}))
        .await
        .expect(200);
    expect("inbox_read", "o");

    // Teams are the desk's internal organisation: agents and admins only.
    let team = app
        .post(
            admin,
            "/api/v1/teams",
            json!({"name": "Network", "lead_id": app.agent.id}),
        )
        .await
        .expect(201);
    expect("team_created", "ag");
    app.patch(
        admin,
        &format!("/api/v1/teams/{}", team.id()),
        json!({"auto_assign": true}),
    )
    .await
    .expect(200);
    expect("team_updated", "ag");

    make_equipment_changes(app, agent, &mut expect).await;
    make_article_changes(app, agent, &mut expect).await;

    for (audience, who) in [
        (json!("everyone"), "agorq"),
        (json!("agents"), "ag"),
        (json!("admins"), "a"),
        (json!({"user": app.owner.id}), "o"),
    ] {
        let title = format!("For {audience}");
        let notice = app
            .post(
                admin,
                "/api/v1/notifications",
                json!({"title": title, "message": "Maintenance tonight", "level": "warning",
                       "audience": audience}),
            )
            .await
            .expect(201);
        expect(&format!("system_notification_created {title}"), who);
        app.post(
            admin,
            &format!("/api/v1/notifications/{}/withdraw", notice.id()),
            json!({}),
        )
        .await
        .expect(200);
        expect(&format!("system_notification_withdrawn {title}"), who);
    }
    expected
}

async fn make_equipment_changes(
    app: &TestApp,
    agent: &Client,
    expect: &mut impl FnMut(&str, &'static str),
) {
    let mut locations = Vec::new();
    for room in ["101", "202"] {
        let location = app
            .post(
                agent,
                "/api/v1/locations",
                json!({"name": format!("Room {room}"), "building": "Main", "room": room}),
            )
            .await
            .expect(201);
        locations.push(location.id());
    }
    let piece = app
        .post(
            agent,
            "/api/v1/equipment",
            json!({"inventory_number": "INV-0001", "name": "ThinkPad T14", "kind": "laptop",
                   "status": "in_stock", "location_id": locations[0]}),
        )
        .await
        .expect(201);
    expect("equipment_status_changed", "ag");
    let path = format!("/api/v1/equipment/{}", piece.id());
    // Handing it to the other requester puts it in use: they are told, nobody else is.
    app.patch(agent, &path, json!({"assigned_user_id": app.other.id}))
        .await
        .expect(200);
    expect("equipment_status_changed", "agr");
    app.patch(agent, &path, json!({"location_id": locations[1]}))
        .await
        .expect(200);
    expect("equipment_location_changed", "agr");
}

async fn make_article_changes(
    app: &TestApp,
    agent: &Client,
    expect: &mut impl FnMut(&str, &'static str),
) {
    let public = app
        .post(
            agent,
            "/api/v1/articles",
            json!({"title": "Connecting to VPN", "body": "Open the client…", "visibility": "everyone"}),
        )
        .await
        .expect(201);
    expect("knowledge_article_created Connecting to VPN", "agorq");
    app.post(
        agent,
        "/api/v1/articles",
        json!({"title": "Router admin passwords", "body": "In the safe.", "visibility": "agents"}),
    )
    .await
    .expect(201);
    expect("knowledge_article_created Router admin passwords", "ag");
    app.patch(
        agent,
        &format!("/api/v1/articles/{}", public.id()),
        json!({"body": "Open the client, then sign in."}),
    )
    .await
    .expect(200);
    expect("knowledge_article_updated Connecting to VPN", "agorq");
}

pub fn expected_for(letter: char, expected: &[Expected]) -> Vec<String> {
    expected
        .iter()
        .filter(|e| e.who.contains(letter))
        .map(|e| e.label.clone())
        .collect()
}

/// The whole matrix on one app: WebSocket and polling for all five viewers.
pub async fn check_leak_matrix(app: &TestApp) {
    let viewers = sign_in_everyone(app).await;
    let start = app.log_head().await;
    let mut sockets = Vec::new();
    for viewer in VIEWERS {
        sockets.push((
            viewer,
            app.ws_connect(viewers.get(viewer), Some(start)).await,
        ));
    }

    let expected = make_every_change(app, &viewers).await;
    // Published last, for everyone: once a viewer has it, it has had everything else
    // (delivery is in id order), so nothing can arrive late and go unnoticed.
    app.broadcast_sentinel().await;

    for (viewer, socket) in &mut sockets {
        let got: Vec<String> = socket
            .events_until("sentinel")
            .await
            .iter()
            .map(label)
            .collect();
        assert_eq!(
            got,
            expected_for(viewer_letter(viewer), &expected),
            "WebSocket of {viewer}"
        );
    }
    for viewer in VIEWERS {
        let events = app.poll_until(viewers.get(viewer), start, "sentinel").await;
        let got: Vec<String> = events.iter().map(label).collect();
        assert_eq!(
            got,
            expected_for(viewer_letter(viewer), &expected),
            "polling of {viewer}"
        );
    }
}

#[tokio::test]
async fn every_event_reaches_exactly_its_audience_over_websocket_and_polling() {
    let app = spawn_app().await;
    check_leak_matrix(&app).await;
}

/// Only the desk speaks for the desk: `POST /broadcast` refuses each of its event types
/// (a forged `ticket_created` without an audience would reach every poller), naming
/// `type`, and nothing reaches anyone; other types still pass.
#[tokio::test]
async fn the_desks_own_event_types_cannot_be_broadcast() {
    let app = spawn_app().await;
    let start = app.log_head().await;
    for kind in ictdesk_desk::events::ALL {
        let reply = app
            .broadcast(json!({"type": kind, "data": {"ticket": {"id": 1, "title": "forged"}}}))
            .await
            .expect(422);
        let problem = reply.body["fields"]["type"].as_str().unwrap_or_default();
        assert!(problem.contains("the desk's own"), "{kind}: {}", reply.body);
    }
    assert_eq!(app.log_head().await, start, "nothing was appended");
    app.broadcast_sentinel().await;
    let seen = app.poll_until(&Client::default(), start, "sentinel").await;
    assert!(seen.is_empty(), "{seen:?}");
}

#[tokio::test]
async fn internal_comments_never_reach_the_requester_in_the_api_either() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "Monitor flickers").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    app.post(
        &agent,
        &format!("{path}/comments"),
        json!({"body": "Cable?", "internal": true}),
    )
    .await
    .expect(201);
    app.post(
        &agent,
        &format!("{path}/comments"),
        json!({"body": "On my way"}),
    )
    .await
    .expect(201);
    let seen_by_owner = app.get(&owner, &path).await.expect(200);
    let bodies: Vec<&Value> = seen_by_owner.body["comments"]
        .as_array()
        .expect("comments")
        .iter()
        .map(|comment| &comment["body"])
        .collect();
    assert_eq!(bodies, [&json!("On my way")]);
    let seen_by_agent = app.get(&agent, &path).await.expect(200);
    assert_eq!(
        seen_by_agent.body["comments"].as_array().map(Vec::len),
        Some(2)
    );
}

#[tokio::test]
async fn a_requester_cannot_see_or_comment_on_another_requesters_ticket() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let other = app.login_as(&app.other).await;
    let ticket = app.create_ticket(&owner, "Keyboard missing keys").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    // 404, exactly as for a ticket that does not exist: ids reveal nothing.
    app.get(&other, &path).await.expect(404);
    app.get(&other, "/api/v1/tickets/999999").await.expect(404);
    app.post(
        &other,
        &format!("{path}/comments"),
        json!({"body": "me too"}),
    )
    .await
    .expect(404);
    let list = app.get(&other, "/api/v1/tickets").await.expect(200);
    assert_eq!(list.body["total"], 0);
    // Filtering by someone else's id does not widen a requester's view.
    let filtered = app
        .get(
            &other,
            &format!("/api/v1/tickets?requester_id={}", app.owner.id),
        )
        .await
        .expect(200);
    assert_eq!(filtered.body["total"], 0);
}

#[tokio::test]
async fn requesters_cannot_change_tickets_or_manage_users() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let ticket = app.create_ticket(&owner, "Mouse broken").await;
    app.patch(
        &owner,
        &format!("/api/v1/tickets/{}", ticket["id"]),
        json!({"priority": "critical"}),
    )
    .await
    .expect(403);
    app.get(&owner, "/api/v1/users").await.expect(403);
    app.post(
        &owner,
        "/api/v1/users",
        json!({"name": "X", "email": "x@test.local", "role": "admin", "password": "long enough"}),
    )
    .await
    .expect(403);
    app.post(
        &owner,
        "/api/v1/notifications",
        json!({"title": "Hi", "message": "all", "audience": "everyone"}),
    )
    .await
    .expect(403);
}

/// agentday (issue 17, point 5): a person's card — their open tickets, equipment and
/// where it stands — is for agents and admins. Requesters get 404 for anyone's card,
/// their own included, exactly as for nobody; anonymous callers 401.
#[tokio::test]
async fn a_persons_card_is_for_staff_only() {
    let app = spawn_app().await;
    let (owner, other) = (
        app.login_as(&app.owner).await,
        app.login_as(&app.other).await,
    );
    let agent = app.login_as(&app.agent).await;
    app.create_ticket(&owner, "Monitor flickers").await;
    let path = format!("/api/v1/users/{}/card", app.owner.id);
    app.get(&agent, &path).await.expect(200);
    app.get(&owner, &path).await.expect(404);
    app.get(&other, &path).await.expect(404);
    app.get(&agent, "/api/v1/users/999999/card")
        .await
        .expect(404);
    app.get(&Client::default(), &path).await.expect(401);
    let page = format!("/users/{}", app.owner.id);
    let reply = app.get(&other, &page).await;
    assert_eq!(reply.status, 404, "the card's page too");
}
