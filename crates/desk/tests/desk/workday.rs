//! The working day around a ticket (issue 17): a requester's reply is never lost
//! (point 2), tickets filed on behalf of a caller (point 4), and saves from a stale
//! version that keep everyone's work (point 7).

use ictdesk_desk::{
    Error, Page,
    comments::{Comment, NewComment},
    tickets::{NewTicket, Ticket, TicketChange, TicketOrder, TicketQuery},
    users::User,
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_forbidden},
};

async fn filed(t: &TestDesk) -> Ticket {
    let input = NewTicket {
        title: "Не работает VPN".into(),
        description: "С утра не подключается".into(),
        ..NewTicket::default()
    };
    t.desk
        .create_ticket(&t.requester, &input)
        .await
        .expect("filed")
}

async fn set(t: &TestDesk, ticket: &Ticket, change: TicketChange) -> Ticket {
    t.desk
        .change_ticket(&t.agent, ticket.id, &change)
        .await
        .expect("changed")
        .ticket
}

fn status(status: &str) -> TicketChange {
    TicketChange {
        status: Some(status.into()),
        resolution: (status == "resolved").then(|| "Перезапустили шлюз".into()),
        ..TicketChange::default()
    }
}

async fn comment(t: &TestDesk, author: &User, ticket: &Ticket, internal: bool) -> Comment {
    let input = NewComment {
        body: "Всё ещё не работает".into(),
        internal,
        ..NewComment::default()
    };
    t.desk
        .add_comment(author, ticket.id, &input)
        .await
        .expect("commented")
}

async fn current(t: &TestDesk, ticket: &Ticket) -> Ticket {
    t.desk
        .get_ticket(&t.agent, ticket.id)
        .await
        .expect("ticket")
}

async fn awaiting_staff(t: &TestDesk) -> Vec<i64> {
    let query = TicketQuery {
        awaiting_staff: true,
        ..TicketQuery::default()
    };
    let list = t
        .desk
        .list_tickets(&t.agent, &query, Page::default())
        .await
        .expect("list");
    list.items.iter().map(|ticket| ticket.id).collect()
}

async fn unseen(t: &TestDesk, viewer: &User, tickets: &[Ticket]) -> Vec<i64> {
    t.desk
        .unseen_replies(viewer, tickets)
        .await
        .expect("unseen replies")
}

// Point 2.

both!(
    a_requesters_reply_takes_a_waiting_ticket_back_into_work,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let waiting = set(&t, &ticket, status("waiting")).await;
        let head = t.head().await;
        let reply = comment(&t, &t.requester, &ticket, false).await;
        let event = t.one_event(head, "ticket_comment_created").await;
        assert_eq!(event.data["changes"][0]["field"], "status");
        assert_eq!(event.data["changes"][0]["old"], "waiting");
        assert_eq!(event.data["changes"][0]["new"], "in_progress");
        assert_eq!(event.data["ticket"]["status"], "in_progress");

        let now = current(&t, &ticket).await;
        assert_eq!(now.status.as_str(), "in_progress");
        assert_eq!(now.updated_at, reply.created_at);
        assert_eq!(now.version, waiting.version + 1);
        let page = t.desk.ticket_page(&t.agent, ticket.id).await.expect("page");
        let last = page.history.last().expect("history");
        assert_eq!(
            (last.field.as_str(), last.new_value.as_deref()),
            ("status", Some("in_progress"))
        );
        assert_eq!(last.actor_id, Some(t.requester.id));
    }
);

both!(
    a_requesters_reply_reopens_a_resolved_ticket,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let resolved = set(&t, &ticket, status("resolved")).await;
        assert!(resolved.resolved_at.is_some());
        comment(&t, &t.requester, &ticket, false).await;
        let now = current(&t, &ticket).await;
        assert_eq!(now.status.as_str(), "in_progress");
        assert!(now.resolved_at.is_none());
    }
);

both!(
    staff_comments_move_the_ticket_but_leave_its_status,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let waiting = set(&t, &ticket, status("waiting")).await;
        let head = t.head().await;
        let note = comment(&t, &t.agent, &ticket, true).await;
        let event = t.one_event(head, "ticket_comment_created").await;
        assert!(event.data.get("changes").is_none(), "{:?}", event.data);
        let now = current(&t, &ticket).await;
        assert_eq!(now.status.as_str(), "waiting");
        assert_eq!(now.updated_at, note.created_at);
        assert_eq!(now.version, waiting.version + 1);
        // An internal note is no answer to the requester.
        assert!(now.staff_replied_at.is_none());
    }
);

both!(
    lists_offer_the_tickets_waiting_for_it_and_mark_unseen_replies,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let quiet = filed(&t).await;
        assert_eq!(awaiting_staff(&t).await, Vec::<i64>::new());
        comment(&t, &t.requester, &ticket, false).await;
        assert_eq!(awaiting_staff(&t).await, [ticket.id]);
        let stats = t.desk.ticket_stats(&t.agent).await.expect("stats");
        assert_eq!((stats.awaiting_staff, stats.open), (1, 2));

        let both = [current(&t, &ticket).await, current(&t, &quiet).await];
        assert_eq!(unseen(&t, &t.agent, &both).await, [ticket.id]);
        t.desk
            .mark_ticket_read(&t.agent, ticket.id)
            .await
            .expect("read");
        assert!(unseen(&t, &t.agent, &both).await.is_empty());
        // Another agent has not seen it yet.
        assert_eq!(unseen(&t, &t.admin, &both).await, [ticket.id]);

        comment(&t, &t.agent, &ticket, false).await;
        assert_eq!(awaiting_staff(&t).await, Vec::<i64>::new());
        let both = [current(&t, &ticket).await, current(&t, &quiet).await];
        assert_eq!(unseen(&t, &t.requester, &both).await, [ticket.id]);
        // Nobody marks tickets read for others.
        assert!(
            t.desk
                .mark_ticket_read(&t.other_requester, ticket.id)
                .await
                .is_err()
        );
    }
);

// Point 4.

both!(
    staff_file_tickets_on_behalf_of_a_caller,
    |t: TestDesk| async move {
        let head = t.head().await;
        let input = NewTicket {
            title: "Позвонила: не печатает принтер".into(),
            requester_id: Some(t.requester.id),
            ..NewTicket::default()
        };
        let ticket = t.desk.create_ticket(&t.agent, &input).await.expect("filed");
        assert_eq!(ticket.requester_id, t.requester.id);
        assert_eq!(ticket.requester_name, "Мария Петрова");
        let event = t.one_event(head, "ticket_created").await;
        assert_eq!(event.data["actor"]["id"], t.agent.id);
        assert!(event.reaches(&t.requester) && !event.reaches(&t.other_requester));
        let theirs = t
            .desk
            .list_tickets(&t.requester, &TicketQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(theirs.total, 1);
    }
);

both!(
    requesters_cannot_file_for_someone_else,
    |t: TestDesk| async move {
        let head = t.head().await;
        let input = NewTicket {
            title: "От имени соседа".into(),
            requester_id: Some(t.other_requester.id),
            ..NewTicket::default()
        };
        assert_forbidden(t.desk.create_ticket(&t.requester, &input).await);
        let nobody = NewTicket {
            requester_id: Some(999_999),
            ..input
        };
        assert_field_error(
            t.desk.create_ticket(&t.agent, &nobody).await,
            "requester_id",
        );
        t.no_event_since(head).await;
    }
);

// Point 7.

both!(
    a_stale_save_of_other_fields_goes_through_and_says_what_it_joined,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        set(&t, &ticket, status("in_progress")).await;
        let stale = TicketChange {
            version: Some(ticket.version),
            priority: Some("critical".into()),
            ..TicketChange::default()
        };
        let head = t.head().await;
        let saved = t
            .desk
            .change_ticket(&t.admin, ticket.id, &stale)
            .await
            .expect("disjoint fields are merged");
        assert_eq!(t.events_since(head).await.len(), 1);
        let merged = saved.merged.expect("says what it was merged with");
        assert_eq!(merged.changed_by, "Иван Техников");
        assert_eq!(merged.fields, ["status"]);
        assert_eq!(
            (saved.ticket.status.as_str(), saved.ticket.priority.as_str()),
            ("in_progress", "critical")
        );
        assert_eq!(saved.ticket.version, ticket.version + 2);

        let fresh = TicketChange {
            version: Some(saved.ticket.version),
            priority: Some("low".into()),
            ..TicketChange::default()
        };
        let saved = t
            .desk
            .change_ticket(&t.admin, ticket.id, &fresh)
            .await
            .expect("current version");
        assert!(saved.merged.is_none());
    }
);

both!(
    a_stale_save_of_a_changed_field_is_refused_naming_who_and_which,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let assign = TicketChange {
            status: Some("in_progress".into()),
            assignee_id: Some(Some(t.agent.id)),
            ..TicketChange::default()
        };
        set(&t, &ticket, assign).await;
        let head = t.head().await;
        let stale = TicketChange {
            version: Some(ticket.version),
            status: Some("waiting".into()),
            assignee_id: Some(Some(t.admin.id)),
            priority: Some("low".into()),
            ..TicketChange::default()
        };
        match t.desk.change_ticket(&t.admin, ticket.id, &stale).await {
            Err(Error::Conflict { changed_by, fields }) => {
                assert_eq!(changed_by, "Иван Техников");
                let changed: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(field, message)| (field.as_str(), message.as_str()))
                    .collect();
                assert_eq!(
                    changed,
                    [
                        ("assignee_id", "changed by Иван Техников"),
                        ("status", "changed by Иван Техников")
                    ]
                );
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
        t.no_event_since(head).await;
        let unchanged = current(&t, &ticket).await;
        assert_eq!(unchanged.priority.as_str(), "medium");

        // What the page shows beside the fields: the colleague's changes since.
        let since = t
            .desk
            .ticket_changes_since(&t.admin, ticket.id, ticket.version)
            .await
            .expect("changes");
        let mut fields: Vec<&str> = since.iter().map(|entry| entry.field.as_str()).collect();
        fields.sort();
        assert_eq!(fields, ["assignee", "status"]);

        // Setting a field to the value the colleague already gave it is no conflict.
        let same = TicketChange {
            version: Some(ticket.version),
            status: Some("in_progress".into()),
            ..TicketChange::default()
        };
        t.quietly(t.desk.change_ticket(&t.admin, ticket.id, &same))
            .await;
    }
);

both!(
    a_version_from_the_future_is_a_field_error,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let change = TicketChange {
            version: Some(ticket.version + 5),
            priority: Some("low".into()),
            ..TicketChange::default()
        };
        t.refuses(t.desk.change_ticket(&t.agent, ticket.id, &change))
            .await;
        assert_field_error(
            t.desk.change_ticket(&t.agent, ticket.id, &change).await,
            "version",
        );
    }
);

// Point 6, the desk's part: several statuses at once, and the shift's order.

both!(
    triage_lists_open_tickets_most_urgent_then_oldest,
    |t: TestDesk| async move {
        let file = |title: &'static str, priority: &'static str| {
            let input = NewTicket {
                title: title.into(),
                priority: Some(priority.into()),
                ..NewTicket::default()
            };
            let desk = t.desk.clone();
            let requester = t.requester.clone();
            async move { desk.create_ticket(&requester, &input).await.expect("filed") }
        };
        let old_low = file("Старая мелочь", "low").await;
        let old_high = file("Старая срочная", "high").await;
        let done = file("Решённая критичная", "critical").await;
        let new_high = file("Новая срочная", "high").await;
        set(&t, &done, status("resolved")).await;
        set(&t, &old_low, status("waiting")).await;

        let query = TicketQuery {
            order: TicketOrder::Triage,
            ..TicketQuery::open()
        };
        let list = t
            .desk
            .list_tickets(&t.agent, &query, Page::default())
            .await
            .expect("list");
        let ids: Vec<i64> = list.items.iter().map(|ticket| ticket.id).collect();
        assert_eq!(ids, [old_high.id, new_high.id, old_low.id]);
        let stats = t.desk.ticket_stats(&t.agent).await.expect("stats");
        assert_eq!(stats.open, 3);
    }
);
