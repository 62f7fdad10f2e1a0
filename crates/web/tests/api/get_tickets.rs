//! `get_tickets` over WebSocket (and `GET /get_tickets` for pages that poll), and how
//! the hub identifies viewers.

use serde_json::json;

use crate::helpers::{Client, TestApp, spawn_app};

pub async fn check_get_tickets(app: &TestApp) {
    let owner = app.login_as(&app.owner).await;
    let other = app.login_as(&app.other).await;
    let agent = app.login_as(&app.agent).await;
    let mine = app.create_ticket(&owner, "Owner's ticket").await;
    app.create_ticket(&other, "Other's ticket").await;
    app.create_ticket(&other, "Other's second ticket").await;

    let mut socket = app.ws_connect(&owner, None).await;
    socket.send(json!({"type": "get_tickets"})).await;
    let reply = socket.reply("tickets").await;
    assert_eq!(reply["type"], "tickets", "{reply}");
    let tickets = reply["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 1, "{reply}");
    assert_eq!(tickets[0]["id"], mine["id"]);
    assert_eq!(reply["stats"]["total"], 1);
    assert_eq!(reply["stats"]["new"], 1);
    assert!(reply["last_updated"].is_string());

    let mut socket = app.ws_connect(&agent, None).await;
    socket.send(json!({"type": "get_tickets"})).await;
    let reply = socket.reply("tickets").await;
    assert_eq!(reply["tickets"].as_array().map(Vec::len), Some(3));
    assert_eq!(reply["stats"]["total"], 3);
    socket
        .send(json!({"type": "get_tickets", "requester_id": app.other.id}))
        .await;
    let reply = socket.reply("tickets").await;
    assert_eq!(reply["tickets"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn get_tickets_answers_only_visible_tickets_with_stats() {
    let app = spawn_app().await;
    check_get_tickets(&app).await;
}

/// What a polling page's `onSuccess` gets: the WebSocket's answer, over HTTP.
#[tokio::test]
async fn get_tickets_over_http_answers_as_over_websocket() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    app.create_ticket(&owner, "Owner's ticket").await;
    app.create_ticket(&agent, "Agent's ticket").await;

    let mut socket = app.ws_connect(&owner, None).await;
    socket.send(json!({"type": "get_tickets"})).await;
    let over_websocket = socket.reply("tickets").await;
    let over_http = app.get(&owner, "/get_tickets").await.expect(200).body;
    for key in ["type", "tickets", "stats", "total", "page", "per_page"] {
        assert_eq!(over_http[key], over_websocket[key], "{key}");
    }
    assert!(over_http["last_updated"].is_string());
    let filtered = app
        .get(
            &agent,
            &format!("/get_tickets?requester_id={}", app.owner.id),
        )
        .await
        .expect(200);
    assert_eq!(filtered.body["tickets"].as_array().map(Vec::len), Some(1));
    let refused = app
        .get(&agent, "/get_tickets?status=open")
        .await
        .expect(422);
    assert!(
        refused.body["fields"]["status"].is_string(),
        "{}",
        refused.body
    );
    app.get(&Client::default(), "/get_tickets")
        .await
        .expect(403);
}

#[tokio::test]
async fn get_tickets_errors_keep_the_connection_open() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    let mut socket = app.ws_connect(&agent, None).await;
    socket
        .send(json!({"type": "get_tickets", "status": "open"}))
        .await;
    let error = socket.reply("tickets").await;
    assert_eq!(error["type"], "error", "{error}");
    socket.send(json!({"type": "make_coffee"})).await;
    let error = socket.reply("tickets").await;
    assert_eq!(error["code"], "unsupported", "{error}");
    socket.send(json!({"type": "get_tickets"})).await;
    assert_eq!(socket.reply("tickets").await["type"], "tickets");
}

#[tokio::test]
async fn anonymous_viewers_get_no_tickets() {
    let app = spawn_app().await;
    let mut socket = app.ws_connect(&Client::default(), None).await;
    socket.send(json!({"type": "get_tickets"})).await;
    let reply = socket.reply("tickets").await;
    assert_eq!(reply["type"], "error", "{reply}");
}

#[tokio::test]
async fn an_api_token_identifies_a_websocket_viewer() {
    let app = spawn_app().await;
    let session = app.login_as(&app.agent).await;
    let token = app.token_client(&session).await;
    let mut socket = app.ws_connect(&token, None).await;
    socket.send(json!({"type": "get_tickets"})).await;
    assert_eq!(socket.reply("tickets").await["type"], "tickets");

    let query = format!(
        "/messages?token={}",
        token.token.as_deref().expect("a token")
    );
    app.get(&Client::default(), &query).await.expect(200);
    app.get(&Client::default(), "/messages?token=wrong")
        .await
        .expect(401);
}

#[tokio::test]
async fn a_websocket_from_another_origin_is_refused() {
    use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};
    let app = spawn_app().await;
    let mut request = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .expect("a request");
    request
        .headers_mut()
        .insert("Origin", "https://evil.example".parse().expect("a header"));
    let refused = tokio_tungstenite::connect_async(request).await;
    match refused {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected a 403, got {other:?}"),
    }
    let mut request = format!("ws://{}/ws", app.addr)
        .into_client_request()
        .expect("a request");
    let own = format!("http://{}", app.addr);
    request
        .headers_mut()
        .insert("Origin", own.parse().expect("a header"));
    tokio_tungstenite::connect_async(request)
        .await
        .expect("the same origin is allowed");
}
