//! Memory under a flood of logins (issue 9 point 6): argon2 takes 19 MiB per hash, and
//! 250 parallel logins with unknown e-mails once took a fresh server from 20 MB to a
//! 4.6 GB peak (3.7 GB afterwards). The real binary, with the real (standard) cost.

use std::process::Stdio;

use crate::process::{PATIENCE, ictdesk, wait_for_addr};

/// The server's memory from `/proc`: resident now and its peak, in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<u64>().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// What the flood may add to the server's peak memory: a few running hashes
/// (19 MiB each, one per core, at most four) and the requests' buffers — not one
/// hash per login.
const MAX_GROWTH_KIB: u64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_fifty_parallel_logins_keep_the_servers_memory_bounded() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let addr_file = dir.path().join("addr");
    let desk = ictdesk()
        .args(["serve", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .arg("--database")
        .arg(format!("sqlite://{}", dir.path().join("desk.db").display()))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ictdesk serve");
    let pid = desk.id().expect("running");
    let addr = wait_for_addr(&addr_file).await;
    let (_, before) = memory_kib(pid);

    let http = reqwest::Client::new();
    let logins = (0..250).map(|n| {
        let http = http.clone();
        tokio::spawn(async move {
            let response = http
                .post(format!("http://{addr}/api/v1/session"))
                .json(&serde_json::json!({
                    "email": format!("nobody{n}@example.org"),
                    "password": "a guess that costs a hash",
                }))
                .send()
                .await
                .expect("an answer");
            response.status().as_u16()
        })
    });
    let statuses = tokio::time::timeout(PATIENCE * 6, futures_util::future::join_all(logins))
        .await
        .expect("every login is answered in time");
    for status in statuses {
        let status = status.expect("joined");
        // 401: checked; 429: the address used up its failures; 503: too many
        // passwords being checked at once.
        assert!(matches!(status, 401 | 429 | 503), "{status}");
    }

    let (now, peak) = memory_kib(pid);
    eprintln!("server memory: peak {before} KiB before the logins, peak {peak} KiB, now {now} KiB");
    assert!(
        peak.saturating_sub(before) <= MAX_GROWTH_KIB,
        "250 parallel logins took the server's peak memory from {before} KiB to {peak} KiB"
    );
    assert!(
        now.saturating_sub(before) <= MAX_GROWTH_KIB,
        "the server kept {now} KiB after the logins (it had {before} KiB)"
    );
}
