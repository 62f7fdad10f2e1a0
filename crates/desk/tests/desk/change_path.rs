//! The one change path (`Desk`'s services through `Change`): every service announces a
//! successful change with exactly one event and a refused one with none; writes that
//! no live page shows (locations, categories, new sessions and tokens, failed logins)
//! and edits that change nothing announce nothing.

use ictdesk_desk::{
    articles::{ArticleChange, NewArticle},
    categories::NewCategory,
    comments::NewComment,
    equipment::{EquipmentChange, NewEquipment},
    locations::NewLocation,
    login_limit::{Admission, LoginLimit},
    notifications::{NewNotification, NotificationAudience},
    teams::{NewTeam, TeamChange},
    tickets::{NewTicket, TicketChange},
    users::{NewUser, UserChange},
};

use crate::{
    both,
    helpers::{PASSWORD, TestDesk},
};

both!(tickets_and_comments, |t: TestDesk| async move {
    let desk = &t.desk;
    let filed = |title: &str| NewTicket {
        title: title.into(),
        ..NewTicket::default()
    };
    t.refuses(desk.create_ticket(&t.requester, &filed("  ")))
        .await;
    let ticket = t
        .announces(
            "ticket_created",
            desk.create_ticket(&t.requester, &filed("The printer jams")),
        )
        .await;
    let id = ticket.id;
    let start = TicketChange {
        status: Some("in_progress".into()),
        ..TicketChange::default()
    };
    t.refuses(desk.change_ticket(&t.requester, id, &start))
        .await;
    t.announces(
        "ticket_status_changed",
        desk.change_ticket(&t.agent, id, &start),
    )
    .await;
    let assign = TicketChange {
        assignee_id: Some(Some(t.agent.id)),
        ..TicketChange::default()
    };
    t.announces("ticket_assigned", desk.change_ticket(&t.agent, id, &assign))
        .await;
    t.quietly(desk.change_ticket(&t.agent, id, &assign)).await;
    let edit = TicketChange {
        priority: Some("high".into()),
        ..TicketChange::default()
    };
    t.announces("ticket_updated", desk.change_ticket(&t.agent, id, &edit))
        .await;
    let reply = NewComment {
        body: "Paper loaded".into(),
        internal: false,
        ..NewComment::default()
    };
    t.refuses(desk.add_comment(&t.other_requester, id, &reply))
        .await;
    t.announces(
        "ticket_comment_created",
        desk.add_comment(&t.requester, id, &reply),
    )
    .await;
});

both!(users, |t: TestDesk| async move {
    let desk = &t.desk;
    let person = |email: &str| NewUser {
        name: "Пётр Новиков".into(),
        email: email.into(),
        role: "requester".into(),
        password: PASSWORD.into(),
        locale: None,
    };
    t.refuses(desk.create_user(&t.agent, &person("petr@test.local")))
        .await;
    let user = t
        .announces(
            "user_created",
            desk.create_user(&t.admin, &person("petr@test.local")),
        )
        .await;
    t.announces(
        "user_created",
        desk.create_user_by_system(&person("olga@test.local")),
    )
    .await;
    let block = UserChange {
        status: Some("blocked".into()),
        ..UserChange::default()
    };
    t.refuses(desk.change_user(&t.agent, user.id, &block)).await;
    t.announces(
        "user_status_changed",
        desk.change_user(&t.admin, user.id, &block),
    )
    .await;
    t.quietly(desk.change_user(&t.admin, user.id, &block)).await;
    let unblock = UserChange {
        status: Some("active".into()),
        ..UserChange::default()
    };
    t.announces(
        "user_status_changed",
        desk.change_user_by_system(user.id, &unblock),
    )
    .await;
});

both!(equipment, |t: TestDesk| async move {
    let desk = &t.desk;
    let laptop = NewEquipment {
        inventory_number: "INV-0001".into(),
        name: "ThinkPad T14".into(),
        kind: "laptop".into(),
        ..NewEquipment::default()
    };
    t.refuses(desk.create_equipment(&t.requester, &laptop))
        .await;
    let piece = t
        .announces(
            "equipment_status_changed",
            desk.create_equipment(&t.agent, &laptop),
        )
        .await;
    let place = NewLocation {
        name: "Б-21".into(),
        building: None,
        room: None,
    };
    t.refuses(desk.create_location(&t.requester, &place)).await;
    let location = t.quietly(desk.create_location(&t.agent, &place)).await;
    let moved = EquipmentChange {
        location_id: Some(Some(location.id)),
        ..EquipmentChange::default()
    };
    t.refuses(desk.change_equipment(&t.requester, piece.id, &moved))
        .await;
    t.announces(
        "equipment_location_changed",
        desk.change_equipment(&t.agent, piece.id, &moved),
    )
    .await;
    t.quietly(desk.change_equipment(&t.agent, piece.id, &moved))
        .await;
});

both!(articles_and_categories, |t: TestDesk| async move {
    let desk = &t.desk;
    let topic = NewCategory {
        name: "Printing".into(),
        scope: Some("article".into()),
        active: None,
        default_team_id: None,
    };
    t.refuses(desk.create_category(&t.requester, &topic)).await;
    t.quietly(desk.create_category(&t.agent, &topic)).await;
    let howto = NewArticle {
        title: "Clearing a paper jam".into(),
        body: "Open tray 2.".into(),
        category_id: None,
        visibility: None,
    };
    t.refuses(desk.create_article(&t.requester, &howto)).await;
    let article = t
        .announces(
            "knowledge_article_created",
            desk.create_article(&t.agent, &howto),
        )
        .await;
    let edit = ArticleChange {
        body: Some("Open tray 2, then the back door.".into()),
        ..ArticleChange::default()
    };
    t.refuses(desk.change_article(&t.requester, article.id, &edit))
        .await;
    t.announces(
        "knowledge_article_updated",
        desk.change_article(&t.agent, article.id, &edit),
    )
    .await;
    t.quietly(desk.change_article(&t.agent, article.id, &edit))
        .await;
});

both!(notifications, |t: TestDesk| async move {
    let notice = NewNotification {
        title: "Mail is down".into(),
        message: "Back at noon.".into(),
        level: None,
        audience: NotificationAudience::Everyone,
        expires_at: None,
    };
    t.refuses(t.desk.create_notification(&t.agent, &notice))
        .await;
    let published = t
        .announces(
            "system_notification_created",
            t.desk.create_notification(&t.admin, &notice),
        )
        .await;
    t.refuses(t.desk.withdraw_notification(&t.agent, published.id))
        .await;
    t.announces(
        "system_notification_withdrawn",
        t.desk.withdraw_notification(&t.admin, published.id),
    )
    .await;
    t.quietly(t.desk.withdraw_notification(&t.admin, published.id))
        .await;
});

both!(
    sessions_tokens_and_failed_logins,
    |t: TestDesk| async move {
        let desk = &t.desk;
        t.refuses(desk.login("maria@test.local", "wrong")).await;
        let login = t.quietly(desk.login("maria@test.local", PASSWORD)).await;
        let token = t
            .quietly(desk.create_api_token(&t.requester, "backup script"))
            .await;
        t.refuses(desk.delete_api_token(&t.agent, token.token.id))
            .await;
        t.announces(
            "user_session_ended",
            desk.delete_api_token(&t.requester, token.token.id),
        )
        .await;
        t.announces("user_session_ended", desk.logout(&login.session_token))
            .await;
        t.quietly(desk.logout(&login.session_token)).await;
        let admission = t
            .quietly(desk.admit_login("127.0.0.1", "maria@test.local", LoginLimit::default()))
            .await;
        let Admission::Admitted(attempt) = admission else {
            panic!("the first attempt is admitted, got {admission:?}");
        };
        t.quietly(desk.forget_login_attempt(attempt)).await;
    }
);

both!(teams, |t: TestDesk| async move {
    let desk = &t.desk;
    let network = NewTeam {
        name: "Сеть".into(),
        lead_id: Some(t.agent.id),
        ..NewTeam::default()
    };
    t.refuses(desk.create_team(&t.agent, &network)).await;
    let team = t
        .announces("team_created", desk.create_team(&t.admin, &network))
        .await;
    let rename = TeamChange {
        name: Some("Сеть и телефония".into()),
        ..TeamChange::default()
    };
    t.refuses(desk.change_team(&t.requester, team.id, &rename))
        .await;
    t.announces("team_updated", desk.change_team(&t.admin, team.id, &rename))
        .await;
    t.quietly(desk.change_team(&t.admin, team.id, &rename))
        .await;
});
