//! `/api/v1/me/mail-preferences` and the preferences page: each person switches their
//! own kinds of mail, and only theirs; on both databases.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Client, TestApp, spawn_app, spawn_app_with, web_config};

const PATH: &str = "/api/v1/me/mail-preferences";

pub async fn check_mail_preferences(app: &TestApp) {
    let owner = app.login_as(&app.owner).await;
    let preferences = app.get(&owner, PATH).await.expect(200).body;
    assert_eq!(
        preferences,
        json!({"ticket_created": true, "staff_reply": true, "ticket_resolved": true}),
        "a requester is offered the three kinds about their own tickets"
    );
    let agent = app.login_as(&app.agent).await;
    let staff = app.get(&agent, PATH).await.expect(200).body;
    assert_eq!(
        staff.as_object().map(|kinds| kinds.len()),
        Some(5),
        "{staff}"
    );

    let saved = app
        .send(
            &owner,
            Method::PUT,
            PATH,
            Some(json!({"staff_reply": false})),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(saved["staff_reply"], false);
    assert_eq!(saved["ticket_created"], true);
    assert_eq!(app.get(&owner, PATH).await.expect(200).body, saved);
    // Someone else's switches are their own.
    assert_eq!(
        app.get(&agent, PATH).await.expect(200).body["staff_reply"],
        true
    );

    let unknown = app
        .send(&owner, Method::PUT, PATH, Some(json!({"newsletter": true})))
        .await
        .expect(422);
    assert!(
        unknown.body["fields"]["newsletter"].is_string(),
        "{}",
        unknown.body
    );
    let staff_only = app
        .send(
            &owner,
            Method::PUT,
            PATH,
            Some(json!({"ticket_assigned": false})),
        )
        .await
        .expect(422);
    assert!(
        staff_only.body["fields"]["ticket_assigned"].is_string(),
        "{}",
        staff_only.body
    );
    let not_a_switch = app
        .send(
            &owner,
            Method::PUT,
            PATH,
            Some(json!({"staff_reply": "no"})),
        )
        .await;
    assert!(
        matches!(not_a_switch.status, 400 | 422),
        "{}",
        not_a_switch.body
    );
    app.send(
        &owner.without_csrf(),
        Method::PUT,
        PATH,
        Some(json!({"staff_reply": true})),
    )
    .await
    .expect(403);
    app.get(&Client::default(), PATH).await.expect(401);
    assert_eq!(
        app.get(&owner, PATH).await.expect(200).body["staff_reply"],
        false
    );
}

#[tokio::test]
async fn mail_preferences() {
    check_mail_preferences(&spawn_app().await).await;
}

#[tokio::test]
async fn mail_preferences_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    check_mail_preferences(&spawn_app_with(backend, web_config()).await).await;
}

#[tokio::test]
async fn the_preferences_page_shows_the_callers_switches() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    app.send(
        &owner,
        Method::PUT,
        PATH,
        Some(json!({"ticket_resolved": false})),
    )
    .await
    .expect(200);
    let html = app.get_html(&owner, "/preferences").await;
    assert!(
        html.contains(r#"data-api="/api/v1/me/mail-preferences""#),
        "{html}"
    );
    assert!(html.contains(r#"name="ticket_created" checked"#), "{html}");
    assert!(html.contains(r#"name="ticket_resolved" >"#), "{html}");
    assert!(!html.contains(r#"name="ticket_assigned""#), "{html}");
    assert!(html.contains("owner@test.local"), "{html}");
}
