//! The connections of this node and the fan-out to them. The fan-out offers each event
//! to every connection's [`Outlet`], which writes it without ever waiting, so a client
//! that does not read cannot slow anyone down: when its queue is full it is
//! disconnected and resumes from the log.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex, OnceLock, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::Poll,
    time::SystemTime,
};

use bytes::Bytes;
use futures_util::task::AtomicWaker;
use tokio::task::{JoinSet, coop::unconstrained};

use crate::{
    event::Delivered,
    outlet::{Offer, Outlet, QueueFull, Sink},
    rights::{Identified, RightsChange},
};

pub type ConnectionId = u64;

/// Why the server closes a connection (the WebSocket close code and reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: &'static str,
}

impl CloseReason {
    pub const SLOW_CONSUMER: Self = Self {
        code: 1013,
        reason: "too slow reading events; reconnect and resume",
    };
    pub const GOING_AWAY: Self = Self {
        code: 1001,
        reason: "server shutting down",
    };
    pub const USER_BLOCKED: Self = Self {
        code: 1008,
        reason: "account blocked",
    };
    /// The viewer's session (or API token) ended: logout, password change, expiry,
    /// revocation. The page signs in again.
    pub const SESSION_ENDED: Self = Self {
        code: 1008,
        reason: "session ended",
    };
    /// The viewer now has another role: the page opens again with its new rights.
    pub const ROLE_CHANGED: Self = Self {
        code: 1008,
        reason: "role changed",
    };
    /// A hub token reached its `exp` without being refreshed (`auth`).
    pub const TOKEN_EXPIRED: Self = Self {
        code: 1008,
        reason: "token expired",
    };
    pub const ABUSE: Self = Self {
        code: 1008,
        reason: "too many invalid messages",
    };
    pub const SILENT: Self = Self {
        code: 1001,
        reason: "no answer to pings",
    };
    pub const INVALID_UTF8: Self = Self {
        code: 1007,
        reason: "text frame is not valid UTF-8",
    };
    pub const TOO_BIG: Self = Self {
        code: 1009,
        reason: "message too big",
    };
    pub const PROTOCOL: Self = Self {
        code: 1002,
        reason: "WebSocket protocol error",
    };
    pub const TRY_AGAIN: Self = Self {
        code: 1013,
        reason: "temporary server problem; reconnect and resume",
    };
}

/// Lets the fan-out (or an administrator) tell a connection to close, or to identify
/// its viewer again. Only the connection's own task waits on it, so atomic flags and one
/// waker do: checking them costs an atomic load on every wake-up of a busy connection,
/// never a lock.
#[derive(Debug, Default)]
pub(crate) struct Control {
    closed: AtomicBool,
    reason: OnceLock<CloseReason>,
    recheck: AtomicBool,
    waker: AtomicWaker,
}

impl Control {
    pub fn close(&self, reason: CloseReason) {
        let _first_reason_wins = self.reason.set(reason);
        self.closed.store(true, Ordering::Release);
        self.waker.wake();
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Asks the connection to identify its viewer again (their rights may have changed).
    pub fn recheck(&self) {
        self.recheck.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Completes once a recheck was asked for, taking the request.
    pub fn recheck_requested(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.recheck.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            self.waker.register(cx.waker());
            if self.recheck.swap(false, Ordering::AcqRel) {
                return Poll::Ready(());
            }
            Poll::Pending
        })
    }

    /// Why the connection was told to close, if it was.
    pub fn reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }

    /// Completes once `close` was called, with its reason.
    pub fn closed(&self) -> impl Future<Output = CloseReason> + '_ {
        std::future::poll_fn(move |cx| {
            if !self.closed.load(Ordering::Acquire) {
                self.waker.register(cx.waker());
                // Closed between the check and the registration: don't miss it.
                if !self.closed.load(Ordering::Acquire) {
                    return Poll::Pending;
                }
            }
            Poll::Ready(
                self.reason
                    .get()
                    .copied()
                    .unwrap_or(CloseReason::GOING_AWAY),
            )
        })
    }
}

pub(crate) struct Registry {
    entries: RwLock<HashMap<ConnectionId, Arc<Outlet>>>,
    /// Every outlet, for the fan-out: built at the first fan-out after a connection
    /// came or went, rather than cloning ten thousand `Arc`s for every batch. Cleared
    /// under the write lock, filled under the read lock.
    everyone: Mutex<Option<Arc<[Arc<Outlet>]>>>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    next_id: AtomicU64,
    queue_capacity: usize,
    max_per_ip: usize,
    /// Fan-out tasks per batch at most: one per runtime worker, so that the writes of a
    /// broadcast to many connections use every core.
    shards: usize,
}

/// Outcome of one fan-out.
#[derive(Default)]
pub(crate) struct FanOut {
    pub deliveries: u64,
    pub dropped_slow: u64,
}

/// Outcome of one shard of a fan-out.
#[derive(Default)]
struct Shard {
    deliveries: u64,
    slow: Vec<Arc<Outlet>>,
}

/// Connections per fan-out task at least: for fewer, spreading the writes over several
/// workers costs more than it saves.
const SHARD_MIN: usize = 512;
/// Outlets a fan-out task writes to between yields, so that the other tasks of its
/// worker (connections, requests) still run during a broadcast to thousands.
const YIELD_EVERY: usize = 256;

impl Registry {
    /// Must be called on the runtime that serves the connections (it sizes the fan-out).
    pub fn new(queue_capacity: usize, max_per_ip: usize) -> Self {
        let workers = tokio::runtime::Handle::try_current()
            .map_or(1, |runtime| runtime.metrics().num_workers());
        Self {
            entries: RwLock::new(HashMap::new()),
            everyone: Mutex::new(None),
            per_ip: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            queue_capacity: queue_capacity.max(1),
            max_per_ip,
            shards: workers.max(1),
        }
    }

    /// Adds a connection writing to `sink`, whose first frame is `greeting(id, joined_at)`.
    /// `joined_at` is the head, read under the registry's write lock; the fan-out
    /// publishes each new head under its read lock, so the connection is offered exactly
    /// the events after `joined_at`. With `replaying` they wait until the replay
    /// releases them.
    pub fn register(
        &self,
        identified: Identified,
        sink: Sink,
        replaying: bool,
        head: impl FnOnce() -> i64,
        greeting: impl FnOnce(ConnectionId, i64) -> Bytes,
    ) -> Arc<Outlet> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut entries = self.write();
        let joined_at = head();
        let outlet = Arc::new(Outlet::new(
            id,
            identified,
            sink,
            self.queue_capacity,
            joined_at,
            replaying,
            greeting(id, joined_at),
        ));
        entries.insert(id, outlet.clone());
        self.changed();
        outlet
    }

    pub fn unregister(&self, id: ConnectionId) {
        let mut entries = self.write();
        if entries.remove(&id).is_some() {
            self.changed();
        }
    }

    /// Takes one of `ip`'s connection slots; false when it has none left.
    pub fn reserve_ip(&self, ip: IpAddr) -> bool {
        let mut per_ip = lock(&self.per_ip);
        let count = per_ip.entry(ip).or_default();
        if self.max_per_ip > 0 && *count >= self.max_per_ip {
            return false;
        }
        *count += 1;
        true
    }

    pub fn release_ip(&self, ip: IpAddr) {
        let mut per_ip = lock(&self.per_ip);
        if let Some(count) = per_ip.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                per_ip.remove(&ip);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Offers `batch` to every connection whose viewer may see each event — spread over
    /// the runtime's workers — after running `publish_head` while new connections are
    /// held back; then closes the connections that let their queue fill up. `changes`
    /// are the batch's rights changes (see [`crate::rights`]).
    pub async fn fan_out(
        &self,
        batch: Arc<[Arc<Delivered>]>,
        changes: Arc<[(i64, RightsChange)]>,
        publish_head: impl FnOnce(),
    ) -> FanOut {
        let now = SystemTime::now();
        let outlets: Arc<[Arc<Outlet>]> = {
            let entries = self.read();
            let outlets = lock(&self.everyone)
                .get_or_insert_with(|| entries.values().cloned().collect())
                .clone();
            publish_head();
            outlets
        };
        let shards = self.shards.min(outlets.len() / SHARD_MIN).max(1);
        let outcome = if shards == 1 {
            unconstrained(deliver(&outlets, &batch, &changes, now)).await
        } else {
            let per_shard = outlets.len().div_ceil(shards);
            let mut tasks = JoinSet::new();
            for start in (0..outlets.len()).step_by(per_shard) {
                let (outlets, batch, changes) = (outlets.clone(), batch.clone(), changes.clone());
                tasks.spawn(unconstrained(async move {
                    let end = (start + per_shard).min(outlets.len());
                    deliver(&outlets[start..end], &batch, &changes, now).await
                }));
            }
            let mut outcome = Shard::default();
            for shard in tasks.join_all().await {
                outcome.deliveries += shard.deliveries;
                outcome.slow.extend(shard.slow);
            }
            outcome
        };
        let dropped_slow = outcome.slow.len() as u64;
        if !outcome.slow.is_empty() {
            let mut entries = self.write();
            for outlet in outcome.slow {
                tracing::warn!(
                    connection = outlet.id,
                    "Connection {} dropped: too slow reading events",
                    outlet.id
                );
                entries.remove(&outlet.id);
                self.changed();
                outlet.control.close(CloseReason::SLOW_CONSUMER);
            }
        }
        FanOut {
            deliveries: outcome.deliveries,
            dropped_slow,
        }
    }

    /// Sends a frame that is not an event to some connections; a full queue just misses
    /// it (it will be dropped for the next event anyway).
    pub fn send_ephemeral(&self, to: &[ConnectionId], frame: Bytes) -> usize {
        let entries = self.read();
        to.iter()
            .filter_map(|id| entries.get(id))
            .filter(|outlet| outlet.offer_frame(frame.clone()) == Offer::Taken)
            .count()
    }

    /// Closes every connection of one user (a blocked account, say).
    pub fn close_user(&self, user_id: i64, reason: CloseReason) -> usize {
        let entries = self.read();
        let mut closed = 0;
        for outlet in entries
            .values()
            .filter(|outlet| outlet.user_id() == Some(user_id))
        {
            outlet.control.close(reason);
            closed += 1;
        }
        closed
    }

    pub fn close_all(&self, reason: CloseReason) {
        for outlet in self.read().values() {
            outlet.control.close(reason);
        }
    }

    /// Call with the write lock held.
    fn changed(&self) {
        *lock(&self.everyone) = None;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ConnectionId, Arc<Outlet>>> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ConnectionId, Arc<Outlet>>> {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A poisoned lock's data is still consistent here: every critical section is a plain
/// map or slot update.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Offers `batch` to each outlet. Run `unconstrained`: tokio's cooperative budget would
/// otherwise fail every write after the 128th of a poll, sending the rest the slow way
/// (through the connections' tasks); the fan-out yields by itself instead.
async fn deliver(
    outlets: &[Arc<Outlet>],
    batch: &[Arc<Delivered>],
    changes: &[(i64, RightsChange)],
    now: SystemTime,
) -> Shard {
    let mut shard = Shard::default();
    for (done, outlet) in outlets.iter().enumerate() {
        match outlet.offer(batch, changes, now) {
            Ok(taken) => shard.deliveries += taken,
            Err(QueueFull) => shard.slow.push(outlet.clone()),
        }
        if done % YIELD_EVERY == YIELD_EVERY - 1 {
            tokio::task::yield_now().await;
        }
    }
    shard
}
