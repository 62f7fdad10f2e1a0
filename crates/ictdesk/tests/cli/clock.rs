//! One clock (issue 18 point 3): two desk nodes on one PostgreSQL database, one of them
//! with its clock ten minutes ahead (libfaketime). Once, that node ignored the failed
//! logins the other recorded, and each failure it recorded erased the other's; now both
//! count by the database's clock, and the node says at start-up that its clock is off.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
};

use futures_util::StreamExt;
use ictdesk_testing::fresh_postgres;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::Child,
};
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::process::{PATIENCE, TOKEN, ictdesk, session_cookie, wait_for_addr};

/// libfaketime (Debian's `faketime` package), preloaded into the node itself rather
/// than through the `faketime` wrapper, which would leave the node running when the
/// test ends. `None` (skipped, with a note) when it is not installed — except under
/// `CI=true`, where that fails.
fn libfaketime() -> Option<PathBuf> {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("faketime/libfaketimeMT.so.1"))
        .find(|library| library.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but faketime is not installed: the one-clock test cannot run"
        );
        eprintln!("skipped: install faketime (Debian package) to run the one-clock test");
    }
    found
}

/// `ictdesk serve` on `database` with three failed logins allowed, its log on stdout;
/// with its clock ten minutes ahead when given libfaketime.
fn start_desk(dir: &Path, name: &str, database: &str, ahead: Option<&Path>) -> Child {
    start_desk_with(dir, name, database, ahead, &[])
}

/// [`start_desk`] with more arguments.
fn start_desk_with(
    dir: &Path,
    name: &str,
    database: &str,
    ahead: Option<&Path>,
    more: &[&str],
) -> Child {
    let mut command = ictdesk();
    if let Some(library) = ahead {
        command
            .env("LD_PRELOAD", library)
            .env("FAKETIME", "+10m")
            .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    }
    command
        .args(["serve", "--demo", "--port", "0", "--login-attempts", "3"])
        .arg("--addr-file")
        .arg(dir.join(name))
        .args(["--database", database])
        .args(more)
        .env("ICTDESK_BROADCAST_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start a desk node")
}

async fn login(addr: SocketAddr, email: &str, password: &str) -> u16 {
    reqwest::Client::new()
        .post(format!("http://{addr}/api/v1/session"))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await
        .expect("an answer")
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_node_with_its_clock_ahead_counts_the_same_failures_and_says_so() {
    let Some(libfaketime) = libfaketime() else {
        return;
    };
    let Some(database) = fresh_postgres("one_clock").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    // The first node fills the demo desk; the second finds it filled.
    let _on_time = start_desk(dir.path(), "on_time.addr", &database, None);
    let on_time = wait_for_addr(&dir.path().join("on_time.addr")).await;
    let mut ahead_node = start_desk(dir.path(), "ahead.addr", &database, Some(&libfaketime));
    let ahead = wait_for_addr(&dir.path().join("ahead.addr")).await;

    // The node ten minutes ahead says so at start-up.
    let log = ahead_node.stdout.take().expect("its log");
    let mut lines = BufReader::new(log).lines();
    tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("clock is") && line.contains("ahead of the database") {
                return;
            }
        }
        panic!("the log ended without a clock warning");
    })
    .await
    .expect("the clock warning comes in time");

    // Failures recorded on time count on the node ahead...
    for _ in 0..3 {
        assert_eq!(login(on_time, "agent@demo.local", "wrong").await, 401);
    }
    assert_eq!(login(ahead, "agent@demo.local", "demo").await, 429);
    // ...and a failure recorded ahead does not erase them.
    assert_eq!(login(ahead, "user@demo.local", "wrong").await, 401);
    assert_eq!(login(on_time, "agent@demo.local", "demo").await, 429);
    // Another account is free on both.
    assert_eq!(login(ahead, "admin@demo.local", "demo").await, 200);
}

/// A session's end is the database's: on the node ahead, a session with five minutes
/// left (by the database) has ended five minutes ago by the node's own clock. Its
/// WebSocket carries on all the same — it once identified again and again without a
/// pause, then closed at once with `session ended`.
#[tokio::test]
async fn a_node_with_its_clock_ahead_keeps_a_sessions_socket_open_until_its_end() {
    let Some(libfaketime) = libfaketime() else {
        return;
    };
    let Some(database) = fresh_postgres("one_clock_sessions").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let lifetime = ["--session-lifetime", "300"];
    let _ahead_node = start_desk_with(
        dir.path(),
        "ahead.addr",
        &database,
        Some(&libfaketime),
        &lifetime,
    );
    let ahead = wait_for_addr(&dir.path().join("ahead.addr")).await;
    let login = reqwest::Client::new()
        .post(format!("http://{ahead}/api/v1/session"))
        .json(&json!({"email": "admin@demo.local", "password": "demo"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(login.status(), 200);
    let mut request = format!("ws://{ahead}/ws")
        .into_client_request()
        .expect("a request");
    let cookie = session_cookie(&login).parse().expect("a header value");
    request.headers_mut().insert("cookie", cookie);
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the socket opens");

    let published = reqwest::Client::new()
        .post(format!("http://{ahead}/broadcast"))
        .bearer_auth(TOKEN)
        .json(&json!({"type": "clock_note", "data": {}}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(published.status(), 202);
    let id = published.json::<Value>().await.expect("JSON")["id"].clone();
    let delivered = tokio::time::timeout(PATIENCE, async {
        while let Some(message) = socket.next().await {
            match message.expect("a frame") {
                Message::Text(text) => {
                    let frame: Value = serde_json::from_str(text.as_str()).expect("JSON");
                    if frame["id"] == id {
                        return;
                    }
                }
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
        panic!("the socket ended");
    })
    .await;
    assert!(delivered.is_ok(), "the event never came");
}
