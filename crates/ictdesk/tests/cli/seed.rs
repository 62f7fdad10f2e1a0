//! `ictdesk seed`: the seeded desk answers its API and pages as for data it wrote
//! itself, on SQLite and on PostgreSQL; a desk in use is refused without --append.

use std::{path::Path, process::Stdio};

use ictdesk_testing::fresh_postgres;
use serde_json::{Value, json};

use crate::process::{ictdesk, session_cookie, wait_for_addr};

const TICKETS: i64 = 400;
/// The demo department seed creates first on an empty database.
const DEMO_TICKETS: i64 = 150;

async fn seed(database: &str, extra: &[&str]) -> (bool, String) {
    let output = ictdesk()
        .args([
            "seed",
            "--tickets",
            &TICKETS.to_string(),
            "--users",
            "300",
            "--equipment",
            "60",
            "--articles",
            "40",
            "--database",
            database,
        ])
        .args(extra)
        .output()
        .await
        .expect("runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

struct Desk {
    http: reqwest::Client,
    base: String,
}

impl Desk {
    /// The session cookie and its CSRF token.
    async fn login(&self, email: &str) -> (String, String) {
        let response = self
            .http
            .post(format!("{}/api/v1/session", self.base))
            .json(&json!({"email": email, "password": "demo"}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200, "{email} logs in with demo");
        let cookie = session_cookie(&response);
        let body: Value = response.json().await.expect("JSON");
        let csrf = body["csrf_token"]
            .as_str()
            .expect("a CSRF token")
            .to_owned();
        (cookie, csrf)
    }

    async fn get(&self, cookie: &str, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", cookie)
            .send()
            .await
            .expect("GET");
        let status = response.status().as_u16();
        (status, response.text().await.expect("body"))
    }

    async fn json(&self, cookie: &str, path: &str) -> Value {
        let (status, body) = self.get(cookie, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).expect("JSON")
    }
}

async fn seeded_desk_answers_like_its_own_data(database: &str, dir: &Path) {
    let (ok, text) = seed(database, &[]).await;
    assert!(ok, "{text}");
    let all = TICKETS + DEMO_TICKETS;
    assert!(text.contains(&format!("{all} tickets")), "{text}");
    let (ok, text) = seed(database, &[]).await;
    assert!(
        !ok && text.contains("already holds") && text.contains("--append"),
        "a desk with tickets is refused, saying how to add anyway: {text}"
    );

    let addr_file = dir.join("addr");
    let mut child = ictdesk()
        .args(["serve", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .args(["--database", database])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ictdesk serve");
    let desk = Desk {
        http: reqwest::Client::new(),
        base: format!("http://{}", wait_for_addr(&addr_file).await),
    };
    let (agent, agent_csrf) = desk.login("agent@demo.local").await;

    let all = desk.json(&agent, "/api/v1/tickets?per_page=200").await;
    assert_eq!(all["total"], TICKETS + DEMO_TICKETS);
    let newest = &all["items"][0];
    let id = newest["id"].as_i64().expect("id");
    let view = desk.json(&agent, &format!("/api/v1/tickets/{id}")).await;
    assert_eq!(view["title"], newest["title"]);
    assert!(
        view["requester_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    if view["status"] != "new" {
        let history = view["history"].as_array().expect("history");
        assert!(
            history.iter().any(|entry| entry["field"] == "status"),
            "a worked ticket's history shows its status changes: {view}"
        );
        assert!(view["assignee_name"].as_str().is_some(), "{view}");
    }
    let (status, page) = desk.get(&agent, &format!("/tickets/{id}")).await;
    assert_eq!(status, 200);
    let title = view["title"].as_str().expect("title");
    assert!(page.contains(title), "the ticket page shows {title}");

    // Search reads the stored lower-cased text, as for tickets filed through the desk.
    let found = desk
        .json(
            &agent,
            "/api/v1/tickets?q=%D0%9F%D1%80%D0%B8%D0%BD%D1%82%D0%B5%D1%80&per_page=200",
        )
        .await;
    let items = found["items"].as_array().expect("items");
    assert!(!items.is_empty(), "«Принтер» is found");
    for item in items {
        let text = format!("{} {}", item["title"], item["description"]).to_lowercase();
        assert!(text.contains("принтер"), "{text}");
    }
    let articles = desk.json(&agent, "/api/v1/articles?q=VPN").await;
    assert!(
        articles["total"].as_i64().is_some_and(|n| n > 1),
        "{articles}"
    );

    // A seeded requester logs in with the demo password and sees only their tickets.
    let (admin, _) = desk.login("admin@demo.local").await;
    let requester_id = newest["requester_id"].as_i64().expect("requester");
    let person = desk
        .json(&admin, &format!("/api/v1/users/{requester_id}"))
        .await;
    let email = person["email"].as_str().expect("email");
    let (requester, requester_csrf) = desk.login(email).await;
    let own = desk.json(&requester, "/api/v1/tickets?per_page=200").await;
    let own_items = own["items"].as_array().expect("items");
    assert!(own_items.iter().any(|t| t["id"] == id));
    assert!(own_items.iter().all(|t| t["requester_id"] == requester_id));

    // The desk's own ids continue after the seeded ones.
    let created: Value = desk
        .http
        .post(format!("{}/api/v1/tickets", desk.base))
        .header("cookie", &requester)
        .header("x-csrf-token", &requester_csrf)
        .json(&json!({"title": "После наполнения", "description": "новая"}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("JSON");
    assert!(
        created["id"].as_i64().is_some_and(|new| new > id),
        "{created}"
    );
    let comment = desk
        .http
        .post(format!("{}/api/v1/tickets/{id}/comments", desk.base))
        .header("cookie", &agent)
        .header("x-csrf-token", &agent_csrf)
        .json(&json!({"body": "ещё один"}))
        .send()
        .await
        .expect("comment");
    assert_eq!(comment.status(), 201);

    let (ok, text) = seed(database, &["--append"]).await;
    assert!(ok, "--append adds to a desk in use: {text}");
    let all = desk.json(&agent, "/api/v1/tickets?per_page=1").await;
    assert_eq!(all["total"], 2 * TICKETS + DEMO_TICKETS + 1);
    child.kill().await.expect("stop");
}

#[tokio::test]
async fn seeded_sqlite_desk_answers_like_its_own_data() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = format!("sqlite://{}", dir.path().join("seed.db").display());
    seeded_desk_answers_like_its_own_data(&database, dir.path()).await;
}

#[tokio::test]
async fn seeded_postgres_desk_answers_like_its_own_data() {
    let Some(database) = fresh_postgres("seed").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    seeded_desk_answers_like_its_own_data(&database, dir.path()).await;
}
