//! The tailer: the one reader of the log on this node. Woken after each commit (and
//! periodically, in case a wake-up was missed), it reads the rows after its cursor in id
//! order, serializes each event once, and fans it out.

use std::{sync::Arc, time::Duration};

use crate::{Hub, event::Delivered};

/// Rows read per round; a burst larger than this is fanned out in several batches.
const BATCH: u32 = 1024;

pub(crate) async fn run(hub: Hub) {
    let inner = &hub.inner;
    let wake = inner.log.wake_signal();
    let mut cursor = inner.feed.head();
    loop {
        tokio::select! {
            () = inner.shutdown.cancelled() => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(inner.config.poll_interval) => {}
        }
        loop {
            match inner.log.read_after(cursor, BATCH).await {
                Ok(rows) if rows.is_empty() => break,
                Ok(rows) => {
                    let full = rows.len() == BATCH as usize;
                    cursor = deliver(&hub, rows).await;
                    if !full {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot read the event log; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    break;
                }
            }
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
    let outcome = inner
        .registry
        .fan_out(batch.clone(), || inner.feed.set_head(cursor))
        .await;
    inner.metrics.events.inc_by(batch.len() as u64);
    inner.metrics.messages_sent.inc_by(outcome.deliveries);
    inner
        .metrics
        .slow_consumers_dropped
        .inc_by(outcome.dropped_slow);
    let listening = inner.listeners.receiver_count() > 0;
    for event in batch.iter() {
        tracing::debug!(id = event.id, kind = %event.kind, "event delivered");
        if listening {
            let _ = inner.listeners.send(event.clone());
        }
    }
    tracing::debug!(
        events = batch.len(),
        deliveries = outcome.deliveries,
        "fan-out"
    );
    cursor
}
