//! What the server writes to its log (stdout): presence at DEBUG and without what the
//! client chose (issue 18 point 10), and colour codes only when stdout is a terminal.

use std::{path::Path, process::Stdio, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::{
    cluster::HUB_SECRET,
    presence::token,
    process::{PATIENCE, Server, ictdesk, wait_for_addr},
};

/// A name only the client's token says; it must never reach the log.
const MARKER: &str = "Presence-Marker-Zq9";

/// `ictdesk hub` on SQLite in `dir` with `RUST_LOG=level`, its stdout in `dir/hub.log`.
async fn start_logging_hub(dir: &Path, level: &str) -> Server {
    let addr_file = dir.join("addr");
    let log = std::fs::File::create(dir.join("hub.log")).expect("the log file");
    let child = ictdesk()
        .args(["hub", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("hub.db").display()))
        .env("ICTDESK_HUB_SECRET", HUB_SECRET)
        .env("RUST_LOG", level)
        .stdout(log)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ictdesk hub");
    let addr = wait_for_addr(&addr_file).await;
    Server { child, addr }
}

/// Opens a socket as a user named [`MARKER`], views ticket 5 and waits for the presence
/// list that names them: the hub has handled the message.
async fn be_present(server: &Server) {
    let url = format!("ws://{}/ws?token={}", server.addr, token(17, MARKER));
    let (mut socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    socket
        .send(Message::text(
            json!({"type": "view", "ticket_id": 5}).to_string(),
        ))
        .await
        .expect("send");
    let listed = tokio::time::timeout(PATIENCE, async {
        while let Some(Ok(message)) = socket.next().await {
            if let Message::Text(text) = message
                && let Ok(frame) = serde_json::from_str::<Value>(text.as_str())
                && frame["type"] == "presence"
            {
                return frame;
            }
        }
        panic!("the socket ended before a presence list");
    })
    .await
    .expect("a presence list in time");
    assert!(listed.to_string().contains(MARKER), "{listed}");
}

/// The log once the server has stopped (so everything it wrote is there).
async fn log_after_stop(mut server: Server, dir: &Path) -> String {
    server.terminate();
    let _ = tokio::time::timeout(PATIENCE, server.child.wait()).await;
    std::fs::read_to_string(dir.join("hub.log")).expect("the log")
}

#[tokio::test]
async fn presence_is_logged_at_debug_and_without_the_clients_text() {
    for level in ["info", "debug"] {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let server = start_logging_hub(dir.path(), level).await;
        be_present(&server).await;
        let log = log_after_stop(server, dir.path()).await;
        assert!(
            log.contains("New connection"),
            "{level}: nothing logged:\n{log}"
        );
        assert!(
            !log.contains(MARKER),
            "{level}: the client's name was logged:\n{log}"
        );
        assert_eq!(
            log.contains("presence changed"),
            level == "debug",
            "{level}:\n{log}"
        );
    }
}

/// The log goes to stdout, so stdout decides about colour: with stderr on a terminal
/// (a pseudo-terminal made by `script`) and stdout in a file, the file has no escape
/// codes.
#[tokio::test]
async fn a_log_file_gets_no_colour_codes_though_stderr_is_a_terminal() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = dir.path().join("hub.log");
    let addr_file = dir.path().join("addr");
    let command = format!(
        "exec {} hub --port 0 --addr-file {} --database sqlite://{} >{}",
        env!("CARGO_BIN_EXE_ictdesk"),
        addr_file.display(),
        dir.path().join("hub.db").display(),
        log.display(),
    );
    let mut script = tokio::process::Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("script (util-linux) runs the server on a pseudo-terminal");
    let addr = wait_for_addr(&addr_file).await;
    let test = reqwest::get(format!("http://{addr}/test")).await;
    assert!(test.is_ok_and(|answer| answer.status() == 200));
    let written = wait_for_log(&log).await;
    let _ = script.kill().await;
    assert!(
        !written.contains('\u{1b}'),
        "colour codes in a file:\n{written:?}"
    );
}

/// The log's text once the server has written its start-up lines, bounded.
async fn wait_for_log(log: &Path) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.contains("listening") || tokio::time::Instant::now() >= deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
