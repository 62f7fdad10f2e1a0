//! A person's card for IT staff (issue 17, point 5): who they are, their open tickets,
//! the equipment they hold and where it stands — what an agent needs on the phone with
//! them. The desk keeps no address per person, so their locations are those of their
//! equipment.

use serde::Serialize;

use crate::{
    Desk, Error, Page, Paged, Result,
    desk::require_active,
    equipment::{Equipment, EquipmentQuery},
    locations::Location,
    tickets::{Ticket, TicketOrder, TicketQuery},
    users::User,
};

/// How many open tickets the card lists (`open_tickets.total` counts them all).
pub const OPEN_TICKETS_SHOWN: u32 = 50;

#[derive(Debug, Clone, Serialize)]
pub struct PersonCard {
    pub user: User,
    /// Their open tickets (new, in progress, waiting), the most urgent first.
    pub open_tickets: Paged<Ticket>,
    /// What they hold, by inventory number.
    pub equipment: Vec<Equipment>,
    /// Where their equipment stands, each place once.
    pub locations: Vec<Location>,
}

/// Each place the pieces stand in, once, in the order first met.
pub fn locations_of(equipment: &[Equipment]) -> Vec<Location> {
    let mut places: Vec<Location> = Vec::new();
    for piece in equipment {
        let (Some(id), Some(name)) = (piece.location_id, piece.location_name.clone()) else {
            continue;
        };
        if places.iter().all(|place| place.id != id) {
            places.push(Location {
                id,
                name,
                building: piece.location_building.clone(),
                room: piece.location_room.clone(),
            });
        }
    }
    places
}

impl Desk {
    /// The card of person `id`, for agents and admins; anyone else gets "not found", as
    /// for a person who does not exist.
    pub async fn person_card(&self, actor: &User, id: i64) -> Result<PersonCard> {
        require_active(actor)?;
        if !actor.role.is_staff() {
            return Err(Error::NotFound("user"));
        }
        let user = self.store.user(id).await?.ok_or(Error::NotFound("user"))?;
        let tickets = TicketQuery {
            requester_id: Some(id),
            order: TicketOrder::Triage,
            ..TicketQuery::open()
        };
        let open_tickets = self
            .store
            .tickets(&tickets, Page::new(Some(1), Some(OPEN_TICKETS_SHOWN)))
            .await?;
        let held = EquipmentQuery {
            assigned_user_id: Some(id),
            ..EquipmentQuery::default()
        };
        let equipment = self.store.equipment_list(&held, Page::all()).await?.items;
        Ok(PersonCard {
            user,
            open_tickets,
            locations: locations_of(&equipment),
            equipment,
        })
    }
}
