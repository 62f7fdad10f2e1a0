//! Findings of the security review (issue 9 point 6) that are about what the desk
//! answers: NUL characters, security headers, where a login sends people afterwards,
//! and images in articles.

use serde_json::json;

use crate::helpers::{Backend, spawn_app, spawn_app_with, web_config};

#[tokio::test]
async fn a_nul_character_anywhere_is_a_422_naming_the_field_on_both_databases() {
    let mut backends = vec![Backend::Sqlite];
    backends.extend(Backend::postgres().await);
    for backend in backends {
        let app = spawn_app_with(backend, web_config()).await;
        let owner = app.login_as(&app.owner).await;
        let agent = app.login_as(&app.agent).await;
        let reply = app
            .post(
                &owner,
                "/api/v1/tickets",
                json!({"title": "printer\u{0}", "description": "jammed"}),
            )
            .await
            .expect(422);
        assert!(reply.body["fields"]["title"].is_string(), "{}", reply.body);
        let reply = app
            .get(&agent, "/api/v1/tickets?q=print%00er")
            .await
            .expect(422);
        assert!(reply.body["fields"]["q"].is_string(), "{}", reply.body);
        let reply = app
            .login("agent\u{0}@test.local", "whatever")
            .await
            .expect(422);
        assert!(reply.body["fields"]["email"].is_string(), "{}", reply.body);
        // The pages' filters reach the database too.
        let page = app
            .http
            .get(app.url("/tickets?q=%00"))
            .header(
                "Cookie",
                format!(
                    "ictdesk_session={}",
                    agent.cookie.clone().unwrap_or_default()
                ),
            )
            .send()
            .await
            .expect("an answer");
        assert_eq!(page.status(), 422);
        // Nothing was stored, and the desk still answers.
        let tickets = app.get(&agent, "/api/v1/tickets").await.expect(200);
        assert_eq!(tickets.body["total"], 0, "{}", tickets.body);
    }
}

#[tokio::test]
async fn pages_and_answers_carry_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/login", "/api/v1/session", "/test"] {
        let response = app.http.get(app.url(path)).send().await.expect("an answer");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let policy = header("content-security-policy");
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("style-src 'self'"), "{path}: {policy}");
        assert!(policy.contains("img-src 'self'"), "{path}: {policy}");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(!policy.contains("unsafe-inline"), "{path}: {policy}");
        assert_eq!(header("x-frame-options"), "DENY", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "same-origin", "{path}");
    }
}

#[tokio::test]
async fn after_login_only_a_path_of_this_site_is_followed() {
    let app = spawn_app().await;
    for sneaky in [
        "/%09/evil.example/x",
        "/%0a/evil.example/x",
        "/%0d/evil.example/x",
        "//evil.example/x",
        "/%5Cevil.example",
        "https://evil.example/",
    ] {
        let html = app
            .http
            .get(app.url(&format!("/login?next={sneaky}")))
            .send()
            .await
            .expect("an answer")
            .text()
            .await
            .expect("a page");
        assert!(html.contains(r#"data-next="/tickets""#), "{sneaky}");
        assert!(!html.contains("evil.example"), "{sneaky}");
    }
    let html = app
        .http
        .get(app.url("/login?next=/tickets/5"))
        .send()
        .await
        .expect("an answer")
        .text()
        .await
        .expect("a page");
    assert!(html.contains(r#"data-next="/tickets/5""#));
}

#[tokio::test]
async fn articles_show_only_the_desks_own_images() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    let owner = app.login_as(&app.owner).await;
    let id = app
        .post(
            &agent,
            "/api/v1/articles",
            json!({
                "title": "Printers",
                "body": "![pixel](https://tracker.example/p.gif)\n\n![map](/attachments/3)",
                "visibility": "everyone",
            }),
        )
        .await
        .expect(201)
        .id();
    let html = app.get_html(&owner, &format!("/kb/{id}")).await;
    assert!(!html.contains("tracker.example"), "{html}");
    assert!(html.contains(r#"src="/attachments/3""#), "{html}");
}
