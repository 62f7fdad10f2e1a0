//! Blocking a user: their open WebSocket closes at once (1008), their session ends, and
//! they cannot log in again.

use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, spawn_app};

pub async fn check_blocking(app: &TestApp) {
    let admin = app.login_as(&app.admin).await;
    let owner = app.login_as(&app.owner).await;
    let mut socket = app.ws_connect(&owner, None).await;

    app.patch(
        &admin,
        &format!("/api/v1/users/{}", app.owner.id),
        json!({"status": "blocked"}),
    )
    .await
    .expect(200);

    let frame = socket.closed().await.expect("a close frame");
    assert_eq!(u16::from(frame.code), 1008, "{frame:?}");
    app.get(&owner, "/api/v1/tickets").await.expect(401);
    let refused = app.login(&app.owner.email, PASSWORD).await;
    assert!(matches!(refused.status, 401 | 403), "{refused:?}");
    assert!(refused.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn a_blocked_users_socket_is_closed_and_they_cannot_log_in() {
    let app = spawn_app().await;
    check_blocking(&app).await;
}

#[tokio::test]
async fn a_blocked_users_api_token_stops_working() {
    let app = spawn_app().await;
    let admin = app.login_as(&app.admin).await;
    let owner = app.login_as(&app.owner).await;
    let token = app.token_client(&owner).await;
    app.get(&token, "/api/v1/tickets").await.expect(200);
    app.patch(
        &admin,
        &format!("/api/v1/users/{}", app.owner.id),
        json!({"status": "blocked"}),
    )
    .await
    .expect(200);
    app.get(&token, "/api/v1/tickets").await.expect(401);
}
