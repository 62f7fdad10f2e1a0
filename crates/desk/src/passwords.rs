//! Password hashing: argon2id. Hashing runs on the blocking pool, since it takes tens of
//! milliseconds of CPU by design.

use argon2::{
    Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version,
    password_hash::{SaltString, rand_core::OsRng},
};

use crate::error::{Error, Result};

/// How costly new hashes are. Verification always uses the parameters stored in the
/// hash itself, so changing this never locks anyone out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PasswordCost {
    /// argon2's recommended defaults (19 MiB, 2 passes): for every real deployment.
    #[default]
    Standard,
    /// The minimum argon2 allows: for test suites only, which hash many passwords in
    /// unoptimized builds. Never the default.
    TestsOnly,
}

#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
}

impl Passwords {
    pub fn new(cost: PasswordCost) -> Self {
        let params = match cost {
            PasswordCost::Standard => Params::default(),
            // m = 8 KiB, t = 1, p = 1: valid by construction.
            PasswordCost::TestsOnly => Params::new(8, 1, 1, None).unwrap_or_default(),
        };
        Self { params }
    }

    fn hasher(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let hasher = self.hasher();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            hasher
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|error| Error::Internal(format!("hashing a password: {error}")))
        })
        .await
        .map_err(|error| Error::Internal(format!("hashing a password: {error}")))?
    }

    /// Whether `password` matches `hash`. A malformed hash matches nothing.
    pub async fn verify(&self, hash: &str, password: &str) -> bool {
        let hash = hash.to_owned();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    Argon2::default()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false)
    }
}

/// Checks a new password: 8–256 characters.
pub fn check_new(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < 8 {
        return Err("must be at least 8 characters".into());
    }
    if length > 256 {
        return Err("must be at most 256 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(PasswordCost::TestsOnly);
        let hash = passwords.hash("correct horse").await.expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(passwords.verify(&hash, "correct horse").await);
        assert!(!passwords.verify(&hash, "wrong horse").await);
    }

    #[tokio::test]
    async fn a_malformed_hash_matches_nothing() {
        let passwords = Passwords::new(PasswordCost::TestsOnly);
        assert!(!passwords.verify("not a hash", "").await);
    }

    #[test]
    fn standard_cost_uses_argon2_defaults() {
        assert_eq!(
            Passwords::new(PasswordCost::Standard).params,
            Params::default()
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_new("short").is_err());
        assert!(check_new("long enough").is_ok());
    }
}
