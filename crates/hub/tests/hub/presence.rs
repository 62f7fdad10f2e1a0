//! Presence on a ticket: delivered to the others on it, never stored.

use serde_json::{Value, json};

use crate::helpers::{WsClient, spawn_hub, token};

async fn next_presence(client: &mut WsClient) -> Value {
    loop {
        let frame = client.next_json().await;
        if frame["type"] == "presence" {
            return frame;
        }
    }
}

fn states(frame: &Value) -> Vec<(i64, String)> {
    let mut states: Vec<(i64, String)> = frame["viewers"]
        .as_array()
        .expect("viewers")
        .iter()
        .map(|viewer| {
            (
                viewer["user_id"].as_i64().expect("user_id"),
                viewer["state"].as_str().expect("state").to_owned(),
            )
        })
        .collect();
    states.sort();
    states
}

#[tokio::test]
async fn viewers_of_a_ticket_see_each_other_and_nothing_is_stored() {
    let app = spawn_hub().await;
    let mut alice = app.connect(&format!("?token={}", token(1, "agent"))).await;
    let mut bob = app.connect(&format!("?token={}", token(2, "agent"))).await;
    let mut elsewhere = app.connect(&format!("?token={}", token(3, "agent"))).await;

    alice
        .send_json(json!({"type": "view", "ticket_id": 9}))
        .await;
    assert_eq!(
        states(&next_presence(&mut alice).await),
        vec![(1, "viewing".into())]
    );
    bob.send_json(json!({"type": "editing", "ticket_id": 9}))
        .await;
    let expected = vec![(1, "viewing".into()), (2, "editing".into())];
    assert_eq!(states(&next_presence(&mut alice).await), expected);
    assert_eq!(states(&next_presence(&mut bob).await), expected);

    bob.send_json(json!({"type": "leave", "ticket_id": 9}))
        .await;
    assert_eq!(
        states(&next_presence(&mut alice).await),
        vec![(1, "viewing".into())]
    );
    drop(alice);
    elsewhere.assert_no_event_pending().await;
    assert_eq!(
        app.get("/status").await.1["last_id"],
        0,
        "presence is never stored"
    );
}

#[tokio::test]
async fn a_closed_connection_disappears_from_the_list() {
    let app = spawn_hub().await;
    let mut alice = app.connect(&format!("?token={}", token(1, "agent"))).await;
    let bob = app.connect(&format!("?token={}", token(2, "agent"))).await;
    let mut bob = bob;
    alice
        .send_json(json!({"type": "view", "ticket_id": 4}))
        .await;
    next_presence(&mut alice).await;
    bob.send_json(json!({"type": "view", "ticket_id": 4})).await;
    assert_eq!(states(&next_presence(&mut alice).await).len(), 2);
    drop(bob);
    assert_eq!(
        states(&next_presence(&mut alice).await),
        vec![(1, "viewing".into())]
    );
}

#[tokio::test]
async fn an_idle_viewer_shows_as_idle() {
    let config = ictdesk_hub::HubConfig {
        presence_idle_after: std::time::Duration::from_millis(300),
        ..crate::helpers::test_config()
    };
    let app = crate::helpers::spawn_hub_with(crate::helpers::Backend::Sqlite, config).await;
    let mut alice = app.connect(&format!("?token={}", token(1, "agent"))).await;
    alice
        .send_json(json!({"type": "view", "ticket_id": 4}))
        .await;
    assert_eq!(
        states(&next_presence(&mut alice).await),
        vec![(1, "viewing".into())]
    );
    assert_eq!(
        states(&next_presence(&mut alice).await),
        vec![(1, "idle".into())]
    );
    alice
        .send_json(json!({"type": "view", "ticket_id": 4}))
        .await;
    assert_eq!(
        states(&next_presence(&mut alice).await),
        vec![(1, "viewing".into())]
    );
}

#[tokio::test]
async fn anonymous_viewers_cannot_be_present() {
    let app = spawn_hub().await;
    let mut anonymous = app.connect("").await;
    anonymous
        .send_json(json!({"type": "view", "ticket_id": 4}))
        .await;
    let frame = anonymous.next_json().await;
    assert_eq!(frame["code"], "forbidden", "{frame}");
}
