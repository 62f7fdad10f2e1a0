//! Teams and queues (issue 12 point 2): admins manage teams, agents and admins see
//! them, requesters neither; a ticket belongs to a team (chosen by staff or by its
//! category) and its agent is in that team; a team may assign its new tickets in turn.

use ictdesk_desk::{
    Error, Page,
    categories::NewCategory,
    teams::{NewTeam, Team, TeamChange},
    tickets::{NewTicket, TicketChange, TicketQuery},
    users::{NewUser, User, UserChange},
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_forbidden, assert_not_found},
};

fn team(name: &str, lead: Option<&User>, members: &[&User]) -> NewTeam {
    NewTeam {
        name: name.into(),
        lead_id: lead.map(|user| user.id),
        member_ids: members.iter().map(|user| user.id).collect(),
        ..NewTeam::default()
    }
}

async fn second_agent(t: &TestDesk, email: &str) -> User {
    t.desk
        .create_user(
            &t.admin,
            &NewUser {
                name: format!("Агент {email}"),
                email: email.into(),
                role: "agent".into(),
                password: "long enough".into(),
                locale: None,
            },
        )
        .await
        .expect("an agent")
}

fn member_ids(team: &Team) -> Vec<i64> {
    team.members.iter().map(|member| member.id).collect()
}

both!(
    admins_manage_teams_and_staff_see_them,
    |t: TestDesk| async move {
        let desk = &t.desk;
        t.refuses(desk.create_team(&t.agent, &team("Сеть", None, &[])))
            .await;
        assert_forbidden(desk.create_team(&t.agent, &team("Сеть", None, &[])).await);
        assert_field_error(
            desk.create_team(&t.admin, &team("  ", None, &[])).await,
            "name",
        );
        assert_field_error(
            desk.create_team(&t.admin, &team("Сеть", None, &[&t.requester]))
                .await,
            "member_ids",
        );
        assert_field_error(
            desk.create_team(&t.admin, &team("Сеть", Some(&t.requester), &[]))
                .await,
            "lead_id",
        );

        let head = t.head().await;
        let network = desk
            .create_team(&t.admin, &team("Сеть", Some(&t.agent), &[]))
            .await
            .expect("a team");
        let created = t.one_event(head, "team_created").await;
        assert!(created.reaches(&t.admin) && created.reaches(&t.agent));
        assert!(!created.reaches(&t.requester) && !created.reaches_anonymous());
        assert_eq!(created.data["team"]["name"], "Сеть");
        // The lead is one of the members, listed or not.
        assert_eq!(network.lead_id, Some(t.agent.id));
        assert_eq!(member_ids(&network), vec![t.agent.id]);
        assert_field_error(
            desk.create_team(&t.admin, &team("Сеть", None, &[])).await,
            "name",
        );

        assert_eq!(desk.list_teams(&t.agent).await.expect("teams").len(), 1);
        assert_forbidden(desk.list_teams(&t.requester).await);
        assert_forbidden(desk.get_team(&t.requester, network.id).await);
        assert_not_found(desk.get_team(&t.agent, network.id + 100).await);

        let grow = TeamChange {
            version: Some(network.version),
            name: Some("Сеть и телефония".into()),
            member_ids: Some(vec![t.agent.id, t.admin.id]),
            ..TeamChange::default()
        };
        let head = t.head().await;
        let grown = desk
            .change_team(&t.admin, network.id, &grow)
            .await
            .expect("changed");
        let updated = t.one_event(head, "team_updated").await;
        assert_eq!(
            updated.data["changed_fields"],
            serde_json::json!(["name", "members"])
        );
        assert!(!updated.reaches(&t.requester));
        assert_eq!(grown.version, network.version + 1);
        assert_eq!(member_ids(&grown).len(), 2);
        // The same again changes nothing; an old version is refused.
        t.quietly(desk.change_team(
            &t.admin,
            network.id,
            &TeamChange {
                version: Some(grown.version),
                ..grow.clone()
            },
        ))
        .await;
        let stale = desk.change_team(&t.admin, network.id, &grow).await;
        assert!(
            matches!(stale, Err(Error::Conflict { .. })),
            "expected a conflict, got {stale:?}"
        );
        t.refuses(desk.change_team(&t.agent, network.id, &TeamChange::default()))
            .await;
        // Without its lead: the lead's place is empty, the members stay.
        let leaderless = desk
            .change_team(
                &t.admin,
                network.id,
                &TeamChange {
                    lead_id: Some(None),
                    ..TeamChange::default()
                },
            )
            .await
            .expect("no lead");
        assert_eq!(leaderless.lead_id, None);
        assert_eq!(member_ids(&leaderless).len(), 2);
    }
);

both!(
    a_ticket_belongs_to_a_team_and_its_agent_is_in_it,
    |t: TestDesk| async move {
        let desk = &t.desk;
        let network = desk
            .create_team(&t.admin, &team("Сеть", Some(&t.agent), &[]))
            .await
            .expect("network");
        let accounting = desk
            .create_team(&t.admin, &team("1С", None, &[&t.admin]))
            .await
            .expect("1C");
        let category = desk
            .create_category(
                &t.admin,
                &NewCategory {
                    name: "Сеть".into(),
                    default_team_id: Some(network.id),
                    ..NewCategory::default()
                },
            )
            .await
            .expect("category");
        assert_field_error(
            desk.create_category(
                &t.admin,
                &NewCategory {
                    name: "Принтеры".into(),
                    default_team_id: Some(network.id + 100),
                    ..NewCategory::default()
                },
            )
            .await,
            "default_team_id",
        );

        // The category's team, when the requester does not (and may not) choose one.
        let filed = desk
            .create_ticket(
                &t.requester,
                &NewTicket {
                    title: "Нет интернета".into(),
                    category_id: Some(category.id),
                    ..NewTicket::default()
                },
            )
            .await
            .expect("filed");
        assert_eq!(filed.team_id, Some(network.id));
        assert_eq!(filed.team_name.as_deref(), Some("Сеть"));
        t.refuses(desk.create_ticket(
            &t.requester,
            &NewTicket {
                title: "В 1С".into(),
                team_id: Some(accounting.id),
                ..NewTicket::default()
            },
        ))
        .await;
        assert_field_error(
            desk.create_ticket(
                &t.agent,
                &NewTicket {
                    title: "В никуда".into(),
                    team_id: Some(accounting.id + 100),
                    ..NewTicket::default()
                },
            )
            .await,
            "team_id",
        );

        // An agent outside the ticket's team is refused, and nothing is announced.
        let outsider = TicketChange {
            assignee_id: Some(Some(t.admin.id)),
            ..TicketChange::default()
        };
        t.refuses(desk.change_ticket(&t.agent, filed.id, &outsider))
            .await;
        assert_field_error(
            desk.change_ticket(&t.agent, filed.id, &outsider).await,
            "assignee_id",
        );
        let take = TicketChange {
            assignee_id: Some(Some(t.agent.id)),
            ..TicketChange::default()
        };
        t.announces(
            "ticket_assigned",
            desk.change_ticket(&t.agent, filed.id, &take),
        )
        .await;

        // Moved to a team its agent is not in: the ticket leaves the agent.
        let head = t.head().await;
        let moved = desk
            .change_ticket(
                &t.agent,
                filed.id,
                &TicketChange {
                    team_id: Some(Some(accounting.id)),
                    ..TicketChange::default()
                },
            )
            .await
            .expect("moved");
        let event = t.one_event(head, "ticket_assigned").await;
        assert_eq!(moved.ticket.team_id, Some(accounting.id));
        assert_eq!(moved.ticket.assignee_id, None);
        assert_eq!(event.data["ticket"]["team_name"], "1С");
        let fields: Vec<&str> = event.data["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .filter_map(|change| change["field"].as_str())
            .collect();
        assert_eq!(fields, vec!["assignee", "team"]);
        let page = desk
            .ticket_page(&t.agent, filed.id)
            .await
            .expect("the ticket");
        assert!(
            page.history
                .iter()
                .any(|entry| entry.field == "team" && entry.new_value.as_deref() == Some("1С"))
        );

        // A team's queue.
        let other = t.filed("Принтер").await;
        let queue = |team_id| TicketQuery {
            team_id: Some(team_id),
            ..TicketQuery::default()
        };
        let in_accounting = desk
            .list_tickets(&t.agent, &queue(accounting.id), Page::all())
            .await
            .expect("queue");
        let ids: Vec<i64> = in_accounting.items.iter().map(|ticket| ticket.id).collect();
        assert_eq!(ids, vec![filed.id]);
        assert!(!ids.contains(&other.id));
        let in_network = desk
            .list_tickets(&t.agent, &queue(network.id), Page::all())
            .await
            .expect("queue");
        assert_eq!(in_network.total, 0);
        // A requester's list stays their own, whichever team is asked for.
        let theirs = desk
            .list_tickets(&t.other_requester, &queue(accounting.id), Page::all())
            .await
            .expect("their list");
        assert_eq!(theirs.total, 0);
    }
);

both!(
    a_team_assigns_its_new_tickets_in_turn,
    |t: TestDesk| async move {
        let desk = &t.desk;
        let second = second_agent(&t, "second@test.local").await;
        let third = second_agent(&t, "third@test.local").await;
        let first_line = desk
            .create_team(
                &t.admin,
                &NewTeam {
                    auto_assign: Some(true),
                    ..team("1-я линия", Some(&t.agent), &[&second, &third])
                },
            )
            .await
            .expect("team");
        // Someone blocked is not available.
        desk.change_user(
            &t.admin,
            third.id,
            &UserChange {
                status: Some("blocked".into()),
                ..UserChange::default()
            },
        )
        .await
        .expect("blocked");
        let mut assignees = Vec::new();
        for n in 0..4 {
            let ticket = desk
                .create_ticket(
                    &t.agent,
                    &NewTicket {
                        title: format!("Заявка {n}"),
                        team_id: Some(first_line.id),
                        requester_id: Some(t.requester.id),
                        ..NewTicket::default()
                    },
                )
                .await
                .expect("filed");
            assignees.push(ticket.assignee_id);
        }
        let (a, b) = (
            Some(t.agent.id.min(second.id)),
            Some(t.agent.id.max(second.id)),
        );
        assert_eq!(assignees, vec![a, b, a, b]);
        // Whoever a ticket is given to finds it in their inbox (not whoever filed it).
        let inbox = desk
            .inbox(&second, false, Page::all())
            .await
            .expect("inbox");
        assert_eq!(inbox.total, 2);
        assert!(
            inbox
                .items
                .iter()
                .all(|entry| entry.kind == "ticket_assigned")
        );
        let own = desk
            .inbox(&t.agent, false, Page::all())
            .await
            .expect("inbox");
        assert_eq!(own.total, 0, "the agent filed their own tickets");

        // Without auto-assignment, a new ticket waits in the queue.
        desk.change_team(
            &t.admin,
            first_line.id,
            &TeamChange {
                auto_assign: Some(false),
                ..TeamChange::default()
            },
        )
        .await
        .expect("manual");
        let waiting = desk
            .create_ticket(
                &t.agent,
                &NewTicket {
                    title: "Ждёт".into(),
                    team_id: Some(first_line.id),
                    ..NewTicket::default()
                },
            )
            .await
            .expect("filed");
        assert_eq!(waiting.assignee_id, None);
    }
);
