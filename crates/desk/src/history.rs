//! Field-level history of tickets and equipment: who changed which field from what to
//! what, and when. Written in the same transaction as the change.

use crate::choice::choice;

choice!(
    /// What a history entry is about.
    EntityKind {
        Ticket = "ticket",
        Equipment = "equipment",
    }
);

/// One changed field, as shown on the ticket or equipment page.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct HistoryEntry {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub entity_kind: EntityKind,
    pub entity_id: i64,
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub at: String,
    /// The version of the object this change produced (`None` for files, which leave
    /// the version alone, and for entries older than the column).
    pub version: Option<i64>,
}

/// A change about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
pub struct NewHistory {
    #[serde(skip)]
    pub entity_kind: EntityKind,
    #[serde(skip)]
    pub entity_id: i64,
    #[serde(skip)]
    pub actor_id: i64,
    pub field: &'static str,
    #[serde(rename = "old")]
    pub old_value: Option<String>,
    #[serde(rename = "new")]
    pub new_value: Option<String>,
    #[serde(skip)]
    pub at: String,
    #[serde(skip)]
    pub version: Option<i64>,
}

/// Collects the fields a change touches: what goes into history, and into the event's
/// `changes` list.
#[derive(Debug)]
pub struct Changes {
    entity_kind: EntityKind,
    entity_id: i64,
    actor_id: i64,
    at: String,
    version: Option<i64>,
    entries: Vec<NewHistory>,
}

impl Changes {
    pub fn new(entity_kind: EntityKind, entity_id: i64, actor_id: i64, at: &str) -> Self {
        Self {
            entity_kind,
            entity_id,
            actor_id,
            at: at.to_owned(),
            version: None,
            entries: Vec::new(),
        }
    }

    /// Records the entries as producing `version` of the object, so that a later save
    /// from an older version can tell which fields changed since (see `tickets`).
    pub fn producing(mut self, version: i64) -> Self {
        self.version = Some(version);
        self
    }

    /// Records `field` if its value differs.
    pub fn field<T: PartialEq + ToString>(
        &mut self,
        field: &'static str,
        old: Option<T>,
        new: Option<T>,
    ) {
        if old != new {
            self.entries.push(NewHistory {
                entity_kind: self.entity_kind,
                entity_id: self.entity_id,
                actor_id: self.actor_id,
                field,
                old_value: old.map(|value| value.to_string()),
                new_value: new.map(|value| value.to_string()),
                at: self.at.clone(),
                version: self.version,
            });
        }
    }

    pub fn touched(&self, field: &str) -> bool {
        self.entries.iter().any(|entry| entry.field == field)
    }

    /// The fields recorded so far.
    pub fn fields(&self) -> Vec<&'static str> {
        self.entries.iter().map(|entry| entry.field).collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[NewHistory] {
        &self.entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fields_whose_value_differs_are_recorded() {
        let mut changes = Changes::new(EntityKind::Ticket, 1, 2, "2026-01-01T00:00:00.000Z");
        changes.field("status", Some("new"), Some("in_progress"));
        changes.field("priority", Some("low"), Some("low"));
        assert_eq!(changes.entries().len(), 1);
        assert!(changes.touched("status"));
        assert!(!changes.touched("priority"));
    }

    #[test]
    fn changes_serialize_as_field_old_new() {
        let mut changes = Changes::new(EntityKind::Equipment, 1, 2, "t");
        changes.field::<&str>("serial", None, Some("SN1"));
        let json = serde_json::to_string(changes.entries()).expect("serializes");
        assert_eq!(json, r#"[{"field":"serial","old":null,"new":"SN1"}]"#);
    }
}
