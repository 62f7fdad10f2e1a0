//! Reading requests in our error format (STYLE 8): JSON bodies, ids in paths and query
//! parameters. Whatever the client sends wrong becomes a 400 or 422 naming the field,
//! never axum's plain-text rejection and never a 500.

use std::{collections::HashMap, fmt::Display, str::FromStr};

use axum::{
    Json,
    extract::{FromRequest, FromRequestParts, Path, Query, Request},
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use ictdesk_desk::{Page, Paged};
use ictdesk_hub::http::error::{parse_json, query_param};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{Error, Result};

/// A JSON body parsed with the hub's `parse_json`: malformed JSON is a 400, a wrong or
/// missing field a 422 naming it. Fields the endpoint does not know are refused too (see
/// [`KnownFields`]), so that a typo such as `asignee_id` is not silently ignored.
pub struct JsonBody<T>(pub T);

/// The fields an input type accepts.
pub trait KnownFields {
    const FIELDS: &'static [&'static str];
}

impl<S, T> FromRequest<S> for JsonBody<T>
where
    S: Send + Sync,
    T: DeserializeOwned + KnownFields,
{
    type Rejection = Error;

    async fn from_request(request: Request, state: &S) -> Result<Self> {
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| Error::new(rejection.status(), rejection.body_text()))?;
        let value: T = parse_json(&body)?;
        check_known_fields(&body, T::FIELDS)?;
        check_no_nul(&body)?;
        Ok(JsonBody(value))
    }
}

const NUL_PROBLEM: &str = "must not contain a NUL character";

/// PostgreSQL cannot store a NUL character in text (it answered 503), and no field
/// needs one: a 422 naming the top-level field it hides in, on both databases.
fn check_no_nul(body: &[u8]) -> Result<()> {
    if !body
        .windows(6)
        .any(|window| window.eq_ignore_ascii_case(b"\\u0000"))
    {
        return Ok(());
    }
    // The body already parsed as the endpoint's input, so it is valid JSON; an
    // escaped backslash before "u0000" is no NUL.
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    let field = match &value {
        serde_json::Value::Object(object) => object
            .iter()
            .find(|(key, value)| key.contains('\0') || has_nul(value))
            .map(|(key, _)| key.as_str()),
        other => has_nul(other).then_some("body"),
    };
    match field {
        Some(field) => Err(Error::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            field,
            NUL_PROBLEM,
        )),
        None => Ok(()),
    }
}

fn has_nul(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(has_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains('\0') || has_nul(value)),
        _ => false,
    }
}

/// Refuses a request whose query string holds a NUL character with a 422 naming the
/// parameter — for every route (pages' filters, API searches, polls), before any of
/// them reaches the database.
pub async fn refuse_nul_in_query(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let query = request.uri().query().unwrap_or_default();
    if query.contains("%00") || query.contains('\0') {
        let params = Query::<Vec<(String, String)>>::try_from_uri(request.uri())
            .map(|Query(params)| params)
            .unwrap_or_default();
        let field = params
            .iter()
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
            .map(|(name, _)| name.as_str());
        if let Some(field) = field {
            return Error::field(StatusCode::UNPROCESSABLE_ENTITY, field, NUL_PROBLEM)
                .into_response();
        }
    }
    next.run(request).await
}

fn check_known_fields(body: &[u8], known: &[&str]) -> Result<()> {
    // The body already parsed as T, so it is valid JSON; T may not be an object.
    let Ok(object) = serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
    else {
        return Ok(());
    };
    match object.keys().find(|key| !known.contains(&key.as_str())) {
        Some(unknown) => Err(Error::field(
            StatusCode::UNPROCESSABLE_ENTITY,
            unknown,
            "is not a known field",
        )),
        None => Ok(()),
    }
}

/// A numeric id from the path (`/tickets/{id}`); anything else is a 400 naming `id`.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Error::new(rejection.status(), rejection.body_text()))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(Id)
            .ok_or_else(|| {
                Error::field(
                    StatusCode::BAD_REQUEST,
                    "id",
                    format!("'{raw}' is not a valid id"),
                )
            })
    }
}

/// The query string as name → value; typed access names the parameter on failure.
pub struct Params(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let Query(params) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|rejection| Error::new(StatusCode::BAD_REQUEST, rejection.body_text()))?;
        Ok(Params(params))
    }
}

impl Params {
    /// A parameter parsed as `T`; absent (or empty, as forms send it) is `None`.
    pub fn get<T: FromStr>(&self, name: &str) -> Result<Option<T>>
    where
        T::Err: Display,
    {
        if self.text(name).is_none() {
            return Ok(None);
        }
        Ok(query_param(&self.0, name)?)
    }

    /// A parameter parsed by a domain parser such as `TicketStatus::parse`.
    pub fn parse<T, E: Display>(
        &self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>> {
        self.text(name)
            .map(|raw| {
                parse(raw).map_err(|error| Error::field(StatusCode::BAD_REQUEST, name, error))
            })
            .transpose()
    }

    /// A non-empty text parameter.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(|value| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// `page` and `per_page` (clamped to what the desk allows).
    pub fn page(&self) -> Result<Page> {
        Ok(Page::new(self.get("page")?, self.get("per_page")?))
    }
}

/// Every list answers `{"items": […], "page", "per_page", "total"}`.
#[derive(Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

impl<T> From<Paged<T>> for List<T> {
    fn from(paged: Paged<T>) -> Self {
        Self {
            items: paged.items,
            page: paged.page,
            per_page: paged.per_page,
            total: paged.total,
        }
    }
}

impl<T> List<T> {
    /// A list the desk does not page (locations, categories, tokens): one page of all.
    pub fn whole(items: Vec<T>) -> Self {
        let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let per_page = u32::try_from(items.len()).unwrap_or(u32::MAX);
        Self {
            items,
            page: 1,
            per_page,
            total,
        }
    }
}

impl<T: Serialize> IntoResponse for List<T> {
    fn into_response(self) -> Response {
        Json(self).into_response()
    }
}

/// `201 Created` with the new object.
pub fn created<T: Serialize>(value: T) -> Response {
    (StatusCode::CREATED, Json(value)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_field_is_named() {
        let error = check_known_fields(br#"{"title":"x","asignee_id":3}"#, &["title"])
            .expect_err("unknown field");
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[test]
    fn a_nul_character_is_named_by_its_field() {
        let error = check_no_nul(br#"{"title":"ok","tags":["a\u0000b"]}"#).expect_err("a NUL");
        assert_eq!(error.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let Error::Api(api) = error else {
            panic!("an API error")
        };
        let answer = serde_json::to_value(&api).expect("JSON");
        assert_eq!(answer["fields"]["tags"], NUL_PROBLEM);
        assert!(check_no_nul(br#"{"title":"\\u0000 is how JSON writes it"}"#).is_ok());
    }

    #[test]
    fn known_fields_pass() {
        assert!(check_known_fields(br#"{"title":"x"}"#, &["title"]).is_ok());
    }

    #[test]
    fn a_page_is_clamped_not_refused() {
        let params = Params(HashMap::from([(
            "per_page".to_owned(),
            "100000".to_owned(),
        )]));
        assert_eq!(params.page().expect("a page").per_page, Page::MAX_PER_PAGE);
    }

    #[test]
    fn a_negative_page_is_named() {
        let params = Params(HashMap::from([("page".to_owned(), "-1".to_owned())]));
        assert_eq!(
            params.page().expect_err("negative").status(),
            StatusCode::BAD_REQUEST
        );
    }
}
