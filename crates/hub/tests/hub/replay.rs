//! What a reader behind the head may cost (issue 9.6): a poll looks at a bounded number
//! of events whatever the log's length and says how far it got; a replay over a long log
//! goes a page at a time, paced, while the connection keeps answering; a socket that
//! stops taking a replay is dropped.

use std::time::Duration;

use ictdesk_hub::{Audience, EventType, HubConfig, NewEvent};
use serde_json::json;
use tokio_tungstenite::connect_async;

use crate::helpers::{Backend, PATIENCE, TestHub, spawn_hub_with, test_config, token};

/// Appends `count` events of `kind` for `audience` straight to the log (quicker than
/// `POST /broadcast`), padded to `pad` bytes; returns the last id.
async fn append(app: &TestHub, count: usize, audience: &Audience, pad: usize) -> i64 {
    let kind = EventType::parse("note").expect("a valid type");
    let data = json!({"pad": "x".repeat(pad)});
    let mut last = 0;
    for _ in 0..count {
        let event = NewEvent::new(kind.clone(), &data, audience.clone()).expect("an event");
        last = app.hub.log().append(event).await.expect("appended");
    }
    last
}

async fn an_anonymous_poll_looks_at_a_bounded_part_of_the_log(backend: Backend) {
    // A small memory window, so that the polls read the log itself too.
    let config = HubConfig {
        recent_events: 64,
        ..test_config()
    };
    let app = spawn_hub_with(backend, config).await;
    append(&app, 1500, &Audience::roles(["agent"]), 10).await;
    let public = app.publish("note", json!({}), None).await;
    app.wait_for_delivery(public).await;

    let (status, page) = app.get("/messages?since=0&limit=1").await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"], json!([]));
    assert_eq!(page["has_more"], true, "{page}");
    let reached = page["last_id"].as_i64().expect("last_id");
    assert!((1..public).contains(&reached), "{page}");

    // The next polls go on from there and find the public event.
    assert_eq!(app.poll_ids(reached, 1, None).await, vec![public]);
}

on_both_backends!(an_anonymous_poll_looks_at_a_bounded_part_of_the_log);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_replay_is_paced_and_the_connection_answers_meanwhile() {
    // One replay page a second (two at once): three pages take a second at least.
    let config = HubConfig {
        client_rate: 1,
        ..test_config()
    };
    let app = spawn_hub_with(Backend::Sqlite, config).await;
    let agents = Audience::roles(["agent"]);
    append(&app, 700, &agents, 10).await;
    let last = app
        .publish("sentinel", json!({}), Some(json!({"roles": ["agent"]})))
        .await;
    app.wait_for_delivery(last).await;

    let mut client = app.connect(&format!("?token={}", token(1, "agent"))).await;
    client
        .send_json(json!({"type": "resume", "since": 0}))
        .await;
    client.send_json(json!({"type": "ping"})).await;
    let mut replayed = 0;
    loop {
        let frame = client.next_json().await;
        if frame["type"] == "pong" {
            break;
        }
        assert_ne!(
            frame["id"].as_i64(),
            Some(last),
            "the whole replay went out before the ping was answered"
        );
        replayed += 1;
    }
    assert!(replayed < 701, "{replayed}");
    let rest = client.events(701 - replayed).await;
    assert_eq!(
        rest.last().and_then(|event| event["id"].as_i64()),
        Some(last)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_stops_taking_a_replay_is_dropped() {
    let config = HubConfig {
        heartbeat: Duration::from_secs(1),
        ..test_config()
    };
    let app = spawn_hub_with(Backend::Sqlite, config).await;
    // 24 MB: more than the kernel's socket buffers hold.
    append(&app, 400, &Audience::everyone(), 60 * 1024).await;
    let (_never_read, _) = connect_async(format!("ws://{}/ws?since=0", app.addr))
        .await
        .expect("WebSocket handshake");
    app.wait_for_clients(1).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while app.client_count().await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a socket that takes nothing is never dropped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
