//! E-mail out: which changes write which mails into the outbox, in the change's
//! transaction — content, language, threading, preferences — and the outbox's claims.

use std::{collections::BTreeMap, time::Duration};

use ictdesk_desk::{
    DeskOptions,
    comments::NewComment,
    mail::{MailKind, MailSettings, OutboxMail, Smtp, delivery::Delivery},
    tickets::{NewTicket, Ticket, TicketChange},
    users::{User, UserChange},
};
use mail_parser::MessageParser;

use crate::helpers::{TestDesk, assert_field_error, on_postgres_with, on_sqlite_with};

/// The desk as the tests here see it: e-mail on (nothing is sent: no sender runs).
fn with_mail() -> DeskOptions {
    let smtp = Smtp::new("smtp://127.0.0.1:9", None, Duration::from_secs(5)).expect("a URL");
    let from = "Служба ИТ <desk@desk.test>".parse().expect("a mailbox");
    DeskOptions {
        mail: Some(MailSettings::new(from, "https://desk.test/", smtp)),
        ..DeskOptions::default()
    }
}

/// `mail_test!(name, |t| async move { … })`: on SQLite and PostgreSQL, e-mail on.
macro_rules! mail_test {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sqlite() {
                on_sqlite_with(with_mail(), $body).await;
            }

            #[tokio::test]
            async fn postgres() {
                on_postgres_with(with_mail(), $body).await;
            }
        }
    };
}

async fn outbox(t: &TestDesk) -> Vec<OutboxMail> {
    t.desk
        .storage()
        .mail_outbox(0, 1000)
        .await
        .expect("the outbox reads")
}

/// The mails written since the outbox had `before` of them.
async fn new_mails(t: &TestDesk, before: usize) -> Vec<OutboxMail> {
    outbox(t).await.split_off(before)
}

/// What a recipient's mail program shows of a mail.
struct Read {
    subject: String,
    text: String,
    html: String,
    message_id: String,
    in_reply_to: Option<String>,
    references: Vec<String>,
    auto_submitted: Option<String>,
}

fn read(mail: &OutboxMail) -> Read {
    let message = MessageParser::default()
        .parse(mail.message.as_bytes())
        .expect("a message");
    let ids = |value: &mail_parser::HeaderValue| match value {
        mail_parser::HeaderValue::Text(id) => vec![id.to_string()],
        mail_parser::HeaderValue::TextList(ids) => ids.iter().map(|id| id.to_string()).collect(),
        _ => Vec::new(),
    };
    assert!(
        mail.message.is_ascii(),
        "everything is encoded: {}",
        mail.message
    );
    Read {
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        message_id: format!("<{}>", message.message_id().unwrap_or_default()),
        in_reply_to: ids(message.in_reply_to())
            .first()
            .map(|id| format!("<{id}>")),
        references: ids(message.references())
            .iter()
            .map(|id| format!("<{id}>"))
            .collect(),
        auto_submitted: message
            .header_raw("Auto-Submitted")
            .map(|v| v.trim().to_owned()),
    }
}

fn printer() -> NewTicket {
    NewTicket {
        title: "Принтер не печатает".into(),
        description: "Принтер на 3 этаже жуёт бумагу".into(),
        ..NewTicket::default()
    }
}

async fn filed_by(t: &TestDesk, requester: &User) -> Ticket {
    t.desk
        .create_ticket(requester, &printer())
        .await
        .expect("filed")
}

async fn comment(t: &TestDesk, author: &User, ticket: &Ticket, body: &str, internal: bool) {
    t.desk
        .add_comment(
            author,
            ticket.id,
            &NewComment {
                body: body.into(),
                internal,
                ..NewComment::default()
            },
        )
        .await
        .expect("commented");
}

async fn change(t: &TestDesk, actor: &User, ticket: &Ticket, change: TicketChange) {
    t.desk
        .change_ticket(actor, ticket.id, &change)
        .await
        .expect("changed");
}

fn assign(to: &User) -> TicketChange {
    TicketChange {
        assignee_id: Some(Some(to.id)),
        ..TicketChange::default()
    }
}

async fn speaks_english(t: &TestDesk, user: &User) {
    let change = UserChange {
        locale: Some("en".into()),
        ..UserChange::default()
    };
    t.desk
        .change_user_by_system(user.id, &change)
        .await
        .expect("locale changed");
}

mail_test!(
    the_requester_hears_of_creation_replies_and_resolution_and_the_assignee_of_the_rest,
    |t: TestDesk| async move {
        let ticket = filed_by(&t, &t.requester).await;
        let created = outbox(&t).await;
        assert_eq!(created.len(), 1, "{created:?}");
        assert_eq!(created[0].kind, MailKind::TicketCreated);
        assert_eq!(created[0].to_address, t.requester.email);
        assert_eq!(created[0].ticket_id, Some(ticket.id));
        let confirmation = read(&created[0]);
        assert_eq!(
            confirmation.subject,
            format!(
                "[#{}] Заявка зарегистрирована: Принтер не печатает",
                ticket.id
            )
        );
        assert!(
            confirmation
                .text
                .contains(&format!("https://desk.test/tickets/{}", ticket.id)),
            "{}",
            confirmation.text
        );
        assert!(confirmation.text.contains("Здравствуйте, Мария Петрова!"));
        assert!(confirmation.text.contains("жуёт бумагу"));
        assert!(
            confirmation.html.contains("Открыть заявку"),
            "{}",
            confirmation.html
        );
        assert_eq!(
            confirmation.auto_submitted.as_deref(),
            Some("auto-generated")
        );
        assert_eq!(confirmation.in_reply_to, None);

        // The admin assigns the agent: the agent hears of it; assigning oneself is news
        // to nobody.
        change(&t, &t.admin, &ticket, assign(&t.agent)).await;
        let assigned = new_mails(&t, 1).await;
        assert_eq!(assigned.len(), 1, "{assigned:?}");
        assert_eq!(
            (assigned[0].kind, assigned[0].to_address.as_str()),
            (MailKind::TicketAssigned, t.agent.email.as_str())
        );
        let assignment = read(&assigned[0]);
        assert!(
            assignment
                .text
                .contains("Анна Админова назначил(а) вам заявку")
        );
        assert!(assignment.text.contains("Заявитель: Мария Петрова"));

        // An internal note tells nobody; a public one tells the requester, in the thread.
        comment(&t, &t.agent, &ticket, "Проверил картридж", true).await;
        assert!(new_mails(&t, 2).await.is_empty());
        comment(
            &t,
            &t.agent,
            &ticket,
            "Перезагрузите принтер, пожалуйста.",
            false,
        )
        .await;
        let replied = new_mails(&t, 2).await;
        assert_eq!(replied.len(), 1, "{replied:?}");
        assert_eq!(replied[0].kind, MailKind::StaffReply);
        let reply = read(&replied[0]);
        assert!(
            reply
                .text
                .contains("Иван Техников ответил(а) по вашей заявке")
        );
        assert!(reply.text.contains("Перезагрузите принтер, пожалуйста."));
        assert!(!reply.text.contains("картридж"), "the internal note leaked");
        assert_eq!(
            reply.in_reply_to.as_deref(),
            Some(confirmation.message_id.as_str())
        );
        assert_eq!(
            reply.references,
            std::slice::from_ref(&confirmation.message_id)
        );

        // The requester answers: the assignee hears.
        comment(&t, &t.requester, &ticket, "Не помогло.", false).await;
        let answered = new_mails(&t, 3).await;
        assert_eq!(answered.len(), 1, "{answered:?}");
        assert_eq!(
            (answered[0].kind, answered[0].to_address.as_str()),
            (MailKind::RequesterReply, t.agent.email.as_str())
        );
        assert_eq!(
            read(&answered[0]).in_reply_to.as_deref(),
            Some(assignment.message_id.as_str())
        );

        // Resolved: the requester hears, with the resolution, third in their thread.
        let resolve = TicketChange {
            status: Some("resolved".into()),
            resolution: Some("Заменён фьюзер".into()),
            ..TicketChange::default()
        };
        change(&t, &t.agent, &ticket, resolve).await;
        let resolved = new_mails(&t, 4).await;
        assert_eq!(resolved.len(), 1, "{resolved:?}");
        assert_eq!(resolved[0].kind, MailKind::TicketResolved);
        let resolution = read(&resolved[0]);
        assert!(
            resolution
                .subject
                .starts_with(&format!("[#{}] Заявка решена", ticket.id))
        );
        assert!(resolution.text.contains("Заменён фьюзер"));
        assert_eq!(
            resolution.references,
            [confirmation.message_id, reply.message_id.clone()]
        );
        assert_eq!(resolution.in_reply_to, Some(reply.message_id));
    }
);

mail_test!(
    mail_speaks_the_recipients_language,
    |t: TestDesk| async move {
        speaks_english(&t, &t.other_requester).await;
        let ticket = filed_by(&t, &t.other_requester).await;
        let mails = outbox(&t).await;
        let mail = read(&mails[0]);
        assert_eq!(
            mail.subject,
            format!("[#{}] Ticket received: Принтер не печатает", ticket.id)
        );
        assert!(mail.text.starts_with("Hello John Smith,"), "{}", mail.text);
        assert!(mail.html.contains("lang=\"en\""), "{}", mail.html);
        assert!(mail.html.contains(&format!("Open ticket #{}", ticket.id)));
    }
);

mail_test!(
    what_a_mail_quotes_is_escaped_in_its_html,
    |t: TestDesk| async move {
        let ticket = filed_by(&t, &t.requester).await;
        let attack = "<script>alert(1)</script> & <b>bold</b>";
        comment(&t, &t.agent, &ticket, attack, false).await;
        let mail = read(&new_mails(&t, 1).await[0]);
        assert!(mail.html.contains("alert(1)"), "{}", mail.html);
        assert!(
            !mail.html.contains("<script>") && !mail.html.contains("<b>bold"),
            "{}",
            mail.html
        );
        assert!(
            mail.text.contains(attack),
            "the text part is the text: {}",
            mail.text
        );
    }
);

mail_test!(
    switched_off_kinds_and_blocked_people_get_nothing,
    |t: TestDesk| async move {
        let preferences = t
            .desk
            .mail_preferences(&t.requester)
            .await
            .expect("preferences");
        assert_eq!(preferences.get(MailKind::StaffReply), Some(true));
        assert_eq!(
            preferences.get(MailKind::TicketAssigned),
            None,
            "requesters are never assigned"
        );
        let off = BTreeMap::from([("staff_reply".to_owned(), false)]);
        let preferences = t
            .desk
            .set_mail_preferences(&t.requester, &off)
            .await
            .expect("saved");
        assert_eq!(preferences.get(MailKind::StaffReply), Some(false));
        assert_eq!(preferences.get(MailKind::TicketCreated), Some(true));

        let ticket = filed_by(&t, &t.requester).await;
        comment(
            &t,
            &t.agent,
            &ticket,
            "Ответ, которого не ждут по почте",
            false,
        )
        .await;
        let mails = outbox(&t).await;
        assert_eq!(
            mails.iter().map(|mail| mail.kind).collect::<Vec<_>>(),
            [MailKind::TicketCreated]
        );

        let theirs = filed_by(&t, &t.other_requester).await;
        assert_eq!(outbox(&t).await.len(), 2);
        let block = UserChange {
            status: Some("blocked".into()),
            ..UserChange::default()
        };
        t.desk
            .change_user_by_system(t.other_requester.id, &block)
            .await
            .expect("blocked");
        comment(&t, &t.agent, &theirs, "Ответ заблокированному", false).await;
        assert_eq!(outbox(&t).await.len(), 2, "a blocked requester got mail");
    }
);

mail_test!(
    preferences_refuse_what_they_do_not_know_naming_it,
    |t: TestDesk| async move {
        let unknown = BTreeMap::from([("newsletter".to_owned(), true)]);
        assert_field_error(
            t.desk.set_mail_preferences(&t.requester, &unknown).await,
            "newsletter",
        );
        let staff_only = BTreeMap::from([("ticket_assigned".to_owned(), false)]);
        assert_field_error(
            t.desk.set_mail_preferences(&t.requester, &staff_only).await,
            "ticket_assigned",
        );
        let preferences = t
            .desk
            .set_mail_preferences(&t.agent, &staff_only)
            .await
            .expect("an agent may");
        assert_eq!(preferences.get(MailKind::TicketAssigned), Some(false));
        assert_eq!(preferences.iter().count(), MailKind::ALL.len());
    }
);

mail_test!(a_refused_change_writes_no_mail, |t: TestDesk| async move {
    let ticket = filed_by(&t, &t.requester).await;
    let note = NewComment {
        body: "internal?".into(),
        internal: true,
        ..NewComment::default()
    };
    let refused = t.desk.add_comment(&t.requester, ticket.id, &note).await;
    assert!(refused.is_err());
    let foreign = t
        .desk
        .add_comment(
            &t.other_requester,
            ticket.id,
            &NewComment {
                body: "hi".into(),
                internal: false,
                ..NewComment::default()
            },
        )
        .await;
    assert!(foreign.is_err());
    assert_eq!(outbox(&t).await.len(), 1);
});

mod without_smtp {
    use super::*;
    use crate::both;

    both!(no_mail_is_written, |t: TestDesk| async move {
        assert!(!t.desk.mail_enabled());
        let ticket = filed_by(&t, &t.requester).await;
        comment(&t, &t.agent, &ticket, "Ответ", false).await;
        assert!(outbox(&t).await.is_empty());
    });
}

/// Claims as the sender makes them, `lease` from `now`.
async fn claim(t: &TestDesk, owner: &str, now: &str, until: &str) -> Option<OutboxMail> {
    t.desk
        .storage()
        .claim_mail(owner, now, until)
        .await
        .expect("claim")
}

mail_test!(
    a_claim_is_exclusive_until_its_lease_ends_and_a_retry_sends_the_same_message,
    |t: TestDesk| async move {
        let ticket = filed_by(&t, &t.requester).await;
        comment(&t, &t.agent, &ticket, "Ответ", false).await;
        let queued = outbox(&t).await;
        let now = "2999-01-01T00:00:00.000Z";
        let until = "2999-01-01T00:01:00.000Z";
        let first = claim(&t, "node-a", now, until).await.expect("a due mail");
        assert_eq!(first.id, queued[0].id, "oldest first");
        assert_eq!(first.attempts, 1);
        let second = claim(&t, "node-b", now, until).await.expect("the next one");
        assert_eq!(second.id, queued[1].id);
        assert!(
            claim(&t, "node-c", now, until).await.is_none(),
            "both are held"
        );

        // node-a failed: it retries later, with the very same message.
        let retry = Delivery::Retry {
            at: "2999-01-01T00:00:30.000Z".into(),
            error: "421 try later".into(),
        };
        let store = t.desk.storage();
        assert!(
            store
                .record_delivery(first.id, "node-a", now, &retry)
                .await
                .expect("recorded")
        );
        assert!(
            claim(&t, "node-c", now, until).await.is_none(),
            "not due yet"
        );
        let later = "2999-01-01T00:00:31.000Z";
        let again = claim(&t, "node-c", later, "2999-01-01T00:01:31.000Z")
            .await
            .expect("due again");
        assert_eq!((again.id, again.attempts), (first.id, 2));
        assert_eq!(again.message, first.message);
        assert_eq!(again.message_id, first.message_id);

        // node-b's lease ran out: its late record no longer counts, node-d's does.
        let after_lease = "2999-01-01T00:01:01.000Z";
        let taken_over = claim(&t, "node-d", after_lease, "2999-01-01T00:02:01.000Z")
            .await
            .expect("an expired claim is free");
        assert_eq!(taken_over.id, second.id);
        assert!(
            !store
                .record_delivery(second.id, "node-b", after_lease, &Delivery::Sent)
                .await
                .expect("ok")
        );
        assert!(
            store
                .record_delivery(second.id, "node-d", after_lease, &Delivery::Sent)
                .await
                .expect("ok")
        );
        let failed = Delivery::Failed {
            error: "550 no such user".into(),
        };
        assert!(
            store
                .record_delivery(again.id, "node-c", later, &failed)
                .await
                .expect("ok")
        );
        assert!(
            claim(
                &t,
                "node-e",
                "3000-01-01T00:00:00.000Z",
                "3000-01-01T00:01:00.000Z"
            )
            .await
            .is_none(),
            "sent and given-up mails are never claimed again"
        );
        let rows = outbox(&t).await;
        assert!(rows[0].failed_at.is_some() && rows[0].sent_at.is_none());
        assert_eq!(rows[0].last_error.as_deref(), Some("550 no such user"));
        assert!(rows[1].sent_at.is_some());
    }
);

mail_test!(
    concurrent_claimers_share_the_outbox_without_overlap,
    |t: TestDesk| async move {
        for n in 0..12 {
            let ticket = NewTicket {
                title: format!("Заявка {n}"),
                ..printer()
            };
            t.desk
                .create_ticket(&t.requester, &ticket)
                .await
                .expect("filed");
        }
        let now = "2999-01-01T00:00:00.000Z";
        let until = "2999-01-01T00:01:00.000Z";
        let mut claimers = tokio::task::JoinSet::new();
        for n in 0..4 {
            let desk = t.desk.clone();
            claimers.spawn(async move {
                let owner = format!("node-{n}");
                let mut mine = Vec::new();
                while let Some(mail) = desk
                    .storage()
                    .claim_mail(&owner, now, until)
                    .await
                    .expect("claim")
                {
                    mine.push(mail.id);
                }
                mine
            });
        }
        let mut claimed: Vec<i64> = claimers.join_all().await.into_iter().flatten().collect();
        claimed.sort_unstable();
        let all: Vec<i64> = outbox(&t).await.iter().map(|mail| mail.id).collect();
        assert_eq!(claimed, all, "every mail claimed exactly once");
    }
);
