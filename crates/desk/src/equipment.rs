//! Equipment («Оборудование»): kinds, statuses and their rules, inventory numbers.

use crate::{choice::choice, users::Role};

choice!(
    EquipmentKind {
        Workstation = "workstation",
        Laptop = "laptop",
        Printer = "printer",
        Monitor = "monitor",
        Network = "network",
        Phone = "phone",
        Server = "server",
        Other = "other",
    }
);

choice!(
    EquipmentStatus {
        InUse = "in_use",
        InStock = "in_stock",
        InRepair = "in_repair",
        /// Terminal, unless an admin restores it.
        WrittenOff = "written_off",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EquipmentRuleError {
    #[error("written-off equipment can only be restored by an admin")]
    WrittenOffIsFinal,
    #[error("equipment assigned to a person is in use")]
    AssignedMeansInUse,
}

impl EquipmentStatus {
    /// Whether `by` may move equipment from `self` to `to`.
    pub fn check_change(self, to: EquipmentStatus, by: Role) -> Result<(), EquipmentRuleError> {
        if self == EquipmentStatus::WrittenOff && to != self && !by.is_admin() {
            return Err(EquipmentRuleError::WrittenOffIsFinal);
        }
        Ok(())
    }

    /// The status a piece ends up with: assigning a person implies `in_use`. Given
    /// explicitly, any other status together with an assignee is a contradiction.
    pub fn with_assignee(
        requested: Option<EquipmentStatus>,
        current: EquipmentStatus,
        assigned: bool,
    ) -> Result<EquipmentStatus, EquipmentRuleError> {
        match (requested, assigned) {
            (Some(status), true) if status != EquipmentStatus::InUse => {
                Err(EquipmentRuleError::AssignedMeansInUse)
            }
            (_, true) => Ok(EquipmentStatus::InUse),
            (Some(status), false) => Ok(status),
            (None, false) => Ok(current),
        }
    }
}

/// An inventory number such as `INV-2024-0153`: 1–32 characters of letters, digits,
/// `-`, `/`, `.`, `_`; stored upper-case so that `inv-1` and `INV-1` are the same piece.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct InventoryNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InventoryNumberError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 32 characters")]
    TooLong,
    #[error("may contain only letters, digits, '-', '/', '.' and '_'")]
    BadCharacter,
}

impl InventoryNumber {
    pub fn parse(text: &str) -> Result<Self, InventoryNumberError> {
        let number = text.trim().to_uppercase();
        if number.is_empty() {
            return Err(InventoryNumberError::Empty);
        }
        if number.chars().count() > 32 {
            return Err(InventoryNumberError::TooLong);
        }
        if !number
            .chars()
            .all(|c| c.is_alphanumeric() || "-/._".contains(c))
        {
            return Err(InventoryNumberError::BadCharacter);
        }
        Ok(Self(number))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for InventoryNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A piece of equipment with the names of its location and holder.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Equipment {
    pub id: i64,
    pub inventory_number: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub kind: EquipmentKind,
    pub serial: Option<String>,
    #[sqlx(try_from = "String")]
    pub status: EquipmentStatus,
    pub location_id: Option<i64>,
    pub location_name: Option<String>,
    pub location_building: Option<String>,
    pub location_room: Option<String>,
    pub assigned_user_id: Option<i64>,
    pub assigned_user_name: Option<String>,
    pub notes: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub updated_by: Option<i64>,
    pub updated_by_name: Option<String>,
}

impl Equipment {
    /// "Building › Room", or the location's name when it has neither.
    pub fn location_label(&self) -> Option<String> {
        self.location_name.as_ref().map(|name| {
            crate::locations::label(
                name,
                self.location_building.as_deref(),
                self.location_room.as_deref(),
            )
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EquipmentQuery {
    pub status: Option<EquipmentStatus>,
    pub kind: Option<EquipmentKind>,
    pub location_id: Option<i64>,
    pub assigned_user_id: Option<i64>,
    /// Part of the inventory number, name or serial.
    pub q: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use EquipmentStatus::*;

    #[test]
    fn kinds_parse_from_their_names() {
        assert_eq!(EquipmentKind::parse("printer"), Ok(EquipmentKind::Printer));
        assert_eq!(EquipmentKind::ALL.len(), 8);
        assert!(EquipmentKind::parse("toaster").is_err());
    }

    #[test]
    fn assigning_a_person_puts_equipment_in_use() {
        assert_eq!(
            EquipmentStatus::with_assignee(None, InStock, true),
            Ok(InUse)
        );
    }

    #[test]
    fn an_assignee_with_another_explicit_status_is_refused() {
        assert_eq!(
            EquipmentStatus::with_assignee(Some(InRepair), InUse, true),
            Err(EquipmentRuleError::AssignedMeansInUse)
        );
    }

    #[test]
    fn without_an_assignee_the_requested_status_stands() {
        assert_eq!(
            EquipmentStatus::with_assignee(Some(InRepair), InUse, false),
            Ok(InRepair)
        );
        assert_eq!(
            EquipmentStatus::with_assignee(None, InStock, false),
            Ok(InStock)
        );
    }

    #[test]
    fn written_off_equipment_stays_written_off_for_agents() {
        assert_eq!(
            WrittenOff.check_change(InStock, Role::Agent),
            Err(EquipmentRuleError::WrittenOffIsFinal)
        );
    }

    #[test]
    fn an_admin_can_restore_written_off_equipment() {
        assert_eq!(WrittenOff.check_change(InStock, Role::Admin), Ok(()));
    }

    #[test]
    fn agents_move_equipment_between_other_statuses() {
        assert_eq!(InUse.check_change(InRepair, Role::Agent), Ok(()));
        assert_eq!(InRepair.check_change(WrittenOff, Role::Agent), Ok(()));
    }

    #[test]
    fn inventory_numbers_are_trimmed_and_upper_cased() {
        let number = InventoryNumber::parse(" inv-2024/0153 ").expect("valid");
        assert_eq!(number.as_str(), "INV-2024/0153");
    }

    #[test]
    fn inventory_numbers_reject_spaces_and_length() {
        assert_eq!(
            InventoryNumber::parse("INV 1"),
            Err(InventoryNumberError::BadCharacter)
        );
        assert_eq!(InventoryNumber::parse(""), Err(InventoryNumberError::Empty));
        assert_eq!(
            InventoryNumber::parse(&"9".repeat(33)),
            Err(InventoryNumberError::TooLong)
        );
    }
}
