//! Locations: where equipment stands and people sit, shown as "Building › Room".
//! Locations have no event type of their own (docs/events.md): they change rarely, and the
//! pages that show them pick them up on the next load.

use serde::Deserialize;

use crate::{
    desk::{Desk, require_active, require_staff},
    error::{Error, Fields, Result, optional_text, required_text},
};

/// `POST /locations`: `{name, building?, room?}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewLocation {
    pub name: String,
    #[serde(default)]
    pub building: Option<String>,
    #[serde(default)]
    pub room: Option<String>,
}

impl Desk {
    pub async fn create_location(
        &self,
        actor: &crate::users::User,
        input: &NewLocation,
    ) -> Result<Location> {
        require_staff(actor, "manage locations")?;
        let mut fields = Fields::new();
        let name = fields.check("name", required_text(&input.name, 200));
        let building = fields.check("building", optional_text(input.building.as_deref(), 200));
        let room = fields.check("room", optional_text(input.room.as_deref(), 100));
        fields.finish()?;
        let (Some(name), Some(building), Some(room)) = (name, building, room) else {
            return Err(Error::Internal("a parsed location lost a field".into()));
        };
        let mut location = Location {
            id: 0,
            name,
            building,
            room,
        };
        // No event type announces locations: no live page lists them.
        let mut work = self.begin_change().await?;
        location.id = work.tx().insert_location(&location).await?;
        work.commit().await?;
        Ok(location)
    }

    pub async fn list_locations(&self, actor: &crate::users::User) -> Result<Vec<Location>> {
        require_active(actor)?;
        self.store.locations().await
    }
}

/// A place: a name, and optionally the building and room.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Location {
    pub id: i64,
    pub name: String,
    pub building: Option<String>,
    pub room: Option<String>,
}

impl Location {
    pub fn label(&self) -> String {
        label(&self.name, self.building.as_deref(), self.room.as_deref())
    }
}

/// "Building › Room" when both are known, else whatever is, else the name.
pub fn label(name: &str, building: Option<&str>, room: Option<&str>) -> String {
    match (building, room) {
        (Some(building), Some(room)) => format!("{building} › {room}"),
        (Some(only), None) | (None, Some(only)) => only.to_owned(),
        (None, None) => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_location_shows_as_building_and_room() {
        assert_eq!(
            label("IT", Some("Главный корпус"), Some("204")),
            "Главный корпус › 204"
        );
    }

    #[test]
    fn a_location_without_building_or_room_shows_its_name() {
        assert_eq!(label("Склад", None, None), "Склад");
    }
}
