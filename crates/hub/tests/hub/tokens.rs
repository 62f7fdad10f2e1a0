//! Hub tokens (HS256 JWTs) over time: a socket closes at its token's `exp` unless the
//! client refreshes it with `{"type":"auth","token":…}`; the token may come in that
//! message instead of the URL; `sub`, `nbf` and the lifetime cap are checked.

use std::time::Duration;

use ictdesk_hub::HubConfig;
use serde_json::{Value, json};

use crate::helpers::{
    Backend, PATIENCE, Received, TestHub, WsClient, now_secs, signed, spawn_hub, spawn_hub_with,
    test_config, token,
};

/// A token of user 17 with `role`, ending `exp`.
fn token_until(role: &str, exp: u64) -> String {
    signed(&json!({"sub": "17", "role": role, "exp": exp}))
}

/// Waits (on the clock, bounded) until the second `secs` has passed.
async fn wait_past(secs: u64) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while now_secs() <= secs {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the clock stands still"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn reply(client: &mut WsClient) -> Value {
    loop {
        let frame = client.next_json().await;
        if frame.get("id").is_none() {
            return frame;
        }
    }
}

async fn an_expired_tokens_socket_closes_at_exp(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let exp = now_secs() + 2;
    let mut client = app
        .connect(&format!("?token={}", token_until("agent", exp)))
        .await;
    let closed = loop {
        match client.receive().await {
            Received::Json(frame) => assert!(frame.get("id").is_none(), "{frame}"),
            Received::Closed(frame) => break frame.expect("a close frame"),
        }
    };
    assert_eq!(
        (u16::from(closed.code), closed.reason.as_str()),
        (1008, "token expired")
    );
    assert!(now_secs() >= exp, "closed before exp");
}

async fn a_refreshed_token_keeps_the_socket_open_with_its_role(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let exp = now_secs() + 2;
    let mut client = app
        .connect(&format!("?token={}", token_until("agent", exp)))
        .await;
    client
        .send_json(json!({"type": "auth", "token": token_until("requester", exp + 60)}))
        .await;
    assert_eq!(reply(&mut client).await["type"], "auth_ok");
    wait_past(exp).await;
    // Past the first token's exp the socket is open, and acts for the new role.
    let for_agents = app
        .publish("note", json!({}), Some(json!({"roles": ["agent"]})))
        .await;
    let for_requesters = app
        .publish("note", json!({}), Some(json!({"roles": ["requester"]})))
        .await;
    assert!(for_agents < for_requesters);
    assert_eq!(client.event_ids(1).await, vec![for_requesters]);
}

/// Polling follows the token as the socket does: a long poll holding it ends at its
/// `exp` (not at its `wait`), and the next poll with it is refused.
async fn a_long_poll_ends_at_its_tokens_exp(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let exp = now_secs() + 2;
    let token = token_until("agent", exp);
    let (status, body) = app
        .get(&format!("/messages?since=0&wait=25&token={token}"))
        .await;
    assert_eq!((status, &body["messages"]), (200, &json!([])), "{body}");
    wait_past(exp).await;
    app.publish("note", json!({}), Some(json!({"roles": ["agent"]})))
        .await;
    let (status, body) = app.get(&format!("/messages?since=0&token={token}")).await;
    assert_eq!(status, 401, "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|error| error.contains("token expired")),
        "{body}"
    );
}

on_both_backends!(
    an_expired_tokens_socket_closes_at_exp,
    a_refreshed_token_keeps_the_socket_open_with_its_role,
    a_long_poll_ends_at_its_tokens_exp,
);

/// Two nodes on one PostgreSQL database (several nodes are a PostgreSQL setup): a
/// token's `exp` closes its sockets and ends its long polls on each node, a refresh
/// (`auth`) keeps a socket open on each node with the new role, and events published on
/// either node then reach each connection as the token it holds now allows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_every_node_a_token_ends_at_exp_unless_refreshed() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    let node = |name: &str| HubConfig {
        node: name.into(),
        ..test_config()
    };
    let a = spawn_hub_with(backend, node("a")).await;
    let b = a.another_node(node("b")).await;
    let exp = now_secs() + 3;
    let old = token_until("agent", exp);
    let new = token_until("requester", exp + 60);
    let mut refreshed = Vec::new();
    let mut expiring = Vec::new();
    for app in [&a, &b] {
        let mut socket = app.connect(&format!("?token={old}")).await;
        socket
            .send_json(json!({"type": "auth", "token": new}))
            .await;
        assert_eq!(reply(&mut socket).await["type"], "auth_ok");
        refreshed.push(socket);
        expiring.push(app.connect(&format!("?token={old}")).await);
    }

    // A long poll with the old token ends at its exp on each node, well before its wait.
    let long_poll = format!("/messages?since=0&wait=60&token={old}");
    let (on_a, on_b) = tokio::join!(a.get_within(&long_poll), b.get_within(&long_poll));
    for (status, page) in [on_a, on_b] {
        assert_eq!((status, &page["messages"]), (200, &json!([])), "{page}");
    }
    wait_past(exp).await;

    let mut for_requesters = Vec::new();
    for app in [&a, &b] {
        app.publish("note", json!({}), Some(json!({"roles": ["agent"]})))
            .await;
        for_requesters.push(
            app.publish("note", json!({}), Some(json!({"roles": ["requester"]})))
                .await,
        );
    }
    for mut socket in expiring {
        let closed = loop {
            match socket.receive().await {
                Received::Json(frame) => assert!(frame.get("id").is_none(), "{frame}"),
                Received::Closed(frame) => break frame.expect("a close frame"),
            }
        };
        assert_eq!(
            (u16::from(closed.code), closed.reason.as_str()),
            (1008, "token expired")
        );
    }
    for (app, mut socket) in [&a, &b].into_iter().zip(refreshed) {
        assert_eq!(
            socket.event_ids(2).await,
            for_requesters,
            "socket on {}",
            app.addr
        );
        socket.assert_no_event_pending().await;
        let (status, page) = app.get(&format!("/messages?since=0&token={old}")).await;
        assert_eq!(status, 401, "{page}");
        assert_eq!(
            app.poll_ids(0, 2, Some(&new)).await,
            for_requesters,
            "polling on {}",
            app.addr
        );
    }
}

#[tokio::test]
async fn the_token_may_come_in_the_first_message_instead_of_the_url() {
    let app = spawn_hub().await;
    let mut client = app.connect("").await;
    let since = client.last_id();
    let missed = app
        .publish("note", json!({"n": 1}), Some(json!({"users": [17]})))
        .await;
    client
        .send_json(json!({"type": "auth", "token": token(17, "agent")}))
        .await;
    assert_eq!(reply(&mut client).await["type"], "auth_ok");
    client
        .send_json(json!({"type": "resume", "since": since}))
        .await;
    let live = app
        .publish("note", json!({"n": 2}), Some(json!({"users": [17]})))
        .await;
    assert_eq!(client.event_ids(2).await, vec![missed, live]);
}

#[tokio::test]
async fn a_refresh_that_fails_is_an_error_and_changes_nothing() {
    let app = spawn_hub().await;
    let mut client = app.connect(&format!("?token={}", token(17, "agent"))).await;
    for (bad, code) in [
        ("not-a-jwt".to_owned(), "unauthorized"),
        (token(18, "agent"), "forbidden"),
        (token_until("agent", now_secs() - 10), "unauthorized"),
    ] {
        client
            .send_json(json!({"type": "auth", "token": bad}))
            .await;
        let answer = reply(&mut client).await;
        assert_eq!(
            (&answer["type"], &answer["code"]),
            (&json!("error"), &json!(code))
        );
    }
    let id = app
        .publish("note", json!({}), Some(json!({"users": [17]})))
        .await;
    assert_eq!(client.event_ids(1).await, vec![id]);
}

async fn status_of(app: &TestHub, claims: Value) -> (u16, Value) {
    app.get(&format!("/messages?token={}", signed(&claims)))
        .await
}

#[tokio::test]
async fn sub_may_be_a_number_but_only_canonical_text() {
    let app = spawn_hub().await;
    let exp = now_secs() + 60;
    for sub in [json!(17), json!("17")] {
        let (status, body) =
            status_of(&app, json!({"sub": sub, "role": "agent", "exp": exp})).await;
        assert_eq!(status, 200, "sub {sub}: {body}");
    }
    for sub in ["+17", "017", " 17", "17.0"] {
        let (status, body) =
            status_of(&app, json!({"sub": sub, "role": "agent", "exp": exp})).await;
        assert_eq!(status, 401, "sub {sub:?}: {body}");
    }
}

#[tokio::test]
async fn a_token_not_valid_yet_or_valid_for_too_long_is_refused() {
    let app = spawn_hub().await;
    let now = now_secs();
    let (status, body) = status_of(
        &app,
        json!({"sub": "17", "role": "agent", "exp": now + 600, "nbf": now + 300}),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("nbf")),
        "{body}"
    );
    let centuries = now + 300 * 365 * 24 * 3600;
    let (status, body) = status_of(
        &app,
        json!({"sub": "17", "role": "agent", "exp": centuries}),
    )
    .await;
    assert_eq!(status, 401);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("ICTDESK_HUB_TOKEN_MAX_LIFETIME")),
        "{body}"
    );
}
