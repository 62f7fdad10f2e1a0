//! Categories: tickets and articles each have their own list.

use crate::choice::choice;

choice!(
    /// Which list a category belongs to.
    CategoryScope {
        Ticket = "ticket",
        Article = "article",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Category {
    pub id: i64,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub scope: CategoryScope,
    pub active: bool,
}
