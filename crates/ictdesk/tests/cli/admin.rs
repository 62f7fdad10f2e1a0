//! `ictdesk serve --demo`, `ictdesk user …` and `ictdesk migrate` as an administrator runs them.

use std::{path::Path, process::Stdio};

use futures_util::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::process::{PATIENCE, ictdesk, session_cookie, wait_for_addr};

async fn run(db: &Path, args: &[&str]) -> (bool, String) {
    let output = ictdesk()
        .args(args)
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
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

#[tokio::test]
async fn users_are_added_blocked_and_unblocked_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("admin.db");
    let (ok, text) = run(&db, &["migrate"]).await;
    assert!(ok, "{text}");
    let (ok, text) = run(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ivan@example.org",
            "--name",
            "Иван Петров",
            "--role",
            "agent",
        ],
    )
    .await;
    assert!(ok, "{text}");
    assert!(text.contains("Password (shown only once): "), "{text}");
    let (ok, text) = run(
        &db,
        &[
            "user",
            "add",
            "--email",
            "ivan@example.org",
            "--name",
            "Again",
            "--password",
            "long-enough-pw",
        ],
    )
    .await;
    assert!(
        !ok && text.contains("email"),
        "a duplicate email is refused naming the field: {text}"
    );
    let (ok, text) = run(
        &db,
        &[
            "user",
            "add",
            "--email",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "boss",
        ],
    )
    .await;
    assert!(!ok && text.contains("role"), "{text}");
    let (ok, text) = run(&db, &["user", "block", "ivan@example.org"]).await;
    assert!(ok && text.contains("blocked"), "{text}");
    let (ok, text) = run(&db, &["user", "unblock", "ivan@example.org"]).await;
    assert!(ok && text.contains("active"), "{text}");
    let (ok, text) = run(&db, &["user", "block", "nobody@example.org"]).await;
    assert!(!ok && text.contains("nobody@example.org"), "{text}");
}

#[tokio::test]
async fn serve_demo_prints_the_logins_and_they_work() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let addr_file = dir.path().join("addr");
    let mut child = ictdesk()
        .args(["serve", "--demo", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .arg("--database")
        .arg(format!("sqlite://{}", dir.path().join("demo.db").display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ictdesk serve --demo");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let logins = tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("Demo logins") {
                return line;
            }
        }
        String::new()
    })
    .await
    .expect("the demo logins are printed in time");
    assert!(
        logins.contains("agent@demo.local") && logins.contains("demo"),
        "{logins}"
    );

    let addr = wait_for_addr(&addr_file).await;
    let http = reqwest::Client::new();
    let response = http
        .post(format!("http://{addr}/api/v1/session"))
        .json(&serde_json::json!({"email": "agent@demo.local", "password": "demo"}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    let cookie = session_cookie(&response);
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["user"]["role"], "agent");

    // Blocking from another process closes the agent's open socket on the server.
    let mut request = format!("ws://{addr}/ws")
        .into_client_request()
        .expect("request");
    request
        .headers_mut()
        .insert("cookie", cookie.parse().expect("header"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    let (ok, text) = run(
        &dir.path().join("demo.db"),
        &["user", "block", "agent@demo.local"],
    )
    .await;
    assert!(ok, "{text}");
    let code = loop {
        match tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(frame))) => break frame.map(|frame| u16::from(frame.code)),
            Some(Ok(_)) => continue,
            _ => break None,
        }
    };
    assert_eq!(code, Some(1008));
    child.kill().await.expect("stop");
}
