//! People: roles, account status, email addresses, interface language.

use serde::{Deserialize, Serialize};

use crate::{
    choice::choice,
    desk::{Desk, Outcome, check_version, require_active, require_admin},
    error::{Error, Fields, Result, required_text},
    events::{DeskEvent, UserCreated, UserStatusChanged},
    passwords,
    storage::{Page, Paged, Transaction},
    timestamps,
};

choice!(
    /// What a person may do. An admin is also an agent.
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, sqlx::FromRow, schemars::JsonSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, schemars::JsonSchema)]
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

/// `POST /users`: `{name, email, role, password, locale?}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub role: String,
    pub password: String,
    #[serde(default)]
    pub locale: Option<String>,
}

/// `PATCH /users/{id}`: any of `{status, role, name, email, locale, password}`;
/// changing one's own password also needs `current_password`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserChange {
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub current_password: Option<String>,
}

/// The outcome of a user change. `blocked`: the user was just blocked, so the web
/// layer must close their open connections (`hub.close_user(id, USER_BLOCKED)`).
#[derive(Debug, Clone)]
pub struct UserChanged {
    pub user: User,
    pub blocked: bool,
}

/// A changed field in an event: `{"field", "old", "new"}`.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FieldChange {
    pub field: &'static str,
    pub old: Option<String>,
    pub new: Option<String>,
}

fn changed<T: PartialEq + ToString>(
    changes: &mut Vec<FieldChange>,
    field: &'static str,
    old: &T,
    new: &T,
) {
    if old != new {
        changes.push(FieldChange {
            field,
            old: Some(old.to_string()),
            new: Some(new.to_string()),
        });
    }
}

struct ParsedUser {
    name: String,
    email: Email,
    role: Role,
    locale: Locale,
}

fn parse_new_user(input: &NewUser) -> Result<ParsedUser> {
    let mut fields = Fields::new();
    let name = fields.check("name", required_text(&input.name, 200));
    let email = fields.check("email", Email::parse(&input.email));
    let role = fields.check("role", Role::parse(&input.role));
    let locale = fields.check(
        "locale",
        Locale::parse(input.locale.as_deref().unwrap_or("ru")),
    );
    fields.finish()?;
    match (name, email, role, locale) {
        (Some(name), Some(email), Some(role), Some(locale)) => Ok(ParsedUser {
            name,
            email,
            role,
            locale,
        }),
        _ => Err(Error::Internal("a parsed user lost a field".into())),
    }
}

/// Inserts a user whose password is already hashed, and appends `user_created` (to
/// admins).
pub(crate) async fn create_user_in(
    tx: &mut dyn Transaction,
    actor: Option<&User>,
    input: &NewUser,
    password_hash: &str,
    at: &str,
) -> Result<Outcome<User>> {
    let user = parse_new_user(input)?;
    let draft = User {
        id: 0,
        name: user.name,
        email: user.email.as_str().to_owned(),
        role: user.role,
        status: UserStatus::Active,
        locale: user.locale,
        created_at: at.to_owned(),
        last_login_at: None,
        version: 1,
        updated_by: actor.map(|actor| actor.id),
        updated_by_name: None,
    };
    let id = tx.insert_user(&draft, password_hash).await?;
    let user = tx.user(id).await?.ok_or(Error::NotFound("user"))?;
    let event = DeskEvent::UserCreated(UserCreated {
        user: &user,
        actor: actor.map(User::person),
    })
    .encode()?;
    Ok(Outcome::changed(user, event))
}

impl Desk {
    /// An admin creates an account.
    pub async fn create_user(&self, actor: &User, input: &NewUser) -> Result<User> {
        require_admin(actor, "manage users")?;
        self.create_user_as(Some(actor), input).await
    }

    /// The command line (`ictdesk user add`) creates an account: no actor to check.
    pub async fn create_user_by_system(&self, input: &NewUser) -> Result<User> {
        self.create_user_as(None, input).await
    }

    async fn create_user_as(&self, actor: Option<&User>, input: &NewUser) -> Result<User> {
        let mut fields = Fields::new();
        fields.check("password", passwords::check_new(&input.password));
        if let Err(error) = parse_new_user(input) {
            for (field, message) in error.fields().into_iter().flatten() {
                fields.add(field, message.clone());
            }
        }
        fields.finish()?;
        // Hash before the transaction: no lock is held while the CPU works.
        let hash = self.passwords.hash(&input.password).await?;
        let at = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let outcome = create_user_in(work.tx(), actor, input, &hash, &at).await?;
        work.finish(outcome).await
    }

    /// Admins change anything of anyone but themselves' role and status; everyone may
    /// change their own name, locale and password. Blocking ends the user's sessions in
    /// the same transaction.
    pub async fn change_user(
        &self,
        actor: &User,
        id: i64,
        change: &UserChange,
    ) -> Result<UserChanged> {
        self.change_user_in_session(actor, None, id, change).await
    }

    /// [`Desk::change_user`] by someone signed in with `session_token`. A new password
    /// ends the person's sessions — all but this one when it is their own (issue 9
    /// point 6) — and one's own password changes only with the current one (an admin
    /// resetting someone else's needs none).
    pub async fn change_user_in_session(
        &self,
        actor: &User,
        session_token: Option<&str>,
        id: i64,
        change: &UserChange,
    ) -> Result<UserChanged> {
        require_active(actor)?;
        let own = actor.id == id;
        if !actor.role.is_admin() {
            let admin_only =
                change.role.is_some() || change.status.is_some() || change.email.is_some();
            if !own || admin_only {
                return Err(Error::forbidden("only admins can manage users"));
            }
        } else if own && (change.role.is_some() || change.status.is_some()) {
            // An admin who demotes or blocks themselves may leave nobody able to undo it.
            return Err(Error::forbidden(
                "admins cannot change their own role or status",
            ));
        }
        let mut keep = None;
        if own && change.password.is_some() {
            self.check_current_password(actor, change.current_password.as_deref())
                .await?;
            keep = session_token.map(crate::auth::token_hash);
        }
        self.change_user_as(Some(actor), id, change, keep.as_deref())
            .await
    }

    async fn check_current_password(&self, actor: &User, current: Option<&str>) -> Result<()> {
        let Some(current) = current else {
            return Err(Error::field(
                "current_password",
                "is required to change your own password",
            ));
        };
        let row = self
            .store
            .user_for_login(&actor.email)
            .await?
            .ok_or(Error::NotFound("user"))?;
        if !self.passwords.verify(&row.password_hash, current).await? {
            return Err(Error::field(
                "current_password",
                "is not your current password",
            ));
        }
        Ok(())
    }

    /// The command line (`ictdesk user block|unblock`) changes an account.
    pub async fn change_user_by_system(&self, id: i64, change: &UserChange) -> Result<UserChanged> {
        self.change_user_as(None, id, change, None).await
    }

    /// `keep`: the token hash of a session a password change does not end.
    async fn change_user_as(
        &self,
        actor: Option<&User>,
        id: i64,
        change: &UserChange,
        keep: Option<&str>,
    ) -> Result<UserChanged> {
        let mut fields = Fields::new();
        let name = change
            .name
            .as_deref()
            .and_then(|name| fields.check("name", required_text(name, 200)));
        let email = change
            .email
            .as_deref()
            .and_then(|email| fields.check("email", Email::parse(email)));
        let role = change
            .role
            .as_deref()
            .and_then(|role| fields.check("role", Role::parse(role)));
        let status = change
            .status
            .as_deref()
            .and_then(|status| fields.check("status", UserStatus::parse(status)));
        let locale = change
            .locale
            .as_deref()
            .and_then(|locale| fields.check("locale", Locale::parse(locale)));
        if let Some(password) = &change.password {
            fields.check("password", passwords::check_new(password));
        }
        fields.finish()?;
        let password_hash = match &change.password {
            Some(password) => Some(self.passwords.hash(password).await?),
            None => None,
        };

        let mut work = self.begin_change().await?;
        let tx = work.tx();
        let old = tx.user(id).await?.ok_or(Error::NotFound("user"))?;
        check_version(change.version, old.version, old.updated_by_name.as_deref())?;
        let mut new = old.clone();
        new.name = name.unwrap_or(new.name);
        new.email = email
            .map(|email| email.as_str().to_owned())
            .unwrap_or(new.email);
        new.role = role.unwrap_or(new.role);
        new.status = status.unwrap_or(new.status);
        new.locale = locale.unwrap_or(new.locale);

        let mut changes = Vec::new();
        changed(&mut changes, "name", &old.name, &new.name);
        changed(&mut changes, "email", &old.email, &new.email);
        changed(&mut changes, "role", &old.role, &new.role);
        changed(&mut changes, "status", &old.status, &new.status);
        changed(&mut changes, "locale", &old.locale, &new.locale);
        if let Some(hash) = &password_hash {
            tx.set_password(id, hash).await?;
            tx.delete_sessions_of(id, keep).await?;
            changes.push(FieldChange {
                field: "password",
                old: None,
                new: None,
            });
        }
        if changes.is_empty() {
            // Nothing to write: `work` is dropped, which rolls back.
            return Ok(UserChanged {
                user: old,
                blocked: false,
            });
        }
        let blocked = old.status == UserStatus::Active && new.status == UserStatus::Blocked;
        tx.update_user(&new, actor.map_or(id, |actor| actor.id))
            .await?;
        if blocked {
            tx.delete_sessions_of(id, None).await?;
        }
        let user = tx.user(id).await?.ok_or(Error::NotFound("user"))?;
        let event = DeskEvent::UserStatusChanged(UserStatusChanged {
            user: &user,
            old_status: old.status,
            new_status: new.status,
            changes,
            actor: actor.map(User::person),
        })
        .encode()?;
        work.finish(Outcome::changed(UserChanged { user, blocked }, event))
            .await
    }

    /// Admins list and search users; agents may list them too (to assign tickets and
    /// equipment); requesters may not.
    pub async fn list_users(
        &self,
        actor: &User,
        query: &UserQuery,
        page: Page,
    ) -> Result<Paged<User>> {
        crate::desk::require_staff(actor, "list users")?;
        self.store.users(query, page).await
    }

    /// A user's card: admins and agents see anyone, others only themselves.
    pub async fn get_user(&self, actor: &User, id: i64) -> Result<User> {
        require_active(actor)?;
        if !actor.role.is_staff() && actor.id != id {
            return Err(Error::NotFound("user"));
        }
        self.store.user(id).await?.ok_or(Error::NotFound("user"))
    }

    /// A user by id, unchecked: for identifying a connection whose session or token was
    /// already verified (e.g. to refresh a viewer's role).
    pub async fn find_user(&self, id: i64) -> Result<Option<User>> {
        self.store.user(id).await
    }

    /// Looks a user up by email (for the command line).
    pub async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
        let email =
            Email::parse(email).map_err(|error| Error::field("email", error.to_string()))?;
        self.store.user_by_email(email.as_str()).await
    }
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
