//! Pages, fragments and JSON are compressed as the client asks (brotli or gzip); the
//! hub's long poll is not, so that a delivery never waits for an encoder.

use reqwest::Method;

use crate::helpers::{Client, TestApp, spawn_app};

/// The answer's `Content-Encoding` (if any) and the size of its body on the wire.
async fn fetch(
    app: &TestApp,
    client: &Client,
    path: &str,
    accept: &str,
) -> (Option<String>, usize) {
    let response = app
        .request(client, Method::GET, path)
        .header("accept-encoding", accept)
        .send()
        .await
        .expect("an HTTP answer");
    assert_eq!(response.status().as_u16(), 200, "GET {path}");
    let encoding = response
        .headers()
        .get("content-encoding")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    (encoding, response.bytes().await.expect("a body").len())
}

#[tokio::test]
async fn pages_fragments_and_json_are_compressed_and_the_long_poll_is_not() {
    let app = spawn_app().await;
    let agent = app.login_as(&app.agent).await;
    for n in 0..30 {
        app.create_ticket(&agent, &format!("Принтер не печатает, кабинет {n}"))
            .await;
    }
    for path in ["/tickets", "/tickets/rows", "/api/v1/tickets?per_page=30"] {
        let (plain_encoding, plain) = fetch(&app, &agent, path, "identity").await;
        assert_eq!(plain_encoding, None, "{path}");
        for (accept, expected) in [("br", "br"), ("gzip", "gzip"), ("gzip, br", "br")] {
            let (encoding, size) = fetch(&app, &agent, path, accept).await;
            assert_eq!(encoding.as_deref(), Some(expected), "{path} for {accept}");
            assert!(
                size * 3 < plain,
                "{path} in {expected}: {size} of {plain} bytes"
            );
        }
    }
    let head = app.log_head().await;
    let (encoding, _) = fetch(
        &app,
        &agent,
        &format!("/messages?since={}&wait=1", head - 1),
        "gzip, br",
    )
    .await;
    assert_eq!(encoding, None, "the long poll answers uncompressed");
}
