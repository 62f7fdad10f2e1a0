//! Audiences are the server's decision: nobody receives what is not for them, over
//! either transport.

use serde_json::json;

use crate::helpers::{Backend, spawn_hub_with, test_config, token};

on_both_backends!(audiences_are_respected_over_websocket_and_polling);

async fn audiences_are_respected_over_websocket_and_polling(backend: Backend) {
    let app = spawn_hub_with(backend, test_config()).await;
    let user17 = token(17, "requester");
    let user18 = token(18, "requester");
    let agent = token(3, "agent");
    let mut anonymous = app.connect("").await;
    let mut requester17 = app.connect(&format!("?token={user17}")).await;
    let mut requester18 = app.connect(&format!("?token={user18}")).await;
    let mut agent3 = app.connect(&format!("?token={agent}")).await;
    let start = anonymous.last_id();

    let for_agents = app
        .publish(
            "equipment_status_changed",
            json!({}),
            Some(json!({"roles": ["agent", "admin"]})),
        )
        .await;
    let for_17 = app
        .publish(
            "ticket_status_changed",
            json!({"ticket": 1}),
            Some(json!({"roles": ["agent"], "users": [17]})),
        )
        .await;
    let for_18 = app
        .publish(
            "ticket_status_changed",
            json!({"ticket": 2}),
            Some(json!({"roles": ["agent"], "users": [18]})),
        )
        .await;
    let for_everyone = app
        .publish("knowledge_article_created", json!({}), None)
        .await;

    assert_eq!(anonymous.event_ids(1).await, vec![for_everyone]);
    assert_eq!(requester17.event_ids(2).await, vec![for_17, for_everyone]);
    assert_eq!(requester18.event_ids(2).await, vec![for_18, for_everyone]);
    assert_eq!(
        agent3.event_ids(4).await,
        vec![for_agents, for_17, for_18, for_everyone]
    );
    for client in [
        &mut anonymous,
        &mut requester17,
        &mut requester18,
        &mut agent3,
    ] {
        client.assert_no_event_pending().await;
    }

    assert_eq!(app.poll_ids(start, 1, None).await, vec![for_everyone]);
    assert_eq!(
        app.poll_ids(start, 2, Some(&user17)).await,
        vec![for_17, for_everyone]
    );
    assert_eq!(
        app.poll_ids(start, 2, Some(&user18)).await,
        vec![for_18, for_everyone]
    );
    // A poll past the last visible event skips what it may not see and returns nothing.
    let (_, page) = app
        .get(&format!("/messages?since={for_17}&token={user18}&limit=1"))
        .await;
    assert_eq!(page["messages"][0]["id"], for_18);
}

#[tokio::test]
async fn a_bad_or_expired_token_is_refused_before_the_upgrade() {
    let app = crate::helpers::spawn_hub().await;
    let url = format!("ws://{}/ws?token=not-a-jwt", app.addr);
    let refused = tokio_tungstenite::connect_async(url).await;
    let Err(tokio_tungstenite::tungstenite::Error::Http(response)) = refused else {
        panic!("expected an HTTP refusal, got {refused:?}");
    };
    assert_eq!(response.status(), 401);

    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": "1", "role": "agent", "exp": 1_000_000}),
        &jsonwebtoken::EncodingKey::from_secret(crate::helpers::HUB_SECRET.as_bytes()),
    )
    .expect("token");
    let (status, body) = app.get(&format!("/messages?token={expired}")).await;
    assert_eq!(status, 401);
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("token expired")),
        "{body}"
    );
}
