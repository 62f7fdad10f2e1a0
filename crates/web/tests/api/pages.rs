//! The long lists page through everything, keeping their filters, and each page's live
//! rows are that page's.

use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_knowledge_base_pages_through_every_article_with_its_search() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    for n in 1..=55 {
        app.post(
            &agent,
            "/api/v1/articles",
            json!({"title": format!("Printer note {n:02}"), "body": "…", "visibility": "everyone"}),
        )
        .await
        .expect(201);
    }

    let first = unescape(app.get_html(&agent, "/kb?q=printer").await);
    assert!(first.contains("/kb?q=printer&page=2"), "a link to page 2");
    assert!(first.contains(r#"data-live-rows="/kb/rows?q=printer&page=1""#));
    let second = unescape(app.get_html(&agent, "/kb?q=printer&page=2").await);
    assert!(second.contains("/kb?q=printer&page=1"), "a link back");
    assert!(!second.contains("page=3"), "the last page has no next link");

    // The two pages split the 55 articles between them: 50 and 5, none twice.
    let (on_first, on_second) = (notes(&first), notes(&second));
    assert_eq!((on_first.len(), on_second.len()), (50, 5));
    let mut all: Vec<u32> = on_first.into_iter().chain(on_second).collect();
    all.sort_unstable();
    assert_eq!(all, (1..=55).collect::<Vec<_>>());
    let rows = app.get_html(&agent, "/kb/rows?q=printer&page=2").await;
    assert_eq!(notes(&rows).len(), 5, "the live rows are page 2's");
}

/// The page's `&` as it reads in a URL (askama writes `&#38;`).
fn unescape(html: String) -> String {
    html.replace("&#38;", "&")
}

/// The numbers of the "Printer note NN" titles on a page.
fn notes(html: &str) -> Vec<u32> {
    html.split("Printer note ")
        .skip(1)
        .filter_map(|rest| rest.get(..2)?.parse().ok())
        .collect()
}

#[tokio::test]
async fn agents_narrow_the_ticket_list_to_a_requester_or_a_category() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let other = app.login_as(&app.other).await;
    let admin = app.login_as(&app.admin).await;
    let agent = app.login_as(&app.agent).await;
    let printers = app
        .post(
            &admin,
            "/api/v1/categories",
            json!({"name": "Принтеры", "scope": "ticket"}),
        )
        .await
        .expect(201)
        .id();
    app.post(
        &owner,
        "/api/v1/tickets",
        json!({"title": "Owner's printer jams", "description": "…", "category_id": printers}),
    )
    .await
    .expect(201);
    app.create_ticket(&owner, "Owner's mail is slow").await;
    app.create_ticket(&other, "Other's screen flickers").await;

    let theirs = app
        .get_html(&agent, &format!("/tickets?requester={}", app.owner.id))
        .await;
    assert!(theirs.contains("Owner&#39;s printer jams") || theirs.contains("Owner's printer jams"));
    assert!(theirs.contains("mail is slow") && !theirs.contains("screen flickers"));
    assert!(
        theirs.contains(&app.owner.name),
        "the chip names the requester"
    );
    assert!(
        unescape(theirs).contains(r#"href="/tickets?page=1""#),
        "and drops the filter"
    );

    let printed = app
        .get_html(&agent, &format!("/tickets?category={printers}"))
        .await;
    assert!(printed.contains("printer jams"));
    assert!(!printed.contains("mail is slow") && !printed.contains("screen flickers"));
}

#[tokio::test]
async fn staff_see_the_teams_and_each_team_s_queue_and_requesters_neither() {
    let app = spawn_app().await;
    let admin = app.login_as(&app.admin).await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;
    let team = app
        .post(
            &admin,
            "/api/v1/teams",
            json!({"name": "Сеть", "lead_id": app.agent.id}),
        )
        .await
        .expect(201)
        .id();
    app.post(
        &agent,
        "/api/v1/tickets",
        json!({"title": "Switch on floor 3 is down", "team_id": team}),
    )
    .await
    .expect(201);
    app.create_ticket(&owner, "Owner's mail is slow").await;

    let teams = app.get_html(&agent, "/teams").await;
    assert!(teams.contains("Сеть") && teams.contains(&app.agent.name));
    assert!(teams.contains(&format!(r#"href="/tickets?team={team}""#)));
    assert!(
        !teams.contains("api/v1/teams\""),
        "no create form for an agent"
    );
    let rows = app.get_html(&agent, "/teams/rows").await;
    assert!(rows.contains("Сеть"));
    let page = app.get_html(&admin, &format!("/teams/{team}")).await;
    assert!(
        page.contains(&format!("/api/v1/teams/{team}")),
        "the admin's form"
    );
    let live = app.get_html(&agent, &format!("/teams/{team}/live")).await;
    assert!(live.contains(&app.agent.name));

    let queue = app.get_html(&agent, &format!("/tickets?team={team}")).await;
    assert!(queue.contains("floor 3") && !queue.contains("mail is slow"));

    for path in ["/teams", "/teams/rows", &format!("/teams/{team}")] {
        let response = app
            .request(&owner, reqwest::Method::GET, path)
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 403, "{path}");
        let body = response.text().await.expect("a body");
        assert!(!body.contains("Сеть"), "{path}");
    }
    let theirs = app.get_html(&owner, "/tickets").await;
    assert!(
        !theirs.contains(r#"name="team""#),
        "no team filter for a requester"
    );
}
