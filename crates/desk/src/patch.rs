//! Change requests distinguish a field left out (keep it) from a field set to `null`
//! (clear it): `Option<Option<T>>` with [`nullable`].

use serde::{Deserialize, Deserializer};

/// `#[serde(default, deserialize_with = "crate::patch::nullable")]`: absent → `None`,
/// `null` → `Some(None)`, a value → `Some(Some(value))`.
pub fn nullable<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct Change {
        #[serde(default, deserialize_with = "super::nullable")]
        assignee_id: Option<Option<i64>>,
    }

    #[test]
    fn absent_null_and_value_are_three_different_things() {
        let parse = |json| {
            serde_json::from_str::<Change>(json)
                .expect("valid")
                .assignee_id
        };
        assert_eq!(parse("{}"), None);
        assert_eq!(parse(r#"{"assignee_id": null}"#), Some(None));
        assert_eq!(parse(r#"{"assignee_id": 4}"#), Some(Some(4)));
    }
}
