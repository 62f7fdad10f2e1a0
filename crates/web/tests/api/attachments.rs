//! Attachments over HTTP (issue 11 point 1): upload by multipart, download served
//! safely, who may see and delete, the limits and the errors that name their field.

use reqwest::{
    Method,
    multipart::{Form, Part},
};
use serde_json::{Value, json};

use crate::helpers::{Client, Reply, TestApp, spawn_app, spawn_app_with, web_config};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

fn file(name: &str, content_type: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec())
        .file_name(name.to_owned())
        .mime_str(content_type)
        .expect("a media type")
}

pub async fn upload(app: &TestApp, client: &Client, path: &str, form: Form) -> Reply {
    let response = app
        .request(client, Method::POST, path)
        .multipart(form)
        .send()
        .await
        .expect("an HTTP answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Reply {
        status,
        body,
        headers,
    }
}

/// A download: status, headers, bytes.
pub async fn download(
    app: &TestApp,
    client: &Client,
    id: &Value,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let response = app
        .request(client, Method::GET, &format!("/api/v1/attachments/{id}"))
        .send()
        .await
        .expect("an HTTP answer");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body").to_vec();
    (status, headers, bytes)
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Everything but the size limit, on one app (both databases run it).
pub async fn check_attachments(app: &TestApp) {
    let owner = app.login_as(&app.owner).await;
    let other = app.login_as(&app.other).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "Принтер мнёт бумагу").await;
    let files = format!("/api/v1/tickets/{}/attachments", ticket["id"]);

    let form = Form::new().part(
        "file",
        file("Журнал печати.log", "text/plain", b"jam at tray 2"),
    );
    let reply = upload(app, &owner, &files, form).await.expect(201);
    let log = reply.body["attachment"].clone();
    assert_eq!(log["name"], "Журнал печати.log");
    assert_eq!(log["size"], 13);
    assert_eq!(log["content_type"], "text/plain");
    assert_eq!(log["sha256"].as_str().map(str::len), Some(64));
    assert!(log["created_at"].is_string() && log["id"].is_i64());

    let (status, headers, bytes) = download(app, &owner, &log["id"]).await;
    assert_eq!(
        (status, bytes.as_slice()),
        (200, b"jam at tray 2".as_slice())
    );
    assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(&headers, "content-type"), "text/plain");
    assert_eq!(
        header(&headers, "content-disposition"),
        "attachment; filename=\"______ ______.log\"; \
         filename*=UTF-8''%D0%96%D1%83%D1%80%D0%BD%D0%B0%D0%BB%20%D0%BF%D0%B5%D1%87%D0%B0%D1%82%D0%B8.log"
    );
    assert!(header(&headers, "content-security-policy").contains("sandbox"));
    let etag = header(&headers, "etag").to_owned();
    let again = app
        .request(
            &owner,
            Method::GET,
            &format!("/api/v1/attachments/{}", log["id"]),
        )
        .header("If-None-Match", etag)
        .send()
        .await
        .expect("an answer");
    assert_eq!(again.status().as_u16(), 304);

    // A screenshot shows inline; a page or a drawing never does.
    let form = Form::new()
        .part("file", file("screen.png", "image/png", PNG))
        .part(
            "file",
            file("page.html", "text/html", b"<script>alert(1)</script>"),
        )
        .part(
            "file",
            file("logo.svg", "image/svg+xml", b"<svg onload='alert(1)'/>"),
        );
    let reply = upload(app, &owner, &files, form).await.expect(201);
    let [png, html, svg] = [0, 1, 2].map(|i| reply.body["attachments"][i].clone());
    let (_, headers, _) = download(app, &owner, &png["id"]).await;
    assert_eq!(header(&headers, "content-type"), "image/png");
    assert!(header(&headers, "content-disposition").starts_with("inline;"));
    for unsafe_file in [&html, &svg] {
        let (_, headers, _) = download(app, &owner, &unsafe_file["id"]).await;
        assert!(
            header(&headers, "content-disposition").starts_with("attachment;"),
            "{unsafe_file}"
        );
        assert_eq!(header(&headers, "x-content-type-options"), "nosniff");
    }

    // The ticket lists its files; nobody else learns they exist.
    let seen = app
        .get(&owner, &format!("/api/v1/tickets/{}", ticket["id"]))
        .await
        .expect(200);
    assert_eq!(seen.body["attachments"].as_array().map(Vec::len), Some(4));
    assert_eq!(download(app, &other, &log["id"]).await.0, 404);
    assert_eq!(download(app, &other, &json!(999_999)).await.0, 404);
    assert_eq!(download(app, &Client::default(), &log["id"]).await.0, 401);
    let form = Form::new().part("file", file("x.txt", "text/plain", b"x"));
    upload(app, &other, &files, form).await.expect(404);
    let path = format!("/api/v1/attachments/{}", log["id"]);
    app.send(&other, Method::DELETE, &path, None)
        .await
        .expect(404);
    app.send(&owner.without_csrf(), Method::DELETE, &path, None)
        .await
        .expect(403);

    check_internal_notes(app, &owner, &agent, &ticket).await;
    check_refusals(app, &owner, &files).await;

    app.send(&owner, Method::DELETE, &path, None)
        .await
        .expect(204);
    assert_eq!(download(app, &owner, &log["id"]).await.0, 404);
}

/// A note with a file in the same multipart request: the requester never sees either.
async fn check_internal_notes(app: &TestApp, owner: &Client, agent: &Client, ticket: &Value) {
    let comments = format!("/api/v1/tickets/{}/comments", ticket["id"]);
    let form = Form::new()
        .text("body", "Пароль от роутера во вложении")
        .text("internal", "true")
        .part("file", file("router.txt", "text/plain", b"admin:admin"));
    let note = upload(app, agent, &comments, form).await.expect(201);
    assert_eq!(note.body["internal"], true);
    let secret = note.body["attachments"][0].clone();
    assert_eq!(secret["name"], "router.txt");
    assert_eq!(download(app, owner, &secret["id"]).await.0, 404);
    assert_eq!(download(app, agent, &secret["id"]).await.0, 200);
    let ticket_path = format!("/api/v1/tickets/{}", ticket["id"]);
    let seen = app.get(owner, &ticket_path).await.expect(200);
    assert!(
        !seen.body.to_string().contains("router.txt"),
        "{}",
        seen.body
    );
    let seen = app.get(agent, &ticket_path).await.expect(200);
    let notes = seen.body["comments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(notes[0]["attachments"][0]["id"], secret["id"]);

    // A public comment with a file: the requester's own.
    let form = Form::new()
        .text("body", "Фото ошибки")
        .part("file", file("error.png", "image/png", PNG));
    let comment = upload(app, owner, &comments, form).await.expect(201);
    assert_eq!(comment.body["attachments"][0]["content_type"], "image/png");
}

async fn check_refusals(app: &TestApp, owner: &Client, files: &str) {
    let form = Form::new().part("file", file("empty.txt", "text/plain", b""));
    let reply = upload(app, owner, files, form).await.expect(422);
    assert_eq!(reply.body["fields"]["file"], "is empty");
    let reply = upload(app, owner, files, Form::new().text("comment_id", ""))
        .await
        .expect(422);
    assert_eq!(reply.body["fields"]["file"], "is required");
    let form = Form::new()
        .text("comment", "typo")
        .part("file", file("a.txt", "text/plain", b"a"));
    let reply = upload(app, owner, files, form).await.expect(422);
    assert!(
        reply.body["fields"]["comment"].is_string(),
        "{}",
        reply.body
    );
    let form = Form::new()
        .text("comment_id", "abc")
        .part("file", file("a.txt", "text/plain", b"a"));
    let reply = upload(app, owner, files, form).await.expect(422);
    assert!(
        reply.body["fields"]["comment_id"].is_string(),
        "{}",
        reply.body
    );
    let form = Form::new()
        .text("comment_id", "999999")
        .part("file", file("a.txt", "text/plain", b"a"));
    upload(app, owner, files, form).await.expect(404);
    // Not multipart at all.
    app.post(owner, files, json!({"file": "x"}))
        .await
        .expect(400);
}

#[tokio::test]
async fn attachments_are_stored_served_safely_and_kept_from_who_may_not_see_them() {
    check_attachments(&spawn_app().await).await;
}

#[tokio::test]
async fn an_upload_over_the_limit_is_refused_with_413() {
    let mut config = web_config();
    config.desk.files.max_upload_size = 1024;
    let app = spawn_app_with(crate::helpers::Backend::Sqlite, config).await;
    let owner = app.login_as(&app.owner).await;
    let ticket = app.create_ticket(&owner, "Большой файл").await;
    let files = format!("/api/v1/tickets/{}/attachments", ticket["id"]);
    let form = Form::new().part(
        "file",
        file("fits.bin", "application/octet-stream", &[7; 1024]),
    );
    upload(&app, &owner, &files, form).await.expect(201);
    let form = Form::new().part(
        "file",
        file("big.bin", "application/octet-stream", &[7; 1025]),
    );
    let reply = upload(&app, &owner, &files, form).await.expect(413);
    assert!(
        reply.body["error"]
            .as_str()
            .is_some_and(|e| e.contains("1024")),
        "{}",
        reply.body
    );
    // Far over: refused while reading, still in our shape.
    let form = Form::new().part(
        "file",
        file("huge.bin", "application/octet-stream", &[7; 200_000]),
    );
    let reply = upload(&app, &owner, &files, form).await.expect(413);
    assert!(reply.body["error"].is_string(), "{}", reply.body);
}

#[tokio::test]
async fn the_ticket_page_shows_thumbnails_and_links_to_what_the_viewer_may_see() {
    let app = spawn_app().await;
    let owner = app.login_as(&app.owner).await;
    let agent = app.login_as(&app.agent).await;
    let ticket = app.create_ticket(&owner, "Ошибка на экране").await;
    let files = format!("/api/v1/tickets/{}/attachments", ticket["id"]);
    let form = Form::new()
        .part("file", file("screen.png", "image/png", PNG))
        .part("file", file("dxdiag.txt", "text/plain", b"DirectX"));
    let reply = upload(&app, &owner, &files, form).await.expect(201);
    let png = &reply.body["attachments"][0]["id"];
    let form = Form::new()
        .text("body", "Драйвер")
        .text("internal", "true")
        .part("file", file("driver-key.txt", "text/plain", b"KEY"));
    upload(
        &app,
        &agent,
        &format!("/api/v1/tickets/{}/comments", ticket["id"]),
        form,
    )
    .await
    .expect(201);
    let page = app
        .get_html(&owner, &format!("/tickets/{}", ticket["id"]))
        .await;
    assert!(page.contains(&format!(
        "<img class=\"thumb\" src=\"/api/v1/attachments/{png}\""
    )));
    assert!(page.contains("dxdiag.txt"));
    assert!(!page.contains("driver-key.txt"), "an internal note's file");
    let page = app
        .get_html(&agent, &format!("/tickets/{}", ticket["id"]))
        .await;
    assert!(page.contains("driver-key.txt"));
}
