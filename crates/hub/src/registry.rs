//! The connections of this node and the fan-out to them. Every connection has a bounded
//! queue; the fan-out only ever `try_send`s, so a client that does not read cannot slow
//! anyone down: when its queue is full it is disconnected and resumes from the log.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        Arc, Mutex, OnceLock, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::Poll,
};

use axum::extract::ws::Utf8Bytes;
use futures_util::task::AtomicWaker;
use tokio::sync::mpsc::{self, error::TrySendError};

use crate::{audience::Viewer, event::Delivered};

pub type ConnectionId = u64;

/// What a connection's writer sends, in queue order.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Event(Arc<Delivered>),
    /// Not stored and without an id (presence). Behind an `Arc` like events, so that a
    /// queue slot is one pointer: queues keep their blocks, and every connection has one.
    Ephemeral(Arc<Utf8Bytes>),
}

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

/// Lets the fan-out (or an administrator) tell a connection to close. Only the
/// connection's own task waits on it, so an atomic flag and one waker do: checking it
/// costs an atomic load on every wake-up of a busy connection, never a lock.
#[derive(Debug, Default)]
pub(crate) struct Control {
    closed: AtomicBool,
    reason: OnceLock<CloseReason>,
    waker: AtomicWaker,
}

impl Control {
    pub fn close(&self, reason: CloseReason) {
        let _first_reason_wins = self.reason.set(reason);
        self.closed.store(true, Ordering::Release);
        self.waker.wake();
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

struct Entry {
    viewer: Viewer,
    queue: mpsc::Sender<Outgoing>,
    control: Arc<Control>,
}

pub(crate) struct Registry {
    entries: RwLock<HashMap<ConnectionId, Entry>>,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    next_id: AtomicU64,
    queue_capacity: usize,
    max_per_ip: usize,
}

/// A new connection's side of the registry.
pub(crate) struct Registration {
    pub id: ConnectionId,
    pub queue: mpsc::Receiver<Outgoing>,
    pub control: Arc<Control>,
    /// The head when the connection joined: every later event is in its queue.
    pub joined_at: i64,
}

/// Outcome of one fan-out.
pub(crate) struct FanOut {
    pub deliveries: u64,
    pub dropped_slow: u64,
}

impl Registry {
    pub fn new(queue_capacity: usize, max_per_ip: usize) -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            per_ip: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            queue_capacity: queue_capacity.max(1),
            max_per_ip,
        }
    }

    /// Adds a connection. `head` is read under the registry's write lock, and the fan-out
    /// publishes each new head under its read lock, so the connection gets exactly the
    /// events after `joined_at` through its queue.
    pub fn register(&self, viewer: Viewer, head: impl FnOnce() -> i64) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (sender, queue) = mpsc::channel(self.queue_capacity);
        let control = Arc::new(Control::default());
        let mut entries = self.write();
        entries.insert(
            id,
            Entry {
                viewer,
                queue: sender,
                control: control.clone(),
            },
        );
        let joined_at = head();
        drop(entries);
        Registration {
            id,
            queue,
            control,
            joined_at,
        }
    }

    pub fn unregister(&self, id: ConnectionId) {
        self.write().remove(&id);
    }

    /// Takes one of `ip`'s connection slots; false when it has none left.
    pub fn reserve_ip(&self, ip: IpAddr) -> bool {
        let mut per_ip = self
            .per_ip
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let count = per_ip.entry(ip).or_default();
        if self.max_per_ip > 0 && *count >= self.max_per_ip {
            return false;
        }
        *count += 1;
        true
    }

    pub fn release_ip(&self, ip: IpAddr) {
        let mut per_ip = self
            .per_ip
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
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

    /// Queues `batch` for every connection whose viewer may see each event, then runs
    /// `publish_head` while new connections are still held back, and finally closes the
    /// connections whose queue was full.
    pub fn fan_out(&self, batch: &[Arc<Delivered>], publish_head: impl FnOnce()) -> FanOut {
        let mut deliveries = 0;
        let mut slow = Vec::new();
        let entries = self.read();
        for (id, entry) in entries.iter() {
            for event in batch.iter().filter(|event| event.visible_to(&entry.viewer)) {
                match entry.queue.try_send(Outgoing::Event(event.clone())) {
                    Ok(()) => deliveries += 1,
                    Err(TrySendError::Full(_)) => {
                        slow.push((*id, entry.control.clone()));
                        break;
                    }
                    Err(TrySendError::Closed(_)) => break,
                }
            }
        }
        publish_head();
        drop(entries);
        let dropped_slow = slow.len() as u64;
        if !slow.is_empty() {
            let mut entries = self.write();
            for (id, control) in slow {
                tracing::warn!(
                    connection = id,
                    "Connection {id} dropped: too slow reading events"
                );
                entries.remove(&id);
                control.close(CloseReason::SLOW_CONSUMER);
            }
        }
        FanOut {
            deliveries,
            dropped_slow,
        }
    }

    /// Sends a frame that is not an event to some connections; a full queue just misses
    /// it (it will be dropped for the next event anyway).
    pub fn send_ephemeral(&self, to: &[ConnectionId], frame: Utf8Bytes) -> usize {
        let frame = Arc::new(frame);
        let entries = self.read();
        to.iter()
            .filter_map(|id| entries.get(id))
            .filter(|entry| {
                entry
                    .queue
                    .try_send(Outgoing::Ephemeral(frame.clone()))
                    .is_ok()
            })
            .count()
    }

    /// Closes every connection of one user (a blocked account, say).
    pub fn close_user(&self, user_id: i64, reason: CloseReason) -> usize {
        let entries = self.read();
        let mut closed = 0;
        for entry in entries
            .values()
            .filter(|entry| entry.viewer.user_id() == Some(user_id))
        {
            entry.control.close(reason);
            closed += 1;
        }
        closed
    }

    pub fn close_all(&self, reason: CloseReason) {
        for entry in self.read().values() {
            entry.control.close(reason);
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ConnectionId, Entry>> {
        self.entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<ConnectionId, Entry>> {
        self.entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
