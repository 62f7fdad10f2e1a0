//! Locations: where equipment stands and people sit, shown as "Building › Room".

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
