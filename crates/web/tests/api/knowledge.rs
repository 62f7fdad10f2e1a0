//! Articles (full-text search, visibility) and system notifications through the API.

use serde_json::{Value, json};

use crate::helpers::spawn_app;

fn titles(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["title"].as_str())
        .collect()
}

#[tokio::test]
async fn article_search_finds_words_and_hides_agent_articles_from_requesters() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;
    for (title, body, visibility) in [
        (
            "Printing from a laptop",
            "Choose the office printer.",
            "everyone",
        ),
        (
            "Printer service accounts",
            "Printers use a service account.",
            "agents",
        ),
        (
            "Resetting a password",
            "Use the self-service page.",
            "everyone",
        ),
    ] {
        app.post(
            &agent,
            "/api/v1/articles",
            json!({"title": title, "body": body, "visibility": visibility}),
        )
        .await
        .expect(201);
    }
    let for_agent = app
        .get(&agent, "/api/v1/articles?q=printer")
        .await
        .expect(200);
    assert_eq!(for_agent.body["total"], 2, "{}", for_agent.body);
    let for_owner = app
        .get(&owner, "/api/v1/articles?q=printer")
        .await
        .expect(200);
    assert_eq!(titles(&for_owner.body), ["Printing from a laptop"]);
    let hidden = for_agent.body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|a| a["visibility"] == "agents"))
        .map(|a| a["id"].clone())
        .expect("the agents' article");
    app.get(&owner, &format!("/api/v1/articles/{hidden}"))
        .await
        .expect(404);
}

#[tokio::test]
async fn requesters_list_only_the_notifications_meant_for_them() {
    let app = spawn_app().await;
    let admin = app.login_as(&app.admin).await;
    let owner = app.login_as(&app.owner).await;
    for (title, audience) in [
        ("Everyone", json!("everyone")),
        ("Agents", json!("agents")),
        ("Owner only", json!({"user": app.owner.id})),
        ("Other only", json!({"user": app.other.id})),
    ] {
        app.post(
            &admin,
            "/api/v1/notifications",
            json!({"title": title, "message": "…", "level": "warning", "audience": audience}),
        )
        .await
        .expect(201);
    }
    let mut seen = titles(
        &app.get(&owner, "/api/v1/notifications")
            .await
            .expect(200)
            .body,
    )
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    seen.sort();
    assert_eq!(seen, ["Everyone", "Owner only"]);
    app.get(&owner, "/api/v1/notifications?all=true")
        .await
        .expect(403);
    let all = app
        .get(&admin, "/api/v1/notifications?all=true")
        .await
        .expect(200);
    assert_eq!(all.body["total"], 4);
    let bad = app
        .post(
            &admin,
            "/api/v1/notifications",
            json!({"title": "x", "message": "y", "audience": "martians"}),
        )
        .await
        .expect(422);
    assert!(bad.body["fields"]["audience"].is_string(), "{}", bad.body);
}
