//! System notifications: levels and audiences.

use serde::{Deserialize, Serialize};

use crate::{
    choice::choice,
    desk::{Desk, Outcome, require_active, require_admin},
    error::{Error, Fields, Result, required_text},
    events::{DeskEvent, NotificationCreated, NotificationWithdrawn},
    storage::{Page, Paged, Transaction},
    timestamps,
    users::User,
};

choice!(
    NotificationLevel {
        Info = "info",
        Warning = "warning",
        Critical = "critical",
    }
);

/// Who a notification is for: `"everyone"`, `"agents"`, `"admins"` or `{"user": 17}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationAudience {
    Everyone,
    /// Agents and admins (an admin is also an agent).
    Agents,
    Admins,
    User(i64),
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Wire {
    Name(String),
    User { user: i64 },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be \"everyone\", \"agents\", \"admins\" or {{\"user\": ID}}")]
pub struct NotificationAudienceError;

impl NotificationAudience {
    pub fn parse(name: &str) -> Result<Self, NotificationAudienceError> {
        match name.trim() {
            "everyone" => Ok(Self::Everyone),
            "agents" => Ok(Self::Agents),
            "admins" => Ok(Self::Admins),
            _ => Err(NotificationAudienceError),
        }
    }

    /// The stored form: the name, and the user id for one user.
    pub fn kind(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Agents => "agents",
            Self::Admins => "admins",
            Self::User(_) => "user",
        }
    }

    pub fn user_id(self) -> Option<i64> {
        match self {
            Self::User(id) => Some(id),
            _ => None,
        }
    }

    pub(crate) fn from_stored(
        kind: &str,
        user_id: Option<i64>,
    ) -> Result<Self, NotificationAudienceError> {
        match (kind, user_id) {
            ("user", Some(id)) => Ok(Self::User(id)),
            (name, _) => Self::parse(name),
        }
    }
}

impl Serialize for NotificationAudience {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::User(user) => Wire::User { user: *user }.serialize(serializer),
            other => serializer.serialize_str(other.kind()),
        }
    }
}

impl schemars::JsonSchema for NotificationAudience {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NotificationAudience".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [
                { "type": "string", "enum": ["everyone", "agents", "admins"] },
                {
                    "type": "object",
                    "properties": { "user": { "type": "integer", "format": "int64" } },
                    "required": ["user"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl<'de> Deserialize<'de> for NotificationAudience {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Wire::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom(NotificationAudienceError))?
        {
            Wire::Name(name) => Self::parse(&name).map_err(serde::de::Error::custom),
            Wire::User { user } => Ok(Self::User(user)),
        }
    }
}

/// A system notification («системное уведомление»).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Notification {
    pub id: i64,
    pub title: String,
    pub message: String,
    pub level: NotificationLevel,
    pub audience: NotificationAudience,
    pub author_id: Option<i64>,
    pub author_name: Option<String>,
    pub created_at: String,
    pub expires_at: Option<String>,
    /// When an admin withdrew it («Снять»): from then on only the admins' list shows it.
    pub withdrawn_at: Option<String>,
}

impl Notification {
    /// Whether it still speaks to people at `now`: neither expired nor withdrawn.
    pub fn is_active(&self, now: &str) -> bool {
        self.withdrawn_at.is_none() && self.expires_at.as_deref().is_none_or(|at| at > now)
    }

    /// Warnings and critical notices stay as a banner on every page while active.
    pub fn is_banner(&self) -> bool {
        self.level != NotificationLevel::Info
    }
}

/// A notification as stored: the audience in two columns.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct NotificationRow {
    id: i64,
    title: String,
    message: String,
    #[sqlx(try_from = "String")]
    level: NotificationLevel,
    audience: String,
    audience_user_id: Option<i64>,
    author_id: Option<i64>,
    author_name: Option<String>,
    created_at: String,
    expires_at: Option<String>,
    withdrawn_at: Option<String>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = crate::Error;

    fn try_from(row: NotificationRow) -> Result<Self, Self::Error> {
        let audience = NotificationAudience::from_stored(&row.audience, row.audience_user_id)
            .map_err(|_| {
                crate::Error::Internal(format!("notification {} has a bad audience", row.id))
            })?;
        Ok(Self {
            id: row.id,
            title: row.title,
            message: row.message,
            level: row.level,
            audience,
            author_id: row.author_id,
            author_name: row.author_name,
            created_at: row.created_at,
            expires_at: row.expires_at,
            withdrawn_at: row.withdrawn_at,
        })
    }
}

/// `POST /notifications`: `{title, message, level, audience, expires_at?}`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewNotification {
    pub title: String,
    pub message: String,
    #[serde(default)]
    pub level: Option<String>,
    pub audience: NotificationAudience,
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// Publishes a notification and appends `system_notification_created` to its audience.
pub(crate) async fn create_notification_in(
    tx: &mut dyn Transaction,
    actor: &User,
    input: &NewNotification,
    at: &str,
) -> Result<Outcome<Notification>> {
    require_admin(actor, "publish system notifications")?;
    let mut fields = Fields::new();
    let title = fields.check("title", required_text(&input.title, 200));
    let message = fields.check("message", required_text(&input.message, 5_000));
    let level = fields.check(
        "level",
        NotificationLevel::parse(input.level.as_deref().unwrap_or("info")),
    );
    let expires_at = match input
        .expires_at
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(text) => fields.check("expires_at", timestamps::parse(text)),
        None => None,
    };
    if let NotificationAudience::User(id) = input.audience
        && tx.user(id).await?.is_none()
    {
        fields.add("audience", "no such user");
    }
    fields.finish()?;
    let (Some(title), Some(message), Some(level)) = (title, message, level) else {
        return Err(Error::Internal("a parsed notification lost a field".into()));
    };
    let draft = Notification {
        id: 0,
        title,
        message,
        level,
        audience: input.audience,
        author_id: Some(actor.id),
        author_name: Some(actor.name.clone()),
        created_at: at.to_owned(),
        expires_at,
        withdrawn_at: None,
    };
    let id = tx.insert_notification(&draft).await?;
    let notification = tx
        .notification(id)
        .await?
        .ok_or(Error::NotFound("notification"))?;
    let event = DeskEvent::SystemNotificationCreated(NotificationCreated {
        notification: &notification,
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(notification, event))
}

/// Withdraws an active notification («Снять») and appends
/// `system_notification_withdrawn` to its audience, so that banners leave every page.
pub(crate) async fn withdraw_notification_in(
    tx: &mut dyn Transaction,
    actor: &User,
    id: i64,
    at: &str,
) -> Result<Outcome<Notification>> {
    require_admin(actor, "withdraw system notifications")?;
    let current = tx
        .notification(id)
        .await?
        .ok_or(Error::NotFound("notification"))?;
    if current.withdrawn_at.is_some() {
        return Ok(Outcome::Unchanged(current));
    }
    tx.withdraw_notification(id, at).await?;
    let notification = tx
        .notification(id)
        .await?
        .ok_or(Error::NotFound("notification"))?;
    let event = DeskEvent::SystemNotificationWithdrawn(NotificationWithdrawn {
        notification: &notification,
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(notification, event))
}

impl Desk {
    /// Withdraws a notification; withdrawing one already withdrawn changes nothing.
    pub async fn withdraw_notification(&self, actor: &User, id: i64) -> Result<Notification> {
        let now = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = withdraw_notification_in(work.tx(), actor, id, &now).await?;
        work.finish(outcome).await
    }

    /// The active warnings and critical notices for `actor`: the banner on every page.
    pub async fn banners(&self, actor: &User) -> Result<Vec<Notification>> {
        let listed = self.list_notifications(actor, Page::all()).await?;
        Ok(listed
            .items
            .into_iter()
            .filter(Notification::is_banner)
            .collect())
    }

    pub async fn create_notification(
        &self,
        actor: &User,
        input: &NewNotification,
    ) -> Result<Notification> {
        let now = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = create_notification_in(work.tx(), actor, input, &now).await?;
        work.finish(outcome).await
    }

    /// The active (unexpired, not withdrawn) notifications addressed to `actor`, newest
    /// first.
    pub async fn list_notifications(
        &self,
        actor: &User,
        page: Page,
    ) -> Result<Paged<Notification>> {
        require_active(actor)?;
        let now = timestamps::format(timestamps::now());
        self.store
            .notifications(Some(actor), &now, false, page)
            .await
    }

    /// Every notification, expired and withdrawn ones too: the admins' management list.
    pub async fn all_notifications(&self, actor: &User, page: Page) -> Result<Paged<Notification>> {
        require_admin(actor, "manage system notifications")?;
        let now = timestamps::format(timestamps::now());
        self.store.notifications(None, &now, true, page).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_read_names_and_one_user() {
        let parsed: Vec<NotificationAudience> =
            serde_json::from_str(r#"["everyone", "agents", "admins", {"user": 7}]"#)
                .expect("valid");
        assert_eq!(
            parsed,
            [
                NotificationAudience::Everyone,
                NotificationAudience::Agents,
                NotificationAudience::Admins,
                NotificationAudience::User(7)
            ]
        );
    }

    #[test]
    fn audiences_write_back_the_same_shape() {
        let json =
            serde_json::to_string(&[NotificationAudience::Admins, NotificationAudience::User(3)])
                .expect("serializes");
        assert_eq!(json, r#"["admins",{"user":3}]"#);
    }

    #[test]
    fn an_unknown_audience_is_refused() {
        assert!(serde_json::from_str::<NotificationAudience>(r#""requesters""#).is_err());
        assert!(serde_json::from_str::<NotificationAudience>(r#"{"users": 1}"#).is_err());
    }

    #[test]
    fn levels_parse() {
        assert_eq!(
            NotificationLevel::parse("warning"),
            Ok(NotificationLevel::Warning)
        );
        assert!(NotificationLevel::parse("debug").is_err());
    }
}
