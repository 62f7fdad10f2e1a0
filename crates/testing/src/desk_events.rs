//! Every desk event a test sees is checked against `docs/events.schema.json`, the
//! contract generated from the desk's event types.

use std::sync::OnceLock;

use serde_json::{Value, json};

const SCHEMA: &str = include_str!("../../../docs/events.schema.json");

fn validator() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("docs/events.schema.json is JSON");
        jsonschema::validator_for(&schema).expect("docs/events.schema.json is a JSON Schema")
    })
}

/// The event types the schema describes.
pub fn desk_event_types() -> Vec<String> {
    let schema: Value = serde_json::from_str(SCHEMA).expect("docs/events.schema.json is JSON");
    schema["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|one| {
            one["properties"]["type"]["const"]
                .as_str()
                .map(String::from)
        })
        .collect()
}

/// Panics, naming what is wrong, unless `{type: kind, data}` is a desk event as the
/// schema describes it.
pub fn assert_desk_event(kind: &str, data: &Value) {
    let event = json!({ "type": kind, "data": data });
    let problems: Vec<String> = validator()
        .iter_errors(&event)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(
        problems.is_empty(),
        "{kind} does not match docs/events.schema.json: {}\n{event:#}",
        problems.join("; ")
    );
}

/// [`assert_desk_event`] for a delivered message (`{id, type, timestamp, data}`) whose
/// type is one of the desk's; other messages (welcome, presence, other applications'
/// events) pass.
pub fn check_if_desk_event(message: &Value) {
    static TYPES: OnceLock<Vec<String>> = OnceLock::new();
    let types = TYPES.get_or_init(desk_event_types);
    if let Some(kind) = message["type"]
        .as_str()
        .filter(|kind| types.iter().any(|t| t == kind))
    {
        assert_desk_event(kind, &message["data"]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_lists_the_desk_s_types() {
        let types = desk_event_types();
        assert!(
            types.iter().any(|kind| kind == "ticket_updated"),
            "{types:?}"
        );
    }

    #[test]
    #[should_panic(expected = "does not match")]
    fn a_payload_without_its_fields_is_refused() {
        assert_desk_event("ticket_created", &json!({ "ticket": {} }));
    }

    #[test]
    #[should_panic(expected = "does not match")]
    fn an_unknown_type_is_refused() {
        assert_desk_event("ticket_deleted", &json!({}));
    }

    #[test]
    fn other_applications_messages_pass() {
        check_if_desk_event(&json!({ "type": "invoice_paid", "data": { "invoice": 42 } }));
    }
}
