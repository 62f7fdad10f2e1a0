//! Durability and shutdown of the real process.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::Message;

use crate::process::{PATIENCE, publish, start_hub};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_event_survives_kill_9() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let db = dir.path().join("durable.db");
    let mut server = start_hub(dir.path(), &db).await;
    let http = reqwest::Client::new();
    let url = server.url("/broadcast");

    // Four publishers run flat out; the server is killed in the middle of it.
    let mut publishers = Vec::new();
    for publisher in 0..4 {
        let http = http.clone();
        let url = url.clone();
        publishers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..10_000 {
                match publish(&http, &url, publisher * 10_000 + n).await {
                    Some(id) => acknowledged.push(id),
                    None => break,
                }
            }
            acknowledged
        }));
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let status: serde_json::Value = http
            .get(server.url("/status"))
            .send()
            .await
            .expect("status")
            .json()
            .await
            .expect("JSON");
        if status["last_id"].as_i64() >= Some(100) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "publishing never got going"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    server.kill_hard().await;
    let mut acknowledged = BTreeSet::new();
    for publisher in publishers {
        acknowledged.extend(publisher.await.expect("publisher"));
    }
    assert!(acknowledged.len() >= 100);
    eprintln!("{} events acknowledged before kill -9", acknowledged.len());

    let restarted = start_hub(dir.path(), &db).await;
    let mut stored = Vec::new();
    let mut since = 0;
    loop {
        let page: serde_json::Value = http
            .get(restarted.url(&format!("/messages?since={since}&limit=1000")))
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("JSON");
        for message in page["messages"].as_array().expect("messages") {
            stored.push(message["id"].as_i64().expect("id"));
        }
        since = page["last_id"].as_i64().expect("last_id");
        if page["has_more"] == false {
            break;
        }
    }
    assert!(
        stored.windows(2).all(|pair| pair[0] < pair[1]),
        "ids in order, once each"
    );
    let stored: BTreeSet<i64> = stored.into_iter().collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost after kill -9: {lost:?}"
    );
}

#[tokio::test]
async fn sigterm_closes_websockets_with_1001_and_exits_cleanly() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let mut server = start_hub(dir.path(), &dir.path().join("term.db")).await;
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
        .await
        .expect("connect");
    let welcome = socket.next().await;
    assert!(matches!(welcome, Some(Ok(Message::Text(_)))));
    server.terminate();
    let code = loop {
        match tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Close(frame))) => break frame.map(|frame| u16::from(frame.code)),
            Some(Ok(_)) => continue,
            _ => break None,
        }
    };
    assert_eq!(code, Some(1001));
    let status = tokio::time::timeout(PATIENCE, server.child.wait())
        .await
        .expect("exits in time")
        .expect("exit status");
    assert!(status.success(), "{status}");
}
