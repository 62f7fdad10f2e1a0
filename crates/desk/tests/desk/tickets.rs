//! Tickets and comments: events, audiences, permissions, transitions, concurrency.

use ictdesk_desk::{
    Error, Page,
    comments::NewComment,
    tickets::{NewTicket, Priority, Ticket, TicketChange, TicketQuery},
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_forbidden, assert_not_found},
};

fn printer_ticket() -> NewTicket {
    NewTicket {
        title: "Принтер не печатает".into(),
        description: "Принтер на 3 этаже жуёт бумагу".into(),
        priority: Some("high".into()),
        ..NewTicket::default()
    }
}

async fn filed(t: &TestDesk) -> Ticket {
    t.desk
        .create_ticket(&t.requester, &printer_ticket())
        .await
        .expect("filed")
}

fn status(status: &str) -> TicketChange {
    TicketChange {
        status: Some(status.into()),
        ..TicketChange::default()
    }
}

both!(
    a_requester_files_a_ticket_and_staff_and_they_hear_of_it,
    |t: TestDesk| async move {
        let head = t.head().await;
        let ticket = filed(&t).await;
        assert_eq!(ticket.status.as_str(), "new");
        assert_eq!(ticket.requester_name, "Мария Петрова");
        let event = t.one_event(head, "ticket_created").await;
        assert_eq!(event.data["ticket"]["id"], ticket.id);
        assert_eq!(event.data["ticket"]["priority"], "high");
        assert_eq!(event.data["actor"]["id"], t.requester.id);
        assert_eq!(event.data["actor"]["name"], "Мария Петрова");
        assert!(event.reaches(&t.requester) && event.reaches(&t.agent) && event.reaches(&t.admin));
        assert!(!event.reaches(&t.other_requester));
        assert!(!event.reaches_anonymous());
    }
);

both!(
    bad_ticket_fields_are_all_named_and_nothing_is_written,
    |t: TestDesk| async move {
        let head = t.head().await;
        let input = NewTicket {
            title: "  ".into(),
            priority: Some("urgent".into()),
            category_id: Some(999),
            ..NewTicket::default()
        };
        let error = t
            .desk
            .create_ticket(&t.requester, &input)
            .await
            .expect_err("invalid");
        let fields = error.fields().expect("validation").clone();
        assert!(
            fields.contains_key("title")
                && fields.contains_key("priority")
                && fields.contains_key("category_id"),
            "{fields:?}"
        );
        t.no_event_since(head).await;
        let list = t
            .desk
            .list_tickets(&t.agent, &TicketQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(list.total, 0);
    }
);

both!(
    an_agent_takes_a_ticket_into_work,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let changed = t
            .desk
            .change_ticket(&t.agent, ticket.id, &status("in_progress"))
            .await
            .expect("changed");
        assert_eq!(changed.ticket.version, ticket.version + 1);
        let event = t.one_event(head, "ticket_status_changed").await;
        assert_eq!(event.data["old_status"], "new");
        assert_eq!(event.data["new_status"], "in_progress");
        assert_eq!(event.data["actor"]["name"], "Иван Техников");
        assert!(event.reaches(&t.requester) && !event.reaches(&t.other_requester));
        let page = t
            .desk
            .ticket_page(&t.requester, ticket.id)
            .await
            .expect("page");
        assert_eq!(page.history.len(), 1);
        assert_eq!(page.history[0].field, "status");
        assert_eq!(page.history[0].old_value.as_deref(), Some("new"));
        assert_eq!(page.history[0].new_value.as_deref(), Some("in_progress"));
        assert_eq!(page.history[0].actor_name.as_deref(), Some("Иван Техников"));
    }
);

both!(
    assigning_without_a_status_change_is_ticket_assigned,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let change = TicketChange {
            assignee_id: Some(Some(t.agent.id)),
            ..TicketChange::default()
        };
        let changed = t
            .desk
            .change_ticket(&t.admin, ticket.id, &change)
            .await
            .expect("assigned");
        assert_eq!(
            changed.ticket.assignee_name.as_deref(),
            Some("Иван Техников")
        );
        let event = t.one_event(head, "ticket_assigned").await;
        assert_eq!(event.data["new_assignee"]["id"], t.agent.id);
        assert!(event.data["old_assignee"].is_null());
        assert!(event.reaches(&t.requester));
    }
);

both!(
    status_and_assignee_together_are_one_status_event_listing_both,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let change = TicketChange {
            status: Some("in_progress".into()),
            assignee_id: Some(Some(t.agent.id)),
            priority: Some("critical".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, ticket.id, &change)
            .await
            .expect("changed");
        let event = t.one_event(head, "ticket_status_changed").await;
        let fields: Vec<&str> = event.data["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|c| c["field"].as_str())
            .collect();
        assert_eq!(fields, ["status", "priority", "assignee"]);
        assert_eq!(event.data["new_assignee"]["name"], "Иван Техников");
    }
);

both!(
    a_priority_edit_is_a_ticket_update_not_a_status_change,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let change = TicketChange {
            priority: Some("low".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, ticket.id, &change)
            .await
            .expect("changed");
        let event = t.one_event(head, "ticket_updated").await;
        assert!(event.data.get("old_status").is_none(), "{:?}", event.data);
        assert_eq!(event.data["ticket"]["priority"], "low");
        assert_eq!(event.data["changes"][0]["field"], "priority");
        assert_eq!(event.data["changes"][0]["old"], "high");
        assert_eq!(event.data["changes"][0]["new"], "low");
    }
);

both!(
    a_change_that_changes_nothing_appends_nothing,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let same = TicketChange {
            priority: Some("high".into()),
            ..TicketChange::default()
        };
        let unchanged = t
            .desk
            .change_ticket(&t.agent, ticket.id, &same)
            .await
            .expect("accepted");
        assert_eq!(unchanged.ticket.version, ticket.version);
        t.no_event_since(head).await;
    }
);

both!(
    resolving_needs_a_resolution_and_sets_resolved_at,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        assert_field_error(
            t.desk
                .change_ticket(&t.agent, ticket.id, &status("resolved"))
                .await,
            "resolution",
        );
        t.no_event_since(head).await;
        let unchanged = t
            .desk
            .get_ticket(&t.agent, ticket.id)
            .await
            .expect("ticket");
        assert_eq!(
            (unchanged.status.as_str(), unchanged.version),
            ("new", ticket.version)
        );

        let resolve = TicketChange {
            status: Some("resolved".into()),
            resolution: Some("Заменили ролик подачи".into()),
            ..TicketChange::default()
        };
        let resolved = t
            .desk
            .change_ticket(&t.agent, ticket.id, &resolve)
            .await
            .expect("resolved");
        assert!(resolved.ticket.resolved_at.is_some());
        assert_eq!(
            resolved.ticket.resolution.as_deref(),
            Some("Заменили ролик подачи")
        );
    }
);

both!(
    a_closed_ticket_is_final_except_reopening_by_an_agent,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let closed = t
            .desk
            .change_ticket(&t.agent, ticket.id, &status("closed"))
            .await
            .expect("closed");
        assert!(closed.ticket.closed_at.is_some());
        let head = t.head().await;
        let refused = t
            .desk
            .change_ticket(&t.agent, ticket.id, &status("waiting"))
            .await;
        assert!(
            matches!(refused, Err(Error::InvalidTransition { .. })),
            "{refused:?}"
        );
        t.no_event_since(head).await;
        let reopened = t
            .desk
            .change_ticket(&t.agent, ticket.id, &status("in_progress"))
            .await
            .expect("reopened");
        assert_eq!(reopened.ticket.status.as_str(), "in_progress");
        assert!(reopened.ticket.closed_at.is_none());
        let back_to_new = t
            .desk
            .change_ticket(&t.agent, ticket.id, &status("new"))
            .await;
        assert!(matches!(back_to_new, Err(Error::InvalidTransition { .. })));
    }
);

both!(
    a_stale_version_is_refused_naming_who_changed_it,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        t.desk
            .change_ticket(&t.agent, ticket.id, &status("in_progress"))
            .await
            .expect("first edit");
        let head = t.head().await;
        // The same field: see workday.rs for stale saves of other fields.
        let stale = TicketChange {
            version: Some(ticket.version),
            status: Some("waiting".into()),
            ..TicketChange::default()
        };
        match t.desk.change_ticket(&t.admin, ticket.id, &stale).await {
            Err(Error::Conflict { changed_by, .. }) => assert_eq!(changed_by, "Иван Техников"),
            other => panic!("expected a conflict, got {other:?}"),
        }
        t.no_event_since(head).await;
        let current = TicketChange {
            version: Some(ticket.version + 1),
            status: Some("waiting".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.admin, ticket.id, &current)
            .await
            .expect("current version accepted");
    }
);

both!(
    requesters_see_and_touch_only_their_own_tickets,
    |t: TestDesk| async move {
        let mine = filed(&t).await;
        let theirs = t
            .desk
            .create_ticket(&t.other_requester, &printer_ticket())
            .await
            .expect("filed");
        let head = t.head().await;
        assert_not_found(t.desk.get_ticket(&t.requester, theirs.id).await);
        assert_not_found(t.desk.ticket_page(&t.requester, theirs.id).await);
        let comment = NewComment {
            body: "Me too".into(),
            internal: false,
            ..NewComment::default()
        };
        assert_not_found(t.desk.add_comment(&t.requester, theirs.id, &comment).await);
        assert_forbidden(
            t.desk
                .change_ticket(&t.requester, mine.id, &status("closed"))
                .await,
        );
        t.no_event_since(head).await;

        let list = t
            .desk
            .list_tickets(&t.requester, &TicketQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(
            list.items
                .iter()
                .map(|ticket| ticket.id)
                .collect::<Vec<_>>(),
            [mine.id]
        );
        // Asking for someone else's tickets by filter does not widen the view.
        let sneaky = TicketQuery {
            requester_id: Some(t.other_requester.id),
            ..TicketQuery::default()
        };
        let list = t
            .desk
            .list_tickets(&t.requester, &sneaky, Page::default())
            .await
            .expect("list");
        assert!(
            list.items
                .iter()
                .all(|ticket| ticket.requester_id == t.requester.id)
        );
        let all = t
            .desk
            .list_tickets(&t.agent, &TicketQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(all.total, 2);
    }
);

both!(
    internal_notes_never_reach_the_requester,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let note = NewComment {
            body: "Картридж на складе закончился".into(),
            internal: true,
            ..NewComment::default()
        };
        let comment = t
            .desk
            .add_comment(&t.agent, ticket.id, &note)
            .await
            .expect("note");
        let event = t.one_event(head, "ticket_comment_created").await;
        assert_eq!(event.data["comment"]["id"], comment.id);
        assert_eq!(event.data["comment"]["internal"], true);
        assert!(!event.reaches(&t.requester));
        assert!(event.reaches(&t.agent) && event.reaches(&t.admin));

        let head = t.head().await;
        let reply = NewComment {
            body: "Скоро починим".into(),
            internal: false,
            ..NewComment::default()
        };
        t.desk
            .add_comment(&t.agent, ticket.id, &reply)
            .await
            .expect("reply");
        let event = t.one_event(head, "ticket_comment_created").await;
        assert!(event.reaches(&t.requester) && !event.reaches(&t.other_requester));

        let page = t
            .desk
            .ticket_page(&t.requester, ticket.id)
            .await
            .expect("page");
        assert_eq!(page.comments.len(), 1);
        assert!(!page.comments[0].internal);
        let page = t.desk.ticket_page(&t.agent, ticket.id).await.expect("page");
        assert_eq!(page.comments.len(), 2);

        let head = t.head().await;
        let sneaky = NewComment {
            body: "psst".into(),
            internal: true,
            ..NewComment::default()
        };
        assert_forbidden(t.desk.add_comment(&t.requester, ticket.id, &sneaky).await);
        assert_field_error(
            t.desk
                .add_comment(&t.requester, ticket.id, &NewComment::default())
                .await,
            "body",
        );
        t.no_event_since(head).await;
    }
);

both!(tickets_filter_search_and_count, |t: TestDesk| async move {
    let printer = filed(&t).await;
    let vpn = NewTicket {
        title: "VPN disconnects".into(),
        description: "Every hour".into(),
        priority: Some("low".into()),
        ..NewTicket::default()
    };
    let vpn = t
        .desk
        .create_ticket(&t.other_requester, &vpn)
        .await
        .expect("filed");
    t.desk
        .change_ticket(
            &t.agent,
            vpn.id,
            &TicketChange {
                assignee_id: Some(Some(t.agent.id)),
                status: Some("in_progress".into()),
                ..TicketChange::default()
            },
        )
        .await
        .expect("taken");
    let search = |q: &str| TicketQuery {
        q: Some(q.into()),
        ..TicketQuery::default()
    };
    let found = t
        .desk
        .list_tickets(&t.agent, &search("ПРИНТЕР"), Page::default())
        .await
        .expect("list");
    assert_eq!(
        found
            .items
            .iter()
            .map(|ticket| ticket.id)
            .collect::<Vec<_>>(),
        [printer.id]
    );
    let found = t
        .desk
        .list_tickets(&t.agent, &search("vpn"), Page::default())
        .await
        .expect("list");
    assert_eq!(found.total, 1);
    let found = t
        .desk
        .list_tickets(&t.agent, &search("100%"), Page::default())
        .await
        .expect("list");
    assert_eq!(found.total, 0);
    let by_assignee = TicketQuery {
        assignee_id: Some(t.agent.id),
        ..TicketQuery::default()
    };
    assert_eq!(
        t.desk
            .list_tickets(&t.agent, &by_assignee, Page::default())
            .await
            .expect("list")
            .total,
        1
    );
    let unassigned = TicketQuery {
        unassigned: true,
        ..TicketQuery::default()
    };
    assert_eq!(
        t.desk
            .list_tickets(&t.agent, &unassigned, Page::default())
            .await
            .expect("list")
            .items[0]
            .id,
        printer.id
    );
    let high = TicketQuery {
        priority: Priority::parse("high").ok(),
        ..TicketQuery::default()
    };
    assert_eq!(
        t.desk
            .list_tickets(&t.agent, &high, Page::default())
            .await
            .expect("list")
            .total,
        1
    );
    let paged = t
        .desk
        .list_tickets(
            &t.agent,
            &TicketQuery::default(),
            Page::new(Some(2), Some(1)),
        )
        .await
        .expect("list");
    assert_eq!((paged.items.len(), paged.total), (1, 2));

    let stats = t.desk.ticket_stats(&t.agent).await.expect("stats");
    assert_eq!((stats.total, stats.new, stats.in_progress), (2, 1, 1));
    assert_eq!(
        (stats.unassigned, stats.mine, stats.created_today),
        (1, 1, 2)
    );
    let stats = t.desk.ticket_stats(&t.requester).await.expect("stats");
    assert_eq!((stats.total, stats.new, stats.mine), (1, 1, 1));
});

both!(
    an_unknown_assignee_or_a_requester_as_assignee_is_a_field_error,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let to_requester = TicketChange {
            assignee_id: Some(Some(t.requester.id)),
            ..TicketChange::default()
        };
        assert_field_error(
            t.desk
                .change_ticket(&t.agent, ticket.id, &to_requester)
                .await,
            "assignee_id",
        );
        let to_nobody = TicketChange {
            assignee_id: Some(Some(9999)),
            ..TicketChange::default()
        };
        assert_field_error(
            t.desk.change_ticket(&t.agent, ticket.id, &to_nobody).await,
            "assignee_id",
        );
        t.no_event_since(head).await;
    }
);

both!(
    of_two_concurrent_edits_against_one_version_one_wins,
    |t: TestDesk| async move {
        let ticket = filed(&t).await;
        let head = t.head().await;
        let edit = |priority: &str| TicketChange {
            version: Some(ticket.version),
            priority: Some(priority.into()),
            ..TicketChange::default()
        };
        let (first, second) = (edit("low"), edit("critical"));
        let (a, b) = tokio::join!(
            t.desk.change_ticket(&t.agent, ticket.id, &first),
            t.desk.change_ticket(&t.admin, ticket.id, &second),
        );
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(outcomes.iter().filter(|ok| **ok).count(), 1, "{a:?} {b:?}");
        let loser = if a.is_ok() { b } else { a };
        assert!(matches!(loser, Err(Error::Conflict { .. })), "{loser:?}");
        assert_eq!(t.events_since(head).await.len(), 1);
    }
);

both!(
    get_tickets_answers_with_the_original_keys,
    |t: TestDesk| async move {
        filed(&t).await;
        t.desk
            .create_ticket(&t.other_requester, &printer_ticket())
            .await
            .expect("filed");
        let message = t
            .desk
            .tickets_message(&t.requester, &TicketQuery::default(), Page::default())
            .await
            .expect("message");
        let json = serde_json::to_value(&message).expect("serializes");
        assert_eq!(json["type"], "tickets");
        assert_eq!(json["tickets"].as_array().map(Vec::len), Some(1));
        assert_eq!(json["stats"]["total"], 1);
        assert!(
            json["last_updated"]
                .as_str()
                .is_some_and(|at| at.ends_with('Z'))
        );
    }
);
