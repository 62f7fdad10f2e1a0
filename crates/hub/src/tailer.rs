//! The tailer: the one reader of the log on this node. Woken after each commit (and
//! periodically, in case a wake-up was missed), it reads the rows after its cursor in id
//! order, serializes each event once, and fans it out.
//!
//! It runs supervised (`supervisor.rs`). Its progress — the last id fully fanned out —
//! lives in [`Progress`], outside the run, so that a run that failed half-way through a
//! batch is followed by one that reads that batch again: each connection's outlet skips
//! the events it already had (its cursor) and the feed those it keeps, so nobody gets an
//! event twice or misses one.

use std::sync::{
    Arc,
    atomic::{AtomicI64, Ordering},
};

use crate::{Hub, event::Delivered, rights, supervisor::TaskError};

/// Rows read per round; a burst larger than this is fanned out in several batches.
const BATCH: u32 = 1024;

/// How far the tailer got, across its restarts.
pub(crate) struct Progress {
    fanned_out: AtomicI64,
}

impl Progress {
    pub fn new(head: i64) -> Self {
        Self {
            fanned_out: AtomicI64::new(head),
        }
    }

    /// The last id fanned out to every connection.
    pub fn fanned_out(&self) -> i64 {
        self.fanned_out.load(Ordering::Acquire)
    }
}

/// One run of the tailer: until shutdown (`Ok`) or a failure to read the log.
pub(crate) async fn run(hub: Hub) -> Result<(), TaskError> {
    let inner = &hub.inner;
    let wake = inner.log.wake_signal();
    let mut cursor = inner.tailer.fanned_out();
    loop {
        // Catch up first: a restarted run may be behind.
        loop {
            let rows = inner.log.read_after(cursor, BATCH).await?;
            if rows.is_empty() {
                break;
            }
            let full = rows.len() == BATCH as usize;
            cursor = deliver(&hub, rows).await;
            if !full {
                break;
            }
        }
        tokio::select! {
            () = inner.shutdown.cancelled() => return Ok(()),
            () = wake.notified() => {}
            () = tokio::time::sleep(inner.config.poll_interval) => {}
        }
    }
}

/// Fans one batch out and returns the new cursor.
async fn deliver(hub: &Hub, rows: Vec<crate::event::StoredEvent>) -> i64 {
    let inner = &hub.inner;
    let cursor = rows
        .last()
        .map(|row| row.id)
        .unwrap_or_else(|| inner.feed.head());
    let batch: Arc<[Arc<Delivered>]> = rows
        .into_iter()
        .filter_map(|row| match Delivered::from_stored(row) {
            Ok(event) => Some(Arc::new(event)),
            Err(error) => {
                tracing::error!(%error, "skipping an unreadable event");
                None
            }
        })
        .collect();
    inner.feed.remember(&batch);
    let changes: Arc<[_]> = rights::changes_in(&batch, inner.identify.as_ref()).into();
    let outcome = inner
        .registry
        .fan_out(batch.clone(), changes.clone(), || {
            inner.feed.set_head(cursor)
        })
        .await;
    let pusher_deliveries = inner
        .pusher
        .fan_out(&batch, &changes, inner.app.as_ref())
        .await;
    inner.metrics.events.inc_by(batch.len() as u64);
    inner
        .metrics
        .messages_sent
        .inc_by(outcome.deliveries + pusher_deliveries);
    inner
        .metrics
        .slow_consumers_dropped
        .inc_by(outcome.dropped_slow);
    for event in batch.iter() {
        tracing::debug!(id = event.id, kind = %event.kind, "event delivered");
    }
    inner.tailer.fanned_out.store(cursor, Ordering::Release);
    tracing::debug!(
        events = batch.len(),
        deliveries = outcome.deliveries,
        "fan-out"
    );
    cursor
}
