//! Announcements (issue 17 point 12): admins withdraw a notice («Снять»); active
//! warnings and critical notices are a banner on every page of their audience, and a
//! withdrawn or expired one is gone from it; everyone but admins reads notices, not a
//! table of recipients.

use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp, spawn_app_with, web_config};

async fn publish(app: &TestApp, admin: &Client, title: &str, level: &str, audience: Value) -> i64 {
    app.post(
        admin,
        "/api/v1/notifications",
        json!({"title": title, "message": format!("{title}: details"), "level": level,
               "audience": audience}),
    )
    .await
    .expect(201)
    .id()
}

fn withdraw_path(id: i64) -> String {
    format!("/api/v1/notifications/{id}/withdraw")
}

async fn withdrawing_takes_a_notice_off_everywhere_but_the_admins_list(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let admin = app.login_as(&app.admin).await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;
    let id = publish(&app, &admin, "Mail is down", "critical", json!("everyone")).await;

    app.post(&agent, &withdraw_path(id), json!({}))
        .await
        .expect(403);
    app.post(&owner, &withdraw_path(id), json!({}))
        .await
        .expect(403);
    app.post(&admin, &withdraw_path(999_999), json!({}))
        .await
        .expect(404);
    let bad = app
        .post(&admin, "/api/v1/notifications/soon/withdraw", json!({}))
        .await
        .expect(400);
    assert!(bad.body["fields"]["id"].is_string(), "{}", bad.body);
    assert_eq!(
        app.get(&owner, "/api/v1/notifications")
            .await
            .expect(200)
            .body["total"],
        1,
        "a refused withdrawal changed nothing"
    );

    let withdrawn = app
        .post(&admin, &withdraw_path(id), json!({}))
        .await
        .expect(200);
    let at = withdrawn.body["withdrawn_at"]
        .as_str()
        .expect("withdrawn_at")
        .to_owned();
    let again = app
        .post(&admin, &withdraw_path(id), json!({}))
        .await
        .expect(200);
    assert_eq!(
        again.body["withdrawn_at"],
        at.as_str(),
        "withdrawing again changes nothing"
    );

    assert_eq!(
        app.get(&owner, "/api/v1/notifications")
            .await
            .expect(200)
            .body["total"],
        0
    );
    let all = app
        .get(&admin, "/api/v1/notifications?all=true")
        .await
        .expect(200);
    assert_eq!(all.body["items"][0]["withdrawn_at"], at.as_str());
}

async fn the_banner_shows_active_warnings_of_the_viewers_audience(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let admin = app.login_as(&app.admin).await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;
    publish(
        &app,
        &admin,
        "Printer jam notice",
        "info",
        json!("everyone"),
    )
    .await;
    publish(
        &app,
        &admin,
        "Staff only warning",
        "warning",
        json!("agents"),
    )
    .await;
    publish(&app, &admin, "Mail outage", "critical", json!("everyone")).await;
    let gone = publish(
        &app,
        &admin,
        "VPN maintenance",
        "warning",
        json!("everyone"),
    )
    .await;
    app.post(&admin, &withdraw_path(gone), json!({}))
        .await
        .expect(200);
    app.post(
        &admin,
        "/api/v1/notifications",
        json!({"title": "Old outage", "message": "over", "level": "critical",
               "audience": "everyone", "expires_at": "2020-01-01T00:00:00Z"}),
    )
    .await
    .expect(201);

    for page in ["/tickets", "/kb", "/notifications/banners"] {
        let html = app.get_html(&owner, page).await;
        assert!(html.contains("Mail outage: details"), "{page}");
        for absent in [
            "Printer jam notice: details",
            "Staff only warning",
            "VPN maintenance",
            "Old outage",
        ] {
            assert!(!html.contains(absent), "{page} shows {absent}");
        }
    }
    let staff = app.get_html(&agent, "/notifications/banners").await;
    assert!(staff.contains("Staff only warning") && staff.contains("Mail outage"));

    let notices = app.get_html(&owner, "/notifications").await;
    assert!(notices.contains("Printer jam notice") && !notices.contains("Old outage"));
    assert!(
        !notices.contains("<table"),
        "a requester's notices are not a table"
    );
    let managed = app.get_html(&admin, "/notifications").await;
    assert!(managed.contains("<table") && managed.contains("Old outage"));
    assert_eq!(
        managed.matches("class=\"inactive\"").count(),
        2,
        "expired and withdrawn are greyed"
    );
}

on_both_databases!(
    withdrawing_takes_a_notice_off_everywhere_but_the_admins_list,
    the_banner_shows_active_warnings_of_the_viewers_audience,
);
