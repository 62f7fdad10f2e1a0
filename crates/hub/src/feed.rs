//! The feed: the events this node's tailer has read from the log, in id order. It keeps
//! the most recent ones in memory so that resumes and polls rarely touch the database,
//! and publishes the head (the last id delivered live) for long polls to wait on.

use std::{
    collections::VecDeque,
    sync::{Arc, RwLock},
};

use tokio::sync::watch;

use crate::{
    audience::Viewer,
    event::Delivered,
    log::{EventLog, LogError},
    retention,
};

/// Rows fetched per database page when a reader is behind the in-memory window.
const DB_PAGE: u32 = 500;

pub(crate) struct Feed {
    recent: RwLock<Recent>,
    head: watch::Sender<i64>,
    capacity: usize,
}

/// Every tailed event with `id > base` is in `events`.
struct Recent {
    base: i64,
    events: VecDeque<Arc<Delivered>>,
}

/// One page of a viewer's events.
pub(crate) struct Page {
    pub events: Vec<Arc<Delivered>>,
    /// How far the scan got: every event up to here was either returned or invisible to
    /// the viewer, so the next read starts after it.
    pub last_id: i64,
    pub has_more: bool,
    /// Events after the reader's position were pruned (see [`crate::retention`]): it
    /// gets none, and should re-fetch what it shows and continue from `last_id` (the
    /// head).
    pub reset: bool,
}

impl Feed {
    pub fn new(head: i64, capacity: usize) -> Self {
        Self {
            recent: RwLock::new(Recent {
                base: head,
                events: VecDeque::with_capacity(capacity.min(1024)),
            }),
            head: watch::Sender::new(head),
            capacity: capacity.max(1),
        }
    }

    pub fn head(&self) -> i64 {
        *self.head.borrow()
    }

    pub fn subscribe(&self) -> watch::Receiver<i64> {
        self.head.subscribe()
    }

    /// Keeps a tailed batch. Call before `set_head`, so that whoever sees the new head
    /// finds the events up to it here. Events it already keeps are skipped (a restarted
    /// tailer reads its last batch again).
    pub fn remember(&self, batch: &[Arc<Delivered>]) {
        let mut recent = self
            .recent
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let newest = recent.events.back().map_or(recent.base, |event| event.id);
        for event in batch.iter().filter(|event| event.id > newest) {
            if recent.events.len() == self.capacity
                && let Some(oldest) = recent.events.pop_front()
            {
                recent.base = oldest.id;
            }
            recent.events.push_back(event.clone());
        }
    }

    pub fn set_head(&self, head: i64) {
        self.head.send_replace(head);
    }

    /// The events after `since` that `viewer` may see, up to the current head, at most
    /// `limit` of them: from memory when possible, else from the log.
    pub async fn visible_after(
        &self,
        log: &EventLog,
        viewer: &Viewer,
        since: i64,
        limit: usize,
    ) -> Result<Page, LogError> {
        let head = self.head();
        let mut cursor = since;
        let mut events = Vec::new();
        while cursor < head && events.len() < limit {
            if let Some(scanned) = self.scan_recent(viewer, cursor, head, limit, &mut events) {
                cursor = scanned;
                continue;
            }
            let rows = log.read_after(cursor, DB_PAGE).await?;
            // Read after the rows: if a prune deleted some of them, its horizon shows.
            if cursor < retention::horizon(log).await? {
                return Ok(Page {
                    events: Vec::new(),
                    last_id: head,
                    has_more: false,
                    reset: true,
                });
            }
            let Some(last) = rows.last() else { break };
            let page_end = last.id;
            for row in rows.into_iter().take_while(|row| row.id <= head) {
                let id = row.id;
                match Delivered::from_stored(row) {
                    Ok(event) if event.visible_to(viewer) => events.push(Arc::new(event)),
                    Ok(_) => {}
                    Err(error) => tracing::error!(%error, "skipping an unreadable event"),
                }
                cursor = id;
                if events.len() == limit {
                    break;
                }
            }
            if events.len() < limit {
                cursor = cursor.max(page_end.min(head));
            }
        }
        Ok(Page {
            reset: false,
            has_more: cursor < head,
            last_id: cursor.max(since),
            events,
        })
    }

    /// Scans the in-memory window after `cursor`; `None` if it does not reach back that
    /// far. Returns the id the scan reached.
    fn scan_recent(
        &self,
        viewer: &Viewer,
        cursor: i64,
        head: i64,
        limit: usize,
        out: &mut Vec<Arc<Delivered>>,
    ) -> Option<i64> {
        let recent = self
            .recent
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if cursor < recent.base {
            return None;
        }
        let start = recent.events.partition_point(|event| event.id <= cursor);
        let mut reached = head;
        for event in recent
            .events
            .range(start..)
            .take_while(|event| event.id <= head)
        {
            if event.visible_to(viewer) {
                out.push(event.clone());
                if out.len() == limit {
                    reached = event.id;
                    break;
                }
            }
        }
        Some(reached)
    }
}
