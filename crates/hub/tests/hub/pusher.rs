//! The Pusher protocol's extensions and its place in the one log, with a raw WebSocket
//! client (the real Pusher clients are exercised by `tests/pusher/`, node --test):
//! resume from the last seen id, a channel's history, one order with `/broadcast`.

use std::time::{SystemTime, UNIX_EPOCH};

use ictdesk_hub::{
    PusherApp, Secret,
    pusher::signature::{body_md5, channel_auth, request_string, sign},
};
use serde_json::{Value, json};

use crate::helpers::{
    Backend, PATIENCE, TestHub, WsClient, spawn_hub, spawn_hub_with, test_config,
};

on_both_backends!(
    a_subscriber_that_resumes_gets_exactly_what_it_missed_then_live,
    a_channel_history_reads_its_events_in_order,
    pusher_and_native_events_share_one_order_but_not_their_audiences,
    a_bad_subscription_signature_is_refused_and_the_connection_stays,
    pusher_connections_are_counted_and_closed_at_shutdown,
);

fn app() -> PusherApp {
    PusherApp {
        id: "7".into(),
        key: "app-key".into(),
        secret: Secret::new("app-secret"),
    }
}

async fn spawn(backend: Backend) -> TestHub {
    let config = ictdesk_hub::HubConfig {
        pusher_apps: vec![app()],
        ..test_config()
    };
    spawn_hub_with(backend, config).await
}

/// A query string signed as the Pusher SDKs sign it.
fn signed(method: &str, path: &str, extra: &[(&str, &str)], body: &[u8]) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let mut params: Vec<(String, String)> = vec![
        ("auth_key".into(), app().key),
        ("auth_timestamp".into(), now.to_string()),
        ("auth_version".into(), "1.0".into()),
    ];
    if !body.is_empty() {
        params.push(("body_md5".into(), body_md5(body)));
    }
    params.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    let signature = sign(&app(), &request_string(method, path, &params));
    params.push(("auth_signature".into(), signature));
    params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

async fn trigger(hub: &TestHub, channel: &str, name: &str, data: &str) {
    let body = json!({"name": name, "channels": [channel], "data": data}).to_string();
    let path = "/apps/7/events";
    let response = hub
        .http
        .post(hub.url(&format!(
            "{path}?{}",
            signed("POST", path, &[], body.as_bytes())
        )))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("publish");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

/// A Pusher connection: the greeting read, its socket id kept.
struct Pusher {
    client: WsClientRaw,
    socket_id: String,
}

type WsClientRaw =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Pusher {
    async fn connect(hub: &TestHub) -> Pusher {
        let url = format!("ws://{}/app/app-key?protocol=7&client=test", hub.addr);
        let (client, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("handshake");
        let mut pusher = Pusher {
            client,
            socket_id: String::new(),
        };
        let hello = pusher.next().await;
        assert_eq!(hello["event"], "pusher:connection_established", "{hello}");
        let data: Value = serde_json::from_str(hello["data"].as_str().expect("a string"))
            .expect("JSON in the string");
        pusher.socket_id = data["socket_id"].as_str().expect("socket_id").to_owned();
        pusher
    }

    async fn next(&mut self) -> Value {
        use futures_util::StreamExt;
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.client.next())
                .await
                .expect("a frame in time")
                .expect("open")
                .expect("a frame");
            if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
                return serde_json::from_str(text.as_str()).expect("JSON");
            }
        }
    }

    async fn send(&mut self, value: Value) {
        use futures_util::SinkExt;
        self.client
            .send(tokio_tungstenite::tungstenite::Message::text(
                value.to_string(),
            ))
            .await
            .expect("send");
    }

    async fn subscribe(&mut self, channel: &str, since: Option<i64>) {
        let mut data = json!({"channel": channel});
        if channel.starts_with("private-") {
            data["auth"] = json!(channel_auth(&app(), &self.socket_id, channel, None));
        }
        if let Some(since) = since {
            data["since"] = json!(since);
        }
        self.send(json!({"event": "pusher:subscribe", "data": data}))
            .await;
        let reply = self.next().await;
        assert_eq!(
            reply["event"], "pusher_internal:subscription_succeeded",
            "{reply}"
        );
    }

    /// The next channel events' (data, id), skipping protocol frames.
    async fn events(&mut self, count: usize) -> Vec<(String, i64)> {
        let mut events = Vec::new();
        while events.len() < count {
            let frame = self.next().await;
            if let Some(id) = frame["id"].as_i64() {
                events.push((frame["data"].as_str().unwrap_or_default().to_owned(), id));
            }
        }
        events
    }

    /// The code of the close frame, skipping what comes before it.
    async fn close_code(&mut self) -> Option<u16> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            let frame = tokio::time::timeout(PATIENCE, self.client.next())
                .await
                .expect("a frame in time");
            match frame {
                Some(Ok(Message::Close(frame))) => return frame.map(|frame| u16::from(frame.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    /// Nothing with an id waits before a ping's pong.
    async fn assert_nothing_pending(&mut self) {
        self.send(json!({"event": "pusher:ping", "data": {}})).await;
        loop {
            let frame = self.next().await;
            assert!(frame.get("id").is_none(), "unexpected {frame}");
            if frame["event"] == "pusher:pong" {
                return;
            }
        }
    }
}

async fn a_subscriber_that_resumes_gets_exactly_what_it_missed_then_live(backend: Backend) {
    let hub = spawn(backend).await;
    let mut first = Pusher::connect(&hub).await;
    first.subscribe("private-orders", None).await;
    trigger(&hub, "private-orders", "order", "1").await;
    let seen = first.events(1).await;
    assert_eq!(seen[0].0, "1");
    drop(first);

    for n in 2..=5 {
        trigger(&hub, "private-orders", "order", &n.to_string()).await;
        trigger(&hub, "elsewhere", "order", "not for it").await;
    }
    let mut again = Pusher::connect(&hub).await;
    again.subscribe("private-orders", Some(seen[0].1)).await;
    trigger(&hub, "private-orders", "order", "6").await;
    let resumed = again.events(5).await;
    let data: Vec<&str> = resumed.iter().map(|(data, _)| data.as_str()).collect();
    assert_eq!(data, ["2", "3", "4", "5", "6"]);
    assert!(resumed.windows(2).all(|pair| pair[0].1 < pair[1].1));
    again.assert_nothing_pending().await;
}

async fn a_channel_history_reads_its_events_in_order(backend: Backend) {
    let hub = spawn(backend).await;
    for n in 1..=5 {
        trigger(&hub, "news", "item", &n.to_string()).await;
        trigger(&hub, "other", "item", "x").await;
    }
    let path = "/apps/7/channels/news/events";
    let query = signed("GET", path, &[("limit", "3"), ("since", "0")], b"");
    let (status, page) = hub.get(&format!("{path}?{query}")).await;
    assert_eq!(status, 200, "{page}");
    let events = page["events"].as_array().expect("events");
    let data: Vec<&str> = events.iter().filter_map(|e| e["data"].as_str()).collect();
    assert_eq!(data, ["1", "2", "3"]);
    assert_eq!(page["has_more"], true);
    let last = page["last_id"].as_i64().expect("last_id").to_string();
    let query = signed("GET", path, &[("since", &last)], b"");
    let (_, rest) = hub.get(&format!("{path}?{query}")).await;
    let data: Vec<&str> = rest["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["data"].as_str())
        .collect();
    assert_eq!(data, ["4", "5"]);
    assert_eq!(rest["has_more"], false);

    let unsigned = hub.get(&format!("{path}?since=0")).await;
    assert_eq!(unsigned.0, 401, "{}", unsigned.1);
}

async fn pusher_and_native_events_share_one_order_but_not_their_audiences(backend: Backend) {
    let hub = spawn(backend).await;
    let mut native: WsClient = hub.connect("").await;
    let mut pusher = Pusher::connect(&hub).await;
    pusher.subscribe("mixed", None).await;
    let a = hub.publish("native_event", json!({"n": 1}), None).await;
    trigger(&hub, "mixed", "pusher-event", "2").await;
    let c = hub.publish("native_event", json!({"n": 3}), None).await;
    let pusher_id = pusher.events(1).await[0].1;
    assert!(a < pusher_id && pusher_id < c, "{a} < {pusher_id} < {c}");
    assert_eq!(native.event_ids(2).await, vec![a, c]);
    native.assert_no_event_pending().await;
    hub.wait_for_delivery(c).await;
    assert_eq!(hub.poll_ids(0, 2, None).await, vec![a, c]);
}

async fn a_bad_subscription_signature_is_refused_and_the_connection_stays(backend: Backend) {
    let hub = spawn(backend).await;
    let mut pusher = Pusher::connect(&hub).await;
    let forged = channel_auth(&app(), "1.1", "private-vault", None);
    pusher
        .send(json!({"event": "pusher:subscribe", "data": {"channel": "private-vault", "auth": forged}}))
        .await;
    let refusal = pusher.next().await;
    assert_eq!(refusal["event"], "pusher:subscription_error", "{refusal}");
    assert_eq!(refusal["data"]["status"], 401);
    let error = pusher.next().await;
    assert_eq!(error["event"], "pusher:error");
    assert_eq!(error["data"]["code"], 4009);
    pusher.subscribe("private-vault", None).await;
    trigger(&hub, "private-vault", "opened", "yes").await;
    assert_eq!(pusher.events(1).await[0].0, "yes");
}

/// `/clients` and `/status` count Pusher connections with the native ones, and a
/// shutdown closes them with 4200 (reconnect, to another node) and waits for their
/// close frames as for `/ws`.
async fn pusher_connections_are_counted_and_closed_at_shutdown(backend: Backend) {
    let hub = spawn(backend).await;
    let mut native = hub.connect("").await;
    let mut pusher = Pusher::connect(&hub).await;
    let leaving = Pusher::connect(&hub).await;
    hub.wait_for_clients(3).await;
    assert_eq!(hub.get("/status").await.1["clients"], 3);
    drop(leaving);
    hub.wait_for_clients(2).await;

    hub.hub.shutdown();
    hub.hub.connections_closed(PATIENCE).await;
    assert_eq!(hub.hub.client_count(), 0);
    assert_eq!(pusher.close_code().await, Some(4200));
    assert_eq!(native.close_code().await, Some(1001));
}

#[tokio::test]
async fn without_an_app_the_pusher_paths_are_unknown() {
    let hub = spawn_hub().await;
    let (status, _) = hub.get("/app/app-key?protocol=7").await;
    assert_eq!(status, 404);
    let (status, _) = hub.get("/apps/7/channels").await;
    assert_eq!(status, 404);
}
