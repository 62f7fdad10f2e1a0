//! Ticket changes: optimistic concurrency, status transitions, the ticket page.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_stale_version_is_a_409_naming_who_changed_it() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let admin = app.login_as(&app.admin).await;
    let ticket = app.create_ticket(&owner, "Laptop overheats").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    let opened_at = ticket["version"].as_i64().expect("a version");

    app.patch(
        &admin,
        &path,
        json!({"priority": "low", "version": opened_at}),
    )
    .await
    .expect(200);
    let stale = app
        .patch(
            &agent,
            &path,
            json!({"priority": "critical", "version": opened_at}),
        )
        .await
        .expect(409);
    let message = stale.body["error"].as_str().expect("a message");
    assert!(message.contains("changed by Ada Admin"), "{message}");
    // Also as a field of its own, for pages that say it in their own language.
    assert_eq!(stale.body["changed_by"], "Ada Admin");
    let now = app.get(&agent, &path).await.expect(200);
    assert_eq!(now.body["priority"], "low");
}

#[tokio::test]
async fn a_stale_version_of_other_fields_is_merged_and_of_the_same_field_names_it() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let admin = app.login_as(&app.admin).await;
    let ticket = app.create_ticket(&owner, "Monitor flickers").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    let opened_at = ticket["version"].as_i64().expect("a version");

    app.patch(
        &admin,
        &path,
        json!({"status": "in_progress", "version": opened_at}),
    )
    .await
    .expect(200);
    let merged = app
        .patch(
            &agent,
            &path,
            json!({"priority": "critical", "version": opened_at}),
        )
        .await
        .expect(200);
    assert_eq!(merged.body["priority"], "critical");
    assert_eq!(merged.body["status"], "in_progress");
    assert_eq!(
        merged.body["merged"],
        json!({"changed_by": "Ada Admin", "fields": ["status"]})
    );

    let stale = app
        .patch(
            &agent,
            &path,
            json!({"status": "waiting", "priority": "low", "version": opened_at}),
        )
        .await
        .expect(409);
    // Each field names who changed it; a second tab of one's own counts too.
    assert_eq!(stale.body["changed_by"], "Ada Admin, Gleb Agent");
    assert_eq!(
        stale.body["fields"],
        json!({"status": "changed by Ada Admin", "priority": "changed by Gleb Agent"})
    );
    let now = app.get(&agent, &path).await.expect(200);
    assert_eq!(
        (&now.body["status"], &now.body["priority"]),
        (&json!("in_progress"), &json!("critical"))
    );
}

#[tokio::test]
async fn staff_file_for_a_caller_and_requesters_only_for_themselves() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let filed = app
        .post(
            &agent,
            "/api/v1/tickets",
            json!({"title": "Called: no sound", "requester_id": app.owner.id}),
        )
        .await
        .expect(201);
    assert_eq!(filed.body["requester_id"], app.owner.id);
    let refused = app
        .post(
            &owner,
            "/api/v1/tickets",
            json!({"title": "For my neighbour", "requester_id": app.other.id}),
        )
        .await
        .expect(403);
    assert!(refused.body["error"].is_string(), "{:?}", refused.body);
}

#[tokio::test]
async fn an_invalid_transition_is_a_409() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "Phone dead").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    app.patch(&agent, &path, json!({"status": "closed"}))
        .await
        .expect(200);
    let refused = app
        .patch(&agent, &path, json!({"status": "waiting"}))
        .await
        .expect(409);
    assert!(
        refused.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("closed"))
    );
    // Reopening is the one way out, and it returns the ticket to work.
    let reopened = app
        .patch(&agent, &path, json!({"status": "in_progress"}))
        .await
        .expect(200);
    assert_eq!(reopened.body["status"], "in_progress");
}

#[tokio::test]
async fn resolving_needs_a_resolution() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "Printer offline").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    let refused = app
        .patch(&agent, &path, json!({"status": "resolved"}))
        .await
        .expect(422);
    assert!(
        refused.body["fields"]["resolution"].is_string(),
        "{}",
        refused.body
    );
    let resolved = app
        .patch(
            &agent,
            &path,
            json!({"status": "resolved", "resolution": "Replaced the cable"}),
        )
        .await
        .expect(200);
    assert!(resolved.body["resolved_at"].is_string());
}

#[tokio::test]
async fn the_ticket_page_has_comments_and_history() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "No sound").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    app.patch(&agent, &path, json!({"status": "in_progress"}))
        .await
        .expect(200);
    app.post(
        &owner,
        &format!("{path}/comments"),
        json!({"body": "Thanks"}),
    )
    .await
    .expect(201);
    let page = app.get(&agent, &path).await.expect(200).body;
    assert_eq!(page["id"], ticket["id"]);
    assert_eq!(page["status"], "in_progress");
    assert_eq!(page["comments"][0]["body"], "Thanks");
    let history = page["history"].as_array().expect("history");
    assert!(
        history.iter().any(|entry| entry["field"] == "status"),
        "{history:?}"
    );
}

#[tokio::test]
async fn lists_filter_and_page() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    for title in ["Scanner jam", "Wi-Fi weak", "Scanner slow"] {
        app.create_ticket(&owner, title).await;
    }
    let page = app
        .get(&agent, "/api/v1/tickets?q=scanner&per_page=1&page=2")
        .await
        .expect(200)
        .body;
    assert_eq!(page["total"], 2);
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 1);
    assert_eq!(page["items"].as_array().map(Vec::len), Some(1));
    let new = app
        .get(&agent, "/api/v1/tickets?status=new")
        .await
        .expect(200);
    assert_eq!(new.body["total"], 3);
    let none = app
        .get(&agent, "/api/v1/tickets?status=closed")
        .await
        .expect(200);
    assert_eq!(none.body["total"], 0);
}
