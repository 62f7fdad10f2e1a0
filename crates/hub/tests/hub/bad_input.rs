//! Bad input: an answer that names the problem, never a crash, never a lost
//! event.

use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{
    Message,
    protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    },
};

use crate::helpers::{BROADCAST_TOKEN, TestHub, WsClient, spawn_hub};

async fn expect_error(client: &mut WsClient, code: &str) -> Value {
    let frame = client.next_json().await;
    assert_eq!(frame["type"], "error", "{frame}");
    assert_eq!(frame["code"], code, "{frame}");
    assert!(
        frame["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{frame}"
    );
    frame
}

/// The connection (and the hub) still works: pings answer and events arrive in order.
async fn still_delivers(app: &TestHub, client: &mut WsClient) {
    client.assert_no_event_pending().await;
    let id = app.publish("ticket_created", json!({}), None).await;
    assert_eq!(client.event_ids(1).await, vec![id]);
}

#[tokio::test]
async fn malformed_messages_get_an_error_and_the_connection_stays() {
    let app = spawn_hub().await;
    let mut client = app.connect("").await;
    client.send(Message::text("{not json")).await;
    expect_error(&mut client, "bad_json").await;
    client.send(Message::text("[1,2]")).await;
    expect_error(&mut client, "bad_message").await;
    client.send(Message::text(r#"{"no_type":1}"#)).await;
    expect_error(&mut client, "bad_message").await;
    client
        .send_json(json!({"type": "resume", "since": "yesterday"}))
        .await;
    let error = expect_error(&mut client, "bad_field").await;
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("since")),
        "{error}"
    );
    client
        .send_json(json!({"type": "view", "ticket_id": "seven"}))
        .await;
    expect_error(&mut client, "bad_field").await;
    client.send_json(json!({"type": "get_tickets"})).await;
    expect_error(&mut client, "unsupported").await;
    client.send_json(json!({"type": "make_coffee"})).await;
    expect_error(&mut client, "unsupported").await;
    client.send(Message::binary(vec![1u8, 2, 3])).await;
    expect_error(&mut client, "binary_unsupported").await;
    still_delivers(&app, &mut client).await;
}

#[tokio::test]
async fn repeated_abuse_closes_the_connection_with_1008() {
    let app = spawn_hub().await;
    let mut client = app.connect("").await;
    for _ in 0..10 {
        client.send(Message::text("garbage")).await;
    }
    assert_eq!(client.close_code().await, Some(1008));
    let mut other = app.connect("").await;
    still_delivers(&app, &mut other).await;
}

#[tokio::test]
async fn invalid_utf8_closes_with_1007() {
    let app = spawn_hub().await;
    let mut client = app.connect("").await;
    let frame = Frame::message(vec![0x7b, 0xff, 0xfe, 0x7d], OpCode::Data(Data::Text), true);
    client.send(Message::Frame(frame)).await;
    assert_eq!(client.close_code().await, Some(1007));
    let mut other = app.connect("").await;
    still_delivers(&app, &mut other).await;
}

#[tokio::test]
async fn an_oversized_message_closes_with_1009() {
    let app = spawn_hub().await;
    let mut client = app.connect("").await;
    let big = format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(70 * 1024));
    client.send(Message::text(big)).await;
    assert_eq!(client.close_code().await, Some(1009));
    let mut other = app.connect("").await;
    still_delivers(&app, &mut other).await;
}

#[tokio::test]
async fn bad_polling_parameters_are_400_naming_the_field() {
    let app = spawn_hub().await;
    for (query, field) in [
        ("since=abc", "since"),
        ("since=-4", "since"),
        ("since=1&wait=soon", "wait"),
        ("since=1&wait=-1", "wait"),
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
    ] {
        let (status, body) = app.get(&format!("/messages?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body["fields"].get(field).is_some(), "{query}: {body}");
    }
    let (status, body) = app.get("/messages?since=0&wait=99").await;
    assert_eq!(
        status, 200,
        "a wait above 30 s is capped, not refused: {body}"
    );
}

#[tokio::test]
async fn broadcast_without_the_right_token_is_401() {
    let app = spawn_hub().await;
    let body = json!({"type": "ticket_created", "data": {}});
    let missing = app
        .http
        .post(app.url("/broadcast"))
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(missing.status(), 401);
    let wrong = app
        .http
        .post(app.url("/broadcast"))
        .bearer_auth("guess")
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong.status(), 401);
    let error: Value = wrong.json().await.expect("JSON error");
    assert!(
        error["error"].as_str().is_some_and(|e| e.contains("token")),
        "{error}"
    );
    assert_eq!(
        app.get("/status").await.1["last_id"],
        0,
        "nothing was published"
    );
}

#[tokio::test]
async fn bad_broadcast_bodies_are_refused_naming_the_problem() {
    let app = spawn_hub().await;
    let cases: [(&str, u16, &str); 7] = [
        ("{\"type\":", 400, ""),
        ("{}", 422, "type"),
        (r#"{"type": 5}"#, 422, "type"),
        (r#"{"type": "Bad Type"}"#, 422, "type"),
        (r#"{"type": "welcome"}"#, 422, "type"),
        (
            r#"{"type": "x", "audience": {"roles": "agent"}}"#,
            422,
            "audience.roles",
        ),
        (r#"{"type": "x", "colour": 1}"#, 422, "colour"),
    ];
    for (body, status, field) in cases {
        let response = app
            .http
            .post(app.url("/broadcast"))
            .bearer_auth(BROADCAST_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), status, "{body}");
        let error: Value = response.json().await.expect("JSON error");
        assert!(error["error"].is_string(), "{body}: {error}");
        if !field.is_empty() {
            assert!(error["fields"].get(field).is_some(), "{body}: {error}");
        }
    }
    let huge = json!({"type": "x", "data": "y".repeat(70 * 1024)});
    let response = app
        .http
        .post(app.url("/broadcast"))
        .bearer_auth(BROADCAST_TOKEN)
        .json(&huge)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 413);
    assert_eq!(
        app.get("/status").await.1["last_id"],
        0,
        "nothing was published"
    );
    let mut client = app.connect("").await;
    still_delivers(&app, &mut client).await;
}
