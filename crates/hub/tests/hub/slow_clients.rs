//! A client that does not read cannot slow the others; it is dropped and loses nothing.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Backend, PATIENCE, Received, spawn_hub_with, test_config};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_dropped_and_resumes_without_loss() {
    let config = ictdesk_hub::HubConfig {
        queue_capacity: 16,
        ..test_config()
    };
    let app = spawn_hub_with(Backend::Sqlite, config).await;
    let mut reader = app.connect("").await;
    let mut stalled = app.connect("").await;
    let pad = "x".repeat(40 * 1024);

    // Publish until the stalled client's socket buffers and queue are full and it is
    // dropped; the reader keeps up all along.
    let mut published = Vec::new();
    while app.metric("ictdesk_slow_consumers_dropped_total").await == 0 {
        assert!(
            published.len() < 2000,
            "the stalled client was never dropped"
        );
        let id = app
            .publish("ticket_created", json!({"pad": pad}), None)
            .await;
        published.push(id);
        assert_eq!(reader.event_ids(1).await, vec![id]);
    }
    let tail: Vec<i64> = {
        let mut more = Vec::new();
        for n in 0..5 {
            more.push(app.publish("ticket_created", json!({"n": n}), None).await);
        }
        more
    };
    assert_eq!(reader.event_ids(5).await, tail);
    published.extend(&tail);

    // The stalled client reads what reached it, then resumes from its last id.
    let mut seen = Vec::new();
    loop {
        match stalled.receive().await {
            Received::Json(frame) => {
                if let Some(id) = frame["id"].as_i64() {
                    seen.push(id);
                }
            }
            Received::Closed(frame) => {
                if let Some(frame) = frame {
                    assert_eq!(u16::from(frame.code), 1013, "{frame:?}");
                }
                break;
            }
        }
    }
    let last = seen.last().copied().unwrap_or(0);
    let missing = published.iter().filter(|id| **id > last).count();
    let mut resumed = app.connect(&format!("?since={last}")).await;
    seen.extend(resumed.event_ids(missing).await);
    assert_eq!(
        seen, published,
        "after resuming, every event exactly once, in order"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_falls_behind_and_catches_up_gets_everything_in_order() {
    let app = spawn_hub_with(Backend::Sqlite, test_config()).await;
    let mut behind = app.connect("").await;
    let pad = "x".repeat(40 * 1024);
    // 16 MB: more than the kernel's socket buffers hold, so that the hub's own queue for
    // this connection takes the rest (well under its 1 024 frames) and the connection's
    // task writes it out as the client reads.
    let mut published = Vec::new();
    for _ in 0..400 {
        published.push(
            app.publish("ticket_created", json!({"pad": pad}), None)
                .await,
        );
    }
    assert_eq!(behind.event_ids(published.len()).await, published);
    assert_eq!(app.metric("ictdesk_slow_consumers_dropped_total").await, 0);
}

#[tokio::test]
async fn a_silent_connection_is_dropped_after_the_heartbeat() {
    let config = ictdesk_hub::HubConfig {
        heartbeat: Duration::from_secs(1),
        ..test_config()
    };
    let app = spawn_hub_with(Backend::Sqlite, config).await;
    // Connected, then never read again: it answers no ping.
    let silent = app.connect("").await;
    app.wait_for_clients(1).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while app.client_count().await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the silent connection was kept"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(silent);
}

#[tokio::test]
async fn a_client_that_answers_pings_is_kept() {
    let config = ictdesk_hub::HubConfig {
        heartbeat: Duration::from_secs(1),
        ..test_config()
    };
    let app = spawn_hub_with(Backend::Sqlite, config).await;
    let mut client = app.connect("").await;
    assert_eq!(client.welcome["heartbeat"], 1);
    // Reading answers the server's pings; three heartbeats later it is still there.
    let until = tokio::time::Instant::now() + Duration::from_millis(3500);
    while tokio::time::Instant::now() < until {
        let _ = tokio::time::timeout(
            Duration::from_millis(200),
            futures_util::StreamExt::next(&mut client.stream),
        )
        .await;
    }
    let id = app.publish("ticket_created", json!({}), None).await;
    assert_eq!(client.event_ids(1).await, vec![id]);
}
