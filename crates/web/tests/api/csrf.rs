//! Session-authenticated changes need the CSRF token; API tokens do not.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_change_without_the_csrf_token_is_forbidden_and_changes_nothing() {
    let app = spawn_app().await;
    let session = app.login_as(&app.owner).await;
    let reply = app
        .post(
            &session.without_csrf(),
            "/api/v1/tickets",
            json!({"title": "Printer jammed"}),
        )
        .await
        .expect(403);
    assert!(
        reply.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("CSRF")),
        "{}",
        reply.body
    );
    let list = app.get(&session, "/api/v1/tickets").await.expect(200);
    assert_eq!(list.body["total"], 0);
}

#[tokio::test]
async fn a_wrong_csrf_token_is_forbidden() {
    let app = spawn_app().await;
    let mut session = app.login_as(&app.owner).await;
    session.csrf = Some("not-the-token".into());
    let reply = app
        .post(
            &session,
            "/api/v1/tickets",
            json!({"title": "Printer jammed"}),
        )
        .await
        .expect(403);
    assert!(
        reply.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("CSRF"))
    );
}

#[tokio::test]
async fn a_change_with_the_csrf_token_is_accepted() {
    let app = spawn_app().await;
    let session = app.login_as(&app.owner).await;
    app.post(
        &session,
        "/api/v1/tickets",
        json!({"title": "Printer jammed"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn reads_need_no_csrf_token() {
    let app = spawn_app().await;
    let session = app.login_as(&app.owner).await;
    app.get(&session.without_csrf(), "/api/v1/tickets")
        .await
        .expect(200);
}

#[tokio::test]
async fn an_api_token_needs_no_csrf_token() {
    let app = spawn_app().await;
    let session = app.login_as(&app.owner).await;
    let token = app.token_client(&session).await;
    let ticket = app.create_ticket(&token, "Filed by an integration").await;
    assert_eq!(ticket["requester_id"], app.owner.id);
}

#[tokio::test]
async fn logout_needs_the_csrf_token() {
    let app = spawn_app().await;
    let session = app.login_as(&app.owner).await;
    app.send(
        &session.without_csrf(),
        reqwest::Method::DELETE,
        "/api/v1/session",
        None,
    )
    .await
    .expect(403);
    app.get(&session, "/api/v1/session").await.expect(200);
}
