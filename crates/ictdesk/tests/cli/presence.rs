//! Presence across nodes with real processes on one PostgreSQL database: a ticket with
//! 200 watchers over two nodes (far past NOTIFY's 8 000-byte payload limit), names that
//! are 200 control characters or 9 000 bytes long, and a forged notification from a
//! database role that may only connect — which nobody is shown.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use ictdesk_testing::fresh_postgres;
use serde_json::{Value, json};
use sqlx::Connection;
use tokio_tungstenite::tungstenite::Message;

use crate::cluster::{HUB_SECRET, Node, start_node};

const TICKET: i64 = 7;

pub(crate) fn token(user: i64, name: &str) -> String {
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
        + 600;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": user.to_string(), "role": "agent", "exp": exp, "name": name}),
        &jsonwebtoken::EncodingKey::from_secret(HUB_SECRET.as_bytes()),
    )
    .expect("token")
}

/// A watcher of the ticket. Its socket is read all the time (a list arrives at every
/// change); only the watchers that check keep the last one (parsing every list on
/// every socket would make the test, not the hub, the bottleneck).
struct Watcher {
    last_list: Arc<Mutex<Option<Value>>>,
    outgoing: tokio::sync::mpsc::UnboundedSender<Message>,
}

async fn watch(node: &Node, user: i64, name: &str, checks: bool) -> Watcher {
    let url = format!("{}?token={}", node.ws(), token(user, name));
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("connect");
    let (mut sink, mut stream) = socket.split();
    let last_list = Arc::new(Mutex::new(None));
    let kept = last_list.clone();
    tokio::spawn(async move {
        while let Some(Ok(message)) = stream.next().await {
            if checks
                && let Message::Text(text) = message
                && let Ok(frame) = serde_json::from_str::<Value>(text.as_str())
                && frame["type"] == "presence"
            {
                *kept.lock().expect("list") = Some(frame);
            }
        }
    });
    let (outgoing, mut queued) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(message) = queued.recv().await {
            if sink.send(message).await.is_err() {
                return;
            }
        }
    });
    let view = json!({"type": "view", "ticket_id": TICKET}).to_string();
    outgoing.send(Message::text(view)).expect("send");
    Watcher {
        last_list,
        outgoing,
    }
}

impl Watcher {
    /// Waits until the list shown satisfies `done`; returns it.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let list = self.viewers();
            if done(&list) {
                return list;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never saw {what}; last list has {} viewers",
                list.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn viewers(&self) -> Vec<Value> {
        self.last_list
            .lock()
            .expect("list")
            .as_ref()
            .and_then(|frame| frame["viewers"].as_array().cloned())
            .unwrap_or_default()
    }
}

fn users(viewers: &[Value]) -> BTreeSet<i64> {
    viewers
        .iter()
        .filter_map(|viewer| viewer["user_id"].as_i64())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_watchers_over_two_nodes_all_see_each_other() {
    let Some(database) = fresh_postgres("cluster").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let a = start_node(dir.path(), &database, "wa").await;
    let b = start_node(dir.path(), &database, "wb").await;
    let control_characters = "\u{1}".repeat(200);
    let huge = "Ж".repeat(4500);
    let mut watchers = Vec::new();
    for user in 1..=200 {
        let node = if user % 2 == 0 { &a } else { &b };
        let name = match user {
            1 => control_characters.clone(),
            2 => huge.clone(),
            _ => format!("User {user}"),
        };
        watchers.push(watch(node, user, &name, user <= 2).await);
    }
    let everyone: BTreeSet<i64> = (1..=200).collect();
    for index in [0, 1] {
        let list = watchers[index]
            .wait_for("all 200 watchers", |list| users(list) == everyone)
            .await;
        for viewer in &list {
            let name = viewer["name"].as_str().unwrap_or_default();
            assert!(
                name.chars().count() <= 64 && !name.chars().any(char::is_control),
                "a name shown as {name:?}"
            );
        }
        let nameless = list.iter().find(|viewer| viewer["user_id"] == 1);
        assert_eq!(nameless.map(|viewer| &viewer["name"]), Some(&Value::Null));
    }

    // One watcher leaves on each node; both nodes show that.
    for index in [2, 3] {
        let leave = json!({"type": "leave", "ticket_id": TICKET}).to_string();
        watchers[index]
            .outgoing
            .send(Message::text(leave))
            .expect("send");
    }
    let left: BTreeSet<i64> = everyone
        .difference(&BTreeSet::from([3, 4]))
        .copied()
        .collect();
    for index in [0, 1] {
        watchers[index]
            .wait_for("two watchers leave", |list| users(list) == left)
            .await;
    }
}

/// A role that may only connect (every role may, unless the database says otherwise:
/// `deploy/README.md`). Created afresh (a failed run may have left it) and dropped by
/// `remove`.
struct Outsider {
    admin: sqlx::PgConnection,
    role: String,
}

impl Outsider {
    async fn create(database_url: &str) -> (Self, String) {
        let role = format!("ictdesk_outsider_{}", std::process::id());
        let server = std::env::var("ICTDESK_TEST_POSTGRES_URL").expect("server URL");
        let mut admin = sqlx::PgConnection::connect(&server).await.expect("connect");
        for statement in [
            format!("DROP ROLE IF EXISTS {role}"),
            format!("CREATE ROLE {role} LOGIN PASSWORD 'outsider'"),
        ] {
            sqlx::query(&statement)
                .execute(&mut admin)
                .await
                .expect("the role is made");
        }
        // postgres://user:password@host:port/db → the same database as the outsider.
        let at = database_url.rfind('@').expect("credentials in the URL");
        let url = format!("postgres://{role}:outsider{}", &database_url[at..]);
        (Self { admin, role }, url)
    }

    async fn remove(mut self) {
        sqlx::query(&format!("DROP ROLE {}", self.role))
            .execute(&mut self.admin)
            .await
            .expect("the role is dropped");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_presence_notification_is_not_shown() {
    let Some(database) = fresh_postgres("cluster").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temporary directory");
    let a = start_node(dir.path(), &database, "fa").await;
    let b = start_node(dir.path(), &database, "fb").await;
    let agent = watch(&a, 1, "Agent One", true).await;
    agent
        .wait_for("the agent on the list", |list| {
            users(list) == BTreeSet::from([1])
        })
        .await;

    let (outsider, outsider_url) = Outsider::create(&database).await;
    let mut forger = sqlx::PgConnection::connect(&outsider_url)
        .await
        .expect("the outsider may connect");
    // The old relay's format, and the new one's notice; neither shows anyone.
    let forged = json!({"node": "evil", "ticket_id": TICKET, "viewers": [{
        "node": "evil", "connection_id": 1, "user_id": 99, "name": "Admin",
        "role": "admin", "state": "editing"}]});
    for payload in [forged.to_string(), TICKET.to_string(), "garbage".into()] {
        sqlx::query("SELECT pg_notify('ictdesk_presence', $1)")
            .bind(payload)
            .execute(&mut forger)
            .await
            .expect("anyone may notify");
    }
    // Writing the list itself takes the desk's role.
    let refused =
        sqlx::query("INSERT INTO presence (ticket_id, node, viewers) VALUES ($1, 'evil', $2)")
            .bind(TICKET)
            .bind(forged["viewers"].to_string())
            .execute(&mut forger)
            .await;
    let Err(sqlx::Error::Database(error)) = refused else {
        panic!("the outsider wrote presence: {refused:?}");
    };
    assert_eq!(error.code().as_deref(), Some("42501"), "{error}");
    let _ = forger.close().await;

    // A real watcher joins on the other node after the forgeries: once the agent sees
    // them, it has seen whatever the forgeries did.
    let _colleague = watch(&b, 2, "Agent Two", false).await;
    let list = agent
        .wait_for("the colleague from the other node", |list| {
            users(list).contains(&2)
        })
        .await;
    assert_eq!(users(&list), BTreeSet::from([1, 2]), "{list:?}");
    outsider.remove().await;
}
