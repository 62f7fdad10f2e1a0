//! The first run: an empty database gets one admin with a random password, printed
//! once, so that a fresh installation can be signed in to (`ictdesk serve` without
//! `--demo`). The demo department is `demo.rs`.

use rand::Rng;

use crate::{Desk, error::Result, users::NewUser};

/// The admin created for an empty database without `--demo`; printed once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitialAdmin {
    pub email: String,
    pub password: String,
}

pub const INITIAL_ADMIN_EMAIL: &str = "admin@ictdesk.local";

impl Desk {
    /// Whether the database has no users yet (a fresh installation).
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.store.count_users().await? == 0)
    }

    /// On an empty database, creates one admin with a random password and returns it
    /// (to print once); `None` when there are users already.
    pub async fn ensure_admin(&self) -> Result<Option<InitialAdmin>> {
        if !self.is_empty().await? {
            return Ok(None);
        }
        let password = random_password();
        let input = NewUser {
            name: "Administrator".into(),
            email: INITIAL_ADMIN_EMAIL.into(),
            role: "admin".into(),
            password: password.clone(),
            locale: Some("en".into()),
        };
        self.create_user_by_system(&input).await?;
        Ok(Some(InitialAdmin {
            email: INITIAL_ADMIN_EMAIL.into(),
            password,
        }))
    }
}

/// 20 characters from an alphabet without look-alikes (no 0/O, 1/l/I).
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_passwords_are_long_and_unambiguous() {
        let password = random_password();
        assert_eq!(password.chars().count(), 20);
        assert!(!password.contains(['0', 'O', '1', 'l', 'I']));
    }
}
