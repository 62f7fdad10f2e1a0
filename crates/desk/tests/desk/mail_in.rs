//! E-mail in: the real-world-shaped messages of `tests/mail/` (Gmail, Outlook, The Bat!,
//! Thunderbird, Apple Mail, Yandex; UTF-8, windows-1251, KOI8-R; base64,
//! quoted-printable, 8bit; auto-replies and bounces) taken by `Desk::receive_mail`.
//! Each sample is exercised here; `tests/mail/README.md` says what each one is.

use ictdesk_desk::{
    Error,
    mail::{MailInError, Received, UnknownSenders, inbound},
    tickets::{NewTicket, Ticket},
    users::User,
};

use crate::{both, helpers::TestDesk};

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/mail/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Ticket #1 of a fresh database, `by` its requester.
async fn first_ticket(t: &TestDesk, by: &User, title: &str) -> Ticket {
    let ticket = t
        .desk
        .create_ticket(
            by,
            &NewTicket {
                title: title.into(),
                description: "…".into(),
                ..NewTicket::default()
            },
        )
        .await
        .expect("filed");
    assert_eq!(ticket.id, 1, "the samples answer ticket #1");
    ticket
}

async fn receive(t: &TestDesk, name: &str) -> Received {
    t.desk
        .receive_mail(&sample(name), UnknownSenders::Reject)
        .await
        .unwrap_or_else(|error| panic!("{name} refused: {error}"))
}

async fn comments_of(t: &TestDesk, ticket: &Ticket, viewer: &User) -> Vec<String> {
    t.desk
        .ticket_page(viewer, ticket.id)
        .await
        .expect("the ticket")
        .comments
        .into_iter()
        .map(|comment| comment.body)
        .collect()
}

both!(
    a_plain_english_message_opens_a_ticket,
    |t: TestDesk| async move {
        let head = t.head().await;
        let Received::Ticket(ticket) = receive(&t, "new_ticket_plain_en.eml").await else {
            panic!("not a ticket");
        };
        t.one_event(head, "ticket_created").await;
        assert_eq!(ticket.title, "VPN disconnects every hour");
        assert_eq!(ticket.requester_id, t.other_requester.id);
        assert!(ticket.description.starts_with("Hello,\n\nsince Friday"));
        assert!(ticket.description.contains("NB-0042"));
        assert!(
            !ticket.description.contains("Accounting, room 214"),
            "the signature stays out: {}",
            ticket.description
        );
    }
);

both!(
    koi8_r_with_encoded_words_opens_a_russian_ticket,
    |t: TestDesk| async move {
        let Received::Ticket(ticket) = receive(&t, "new_ticket_koi8r.eml").await else {
            panic!("not a ticket");
        };
        assert_eq!(ticket.title, "Не работает почта");
        assert_eq!(ticket.requester_id, t.requester.id);
        assert!(
            ticket.description.contains("ошибка 0x800CCC0F"),
            "{}",
            ticket.description
        );
    }
);

both!(
    a_gmail_reply_in_utf8_becomes_a_comment_without_its_quote,
    |t: TestDesk| async move {
        let ticket = first_ticket(&t, &t.requester, "Принтер не печатает").await;
        let head = t.head().await;
        let Received::Comment(comment) = receive(&t, "reply_gmail_ru.eml").await else {
            panic!("not a comment");
        };
        t.one_event(head, "ticket_comment_created").await;
        assert_eq!(
            (comment.ticket_id, comment.author_id),
            (ticket.id, t.requester.id)
        );
        assert!(!comment.internal);
        assert_eq!(
            comment.body,
            "Спасибо, после перезагрузки принтер заработал.\n\nНо бумага всё ещё иногда застревает во втором лотке."
        );
        // Delivered again by a retrying MTA: taken once.
        assert!(matches!(
            receive(&t, "reply_gmail_ru.eml").await,
            Received::AlreadyReceived
        ));
        assert_eq!(comments_of(&t, &ticket, &t.agent).await.len(), 1);
    }
);

both!(
    an_outlook_html_reply_in_windows_1251_is_threaded_by_its_headers,
    |t: TestDesk| async move {
        let ticket = first_ticket(&t, &t.requester, "Принтер не печатает").await;
        let Received::Comment(comment) = receive(&t, "reply_outlook_html_cp1251.eml").await else {
            panic!("not a comment");
        };
        assert_eq!(comment.ticket_id, ticket.id);
        assert!(comment.body.contains("Добрый день!"), "{}", comment.body);
        assert!(
            comment
                .body
                .contains("Принтер снова не печатает, на экране ошибка E-04."),
            "{}",
            comment.body
        );
        assert!(
            !comment.body.contains("Перезагрузите"),
            "Outlook's history stays out: {}",
            comment.body
        );
    }
);

both!(
    thunderbird_and_apple_mail_replies_in_english,
    |t: TestDesk| async move {
        let ticket = first_ticket(&t, &t.other_requester, "VPN disconnects every hour").await;
        let Received::Comment(plain) = receive(&t, "reply_thunderbird_references_en.eml").await
        else {
            panic!("not a comment");
        };
        assert_eq!(
            plain.body,
            "It happened again at 16:00 — the client log I sent is still valid."
        );
        let Received::Comment(html) = receive(&t, "reply_apple_mail_html_en.eml").await else {
            panic!("not a comment");
        };
        assert_eq!(html.ticket_id, ticket.id);
        assert!(
            html.body.starts_with("Yes, the new cable fixed it."),
            "{}",
            html.body
        );
        assert!(html.body.contains("Thanks,"), "{}", html.body);
        assert!(!html.body.contains("has been resolved"), "{}", html.body);
    }
);

both!(
    auto_replies_bounces_and_bulk_mail_are_dropped,
    |t: TestDesk| async move {
        first_ticket(&t, &t.requester, "Принтер не печатает").await;
        let head = t.head().await;
        for name in [
            "autoreply_vacation_ru.eml",
            "bounce_dsn_en.eml",
            "bulk_newsletter_en.eml",
        ] {
            let received = receive(&t, name).await;
            assert!(
                matches!(received, Received::Dropped(_)),
                "{name}: {received:?}"
            );
        }
        t.no_event_since(head).await;
    }
);

both!(
    unknown_senders_are_refused_or_given_an_account,
    |t: TestDesk| async move {
        let raw = sample("new_ticket_unknown_sender_ru.eml");
        let refused = t.desk.receive_mail(&raw, UnknownSenders::Reject).await;
        assert!(
            matches!(&refused, Err(MailInError::UnknownSender(address)) if address == "olga.smirnova@example.ru"),
            "{refused:?}"
        );
        let Ok(Received::Ticket(ticket)) = t.desk.receive_mail(&raw, UnknownSenders::Create).await
        else {
            panic!("not a ticket");
        };
        assert_eq!(ticket.title, "Нужен доступ к папке бухгалтерии");
        assert_eq!(ticket.requester_name, "Ольга Смирнова");
        assert!(
            ticket.description.contains(r"\\fs01\buh"),
            "{}",
            ticket.description
        );
        let olga = t
            .desk
            .find_user_by_email("olga.smirnova@example.ru")
            .await
            .expect("read")
            .expect("an account");
        assert_eq!(olga.role.as_str(), "requester");
        assert_eq!(olga.locale.as_str(), "ru");
    }
);

both!(
    a_reply_to_someone_elses_ticket_is_refused,
    |t: TestDesk| async move {
        // Ticket #1 is John's; Maria answers "[#1]".
        first_ticket(&t, &t.other_requester, "VPN").await;
        let refused = t
            .desk
            .receive_mail(&sample("reply_gmail_ru.eml"), UnknownSenders::Reject)
            .await;
        assert!(
            matches!(
                &refused,
                Err(MailInError::TicketRefused {
                    ticket: 1,
                    reason: Error::NotFound(_),
                    ..
                })
            ),
            "{refused:?}"
        );
        assert!(refused.is_err_and(|error| !error.is_temporary()));
    }
);

both!(
    a_messages_files_become_the_tickets_attachments,
    |t: TestDesk| async move {
        let raw = sample("new_ticket_with_attachments_en.eml");
        let Received::Ticket(ticket) = receive(&t, "new_ticket_with_attachments_en.eml").await
        else {
            panic!("not a ticket");
        };
        let john = &t.other_requester;
        let page = t
            .desk
            .ticket_page(john, ticket.id)
            .await
            .expect("the ticket");
        let files: Vec<(&str, &str, i64)> = page
            .attachments
            .iter()
            .map(|file| (file.name.as_str(), file.content_type.as_str(), file.size))
            .collect();
        assert_eq!(
            files,
            [
                ("screen.png", "image/png", 70),
                ("отчёт драйвера.pdf", "application/pdf", 125)
            ]
        );
        assert!(
            page.attachments
                .iter()
                .all(|file| file.uploader_id == john.id)
        );
        let parsed = inbound::parse(&raw).expect("parsed");
        for (attachment, sent) in page.attachments.iter().zip(&parsed.files) {
            let (_, bytes) = t
                .desk
                .read_attachment(&t.agent, attachment.id)
                .await
                .expect("staff read the file");
            assert_eq!(bytes.as_ref(), sent.bytes.as_slice(), "{}", attachment.name);
            let other = t.desk.read_attachment(&t.requester, attachment.id).await;
            assert!(
                matches!(other, Err(Error::NotFound(_))),
                "another requester reads {}: {other:?}",
                attachment.name
            );
        }

        // The MTA delivers it again: taken once, files included.
        let again = t.desk.receive_mail(&raw, UnknownSenders::Reject).await;
        assert!(matches!(again, Ok(Received::AlreadyReceived)), "{again:?}");
        let page = t
            .desk
            .ticket_page(john, ticket.id)
            .await
            .expect("the ticket");
        assert_eq!(page.attachments.len(), 2);
    }
);

both!(garbage_is_refused_as_unreadable, |t: TestDesk| async move {
    let refused = t
        .desk
        .receive_mail(&sample("not_a_message.eml"), UnknownSenders::Create)
        .await;
    assert!(
        matches!(refused, Err(MailInError::Unreadable(_))),
        "{refused:?}"
    );
});

#[test]
fn attachments_are_read_with_their_names() {
    let mail = inbound::parse(&sample("new_ticket_with_attachments_en.eml")).expect("parsed");
    assert_eq!(mail.subject, "Screen flickers after the update");
    assert!(
        mail.body.starts_with("The screen flickers"),
        "{}",
        mail.body
    );
    let files: Vec<(&str, &str, usize)> = mail
        .files
        .iter()
        .map(|file| {
            (
                file.name.as_str(),
                file.content_type.as_str(),
                file.bytes.len(),
            )
        })
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    assert_eq!(files[0].0, "screen.png");
    assert_eq!(files[0].1, "image/png");
    assert!(mail.files[0].bytes.starts_with(b"\x89PNG"));
    assert_eq!(files[1].0, "отчёт драйвера.pdf");
    assert_eq!(files[1].1, "application/pdf");
    assert!(mail.files[1].bytes.starts_with(b"%PDF-1.4"));
}

#[test]
fn every_sample_is_exercised() {
    let dir = format!("{}/tests/mail", env!("CARGO_MANIFEST_DIR"));
    let this = include_str!("mail_in.rs");
    for entry in std::fs::read_dir(&dir).expect("the samples") {
        let name = entry
            .expect("an entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".eml") {
            assert!(
                this.contains(&format!("\"{name}\"")),
                "{name} is not exercised"
            );
        }
    }
}
