//! The login attempt limit (SPEC §7): at most `attempts` failed logins per key (the web
//! layer passes the client's address and the email) within `window`. Only failures
//! count, so people who type their password right are never slowed down; a guesser is
//! stopped after that many tries either way — from one address at many accounts, or
//! at one account from many addresses. Kept in the database, so that every node of a
//! cluster counts the same failures and a restart forgets none.

use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

use crate::{desk::Desk, error::Result, timestamps};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    pub attempts: u32,
    pub window: std::time::Duration,
}

impl LoginLimit {
    fn window(self) -> Duration {
        Duration::try_from(self.window).unwrap_or(Duration::MAX)
    }
}

impl Desk {
    /// How long until another attempt is allowed, when any of `keys` has used up its
    /// failed attempts in the window (at least a second); `None` when it is allowed.
    pub async fn login_wait(
        &self,
        keys: &[String],
        limit: LoginLimit,
        now: OffsetDateTime,
    ) -> Result<Option<std::time::Duration>> {
        let since = timestamps::format(now - limit.window());
        let mut wait = None;
        for key in keys {
            let failures = self
                .store
                .login_failures(key, &since, i64::from(limit.attempts))
                .await?;
            if failures.len() < limit.attempts as usize {
                continue;
            }
            // Allowed again once the oldest of the newest `attempts` failures expires.
            let oldest = failures
                .last()
                .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
                .unwrap_or(now);
            let until = (oldest + limit.window() - now).max(Duration::SECOND);
            let until = std::time::Duration::try_from(until).unwrap_or(limit.window);
            wait = wait.max(Some(until));
        }
        Ok(wait)
    }

    /// Counts a failed login against each of `keys`, and forgets failures older than
    /// the window.
    pub async fn record_login_failure(
        &self,
        keys: &[String],
        limit: LoginLimit,
        now: OffsetDateTime,
    ) -> Result<()> {
        let at = timestamps::format(now);
        let mut tx = self.begin().await?;
        for key in keys {
            tx.insert_login_failure(key, &at).await?;
        }
        tx.forget_login_failures(&timestamps::format(now - limit.window()))
            .await?;
        tx.commit().await
    }
}
