//! `/api/v1/teams` and a ticket's `team_id` (issue 12 point 2), on both databases:
//! the answers' shapes, each refusal, and that a refused call changed nothing.

use serde_json::json;

use crate::helpers::{Backend, spawn_app_with, web_config};

async fn teams_through_the_api(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let admin = app.login_as(&app.admin).await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;

    let created = app
        .post(
            &admin,
            "/api/v1/teams",
            json!({"name": "Сеть", "lead_id": app.agent.id, "auto_assign": true}),
        )
        .await
        .expect(201);
    let team = created.id();
    assert_eq!(created.body["lead_name"], app.agent.name.as_str());
    assert_eq!(created.body["members"][0]["id"], app.agent.id);
    assert_eq!(created.body["auto_assign"], true);
    assert!(created.body.get("last_assigned_id").is_none());

    // Refusals name what is wrong, and change nothing.
    app.post(&agent, "/api/v1/teams", json!({"name": "Мы"}))
        .await
        .expect(403);
    app.post(&owner, "/api/v1/teams", json!({"name": "Мы"}))
        .await
        .expect(403);
    let bad = app
        .post(
            &admin,
            "/api/v1/teams",
            json!({"name": "", "member_ids": [app.owner.id]}),
        )
        .await
        .expect(422);
    assert!(bad.body["fields"]["name"].is_string(), "{}", bad.body);
    assert!(bad.body["fields"]["member_ids"].is_string(), "{}", bad.body);
    let typo = app
        .post(&admin, "/api/v1/teams", json!({"name": "X", "leader": 1}))
        .await
        .expect(422);
    assert!(typo.body["fields"]["leader"].is_string(), "{}", typo.body);
    let twice = app
        .post(&admin, "/api/v1/teams", json!({"name": "Сеть"}))
        .await
        .expect(422);
    assert!(twice.body["fields"]["name"].is_string(), "{}", twice.body);
    let listed = app.get(&agent, "/api/v1/teams").await.expect(200);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    app.get(&owner, "/api/v1/teams").await.expect(403);
    app.get(&owner, &format!("/api/v1/teams/{team}"))
        .await
        .expect(403);
    app.get(&agent, "/api/v1/teams/999").await.expect(404);
    app.get(&agent, "/api/v1/teams/abc").await.expect(400);

    let path = format!("/api/v1/teams/{team}");
    let changed = app
        .patch(
            &admin,
            &path,
            json!({"version": 1, "member_ids": [app.agent.id, app.admin.id], "lead_id": null}),
        )
        .await
        .expect(200);
    assert_eq!(changed.body["version"], 2);
    assert_eq!(changed.body["lead_id"], json!(null));
    assert_eq!(changed.body["members"].as_array().map(Vec::len), Some(2));
    let stale = app
        .patch(&admin, &path, json!({"version": 1, "name": "Старое"}))
        .await
        .expect(409);
    assert_eq!(stale.body["changed_by"], app.admin.name.as_str());
    app.patch(&agent, &path, json!({"name": "Наше"}))
        .await
        .expect(403);
    let now = app.get(&agent, &path).await.expect(200);
    assert_eq!(now.body["name"], "Сеть");

    // Tickets: the team's queue, round-robin, an outsider refused naming the field.
    let filed = app
        .post(
            &agent,
            "/api/v1/tickets",
            json!({"title": "Нет сети", "team_id": team, "requester_id": app.owner.id}),
        )
        .await
        .expect(201);
    assert_eq!(filed.body["team_id"], team);
    assert_eq!(filed.body["team_name"], "Сеть");
    assert!(filed.body["assignee_id"].is_i64(), "{}", filed.body);
    app.post(
        &owner,
        "/api/v1/tickets",
        json!({"title": "Мне в сеть", "team_id": team}),
    )
    .await
    .expect(403);
    let nowhere = app
        .post(
            &agent,
            "/api/v1/tickets",
            json!({"title": "Никуда", "team_id": 999}),
        )
        .await
        .expect(422);
    assert!(nowhere.body["fields"]["team_id"].is_string());
    let ticket_path = format!("/api/v1/tickets/{}", filed.id());
    let unteamed = app
        .patch(&agent, &ticket_path, json!({"team_id": null}))
        .await
        .expect(200);
    assert_eq!(unteamed.body["team_id"], json!(null));
    app.patch(&agent, &ticket_path, json!({"team_id": team}))
        .await
        .expect(200);
    app.create_ticket(&owner, "Без группы").await;
    let queue = app
        .get(&agent, &format!("/api/v1/tickets?team_id={team}"))
        .await
        .expect(200);
    assert_eq!(queue.body["total"], 1);
    assert_eq!(queue.body["items"][0]["id"], filed.id());
    app.get(&agent, "/api/v1/tickets?team_id=x")
        .await
        .expect(400);
    let theirs = app
        .get(
            &app.login_as(&app.other).await,
            &format!("/api/v1/tickets?team_id={team}"),
        )
        .await
        .expect(200);
    assert_eq!(theirs.body["total"], 0);

    // A category's team.
    let category = app
        .post(
            &admin,
            "/api/v1/categories",
            json!({"name": "Wi-Fi", "default_team_id": team}),
        )
        .await
        .expect(201);
    assert_eq!(category.body["default_team_id"], team);
    let by_category = app
        .post(
            &owner,
            "/api/v1/tickets",
            json!({"title": "Wi-Fi не ловит", "category_id": category.id()}),
        )
        .await
        .expect(201);
    assert_eq!(by_category.body["team_id"], team);
}

on_both_databases!(teams_through_the_api);
