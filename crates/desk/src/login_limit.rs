//! The login attempt limit (issue 9 point 6, issue 18 point 3). An attempt counts
//! against three keys:
//! * the client address and the account: at most `attempts` failures in the window —
//!   someone guessing one account from one place;
//! * the client address: at most `address_attempts` failures at any accounts — someone
//!   trying many accounts from one place;
//! * the account alone: never refused, only slowed down once it has had `attempts`
//!   failures from anywhere, so that nobody can lock a person (the admin, say) out by
//!   failing on purpose from addresses of their own, while guessing from many
//!   addresses still gets slower.
//!
//! The attempt is reserved (a row per key, committed) *before* the password is
//! checked, and then counted: parallel attempts each see at least the reservations
//! committed before their own, so no more than the limit get through however many
//! arrive at once. A right password forgets its reservation; what stays are failures.
//! Kept in the database with the database's clock, so that every node of a cluster —
//! whatever its own clock says — counts the same failures, and a restart forgets none.

use std::time::Duration;

use time::OffsetDateTime;

use crate::{desk::Desk, error::Result, timestamps};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimit {
    /// Failed logins per client address and account within `window`.
    pub attempts: u32,
    /// Failed logins per client address, at any accounts, within `window`.
    pub address_attempts: u32,
    pub window: Duration,
}

impl Default for LoginLimit {
    fn default() -> Self {
        Self {
            attempts: 10,
            address_attempts: 100,
            window: Duration::from_secs(300),
        }
    }
}

impl LoginLimit {
    fn window(self) -> time::Duration {
        time::Duration::try_from(self.window).unwrap_or(time::Duration::MAX)
    }
}

/// The first delay of an account past its failures, doubled with each further failure.
const FIRST_DELAY: Duration = Duration::from_millis(250);
/// The longest an account's attempts are slowed down.
const MAX_DELAY: Duration = Duration::from_secs(5);
/// Failures past the limit beyond which the delay no longer grows (250 ms × 2⁵ > 5 s).
const DELAY_STEPS: u32 = 6;

/// The keys one attempt counts against.
struct Keys {
    address: String,
    address_account: String,
    account: String,
}

impl Keys {
    fn new(address: &str, email: &str) -> Self {
        let email = email.trim().to_lowercase();
        Self {
            address: format!("address:{address}"),
            address_account: format!("address+account:{address} {email}"),
            account: format!("account:{email}"),
        }
    }
}

/// Whether a login may check its password.
#[derive(Debug)]
pub enum Admission {
    /// It may, after waiting `delay`; report the outcome with
    /// [`Desk::forget_login_attempt`] when the password was right.
    Admitted(LoginAttempt),
    /// The address (with or without this account) has used up its failures.
    Refused { retry_after: Duration },
}

/// A reserved attempt: a failure unless forgotten.
#[derive(Debug)]
#[must_use]
pub struct LoginAttempt {
    ids: Vec<i64>,
    pub delay: Duration,
}

impl Desk {
    /// Reserves an attempt from `address` at `email`'s account and says whether it may
    /// go on.
    pub async fn admit_login(
        &self,
        address: &str,
        email: &str,
        limit: LoginLimit,
    ) -> Result<Admission> {
        let keys = Keys::new(address, email);
        let now = self.database_now().await?;
        let since = timestamps::format(now - limit.window());
        let ids = self.reserve(&keys, now, &since).await?;
        let limited = [
            (&keys.address_account, limit.attempts),
            (&keys.address, limit.address_attempts),
        ];
        for (key, allowed) in limited {
            let attempts = self
                .store
                .login_attempts(key, &since, i64::from(allowed) + 1)
                .await?;
            if attempts.len() > allowed as usize {
                self.forget(&ids).await?;
                let retry_after = retry_after(attempts.last(), now, limit);
                return Ok(Admission::Refused { retry_after });
            }
        }
        let on_account = self
            .store
            .login_attempts(
                &keys.account,
                &since,
                i64::from(limit.attempts + DELAY_STEPS + 1),
            )
            .await?;
        let failures_past_limit = on_account.len().saturating_sub(limit.attempts as usize + 1);
        Ok(Admission::Admitted(LoginAttempt {
            ids,
            delay: delay_after(failures_past_limit),
        }))
    }

    /// The password was right (or never checked): the attempt is no failure.
    pub async fn forget_login_attempt(&self, attempt: LoginAttempt) -> Result<()> {
        self.forget(&attempt.ids).await
    }

    /// One row per key, committed before anything is counted; failures older than the
    /// window go at the same time.
    async fn reserve(&self, keys: &Keys, now: OffsetDateTime, since: &str) -> Result<Vec<i64>> {
        let at = timestamps::format(now);
        let mut work = self.begin_change().await?;
        let mut ids = Vec::with_capacity(3);
        for key in [&keys.address, &keys.address_account, &keys.account] {
            ids.push(work.tx().insert_login_attempt(key, &at).await?);
        }
        work.tx().forget_login_attempts(since).await?;
        work.commit().await?;
        Ok(ids)
    }

    async fn forget(&self, ids: &[i64]) -> Result<()> {
        let mut work = self.begin_change().await?;
        work.tx().delete_login_attempts(ids).await?;
        work.commit().await
    }
}

/// Until the oldest of the counted attempts leaves the window (at least a second).
fn retry_after(oldest: Option<&String>, now: OffsetDateTime, limit: LoginLimit) -> Duration {
    let oldest = oldest
        .and_then(|at| {
            OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
        })
        .unwrap_or(now);
    let until = (oldest + limit.window() - now).max(time::Duration::SECOND);
    Duration::try_from(until).unwrap_or(limit.window)
}

/// How long an account's attempt waits after `failures` past its limit.
fn delay_after(failures: usize) -> Duration {
    match failures {
        0 => Duration::ZERO,
        n => {
            let doublings = u32::try_from(n - 1).unwrap_or(u32::MAX).min(DELAY_STEPS);
            FIRST_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_slows_down_progressively_and_never_beyond_the_cap() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(1), Duration::from_millis(250));
        assert_eq!(delay_after(2), Duration::from_millis(500));
        assert_eq!(delay_after(5), Duration::from_secs(4));
        assert_eq!(delay_after(6), MAX_DELAY);
        assert_eq!(delay_after(10_000), MAX_DELAY);
    }

    #[test]
    fn keys_fold_the_email_as_accounts_do() {
        let keys = Keys::new("192.0.2.7", " Maria@Test.Local ");
        assert_eq!(keys.account, "account:maria@test.local");
        assert_eq!(
            keys.address_account,
            "address+account:192.0.2.7 maria@test.local"
        );
        assert_eq!(keys.address, "address:192.0.2.7");
    }
}
