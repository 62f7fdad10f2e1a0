//! Configuration: flags over environment over defaults; a bad value stops start-up with
//! a message that names the setting.

use std::process::Stdio;

use crate::process::{PATIENCE, ictdesk};

/// Runs `ictdesk` expecting it to refuse to start; returns what it printed.
async fn refused(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = ictdesk();
    command
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .expect("ends in time")
        .expect("runs");
    assert!(!output.status.success(), "{args:?} {env:?} started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn bad_values_name_the_setting() {
    let message = refused(&["hub", "--port", "eighty"], &[]).await;
    assert!(message.contains("--port"), "{message}");
    let message = refused(&["hub"], &[("WEBSOCKET_PORT", "eighty")]).await;
    assert!(message.contains("WEBSOCKET_PORT"), "{message}");
    let message = refused(&["hub"], &[("WEBSOCKET_TIMEOUT", "0")]).await;
    assert!(message.contains("WEBSOCKET_TIMEOUT"), "{message}");
    let message = refused(&["hub"], &[("WEBSOCKET_ENABLED", "perhaps")]).await;
    assert!(message.contains("WEBSOCKET_ENABLED"), "{message}");
    let message = refused(
        &["hub"],
        &[("ICTDESK_ALLOWED_IPS", "10.0.0.0/8,the-office")],
    )
    .await;
    assert!(
        message.contains("ICTDESK_ALLOWED_IPS") && message.contains("the-office"),
        "{message}"
    );
    let message = refused(
        &["hub", "--port", "0"],
        &[("DATABASE_URL", "mysql://root:hunter2@db/desk")],
    )
    .await;
    assert!(message.contains("DATABASE_URL"), "{message}");
    assert!(
        !message.contains("hunter2"),
        "the password is shown: {message}"
    );
}

#[tokio::test]
async fn help_documents_every_setting() {
    let output = ictdesk()
        .args(["hub", "--help"])
        .output()
        .await
        .expect("runs");
    let help = String::from_utf8_lossy(&output.stdout);
    for setting in [
        "WEBSOCKET_HOST",
        "WEBSOCKET_PORT",
        "WEBSOCKET_ENABLED",
        "WEBSOCKET_TIMEOUT",
        "DATABASE_URL",
        "ICTDESK_BROADCAST_TOKEN",
        "ICTDESK_HUB_SECRET",
        "ICTDESK_ALLOWED_IPS",
        "ICTDESK_RETAIN_DAYS",
        "ICTDESK_RETAIN_EVENTS",
    ] {
        assert!(
            help.contains(setting),
            "--help does not mention {setting}:\n{help}"
        );
    }
}

#[tokio::test]
async fn the_port_comes_from_websocket_port_unless_a_flag_says_otherwise() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
    };
    let from_env = free_port().expect("a free port");
    let mut child = ictdesk()
        .args(["hub", "--database"])
        .arg(format!("sqlite://{}", dir.path().join("p.db").display()))
        .env("WEBSOCKET_PORT", from_env.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start");
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let answer = loop {
        if let Ok(response) = http
            .get(format!("http://127.0.0.1:{from_env}/test"))
            .send()
            .await
        {
            break response.json::<serde_json::Value>().await.expect("JSON");
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing listens on WEBSOCKET_PORT={from_env}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(answer["ok"], true);
    child.kill().await.expect("stop");
}

/// Every flag of `serve --help` and `hub --help`, with its environment variable if it
/// has one.
async fn documented_flags(command: &str) -> Vec<(String, Option<String>)> {
    let output = ictdesk()
        .args([command, "--help"])
        .output()
        .await
        .expect("runs");
    let help = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut flags: Vec<(String, Option<String>)> = Vec::new();
    for line in help.lines().map(str::trim_start) {
        let flag = line
            .split_whitespace()
            .find(|word| word.starts_with("--"))
            .filter(|_| line.starts_with('-'))
            .map(|word| word.trim_end_matches(',').to_owned());
        if let Some(flag) = flag {
            flags.push((flag, None));
        } else if let (Some(last), Some((_, env))) = (flags.last_mut(), line.split_once("[env: ")) {
            last.1 = env.split(['=', ']']).next().map(str::to_owned);
        }
    }
    flags.retain(|(flag, _)| flag != "--help" && flag != "--version");
    assert!(flags.len() > 10, "no flags found in:\n{help}");
    flags
}

#[tokio::test]
async fn every_flag_of_help_is_in_the_readme_table() {
    let readme = include_str!("../../../../README.md");
    let table: Vec<&str> = readme
        .split("## Configuration")
        .nth(1)
        .and_then(|section| section.split("\n## ").next())
        .expect("a Configuration section")
        .lines()
        .filter(|line| line.starts_with('|'))
        .collect();
    for command in ["serve", "hub"] {
        for (flag, env) in documented_flags(command).await {
            let row = table
                .iter()
                .find(|row| row.starts_with(&format!("| `{flag}` |")))
                .unwrap_or_else(|| {
                    panic!("{flag} of `{command} --help` is not in the README table")
                });
            if let Some(env) = env {
                assert!(
                    row.contains(&format!("`{env}`")),
                    "the README row of {flag} does not name {env}: {row}"
                );
            }
        }
    }
}
