//! `start-websocket.sh` on a server that has only the binary (issue 9 point 5): a copy
//! of the script in a directory without the source, with a PATH without cargo, finds
//! the binary through `ICTDESK_BIN`, `target/release/ictdesk` beside it, or `ictdesk`
//! on PATH.

use std::{path::Path, process::Stdio};

use crate::process::{PATIENCE, wait_for_addr};

const SCRIPT: &str = include_str!("../../../../start-websocket.sh");
const BINARY: &str = env!("CARGO_BIN_EXE_ictdesk");
/// Enough for bash and coreutils, and no cargo (which lives in ~/.cargo/bin).
const SYSTEM_PATH: &str = "/usr/bin:/bin";

/// Runs the script from `dir` with `env` and checks that the hub it started answers.
async fn starts_the_hub(dir: &Path, env: &[(&str, String)]) {
    let script = dir.join("start-websocket.sh");
    std::fs::write(&script, SCRIPT).expect("a copy of the script");
    let addr_file = dir.join("addr");
    let _ = std::fs::remove_file(&addr_file);
    let mut command = tokio::process::Command::new("bash");
    command
        .arg(&script)
        .args(["--port", "0", "--addr-file"])
        .arg(&addr_file)
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("hub.db").display()))
        .env_clear()
        .env("PATH", SYSTEM_PATH)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for (key, value) in env {
        command.env(key, value);
    }
    let _hub = command.spawn().expect("bash runs the script");
    let addr = wait_for_addr(&addr_file).await;
    let answer: serde_json::Value = tokio::time::timeout(PATIENCE, async {
        reqwest::get(format!("http://{addr}/test"))
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON")
    })
    .await
    .expect("answers in time");
    assert_eq!(answer["ok"], true);
}

#[tokio::test]
async fn the_script_runs_the_binary_from_ictdesk_bin() {
    let dir = tempfile::tempdir().expect("temporary directory");
    starts_the_hub(dir.path(), &[("ICTDESK_BIN", BINARY.to_owned())]).await;
}

#[tokio::test]
async fn the_script_runs_target_release_ictdesk_beside_it() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let release = dir.path().join("target/release");
    std::fs::create_dir_all(&release).expect("target/release");
    std::os::unix::fs::symlink(BINARY, release.join("ictdesk")).expect("a link");
    starts_the_hub(dir.path(), &[]).await;
}

#[tokio::test]
async fn the_script_runs_ictdesk_from_path() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bin = dir.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    std::os::unix::fs::symlink(BINARY, bin.join("ictdesk")).expect("a link");
    let path = format!("{}:{SYSTEM_PATH}", bin.display());
    starts_the_hub(dir.path(), &[("PATH", path)]).await;
}
