//! The person and their equipment over HTTP (issue 17, point 5): the person card's
//! answer (who else gets it: leaks.rs), a requester's ticket naming only their own
//! device, the equipment search by holder and place, and the pages that show them.

use serde_json::{Value, json};

use crate::helpers::{Backend, Client, TestApp, spawn_app_with, web_config};

async fn device(app: &TestApp, agent: &Client, number: &str, holder: i64, room: i64) -> Value {
    let body = json!({"inventory_number": number, "name": "ThinkPad T14", "kind": "laptop",
        "assigned_user_id": holder, "location_id": room});
    app.post(agent, "/api/v1/equipment", body)
        .await
        .expect(201)
        .body
}

async fn room(app: &TestApp, agent: &Client) -> i64 {
    let body = json!({"name": "Annex", "building": "West wing", "room": "214"});
    let created = app.post(agent, "/api/v1/locations", body).await.expect(201);
    created.body["id"].as_i64().expect("an id")
}

async fn the_card_is_for_staff_and_shows_tickets_equipment_and_place(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let (admin, agent) = (
        app.login_as(&app.admin).await,
        app.login_as(&app.agent).await,
    );
    let owner = app.login_as(&app.owner).await;
    let annex = room(&app, &agent).await;
    let laptop = device(&app, &agent, "INV-7", app.owner.id, annex).await;
    let body = json!({"title": "VPN is down", "description": "", "equipment_id": laptop["id"]});
    let ticket = app
        .post(&owner, "/api/v1/tickets", body)
        .await
        .expect(201)
        .body;

    let path = format!("/api/v1/users/{}/card", app.owner.id);
    for staff in [&admin, &agent] {
        let card = app.get(staff, &path).await.expect(200).body;
        assert_eq!(card["user"]["email"], "owner@test.local");
        assert_eq!(card["open_tickets"]["total"], 1);
        assert_eq!(card["open_tickets"]["items"][0]["id"], ticket["id"]);
        assert_eq!(card["equipment"][0]["inventory_number"], "INV-7");
        assert_eq!(card["locations"][0]["room"], "214");
    }
    // Who else gets it (nobody): leaks.rs.

    // The page: the ticket's requester links to it; it lists the ticket and the device.
    let ticket_page = app
        .get_html(&agent, &format!("/tickets/{}", ticket["id"]))
        .await;
    assert!(ticket_page.contains(&format!(r#"href="/users/{}""#, app.owner.id)));
    assert!(
        ticket_page.contains("INV-7 — ThinkPad T14"),
        "the requester's devices first"
    );
    let card_page = app
        .get_html(&agent, &format!("/users/{}", app.owner.id))
        .await;
    assert!(card_page.contains("VPN is down") && card_page.contains("INV-7"));
    let owners_view = app
        .get_html(&owner, &format!("/tickets/{}", ticket["id"]))
        .await;
    assert!(
        !owners_view.contains("/users/"),
        "no card link for the requester"
    );
    // The device's page lists its tickets.
    let device_page = app
        .get_html(&agent, &format!("/equipment/{}", laptop["id"]))
        .await;
    assert!(device_page.contains("VPN is down"));
}

async fn a_requester_names_only_their_own_device(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let agent = app.login_as(&app.agent).await;
    let (owner, other) = (
        app.login_as(&app.owner).await,
        app.login_as(&app.other).await,
    );
    let annex = room(&app, &agent).await;
    let theirs = device(&app, &agent, "INV-8", app.other.id, annex).await;
    let before = app.get(&owner, "/api/v1/tickets").await.expect(200).body["total"].clone();
    // Someone else's device answers exactly as one that does not exist.
    let foreign = json!({"title": "x", "description": "", "equipment_id": theirs["id"]});
    let refused = app
        .post(&owner, "/api/v1/tickets", foreign)
        .await
        .expect(422);
    let missing = json!({"title": "x", "description": "", "equipment_id": 999_999});
    let unknown = app
        .post(&owner, "/api/v1/tickets", missing)
        .await
        .expect(422);
    assert_eq!(refused.body["fields"], unknown.body["fields"]);
    assert_eq!(refused.body["fields"]["equipment_id"], "no such equipment");
    let after = app.get(&owner, "/api/v1/tickets").await.expect(200).body["total"].clone();
    assert_eq!(before, after, "nothing was filed");
    // Its holder may; staff may set and change it on any ticket.
    let own = json!({"title": "Screen flickers", "description": "", "equipment_id": theirs["id"]});
    let ticket = app
        .post(&other, "/api/v1/tickets", own)
        .await
        .expect(201)
        .body;
    let mine = device(&app, &agent, "INV-9", app.owner.id, annex).await;
    let path = format!("/api/v1/tickets/{}", ticket["id"]);
    let changed = app
        .patch(&agent, &path, json!({"equipment_id": mine["id"]}))
        .await
        .expect(200);
    assert_eq!(changed.body["equipment_inventory_number"], "INV-9");
}

async fn equipment_is_searched_by_holder_and_place(backend: Backend) {
    let app = spawn_app_with(backend, web_config()).await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;
    let annex = room(&app, &agent).await;
    device(&app, &agent, "INV-1", app.owner.id, annex).await;
    device(&app, &agent, "INV-2", app.other.id, annex).await;
    let numbers = |reply: Value| -> Vec<String> {
        let items = reply["items"].as_array().cloned().unwrap_or_default();
        items
            .iter()
            .map(|piece| piece["inventory_number"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let by_holder = app
        .get(&agent, "/api/v1/equipment?q=olga")
        .await
        .expect(200);
    assert_eq!(numbers(by_holder.body), ["INV-1"]);
    let by_place = app
        .get(&agent, "/api/v1/equipment?q=west%20wing")
        .await
        .expect(200);
    assert_eq!(numbers(by_place.body), ["INV-1", "INV-2"]);
    // A requester's search never reaches beyond what they hold.
    let theirs = app
        .get(&owner, "/api/v1/equipment?q=oleg")
        .await
        .expect(200);
    assert_eq!(theirs.body["total"], 0);
}

on_both_databases!(
    the_card_is_for_staff_and_shows_tickets_equipment_and_place,
    a_requester_names_only_their_own_device,
    equipment_is_searched_by_holder_and_place,
);
