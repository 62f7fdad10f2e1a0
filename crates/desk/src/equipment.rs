//! Equipment («Оборудование»): kinds, statuses and their rules, inventory numbers.

use serde::{Deserialize, Serialize};

use crate::{
    choice::choice,
    desk::{Desk, Outcome, check_version, require_active, require_staff},
    error::{Error, Fields, Result, optional_text, required_text},
    events::{DeskEvent, EquipmentChanged},
    history::{Changes, EntityKind, HistoryEntry},
    storage::{Page, Paged, Transaction},
    timestamps,
    users::{Role, User, UserStatus},
};

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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, schemars::JsonSchema)]
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
    /// Part of the inventory number, name or serial, of the holder's name or e-mail, or
    /// of the location's name, building or room.
    pub q: Option<String>,
}

/// `POST /equipment`: `{inventory_number, name, kind, serial?, status, location_id,
/// assigned_user_id?, notes?}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewEquipment {
    pub inventory_number: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub serial: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub location_id: Option<i64>,
    #[serde(default)]
    pub assigned_user_id: Option<i64>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// `PATCH /equipment/{id}`: any of these; `null` clears the nullable ones.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EquipmentChange {
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub inventory_number: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub serial: Option<Option<String>>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub location_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub assigned_user_id: Option<Option<i64>>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub notes: Option<Option<String>>,
}

/// A piece's page: the piece and its history.
#[derive(Debug, Clone, Serialize)]
pub struct EquipmentPage {
    pub equipment: Equipment,
    pub history: Vec<HistoryEntry>,
}

async fn check_location(tx: &mut dyn Transaction, id: i64) -> Result<(), String> {
    match tx.location(id).await {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err("no such location".into()),
        Err(_) => Err("cannot be checked now".into()),
    }
}

async fn check_holder(tx: &mut dyn Transaction, id: i64) -> Result<(), String> {
    match tx.user(id).await {
        Ok(Some(user)) if user.status == UserStatus::Active => Ok(()),
        Ok(_) => Err("no such active user".into()),
        Err(_) => Err("cannot be checked now".into()),
    }
}

fn rule_error(field: &str, error: EquipmentRuleError) -> Error {
    match error {
        EquipmentRuleError::WrittenOffIsFinal => Error::forbidden(error.to_string()),
        EquipmentRuleError::AssignedMeansInUse => Error::field(field, error.to_string()),
    }
}

/// Registers a piece and appends `equipment_status_changed` with `old_status: null`:
/// there is no "equipment created" type among the eleven, and a new piece appearing
/// in a status is what the equipment list, filtered by status, needs to hear.
pub(crate) async fn create_equipment_in(
    tx: &mut dyn Transaction,
    actor: &User,
    input: &NewEquipment,
    at: &str,
) -> Result<Outcome<Equipment>> {
    require_staff(actor, "manage equipment")?;
    let mut fields = Fields::new();
    let number = fields.check(
        "inventory_number",
        InventoryNumber::parse(&input.inventory_number),
    );
    let name = fields.check("name", required_text(&input.name, 200));
    let kind = fields.check("kind", EquipmentKind::parse(&input.kind));
    let serial = fields.check("serial", optional_text(input.serial.as_deref(), 100));
    let notes = fields.check("notes", optional_text(input.notes.as_deref(), 5_000));
    let requested = input
        .status
        .as_deref()
        .and_then(|status| fields.check("status", EquipmentStatus::parse(status)));
    if let Some(id) = input.location_id {
        fields.check("location_id", check_location(tx, id).await);
    }
    if let Some(id) = input.assigned_user_id {
        fields.check("assigned_user_id", check_holder(tx, id).await);
    }
    let status = EquipmentStatus::with_assignee(
        requested,
        EquipmentStatus::InStock,
        input.assigned_user_id.is_some(),
    )
    .map_err(|error| rule_error("status", error));
    let status = fields.check("status", status.map_err(|error| error.to_string()));
    fields.finish()?;
    let (Some(number), Some(name), Some(kind), Some(serial), Some(notes), Some(status)) =
        (number, name, kind, serial, notes, status)
    else {
        return Err(Error::Internal("parsed equipment lost a field".into()));
    };
    let draft = Equipment {
        id: 0,
        inventory_number: number.as_str().to_owned(),
        name,
        kind,
        serial,
        status,
        location_id: input.location_id,
        location_name: None,
        location_building: None,
        location_room: None,
        assigned_user_id: input.assigned_user_id,
        assigned_user_name: None,
        notes,
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
        version: 1,
        updated_by: Some(actor.id),
        updated_by_name: None,
    };
    let id = tx.insert_equipment(&draft, actor.id).await?;
    let piece = tx
        .equipment(id)
        .await?
        .ok_or(Error::NotFound("equipment"))?;
    let mut changes = Changes::new(EntityKind::Equipment, id, actor.id, at);
    changes.field("status", None, Some(piece.status));
    changes.field("location", None, piece.location_label());
    changes.field("assigned_user", None, piece.assigned_user_name.clone());
    tx.insert_history(changes.entries()).await?;
    let event = DeskEvent::EquipmentStatusChanged(EquipmentChanged {
        equipment: &piece,
        location: piece.location_label(),
        old_status: None,
        new_status: piece.status,
        old_location: None,
        new_location: None,
        changes: changes.entries(),
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(piece, event))
}

struct ParsedEquipmentChange {
    number: Option<InventoryNumber>,
    name: Option<String>,
    kind: Option<EquipmentKind>,
    serial: Option<Option<String>>,
    notes: Option<Option<String>>,
    status: Option<EquipmentStatus>,
}

async fn parse_equipment_change(
    tx: &mut dyn Transaction,
    change: &EquipmentChange,
) -> Result<ParsedEquipmentChange> {
    let mut fields = Fields::new();
    let number = change
        .inventory_number
        .as_deref()
        .and_then(|n| fields.check("inventory_number", InventoryNumber::parse(n)));
    let name = change
        .name
        .as_deref()
        .and_then(|n| fields.check("name", required_text(n, 200)));
    let kind = change
        .kind
        .as_deref()
        .and_then(|k| fields.check("kind", EquipmentKind::parse(k)));
    let serial = change
        .serial
        .as_ref()
        .and_then(|s| fields.check("serial", optional_text(s.as_deref(), 100)));
    let notes = change
        .notes
        .as_ref()
        .and_then(|n| fields.check("notes", optional_text(n.as_deref(), 5_000)));
    let status = change
        .status
        .as_deref()
        .and_then(|s| fields.check("status", EquipmentStatus::parse(s)));
    if let Some(Some(id)) = change.location_id {
        fields.check("location_id", check_location(tx, id).await);
    }
    if let Some(Some(id)) = change.assigned_user_id {
        fields.check("assigned_user_id", check_holder(tx, id).await);
    }
    fields.finish()?;
    Ok(ParsedEquipmentChange {
        number,
        name,
        kind,
        serial,
        notes,
        status,
    })
}

/// Works out the new status and holder. Assigning a person implies `in_use`; moving
/// a piece to stock, repair or write-off without naming a holder takes it back from
/// whoever had it (a laptop in repair is nobody's laptop).
fn settle_status(
    old: &Equipment,
    requested: Option<EquipmentStatus>,
    assigned: Option<Option<i64>>,
    actor: &User,
) -> Result<(EquipmentStatus, Option<i64>)> {
    let holder = match (assigned, requested) {
        (Some(holder), _) => holder,
        (None, Some(status)) if status != EquipmentStatus::InUse => None,
        (None, _) => old.assigned_user_id,
    };
    let status = EquipmentStatus::with_assignee(requested, old.status, holder.is_some())
        .map_err(|error| rule_error("status", error))?;
    old.status
        .check_change(status, actor.role)
        .map_err(|error| Error::InvalidTransition {
            from: old.status.to_string(),
            to: status.to_string(),
            reason: error.to_string(),
        })?;
    Ok((status, holder))
}

/// Changes a piece and appends one event: `equipment_status_changed` when the status
/// changed, else `equipment_location_changed` when it moved, else (serial, notes,
/// holder within in_use, …) `equipment_status_changed` with equal old and new status.
pub(crate) async fn change_equipment_in(
    tx: &mut dyn Transaction,
    actor: &User,
    id: i64,
    change: &EquipmentChange,
    at: &str,
) -> Result<Outcome<Equipment>> {
    require_staff(actor, "manage equipment")?;
    let old = tx
        .equipment(id)
        .await?
        .ok_or(Error::NotFound("equipment"))?;
    check_version(change.version, old.version, old.updated_by_name.as_deref())?;
    let parsed = parse_equipment_change(tx, change).await?;
    let (status, holder) = settle_status(&old, parsed.status, change.assigned_user_id, actor)?;

    let mut new = old.clone();
    new.inventory_number = parsed
        .number
        .map(|n| n.as_str().to_owned())
        .unwrap_or(new.inventory_number);
    new.name = parsed.name.unwrap_or(new.name);
    new.kind = parsed.kind.unwrap_or(new.kind);
    new.serial = parsed.serial.unwrap_or(new.serial);
    new.notes = parsed.notes.unwrap_or(new.notes);
    new.location_id = change.location_id.unwrap_or(new.location_id);
    new.status = status;
    new.assigned_user_id = holder;
    new.updated_at = at.to_owned();

    let mut changes = Changes::new(EntityKind::Equipment, id, actor.id, at);
    record_equipment_changes(tx, &mut changes, &old, &new).await?;
    if changes.is_empty() {
        return Ok(Outcome::Unchanged(old));
    }
    tx.update_equipment(&new, actor.id).await?;
    tx.insert_history(changes.entries()).await?;
    let piece = tx
        .equipment(id)
        .await?
        .ok_or(Error::NotFound("equipment"))?;
    let moved = changes.touched("location");
    let changed = EquipmentChanged {
        equipment: &piece,
        location: piece.location_label(),
        old_status: Some(old.status),
        new_status: piece.status,
        old_location: moved.then(|| old.location_label()),
        new_location: moved.then(|| piece.location_label()),
        changes: changes.entries(),
        actor: actor.person(),
    };
    let event = if !changes.touched("status") && moved {
        DeskEvent::EquipmentLocationChanged(changed)
    } else {
        DeskEvent::EquipmentStatusChanged(changed)
    }
    .encode()?;
    Ok(Outcome::changed(piece, event))
}

async fn record_equipment_changes(
    tx: &mut dyn Transaction,
    changes: &mut Changes,
    old: &Equipment,
    new: &Equipment,
) -> Result<()> {
    changes.field("status", Some(old.status), Some(new.status));
    changes.field(
        "inventory_number",
        Some(&old.inventory_number),
        Some(&new.inventory_number),
    );
    changes.field("name", Some(&old.name), Some(&new.name));
    changes.field("kind", Some(old.kind), Some(new.kind));
    changes.field("serial", old.serial.as_ref(), new.serial.as_ref());
    changes.field("notes", old.notes.as_ref(), new.notes.as_ref());
    if old.location_id != new.location_id {
        let label = match new.location_id {
            Some(id) => tx.location(id).await?.map(|location| location.label()),
            None => None,
        };
        changes.field("location", old.location_label(), label);
    }
    if old.assigned_user_id != new.assigned_user_id {
        let name = match new.assigned_user_id {
            Some(id) => tx.user(id).await?.map(|user| user.name),
            None => None,
        };
        changes.field("assigned_user", old.assigned_user_name.clone(), name);
    }
    Ok(())
}

impl Desk {
    pub async fn create_equipment(&self, actor: &User, input: &NewEquipment) -> Result<Equipment> {
        let now = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = create_equipment_in(work.tx(), actor, input, &now).await?;
        work.finish(outcome).await
    }

    pub async fn change_equipment(
        &self,
        actor: &User,
        id: i64,
        change: &EquipmentChange,
    ) -> Result<Equipment> {
        let now = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = change_equipment_in(work.tx(), actor, id, change, &now).await?;
        work.finish(outcome).await
    }

    /// Staff see all equipment; a requester sees what is assigned to them.
    pub async fn list_equipment(
        &self,
        actor: &User,
        query: &EquipmentQuery,
        page: Page,
    ) -> Result<Paged<Equipment>> {
        require_active(actor)?;
        let mut query = query.clone();
        if !actor.role.is_staff() {
            query.assigned_user_id = Some(actor.id);
        }
        self.store.equipment_list(&query, page).await
    }

    pub async fn equipment_page(&self, actor: &User, id: i64) -> Result<EquipmentPage> {
        require_active(actor)?;
        let equipment = self
            .store
            .equipment(id)
            .await?
            .ok_or(Error::NotFound("equipment"))?;
        if !actor.role.is_staff() && equipment.assigned_user_id != Some(actor.id) {
            return Err(Error::NotFound("equipment"));
        }
        let history = self.store.history(EntityKind::Equipment, id).await?;
        Ok(EquipmentPage { equipment, history })
    }
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
