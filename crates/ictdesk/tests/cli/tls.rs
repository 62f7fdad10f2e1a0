//! TLS directly (`ICTDESK_TLS_CERT`/`ICTDESK_TLS_KEY`): `https://` and `wss://` with a
//! certificate made in the test, trusted by the test's clients and nothing else.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::Arc,
};

use futures_util::StreamExt;
use rustls::{
    ClientConfig, RootCertStore,
    pki_types::{CertificateDer, ServerName},
};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    process::Child,
};
use tokio_rustls::TlsConnector;
use tokio_tungstenite::{
    Connector,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::process::{PATIENCE, TOKEN, ictdesk, wait_for_addr};

/// A self-signed certificate for 127.0.0.1, written as PEM files.
struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    der: CertificateDer<'static>,
}

fn make_certificate(dir: &Path) -> Certificate {
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()])
        .expect("a self-signed certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, made.cert.pem()).expect("write cert.pem");
    std::fs::write(&key, made.signing_key.serialize_pem()).expect("write key.pem");
    Certificate {
        cert,
        key,
        der: made.cert.der().clone(),
    }
}

/// Trusts exactly `certificate`, with the ring provider.
fn client_tls(certificate: &Certificate) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(certificate.der.clone()).expect("a usable root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// An answer read off the wire: status, header block, body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

/// One HTTP/1.1 request over TLS trusting `certificate` (`Connection: close`). Written
/// by hand because reqwest's rustls wants a process-wide crypto provider, which would
/// change every other test's client.
async fn https(
    addr: SocketAddr,
    certificate: &Certificate,
    request: &str,
) -> std::io::Result<Answer> {
    let connector = TlsConnector::from(client_tls(certificate));
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::IpAddress(addr.ip().into());
    let mut tls = connector.connect(name, tcp).await?;
    tls.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    match tokio::time::timeout(PATIENCE, tls.read_to_end(&mut raw)).await {
        Ok(Ok(_)) => {}
        // A peer that closes without close_notify still sent a whole answer.
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::UnexpectedEof => {}
        Ok(Err(error)) => return Err(error),
        Err(_) => panic!("no answer over TLS in time"),
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok(Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    })
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
}

fn post_json(path: &str, json: &serde_json::Value) -> String {
    let body = json.to_string();
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Starts `ictdesk <command>` with the certificate, its stdout piped.
fn start(command: &str, dir: &Path, certificate: &Certificate, extra: &[&str]) -> Child {
    ictdesk()
        .args([command, "--port", "0", "--addr-file"])
        .arg(dir.join("addr"))
        .arg("--database")
        .arg(format!("sqlite://{}", dir.join("tls.db").display()))
        .args(extra)
        .env("ICTDESK_TLS_CERT", &certificate.cert)
        .env("ICTDESK_TLS_KEY", &certificate.key)
        .env("ICTDESK_BROADCAST_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ictdesk")
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects over `wss://` trusting `certificate`; returns the socket and its welcome.
async fn wss_connect(
    url: String,
    cookie: Option<&str>,
    certificate: &Certificate,
) -> (Socket, serde_json::Value) {
    let mut request = url.into_client_request().expect("a request");
    if let Some(cookie) = cookie {
        request
            .headers_mut()
            .insert("cookie", cookie.parse().expect("a header value"));
    }
    let connector = Connector::Rustls(client_tls(certificate));
    let (mut socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(request, None, false, Some(connector))
            .await
            .expect("a wss:// connection");
    let first = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("the welcome in time");
    let welcome = match first {
        Some(Ok(Message::Text(text))) => serde_json::from_str(&text).expect("JSON"),
        other => panic!("expected the welcome, got {other:?}"),
    };
    (socket, welcome)
}

/// The close code the server sends, skipping anything before it.
async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        match tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(frame))) => return frame.map(|frame| u16::from(frame.code)),
            Some(Ok(_)) => continue,
            _ => return None,
        }
    }
}

#[tokio::test]
async fn the_hub_serves_https_and_wss() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let certificate = make_certificate(dir.path());
    let mut hub = start("hub", dir.path(), &certificate, &[]);
    let addr = wait_for_addr(&dir.path().join("addr")).await;
    let answer = https(addr, &certificate, &get("/test"))
        .await
        .expect("GET https://…/test");
    assert_eq!(answer.status, 200, "{}", answer.head);
    let test: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON");
    assert_eq!(test["ok"], true);

    let (mut socket, welcome) = wss_connect(format!("wss://{addr}/ws"), None, &certificate).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");

    // A client that does not trust the certificate is turned away by its own TLS check,
    // which shows the server really speaks TLS with this certificate.
    let elsewhere = tempfile::tempdir().expect("temporary directory");
    let stranger = make_certificate(elsewhere.path());
    assert!(https(addr, &stranger, &get("/test")).await.is_err());

    // SIGTERM still says goodbye with 1001 over TLS, and the process exits 0.
    let pid = hub.id().expect("running").to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill -TERM");
    assert!(killed.success());
    assert_eq!(close_code(&mut socket).await, Some(1001));
    let status = tokio::time::timeout(PATIENCE, hub.wait())
        .await
        .expect("exits in time")
        .expect("exit status");
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn serve_over_tls_marks_the_session_cookie_secure_and_sends_hsts() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let certificate = make_certificate(dir.path());
    let extra = ["--demo", "--hsts-max-age", "600"];
    let mut desk = start("serve", dir.path(), &certificate, &extra);
    let stdout = desk.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    tokio::time::timeout(PATIENCE, async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("Demo logins") {
                return;
            }
        }
    })
    .await
    .expect("the demo logins are printed in time");
    let addr = wait_for_addr(&dir.path().join("addr")).await;

    let login = post_json(
        "/api/v1/session",
        &serde_json::json!({"email": "agent@demo.local", "password": "demo"}),
    );
    let answer = https(addr, &certificate, &login)
        .await
        .expect("login over https");
    assert_eq!(answer.status, 200, "{}", answer.head);
    let set_cookie = header(&answer.head, "set-cookie").expect("a session cookie");
    let attributes: Vec<&str> = set_cookie.split(';').map(str::trim).collect();
    assert!(attributes.contains(&"Secure"), "{set_cookie}");
    assert!(attributes.contains(&"HttpOnly"), "{set_cookie}");
    // Issue 18 point 8: browsers are told to stay on https, for the configured time.
    let hsts = header(&answer.head, "strict-transport-security");
    assert_eq!(hsts.as_deref(), Some("max-age=600"), "{}", answer.head);

    // The desk identifies the wss:// connection by that cookie.
    let cookie = attributes[0];
    let (_socket, welcome) =
        wss_connect(format!("wss://{addr}/ws"), Some(cookie), &certificate).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
}

/// The first value of the header `name` in an answer's head.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name)
            .then(|| value.trim().to_owned())
    })
}

/// Runs `ictdesk hub` with these TLS settings, expecting a refusal; returns stderr.
async fn refused(env: &[(&str, &Path)]) -> String {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut command = ictdesk();
    command
        .args(["hub", "--port", "0", "--database"])
        .arg(format!(
            "sqlite://{}",
            dir.path().join("refused.db").display()
        ))
        .env_remove("ICTDESK_TLS_CERT")
        .env_remove("ICTDESK_TLS_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = tokio::time::timeout(PATIENCE, command.output())
        .await
        .expect("ends in time")
        .expect("runs");
    assert!(!output.status.success(), "{env:?} started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn bad_or_missing_tls_files_stop_start_up_naming_the_setting() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let certificate = make_certificate(dir.path());
    let missing = dir.path().join("missing.pem");
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a PEM file\n").expect("write");

    let message = refused(&[
        ("ICTDESK_TLS_CERT", &missing),
        ("ICTDESK_TLS_KEY", &certificate.key),
    ])
    .await;
    assert!(message.contains("ICTDESK_TLS_CERT"), "{message}");

    let message = refused(&[
        ("ICTDESK_TLS_CERT", &certificate.cert),
        ("ICTDESK_TLS_KEY", &garbage),
    ])
    .await;
    assert!(message.contains("ICTDESK_TLS_KEY"), "{message}");

    let message = refused(&[("ICTDESK_TLS_CERT", &certificate.cert)]).await;
    assert!(message.contains("ICTDESK_TLS_KEY"), "{message}");

    // A key that belongs to another certificate.
    let other = tempfile::tempdir().expect("temporary directory");
    let stranger = make_certificate(other.path());
    let message = refused(&[
        ("ICTDESK_TLS_CERT", &certificate.cert),
        ("ICTDESK_TLS_KEY", &stranger.key),
    ])
    .await;
    assert!(message.contains("ICTDESK_TLS_KEY"), "{message}");
}
