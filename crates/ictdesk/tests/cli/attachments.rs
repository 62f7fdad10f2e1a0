//! An acknowledged upload survives `kill -9` (issue 11 point 1): the real binary on
//! SQLite and on PostgreSQL, its files in `--attachments-dir`, killed right after the
//! 201 and started again on the same database and folder.

use std::{path::Path, process::Stdio};

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::process::{Server, ictdesk, wait_for_addr};

const PASSWORD: &str = "long-enough-pw";

async fn start(dir: &Path, database: &str, files: &Path) -> Server {
    let addr_file = dir.join(format!("addr-{}", std::process::id()));
    let _ = std::fs::remove_file(&addr_file);
    let child = ictdesk()
        .args(["serve", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .args(["--database", database])
        .arg("--attachments-dir")
        .arg(files)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ictdesk serve");
    let addr = wait_for_addr(&addr_file).await;
    Server { child, addr }
}

/// A session: the cookie and CSRF token of `email`.
async fn login(http: &reqwest::Client, server: &Server, email: &str) -> (String, String) {
    let response = http
        .post(server.url("/api/v1/session"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200, "login");
    let cookie = response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let body: Value = response.json().await.expect("JSON");
    let csrf = body["csrf_token"]
        .as_str()
        .expect("a CSRF token")
        .to_owned();
    (cookie, csrf)
}

async fn check_upload_survives_kill_9(database: &str) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let files = dir.path().join("files");
    let added = ictdesk()
        .args([
            "user",
            "add",
            "--email",
            "maria@example.org",
            "--name",
            "Мария",
        ])
        .args([
            "--role",
            "requester",
            "--password",
            PASSWORD,
            "--database",
            database,
        ])
        .output()
        .await
        .expect("ictdesk user add");
    assert!(added.status.success(), "{added:?}");

    let mut server = start(dir.path(), database, &files).await;
    let http = reqwest::Client::new();
    let (cookie, csrf) = login(&http, &server, "maria@example.org").await;
    let ticket: Value = http
        .post(server.url("/api/v1/tickets"))
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"title": "Журнал ошибок"}))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    let bytes: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
    let form = Form::new().part(
        "file",
        Part::bytes(bytes.clone())
            .file_name("журнал.bin")
            .mime_str("application/octet-stream")
            .expect("a type"),
    );
    let response = http
        .post(server.url(&format!("/api/v1/tickets/{}/attachments", ticket["id"])))
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", &csrf)
        .multipart(form)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 201);
    let uploaded: Value = response.json().await.expect("JSON");
    server.kill_hard().await;

    let server = start(dir.path(), database, &files).await;
    let (cookie, _) = login(&http, &server, "maria@example.org").await;
    let id = &uploaded["attachment"]["id"];
    let response = http
        .get(server.url(&format!("/api/v1/attachments/{id}")))
        .header("Cookie", &cookie)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200, "the record survived");
    assert_eq!(
        response.bytes().await.expect("the bytes").as_ref(),
        bytes.as_slice(),
        "and so did the bytes"
    );
}

#[tokio::test]
async fn an_acknowledged_upload_survives_kill_9_on_sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = format!("sqlite://{}", dir.path().join("desk.db").display());
    check_upload_survives_kill_9(&database).await;
}

#[tokio::test]
async fn an_acknowledged_upload_survives_kill_9_on_postgres() {
    let Some(database) = ictdesk_testing::fresh_postgres("attach").await else {
        return;
    };
    check_upload_survives_kill_9(database.url()).await;
}
