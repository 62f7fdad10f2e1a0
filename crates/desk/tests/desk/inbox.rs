//! The notification inbox (issue 11 point 4): entries written from the change's event
//! in its transaction, to the people it concerns, and read by them alone.

use ictdesk_desk::{
    Page, comments::NewComment, inbox::MarkRead, notifications::NewNotification,
    tickets::TicketChange, users::User,
};

use crate::{both, helpers::TestDesk};

async fn kinds(t: &TestDesk, user: &User) -> Vec<String> {
    let entries = t.desk.inbox(user, false, Page::all()).await.expect("inbox");
    entries.items.into_iter().map(|entry| entry.kind).collect()
}

both!(
    what_concerns_each_person_reaches_their_inbox,
    |t: TestDesk| async move {
        let desk = &t.desk;
        let ticket = t.filed("Не печатает").await;
        let assign = TicketChange {
            assignee_id: Some(Some(t.agent.id)),
            ..TicketChange::default()
        };
        desk.change_ticket(&t.admin, ticket.id, &assign)
            .await
            .expect("assigned");
        let comment = |body: &str, internal| NewComment {
            body: body.into(),
            internal,
            ..NewComment::default()
        };
        desk.add_comment(&t.requester, ticket.id, &comment("Срочно", false))
            .await
            .expect("comment");
        desk.add_comment(&t.admin, ticket.id, &comment("Картридж?", true))
            .await
            .expect("note");
        let resolve = TicketChange {
            status: Some("resolved".into()),
            resolution: Some("Заменили картридж".into()),
            ..TicketChange::default()
        };
        desk.change_ticket(&t.agent, ticket.id, &resolve)
            .await
            .expect("resolved");

        // Newest first; nobody hears of their own change, the requester never of a note.
        assert_eq!(
            kinds(&t, &t.agent).await,
            [
                "ticket_comment_created",
                "ticket_comment_created",
                "ticket_assigned"
            ]
        );
        assert_eq!(kinds(&t, &t.requester).await, ["ticket_status_changed"]);
        assert!(kinds(&t, &t.other_requester).await.is_empty());
        assert!(kinds(&t, &t.admin).await.is_empty());
        let entry = &desk
            .inbox(&t.requester, false, Page::all())
            .await
            .expect("inbox")
            .items[0];
        assert_eq!(
            (entry.title.as_str(), entry.ticket_id),
            ("Не печатает", Some(ticket.id))
        );
        assert_eq!(entry.actor_name.as_deref(), Some(t.agent.name.as_str()));
    }
);

both!(
    a_notification_reaches_its_audiences_inboxes,
    |t: TestDesk| async move {
        let notify = |audience: serde_json::Value| NewNotification {
            title: "Плановые работы".into(),
            message: "В субботу".into(),
            audience: serde_json::from_value(audience).expect("an audience"),
            level: None,
            expires_at: None,
        };
        t.desk
            .create_notification(&t.admin, &notify(serde_json::json!("agents")))
            .await
            .expect("to agents");
        t.desk
            .create_notification(
                &t.admin,
                &notify(serde_json::json!({"user": t.requester.id})),
            )
            .await
            .expect("to one");
        assert_eq!(kinds(&t, &t.agent).await, ["system_notification_created"]);
        assert_eq!(
            kinds(&t, &t.requester).await,
            ["system_notification_created"]
        );
        assert!(kinds(&t, &t.other_requester).await.is_empty());
        assert!(kinds(&t, &t.admin).await.is_empty(), "not for its author");
    }
);

both!(
    only_ones_own_entries_can_be_read,
    |t: TestDesk| async move {
        let desk = &t.desk;
        let ticket = t.filed("VPN").await;
        for body in ["раз", "два", "три"] {
            let note = NewComment {
                body: body.into(),
                ..NewComment::default()
            };
            desk.add_comment(&t.agent, ticket.id, &note)
                .await
                .expect("comment");
        }
        let mine = desk
            .inbox(&t.requester, true, Page::all())
            .await
            .expect("inbox");
        assert_eq!(mine.total, 3);
        let ids: Vec<i64> = mine.items.iter().map(|entry| entry.id).collect();

        // Someone else's ids change nothing and announce nothing.
        let head = t.head().await;
        let unread = desk
            .mark_read(&t.other_requester, &MarkRead::Ids(ids.clone()))
            .await
            .expect("nothing to mark");
        assert_eq!(unread, 0);
        t.no_event_since(head).await;
        assert_eq!(desk.unread_count(&t.requester).await.expect("count"), 3);

        let head = t.head().await;
        let unread = desk
            .mark_read(&t.requester, &MarkRead::Ids(vec![ids[0]]))
            .await
            .expect("marked");
        assert_eq!(unread, 2);
        let event = t.one_event(head, "inbox_read").await;
        assert_eq!(event.data["unread"], 2);
        assert!(event.reaches(&t.requester) && !event.reaches(&t.agent));
        assert_eq!(
            desk.mark_read(&t.requester, &MarkRead::All)
                .await
                .expect("all"),
            0
        );
        let all = desk
            .inbox(&t.requester, false, Page::all())
            .await
            .expect("inbox");
        assert!(all.items.iter().all(|entry| entry.read_at.is_some()));
        assert_eq!(
            desk.inbox(&t.requester, true, Page::all())
                .await
                .expect("inbox")
                .total,
            0
        );
    }
);
