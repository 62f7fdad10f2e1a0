//! Every background task runs supervised: an injected fault (the `fault-injection`
//! feature, test builds only) takes it down, `/healthz` names it meanwhile, and it comes
//! back by itself — with nothing lost or repeated.

use std::time::Duration;

use ictdesk_hub::supervisor::Fault;
use serde_json::{Value, json};

use crate::helpers::{Backend, PATIENCE, TestHub, WsClient, spawn_hub_with, test_config, token};

on_both_backends!(
    the_tailer_restarts_after_a_panic_and_delivers_everything_once,
    the_cluster_tasks_restart_after_errors,
    the_group_commit_writer_restarts_after_a_panic,
);

/// Waits until `/healthz` answers `status` with exactly `down` named.
async fn wait_for_health(app: &TestHub, status: u16, down: &[&str]) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (answered, body) = app.get("/healthz").await;
        if answered == status && body["tasks_down"] == json!(down) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/healthz never answered {status} naming {down:?}; last {answered} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn tailer_lag(app: &TestHub) -> i64 {
    app.get("/status").await.1["tailer_lag"]
        .as_i64()
        .expect("tailer_lag")
}

async fn the_tailer_restarts_after_a_panic_and_delivers_everything_once(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let mut client = app.connect("").await;
    let first = app.publish("ticket_created", json!({"n": 0}), None).await;
    assert_eq!(client.event_ids(1).await, vec![first]);
    assert_eq!(tailer_lag(&app).await, 0);

    app.hub.supervisor().inject_fault("tailer", Fault::Panic);
    let health = wait_for_health(&app, 503, &["tailer"]).await;
    assert_eq!(health["status"], "unavailable", "{health}");
    assert_eq!(health["database"], "ok", "{health}");
    let mut published = Vec::new();
    for n in 1..=5 {
        published.push(app.publish("ticket_created", json!({"n": n}), None).await);
    }
    assert_eq!(
        tailer_lag(&app).await,
        5,
        "committed but not fanned out while the tailer is down"
    );

    app.hub.supervisor().clear_fault("tailer");
    wait_for_health(&app, 200, &[]).await;
    assert_eq!(client.event_ids(5).await, published);
    client.assert_no_event_pending().await;
    assert_eq!(tailer_lag(&app).await, 0);
    let tailer = &app.get("/status").await.1["tasks"]["tailer"];
    assert_eq!(tailer["state"], "running", "{tailer}");
    assert!(tailer["restarts"].as_i64() >= Some(1), "{tailer}");
    assert!(
        tailer["last_error"]
            .as_str()
            .is_some_and(|error| error.contains("panicked")),
        "{tailer}"
    );
    // A poller sees the same events.
    assert_eq!(app.poll_ids(first, 5, None).await, published);
}

async fn next_presence(client: &mut WsClient) -> Value {
    loop {
        let frame = client.next_json().await;
        if frame["type"] == "presence" {
            return frame;
        }
    }
}

async fn the_cluster_tasks_restart_after_errors(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    for task in ["cluster_heartbeat", "presence_relay"] {
        app.hub.supervisor().inject_fault(task, Fault::Error);
    }
    wait_for_health(&app, 503, &["cluster_heartbeat", "presence_relay"]).await;
    for task in ["cluster_heartbeat", "presence_relay"] {
        app.hub.supervisor().clear_fault(task);
    }
    wait_for_health(&app, 200, &[]).await;

    // The restarted relay still marks watchers idle, and the heartbeat reports the node.
    let mut alice = app.connect(&format!("?token={}", token(1, "agent"))).await;
    alice
        .send_json(json!({"type": "view", "ticket_id": 3}))
        .await;
    assert_eq!(next_presence(&mut alice).await["viewers"][0]["user_id"], 1);
    let (_, all) = app.get("/clients?all=1").await;
    assert_eq!(all["nodes"][0]["node"], app.hub.config().node, "{all}");
}

/// The writer behind `POST /broadcast`: once it ran as a plain task, and a panic left
/// every later publish failing while `/healthz` said 200.
async fn the_group_commit_writer_restarts_after_a_panic(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let mut client = app.connect("").await;
    let first = app.publish("ticket_created", json!({"n": 0}), None).await;
    assert_eq!(client.event_ids(1).await, vec![first]);

    app.hub
        .supervisor()
        .inject_fault("group_commit", Fault::Panic);
    wait_for_health(&app, 503, &["group_commit"]).await;
    app.hub.supervisor().clear_fault("group_commit");
    wait_for_health(&app, 200, &[]).await;

    let after = app.publish("ticket_created", json!({"n": 1}), None).await;
    assert_eq!(client.event_ids(1).await, vec![after]);
    let writer = &app.get("/status").await.1["tasks"]["group_commit"];
    assert!(writer["restarts"].as_i64() >= Some(1), "{writer}");
}
