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
    event::{Delivered, StoredEvent},
    identity::Identify,
    log::{EventLog, LogError},
    retention,
};

/// Rows fetched per database page when a reader is behind the in-memory window.
const DB_PAGE: u32 = 500;
/// Events looked at per page at most, visible or not: a viewer who may see little of a
/// long log (the anonymous, say) gets a page that says how far it got, rather than one
/// read of the whole log (issue 9.6). Its cost does not grow with the log.
pub(crate) const SCAN_BUDGET: usize = 1000;

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
    /// The page ends at an event that may change the viewer's rights: identify them
    /// again before reading on.
    pub rights_changed: bool,
}

/// Ends a page at the first event, committed after the viewer was identified, that may
/// change their rights (see [`crate::rights`]).
pub(crate) struct RightsWatch<'a> {
    pub identify: &'a dyn Identify,
    /// The head when the viewer was identified: changes up to it are already reflected.
    pub identified_at: i64,
}

/// A page being gathered.
struct Scan<'a> {
    viewer: &'a Viewer,
    watch: Option<&'a RightsWatch<'a>>,
    head: i64,
    limit: usize,
    /// Events that may still be looked at.
    budget: usize,
    cursor: i64,
    events: Vec<Arc<Delivered>>,
    rights_changed: bool,
}

impl Scan<'_> {
    fn goes_on(&self) -> bool {
        self.cursor < self.head
            && self.events.len() < self.limit
            && self.budget > 0
            && !self.rights_changed
    }

    /// Whether the event at `id` must be looked at whole (for a change of rights).
    fn watches(&self, id: i64) -> bool {
        self.watch.is_some_and(|watch| id > watch.identified_at)
    }

    /// Looks at the next event, in id order.
    fn look(&mut self, event: &Arc<Delivered>) {
        self.budget -= 1;
        self.cursor = event.id;
        if event.visible_to(self.viewer) {
            self.events.push(event.clone());
        }
        if let Some(watch) = self.watch
            && event.id > watch.identified_at
            && watch
                .identify
                .rights_change(event)
                .is_some_and(|change| change.concerns(self.viewer))
        {
            self.rights_changed = true;
        }
    }

    /// Looks at a row read from the log; one the viewer may not see, and that needs no
    /// closer look, is skipped without serializing it.
    fn look_at_row(&mut self, row: StoredEvent) {
        if !self.watches(row.id) && !row.visible_to(self.viewer) {
            self.budget -= 1;
            self.cursor = row.id;
            return;
        }
        let id = row.id;
        match Delivered::from_stored(row) {
            Ok(event) => self.look(&Arc::new(event)),
            Err(error) => {
                tracing::error!(%error, "skipping an unreadable event");
                self.budget -= 1;
                self.cursor = id;
            }
        }
    }

    fn page(self, since: i64) -> Page {
        Page {
            reset: false,
            has_more: self.cursor < self.head,
            last_id: self.cursor.max(since),
            events: self.events,
            rights_changed: self.rights_changed,
        }
    }
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
    /// `limit` of them and looking at no more than [`SCAN_BUDGET`] events: from memory
    /// when possible, else from the log. With a `watch`, the page ends at a change of
    /// the viewer's rights.
    pub async fn visible_after(
        &self,
        log: &EventLog,
        viewer: &Viewer,
        since: i64,
        limit: usize,
        watch: Option<&RightsWatch<'_>>,
    ) -> Result<Page, LogError> {
        let mut scan = Scan {
            viewer,
            watch,
            head: self.head(),
            limit,
            budget: SCAN_BUDGET,
            cursor: since,
            events: Vec::new(),
            rights_changed: false,
        };
        while scan.goes_on() {
            if self.scan_recent(&mut scan) {
                continue;
            }
            let wanted = u32::try_from(scan.budget).unwrap_or(DB_PAGE).min(DB_PAGE);
            let rows = log.read_after(scan.cursor, wanted).await?;
            // Read after the rows: if a prune deleted some of them, its horizon shows.
            if scan.cursor < retention::horizon(log).await? {
                return Ok(Page {
                    events: Vec::new(),
                    last_id: scan.head,
                    has_more: false,
                    reset: true,
                    rights_changed: false,
                });
            }
            // Fewer rows than asked for: the log holds nothing more up to the head.
            let exhausted = rows.len() < wanted as usize;
            for row in rows {
                if !scan.goes_on() {
                    break;
                }
                if row.id > scan.head {
                    // Every row up to the head has been looked at.
                    scan.cursor = scan.head;
                    break;
                }
                scan.look_at_row(row);
            }
            if exhausted && scan.goes_on() {
                scan.cursor = scan.head;
            }
        }
        Ok(scan.page(since))
    }

    /// Scans the in-memory window after the scan's cursor; false if it does not reach
    /// back that far.
    fn scan_recent(&self, scan: &mut Scan<'_>) -> bool {
        let recent = self
            .recent
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if scan.cursor < recent.base {
            return false;
        }
        let start = recent
            .events
            .partition_point(|event| event.id <= scan.cursor);
        for event in recent.events.range(start..) {
            if event.id > scan.head {
                break;
            }
            scan.look(event);
            if !scan.goes_on() {
                return true;
            }
        }
        // Every event up to the head was in the window.
        scan.cursor = scan.head;
        true
    }
}
