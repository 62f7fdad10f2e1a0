//! E-mail with real processes: `ictdesk serve` sending to a real SMTP server (Debian's
//! python3-aiosmtpd, delivering into a maildir), an SMTP outage, `kill -9` in the
//! middle of a send, two nodes sharing one outbox, TLS to the relay, and `ictdesk
//! mail-in` as an MTA runs it.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::Stdio,
    time::Duration,
};

use ictdesk_desk::{Desk, DeskOptions, attachments::FileOptions, files::Files, mail::OutboxMail};
use ictdesk_hub::Database;
use mail_parser::MessageParser;
use serde_json::{Value, json};
use tokio::{io::AsyncWriteExt, process::Child};

use crate::process::{PATIENCE, Server, ictdesk, wait_for_addr};

const PASSWORD: &str = "mail test password";
const PUBLIC_URL: &str = "https://desk.example.org";
/// Longer than the waits of the tests below: sending is not instant, and CI is slow.
const MAIL_PATIENCE: Duration = Duration::from_secs(60);

// ---- The SMTP server -----------------------------------------------------------

/// Debian's Python, where python3-aiosmtpd lives (not a pyenv on PATH).
const PYTHON: &str = "/usr/bin/python3";

/// Whether aiosmtpd is installed; without it the tests are skipped, except under
/// `CI=true`, where that fails.
fn aiosmtpd_installed() -> bool {
    let installed = std::process::Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !installed {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but python3-aiosmtpd is not installed"
        );
        eprintln!("skipped: install python3-aiosmtpd");
    }
    installed
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A running aiosmtpd that delivers into a maildir.
struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    /// aiosmtpd on `port` with its Mailbox handler; `extra` goes before the handler
    /// (TLS options).
    async fn start(dir: &Path, port: u16, extra: &[&str]) -> Self {
        let maildir = dir.join(format!("maildir-{port}"));
        let mut args: Vec<String> = extra.iter().map(|arg| (*arg).to_owned()).collect();
        args.extend(["-c".into(), "aiosmtpd.handlers.Mailbox".into()]);
        args.push(maildir.display().to_string());
        Self::start_with(port, maildir, &args).await
    }

    /// aiosmtpd holding the first message's DATA unanswered (`smtp_hold.py`).
    async fn holding_the_first(dir: &Path, port: u16, marker: &Path) -> Self {
        let maildir = dir.join(format!("maildir-{port}"));
        let args = [
            "-c".to_owned(),
            "smtp_hold.HoldFirst".to_owned(),
            maildir.display().to_string(),
            marker.display().to_string(),
        ];
        Self::start_with(port, maildir, &args).await
    }

    async fn start_with(port: u16, maildir: PathBuf, args: &[String]) -> Self {
        let child = tokio::process::Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(args)
            .env(
                "PYTHONPATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cli"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd");
        let server = Self {
            child,
            port,
            maildir,
        };
        server.wait_listening().await;
        server
    }

    async fn wait_listening(&self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "aiosmtpd never listened on {}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every message delivered so far.
    fn messages(&self) -> Vec<Vec<u8>> {
        let mut messages = Vec::new();
        for folder in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(self.maildir.join(folder)) else {
                continue;
            };
            for entry in entries.flatten() {
                messages.push(std::fs::read(entry.path()).expect("a delivered message"));
            }
        }
        messages
    }

    /// Waits until at least `count` messages were delivered; all of them.
    async fn wait_for(&self, count: usize) -> Vec<Mail> {
        let deadline = tokio::time::Instant::now() + MAIL_PATIENCE;
        loop {
            let messages = self.messages();
            if messages.len() >= count {
                return messages.iter().map(|raw| Mail::parse(raw)).collect();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} of {count} mails arrived",
                messages.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn stop(mut self) {
        self.child.kill().await.expect("stop aiosmtpd");
    }
}

/// A delivered mail as a mail program shows it.
#[derive(Debug)]
struct Mail {
    to: String,
    from: String,
    subject: String,
    text: String,
    html: String,
    message_id: String,
    in_reply_to: Option<String>,
}

impl Mail {
    fn parse(raw: &[u8]) -> Self {
        let message = MessageParser::default().parse(raw).expect("a message");
        let address = |list: Option<&mail_parser::Address>| {
            list.and_then(|list| list.first())
                .map(|addr| {
                    format!(
                        "{} <{}>",
                        addr.name.as_deref().unwrap_or_default(),
                        addr.address.as_deref().unwrap_or_default()
                    )
                })
                .unwrap_or_default()
        };
        Mail {
            to: address(message.to()),
            from: address(message.from()),
            subject: message.subject().unwrap_or_default().to_owned(),
            text: message.body_text(0).unwrap_or_default().into_owned(),
            html: message.body_html(0).unwrap_or_default().into_owned(),
            message_id: format!("<{}>", message.message_id().unwrap_or_default()),
            in_reply_to: message.in_reply_to().as_text().map(|id| format!("<{id}>")),
        }
    }
}

// ---- The desk ----------------------------------------------------------------

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("desk.db").display())
}

/// `ictdesk serve` sending through `smtp_url`.
async fn start_desk(dir: &Path, database: &str, smtp_url: &str, extra: &[&str]) -> Server {
    let addr_file = dir.join(format!("addr-{}", free_port()));
    let child = ictdesk()
        .args(["serve", "--port", "0", "--addr-file"])
        .arg(&addr_file)
        .args(["--database", database, "--smtp-url", smtp_url])
        .args([
            "--public-url",
            PUBLIC_URL,
            "--mail-from",
            "Служба ИТ <desk@desk.example.org>",
        ])
        .args(["--smtp-timeout", "3"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ictdesk serve");
    let addr = wait_for_addr(&addr_file).await;
    Server { child, addr }
}

async fn add_user(database: &str, email: &str, name: &str, role: &str) {
    let status = ictdesk()
        .args(["user", "add", "--database", database, "--email", email])
        .args(["--name", name, "--role", role, "--password", PASSWORD])
        .stdout(Stdio::null())
        .status()
        .await
        .expect("ictdesk user add");
    assert!(status.success(), "user add {email}");
}

/// What `ictdesk mail-in` did with `raw`.
struct Taken {
    status: i32,
    stdout: String,
    stderr: String,
}

async fn mail_in(database: &str, raw: &[u8], extra: &[&str]) -> Taken {
    let mut child = ictdesk()
        .args(["mail-in", "--database", database])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ictdesk mail-in");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(raw).await.expect("the message is written");
    drop(stdin);
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .expect("mail-in ends in time")
        .expect("mail-in runs");
    Taken {
        status: output.status.code().expect("an exit status"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A new ticket from a known person, as an MTA hands it over.
fn new_ticket_mail(from: &str, subject: &str, n: usize) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: help@desk.example.org\r\nSubject: {subject}\r\n\
         Message-ID: <test-{n}-{subject_len}@client.example.org>\r\n\
         Date: Mon, 1 Dec 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Something is broken ({n}).\r\n",
        subject_len = subject.len()
    )
    .into_bytes()
}

/// The outbox as the database has it (read by a desk of the test's own).
async fn outbox(database: &str) -> Vec<OutboxMail> {
    let connected = Database::connect(database).await.expect("the database");
    let desk = Desk::open(&connected, connected.event_log(), DeskOptions::default())
        .await
        .expect("the desk");
    desk.storage()
        .mail_outbox(0, 10_000)
        .await
        .expect("the outbox")
}

/// Waits until `done` holds for the outbox.
async fn outbox_until(database: &str, what: &str, done: impl Fn(&[OutboxMail]) -> bool) {
    let deadline = tokio::time::Instant::now() + MAIL_PATIENCE;
    loop {
        let rows = outbox(database).await;
        if done(&rows) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox never showed {what}: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A signed-in browser session against the API.
struct Session {
    http: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

impl Session {
    async fn login(server: &Server, email: &str) -> Self {
        let http = reqwest::Client::new();
        let base = server.url("");
        let response = http
            .post(format!("{base}/api/v1/session"))
            .header("Origin", &base)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), 200, "login {email}");
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find_map(|value| value.strip_prefix("ictdesk_session="))
            .and_then(|value| value.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let body: Value = response.json().await.expect("JSON");
        let csrf = body["csrf_token"]
            .as_str()
            .expect("a CSRF token")
            .to_owned();
        Self {
            http,
            base,
            cookie,
            csrf,
        }
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("Origin", &self.base)
            .header("Cookie", format!("ictdesk_session={}", self.cookie))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .expect("an answer");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }
}

// ---- The tests ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mails_reach_a_real_smtp_server_threaded_and_in_russian() {
    if !aiosmtpd_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = sqlite_url(dir.path());
    let smtp = SmtpServer::start(dir.path(), free_port(), &[]).await;
    let desk = start_desk(
        dir.path(),
        &database,
        &format!("smtp://127.0.0.1:{}", smtp.port),
        &[],
    )
    .await;
    add_user(&database, "maria@example.org", "Мария Петрова", "requester").await;
    add_user(&database, "ivan@example.org", "Иван Техников", "agent").await;

    let maria = Session::login(&desk, "maria@example.org").await;
    let ticket = maria
        .send(
            reqwest::Method::POST,
            "/api/v1/tickets",
            json!({"title": "Принтер не печатает", "description": "Жуёт бумагу"}),
        )
        .await;
    let id = ticket["id"].as_i64().expect("an id");
    let confirmation = smtp.wait_for(1).await.remove(0);
    assert_eq!(confirmation.to, "Мария Петрова <maria@example.org>");
    assert_eq!(confirmation.from, "Служба ИТ <desk@desk.example.org>");
    assert_eq!(
        confirmation.subject,
        format!("[#{id}] Заявка зарегистрирована: Принтер не печатает")
    );
    assert!(
        confirmation
            .text
            .contains(&format!("{PUBLIC_URL}/tickets/{id}")),
        "{}",
        confirmation.text
    );
    assert!(
        confirmation.html.contains("Открыть заявку"),
        "{}",
        confirmation.html
    );
    assert!(
        confirmation
            .message_id
            .starts_with(&format!("<ictdesk.ticket-{id}."))
    );

    let ivan = Session::login(&desk, "ivan@example.org").await;
    ivan.send(
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{id}/comments"),
        json!({"body": "Перезагрузите принтер, пожалуйста."}),
    )
    .await;
    let mails = smtp.wait_for(2).await;
    let reply = mails
        .iter()
        .find(|mail| mail.message_id != confirmation.message_id)
        .expect("the reply");
    assert_eq!(
        reply.subject,
        format!("[#{id}] Новый ответ: Принтер не печатает")
    );
    assert!(reply.text.contains("Перезагрузите принтер, пожалуйста."));
    assert_eq!(reply.in_reply_to.as_ref(), Some(&confirmation.message_id));

    // Maria switches replies off on her preferences: the next reply writes no mail.
    let preferences = maria
        .send(
            reqwest::Method::PUT,
            "/api/v1/me/mail-preferences",
            json!({"staff_reply": false}),
        )
        .await;
    assert_eq!(preferences["staff_reply"], false);
    ivan.send(
        reqwest::Method::POST,
        &format!("/api/v1/tickets/{id}/comments"),
        json!({"body": "Ещё один ответ"}),
    )
    .await;
    let rows = outbox(&database).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    outbox_until(&database, "both sent", |rows| {
        rows.iter().all(|mail| mail.sent_at.is_some())
    })
    .await;
    assert_eq!(smtp.messages().len(), 2);
    smtp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_outage_and_a_restart_lose_no_mail_and_send_none_twice() {
    let dir = tempfile::tempdir().expect("temporary directory");
    an_outage_and_a_restart(dir.path(), &sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_outage_and_a_restart_on_postgresql() {
    let Some(postgres) = ictdesk_testing::fresh_postgres("mail_outage").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    an_outage_and_a_restart(dir.path(), postgres.url()).await;
}

async fn an_outage_and_a_restart(dir: &Path, database: &str) {
    if !aiosmtpd_installed() {
        return;
    }
    let port = free_port();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let mut desk = start_desk(dir, database, &smtp_url, &[]).await;
    add_user(database, "john@example.org", "John Smith", "requester").await;
    for n in 0..3 {
        let taken = mail_in(
            database,
            &new_ticket_mail("John Smith <john@example.org>", "VPN drops", n),
            &["--smtp-url", &smtp_url, "--public-url", PUBLIC_URL],
        )
        .await;
        assert_eq!(taken.status, 0, "{}", taken.stderr);
    }
    // Nothing listens: every mail fails its first attempt and waits for a retry.
    outbox_until(database, "a failed attempt of each", |rows| {
        rows.len() == 3
            && rows.iter().all(|mail| {
                mail.attempts >= 1 && mail.last_error.is_some() && mail.sent_at.is_none()
            })
    })
    .await;
    desk.terminate();
    let _ = tokio::time::timeout(PATIENCE, desk.child.wait()).await;

    let smtp = SmtpServer::start(dir, port, &[]).await;
    let _restarted = start_desk(dir, database, &smtp_url, &[]).await;
    let mails = smtp.wait_for(3).await;
    outbox_until(database, "all sent", |rows| {
        rows.iter().all(|mail| mail.sent_at.is_some())
    })
    .await;
    let rows = outbox(database).await;
    let mut sent: Vec<&str> = mails.iter().map(|mail| mail.message_id.as_str()).collect();
    sent.sort_unstable();
    let mut queued: Vec<&str> = rows.iter().map(|mail| mail.message_id.as_str()).collect();
    queued.sort_unstable();
    assert_eq!(sent, queued, "each queued mail arrived exactly once");
    assert_eq!(smtp.messages().len(), 3);
    smtp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_send_loses_nothing_and_sends_nothing_twice() {
    let dir = tempfile::tempdir().expect("temporary directory");
    kill_9_during_a_send(dir.path(), &sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_in_the_middle_of_a_send_on_postgresql() {
    let Some(postgres) = ictdesk_testing::fresh_postgres("mail_kill").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    kill_9_during_a_send(dir.path(), postgres.url()).await;
}

async fn kill_9_during_a_send(dir: &Path, database: &str) {
    if !aiosmtpd_installed() {
        return;
    }
    let marker = dir.join("data-arrived");
    let smtp = SmtpServer::holding_the_first(dir, free_port(), &marker).await;
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    let mut desk = start_desk(dir, database, &smtp_url, &[]).await;
    add_user(database, "john@example.org", "John Smith", "requester").await;
    for n in 0..2 {
        let taken = mail_in(
            database,
            &new_ticket_mail("John Smith <john@example.org>", "Screen flickers", n),
            &["--smtp-url", &smtp_url, "--public-url", PUBLIC_URL],
        )
        .await;
        assert_eq!(taken.status, 0, "{}", taken.stderr);
    }
    // The first mail's DATA reached the server, which does not answer: kill -9 now.
    let deadline = tokio::time::Instant::now() + MAIL_PATIENCE;
    while !marker.exists() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no mail was ever sent"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    desk.kill_hard().await;
    let held = Mail::parse(&std::fs::read(&marker).expect("the held message"));
    assert!(smtp.messages().is_empty(), "the held mail was delivered");

    // The next life takes over once the dead node's claim runs out (2 × --smtp-timeout).
    let _restarted = start_desk(dir, database, &smtp_url, &[]).await;
    let mails = smtp.wait_for(2).await;
    outbox_until(database, "both sent", |rows| {
        rows.len() == 2 && rows.iter().all(|mail| mail.sent_at.is_some())
    })
    .await;
    assert_eq!(smtp.messages().len(), 2, "a mail arrived twice");
    assert!(
        mails.iter().any(|mail| mail.message_id == held.message_id),
        "the retry is the same message (same Message-ID)"
    );
    let attempts: BTreeMap<String, i64> = outbox(database)
        .await
        .into_iter()
        .map(|mail| (mail.message_id, mail.attempts))
        .collect();
    assert_eq!(attempts[&held.message_id], 2, "{attempts:?}");
    smtp.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgresql_send_each_mail_exactly_once() {
    if !aiosmtpd_installed() {
        return;
    }
    let Some(postgres) = ictdesk_testing::fresh_postgres("mail_nodes").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = postgres.url().to_owned();
    let smtp = SmtpServer::start(dir.path(), free_port(), &[]).await;
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    // Both nodes run while the mails come in (from another process, so each node
    // finds them by looking at the outbox, not by being woken).
    let _one = start_desk(dir.path(), &database, &smtp_url, &["--node", "one"]).await;
    let _two = start_desk(dir.path(), &database, &smtp_url, &["--node", "two"]).await;
    add_user(&database, "john@example.org", "John Smith", "requester").await;
    const MAILS: usize = 30;
    for n in 0..MAILS {
        let taken = mail_in(
            &database,
            &new_ticket_mail("John Smith <john@example.org>", "Printer", n),
            &["--smtp-url", &smtp_url, "--public-url", PUBLIC_URL],
        )
        .await;
        assert_eq!(taken.status, 0, "{}", taken.stderr);
    }
    let mails = smtp.wait_for(MAILS).await;
    outbox_until(&database, "all sent", |rows| {
        rows.len() == MAILS && rows.iter().all(|mail| mail.sent_at.is_some())
    })
    .await;
    assert_eq!(smtp.messages().len(), MAILS, "a mail was sent twice");
    let mut ids: Vec<&str> = mails.iter().map(|mail| mail.message_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), MAILS);
    let mut senders = BTreeMap::<String, usize>::new();
    for mail in outbox(&database).await {
        *senders
            .entry(mail.claimed_by.unwrap_or_default())
            .or_default() += 1;
    }
    eprintln!("mails sent per node: {senders:?}");
    smtp.stop().await;
}

/// A CA and a certificate for 127.0.0.1 that it signed, as PEM files.
fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("a CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).expect("the CA");
    let key = KeyPair::generate().expect("a key");
    let params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).expect("the certificate");
    let paths = (
        dir.join("ca.pem"),
        dir.join("smtp-cert.pem"),
        dir.join("smtp-key.pem"),
    );
    std::fs::write(&paths.0, ca.pem()).expect("ca.pem");
    std::fs::write(&paths.1, cert.pem()).expect("cert");
    std::fs::write(&paths.2, key.serialize_pem()).expect("key");
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_and_smtps_to_a_relay_with_an_in_house_ca() {
    if !aiosmtpd_installed() {
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let (ca, cert, key) = private_ca(dir.path());
    let (cert, key) = (cert.display().to_string(), key.display().to_string());
    let starttls = SmtpServer::start(
        dir.path(),
        free_port(),
        &["--tlscert", &cert, "--tlskey", &key],
    )
    .await;
    let smtps = SmtpServer::start(
        dir.path(),
        free_port(),
        &["--smtpscert", &cert, "--smtpskey", &key],
    )
    .await;
    let ca = ca.display().to_string();
    for (smtp, url) in [
        (
            &starttls,
            format!("smtp://127.0.0.1:{}?tls=required", starttls.port),
        ),
        (&smtps, format!("smtps://127.0.0.1:{}", smtps.port)),
    ] {
        let place = tempfile::tempdir().expect("temporary directory");
        let database = sqlite_url(place.path());
        let _desk = start_desk(place.path(), &database, &url, &["--smtp-ca-file", &ca]).await;
        add_user(&database, "john@example.org", "John Smith", "requester").await;
        let taken = mail_in(
            &database,
            &new_ticket_mail("John Smith <john@example.org>", "TLS", 0),
            &["--smtp-url", &url, "--public-url", PUBLIC_URL],
        )
        .await;
        assert_eq!(taken.status, 0, "{}", taken.stderr);
        let mail = smtp.wait_for(1).await.remove(0);
        assert!(mail.subject.contains("TLS"), "{url}: {mail:?}");
    }

    // Without the CA the relay is not trusted: nothing is sent, the outbox says why.
    let place = tempfile::tempdir().expect("temporary directory");
    let database = sqlite_url(place.path());
    let url = format!("smtps://127.0.0.1:{}", smtps.port);
    let _desk = start_desk(place.path(), &database, &url, &[]).await;
    add_user(&database, "john@example.org", "John Smith", "requester").await;
    let taken = mail_in(
        &database,
        &new_ticket_mail("John Smith <john@example.org>", "Untrusted", 0),
        &["--smtp-url", &url, "--public-url", PUBLIC_URL],
    )
    .await;
    assert_eq!(taken.status, 0, "{}", taken.stderr);
    outbox_until(&database, "a refused certificate", |rows| {
        rows.iter()
            .any(|mail| mail.last_error.is_some() && mail.sent_at.is_none())
    })
    .await;
    assert_eq!(smtps.messages().len(), 1, "sent to an untrusted relay");
    starttls.stop().await;
    smtps.stop().await;
}

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/../desk/tests/mail/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_tells_the_mta_what_became_of_each_message() {
    let dir = tempfile::tempdir().expect("temporary directory");
    mail_in_answers(&sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_tells_the_mta_on_postgresql() {
    let Some(postgres) = ictdesk_testing::fresh_postgres("mail_in").await else {
        return;
    };
    mail_in_answers(postgres.url()).await;
}

async fn mail_in_answers(database: &str) {
    add_user(database, "john@test.local", "John Smith", "requester").await;
    add_user(database, "maria@test.local", "Мария Петрова", "requester").await;

    let taken = mail_in(database, &sample("new_ticket_plain_en.eml"), &[]).await;
    assert_eq!(
        (taken.status, taken.stdout.trim()),
        (0, "ticket #1 opened"),
        "{}",
        taken.stderr
    );
    let again = mail_in(database, &sample("new_ticket_plain_en.eml"), &[]).await;
    assert_eq!(again.status, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("already received"),
        "{}",
        again.stdout
    );

    // Maria answers "[#1]", which is John's: refused, and the MTA bounces (EX_NOPERM).
    let refused = mail_in(database, &sample("reply_gmail_ru.eml"), &[]).await;
    assert_eq!(refused.status, 77, "{} {}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("ticket #1"), "{}", refused.stderr);

    let dropped = mail_in(database, &sample("autoreply_vacation_ru.eml"), &[]).await;
    assert_eq!(dropped.status, 0, "{}", dropped.stderr);
    assert!(dropped.stdout.contains("dropped"), "{}", dropped.stdout);

    let unknown = sample("new_ticket_unknown_sender_ru.eml");
    let rejected = mail_in(database, &unknown, &[]).await;
    assert_eq!(rejected.status, 67, "{}", rejected.stderr);
    assert!(
        rejected.stderr.contains("olga.smirnova@example.ru"),
        "{}",
        rejected.stderr
    );
    let created = mail_in(database, &unknown, &["--mail-in-unknown", "create"]).await;
    assert_eq!(
        (created.status, created.stdout.trim()),
        (0, "ticket #2 opened"),
        "{}",
        created.stderr
    );

    let garbage = mail_in(database, &sample("not_a_message.eml"), &[]).await;
    assert_eq!(garbage.status, 65, "{}", garbage.stderr);
    assert!(
        garbage.stderr.contains("not an e-mail message"),
        "{}",
        garbage.stderr
    );

    // The database cannot be reached: try again later (EX_TEMPFAIL), not a bounce.
    let down = mail_in(
        "postgres://nobody:nothing@127.0.0.1:1/none",
        &sample("new_ticket_plain_en.eml"),
        &[],
    )
    .await;
    assert_eq!(down.status, 75, "{}", down.stderr);
}

#[tokio::test]
async fn mail_settings_are_checked_at_start_naming_them() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let database = sqlite_url(dir.path());
    let refuse = |args: Vec<String>| async move {
        let output = tokio::time::timeout(
            PATIENCE,
            ictdesk()
                .args(["serve", "--port", "0"])
                .args(&args)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output(),
        )
        .await
        .expect("ends in time")
        .expect("runs");
        assert!(!output.status.success(), "{args:?} started");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let db = |more: &[&str]| {
        let mut args = vec!["--database".to_owned(), database.clone()];
        args.extend(more.iter().map(|arg| (*arg).to_owned()));
        args
    };
    let message = refuse(db(&["--smtp-url", "smtp://relay.example.org"])).await;
    assert!(message.contains("ICTDESK_PUBLIC_URL"), "{message}");
    let message = refuse(db(&[
        "--smtp-url",
        "imap://desk:hunter2@relay.example.org",
        "--public-url",
        PUBLIC_URL,
    ]))
    .await;
    assert!(message.contains("ICTDESK_SMTP_URL"), "{message}");
    assert!(
        !message.contains("hunter2"),
        "the password is shown: {message}"
    );
    let message = refuse(db(&[
        "--smtp-url",
        "smtp://relay.example.org",
        "--public-url",
        PUBLIC_URL,
        "--mail-from",
        "not an address",
    ]))
    .await;
    assert!(message.contains("ICTDESK_MAIL_FROM"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_stores_a_messages_files_within_the_upload_limit() {
    let dir = tempfile::tempdir().expect("temporary directory");
    mail_in_stores_files(dir.path(), &sqlite_url(dir.path())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_in_stores_files_on_postgresql() {
    let Some(postgres) = ictdesk_testing::fresh_postgres("mail_in_files").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    mail_in_stores_files(dir.path(), postgres.url()).await;
}

async fn mail_in_stores_files(dir: &Path, database: &str) {
    let files_dir = dir.join("files");
    add_user(database, "john@test.local", "John Smith", "requester").await;

    // The PNG (70 bytes) fits under the limit; the PDF (125 bytes) does not.
    let files_arg = files_dir.display().to_string();
    let limits = ["--attachments-dir", &files_arg, "--max-upload-size", "100"];
    let raw = sample("new_ticket_with_attachments_en.eml");
    let taken = mail_in(database, &raw, &limits).await;
    assert_eq!(
        (taken.status, taken.stdout.trim()),
        (0, "ticket #1 opened"),
        "{}",
        taken.stderr
    );

    // Read back by a desk of the test's own on the same database and folder.
    let connected = Database::connect(database).await.expect("the database");
    let options = DeskOptions {
        files: FileOptions {
            files: Files::local(&files_dir).expect("the folder"),
            max_upload_size: 100,
        },
        ..DeskOptions::default()
    };
    let desk = Desk::open(&connected, connected.event_log(), options)
        .await
        .expect("the desk");
    let john = desk
        .find_user_by_email("john@test.local")
        .await
        .expect("the database")
        .expect("john");
    let page = desk.ticket_page(&john, 1).await.expect("the ticket");
    let names: Vec<&str> = page
        .attachments
        .iter()
        .map(|file| file.name.as_str())
        .collect();
    assert_eq!(names, ["screen.png"]);
    let (_, bytes) = desk
        .read_attachment(&john, page.attachments[0].id)
        .await
        .expect("the bytes are in the folder");
    assert!(bytes.starts_with(b"\x89PNG"), "{bytes:?}");
    assert!(
        page.ticket.description.contains(
            "[отчёт драйвера.pdf: 125 bytes, over the desk's limit of 100 bytes; not attached]"
        ),
        "{}",
        page.ticket.description
    );
}
