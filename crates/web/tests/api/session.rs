//! Logging in and out, the session cookie, API tokens, the login attempt limit.

use ictdesk_web::WebConfig;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Client, PASSWORD, spawn_app, spawn_app_with, web_config};

#[tokio::test]
async fn login_sets_an_http_only_lax_cookie_and_answers_the_csrf_token() {
    let app = spawn_app().await;
    let reply = app.login(&app.agent.email, PASSWORD).await.expect(200);
    let cookie = reply.headers["set-cookie"].to_str().expect("text");
    assert!(cookie.starts_with("ictdesk_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} missing in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "{cookie}");
    assert!(
        reply.body["csrf_token"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    assert_eq!(
        reply.body["user"],
        json!({"id": app.agent.id, "name": "Gleb Agent", "email": "agent@test.local",
               "role": "agent", "locale": app.agent.locale.as_str()})
    );
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured() {
    let config = WebConfig {
        secure_cookies: true,
        ..web_config()
    };
    let app = spawn_app_with(Backend::Sqlite, config).await;
    let reply = app.login(&app.agent.email, PASSWORD).await.expect(200);
    let cookie = reply.headers["set-cookie"].to_str().expect("text");
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn a_failed_login_does_not_say_which_part_was_wrong() {
    let app = spawn_app().await;
    let wrong_password = app
        .login(&app.agent.email, "not the password")
        .await
        .expect(401);
    let unknown_email = app.login("nobody@test.local", PASSWORD).await.expect(401);
    assert_eq!(wrong_password.body["error"], unknown_email.body["error"]);
    assert!(wrong_password.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn the_session_tells_who_is_signed_in_until_logout() {
    let app = spawn_app().await;
    let client = app.login_as(&app.owner).await;
    let me = app.get(&client, "/api/v1/session").await.expect(200);
    assert_eq!(me.body["user"]["id"], app.owner.id);
    assert_eq!(me.body["csrf_token"].as_str(), client.csrf.as_deref());

    let logout = app
        .send(&client, Method::DELETE, "/api/v1/session", None)
        .await
        .expect(204);
    let cleared = logout.headers["set-cookie"].to_str().expect("text");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    app.get(&client, "/api/v1/session").await.expect(401);
    app.get(&client, "/api/v1/tickets").await.expect(401);
}

#[tokio::test]
async fn anonymous_api_requests_are_unauthenticated() {
    let app = spawn_app().await;
    let reply = app
        .get(&Client::default(), "/api/v1/tickets")
        .await
        .expect(401);
    assert!(reply.body["error"].is_string());
}

#[tokio::test]
async fn api_tokens_are_shown_once_listed_and_revocable() {
    let app = spawn_app().await;
    let session = app.login_as(&app.agent).await;
    let created = app
        .post(&session, "/api/v1/tokens", json!({"name": "monitoring"}))
        .await
        .expect(201);
    let secret = created.body["secret"]
        .as_str()
        .expect("the secret")
        .to_owned();
    let listed = app.get(&session, "/api/v1/tokens").await.expect(200);
    assert_eq!(listed.body["items"][0]["name"], "monitoring");
    assert!(listed.body["items"][0].get("secret").is_none());

    let token = Client {
        token: Some(secret),
        ..Client::default()
    };
    app.get(&token, "/api/v1/tickets").await.expect(200);
    app.send(
        &session,
        Method::DELETE,
        &format!("/api/v1/tokens/{}", created.id()),
        None,
    )
    .await
    .expect(204);
    app.get(&token, "/api/v1/tickets").await.expect(401);
}

#[tokio::test]
async fn a_login_posted_from_another_site_is_refused() {
    let app = spawn_app().await;
    let response = app
        .http
        .post(app.url("/api/v1/session"))
        .header("Origin", "https://evil.example")
        .json(&json!({"email": app.agent.email, "password": PASSWORD}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 403);
}
