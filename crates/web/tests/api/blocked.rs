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

/// The listener that closes blocked users' sockets runs supervised: after a panic
/// (injected; `fault-injection` is a test-only feature) `/healthz` names it until it is
/// back, and the restarted listener still closes the sockets.
#[tokio::test]
async fn the_blocked_user_listener_comes_back_after_a_panic() {
    use ictdesk_hub::supervisor::Fault;

    let app = spawn_app().await;
    let supervisor = app.hub.supervisor();
    supervisor.inject_fault("blocked_users", Fault::Panic);
    let health = wait_for_health(&app, 503).await;
    assert_eq!(health["tasks_down"], json!(["blocked_users"]), "{health}");
    supervisor.clear_fault("blocked_users");
    wait_for_health(&app, 200).await;
    check_blocking(&app).await;
}

/// Waits until `/healthz` answers `status`; returns its body.
async fn wait_for_health(app: &TestApp, status: u16) -> serde_json::Value {
    let deadline = tokio::time::Instant::now() + crate::helpers::PATIENCE;
    loop {
        let response = app.http.get(app.url("/healthz")).send().await.expect("GET");
        if response.status() == status {
            return response.json().await.expect("JSON");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/healthz never answered {status}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
