//! The hub's HTTP error answer: `{"error": "…", "fields": {"name": "problem"}}`.

use std::{collections::BTreeMap, collections::HashMap, fmt::Display, str::FromStr};

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::{Serialize, de::DeserializeOwned};

use crate::identity::IdentifyError;

#[derive(Debug, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    status: StatusCode,
    error: String,
    fields: BTreeMap<String, String>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            error: message.into(),
            fields: BTreeMap::new(),
        }
    }

    /// An error about one named field.
    pub fn field(status: StatusCode, field: &str, problem: impl Display) -> Self {
        let problem = problem.to_string();
        let mut error = Self::new(status, format!("{field}: {problem}"));
        error.fields.insert(field.to_owned(), problem);
        error
    }

    /// The database (or another dependency) failed: logged, not shown.
    pub fn unavailable(error: impl Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily unavailable; try again",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self)).into_response()
    }
}

impl From<IdentifyError> for ApiError {
    fn from(error: IdentifyError) -> Self {
        ApiError::new(error.status(), error.to_string())
    }
}

/// A query parameter parsed as `T`; absent is `None`, unparsable is a 400 naming it.
pub fn query_param<T: FromStr>(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<Option<T>, ApiError>
where
    T::Err: Display,
{
    params
        .get(name)
        .map(|raw| {
            raw.parse().map_err(|error| {
                ApiError::field(
                    StatusCode::BAD_REQUEST,
                    name,
                    format!("'{raw}' is not valid: {error}"),
                )
            })
        })
        .transpose()
}

/// Parses a JSON body: malformed JSON is a 400, a wrong or missing field a 422 naming it.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_data() {
            let (field, problem) = name_field(&path, &inner.to_string());
            ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, &field, problem)
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {inner}"))
        }
    })?;
    deserializer.end().map_err(|error| {
        ApiError::new(StatusCode::BAD_REQUEST, format!("malformed JSON: {error}"))
    })?;
    Ok(value)
}

/// serde reports a missing field at its parent's path; name the field itself.
fn name_field(path: &str, message: &str) -> (String, String) {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        };
        return (field, "is required".into());
    }
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if path == "." || path.is_empty() {
            name.to_owned()
        } else {
            path.to_owned()
        };
        return (field, "is not a known field".into());
    }
    let field = if path == "." || path.is_empty() {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    (field, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        count: u32,
    }

    #[test]
    fn malformed_json_is_a_bad_request() {
        let error = parse_json::<Body>(b"{\"name\":").expect_err("malformed");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(error.error.starts_with("malformed JSON"), "{}", error.error);
    }

    #[test]
    fn a_missing_field_is_named() {
        let error = parse_json::<Body>(br#"{"name":"x"}"#).expect_err("missing");
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            error.fields.get("count").map(String::as_str),
            Some("is required")
        );
    }

    #[test]
    fn a_wrong_type_is_named() {
        let error = parse_json::<Body>(br#"{"name":"x","count":"many"}"#).expect_err("wrong type");
        assert!(error.fields.contains_key("count"), "{error:?}");
    }

    #[test]
    fn an_unknown_field_is_named() {
        let error =
            parse_json::<Body>(br#"{"name":"x","count":1,"colour":2}"#).expect_err("unknown");
        assert!(error.fields.contains_key("colour"), "{error:?}");
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(parse_json::<Body>(br#"{"name":"x","count":1} x"#).is_err());
    }
}
