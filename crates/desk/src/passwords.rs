//! Password hashing: argon2id, on the blocking pool, since it takes tens of milliseconds
//! of CPU and (with the standard parameters) 19 MiB of memory by design.
//!
//! That memory is why hashing is bounded (issue 9 point 6): 250 parallel logins once
//! took a server from 20 MB to 4.6 GB, and the allocator kept most of it. So at most
//! [`running`](HashingPool) hashes run at once, a few more may wait, and any beyond
//! that are refused at once with [`Error::Busy`]; and each running slot reuses one
//! memory block across hashes instead of allocating 19 MiB per login.

use std::sync::{Arc, Mutex, PoisonError};

use argon2::{
    Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::{Output, ParamsString, SaltString, rand_core::OsRng},
};
use tokio::sync::Semaphore;

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

/// Hashes that may wait for a running slot, per slot: enough to absorb a burst of
/// people signing in at once, few enough that a flood is refused within moments.
const WAITING_PER_SLOT: usize = 8;

/// The most memory a stored hash may ask for (in 1 KiB blocks): 64 MiB, over three
/// times the standard cost. A hash asking for more is treated as matching nothing.
const MAX_BLOCKS: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Passwords {
    params: Params,
    pool: Arc<HashingPool>,
}

#[derive(Debug)]
struct HashingPool {
    /// Hashes running at once (one per core, at most four).
    running: Semaphore,
    /// Hashes running or waiting; beyond this they are refused.
    admitted: Semaphore,
    /// Memory blocks of finished hashes, for the next ones.
    memory: Mutex<Vec<Vec<Block>>>,
}

impl HashingPool {
    fn new(slots: usize) -> Self {
        Self {
            running: Semaphore::new(slots),
            admitted: Semaphore::new(slots * (1 + WAITING_PER_SLOT)),
            memory: Mutex::new(Vec::with_capacity(slots)),
        }
    }

    /// Runs `work` on the blocking pool with a reused memory block, once a slot is free.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T> {
        let _admitted = self.admitted.try_acquire().map_err(|_| Error::Busy)?;
        let _running = self
            .running
            .acquire()
            .await
            .map_err(|_| Error::Internal("the password pool is closed".into()))?;
        let mut memory = self
            .memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
            .unwrap_or_default();
        let (result, memory) = tokio::task::spawn_blocking(move || {
            let result = work(&mut memory);
            (result, memory)
        })
        .await
        .map_err(|error| Error::Internal(format!("hashing a password: {error}")))?;
        self.memory
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(memory);
        Ok(result)
    }
}

impl Passwords {
    pub fn new(cost: PasswordCost) -> Self {
        let params = match cost {
            PasswordCost::Standard => Params::default(),
            // m = 8 KiB, t = 1, p = 1: valid by construction.
            PasswordCost::TestsOnly => Params::new(8, 1, 1, None).unwrap_or_default(),
        };
        let slots = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
        Self {
            params,
            pool: Arc::new(HashingPool::new(slots)),
        }
    }

    /// A PHC string (`$argon2id$v=19$m=…`) with a fresh random salt; [`Error::Busy`]
    /// when too many hashes are running or waiting.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let params = self.params.clone();
        let password = password.to_owned();
        self.pool
            .run(move |memory| hash_with(&params, &password, memory))
            .await?
    }

    /// Whether `password` matches `hash` (a malformed hash matches nothing);
    /// [`Error::Busy`] when too many hashes are running or waiting.
    pub async fn verify(&self, hash: &str, password: &str) -> Result<bool> {
        let hash = hash.to_owned();
        let password = password.to_owned();
        self.pool
            .run(move |memory| verify_with(&hash, &password, memory))
            .await
    }
}

fn hash_with(params: &Params, password: &str, memory: &mut Vec<Block>) -> Result<String> {
    let failed = |error: &dyn std::fmt::Display| Error::Internal(format!("hashing: {error}"));
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(|e| failed(&e))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    hasher
        .hash_password_into_with_memory(
            password.as_bytes(),
            salt_bytes,
            &mut out,
            blocks(memory, params.block_count()),
        )
        .map_err(|e| failed(&e))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| failed(&e))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(phc.to_string())
}

fn verify_with(hash: &str, password: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params), Some(salt), Some(expected)) = (
        Algorithm::try_from(parsed.algorithm),
        Params::try_from(&parsed),
        parsed.salt,
        parsed.hash,
    ) else {
        return false;
    };
    let version = parsed
        .version
        .map_or(Ok(Version::default()), Version::try_from);
    let Ok(version) = version else {
        return false;
    };
    if params.block_count() > MAX_BLOCKS {
        tracing::warn!(
            blocks = params.block_count(),
            "a stored password hash asks for more memory than allowed; it matches nothing"
        );
        return false;
    }
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    let hasher = Argon2::new(algorithm, version, params.clone());
    let computed = hasher.hash_password_into_with_memory(
        password.as_bytes(),
        salt_bytes,
        &mut out,
        blocks(memory, params.block_count()),
    );
    // Output's equality takes the same time wherever the first difference is.
    computed.is_ok() && Output::new(&out).is_ok_and(|out| out == expected)
}

/// The first `count` blocks of `memory`, grown once when a hash needs more.
fn blocks(memory: &mut Vec<Block>, count: usize) -> &mut [Block] {
    if memory.len() < count {
        memory.resize(count, Block::default());
    }
    &mut memory[..count]
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
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let passwords = Passwords::new(PasswordCost::TestsOnly);
        let hash = passwords.hash("correct horse").await.expect("hashes");
        assert!(hash.starts_with("$argon2id$v=19$m=8,t=1,p=1$"));
        assert!(passwords.verify(&hash, "correct horse").await.expect("ran"));
        assert!(!passwords.verify(&hash, "wrong horse").await.expect("ran"));
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate_both_ways() {
        let passwords = Passwords::new(PasswordCost::TestsOnly);
        let ours = passwords.hash("correct horse").await.expect("hashes");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &salt)
            .expect("hashes")
            .to_string();
        assert!(
            passwords
                .verify(&theirs, "correct horse")
                .await
                .expect("ran")
        );
        assert!(
            !passwords
                .verify(&theirs, "correct hors")
                .await
                .expect("ran")
        );
    }

    #[tokio::test]
    async fn a_malformed_hash_matches_nothing() {
        let passwords = Passwords::new(PasswordCost::TestsOnly);
        assert!(!passwords.verify("not a hash", "").await.expect("ran"));
    }

    #[tokio::test]
    async fn beyond_the_waiting_room_hashing_is_refused_not_queued() {
        let pool = Arc::new(HashingPool::new(1));
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(Mutex::new(hold));
        let mut running = Vec::new();
        for _ in 0..=WAITING_PER_SLOT {
            let (pool, hold) = (pool.clone(), hold.clone());
            running.push(tokio::spawn(async move {
                pool.run(move |_| {
                    let _ = hold.lock().map(|hold| hold.recv());
                })
                .await
            }));
        }
        // Every admitted hash holds its permit until released; one more is refused.
        while pool.admitted.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(pool.run(|_| ()).await, Err(Error::Busy)));
        for _ in 0..running.len() {
            release.send(()).expect("a hash is waiting");
        }
        for hash in running {
            hash.await.expect("joined").expect("ran");
        }
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
