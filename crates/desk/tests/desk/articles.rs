//! Knowledge base: visibility, events, full-text search by stem in both languages.

use ictdesk_desk::{
    Page,
    articles::{ArticleChange, ArticleQuery, NewArticle},
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_forbidden, assert_not_found},
};

fn article(title: &str, body: &str, visibility: &str) -> NewArticle {
    NewArticle {
        title: title.into(),
        body: body.into(),
        category_id: None,
        visibility: Some(visibility.into()),
    }
}

async fn search(t: &TestDesk, viewer: &ictdesk_desk::users::User, q: &str) -> Vec<String> {
    let query = ArticleQuery {
        q: Some(q.into()),
        ..ArticleQuery::default()
    };
    let found = t
        .desk
        .list_articles(viewer, &query, Page::default())
        .await
        .expect("search");
    found
        .items
        .into_iter()
        .map(|article| article.title)
        .collect()
}

both!(
    articles_reach_everyone_or_agents_only,
    |t: TestDesk| async move {
        let head = t.head().await;
        let public = t
            .desk
            .create_article(
                &t.agent,
                &article(
                    "Как подключить принтер",
                    "Откройте **Параметры**",
                    "everyone",
                ),
            )
            .await
            .expect("created");
        let event = t.one_event(head, "knowledge_article_created").await;
        assert_eq!(event.data["article"]["id"], public.id);
        assert!(event.data["article"].get("body").is_none());
        assert!(event.reaches(&t.requester) && !event.reaches_anonymous());

        let head = t.head().await;
        let internal = t
            .desk
            .create_article(
                &t.agent,
                &article("Пароли от коммутаторов", "Хранятся в сейфе", "agents"),
            )
            .await
            .expect("created");
        let event = t.one_event(head, "knowledge_article_created").await;
        assert!(event.reaches(&t.agent) && !event.reaches(&t.requester));

        assert_not_found(t.desk.get_article(&t.requester, internal.id).await);
        let visible = t
            .desk
            .list_articles(&t.requester, &ArticleQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(
            visible.items.iter().map(|a| a.id).collect::<Vec<_>>(),
            [public.id]
        );
        assert_eq!(
            t.desk
                .list_articles(&t.agent, &ArticleQuery::default(), Page::default())
                .await
                .expect("list")
                .total,
            2
        );
        assert!(search(&t, &t.requester, "коммутаторов").await.is_empty());
    }
);

both!(
    editing_an_article_is_one_update_event,
    |t: TestDesk| async move {
        let created = t
            .desk
            .create_article(&t.agent, &article("VPN", "Install the client", "everyone"))
            .await
            .expect("created");
        let head = t.head().await;
        let change = ArticleChange {
            version: Some(created.version),
            body: Some("Install the new client".into()),
            ..ArticleChange::default()
        };
        let updated = t
            .desk
            .change_article(&t.admin, created.id, &change)
            .await
            .expect("updated");
        assert_eq!(updated.version, created.version + 1);
        let event = t.one_event(head, "knowledge_article_updated").await;
        assert_eq!(event.data["changed_fields"][0], "body");
        assert_eq!(event.data["actor"]["id"], t.admin.id);
        // The search index follows the edit.
        assert_eq!(search(&t, &t.requester, "new client").await, ["VPN"]);
        let hide = ArticleChange {
            visibility: Some("agents".into()),
            ..ArticleChange::default()
        };
        let head = t.head().await;
        t.desk
            .change_article(&t.agent, created.id, &hide)
            .await
            .expect("hidden");
        assert!(
            !t.one_event(head, "knowledge_article_updated")
                .await
                .reaches(&t.requester)
        );
        let stale = ArticleChange {
            version: Some(created.version),
            title: Some("x".into()),
            ..ArticleChange::default()
        };
        assert!(matches!(
            t.desk.change_article(&t.agent, created.id, &stale).await,
            Err(ictdesk_desk::Error::Conflict { .. })
        ));
    }
);

both!(requesters_do_not_write_articles, |t: TestDesk| async move {
    let head = t.head().await;
    assert_forbidden(
        t.desk
            .create_article(&t.requester, &article("x", "y", "everyone"))
            .await,
    );
    assert_field_error(
        t.desk
            .create_article(&t.agent, &article("x", "y", "public"))
            .await,
        "visibility",
    );
    assert_field_error(
        t.desk
            .create_article(&t.agent, &article("", "y", "everyone"))
            .await,
        "title",
    );
    t.no_event_since(head).await;
});

both!(
    search_finds_russian_and_english_words_by_stem,
    |t: TestDesk| async move {
        let items = [
            (
                "Замена картриджа",
                "Если принтер печатает полосами, замените картридж.",
                "everyone",
            ),
            (
                "Printer setup",
                "Add the printer from the Settings app.",
                "everyone",
            ),
            (
                "Настройка VPN",
                "Подключение к сети из дома через VPN-клиент.",
                "everyone",
            ),
            (
                "Mailbox quota",
                "Archive old messages to free space.",
                "everyone",
            ),
        ];
        for (title, body, visibility) in items {
            t.desk
                .create_article(&t.agent, &article(title, body, visibility))
                .await
                .expect("created");
        }
        assert_eq!(
            search(&t, &t.requester, "принтеры").await,
            ["Замена картриджа"]
        );
        assert_eq!(
            search(&t, &t.requester, "принтера").await,
            ["Замена картриджа"]
        );
        assert_eq!(
            search(&t, &t.requester, "printers").await,
            ["Printer setup"]
        );
        assert_eq!(
            search(&t, &t.requester, "Messages").await,
            ["Mailbox quota"]
        );
        assert_eq!(search(&t, &t.requester, "сети").await, ["Настройка VPN"]);
        assert_eq!(
            search(&t, &t.requester, "настройки").await,
            ["Настройка VPN"]
        );
        assert!(search(&t, &t.requester, "сканер").await.is_empty());
        // Odd input is searched, never a syntax error.
        assert!(
            search(&t, &t.requester, "\"unclosed OR (NEAR*")
                .await
                .is_empty()
        );
    }
);
