//! What keeps the desk fast at a million tickets answers exactly as counting and
//! scanning did: the per-status counts the triggers keep, and search through the
//! trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL).

use ictdesk_desk::{
    Page,
    tickets::{NewTicket, TicketChange, TicketQuery, TicketStatus},
};

use crate::{both, helpers::TestDesk};

fn ticket(title: &str, description: &str) -> NewTicket {
    NewTicket {
        title: title.into(),
        description: description.into(),
        ..NewTicket::default()
    }
}

fn to(status: &str) -> TicketChange {
    TicketChange {
        status: Some(status.into()),
        resolution: (status == "resolved").then(|| "Заменили кабель".into()),
        ..TicketChange::default()
    }
}

/// How many tickets each status's list holds, counted row by row, and what its total says.
async fn counted(t: &TestDesk, status: Option<TicketStatus>) -> (usize, i64) {
    let query = TicketQuery {
        statuses: status.into_iter().collect(),
        ..TicketQuery::default()
    };
    let list = t
        .desk
        .list_tickets(&t.agent, &query, Page::all())
        .await
        .expect("list");
    (list.items.len(), list.total)
}

both!(
    counts_follow_every_status_change,
    |t: TestDesk| async move {
        let mut ids = Vec::new();
        for n in 0..4 {
            let filed = t
                .desk
                .create_ticket(&t.requester, &ticket(&format!("Заявка {n}"), ""))
                .await
                .expect("filed");
            ids.push(filed.id);
        }
        for (id, path) in ids.iter().zip([
            &["in_progress"][..],
            &["in_progress", "waiting"],
            &["in_progress", "resolved", "closed"],
            &[],
        ]) {
            for status in path {
                t.desk
                    .change_ticket(&t.agent, *id, &to(status))
                    .await
                    .expect("moved");
            }
        }
        // An edit that keeps the status changes no count.
        let retitled = TicketChange {
            title: Some("Заявка 0, уточнено".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, ids[0], &retitled)
            .await
            .expect("edited");

        let stats = t.desk.ticket_stats(&t.agent).await.expect("stats");
        let by_status = [
            (TicketStatus::New, stats.new),
            (TicketStatus::InProgress, stats.in_progress),
            (TicketStatus::Waiting, stats.waiting),
            (TicketStatus::Resolved, stats.resolved),
            (TicketStatus::Closed, stats.closed),
        ];
        assert_eq!(
            by_status.map(|(_, count)| count),
            [1, 1, 1, 0, 1],
            "{stats:?}"
        );
        for (status, count) in by_status {
            let (rows, total) = counted(&t, Some(status)).await;
            assert_eq!((rows as i64, total), (count, count), "{status}");
        }
        assert_eq!(counted(&t, None).await, (4, 4));
        assert_eq!(stats.total, 4);
    }
);

both!(
    search_finds_substrings_of_any_length_and_odd_characters,
    |t: TestDesk| async move {
        let printer = t
            .desk
            .create_ticket(
                &t.requester,
                &ticket("Принтеры на 3 этаже", "Печатает \"полосами\"; 100% заливка"),
            )
            .await
            .expect("filed");
        t.desk
            .create_ticket(&t.requester, &ticket("VPN", "Не подключается из дома"))
            .await
            .expect("filed");
        let found = |q: &'static str| {
            let desk = t.desk.clone();
            let agent = t.agent.clone();
            async move {
                let query = TicketQuery {
                    q: Some(q.into()),
                    ..TicketQuery::default()
                };
                let list = desk
                    .list_tickets(&agent, &query, Page::default())
                    .await
                    .expect("search");
                assert_eq!(list.total as usize, list.items.len(), "{q}");
                list.items.iter().map(|t| t.id).collect::<Vec<_>>()
            }
        };
        // Inside a word, across words, in either case, with quotes, % and short terms.
        assert_eq!(found("интер").await, [printer.id]);
        assert_eq!(found("ПРИНТЕРЫ НА").await, [printer.id]);
        assert_eq!(found("\"полосами\"").await, [printer.id]);
        assert_eq!(found("100%").await, [printer.id]);
        assert_eq!(found("3 э").await, [printer.id]);
        assert_eq!(found("vp").await.len(), 1);
        assert!(found("принтеры на 4").await.is_empty());
        assert!(found("0%z").await.is_empty());
        // A title edited later is found by its new words only.
        t.desk
            .change_ticket(
                &t.agent,
                printer.id,
                &TicketChange {
                    title: Some("Сканер".into()),
                    description: Some("Сканирует пустые листы".into()),
                    ..TicketChange::default()
                },
            )
            .await
            .expect("edited");
        assert!(found("принтер").await.is_empty());
        assert_eq!(found("сканер").await, [printer.id]);
    }
);
