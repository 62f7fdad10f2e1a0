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
