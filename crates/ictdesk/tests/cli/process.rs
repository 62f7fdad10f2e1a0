//! Starting and stopping the real binary.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use tokio::process::{Child, Command};

pub const TOKEN: &str = "cli-test-token";
pub const PATIENCE: Duration = Duration::from_secs(20);

pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
}

pub fn ictdesk() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ictdesk"));
    command
        .env_remove("WEBSOCKET_PORT")
        .env_remove("WEBSOCKET_HOST")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        // Never a folder in the source tree (the default is relative to the working
        // directory); tests that look at the files set their own.
        .env(
            "ICTDESK_ATTACHMENTS_DIR",
            std::env::temp_dir().join("ictdesk-cli-attachments"),
        )
        .stdin(Stdio::null())
        .kill_on_drop(true);
    command
}

/// Starts `ictdesk hub` on a free port with the SQLite file `db`.
pub async fn start_hub(dir: &Path, db: &Path) -> Server {
    let addr_file: PathBuf = dir.join(format!("addr-{}", rand_suffix()));
    let child = ictdesk()
        .args(["hub", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .arg("--database")
        .arg(format!("sqlite://{}", db.display()))
        .env("ICTDESK_BROADCAST_TOKEN", TOKEN)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ictdesk hub");
    let addr = wait_for_addr(&addr_file).await;
    Server { child, addr }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default()
}

pub async fn wait_for_addr(file: &Path) -> SocketAddr {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(text) = std::fs::read_to_string(file)
            && let Ok(addr) = text.trim().parse()
        {
            return addr;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never wrote {}",
            file.display()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `kill -9`: no chance to flush or say goodbye.
    pub async fn kill_hard(&mut self) {
        self.child.kill().await.expect("SIGKILL");
    }

    pub fn terminate(&self) {
        let pid = self.child.id().expect("running");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill -TERM");
        assert!(status.success());
    }
}

/// POST /broadcast; the id if acknowledged.
pub async fn publish(http: &reqwest::Client, url: &str, n: usize) -> Option<i64> {
    let response = http
        .post(url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"type": "ticket_created", "data": {"n": n}}))
        .send()
        .await
        .ok()?;
    if response.status() != 202 {
        return None;
    }
    let body: serde_json::Value = response.json().await.ok()?;
    body["id"].as_i64()
}

/// The command that restarts PostgreSQL (`ICTDESK_TEST_PG_RESTART`), or `None` (the test
/// is skipped, with a note) — except under `CI=true`, where that fails.
pub fn postgres_restart_command() -> Option<String> {
    let Ok(restart) = std::env::var("ICTDESK_TEST_PG_RESTART") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but ICTDESK_TEST_PG_RESTART is not set"
        );
        eprintln!("skipped: set ICTDESK_TEST_PG_RESTART to the command that restarts PostgreSQL");
        return None;
    };
    Some(restart)
}

/// The session cookie (`name=value`) a successful login answered with.
pub fn session_cookie(login: &reqwest::Response) -> String {
    login
        .headers()
        .get("set-cookie")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_owned()
}
