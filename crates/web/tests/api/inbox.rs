//! The inbox API (issue 11 point 4): `GET /api/v1/inbox` and `POST /api/v1/inbox/read`
//! exactly as the issue gives them, and nobody else's entries, ever.

use serde_json::json;

use crate::helpers::{Client, TestApp, spawn_app};

pub async fn check_inbox(app: &TestApp) {
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let other = app.login_as(&app.other).await;
    let ticket = app.create_ticket(&owner, "Нет сети").await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    app.patch(&agent, &path, json!({"assignee_id": app.agent.id}))
        .await
        .expect(200);
    for body in ["Перезагрузите роутер", "Помогло?"] {
        app.post(&agent, &format!("{path}/comments"), json!({"body": body}))
            .await
            .expect(201);
    }

    let inbox = app.get(&owner, "/api/v1/inbox").await.expect(200);
    assert_eq!(inbox.body["unread"], 2);
    assert_eq!(inbox.body["total"], 2);
    assert_eq!(inbox.body["page"], 1);
    assert!(inbox.body["per_page"].is_u64());
    let first = &inbox.body["items"][0];
    let mut keys: Vec<&str> = first
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["created_at", "id", "read_at", "ticket_id", "title", "type"]
    );
    assert_eq!(first["type"], "ticket_comment_created");
    assert_eq!(first["title"], "Нет сети");
    assert_eq!(first["ticket_id"], ticket["id"]);
    assert!(first["read_at"].is_null());

    // Another person sees none of it and cannot touch it.
    let theirs = app.get(&other, "/api/v1/inbox").await.expect(200);
    assert_eq!(
        (theirs.body["total"].clone(), theirs.body["unread"].clone()),
        (json!(0), json!(0))
    );
    let ids = json!({"ids": [first["id"]]});
    let answer = app
        .post(&other, "/api/v1/inbox/read", ids.clone())
        .await
        .expect(200);
    assert_eq!(answer.body, json!({"unread": 0}));
    app.get(&Client::default(), "/api/v1/inbox")
        .await
        .expect(401);
    app.post(&owner.without_csrf(), "/api/v1/inbox/read", ids.clone())
        .await
        .expect(403);

    let answer = app
        .post(&owner, "/api/v1/inbox/read", ids)
        .await
        .expect(200);
    assert_eq!(answer.body, json!({"unread": 1}));
    let unread = app.get(&owner, "/api/v1/inbox?unread=1").await.expect(200);
    assert_eq!(unread.body["total"], 1);
    assert_eq!(unread.body["items"][0]["title"], "Нет сети");
    let paged = app
        .get(&owner, "/api/v1/inbox?page=2&per_page=1")
        .await
        .expect(200);
    assert_eq!(
        (paged.body["page"].clone(), paged.body["total"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(paged.body["items"].as_array().map(Vec::len), Some(1));
    let answer = app
        .post(&owner, "/api/v1/inbox/read", json!({"all": true}))
        .await
        .expect(200);
    assert_eq!(answer.body, json!({"unread": 0}));

    // The assignee heard of the assignment, not of their own comments.
    let agents = app.get(&agent, "/api/v1/inbox").await.expect(200);
    assert_eq!(agents.body["total"], 0, "{}", agents.body);

    for (body, field) in [
        (json!({}), "ids"),
        (json!({"ids": [1], "all": true}), "all"),
        (json!({"ids": "1"}), "ids"),
        (json!({"idz": [1]}), "idz"),
    ] {
        let reply = app
            .post(&owner, "/api/v1/inbox/read", body.clone())
            .await
            .expect(422);
        assert!(
            reply.body["fields"][field].is_string(),
            "{body}: {}",
            reply.body
        );
    }
    app.get(&owner, "/api/v1/inbox?unread=maybe")
        .await
        .expect(400);
}

#[tokio::test]
async fn the_inbox_api_answers_as_the_issue_says_and_only_for_oneself() {
    check_inbox(&spawn_app().await).await;
}

#[tokio::test]
async fn the_bell_and_the_inbox_page_show_the_entries() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "Сломан <b>монитор</b>").await;
    app.post(
        &agent,
        &format!("/api/v1/tickets/{}/comments", ticket["id"]),
        json!({"body": "Заменим"}),
    )
    .await
    .expect(201);
    let page = app.get_html(&owner, "/tickets").await;
    assert!(
        page.contains("id=\"inbox-bell\" data-unread=\"1\""),
        "the bell counts"
    );
    let inbox = app.get_html(&owner, "/inbox").await;
    assert!(inbox.contains(&format!("data-ticket=\"{}\"", ticket["id"])));
    assert!(
        inbox.contains("монитор") && !inbox.contains("<b>монитор"),
        "titles are escaped"
    );
    assert!(inbox.contains("Gleb Agent"), "who did it");
    let fragment = app.get_html(&owner, "/inbox/list?unread=1").await;
    assert!(fragment.starts_with("<section id=\"inbox-list\""));
    let theirs = app.get_html(&agent, "/inbox").await;
    assert!(!theirs.contains("монитор"), "nobody else's entries");
}
