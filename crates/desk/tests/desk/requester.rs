//! The requester's side of a working day (issue 17): their home lists what is still open
//! first.

use ictdesk_desk::{
    Page,
    tickets::{TicketChange, TicketOrder, TicketQuery},
};

use crate::{both, helpers::TestDesk};

both!(
    a_requesters_home_lists_open_tickets_first,
    |t: TestDesk| async move {
        let oldest_open = t.filed("Не печатает принтер").await;
        let done = t.filed("Нужен доступ к папке").await;
        let waiting = t.filed("Не работает VPN").await;
        for (ticket, status) in [(done.id, "resolved"), (waiting.id, "waiting")] {
            let change = TicketChange {
                status: Some(status.into()),
                resolution: (status == "resolved").then(|| "Доступ выдан".into()),
                ..TicketChange::default()
            };
            t.desk
                .change_ticket(&t.agent, ticket, &change)
                .await
                .expect("status");
        }
        // The resolved ticket is the most recently changed, and still comes last.
        let change = TicketChange {
            title: Some("Нужен доступ к папке «Бухгалтерия»".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, done.id, &change)
            .await
            .expect("resolution");
        let query = TicketQuery {
            order: TicketOrder::OpenFirst,
            ..TicketQuery::default()
        };
        let home = t
            .desk
            .list_tickets(&t.requester, &query, Page::default())
            .await
            .expect("list");
        let ids: Vec<i64> = home.items.iter().map(|ticket| ticket.id).collect();
        assert_eq!(ids, [waiting.id, oldest_open.id, done.id]);
        assert_eq!(TicketOrder::parse("open_first"), Ok(TicketOrder::OpenFirst));
    }
);
