//! People: roles, account status, email addresses, interface language.

use crate::choice::choice;

choice!(
    /// What a person may do (SPEC §1). An admin is also an agent.
    Role {
        Requester = "requester",
        Agent = "agent",
        Admin = "admin",
    }
);

impl Role {
    /// Agents and admins: the IT staff, who work every ticket.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Agent | Role::Admin)
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }
}

choice!(
    /// Blocked people cannot log in, and their open connections are closed.
    UserStatus {
        Active = "active",
        Blocked = "blocked",
    }
);

choice!(
    /// The interface language.
    Locale {
        Ru = "ru",
        En = "en",
    }
);

/// A normalized (trimmed, lower-case) email address: login names compare equal however
/// they were typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most 254 characters")]
    TooLong,
    #[error("is not an email address")]
    Malformed,
}

impl Email {
    pub fn parse(text: &str) -> Result<Self, EmailError> {
        let email = text.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = email.split_once('@').ok_or(EmailError::Malformed)?;
        let well_formed = !local.is_empty()
            && !domain.is_empty()
            && !domain.contains('@')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && domain.contains('.')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(EmailError::Malformed);
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's account as everyone but the login code sees it (no password hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    #[sqlx(try_from = "String")]
    pub status: UserStatus,
    #[sqlx(try_from = "String")]
    pub locale: Locale,
    pub created_at: String,
    pub last_login_at: Option<String>,
    pub version: i64,
    pub updated_by: Option<i64>,
    pub updated_by_name: Option<String>,
}

impl User {
    /// `{id, name}`: how events name the person who acted.
    pub fn person(&self) -> Person<'_> {
        Person {
            id: self.id,
            name: &self.name,
        }
    }

    /// How the hub sees this person.
    pub fn viewer(&self) -> ictdesk_hub::Viewer {
        crate::audience::viewer(self.id, self.role, &self.name)
    }
}

/// Someone named in an event: `{"id": 3, "name": "..."}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Person<'a> {
    pub id: i64,
    pub name: &'a str,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub role: Option<Role>,
    pub status: Option<UserStatus>,
    /// Part of the name or email.
    pub q: Option<String>,
}

/// A login session as stored: the token itself is never stored, only its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: String,
    pub expires_at: String,
}

/// An API token as listed (the token itself is shown once, when created).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_from_their_names() {
        assert_eq!(Role::parse("agent"), Ok(Role::Agent));
        assert_eq!(Role::parse(" admin "), Ok(Role::Admin));
    }

    #[test]
    fn an_unknown_role_lists_the_valid_ones() {
        let error = Role::parse("root").expect_err("not a role");
        assert_eq!(error.to_string(), "must be one of: requester, agent, admin");
    }

    #[test]
    fn admins_and_agents_are_staff_requesters_are_not() {
        assert!(Role::Admin.is_staff());
        assert!(Role::Agent.is_staff());
        assert!(!Role::Requester.is_staff());
    }

    #[test]
    fn roles_serialize_as_their_names() {
        let json = serde_json::to_string(&Role::Requester).expect("serializes");
        assert_eq!(json, "\"requester\"");
        let role: Role = serde_json::from_str("\"admin\"").expect("deserializes");
        assert_eq!(role, Role::Admin);
    }

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let email = Email::parse("  Ivan.Petrov@Example.COM ").expect("valid");
        assert_eq!(email.as_str(), "ivan.petrov@example.com");
    }

    #[test]
    fn an_email_without_at_sign_is_rejected() {
        assert_eq!(Email::parse("ivan.example.com"), Err(EmailError::Malformed));
    }

    #[test]
    fn an_email_without_a_dotted_domain_is_rejected() {
        assert_eq!(Email::parse("ivan@localhost"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("ivan@example."), Err(EmailError::Malformed));
    }

    #[test]
    fn an_email_with_spaces_or_two_at_signs_is_rejected() {
        assert_eq!(
            Email::parse("iv an@example.com"),
            Err(EmailError::Malformed)
        );
        assert_eq!(Email::parse("a@b@example.com"), Err(EmailError::Malformed));
    }

    #[test]
    fn an_empty_email_is_rejected() {
        assert_eq!(Email::parse("  "), Err(EmailError::Empty));
    }

    #[test]
    fn cyrillic_domains_are_accepted() {
        assert!(Email::parse("админ@пример.рф").is_ok());
    }

    #[test]
    fn locales_are_ru_and_en() {
        assert_eq!(Locale::parse("ru"), Ok(Locale::Ru));
        assert!(Locale::parse("de").is_err());
    }
}
