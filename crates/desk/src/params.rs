//! List parameters as clients send them — query strings (`?status=new&page=2`) or the
//! JSON of a WebSocket request (`{"status": "new", "page": 2}`) — parsed into typed
//! queries, with every bad parameter named.

use serde::Deserialize;

use crate::{
    equipment::{EquipmentKind, EquipmentQuery, EquipmentStatus},
    error::{Fields, Result},
    storage::Page,
    tickets::{Priority, TicketQuery, TicketStatus},
    users::{Role, UserQuery, UserStatus},
};

/// A parameter given as text or as a number.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Param {
    Number(i64),
    Text(String),
}

impl Param {
    fn text(&self) -> String {
        match self {
            Param::Number(number) => number.to_string(),
            Param::Text(text) => text.trim().to_owned(),
        }
    }
}

fn present(param: Option<&Param>) -> Option<String> {
    param.map(Param::text).filter(|text| !text.is_empty())
}

fn id(fields: &mut Fields, name: &str, param: Option<&Param>) -> Option<i64> {
    let text = present(param)?;
    fields.check(name, text.parse::<i64>().map_err(|_| "must be a number"))
}

fn number(fields: &mut Fields, name: &str, param: Option<&Param>) -> Option<u32> {
    let text = present(param)?;
    fields.check(
        name,
        text.parse::<u32>().map_err(|_| "must be a positive number"),
    )
}

fn page(fields: &mut Fields, page: Option<&Param>, per_page: Option<&Param>) -> Page {
    Page::new(
        number(fields, "page", page),
        number(fields, "per_page", per_page),
    )
}

/// `GET /tickets` and `get_tickets`: `status`, `priority`, `assignee_id` (a number, or
/// `none` for unassigned tickets), `requester_id`, `category_id`, `q`, `page`, `per_page`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TicketParams {
    pub status: Option<Param>,
    pub priority: Option<Param>,
    pub assignee_id: Option<Param>,
    pub requester_id: Option<Param>,
    pub category_id: Option<Param>,
    pub q: Option<Param>,
    pub page: Option<Param>,
    pub per_page: Option<Param>,
}

impl TicketParams {
    pub fn parse(&self) -> Result<(TicketQuery, Page)> {
        let mut fields = Fields::new();
        let status = present(self.status.as_ref())
            .and_then(|s| fields.check("status", TicketStatus::parse(&s)));
        let priority = present(self.priority.as_ref())
            .and_then(|p| fields.check("priority", Priority::parse(&p)));
        let unassigned = present(self.assignee_id.as_ref()).is_some_and(|a| a == "none");
        let assignee_id = if unassigned {
            None
        } else {
            id(&mut fields, "assignee_id", self.assignee_id.as_ref())
        };
        let query = TicketQuery {
            status,
            priority,
            assignee_id,
            unassigned,
            requester_id: id(&mut fields, "requester_id", self.requester_id.as_ref()),
            category_id: id(&mut fields, "category_id", self.category_id.as_ref()),
            q: present(self.q.as_ref()),
        };
        let page = page(&mut fields, self.page.as_ref(), self.per_page.as_ref());
        fields.finish()?;
        Ok((query, page))
    }
}

/// `GET /equipment`: `status`, `kind`, `location_id`, `assigned_user_id`, `q`, paging.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EquipmentParams {
    pub status: Option<Param>,
    pub kind: Option<Param>,
    pub location_id: Option<Param>,
    pub assigned_user_id: Option<Param>,
    pub q: Option<Param>,
    pub page: Option<Param>,
    pub per_page: Option<Param>,
}

impl EquipmentParams {
    pub fn parse(&self) -> Result<(EquipmentQuery, Page)> {
        let mut fields = Fields::new();
        let status = present(self.status.as_ref())
            .and_then(|s| fields.check("status", EquipmentStatus::parse(&s)));
        let kind = present(self.kind.as_ref())
            .and_then(|k| fields.check("kind", EquipmentKind::parse(&k)));
        let query = EquipmentQuery {
            status,
            kind,
            location_id: id(&mut fields, "location_id", self.location_id.as_ref()),
            assigned_user_id: id(
                &mut fields,
                "assigned_user_id",
                self.assigned_user_id.as_ref(),
            ),
            q: present(self.q.as_ref()),
        };
        let page = page(&mut fields, self.page.as_ref(), self.per_page.as_ref());
        fields.finish()?;
        Ok((query, page))
    }
}

/// `GET /users`: `role`, `status`, `q`, paging.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserParams {
    pub role: Option<Param>,
    pub status: Option<Param>,
    pub q: Option<Param>,
    pub page: Option<Param>,
    pub per_page: Option<Param>,
}

impl UserParams {
    pub fn parse(&self) -> Result<(UserQuery, Page)> {
        let mut fields = Fields::new();
        let role = present(self.role.as_ref()).and_then(|r| fields.check("role", Role::parse(&r)));
        let status = present(self.status.as_ref())
            .and_then(|s| fields.check("status", UserStatus::parse(&s)));
        let query = UserQuery {
            role,
            status,
            q: present(self.q.as_ref()),
        };
        let page = page(&mut fields, self.page.as_ref(), self.per_page.as_ref());
        fields.finish()?;
        Ok((query, page))
    }
}

/// `GET /articles`: `q` (full text), `category_id`, paging.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ArticleParams {
    pub q: Option<Param>,
    pub category_id: Option<Param>,
    pub page: Option<Param>,
    pub per_page: Option<Param>,
}

impl ArticleParams {
    pub fn parse(&self) -> Result<(crate::articles::ArticleQuery, Page)> {
        let mut fields = Fields::new();
        let query = crate::articles::ArticleQuery {
            q: present(self.q.as_ref()),
            category_id: id(&mut fields, "category_id", self.category_id.as_ref()),
            with_agents_only: false,
        };
        let page = page(&mut fields, self.page.as_ref(), self.per_page.as_ref());
        fields.finish()?;
        Ok((query, page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(json: &str) -> TicketParams {
        serde_json::from_str(json).expect("valid JSON")
    }

    #[test]
    fn ticket_filters_parse_from_text_or_numbers() {
        let (query, page) =
            params(r#"{"status": "new", "assignee_id": 3, "requester_id": "4", "page": "2"}"#)
                .parse()
                .expect("valid");
        assert_eq!(query.status, Some(TicketStatus::New));
        assert_eq!((query.assignee_id, query.requester_id), (Some(3), Some(4)));
        assert_eq!(page.page, 2);
    }

    #[test]
    fn assignee_none_means_unassigned() {
        let (query, _) = params(r#"{"assignee_id": "none"}"#).parse().expect("valid");
        assert!(query.unassigned);
        assert_eq!(query.assignee_id, None);
    }

    #[test]
    fn every_bad_filter_is_named() {
        let error = params(
            r#"{"status": "open", "priority": "urgent", "assignee_id": "x", "per_page": "-1"}"#,
        )
        .parse()
        .expect_err("invalid");
        let fields = error.fields().expect("validation");
        for name in ["status", "priority", "assignee_id", "per_page"] {
            assert!(fields.contains_key(name), "{name}: {fields:?}");
        }
    }

    #[test]
    fn empty_parameters_are_no_filter() {
        let (query, page) = params(r#"{"status": "", "q": "  "}"#)
            .parse()
            .expect("valid");
        assert_eq!(query, TicketQuery::default());
        assert_eq!(page, Page::default());
    }
}
