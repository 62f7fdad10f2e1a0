//! Real nginx (the Debian package) with `deploy/nginx.conf` in front of two `ictdesk hub`
//! nodes on one PostgreSQL database: WebSocket, long polling and `/broadcast` through
//! it, and the trusted-proxy rule for the client's address.
//!
//! How the test plays "the internet" on loopback: every address here is 127.x, and
//! loopback may always publish, so a client nginx sees as 127.0.0.1 proves nothing about
//! the allow-list. The test's nginx therefore adds (to the deploy file's server block,
//! nothing else changed) `set_real_ip_from 127.0.0.0/8; real_ip_header X-Test-Client;`:
//! nginx takes the client address from a header the test controls, exactly as if the
//! connection had come from there, and then does what the deploy config says with it
//! (`X-Real-IP $remote_addr`, `X-Forwarded-For $proxy_add_x_forwarded_for`). The nodes
//! trust only nginx (127.0.0.1/32) and allow 198.51.100.0/24 to publish. Then:
//! * an allowed client gets 202, a disallowed one 403 naming its address — and since the
//!   nodes' peer (nginx, loopback) would always be allowed, the 403 shows that the
//!   forwarded address was used;
//! * a disallowed client that sends `X-Forwarded-For: <allowed address>` still gets 403:
//!   nginx appends the real address, and the nodes take the right-most hop that is not a
//!   trusted proxy, never the forged one further left (a left-most rule would let it in);
//! * an allowed client that forges a disallowed `X-Forwarded-For` still gets 202;
//! * a peer that is no trusted proxy (127.0.0.2, straight to a node) sending forged
//!   `X-Forwarded-For`/`X-Real-IP` of a disallowed address gets 202: its headers are
//!   ignored and its own (loopback) address counts. (With loopback always allowed, a
//!   direct peer cannot be shown being refused here; the unit tests in
//!   `ictdesk_hub::client_addr` cover that rule without sockets.)

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use futures_util::StreamExt;
use ictdesk_testing::fresh_postgres;
use tokio::process::Child;
use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};

use crate::process::{PATIENCE, TOKEN, ictdesk, session_cookie, wait_for_addr};

const ALLOWED_CLIENT: &str = "198.51.100.7";
const OTHER_CLIENT: &str = "203.0.113.5";

/// `nginx` from PATH or /usr/sbin; `None` (skipped, with a note) when it is not
/// installed — except under `CI=true`, where that fails.
fn nginx_binary() -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("nginx"))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but nginx is not installed: the nginx test cannot run"
        );
        eprintln!("skipped: install nginx (Debian package) to run the nginx test");
    }
    found
}

struct Node {
    _child: Child,
    addr: SocketAddr,
}

async fn start_node(dir: &Path, database: &str, name: &str) -> Node {
    let addr_file = dir.join(format!("{name}.addr"));
    let child = ictdesk()
        .args(["hub", "--port", "0", "--node", name, "--addr-file"])
        .arg(&addr_file)
        .args(["--database", database])
        .env("ICTDESK_BROADCAST_TOKEN", TOKEN)
        .env("ICTDESK_TRUSTED_PROXIES", "127.0.0.1/32")
        .env("ICTDESK_ALLOWED_IPS", "198.51.100.0/24")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start a node");
    Node {
        _child: child,
        addr: wait_for_addr(&addr_file).await,
    }
}

/// `deploy/nginx.conf` with the test's ports and the stand-in for the internet; each
/// change must find its line, so a changed deploy file fails here instead of being
/// tested half.
fn site_config(port: u16, nodes: [SocketAddr; 2], dir: &Path) -> String {
    let deploy = include_str!("../../../../deploy/nginx.conf");
    let replacements = [
        (
            "    server 127.0.0.1:8081 max_fails=3 fail_timeout=10s;".to_owned(),
            format!("    server {};", nodes[0]),
        ),
        (
            "    server 127.0.0.1:8082 max_fails=3 fail_timeout=10s;".to_owned(),
            format!("    server {};", nodes[1]),
        ),
        (
            "    access_log /var/log/nginx/ictdesk.access.log ictdesk;".to_owned(),
            format!(
                "    access_log {}/ictdesk.access.log ictdesk;",
                dir.display()
            ),
        ),
        (
            "    listen 80;".to_owned(),
            format!(
                "    listen 127.0.0.1:{port};\n    set_real_ip_from 127.0.0.0/8;\n    real_ip_header X-Test-Client;"
            ),
        ),
    ];
    let mut config = deploy.to_owned();
    for (line, replacement) in replacements {
        assert!(
            config.contains(&line),
            "deploy/nginx.conf no longer has `{line}`"
        );
        config = config.replace(&line, &replacement);
    }
    config
}

/// Runs nginx in the foreground, one process (no master), everything under `dir`.
fn start_nginx(binary: &Path, dir: &Path, site: &str) -> Child {
    let prefix = dir.join("nginx");
    std::fs::create_dir_all(&prefix).expect("nginx prefix");
    std::fs::write(prefix.join("ictdesk.conf"), site).expect("write the site");
    let p = prefix.display();
    let main = format!(
        "daemon off;\nmaster_process off;\nworker_processes 1;\npid {p}/nginx.pid;\n\
         error_log {p}/error.log warn;\nevents {{ worker_connections 256; }}\n\
         http {{\n  access_log {p}/access.log;\n  client_body_temp_path {p}/body;\n\
         proxy_temp_path {p}/proxy;\n  fastcgi_temp_path {p}/fastcgi;\n\
         uwsgi_temp_path {p}/uwsgi;\n  scgi_temp_path {p}/scgi;\n  include {p}/ictdesk.conf;\n}}\n"
    );
    std::fs::write(prefix.join("nginx.conf"), main).expect("write nginx.conf");
    tokio::process::Command::new(binary)
        .arg("-p")
        .arg(&prefix)
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .arg("-e")
        .arg(prefix.join("error.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("start nginx")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// Until nginx answers `/test` from a node.
async fn wait_until_up(http: &reqwest::Client, base: &str, nginx_log: &Path) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(response) = http.get(format!("{base}/test")).send().await
            && response.status() == 200
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nginx never answered; its log:\n{}",
            std::fs::read_to_string(nginx_log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// POST /broadcast through `url` as `client` (X-Test-Client) with extra headers.
async fn broadcast(
    http: &reqwest::Client,
    url: &str,
    client: Option<&str>,
    extra: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    let mut request = http
        .post(url)
        .bearer_auth(TOKEN)
        .json(&serde_json::json!({"type": "ticket_created", "data": {"via": "nginx"}}));
    if let Some(client) = client {
        request = request.header("X-Test-Client", client);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("POST /broadcast");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next event frame's id, skipping anything else (pings, presence).
async fn next_event_id(socket: &mut Socket) -> i64 {
    loop {
        let frame = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("an event in time");
        if let Some(Ok(Message::Text(text))) = frame {
            let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if let Some(id) = value["id"].as_i64() {
                return id;
            }
        } else if !matches!(frame, Some(Ok(_))) {
            panic!("the socket ended: {frame:?}");
        }
    }
}

/// Sum of a metric over the nodes, read from each node's /metrics.
async fn metric_sum(http: &reqwest::Client, nodes: &[&Node], name: &str) -> f64 {
    let mut sum = 0.0;
    for node in nodes {
        let text = http
            .get(format!("http://{}/metrics", node.addr))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("text");
        sum += text
            .lines()
            .filter_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
            .filter_map(|value| value.trim().parse::<f64>().ok())
            .sum::<f64>();
    }
    sum
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_in_front_of_two_nodes() {
    let Some(binary) = nginx_binary() else { return };
    let Some(database) = fresh_postgres("nginx").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let a = start_node(dir.path(), &database, "nginx-a").await;
    let b = start_node(dir.path(), &database, "nginx-b").await;
    let port = free_port();
    let site = site_config(port, [a.addr, b.addr], dir.path());
    let _nginx = start_nginx(&binary, dir.path(), &site);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_until_up(&http, &base, &dir.path().join("nginx/error.log")).await;

    websocket_through_nginx_sees_both_nodes(&http, &base, &a, &b).await;
    long_poll_through_nginx(&http, &base, &[&a, &b]).await;
    broadcast_allow_list_uses_the_forwarded_client(&http, &base).await;
    untrusted_peers_cannot_forward(&a).await;
}

/// `ictdesk serve --demo` on `database`, trusting nginx (loopback).
async fn start_desk(dir: &Path, database: &str) -> Node {
    let addr_file = dir.join("desk.addr");
    let child = ictdesk()
        .args(["serve", "--demo", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .args(["--database", database])
        .env("ICTDESK_TRUSTED_PROXIES", "127.0.0.1/32")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the desk");
    Node {
        _child: child,
        addr: wait_for_addr(&addr_file).await,
    }
}

/// Issue 18 points 5 and 6: a browser on a non-default port signs in and opens its
/// WebSocket through the shipped nginx.conf (which must forward the port in `Host`, or
/// the Origin check refuses both), and the tokens in `/ws` and `/messages` URLs stay
/// out of nginx's access log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_on_a_non_default_port_signs_in_through_nginx_and_no_token_is_logged() {
    let Some(binary) = nginx_binary() else { return };
    let Some(database) = fresh_postgres("nginx_desk").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let desk = start_desk(dir.path(), &database).await;
    let port = free_port();
    let site = site_config(port, [desk.addr, desk.addr], dir.path());
    let _nginx = start_nginx(&binary, dir.path(), &site);
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    wait_until_up(&http, &base, &dir.path().join("nginx/error.log")).await;

    // What a browser on http://127.0.0.1:<port> sends with its login form.
    let login = http
        .post(format!("{base}/api/v1/session"))
        .header("Origin", &base)
        .json(&serde_json::json!({"email": "admin@demo.local", "password": "demo"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(login.status(), 200, "the login through nginx was refused");
    let cookie = session_cookie(&login);
    let session: serde_json::Value = login.json().await.expect("JSON");
    let csrf = session["csrf_token"].as_str().expect("a CSRF token");
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/tokens"))
        .header("Origin", &base)
        .header("Cookie", &cookie)
        .header("X-CSRF-Token", csrf)
        .json(&serde_json::json!({"name": "nginx test"}))
        .send()
        .await
        .expect("an answer")
        .json()
        .await
        .expect("JSON");
    let secret = token["secret"].as_str().expect("a token").to_owned();

    let mut request = format!("ws://127.0.0.1:{port}/ws?token={secret}")
        .into_client_request()
        .expect("a request");
    request
        .headers_mut()
        .insert("Origin", base.parse().expect("a header value"));
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket through nginx is accepted");
    let welcome = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("the welcome in time");
    assert!(matches!(welcome, Some(Ok(Message::Text(_)))), "{welcome:?}");
    let poll = http
        .get(format!("{base}/messages?since=0&token={secret}"))
        .header("Origin", &base)
        .send()
        .await
        .expect("an answer");
    assert_eq!(poll.status(), 200);
    // A browser of another port is still refused.
    let other = http
        .post(format!("{base}/api/v1/session"))
        .header("Origin", "http://127.0.0.1:1")
        .json(&serde_json::json!({"email": "admin@demo.local", "password": "demo"}))
        .send()
        .await
        .expect("an answer");
    assert_eq!(other.status(), 403);

    drop(socket);
    let log_file = dir.path().join("ictdesk.access.log");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let log = loop {
        let log = std::fs::read_to_string(&log_file).unwrap_or_default();
        if log.contains("GET /ws ") && log.contains("GET /messages ") {
            break log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nginx never logged /ws and /messages:\n{log}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        !log.contains(&secret),
        "a token reached the access log:\n{log}"
    );
    assert!(log.contains("POST /api/v1/session"), "{log}");
}

async fn websocket_through_nginx_sees_both_nodes(
    http: &reqwest::Client,
    base: &str,
    a: &Node,
    b: &Node,
) {
    let ws_url = format!(
        "ws://127.0.0.1:{}/ws",
        base.rsplit(':').next().unwrap_or("")
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url)
        .await
        .expect("a WebSocket through nginx");
    let welcome = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("the welcome in time");
    let Some(Ok(Message::Text(welcome))) = welcome else {
        panic!("expected the welcome, got {welcome:?}");
    };
    let welcome: serde_json::Value = serde_json::from_str(&welcome).expect("JSON");
    assert_eq!(welcome["type"], "welcome", "{welcome}");

    // Published through nginx (to whichever node), then straight on each node: the
    // socket sits on one of them, so at least one event crossed nodes via PostgreSQL.
    let mut published = Vec::new();
    let (status, body) = broadcast(
        http,
        &format!("{base}/broadcast"),
        Some(ALLOWED_CLIENT),
        &[],
    )
    .await;
    assert_eq!(status, 202, "{body}");
    published.push(body["id"].as_i64().expect("id"));
    for node in [a, b] {
        let (status, body) =
            broadcast(http, &format!("http://{}/broadcast", node.addr), None, &[]).await;
        assert_eq!(status, 202, "{body}");
        published.push(body["id"].as_i64().expect("id"));
    }
    let mut received = Vec::new();
    while received.len() < published.len() {
        received.push(next_event_id(&mut socket).await);
    }
    assert_eq!(received, published);
}

async fn long_poll_through_nginx(http: &reqwest::Client, base: &str, nodes: &[&Node]) {
    // Both nodes must have delivered everything published so far, or the poll may land
    // on a node that is ahead of `since` and answer at once instead of waiting.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let mut heads = Vec::new();
        for node in nodes {
            let status: serde_json::Value = http
                .get(format!("http://{}/status", node.addr))
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("JSON");
            heads.push(status["last_id"].as_i64());
        }
        if heads.windows(2).all(|pair| pair[0] == pair[1]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the nodes never caught up: {heads:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status: serde_json::Value = http
        .get(format!("{base}/messages"))
        .send()
        .await
        .expect("poll")
        .json()
        .await
        .expect("JSON");
    let since = status["last_id"].as_i64().expect("last_id");
    let poll = tokio::spawn({
        let http = http.clone();
        let url = format!("{base}/messages?since={since}&wait=25");
        async move {
            http.get(url)
                .send()
                .await
                .expect("long poll")
                .json::<serde_json::Value>()
                .await
                .expect("JSON")
        }
    });
    // Publish only once the poll is held open on a node, so its answer is the wake-up.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while metric_sum(http, nodes, "ictdesk_long_polls_waiting").await < 1.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the long poll never waited"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, body) = broadcast(
        http,
        &format!("{base}/broadcast"),
        Some(ALLOWED_CLIENT),
        &[],
    )
    .await;
    assert_eq!(code, 202, "{body}");
    let answer = tokio::time::timeout(PATIENCE, poll)
        .await
        .expect("the poll answers in time")
        .expect("poll task");
    let ids: Vec<i64> = answer["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|message| message["id"].as_i64())
        .collect();
    assert_eq!(ids, vec![body["id"].as_i64().expect("id")], "{answer}");
}

async fn broadcast_allow_list_uses_the_forwarded_client(http: &reqwest::Client, base: &str) {
    let url = format!("{base}/broadcast");
    let (status, body) = broadcast(http, &url, Some(ALLOWED_CLIENT), &[]).await;
    assert_eq!(status, 202, "allowed client through nginx: {body}");

    let (status, body) = broadcast(http, &url, Some(OTHER_CLIENT), &[]).await;
    assert_eq!(status, 403, "disallowed client through nginx: {body}");
    assert!(body.to_string().contains(OTHER_CLIENT), "{body}");

    // Forging an allowed address to the left of the real one does not help…
    let forged = [
        ("X-Forwarded-For", ALLOWED_CLIENT),
        ("X-Real-IP", ALLOWED_CLIENT),
    ];
    let (status, body) = broadcast(http, &url, Some(OTHER_CLIENT), &forged).await;
    assert_eq!(status, 403, "forged X-Forwarded-For was believed: {body}");
    assert!(body.to_string().contains(OTHER_CLIENT), "{body}");

    // …and forging a disallowed one does not hurt an allowed client.
    let (status, body) = broadcast(
        http,
        &url,
        Some(ALLOWED_CLIENT),
        &[("X-Forwarded-For", "203.0.113.9")],
    )
    .await;
    assert_eq!(status, 202, "{body}");
}

/// Straight to a node from 127.0.0.2, which is not a trusted proxy: its forwarding
/// headers are ignored (believed, they would make this a 403).
async fn untrusted_peers_cannot_forward(node: &Node) {
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        .build()
        .expect("a client on 127.0.0.2");
    let forged = [
        ("X-Forwarded-For", OTHER_CLIENT),
        ("X-Real-IP", OTHER_CLIENT),
    ];
    let (status, body) = broadcast(
        &http,
        &format!("http://{}/broadcast", node.addr),
        None,
        &forged,
    )
    .await;
    assert_eq!(
        status, 202,
        "an untrusted peer's X-Forwarded-For was believed: {body}"
    );
}
