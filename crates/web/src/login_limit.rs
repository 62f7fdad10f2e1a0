//! The login attempt limit (SPEC §7): at most N failed logins per client address and
//! per email within a window. Only failures count, so people who type their password
//! right are never slowed down; a guesser is stopped after N tries either way — from one
//! address at many accounts, or at one account from many addresses.
//!
//! In memory, per node: a restart forgets, which is acceptable for a brake on guessing.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
    time::{Duration, Instant},
};

/// Above this many tracked keys, expired ones are swept on the next failure.
const SWEEP_ABOVE: usize = 10_000;

pub struct LoginLimiter {
    attempts: u32,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(attempts: u32, window: Duration) -> Self {
        Self {
            attempts,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(wait)` when any key has used up its attempts: how long until one frees up.
    pub fn check(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let failures = self.lock();
        let wait = keys
            .iter()
            .filter_map(|key| failures.get(key))
            .filter_map(|times| {
                let recent: Vec<&Instant> = times
                    .iter()
                    .filter(|at| now.duration_since(**at) < self.window)
                    .collect();
                let limit = usize::try_from(self.attempts).unwrap_or(usize::MAX);
                (recent.len() >= limit).then(|| {
                    recent
                        .first()
                        .map(|oldest| self.window.saturating_sub(now.duration_since(**oldest)))
                        .unwrap_or(self.window)
                })
            })
            .max();
        match wait {
            Some(wait) => Err(wait.max(Duration::from_secs(1))),
            None => Ok(()),
        }
    }

    pub fn record_failure(&self, keys: &[String], now: Instant) {
        let mut failures = self.lock();
        if failures.len() > SWEEP_ABOVE {
            failures.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|at| now.duration_since(*at) < self.window)
            });
        }
        let keep = usize::try_from(self.attempts).unwrap_or(usize::MAX);
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            times.push_back(now);
            // Only the newest `attempts` failures can matter.
            while times.len() > keep {
                times.pop_front();
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A panic while holding this lock cannot leave the map inconsistent.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Vec<String> {
        vec!["ip:127.0.0.1".into(), "email:a@b.c".into()]
    }

    #[test]
    fn failures_up_to_the_limit_are_allowed() {
        let limiter = LoginLimiter::new(3, Duration::from_secs(60));
        let now = Instant::now();
        for _ in 0..2 {
            limiter.record_failure(&keys(), now);
        }
        assert!(limiter.check(&keys(), now).is_ok());
        limiter.record_failure(&keys(), now);
        assert!(limiter.check(&keys(), now).is_err());
    }

    #[test]
    fn the_limit_lifts_after_the_window() {
        let limiter = LoginLimiter::new(1, Duration::from_secs(60));
        let now = Instant::now();
        limiter.record_failure(&keys(), now);
        let wait = limiter.check(&keys(), now).expect_err("limited");
        assert!(wait <= Duration::from_secs(60));
        assert!(
            limiter
                .check(&keys(), now + Duration::from_secs(61))
                .is_ok()
        );
    }

    #[test]
    fn one_limited_key_limits_the_attempt() {
        let limiter = LoginLimiter::new(1, Duration::from_secs(60));
        let now = Instant::now();
        limiter.record_failure(&["email:a@b.c".to_owned()], now);
        assert!(limiter.check(&keys(), now).is_err());
        assert!(limiter.check(&["ip:127.0.0.1".to_owned()], now).is_ok());
    }
}
