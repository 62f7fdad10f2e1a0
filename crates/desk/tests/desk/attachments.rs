//! Attachments (issue 11 point 1): stored bytes, records in the change's transaction,
//! who may see them, and the sweep of bytes nobody records.

use std::time::Duration;

use bytes::Bytes;
use ictdesk_desk::{
    attachments::{Target, Upload},
    comments::NewComment,
    tickets::NewTicket,
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_forbidden, assert_not_found},
};

fn upload(name: &str, bytes: &'static [u8]) -> Upload {
    Upload {
        name: name.into(),
        content_type: Some("text/plain".into()),
        bytes: Bytes::from_static(bytes),
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

both!(
    a_file_on_a_ticket_is_recorded_with_its_event,
    |t: TestDesk| async move {
        let desk = &t.desk;
        let ticket = t.filed("Принтер").await;
        let stored = desk
            .store_file(upload("../журнал.log", b"paper jam"))
            .await
            .expect("stored");
        let on_ticket = Target::Ticket {
            id: ticket.id,
            comment_id: None,
        };
        let head = t.head().await;
        let files = desk
            .attach(&t.requester, on_ticket, &[stored])
            .await
            .expect("attached");
        let event = t.one_event(head, "ticket_updated").await;
        assert_eq!(event.data["attachments"][0]["name"], "журнал.log");
        assert_eq!(event.data["changes"][0]["field"], "attachment");
        assert!(event.reaches(&t.requester) && event.reaches(&t.agent));
        assert!(!event.reaches(&t.other_requester));

        let file = &files[0];
        assert_eq!((file.name.as_str(), file.size), ("журнал.log", 9));
        assert_eq!(file.content_type, "text/plain");
        let (_, bytes) = desk
            .read_attachment(&t.agent, file.id)
            .await
            .expect("readable");
        assert_eq!(bytes, Bytes::from_static(b"paper jam"));
        assert_not_found(desk.read_attachment(&t.other_requester, file.id).await);
        let page = desk
            .ticket_page(&t.requester, ticket.id)
            .await
            .expect("page");
        assert_eq!(page.attachments, files);
    }
);

both!(
    an_internal_notes_files_reach_staff_only,
    |t: TestDesk| async move {
        let desk = &t.desk;
        let ticket = t.filed("VPN").await;
        let note = NewComment {
            body: "Пароль роутера в файле".into(),
            internal: true,
            files: vec![
                desk.store_file(upload("router.txt", b"admin:admin"))
                    .await
                    .expect("stored"),
            ],
        };
        let head = t.head().await;
        let comment = desk
            .add_comment(&t.agent, ticket.id, &note)
            .await
            .expect("note");
        let event = t.one_event(head, "ticket_comment_created").await;
        assert_eq!(
            event.data["comment"]["attachments"][0]["name"],
            "router.txt"
        );
        assert!(!event.reaches(&t.requester));
        let file = comment.attachments[0].clone();
        assert_not_found(desk.get_attachment(&t.requester, file.id).await);
        let seen = desk
            .ticket_page(&t.requester, ticket.id)
            .await
            .expect("page");
        assert!(seen.attachments.is_empty() && seen.comments.is_empty());
        let seen = desk.ticket_page(&t.agent, ticket.id).await.expect("page");
        assert_eq!(seen.comments[0].attachments, vec![file.clone()]);

        // Adding to the note later: the event is the note's audience too.
        let more = desk
            .store_file(upload("more.txt", b"more"))
            .await
            .expect("stored");
        let on_note = Target::Ticket {
            id: ticket.id,
            comment_id: Some(comment.id),
        };
        let head = t.head().await;
        desk.attach(&t.agent, on_note, std::slice::from_ref(&more))
            .await
            .expect("attached");
        assert!(
            !t.one_event(head, "ticket_updated")
                .await
                .reaches(&t.requester)
        );
        // The requester cannot even tell the note exists.
        assert_not_found(desk.attach(&t.requester, on_note, &[more]).await);
    }
);

both!(who_may_attach_and_delete, |t: TestDesk| async move {
    let desk = &t.desk;
    let ticket = t.filed("Мышь").await;
    let on_ticket = Target::Ticket {
        id: ticket.id,
        comment_id: None,
    };
    let stored = desk
        .store_file(upload("a.txt", b"a"))
        .await
        .expect("stored");
    let head = t.head().await;
    assert_not_found(
        desk.attach(&t.other_requester, on_ticket, std::slice::from_ref(&stored))
            .await,
    );
    t.no_event_since(head).await;
    assert_field_error(desk.attach(&t.requester, on_ticket, &[]).await, "file");
    let agents = desk
        .attach(&t.agent, on_ticket, std::slice::from_ref(&stored))
        .await
        .expect("agent's");
    let own = desk
        .attach(&t.requester, on_ticket, &[stored])
        .await
        .expect("requester's");
    assert_eq!(
        agents[0].sha256, own[0].sha256,
        "the same bytes, stored once"
    );

    assert_forbidden(desk.delete_attachment(&t.requester, agents[0].id).await);
    assert_not_found(desk.delete_attachment(&t.other_requester, own[0].id).await);
    let head = t.head().await;
    desk.delete_attachment(&t.requester, own[0].id)
        .await
        .expect("deleted");
    t.one_event(head, "ticket_updated").await;
    assert_not_found(desk.get_attachment(&t.agent, own[0].id).await);
    desk.get_attachment(&t.requester, agents[0].id)
        .await
        .expect("the agent's file stays");

    assert_field_error(desk.store_file(upload("empty.txt", b"")).await, "file");
});

both!(images_are_typed_by_their_bytes, |t: TestDesk| async move {
    let desk = &t.desk;
    let png = Upload {
        name: "shot.png".into(),
        content_type: None,
        bytes: Bytes::from_static(PNG),
    };
    let stored = desk.store_file(png).await.expect("stored");
    let ticket = desk
        .create_ticket(
            &t.requester,
            &NewTicket {
                title: "Скриншот".into(),
                files: vec![stored],
                ..NewTicket::default()
            },
        )
        .await
        .expect("ticket with a file");
    let page = desk
        .ticket_page(&t.requester, ticket.id)
        .await
        .expect("page");
    assert!(page.attachments[0].is_image());
    let fake = Upload {
        name: "x.png".into(),
        content_type: Some("image/png".into()),
        bytes: Bytes::from_static(b"<svg onload=alert(1)>"),
    };
    let fake = desk.store_file(fake).await.expect("stored");
    let on_ticket = Target::Ticket {
        id: ticket.id,
        comment_id: None,
    };
    let files = desk
        .attach(&t.requester, on_ticket, &[fake])
        .await
        .expect("attached");
    assert_eq!(files[0].content_type, "application/octet-stream");
    assert!(!files[0].is_image());
});

both!(bytes_nobody_records_are_swept, |t: TestDesk| async move {
    let desk = &t.desk;
    let ticket = t.filed("Диск").await;
    let on_ticket = Target::Ticket {
        id: ticket.id,
        comment_id: None,
    };
    let kept = desk
        .store_file(upload("kept.txt", b"kept"))
        .await
        .expect("stored");
    let kept = desk
        .attach(&t.requester, on_ticket, &[kept])
        .await
        .expect("attached");
    let deleted = desk
        .store_file(upload("deleted.txt", b"deleted"))
        .await
        .expect("stored");
    let deleted = desk
        .attach(&t.requester, on_ticket, &[deleted])
        .await
        .expect("attached");
    desk.delete_attachment(&t.requester, deleted[0].id)
        .await
        .expect("deleted");
    desk.store_file(upload("never.txt", b"never recorded"))
        .await
        .expect("stored");

    assert_eq!(
        desk.sweep_orphan_files(Duration::from_secs(3600))
            .await
            .expect("sweep"),
        0
    );
    assert_eq!(
        desk.sweep_orphan_files(Duration::ZERO)
            .await
            .expect("sweep"),
        2
    );
    desk.read_attachment(&t.requester, kept[0].id)
        .await
        .expect("recorded bytes stay");

    // Bytes swept between storing and recording are written again when recorded.
    let late = desk
        .store_file(upload("late.txt", b"late"))
        .await
        .expect("stored");
    desk.sweep_orphan_files(Duration::ZERO)
        .await
        .expect("sweep");
    let late = desk
        .attach(&t.requester, on_ticket, &[late])
        .await
        .expect("attached");
    let (_, bytes) = desk
        .read_attachment(&t.requester, late[0].id)
        .await
        .expect("readable");
    assert_eq!(bytes, Bytes::from_static(b"late"));
});
