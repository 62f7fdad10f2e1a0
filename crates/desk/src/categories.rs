//! Categories: tickets and articles each have their own list. Like locations, they
//! have no event type of their own (docs/events.md).

use serde::Deserialize;

use crate::{
    choice::choice,
    desk::{Desk, require_active, require_staff},
    error::{Error, Fields, Result, required_text},
    teams::check_team,
    users::User,
};

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
    /// The team a new ticket of this category goes to when none is chosen.
    pub default_team_id: Option<i64>,
}

/// `POST /categories`: `{name, scope?, active?, default_team_id?}` (scope `ticket` by
/// default).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewCategory {
    pub name: String,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub default_team_id: Option<i64>,
}

impl Desk {
    pub async fn create_category(&self, actor: &User, input: &NewCategory) -> Result<Category> {
        require_staff(actor, "manage categories")?;
        let mut fields = Fields::new();
        let name = fields.check("name", required_text(&input.name, 200));
        let scope = fields.check(
            "scope",
            CategoryScope::parse(input.scope.as_deref().unwrap_or("ticket")),
        );
        let mut work = self.begin_change().await?;
        if let Some(team_id) = input.default_team_id {
            if scope == Some(CategoryScope::Article) {
                fields.add("default_team_id", "only ticket categories have a team");
            } else {
                fields.check("default_team_id", check_team(work.tx(), team_id).await);
            }
        }
        fields.finish()?;
        let (Some(name), Some(scope)) = (name, scope) else {
            return Err(Error::Internal("a parsed category lost a field".into()));
        };
        let mut category = Category {
            id: 0,
            name,
            scope,
            active: input.active.unwrap_or(true),
            default_team_id: input.default_team_id,
        };
        // No event type announces categories: no live page lists them.
        category.id = work.tx().insert_category(&category).await?;
        work.commit().await?;
        Ok(category)
    }

    /// Categories of one list (or both); requesters see the active ones only.
    pub async fn list_categories(
        &self,
        actor: &User,
        scope: Option<CategoryScope>,
    ) -> Result<Vec<Category>> {
        require_active(actor)?;
        let mut categories = self.store.categories(scope).await?;
        if !actor.role.is_staff() {
            categories.retain(|category| category.active);
        }
        Ok(categories)
    }
}
