//! Equipment: statuses, holders, locations, history, unique inventory numbers.

use ictdesk_desk::{
    Error, Page,
    equipment::{EquipmentChange, EquipmentQuery, NewEquipment},
    locations::NewLocation,
};

use crate::{
    both,
    helpers::{TestDesk, assert_field_error, assert_forbidden},
};

fn laptop(number: &str) -> NewEquipment {
    NewEquipment {
        inventory_number: number.into(),
        name: "ThinkPad T14".into(),
        kind: "laptop".into(),
        serial: Some("PF-12345".into()),
        ..NewEquipment::default()
    }
}

async fn room(t: &TestDesk, name: &str, building: &str, room: &str) -> i64 {
    let input = NewLocation {
        name: name.into(),
        building: Some(building.into()),
        room: Some(room.into()),
    };
    t.desk
        .create_location(&t.agent, &input)
        .await
        .expect("location")
        .id
}

both!(
    new_equipment_is_announced_as_a_status_change_from_nothing,
    |t: TestDesk| async move {
        let head = t.head().await;
        let piece = t
            .desk
            .create_equipment(&t.agent, &laptop("inv-0001"))
            .await
            .expect("created");
        assert_eq!(
            (piece.inventory_number.as_str(), piece.status.as_str()),
            ("INV-0001", "in_stock")
        );
        let event = t.one_event(head, "equipment_status_changed").await;
        assert!(event.data["old_status"].is_null());
        assert_eq!(event.data["new_status"], "in_stock");
        assert_eq!(event.data["equipment"]["id"], piece.id);
        assert!(event.reaches(&t.agent) && !event.reaches(&t.requester));
    }
);

both!(
    a_used_inventory_number_is_a_field_error_and_leaves_no_row_or_event,
    |t: TestDesk| async move {
        t.desk
            .create_equipment(&t.agent, &laptop("INV-0001"))
            .await
            .expect("created");
        let head = t.head().await;
        // Passes validation, fails half-way at the unique constraint: nothing remains.
        assert_field_error(
            t.desk.create_equipment(&t.agent, &laptop("inv-0001")).await,
            "inventory_number",
        );
        t.no_event_since(head).await;
        let list = t
            .desk
            .list_equipment(&t.agent, &EquipmentQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(list.total, 1);
    }
);

both!(
    assigning_a_person_puts_equipment_in_use_and_tells_them_but_not_their_successors_news,
    |t: TestDesk| async move {
        let piece = t
            .desk
            .create_equipment(&t.agent, &laptop("INV-0002"))
            .await
            .expect("created");
        let head = t.head().await;
        let assign = EquipmentChange {
            assigned_user_id: Some(Some(t.requester.id)),
            ..EquipmentChange::default()
        };
        let assigned = t
            .desk
            .change_equipment(&t.agent, piece.id, &assign)
            .await
            .expect("assigned");
        assert_eq!(assigned.status.as_str(), "in_use");
        let event = t.one_event(head, "equipment_status_changed").await;
        assert_eq!(
            (
                event.data["old_status"].as_str(),
                event.data["new_status"].as_str()
            ),
            (Some("in_stock"), Some("in_use"))
        );
        assert!(event.reaches(&t.requester) && !event.reaches(&t.other_requester));

        // To repair: taken back from the holder, who hears nothing of its new record
        // (notes included), since they may no longer read it.
        let head = t.head().await;
        let repair = EquipmentChange {
            status: Some("in_repair".into()),
            ..EquipmentChange::default()
        };
        let repaired = t
            .desk
            .change_equipment(&t.agent, piece.id, &repair)
            .await
            .expect("to repair");
        assert_eq!(repaired.assigned_user_id, None);
        let event = t.one_event(head, "equipment_status_changed").await;
        assert!(!event.reaches(&t.requester) && event.reaches(&t.agent));

        let contradiction = EquipmentChange {
            status: Some("in_stock".into()),
            assigned_user_id: Some(Some(t.requester.id)),
            ..EquipmentChange::default()
        };
        assert_field_error(
            t.desk
                .change_equipment(&t.agent, piece.id, &contradiction)
                .await,
            "status",
        );

        let page = t
            .desk
            .equipment_page(&t.agent, piece.id)
            .await
            .expect("page");
        let fields: Vec<&str> = page
            .history
            .iter()
            .map(|entry| entry.field.as_str())
            .collect();
        assert_eq!(
            fields,
            [
                "status",
                "status",
                "assigned_user",
                "status",
                "assigned_user"
            ]
        );
        assert_eq!(page.history[2].new_value.as_deref(), Some("Мария Петрова"));
    }
);

both!(
    moving_equipment_is_a_location_event,
    |t: TestDesk| async move {
        let hq = room(&t, "HQ-204", "Главный корпус", "204").await;
        let annex = room(&t, "Annex-12", "Флигель", "12").await;
        let mut input = laptop("INV-0003");
        input.location_id = Some(hq);
        let piece = t
            .desk
            .create_equipment(&t.agent, &input)
            .await
            .expect("created");
        let head = t.head().await;
        let moved = EquipmentChange {
            location_id: Some(Some(annex)),
            ..EquipmentChange::default()
        };
        t.desk
            .change_equipment(&t.agent, piece.id, &moved)
            .await
            .expect("moved");
        let event = t.one_event(head, "equipment_location_changed").await;
        assert_eq!(event.data["old_location"], "Главный корпус › 204");
        assert_eq!(event.data["new_location"], "Флигель › 12");
        let by_location = EquipmentQuery {
            location_id: Some(annex),
            ..EquipmentQuery::default()
        };
        let list = t
            .desk
            .list_equipment(&t.agent, &by_location, Page::default())
            .await
            .expect("list");
        assert_eq!(list.total, 1);
    }
);

both!(
    written_off_equipment_only_an_admin_restores,
    |t: TestDesk| async move {
        let piece = t
            .desk
            .create_equipment(&t.agent, &laptop("INV-0004"))
            .await
            .expect("created");
        let write_off = EquipmentChange {
            status: Some("written_off".into()),
            ..EquipmentChange::default()
        };
        t.desk
            .change_equipment(&t.agent, piece.id, &write_off)
            .await
            .expect("written off");
        let head = t.head().await;
        let restore = EquipmentChange {
            status: Some("in_stock".into()),
            ..EquipmentChange::default()
        };
        let refused = t.desk.change_equipment(&t.agent, piece.id, &restore).await;
        assert!(
            matches!(refused, Err(Error::InvalidTransition { .. })),
            "{refused:?}"
        );
        t.no_event_since(head).await;
        let restored = t
            .desk
            .change_equipment(&t.admin, piece.id, &restore)
            .await
            .expect("restored");
        assert_eq!(restored.status.as_str(), "in_stock");
    }
);

both!(
    requesters_do_not_manage_equipment_and_see_only_their_own,
    |t: TestDesk| async move {
        assert_forbidden(
            t.desk
                .create_equipment(&t.requester, &laptop("INV-0005"))
                .await,
        );
        assert_forbidden(
            t.desk
                .create_location(
                    &t.requester,
                    &NewLocation {
                        name: "X".into(),
                        ..NewLocation::default()
                    },
                )
                .await,
        );
        let mut mine = laptop("INV-0006");
        mine.assigned_user_id = Some(t.requester.id);
        let mine = t
            .desk
            .create_equipment(&t.agent, &mine)
            .await
            .expect("created");
        t.desk
            .create_equipment(&t.agent, &laptop("INV-0007"))
            .await
            .expect("created");
        let list = t
            .desk
            .list_equipment(&t.requester, &EquipmentQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(
            list.items.iter().map(|piece| piece.id).collect::<Vec<_>>(),
            [mine.id]
        );
    }
);

both!(
    a_stale_equipment_edit_names_who_changed_it,
    |t: TestDesk| async move {
        let piece = t
            .desk
            .create_equipment(&t.agent, &laptop("INV-0008"))
            .await
            .expect("created");
        let first = EquipmentChange {
            version: Some(piece.version),
            notes: Some(Some("Царапина на крышке".into())),
            ..EquipmentChange::default()
        };
        t.desk
            .change_equipment(&t.admin, piece.id, &first)
            .await
            .expect("edited");
        let stale = EquipmentChange {
            version: Some(piece.version),
            name: Some("X1".into()),
            ..EquipmentChange::default()
        };
        match t.desk.change_equipment(&t.agent, piece.id, &stale).await {
            Err(Error::Conflict { changed_by, .. }) => assert_eq!(changed_by, "Анна Админова"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
);
