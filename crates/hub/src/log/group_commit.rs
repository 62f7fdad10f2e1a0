//! Group commit: the appends made through [`EventLog::append`](super::EventLog::append)
//! while a batch is being written wait together and go to the log in the next one — one
//! transaction, one commit (one fsync, one hold of PostgreSQL's append lock) for all of
//! them. Nothing waits on purpose: a lone publisher's event is written at once, and the
//! batch grows only with what arrives during the previous commit. Why this design and
//! not a sequencer: `docs/architecture.md`, "Appending".

use std::sync::Arc;

use tokio::sync::{Mutex, Notify, mpsc, oneshot};

use super::{LogBackend, LogError, Result};
use crate::event::NewEvent;

/// Most events in one transaction, and (roughly, the last one may pass it) most bytes
/// of event data: a batch stays one reasonable statement.
const MAX_EVENTS: usize = 512;
const MAX_BYTES: usize = 4 << 20;

/// Appends waiting for the writer; publishers beyond this wait for room.
const QUEUE: usize = 4 * MAX_EVENTS;

type Reply = oneshot::Sender<Result<i64, Arc<LogError>>>;

/// Both sides of the queue. The writer's side outlives each run of the writer: the hub
/// runs it under supervision (`group_commit`), and a run that panics loses only the batch
/// in hand — whose publishers hear that the writer stopped — while the next run takes up
/// what waits.
#[derive(Clone)]
pub(super) struct GroupCommit {
    requests: mpsc::Sender<(NewEvent, Reply)>,
    queue: Arc<Mutex<mpsc::Receiver<(NewEvent, Reply)>>>,
}

impl GroupCommit {
    pub(super) fn new() -> Self {
        let (requests, queue) = mpsc::channel(QUEUE);
        Self {
            requests,
            queue: Arc::new(Mutex::new(queue)),
        }
    }

    /// Appends `event`; its id once the batch it went in has committed (which needs
    /// [`GroupCommit::write_batches`] running).
    pub(super) async fn append(&self, event: NewEvent) -> Result<i64> {
        let (reply, id) = oneshot::channel();
        self.requests
            .send((event, reply))
            .await
            .map_err(|_| LogError::WriterStopped)?;
        id.await
            .map_err(|_| LogError::WriterStopped)?
            .map_err(LogError::Batch)
    }

    /// Writes what is queued, batch after batch, for as long as it runs; `committed` is
    /// signalled after each batch commits.
    pub(super) async fn write_batches(&self, backend: &dyn LogBackend, committed: &Notify) {
        let mut queue = self.queue.lock().await;
        while let Some(first) = queue.recv().await {
            let (events, replies) = take_batch(first, &mut queue);
            write_batch(backend, committed, events, replies).await;
        }
    }
}

async fn write_batch(
    backend: &dyn LogBackend,
    committed: &Notify,
    events: Vec<NewEvent>,
    replies: Vec<Reply>,
) {
    match backend.append_all(&events).await {
        Ok(ids) => {
            committed.notify_one();
            for (reply, id) in replies.into_iter().zip(ids) {
                // The publisher may have given up waiting; the event stays published.
                let _ = reply.send(Ok(id));
            }
        }
        // Every event is valid by construction (a checked type, JSON text, our own
        // timestamp and audience), so a failed batch is the database's failure, the
        // same for all of them: nothing was committed and each publisher hears why.
        Err(error) => {
            tracing::warn!(%error, events = events.len(), "cannot append to the event log");
            let error = Arc::new(error);
            for reply in replies {
                let _ = reply.send(Err(error.clone()));
            }
        }
    }
}

/// `first` and whatever else is already waiting, within the limits.
fn take_batch(
    first: (NewEvent, Reply),
    queue: &mut mpsc::Receiver<(NewEvent, Reply)>,
) -> (Vec<NewEvent>, Vec<Reply>) {
    let mut bytes = first.0.data.get().len();
    let (mut events, mut replies) = (vec![first.0], vec![first.1]);
    while events.len() < MAX_EVENTS && bytes < MAX_BYTES {
        let Ok((event, reply)) = queue.try_recv() else {
            break;
        };
        bytes += event.data.get().len();
        events.push(event);
        replies.push(reply);
    }
    (events, replies)
}
