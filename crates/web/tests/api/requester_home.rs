//! A requester's home (issue 17 point 8): open tickets first, three tiles in their own
//! words, «Ожидание» read as «Ждём вашего ответа», an unseen IT reply marked.

use serde_json::json;

use crate::helpers::{Backend, spawn_app_with, web_config};

async fn a_requesters_home_speaks_to_them(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;
    let open = app.create_ticket(&owner, "Printer jams").await;
    let done = app.create_ticket(&owner, "Need a folder").await;
    let waiting = app.create_ticket(&owner, "VPN drops").await;
    let path = |ticket: &serde_json::Value| format!("/api/v1/tickets/{}", ticket["id"]);
    app.patch(&agent, &path(&waiting), json!({"status": "waiting"}))
        .await
        .expect(200);
    app.post(
        &agent,
        &format!("{}/comments", path(&waiting)),
        json!({"body": "Which office are you in?"}),
    )
    .await
    .expect(201);
    app.patch(
        &agent,
        &path(&done),
        json!({"status": "resolved", "resolution": "Granted"}),
    )
    .await
    .expect(200);

    let listed = app
        .get(&owner, "/api/v1/tickets?order=open_first")
        .await
        .expect(200);
    let ids: Vec<&serde_json::Value> = listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|ticket| &ticket["id"])
        .collect();
    assert_eq!(ids, [&waiting["id"], &open["id"], &done["id"]]);
    let bad = app
        .get(&owner, "/api/v1/tickets?order=sideways")
        .await
        .expect(400);
    assert!(bad.body["fields"]["order"].is_string(), "{}", bad.body);

    let home = app.get_html(&owner, "/tickets").await;
    for tile in [
        "href=\"/tickets?status=new,in_progress,waiting\"",
        "href=\"/tickets?status=waiting\"",
        "href=\"/tickets?status=resolved,closed\"",
    ] {
        assert!(home.contains(tile), "{tile}");
    }
    assert!(!home.contains("data-stat=\"unassigned\""));
    assert!(home.contains("Ждём вашего ответа") && !home.contains(">Ожидание<"));
    assert!(home.contains("ответ ИТ"), "the unseen reply is marked");
    let first = home.find("VPN drops").expect("waiting");
    assert!(first < home.find("Printer jams").expect("open"));
    assert!(home.find("Printer jams") < home.find("Need a folder"));
    let staff = app.get_html(&agent, "/tickets?status=all").await;
    assert!(staff.contains(">Ожидание<") && !staff.contains("Ждём вашего ответа"));
}

on_both_databases!(a_requesters_home_speaks_to_them);
