//! Retention in the real binary: `ictdesk serve --retain-events` prunes the event log at
//! start-up, the desk's own records (tickets, comments, history) stay exactly as they
//! were, and a reader from before the horizon is told to reset. SQLite and PostgreSQL.

use std::{path::Path, process::Stdio};

use ictdesk_testing::fresh_postgres;
use serde_json::Value;
use tokio::process::Child;

use crate::process::{PATIENCE, ictdesk, session_cookie, wait_for_addr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_leaves_the_desks_records_alone_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("desk.db").display());
    pruning_leaves_the_desks_records_alone(dir.path(), &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_leaves_the_desks_records_alone_postgres() {
    let Some(database) = fresh_postgres("cli").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    pruning_leaves_the_desks_records_alone(dir.path(), &database).await;
}

struct Desk {
    child: Child,
    base: String,
    http: reqwest::Client,
    cookie: String,
}

/// `ictdesk serve --demo` with `retain_events` (None: the defaults), signed in as the
/// demo administrator.
async fn start(dir: &Path, url: &str, retain_events: Option<&str>) -> Desk {
    let addr_file = dir.join(format!("addr-{}", retain_events.unwrap_or("default")));
    let mut command = ictdesk();
    command
        .args(["serve", "--demo", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .args(["--database", url])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(events) = retain_events {
        command.env("ICTDESK_RETAIN_EVENTS", events);
    }
    let child = command.spawn().expect("start ictdesk serve");
    let addr = wait_for_addr(&addr_file).await;
    let http = reqwest::Client::new();
    let base = format!("http://{addr}");
    let login = http
        .post(format!("{base}/api/v1/session"))
        .json(&serde_json::json!({"email": "admin@demo.local", "password": "demo"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    let cookie = session_cookie(&login);
    Desk {
        child,
        base,
        http,
        cookie,
    }
}

impl Desk {
    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), 200, "{path}");
        response.json().await.expect("JSON")
    }

    /// Every ticket with its comments and history.
    async fn records(&self) -> Vec<Value> {
        let list = self.get("/api/v1/tickets?per_page=200").await;
        let mut records = Vec::new();
        for ticket in list["items"].as_array().expect("items") {
            let id = ticket["id"].as_i64().expect("id");
            records.push(self.get(&format!("/api/v1/tickets/{id}")).await);
        }
        records
    }

    async fn stop(mut self) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
        let exited = tokio::time::timeout(PATIENCE, self.child.wait())
            .await
            .expect("exits in time")
            .expect("exit status");
        assert!(exited.success(), "{exited}");
    }
}

async fn pruning_leaves_the_desks_records_alone(dir: &Path, url: &str) {
    let desk = start(dir, url, None).await;
    let before = desk.records().await;
    assert!(before.len() > 5, "the demo has tickets");
    let unpruned = desk.get("/messages?since=0&limit=1").await;
    assert!(unpruned.get("reset").is_none(), "{unpruned}");
    desk.stop().await;

    let desk = start(dir, url, Some("1")).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let reset = loop {
        let page = desk.get("/messages?since=0").await;
        if page["reset"] == true {
            break page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never pruned: {page}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(reset["last_id"].as_i64() > Some(1), "{reset}");
    assert_eq!(desk.records().await, before);
    desk.stop().await;
}
