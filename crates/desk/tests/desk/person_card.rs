//! The person and their equipment (issue 17, point 5): a person's card for staff, the
//! ticket's equipment set when filed and changed later, equipment found by holder and
//! place, a device's tickets.

use ictdesk_desk::{
    Page,
    equipment::{Equipment, EquipmentQuery, NewEquipment},
    locations::NewLocation,
    tickets::{NewTicket, Ticket, TicketChange, TicketQuery},
    users::User,
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_not_found},
};

async fn place(t: &TestDesk, name: &str, building: &str, room: &str) -> i64 {
    let input = NewLocation {
        name: name.into(),
        building: Some(building.into()),
        room: Some(room.into()),
    };
    let location = t.desk.create_location(&t.agent, &input).await;
    location.expect("location").id
}

async fn device(t: &TestDesk, number: &str, holder: Option<&User>, at: Option<i64>) -> Equipment {
    let input = NewEquipment {
        inventory_number: number.into(),
        name: "ThinkPad T14".into(),
        kind: "laptop".into(),
        location_id: at,
        assigned_user_id: holder.map(|user| user.id),
        ..NewEquipment::default()
    };
    let created = t.desk.create_equipment(&t.agent, &input).await;
    created.expect("equipment")
}

async fn file(t: &TestDesk, by: &User, title: &str, equipment: Option<i64>) -> Ticket {
    let input = NewTicket {
        title: title.into(),
        equipment_id: equipment,
        ..NewTicket::default()
    };
    t.desk.create_ticket(by, &input).await.expect("filed")
}

async fn found(t: &TestDesk, viewer: &User, q: &str) -> Vec<String> {
    let query = EquipmentQuery {
        q: Some(q.into()),
        ..EquipmentQuery::default()
    };
    let list = t.desk.list_equipment(viewer, &query, Page::default()).await;
    let list = list.expect("list");
    assert_eq!(
        list.total,
        list.items.len() as i64,
        "the count reads the same joins"
    );
    list.items
        .into_iter()
        .map(|piece| piece.inventory_number)
        .collect()
}

both!(
    the_person_card_shows_open_tickets_equipment_and_where_it_stands,
    |t: TestDesk| async move {
        let annex = place(&t, "Пристройка", "Б", "214").await;
        let laptop = device(&t, "INV-1", Some(&t.requester), Some(annex)).await;
        device(&t, "INV-2", Some(&t.requester), Some(annex)).await;
        device(&t, "INV-3", Some(&t.other_requester), None).await;
        let open = file(&t, &t.requester, "Не работает VPN", Some(laptop.id)).await;
        let done = file(&t, &t.requester, "Принтер", None).await;
        let resolve = TicketChange {
            status: Some("resolved".into()),
            resolution: Some("Заменили картридж".into()),
            ..TicketChange::default()
        };
        t.desk
            .change_ticket(&t.agent, done.id, &resolve)
            .await
            .expect("resolved");
        file(&t, &t.other_requester, "Чужая заявка", None).await;

        for viewer in [&t.agent, &t.admin] {
            let card = t.desk.person_card(viewer, t.requester.id).await;
            let card = card.expect("staff see the card");
            assert_eq!(card.user.id, t.requester.id);
            let tickets: Vec<i64> = card.open_tickets.items.iter().map(|x| x.id).collect();
            assert_eq!((tickets, card.open_tickets.total), (vec![open.id], 1));
            let held: Vec<&str> = card
                .equipment
                .iter()
                .map(|x| x.inventory_number.as_str())
                .collect();
            assert_eq!(held, ["INV-1", "INV-2"]);
            let places: Vec<String> = card.locations.iter().map(|x| x.label()).collect();
            assert_eq!(places.len(), 1, "each place once: {places:?}");
            assert!(places[0].contains("214"), "{places:?}");
        }
        // Requesters see no one's card, their own included: "not found", as for nobody.
        assert_not_found(t.desk.person_card(&t.requester, t.requester.id).await);
        assert_not_found(t.desk.person_card(&t.other_requester, t.requester.id).await);
        assert_not_found(t.desk.person_card(&t.agent, 999_999).await);
    }
);

both!(
    equipment_is_found_by_its_holder_and_its_place,
    |t: TestDesk| async move {
        let annex = place(&t, "Annex", "West wing", "Room 214").await;
        device(&t, "INV-1", Some(&t.requester), None).await;
        device(&t, "INV-2", None, Some(annex)).await;
        device(&t, "INV-3", Some(&t.other_requester), Some(annex)).await;
        assert_eq!(found(&t, &t.agent, "Петрова").await, ["INV-1"]);
        assert_eq!(found(&t, &t.agent, "maria@test").await, ["INV-1"]);
        assert_eq!(found(&t, &t.agent, "west wing").await, ["INV-2", "INV-3"]);
        assert_eq!(found(&t, &t.agent, "room 214").await, ["INV-2", "INV-3"]);
        assert_eq!(found(&t, &t.agent, "smith").await, ["INV-3"]);
        assert_eq!(found(&t, &t.agent, "inv-2").await, ["INV-2"]);
        // A requester's search stays within what they hold.
        assert_eq!(found(&t, &t.requester, "annex").await, Vec::<String>::new());
        assert_eq!(found(&t, &t.other_requester, "annex").await, ["INV-3"]);
    }
);

both!(
    a_tickets_equipment_is_set_when_filed_and_changed_later_and_the_device_lists_it,
    |t: TestDesk| async move {
        let mine = device(&t, "INV-1", Some(&t.requester), None).await;
        let theirs = device(&t, "INV-2", Some(&t.other_requester), None).await;
        // A requester names only what they hold; someone else's device is "no such
        // equipment", as one that does not exist, and nothing is filed.
        let before = t.head().await;
        let refused = t
            .desk
            .create_ticket(
                &t.requester,
                &NewTicket {
                    title: "Чужой ноутбук".into(),
                    equipment_id: Some(theirs.id),
                    ..NewTicket::default()
                },
            )
            .await;
        assert_field_error(refused, "equipment_id");
        assert!(t.events_since(before).await.is_empty());
        let ticket = file(&t, &t.requester, "Не включается", Some(mine.id)).await;
        assert_eq!(ticket.equipment_id, Some(mine.id));

        // Staff change it later to any piece, and back to none.
        let to = |id: Option<i64>| TicketChange {
            equipment_id: Some(id),
            ..TicketChange::default()
        };
        let changed = t
            .desk
            .change_ticket(&t.agent, ticket.id, &to(Some(theirs.id)))
            .await;
        let changed = changed.expect("changed").ticket;
        assert_eq!(changed.equipment_inventory_number.as_deref(), Some("INV-2"));
        let about = |id: i64| TicketQuery {
            equipment_id: Some(id),
            ..TicketQuery::default()
        };
        let listed = t
            .desk
            .list_tickets(&t.agent, &about(theirs.id), Page::default())
            .await;
        assert_eq!(listed.expect("list").items[0].id, ticket.id);
        let listed = t
            .desk
            .list_tickets(&t.agent, &about(mine.id), Page::default())
            .await;
        assert!(listed.expect("list").items.is_empty());
        // The device's holder sees only their own tickets about it.
        let listed = t
            .desk
            .list_tickets(&t.other_requester, &about(theirs.id), Page::default())
            .await;
        assert!(listed.expect("list").items.is_empty());
        let cleared = t.desk.change_ticket(&t.agent, ticket.id, &to(None)).await;
        assert_eq!(cleared.expect("cleared").ticket.equipment_id, None);
    }
);
