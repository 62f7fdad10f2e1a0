//! The original system's endpoints and the operations ones, with their shapes.

use ictdesk_hub::HubConfig;
use serde_json::{Value, json};

use crate::helpers::{Backend, TestHub, spawn_hub, spawn_hub_with, test_config};

#[tokio::test]
async fn test_answers_like_the_original_server() {
    let app = spawn_hub().await;
    assert_eq!(
        app.get("/test").await,
        (
            200,
            json!({"ok": true, "message": "WebSocket server is running"})
        )
    );
}

#[tokio::test]
async fn status_counts_clients_events_and_messages() {
    let app = spawn_hub().await;
    let mut client = app.connect("").await;
    let id = app.publish("ticket_created", json!({}), None).await;
    client.event_ids(1).await;
    let (status, body) = app.get("/status").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "running");
    assert_eq!(body["clients"], 1);
    assert_eq!(body["events_published"], 1);
    assert_eq!(body["last_id"], id);
    assert!(body["messages_sent"].as_i64() >= Some(2), "{body}");
    for key in ["uptime_seconds", "started_at", "version", "node"] {
        assert!(body.get(key).is_some(), "/status lacks {key}: {body}");
    }
}

#[tokio::test]
async fn clients_counts_open_websockets() {
    let app = spawn_hub().await;
    assert_eq!(app.get("/clients").await, (200, json!({"clients": 0})));
    let first = app.connect("").await;
    let _second = app.connect("").await;
    app.wait_for_clients(2).await;
    drop(first);
    app.wait_for_clients(1).await;
    let (_, all) = app.get("/clients?all=1").await;
    assert_eq!(all["clients"], 1);
    assert_eq!(all["nodes"][0]["clients"], 1);
}

#[tokio::test]
async fn metrics_are_prometheus_text() {
    let app = spawn_hub().await;
    let _client = app.connect("").await;
    app.publish("ticket_created", json!({}), None).await;
    let response = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    for name in [
        "ictdesk_websocket_connections",
        "ictdesk_events_total",
        "ictdesk_messages_sent_total",
        "ictdesk_slow_consumers_dropped_total",
        "ictdesk_http_request_duration_seconds_bucket",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    assert_eq!(app.metric("ictdesk_websocket_connections").await, 1);
}

#[tokio::test]
async fn healthz_checks_the_database() {
    let app = spawn_hub().await;
    assert_eq!(
        app.get("/healthz").await,
        (
            200,
            json!({"status": "ok", "database": "ok", "tasks_down": []})
        )
    );
}

#[tokio::test]
async fn with_websocket_disabled_the_upgrade_is_refused_and_polling_says_so() {
    let config = ictdesk_hub::HubConfig {
        websocket_enabled: false,
        ..crate::helpers::test_config()
    };
    let app = crate::helpers::spawn_hub_with(crate::helpers::Backend::Sqlite, config).await;
    let refused = tokio_tungstenite::connect_async(format!("ws://{}/ws", app.addr)).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert_eq!(response.status(), 503);
    let id = app.publish("ticket_created", json!({}), None).await;
    assert_eq!(app.poll_ids(0, 1, None).await, vec![id]);
    // Pages poll while it is off; each answer tells them whether they may switch.
    let (status, page) = app.get("/messages?since=0").await;
    assert_eq!((status, &page["websocket"]), (200, &json!(false)));
}

#[tokio::test]
async fn shutdown_closes_websockets_with_going_away() {
    let app = spawn_hub().await;
    let mut client = app.connect("").await;
    app.hub.shutdown();
    assert_eq!(client.close_code().await, Some(1001));
}

/// `path` as the client `client` behind a trusted proxy (the test itself, on loopback).
async fn get_as(app: &TestHub, client: &str, path: &str) -> (u16, Value) {
    let response = app
        .http
        .get(app.url(path))
        .header("X-Forwarded-For", client)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn metrics_and_the_node_list_answer_only_operators_while_the_rest_stays_public() {
    let config = HubConfig {
        trusted_proxies: vec!["127.0.0.1/32".parse().expect("a network")],
        allowed_ips: vec!["198.51.100.0/24".parse().expect("a network")],
        ..test_config()
    };
    let app = spawn_hub_with(Backend::Sqlite, config).await;
    let stranger = "203.0.113.5";
    let (status, body) = get_as(&app, stranger, "/metrics").await;
    assert_eq!(status, 403, "{body}");
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(get_as(&app, stranger, "/clients?all=1").await.0, 403);
    for public in ["/test", "/status", "/clients"] {
        let (status, body) = get_as(&app, stranger, public).await;
        assert_eq!(status, 200, "{public}: {body}");
        // Counts and versions, nobody's name, address or e-mail.
        let text = body.to_string();
        assert!(
            !text.contains('@') && !text.contains(stranger),
            "{public}: {text}"
        );
    }
    let operator = "198.51.100.9";
    assert_eq!(get_as(&app, operator, "/clients?all=1").await.0, 200);
    let response = app
        .http
        .get(app.url("/metrics"))
        .header("X-Forwarded-For", operator)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
}
