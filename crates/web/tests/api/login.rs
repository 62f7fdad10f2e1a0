//! Logging in under attack (issue 9 point 6): the limit cannot be raced, nobody can
//! lock someone else out, a blocked account is no password oracle, and a password
//! change needs the current one and ends the other sessions. Clients come from
//! different loopback addresses (127.0.0.x), which the server sees as different
//! client addresses without any proxy settings.

use std::net::IpAddr;

use ictdesk_desk::login_limit::LoginLimit;
use ictdesk_web::WebConfig;
use serde_json::{Value, json};

use crate::helpers::{Backend, PASSWORD, TestApp, spawn_app, spawn_app_with, web_config};

/// `POST /api/v1/session` from the loopback address `127.0.0.{host}`.
async fn login_from(app: &TestApp, host: u8, email: &str, password: &str) -> (u16, Value) {
    let source: IpAddr = [127, 0, 0, host].into();
    let http = reqwest::Client::builder()
        .local_address(source)
        .build()
        .expect("a client");
    let response = http
        .post(app.url("/api/v1/session"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn limited_to(attempts: u32) -> WebConfig {
    WebConfig {
        login_limit: LoginLimit {
            attempts,
            ..LoginLimit::default()
        },
        ..web_config()
    }
}

async fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    backends.extend(Backend::postgres().await);
    backends
}

#[tokio::test]
async fn parallel_wrong_passwords_get_no_more_checks_than_the_limit() {
    for backend in backends().await {
        let app = spawn_app_with(backend, limited_to(10)).await;
        let guesses = (0..60).map(|n| {
            let (app, email) = (&app, app.agent.email.clone());
            async move { login_from(app, 2, &email, &format!("guess {n}")).await.0 }
        });
        let statuses = futures_util::future::join_all(guesses).await;
        let checked = statuses.iter().filter(|status| **status == 401).count();
        assert!(
            checked <= 10,
            "{checked} of 60 parallel guesses were checked against a limit of 10: {statuses:?}"
        );
        assert!(
            statuses
                .iter()
                .all(|status| matches!(status, 401 | 429 | 503)),
            "{statuses:?}"
        );
    }
}

#[tokio::test]
async fn failures_from_other_addresses_never_lock_the_right_password_out() {
    for backend in backends().await {
        let app = spawn_app_with(backend, limited_to(3)).await;
        // Six failures at the admin's account from two addresses.
        for host in 2..4 {
            for _ in 0..3 {
                let (status, _) = login_from(&app, host, &app.admin.email, "wrong").await;
                assert_eq!(status, 401);
            }
        }
        // Each of those addresses is out of tries for this account...
        let (status, _) = login_from(&app, 2, &app.admin.email, PASSWORD).await;
        assert_eq!(status, 429);
        // ...but the admin, from elsewhere, gets in (only slowed down).
        let (status, body) = login_from(&app, 9, &app.admin.email, PASSWORD).await;
        assert_eq!(status, 200, "{body}");
        // And the guessers' addresses may still sign in to other accounts.
        let (status, body) = login_from(&app, 2, &app.agent.email, PASSWORD).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn the_limit_answers_429_with_retry_after_even_for_the_right_password() {
    let app = spawn_app_with(Backend::Sqlite, limited_to(3)).await;
    for _ in 0..3 {
        app.login(&app.agent.email, "wrong password")
            .await
            .expect(401);
    }
    // The guesser must not learn that this one was right.
    let limited = app.login(&app.agent.email, PASSWORD).await.expect(429);
    let retry_after: u64 = limited.headers["retry-after"]
        .to_str()
        .expect("text")
        .parse()
        .expect("seconds");
    assert!(retry_after >= 1);
}

#[tokio::test]
async fn a_blocked_account_answers_the_right_password_as_a_wrong_one() {
    let app = spawn_app().await;
    let admin = app.login_as(&app.admin).await;
    app.patch(
        &admin,
        &format!("/api/v1/users/{}", app.owner.id),
        json!({"status": "blocked"}),
    )
    .await
    .expect(200);
    let right = app.login(&app.owner.email, PASSWORD).await;
    let wrong = app.login(&app.owner.email, "not the password").await;
    assert_eq!((right.status, &right.body), (wrong.status, &wrong.body));
    assert_eq!(right.status, 401);
}

#[tokio::test]
async fn changing_ones_password_needs_the_current_one_and_ends_the_other_sessions() {
    for backend in backends().await {
        let app = spawn_app_with(backend, web_config()).await;
        let here = app.login_as(&app.owner).await;
        let elsewhere = app.login_as(&app.owner).await;
        let path = format!("/api/v1/users/{}", app.owner.id);
        let refused = app
            .patch(&here, &path, json!({"password": "a brand new secret"}))
            .await
            .expect(422);
        assert!(refused.body["fields"]["current_password"].is_string());
        app.patch(
            &here,
            &path,
            json!({"password": "a brand new secret", "current_password": "a guess"}),
        )
        .await
        .expect(422);
        app.get(&elsewhere, "/api/v1/tickets").await.expect(200);

        app.patch(
            &here,
            &path,
            json!({"password": "a brand new secret", "current_password": PASSWORD}),
        )
        .await
        .expect(200);
        app.get(&here, "/api/v1/tickets").await.expect(200);
        app.get(&elsewhere, "/api/v1/tickets").await.expect(401);
        app.login(&app.owner.email, "a brand new secret")
            .await
            .expect(200);
    }
}

/// The current password sent with a change is a guess like a login's: a stolen session
/// gets no more tries at it than the login form gives.
#[tokio::test]
async fn guessing_the_current_password_counts_against_the_login_limit() {
    for backend in backends().await {
        let app = spawn_app_with(backend, limited_to(3)).await;
        let here = app.login_as(&app.owner).await;
        let path = format!("/api/v1/users/{}", app.owner.id);
        let change =
            |current: &str| json!({"password": "a brand new secret", "current_password": current});
        for n in 0..3 {
            app.patch(&here, &path, change(&format!("guess {n}")))
                .await
                .expect(422);
        }
        app.patch(&here, &path, change("guess 3")).await.expect(429);
        app.patch(&here, &path, change(PASSWORD)).await.expect(429);
        // One limit: the login form from the same address is refused too.
        let (status, body) = login_from(&app, 1, &app.owner.email, PASSWORD).await;
        assert_eq!(status, 429, "{body}");
    }
}

#[tokio::test]
async fn an_admin_resets_a_password_without_knowing_it() {
    let app = spawn_app().await;
    let admin = app.login_as(&app.admin).await;
    let owner = app.login_as(&app.owner).await;
    app.patch(
        &admin,
        &format!("/api/v1/users/{}", app.owner.id),
        json!({"password": "reset by the admin"}),
    )
    .await
    .expect(200);
    app.get(&owner, "/api/v1/tickets").await.expect(401);
    app.get(&admin, "/api/v1/tickets").await.expect(200);
}
