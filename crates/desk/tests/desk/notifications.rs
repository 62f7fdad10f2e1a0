//! System notifications: admins publish them to an audience.

use ictdesk_desk::{
    Page,
    notifications::{NewNotification, NotificationAudience},
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_forbidden, assert_not_found},
};

fn notice(audience: NotificationAudience, expires_at: Option<&str>) -> NewNotification {
    NewNotification {
        title: "Плановые работы".into(),
        message: "В субботу почта недоступна с 10 до 12".into(),
        level: Some("warning".into()),
        audience,
        expires_at: expires_at.map(Into::into),
    }
}

both!(
    a_notification_reaches_its_audience_only,
    |t: TestDesk| async move {
        let head = t.head().await;
        let personal = t
            .desk
            .create_notification(
                &t.admin,
                &notice(NotificationAudience::User(t.requester.id), None),
            )
            .await
            .expect("created");
        let event = t.one_event(head, "system_notification_created").await;
        assert_eq!(event.data["notification"]["id"], personal.id);
        assert_eq!(
            event.data["notification"]["audience"]["user"],
            t.requester.id
        );
        assert!(event.reaches(&t.requester));
        assert!(!event.reaches(&t.other_requester) && !event.reaches(&t.agent));

        let head = t.head().await;
        t.desk
            .create_notification(&t.admin, &notice(NotificationAudience::Agents, None))
            .await
            .expect("created");
        let event = t.one_event(head, "system_notification_created").await;
        assert!(event.reaches(&t.agent) && event.reaches(&t.admin) && !event.reaches(&t.requester));

        let mine = t
            .desk
            .list_notifications(&t.requester, Page::default())
            .await
            .expect("list");
        assert_eq!(
            mine.items.iter().map(|n| n.id).collect::<Vec<_>>(),
            [personal.id]
        );
        assert_eq!(
            t.desk
                .list_notifications(&t.other_requester, Page::default())
                .await
                .expect("list")
                .total,
            0
        );
        assert_eq!(
            t.desk
                .list_notifications(&t.agent, Page::default())
                .await
                .expect("list")
                .total,
            1
        );
    }
);

both!(
    expired_notifications_are_not_listed,
    |t: TestDesk| async move {
        t.desk
            .create_notification(
                &t.admin,
                &notice(NotificationAudience::Everyone, Some("2020-01-01T00:00:00Z")),
            )
            .await
            .expect("created");
        t.desk
            .create_notification(
                &t.admin,
                &notice(
                    NotificationAudience::Everyone,
                    Some("2999-01-01T00:00:00+03:00"),
                ),
            )
            .await
            .expect("created");
        assert_eq!(
            t.desk
                .list_notifications(&t.requester, Page::default())
                .await
                .expect("list")
                .total,
            1
        );
        assert_eq!(
            t.desk
                .all_notifications(&t.admin, Page::default())
                .await
                .expect("list")
                .total,
            2
        );
    }
);

both!(
    only_admins_publish_notifications,
    |t: TestDesk| async move {
        let head = t.head().await;
        assert_forbidden(
            t.desk
                .create_notification(&t.agent, &notice(NotificationAudience::Everyone, None))
                .await,
        );
        assert_field_error(
            t.desk
                .create_notification(&t.admin, &notice(NotificationAudience::User(9999), None))
                .await,
            "audience",
        );
        assert_field_error(
            t.desk
                .create_notification(
                    &t.admin,
                    &notice(NotificationAudience::Everyone, Some("soon")),
                )
                .await,
            "expires_at",
        );
        t.no_event_since(head).await;
    }
);

both!(
    withdrawn_notifications_leave_lists_and_banners,
    |t: TestDesk| async move {
        let mut info = notice(NotificationAudience::Everyone, None);
        info.level = Some("info".into());
        let info = t
            .desk
            .create_notification(&t.admin, &info)
            .await
            .expect("created");
        let warning = t
            .desk
            .create_notification(&t.admin, &notice(NotificationAudience::Everyone, None))
            .await
            .expect("created");
        let banners = t.desk.banners(&t.requester).await.expect("banners");
        assert_eq!(
            banners.iter().map(|n| n.id).collect::<Vec<_>>(),
            [warning.id]
        );

        let head = t.head().await;
        let withdrawn = t
            .desk
            .withdraw_notification(&t.admin, warning.id)
            .await
            .expect("withdrawn");
        assert!(withdrawn.withdrawn_at.is_some());
        let event = t.one_event(head, "system_notification_withdrawn").await;
        assert_eq!(event.data["notification"]["id"], warning.id);
        assert!(event.reaches(&t.requester) && event.reaches(&t.agent));

        assert!(
            t.desk
                .banners(&t.requester)
                .await
                .expect("banners")
                .is_empty()
        );
        let listed = t
            .desk
            .list_notifications(&t.requester, Page::default())
            .await
            .expect("list");
        assert_eq!(
            listed.items.iter().map(|n| n.id).collect::<Vec<_>>(),
            [info.id]
        );
        let all = t
            .desk
            .all_notifications(&t.admin, Page::default())
            .await
            .expect("all");
        assert_eq!(all.total, 2, "the admins' list keeps it");

        let head = t.head().await;
        assert_not_found(t.desk.withdraw_notification(&t.admin, 999_999).await);
        assert_forbidden(t.desk.withdraw_notification(&t.agent, info.id).await);
        t.no_event_since(head).await;
    }
);
