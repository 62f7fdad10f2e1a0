//! Logging in: email + password → a session; sessions and API tokens → a user.
//! Tokens are random and only their SHA-256 hash is stored, so a copy of the database
//! lets nobody in. Failed attempts are limited in `login_limit`.

use ictdesk_hub::NewEvent;
use sha2::{Digest, Sha256};

use crate::{
    desk::{Desk, Outcome, require_active},
    error::{Error, Result, required_text},
    events::{DeskEvent, UserId, UserSessionEnded},
    login_limit::{Admission, LoginLimit},
    storage::ActiveSession,
    timestamps,
    users::{ApiToken, Email, Session, User, UserStatus},
};

/// What a successful login gives the web layer: the cookie value (shown once, never
/// stored) and the CSRF token the pages must send back.
#[derive(Debug, Clone)]
pub struct LoggedIn {
    pub user: User,
    pub session_token: String,
    pub csrf_token: String,
    pub expires_at: String,
}

/// A new API token: the secret is shown once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewApiToken {
    #[serde(flatten)]
    pub token: ApiToken,
    pub secret: String,
}

/// 32 random bytes as hex.
fn random_token() -> String {
    let bytes: [u8; 32] = rand::random();
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

impl Desk {
    /// Checks email and password against the login attempt limit (see `login_limit`)
    /// and opens a session: [`Error::TooManyAttempts`] when `address` has used up its
    /// failures, else what [`Desk::login`] answers.
    pub async fn login_from(
        &self,
        address: &str,
        email: &str,
        password: &str,
        limit: LoginLimit,
    ) -> Result<LoggedIn> {
        let attempt = match self.admit_login(address, email, limit).await? {
            Admission::Admitted(attempt) => attempt,
            Admission::Refused { retry_after } => {
                return Err(Error::TooManyAttempts { retry_after });
            }
        };
        tokio::time::sleep(attempt.delay).await;
        let result = self.login(email, password).await;
        // Only a wrong password (or unknown email, or blocked account) is a failure.
        if !matches!(result, Err(Error::InvalidCredentials)) {
            self.forget_login_attempt(attempt).await?;
        }
        result
    }

    /// Checks email and password and opens a session. An unknown email, a wrong
    /// password and a blocked account all get the same error and take about the same
    /// time, so that the answer tells nothing about the account.
    pub async fn login(&self, email: &str, password: &str) -> Result<LoggedIn> {
        let email = Email::parse(email).map_err(|_| Error::InvalidCredentials)?;
        let Some(row) = self.store.user_for_login(email.as_str()).await? else {
            // Spend the time a real check would, so response times do not tell which
            // emails exist.
            let _ = self.passwords.hash(password).await?;
            return Err(Error::InvalidCredentials);
        };
        let right = self.passwords.verify(&row.password_hash, password).await?;
        if !right || row.user.status == UserStatus::Blocked {
            return Err(Error::InvalidCredentials);
        }
        self.open_session(row.user).await
    }

    async fn open_session(&self, user: User) -> Result<LoggedIn> {
        let now = self.database_now().await?;
        let session_token = random_token();
        let session = Session {
            token_hash: token_hash(&session_token),
            user_id: user.id,
            csrf_token: random_token(),
            created_at: timestamps::format(now),
            expires_at: timestamps::after(now, self.session_lifetime()),
        };
        let mut work = self.begin_change().await?;
        work.tx().insert_session(&session).await?;
        work.tx().record_login(user.id, &session.created_at).await?;
        work.commit().await?;
        Ok(LoggedIn {
            user,
            session_token,
            csrf_token: session.csrf_token,
            expires_at: session.expires_at,
        })
    }

    /// How long a session lasts (`DeskOptions::session_lifetime`).
    pub fn session_lifetime(&self) -> time::Duration {
        time::Duration::try_from(self.session_lifetime).unwrap_or(time::Duration::MAX)
    }

    /// The session of a cookie, with its user and CSRF token, if the session is valid
    /// (by the database's clock) and the user active.
    pub async fn session_user(&self, session_token: &str) -> Result<Option<ActiveSession>> {
        self.store.session(&token_hash(session_token)).await
    }

    /// Ends a session; `false` if there was none. Its open connections close, on every
    /// node (`user_session_ended`).
    pub async fn logout(&self, session_token: &str) -> Result<bool> {
        let Some(session) = self.session_user(session_token).await? else {
            return Ok(false);
        };
        let mut work = self.begin_change().await?;
        if !work.tx().delete_session(&token_hash(session_token)).await? {
            return Ok(false);
        }
        let ended = session_ended(session.user.id)?;
        let deleted = work.finish(Outcome::changed(true, ended)).await?;
        Ok(deleted)
    }

    /// Creates an API token for the actor (for integrations: `Authorization: Bearer`).
    pub async fn create_api_token(&self, actor: &User, name: &str) -> Result<NewApiToken> {
        require_active(actor)?;
        let name = required_text(name, 100).map_err(|message| Error::field("name", message))?;
        let secret = format!("ictd_{}", random_token());
        let at = timestamps::format(timestamps::now());
        let mut work = self.begin_change().await?;
        let id = work
            .tx()
            .insert_api_token(actor.id, &name, &token_hash(&secret), &at)
            .await?;
        work.commit().await?;
        Ok(NewApiToken {
            token: ApiToken {
                id,
                user_id: actor.id,
                name,
                created_at: at,
                last_used_at: None,
            },
            secret,
        })
    }

    pub async fn api_tokens(&self, actor: &User) -> Result<Vec<ApiToken>> {
        self.store.api_tokens(actor.id).await
    }

    /// Revokes one of the actor's API tokens; connections opened with it close, on
    /// every node (`user_session_ended`).
    pub async fn delete_api_token(&self, actor: &User, id: i64) -> Result<()> {
        let mut work = self.begin_change().await?;
        if !work.tx().delete_api_token(actor.id, id).await? {
            return Err(Error::NotFound("API token"));
        }
        work.finish(Outcome::changed((), session_ended(actor.id)?))
            .await
    }

    /// The active user an API token belongs to.
    pub async fn api_token_user(&self, secret: &str) -> Result<Option<User>> {
        self.store.api_token_user(&token_hash(secret)).await
    }
}

/// `user_session_ended`: one of the user's sessions or API tokens is gone. Only that
/// user hears of it; it is there so that every node's connections of theirs identify
/// again at this point of the log (see the hub's `rights` module).
fn session_ended(user_id: i64) -> Result<NewEvent> {
    DeskEvent::UserSessionEnded(UserSessionEnded {
        user: UserId { id: user_id },
    })
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn the_stored_hash_is_not_the_token() {
        let token = random_token();
        assert_ne!(token_hash(&token), token);
        assert_eq!(token_hash(&token), token_hash(&token));
    }
}
