//! Bad input: a 400 or 422 naming the field, never a 500, and nothing changed.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn malformed_json_is_a_400() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let reply = app
        .post_raw(&owner, "/api/v1/tickets", "{\"title\": ")
        .await
        .expect(400);
    assert!(
        reply.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("malformed JSON"))
    );
}

#[tokio::test]
async fn a_missing_field_is_named() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let reply = app
        .post(
            &owner,
            "/api/v1/tickets",
            json!({"description": "no title"}),
        )
        .await
        .expect(422);
    assert_eq!(reply.body["fields"]["title"], "is required");
}

#[tokio::test]
async fn a_wrong_type_is_named() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let reply = app
        .post(&owner, "/api/v1/tickets", json!({"title": 42}))
        .await
        .expect(422);
    assert!(reply.body["fields"]["title"].is_string(), "{}", reply.body);
}

#[tokio::test]
async fn an_unknown_field_is_named() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let reply = app
        .post(
            &owner,
            "/api/v1/tickets",
            json!({"title": "x", "prio": "high"}),
        )
        .await
        .expect(422);
    assert_eq!(reply.body["fields"]["prio"], "is not a known field");
}

#[tokio::test]
async fn invalid_values_are_named_together() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let reply = app
        .post(
            &owner,
            "/api/v1/tickets",
            json!({"title": "  ", "priority": "urgent"}),
        )
        .await
        .expect(422);
    assert!(reply.body["fields"]["title"].is_string(), "{}", reply.body);
    assert!(
        reply.body["fields"]["priority"].is_string(),
        "{}",
        reply.body
    );
    let list = app.get(&owner, "/api/v1/tickets").await.expect(200);
    assert_eq!(list.body["total"], 0);
}

#[tokio::test]
async fn bad_query_parameters_are_named() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    let reply = app
        .get(&agent, "/api/v1/tickets?status=open")
        .await
        .expect(400);
    assert!(reply.body["fields"]["status"].is_string(), "{}", reply.body);
    let reply = app.get(&agent, "/api/v1/tickets?page=-1").await.expect(400);
    assert!(reply.body["fields"]["page"].is_string(), "{}", reply.body);
    let reply = app
        .get(&agent, "/api/v1/tickets?assignee_id=me")
        .await
        .expect(400);
    assert!(
        reply.body["fields"]["assignee_id"].is_string(),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn bad_and_unknown_ids() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    let reply = app.get(&agent, "/api/v1/tickets/abc").await.expect(400);
    assert!(reply.body["fields"]["id"].is_string(), "{}", reply.body);
    app.get(&agent, "/api/v1/tickets/424242").await.expect(404);
    app.patch(&agent, "/api/v1/equipment/424242", json!({"name": "x"}))
        .await
        .expect(404);
    let reply = app
        .patch(&agent, "/api/v1/tickets/1", json!({"assignee_id": "bob"}))
        .await
        .expect(422);
    assert!(
        reply.body["fields"]["assignee_id"].is_string(),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_duplicate_inventory_number_is_named() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    let piece = json!({"inventory_number": "INV-7", "name": "Dell P2419", "kind": "monitor",
                       "status": "in_stock"});
    app.post(&agent, "/api/v1/equipment", piece.clone())
        .await
        .expect(201);
    let reply = app.post(&agent, "/api/v1/equipment", piece).await;
    assert!(matches!(reply.status, 409 | 422), "{reply:?}");
    assert!(
        reply.body["fields"]["inventory_number"].is_string(),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn an_unknown_endpoint_is_a_json_404() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    let reply = app.get(&agent, "/api/v1/nothing-here").await.expect(404);
    assert!(reply.body["error"].is_string());
}
