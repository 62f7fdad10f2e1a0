//! Demo data and the first admin.

use std::collections::BTreeMap;

use ictdesk_desk::{
    Page, articles::ArticleQuery, demo::DEMO_PASSWORD, equipment::EquipmentQuery, events,
    first_run::INITIAL_ADMIN_EMAIL, tickets::TicketQuery, users::UserQuery,
};

use crate::helpers::on_empty_databases;

#[tokio::test]
async fn the_demo_department_has_the_promised_size_and_real_events() {
    on_empty_databases(|desk, log| async move {
        let summary = desk
            .seed_demo()
            .await
            .expect("seeded")
            .expect("the database was empty");
        assert_eq!(
            (
                summary.users,
                summary.tickets,
                summary.equipment,
                summary.articles
            ),
            (24, 150, 80, 25)
        );
        assert!(summary.notifications >= 3 && summary.locations >= 6 && summary.comments > 50);

        let admin = desk
            .login("admin@demo.local", DEMO_PASSWORD)
            .await
            .expect("admin logs in")
            .user;
        let agent = desk
            .login("agent@demo.local", DEMO_PASSWORD)
            .await
            .expect("agent logs in")
            .user;
        let user = desk
            .login("user@demo.local", DEMO_PASSWORD)
            .await
            .expect("user logs in")
            .user;
        assert_eq!(
            (admin.role.as_str(), agent.role.as_str(), user.role.as_str()),
            ("admin", "agent", "requester")
        );

        let users = desk
            .list_users(&admin, &UserQuery::default(), Page::all())
            .await
            .expect("users");
        let roles = users
            .items
            .iter()
            .fold(BTreeMap::new(), |mut counts, user| {
                *counts.entry(user.role.as_str()).or_insert(0) += 1;
                counts
            });
        assert_eq!(
            roles,
            BTreeMap::from([("admin", 1), ("agent", 3), ("requester", 20)])
        );

        let tickets = desk
            .list_tickets(&agent, &TicketQuery::default(), Page::new(Some(1), Some(5)))
            .await
            .expect("tickets");
        assert_eq!(tickets.total, 150);
        let stats = desk.ticket_stats(&agent).await.expect("stats");
        assert_eq!(stats.total, 150);
        for (status, count) in [
            ("new", stats.new),
            ("in_progress", stats.in_progress),
            ("waiting", stats.waiting),
            ("resolved", stats.resolved),
            ("closed", stats.closed),
        ] {
            assert!(count > 0, "no {status} tickets in the demo");
        }
        let equipment = desk
            .list_equipment(&agent, &EquipmentQuery::default(), Page::default())
            .await
            .expect("equipment");
        assert_eq!(equipment.total, 80);
        let all_articles = desk
            .list_articles(&agent, &ArticleQuery::default(), Page::default())
            .await
            .expect("articles");
        assert_eq!(all_articles.total, 25);
        let public = desk
            .list_articles(&user, &ArticleQuery::default(), Page::default())
            .await
            .expect("articles");
        assert!(public.total < 25 && public.total > 15);
        let search = ArticleQuery {
            q: Some("принтеры".into()),
            ..ArticleQuery::default()
        };
        assert!(
            desk.list_articles(&user, &search, Page::default())
                .await
                .expect("search")
                .total
                >= 2
        );
        let search = ArticleQuery {
            q: Some("printers".into()),
            ..ArticleQuery::default()
        };
        assert!(
            desk.list_articles(&user, &search, Page::default())
                .await
                .expect("search")
                .total
                >= 2
        );

        // The history and events are real: one event per change, of the eleven types.
        let rows = log.read_after(0, 10_000).await.expect("the log");
        let mut kinds = BTreeMap::new();
        for row in &rows {
            assert!(events::ALL.contains(&row.kind.as_str()), "{}", row.kind);
            *kinds.entry(row.kind.clone()).or_insert(0) += 1;
        }
        assert_eq!(kinds["ticket_created"], 150);
        assert_eq!(kinds["user_created"], 24);
        assert_eq!(kinds["knowledge_article_created"], 25);
        assert_eq!(kinds["ticket_comment_created"], summary.comments);
        let closed = desk
            .list_tickets(
                &agent,
                &TicketQuery {
                    statuses: vec![ictdesk_desk::tickets::TicketStatus::Closed],
                    ..TicketQuery::default()
                },
                Page::new(Some(1), Some(1)),
            )
            .await
            .expect("closed");
        let page = desk
            .ticket_page(&agent, closed.items[0].id)
            .await
            .expect("a ticket page");
        assert!(page.history.len() >= 3, "{:?}", page.history);

        assert!(
            desk.seed_demo().await.expect("checked").is_none(),
            "never seeds twice"
        );
        assert!(desk.ensure_admin().await.expect("checked").is_none());
    })
    .await;
}

#[tokio::test]
async fn an_empty_database_gets_one_admin_with_a_random_password() {
    on_empty_databases(|desk, log| async move {
        let first = desk
            .ensure_admin()
            .await
            .expect("created")
            .expect("the database was empty");
        assert_eq!(first.email, INITIAL_ADMIN_EMAIL);
        assert!(first.password.len() >= 16);
        let admin = desk
            .login(&first.email, &first.password)
            .await
            .expect("the admin logs in")
            .user;
        assert_eq!(admin.role.as_str(), "admin");
        assert!(
            desk.ensure_admin().await.expect("checked").is_none(),
            "only once"
        );
        let rows = log.read_after(0, 100).await.expect("the log");
        assert_eq!(
            rows.iter().map(|row| row.kind.as_str()).collect::<Vec<_>>(),
            ["user_created"]
        );
    })
    .await;
}
