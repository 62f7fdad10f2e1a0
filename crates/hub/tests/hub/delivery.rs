//! Every client gets every visible event, in order, once — live, after a resume, and
//! whichever transport it uses.

use serde_json::json;

use crate::helpers::{Backend, spawn_hub_with, test_config};

on_both_backends!(
    many_clients_each_receive_every_broadcast_in_order,
    a_client_that_resumes_gets_exactly_the_missed_events,
    websocket_and_polling_observers_see_identical_sequences,
    a_long_poll_returns_the_event_published_while_it_waits,
);

async fn many_clients_each_receive_every_broadcast_in_order(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let mut clients = Vec::new();
    for _ in 0..20 {
        clients.push(app.connect("").await);
    }
    let mut published = Vec::new();
    for n in 0..50 {
        published.push(app.publish("ticket_created", json!({"n": n}), None).await);
    }
    for client in &mut clients {
        assert_eq!(client.event_ids(50).await, published);
        client.assert_no_event_pending().await;
    }
}

async fn a_client_that_resumes_gets_exactly_the_missed_events(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let mut client = app.connect("").await;
    let first = app.publish("ticket_created", json!({"n": 1}), None).await;
    assert_eq!(client.event_ids(1).await, vec![first]);
    drop(client);

    let mut missed = Vec::new();
    for n in 2..=6 {
        missed.push(app.publish("ticket_created", json!({"n": n}), None).await);
    }
    // Resuming on connect (?since=).
    let mut resumed = app.connect(&format!("?since={first}")).await;
    assert_eq!(resumed.event_ids(5).await, missed);
    let live = app.publish("ticket_created", json!({"n": 7}), None).await;
    assert_eq!(resumed.event_ids(1).await, vec![live]);
    resumed.assert_no_event_pending().await;

    // Resuming by message, from the first event.
    let mut by_message = app.connect("").await;
    by_message
        .send_json(json!({"type": "resume", "since": first}))
        .await;
    let mut expected = missed.clone();
    expected.push(live);
    assert_eq!(by_message.event_ids(6).await, expected);
    by_message.assert_no_event_pending().await;
}

async fn websocket_and_polling_observers_see_identical_sequences(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let agent = crate::helpers::token(5, "agent");
    let mut socket = app.connect(&format!("?token={agent}")).await;
    let start = socket.last_id();
    let mut visible = 0;
    for n in 0..60 {
        // A third of the events are for admins only: neither observer may see them.
        let audience = match n % 3 {
            0 => Some(json!({"roles": ["admin"]})),
            1 => Some(json!({"roles": ["agent"]})),
            _ => None,
        };
        if n % 3 != 0 {
            visible += 1;
        }
        app.publish("ticket_status_changed", json!({"n": n}), audience)
            .await;
    }
    let over_websocket = socket.event_ids(visible).await;
    let over_polling = app.poll_ids(start, visible, Some(&agent)).await;
    assert_eq!(over_websocket, over_polling);
    assert!(over_websocket.windows(2).all(|pair| pair[0] < pair[1]));
}

async fn a_long_poll_returns_the_event_published_while_it_waits(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let (_, initial) = app.get("/messages").await;
    let since = initial["last_id"].as_i64().expect("last_id");
    let url = app.url(&format!("/messages?since={since}&wait=25"));
    let http = app.http.clone();
    let waiting = tokio::spawn(async move {
        http.get(url)
            .send()
            .await?
            .json::<serde_json::Value>()
            .await
    });
    app.wait_for_metric("ictdesk_long_polls_waiting", 1).await;
    let id = app
        .publish("ticket_created", json!({"late": true}), None)
        .await;
    let page = waiting.await.expect("task").expect("long poll answer");
    assert_eq!(page["messages"][0]["id"], id, "{page}");
    assert_eq!(page["last_id"], id);
}

#[tokio::test]
async fn a_long_poll_with_nothing_new_ends_empty_after_its_wait() {
    let app = crate::helpers::spawn_hub().await;
    let (status, page) = app.get("/messages?since=0&wait=1").await;
    assert_eq!(status, 200);
    assert_eq!(
        page,
        json!({"messages": [], "last_id": 0, "has_more": false, "websocket": true})
    );
}

#[tokio::test]
async fn polling_pages_through_a_backlog_with_has_more() {
    let app = crate::helpers::spawn_hub().await;
    let mut last = 0;
    for n in 0..25 {
        last = app.publish("ticket_created", json!({"n": n}), None).await;
    }
    app.wait_for_delivery(last).await;
    let (_, page) = app.get("/messages?since=0&limit=10").await;
    assert_eq!(page["messages"].as_array().map(Vec::len), Some(10));
    assert_eq!(page["has_more"], true);
    assert_eq!(page["last_id"], 10);
    let (_, rest) = app.get("/messages?since=20&limit=10").await;
    assert_eq!(rest["messages"].as_array().map(Vec::len), Some(5));
    assert_eq!(rest["has_more"], false);
}

#[tokio::test]
async fn a_resume_older_than_the_memory_window_is_served_from_the_log() {
    let config = ictdesk_hub::HubConfig {
        recent_events: 4,
        ..test_config()
    };
    let app = spawn_hub_with(Backend::Sqlite, config).await;
    let mut published = Vec::new();
    for n in 0..30 {
        published.push(app.publish("ticket_created", json!({"n": n}), None).await);
    }
    let mut client = app.connect("?since=0").await;
    assert_eq!(client.event_ids(30).await, published);
    assert_eq!(app.poll_ids(0, 30, None).await, published);
}
