//! The leak matrix at the source: one change of every kind, and for each event who is
//! in its audience — admin, agent, the requester concerned, another requester, nobody.

use ictdesk_desk::{
    articles::NewArticle,
    comments::NewComment,
    equipment::{EquipmentChange, NewEquipment},
    events,
    inbox::MarkRead,
    locations::NewLocation,
    notifications::{NewNotification, NotificationAudience},
    teams::{NewTeam, TeamChange},
    tickets::{NewTicket, TicketChange},
    users::{NewUser, UserChange},
};

use crate::{both, helpers::TestDesk};

/// (admin, agent, requester concerned, other requester)
type Reach = (bool, bool, bool, bool);

both!(
    every_event_type_reaches_exactly_its_audience,
    |t: TestDesk| async move {
        let start = t.head().await;
        let ticket = t
            .desk
            .create_ticket(
                &t.requester,
                &NewTicket {
                    title: "Нет звука".into(),
                    ..NewTicket::default()
                },
            )
            .await
            .expect("ticket");
        let status = TicketChange {
            status: Some("in_progress".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, ticket.id, &status)
            .await
            .expect("status");
        let assign = TicketChange {
            assignee_id: Some(Some(t.agent.id)),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, ticket.id, &assign)
            .await
            .expect("assigned");
        let retitle = TicketChange {
            title: Some("Не работает звук в переговорной".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, ticket.id, &retitle)
            .await
            .expect("retitled");
        let public = NewComment {
            body: "Проверьте кабель".into(),
            internal: false,
            ..NewComment::default()
        };
        t.desk
            .add_comment(&t.agent, ticket.id, &public)
            .await
            .expect("comment");
        let note = NewComment {
            body: "Колонки под списание".into(),
            internal: true,
            ..NewComment::default()
        };
        t.desk
            .add_comment(&t.agent, ticket.id, &note)
            .await
            .expect("note");
        let newcomer = NewUser {
            name: "Пётр Сидоров".into(),
            email: "petr@test.local".into(),
            role: "requester".into(),
            password: "long enough".into(),
            locale: None,
        };
        let newcomer = t.desk.create_user(&t.admin, &newcomer).await.expect("user");
        let block = UserChange {
            status: Some("blocked".into()),
            ..UserChange::default()
        };
        t.desk
            .change_user(&t.admin, newcomer.id, &block)
            .await
            .expect("blocked");
        let room = NewLocation {
            name: "Б-21".into(),
            ..NewLocation::default()
        };
        let room = t
            .desk
            .create_location(&t.agent, &room)
            .await
            .expect("location");
        let piece = NewEquipment {
            inventory_number: "INV-9".into(),
            name: "Колонки".into(),
            kind: "other".into(),
            assigned_user_id: Some(t.requester.id),
            ..NewEquipment::default()
        };
        let piece = t
            .desk
            .create_equipment(&t.agent, &piece)
            .await
            .expect("equipment");
        let moved = EquipmentChange {
            location_id: Some(Some(room.id)),
            ..EquipmentChange::default()
        };
        t.desk
            .change_equipment(&t.agent, piece.id, &moved)
            .await
            .expect("moved");
        let article = |visibility: &str| NewArticle {
            title: "Звук".into(),
            body: "Проверьте микшер".into(),
            category_id: None,
            visibility: Some(visibility.into()),
        };
        let public_article = t
            .desk
            .create_article(&t.agent, &article("everyone"))
            .await
            .expect("article");
        t.desk
            .create_article(&t.agent, &article("agents"))
            .await
            .expect("internal article");
        let edit = ictdesk_desk::articles::ArticleChange {
            title: Some("Нет звука".into()),
            ..Default::default()
        };
        t.desk
            .change_article(&t.agent, public_article.id, &edit)
            .await
            .expect("edited");
        let notice = |audience| NewNotification {
            title: "Работы".into(),
            message: "В субботу".into(),
            level: None,
            audience,
            expires_at: None,
        };
        for audience in [
            NotificationAudience::Everyone,
            NotificationAudience::Agents,
            NotificationAudience::Admins,
            NotificationAudience::User(t.requester.id),
        ] {
            let published = t
                .desk
                .create_notification(&t.admin, &notice(audience))
                .await
                .expect("notification");
            t.desk
                .withdraw_notification(&t.admin, published.id)
                .await
                .expect("withdrawn");
        }
        t.desk
            .mark_read(&t.requester, &MarkRead::All)
            .await
            .expect("read");
        let team = NewTeam {
            name: "Сеть".into(),
            lead_id: Some(t.agent.id),
            ..NewTeam::default()
        };
        let team = t.desk.create_team(&t.admin, &team).await.expect("team");
        let rename = TeamChange {
            name: Some("Сеть и телефония".into()),
            ..TeamChange::default()
        };
        t.desk
            .change_team(&t.admin, team.id, &rename)
            .await
            .expect("renamed");

        let expected: Vec<(&str, Reach)> = vec![
            (events::TICKET_CREATED, (true, true, true, false)),
            (events::TICKET_STATUS_CHANGED, (true, true, true, false)),
            (events::TICKET_ASSIGNED, (true, true, true, false)),
            (events::TICKET_UPDATED, (true, true, true, false)),
            (events::TICKET_COMMENT_CREATED, (true, true, true, false)),
            (events::TICKET_COMMENT_CREATED, (true, true, false, false)),
            (events::USER_CREATED, (true, false, false, false)),
            (events::USER_STATUS_CHANGED, (true, false, false, false)),
            (events::EQUIPMENT_STATUS_CHANGED, (true, true, true, false)),
            (
                events::EQUIPMENT_LOCATION_CHANGED,
                (true, true, true, false),
            ),
            (events::KNOWLEDGE_ARTICLE_CREATED, (true, true, true, true)),
            (
                events::KNOWLEDGE_ARTICLE_CREATED,
                (true, true, false, false),
            ),
            (events::KNOWLEDGE_ARTICLE_UPDATED, (true, true, true, true)),
            (
                events::SYSTEM_NOTIFICATION_CREATED,
                (true, true, true, true),
            ),
            (
                events::SYSTEM_NOTIFICATION_WITHDRAWN,
                (true, true, true, true),
            ),
            (
                events::SYSTEM_NOTIFICATION_CREATED,
                (true, true, false, false),
            ),
            (
                events::SYSTEM_NOTIFICATION_WITHDRAWN,
                (true, true, false, false),
            ),
            (
                events::SYSTEM_NOTIFICATION_CREATED,
                (true, false, false, false),
            ),
            (
                events::SYSTEM_NOTIFICATION_WITHDRAWN,
                (true, false, false, false),
            ),
            (
                events::SYSTEM_NOTIFICATION_CREATED,
                (false, false, true, false),
            ),
            (
                events::SYSTEM_NOTIFICATION_WITHDRAWN,
                (false, false, true, false),
            ),
            (events::INBOX_READ, (false, false, true, false)),
            (events::TEAM_CREATED, (true, true, false, false)),
            (events::TEAM_UPDATED, (true, true, false, false)),
        ];
        let seen = t.events_since(start).await;
        let actual: Vec<(&str, Reach)> = seen
            .iter()
            .map(|event| {
                let reach = (
                    event.reaches(&t.admin),
                    event.reaches(&t.agent),
                    event.reaches(&t.requester),
                    event.reaches(&t.other_requester),
                );
                assert!(!event.reaches_anonymous(), "{event:?}");
                (event.kind.as_str(), reach)
            })
            .collect();
        assert_eq!(actual, expected);
        let types: std::collections::BTreeSet<&str> =
            actual.iter().map(|(kind, _)| *kind).collect();
        // All but user_session_ended (sessions: `change_path`).
        assert_eq!(types.len(), events::ALL.len() - 1, "every type covered");
    }
);
