//! The bytes of attachments, content-addressed: a file is stored under its SHA-256, so
//! the same screenshot attached twice is stored once, and a name in the store can never
//! point at other bytes. The store is `object_store`'s: a local folder by default, any
//! of its backends when given one.
//!
//! Bytes are written *before* the transaction that records them commits (see
//! `attachments`), so a recorded attachment always has its bytes; bytes whose
//! transaction never committed, or whose last attachment was deleted, are orphans that
//! [`Files::sweep_candidates`] finds for the desk's sweeper.

use std::{
    fmt,
    path::Path as FsPath,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::{
    ObjectStore, ObjectStoreExt, PutPayload, local::LocalFileSystem, memory::InMemory, path::Path,
};
use sha2::{Digest, Sha256};

/// A failure of the byte store (a full disk, a missing folder, an unreachable bucket).
#[derive(Debug, thiserror::Error)]
#[error("attachment storage: {0}")]
pub struct FilesError(#[from] object_store::Error);

/// A SHA-256 digest in lower-case hex: the name of a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    pub fn of(bytes: &[u8]) -> Self {
        Self(hex(&Sha256::digest(bytes)))
    }

    /// A stored digest (64 lower-case hex digits); anything else is not one.
    pub fn parse(text: &str) -> Option<Self> {
        let valid =
            text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `sha256/ab/cd/abcd…`: two levels of folders keep any one folder small.
    fn location(&self) -> Path {
        Path::from(format!(
            "sha256/{}/{}/{}",
            &self.0[..2],
            &self.0[2..4],
            self.0
        ))
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The attachment byte store. Cheap to clone.
#[derive(Clone)]
pub struct Files {
    store: Arc<dyn ObjectStore>,
}

impl fmt::Debug for Files {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Files({})", self.store)
    }
}

impl Files {
    /// A local folder, created if missing.
    pub fn local(dir: &FsPath) -> Result<Self, FilesError> {
        std::fs::create_dir_all(dir).map_err(|error| {
            FilesError(object_store::Error::Generic {
                store: "LocalFileSystem",
                source: Box::new(error),
            })
        })?;
        // fsync before answering, as SQLite's synchronous=FULL does for the record: an
        // acknowledged upload survives a power cut, not only a killed process.
        let store = LocalFileSystem::new_with_prefix(dir)?.with_fsync(true);
        Ok(Self::new(Arc::new(store)))
    }

    /// Memory only: for tests and tools that keep nothing.
    pub fn in_memory() -> Self {
        Self::new(Arc::new(InMemory::new()))
    }

    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store }
    }

    /// Stores `bytes` under their digest and returns it. Storing bytes already there
    /// writes them again, which also marks them young for the sweeper.
    pub async fn put(&self, bytes: Bytes) -> Result<Sha256Hex, FilesError> {
        let digest = Sha256Hex::of(&bytes);
        self.store
            .put(&digest.location(), PutPayload::from_bytes(bytes))
            .await?;
        Ok(digest)
    }

    pub async fn get(&self, digest: &Sha256Hex) -> Result<Bytes, FilesError> {
        Ok(self.store.get(&digest.location()).await?.bytes().await?)
    }

    pub async fn contains(&self, digest: &Sha256Hex) -> Result<bool, FilesError> {
        match self.store.head(&digest.location()).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Removes the bytes; already gone is fine.
    pub async fn delete(&self, digest: &Sha256Hex) -> Result<(), FilesError> {
        match self.store.delete(&digest.location()).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Digests of the stored files last written longer than `grace` ago: the ones an
    /// upload still on its way to its transaction cannot be using.
    pub async fn sweep_candidates(&self, grace: Duration) -> Result<Vec<Sha256Hex>, FilesError> {
        let cutoff = cutoff(grace);
        let prefix = Path::from("sha256");
        let old = self
            .store
            .list(Some(&prefix))
            .try_filter_map(|meta| async move {
                let name = meta.location.filename().and_then(Sha256Hex::parse);
                Ok(name.filter(|_| meta.last_modified.timestamp_millis() <= cutoff))
            })
            .try_collect()
            .await?;
        Ok(old)
    }
}

/// Now minus `grace`, in milliseconds since 1970 (the store's times, as `timestamp_millis()`).
fn cutoff(grace: Duration) -> i64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_sub(grace);
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_names_its_bytes() {
        assert_eq!(
            Sha256Hex::of(b"abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn only_hex_digests_parse() {
        assert!(Sha256Hex::parse(Sha256Hex::of(b"x").as_str()).is_some());
        assert!(Sha256Hex::parse("../../etc/passwd").is_none());
        assert!(Sha256Hex::parse(&"A".repeat(64)).is_none());
    }

    #[tokio::test]
    async fn the_same_bytes_are_stored_once_under_their_digest() {
        let files = Files::in_memory();
        let first = files.put(Bytes::from_static(b"log")).await.expect("put");
        let second = files.put(Bytes::from_static(b"log")).await.expect("put");
        assert_eq!(first, second);
        assert_eq!(
            files.get(&first).await.expect("get"),
            Bytes::from_static(b"log")
        );
        let all = files.sweep_candidates(Duration::ZERO).await.expect("list");
        assert_eq!(all, vec![first.clone()]);
        files.delete(&first).await.expect("delete");
        assert!(!files.contains(&first).await.expect("head"));
        files.delete(&first).await.expect("deleting twice is fine");
    }

    #[tokio::test]
    async fn young_files_are_no_sweep_candidates() {
        let files = Files::in_memory();
        files.put(Bytes::from_static(b"new")).await.expect("put");
        let old = files
            .sweep_candidates(Duration::from_secs(3600))
            .await
            .expect("list");
        assert!(old.is_empty());
    }
}
