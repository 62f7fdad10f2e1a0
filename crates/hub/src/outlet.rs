//! A connection's outgoing byte stream, shared by the fan-out and the connection's own
//! task. Every frame arrives already encoded. The fan-out writes an event straight to
//! the socket when nothing waits ahead of it, so a delivery costs one non-blocking
//! write — no queue hop and no task wake-up, which were most of the hub's own CPU per
//! delivery. What the socket does not take at once waits, in order, in a bounded queue
//! that the connection's task drains when the socket can take more; a client that lets
//! the queue fill up is closed (1013) and resumes from the log.

use std::{
    collections::VecDeque,
    io,
    pin::Pin,
    sync::{Arc, Mutex, MutexGuard},
    task::{Context, Poll, Waker, ready},
    time::SystemTime,
};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::task::AtomicWaker;
use tokio::io::AsyncWrite;
use tungstenite::protocol::frame::{
    Frame,
    coding::{Data, OpCode},
};

use crate::{
    audience::Viewer,
    event::Delivered,
    registry::{CloseReason, ConnectionId, Control},
    rights::{Identified, RightsChange},
};

/// The socket's write side (plain TCP or TLS).
pub(crate) type Sink = Pin<Box<dyn AsyncWrite + Send>>;

/// Encodes `json` as one unmasked WebSocket text frame, as a server sends it.
pub(crate) fn text_frame(json: &str) -> Bytes {
    let frame = Frame::message(
        Bytes::copy_from_slice(json.as_bytes()),
        OpCode::Data(Data::Text),
        true,
    );
    let mut encoded = Vec::with_capacity(frame.len());
    frame
        .format(&mut encoded)
        .expect("writing into a Vec cannot fail");
    encoded.into()
}

pub(crate) struct Outlet {
    pub id: ConnectionId,
    /// Lets the fan-out (or an administrator) close the connection, or have it identify
    /// its viewer again.
    pub control: Control,
    /// Frames waiting at most (events, presence, replies) before the client counts as
    /// too slow.
    capacity: usize,
    state: Mutex<State>,
    /// Wakes the connection's task when something waits for it to write.
    backlog: AtomicWaker,
}

struct State {
    sink: Sink,
    /// Encoded frames, or the rest of one, that the socket has not taken yet.
    queue: VecDeque<Bytes>,
    /// A flush the sink still owes (TLS keeps what it has encrypted until flushed).
    unflushed: bool,
    /// Bytes the socket has taken so far: one that takes none for long is stalled.
    written: u64,
    /// The last event id handed to this connection: none goes out twice.
    cursor: i64,
    /// Who receives the events, as last identified.
    viewer: Viewer,
    /// When the viewer's session or token ends.
    expires_at: Option<SystemTime>,
    /// The connection replays from the log: live events wait in `held`.
    replaying: bool,
    /// The viewer's rights may have changed with this event: the events after it wait in
    /// `held` until the connection has identified its viewer again.
    stale_after: Option<i64>,
    /// Live events waiting, in order, while replaying or stale.
    held: Vec<Arc<Delivered>>,
    /// The socket failed; the connection's task ends.
    failed: bool,
}

/// What became of an offered frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Offer {
    Taken,
    /// Not sent: the socket has failed.
    SocketFailed,
    /// The queue is full: the client does not read.
    Full,
}

/// The connection's queue is full: the client does not read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct QueueFull;

impl Outlet {
    /// An outlet whose first frame is `greeting` and whose live events start after
    /// `cursor`; with `replaying`, they wait until [`Outlet::release`]. A viewer
    /// identified before `cursor` may have had their rights changed since: their events
    /// wait until they are identified again.
    pub fn new(
        id: ConnectionId,
        identified: Identified,
        sink: Sink,
        capacity: usize,
        cursor: i64,
        replaying: bool,
        greeting: Bytes,
    ) -> Self {
        let outlet = Self {
            id,
            control: Control::default(),
            capacity: capacity.max(1),
            state: Mutex::new(State {
                sink,
                queue: VecDeque::new(),
                unflushed: false,
                written: 0,
                cursor,
                viewer: identified.identity.viewer,
                expires_at: identified.identity.expires_at,
                replaying,
                stale_after: (identified.at < cursor).then_some(cursor),
                held: Vec::new(),
                failed: false,
            }),
            backlog: AtomicWaker::new(),
        };
        if identified.at < cursor {
            outlet.control.recheck();
        }
        outlet.send(&mut outlet.lock(), greeting, false);
        outlet
    }

    pub fn user_id(&self) -> Option<i64> {
        self.lock().viewer.user_id()
    }

    /// Hands over a batch of live events (the fan-out's, in id order): those this
    /// connection may see and has not had yet, written together — one write for the
    /// lot when the fan-out is behind. Returns how many it took. At a change of the
    /// viewer's rights (`changes`, or their session's end by `now`) the rest waits until
    /// the connection has identified them again — or, revoked, is not sent at all.
    pub fn offer(
        &self,
        batch: &[Arc<Delivered>],
        changes: &[(i64, RightsChange)],
        now: SystemTime,
    ) -> Result<u64, QueueFull> {
        let mut state = self.lock();
        if self.control.is_closed() {
            return Ok(0);
        }
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else {
            return Ok(0);
        };
        if state.stale_after.is_none() && state.expires_at.is_some_and(|end| end <= now) {
            // Everything before this batch was offered while the session still held.
            state.stale_after = Some(first.id - 1);
            self.control.recheck();
        }
        // Usually there is no change at all, and nothing is allocated.
        let ours: Vec<(i64, RightsChange)> = changes
            .iter()
            .filter(|(id, change)| {
                *id > state.cursor && *id <= last.id && change.concerns(&state.viewer)
            })
            .copied()
            .collect();
        let (Some(&(boundary, _)), Some(&(newest, _))) = (ours.first(), ours.last()) else {
            return self.take(&mut state, batch);
        };
        let (before, after) = batch.split_at(batch.partition_point(|event| event.id <= boundary));
        let taken = self.take(&mut state, before)?;
        let revoked = ours.iter().find_map(|(_, change)| match change {
            RightsChange::Revoke { reason, .. } => Some(*reason),
            RightsChange::Recheck { .. } => None,
        });
        if let Some(reason) = revoked {
            self.control.close(reason);
            return Ok(taken);
        }
        state.stale_after = Some(state.stale_after.map_or(newest, |after| after.max(newest)));
        self.control.recheck();
        Ok(taken + self.take(&mut state, after)?)
    }

    /// Sends (or, while replaying or stale, holds) the events of `events` this
    /// connection may see and has not had yet.
    fn take(&self, state: &mut State, events: &[Arc<Delivered>]) -> Result<u64, QueueFull> {
        let (cursor, viewer) = (state.cursor, &state.viewer);
        let fresh = || {
            events
                .iter()
                .filter(move |event| event.id > cursor && event.visible_to(viewer))
        };
        // One pass to size the write; a second only when there are several frames.
        let (count, bytes, last) = fresh().fold((0, 0, None), |(count, bytes, _), event| {
            (count + 1, bytes + event.frame.len(), Some(event))
        });
        let Some(last) = last else {
            return Ok(0);
        };
        if state.holding() {
            if state.held.len() + count > self.capacity {
                return Err(QueueFull);
            }
            let fresh: Vec<_> = fresh().cloned().collect();
            state.held.extend(fresh);
            return Ok(count as u64);
        }
        let frames = if count == 1 {
            last.frame.clone()
        } else {
            let mut frames = BytesMut::with_capacity(bytes);
            fresh().for_each(|event| frames.extend_from_slice(&event.frame));
            frames.freeze()
        };
        state.cursor = last.id;
        match self.send(state, frames, true) {
            Offer::Full => Err(QueueFull),
            Offer::Taken => Ok(count as u64),
            // Nothing is delivered; the connection is ending.
            Offer::SocketFailed => Ok(0),
        }
    }

    /// Hands over a frame that is not an event (presence); a full queue misses it.
    pub fn offer_frame(&self, frame: Bytes) -> Offer {
        self.send(&mut self.lock(), frame, true)
    }

    /// Sends bytes the connection itself produced (replies, pings, the close frame).
    /// Fails once the socket has failed, or when the client lets the queue fill up.
    pub fn push(&self, bytes: Bytes) -> io::Result<()> {
        let mut state = self.lock();
        if state.failed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        match self.send(&mut state, bytes, true) {
            Offer::Full => {
                self.control.close(CloseReason::SLOW_CONSUMER);
                Err(io::Error::other("the client does not read"))
            }
            Offer::Taken | Offer::SocketFailed => Ok(()),
        }
    }

    /// Holds live events back (they wait in order) while the connection replays.
    pub fn hold(&self) {
        self.lock().replaying = true;
    }

    /// Sends a replayed page, in order, ahead of the live events held back — but never
    /// past a change of the viewer's rights not yet identified again. Returns how far
    /// the replay got: `through` (the page's end), or that change.
    pub fn push_replayed(&self, events: &[Arc<Delivered>], through: i64) -> i64 {
        let mut state = self.lock();
        let through = state
            .stale_after
            .map_or(through, |after| after.min(through));
        for event in events.iter().take_while(|event| event.id <= through) {
            self.send(&mut state, event.frame.clone(), false);
        }
        through
    }

    /// Whether the events after some change of the viewer's rights wait for the
    /// connection to identify them again.
    pub fn is_stale(&self) -> bool {
        self.lock().stale_after.is_some()
    }

    /// Ends a replay that sent every event up to `through`: the live events held back
    /// meanwhile follow, without those the replay already sent.
    pub fn release(&self, through: i64) {
        let mut state = self.lock();
        state.replaying = false;
        state.cursor = state.cursor.max(through);
        self.flush_held(&mut state);
    }

    /// The viewer, identified again, carries on as that identity: the events held since
    /// a change of their rights follow, if the identification came after every such
    /// change.
    pub fn adopt(&self, identified: Identified) {
        let mut state = self.lock();
        state.viewer = identified.identity.viewer;
        state.expires_at = identified.identity.expires_at;
        if state
            .stale_after
            .is_some_and(|after| after <= identified.at)
        {
            state.stale_after = None;
        }
        self.flush_held(&mut state);
    }

    /// Sends the held events, unless there is still a reason to hold them; each is
    /// checked again against the viewer as identified now.
    fn flush_held(&self, state: &mut State) {
        if state.holding() {
            return;
        }
        for event in std::mem::take(&mut state.held) {
            if event.id > state.cursor && event.visible_to(&state.viewer) {
                state.cursor = event.id;
                self.send(state, event.frame.clone(), false);
            }
        }
    }

    /// Drops what waits unsent (before closing a client that does not read).
    pub fn discard(&self) {
        self.lock().queue.clear();
    }

    /// Whether frames wait for the socket, and how many bytes it has taken so far.
    pub fn progress(&self) -> (bool, u64) {
        let state = self.lock();
        (state.has_work(), state.written)
    }

    /// Completes when something waits for the connection's task to write it.
    pub fn backlog(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let state = self.lock();
            if state.has_work() {
                return Poll::Ready(());
            }
            // Registered under the lock that `send` holds when it queues: no lost wake-up.
            self.backlog.register(cx.waker());
            Poll::Pending
        })
    }

    /// Writes out what waits, as the socket takes it: ready once all of it is written
    /// and flushed (or the socket failed); while nothing waits, waits for something.
    pub fn write_out(&self) -> impl Future<Output = io::Result<()>> + '_ {
        std::future::poll_fn(move |cx| {
            let mut state = self.lock();
            if !state.has_work() {
                // Registered under the lock that `send` holds when it queues: no lost
                // wake-up.
                self.backlog.register(cx.waker());
                return Poll::Pending;
            }
            state.poll_drain(cx)
        })
    }

    /// Writes out what waits; ready when all of it is written and flushed.
    pub fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.lock().poll_drain(cx)
    }

    pub async fn drain(&self) -> io::Result<()> {
        std::future::poll_fn(|cx| self.poll_drain(cx)).await
    }

    pub fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_drain(cx))?;
        self.lock().sink.as_mut().poll_shutdown(cx)
    }

    /// Writes `frame` now if nothing waits ahead of it and the socket takes it,
    /// otherwise queues it (refused when `bounded` and the queue is full).
    fn send(&self, state: &mut State, mut frame: Bytes, bounded: bool) -> Offer {
        if state.failed {
            return Offer::SocketFailed;
        }
        if state.queue.is_empty() && !state.unflushed {
            match state.write_now(&mut frame) {
                Ok(true) => return Offer::Taken,
                Ok(false) if frame.has_remaining() => state.queue.push_back(frame),
                Ok(false) => {}
                Err(_) => state.failed = true,
            }
            self.backlog.wake();
            return Offer::Taken;
        }
        if bounded && state.queue.len() >= self.capacity {
            return Offer::Full;
        }
        if frame.has_remaining() {
            state.queue.push_back(frame);
        }
        Offer::Taken
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl State {
    fn has_work(&self) -> bool {
        self.failed || self.unflushed || !self.queue.is_empty()
    }

    fn holding(&self) -> bool {
        self.replaying || self.stale_after.is_some()
    }

    /// Writes as much of `frame` as the socket takes without waiting, and flushes;
    /// true when all of it went out. What is left stays in `frame` (and `unflushed`).
    fn write_now(&mut self, frame: &mut Bytes) -> io::Result<bool> {
        let mut cx = Context::from_waker(Waker::noop());
        match poll_write_all(&mut self.sink, &mut cx, frame, &mut self.written) {
            Poll::Ready(written) => written?,
            Poll::Pending => return Ok(false),
        }
        self.unflushed = true;
        match self.sink.as_mut().poll_flush(&mut cx) {
            Poll::Ready(flushed) => {
                flushed?;
                self.unflushed = false;
                Ok(true)
            }
            Poll::Pending => Ok(false),
        }
    }

    /// Writes out the queue and flushes; a socket that fails stays failed.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.failed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let drained = self.poll_write_queue(cx);
        if let Poll::Ready(Err(_)) = drained {
            self.failed = true;
        }
        drained
    }

    fn poll_write_queue(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some(front) = self.queue.front_mut() {
            ready!(poll_write_all(&mut self.sink, cx, front, &mut self.written))?;
            self.queue.pop_front();
            self.unflushed = true;
        }
        if self.unflushed {
            ready!(self.sink.as_mut().poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }
}

/// Writes all of `bytes`, advancing it past what was written and counting it.
fn poll_write_all(
    sink: &mut Sink,
    cx: &mut Context<'_>,
    bytes: &mut Bytes,
    total: &mut u64,
) -> Poll<io::Result<()>> {
    while bytes.has_remaining() {
        let written = ready!(sink.as_mut().poll_write(cx, bytes))?;
        if written == 0 {
            return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
        }
        bytes.advance(written);
        *total += written as u64;
    }
    Poll::Ready(Ok(()))
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, DuplexStream, duplex};

    use super::*;
    use crate::audience::Audience;

    fn event(id: i64) -> Arc<Delivered> {
        let json = format!(r#"{{"id":{id}}}"#);
        Arc::new(Delivered {
            id,
            kind: "test".into(),
            audience: Audience::everyone(),
            topic: None,
            frame: text_frame(&json),
            json,
        })
    }

    fn user(id: i64, role: &str) -> Viewer {
        Viewer::User {
            id,
            role: role.into(),
            name: None,
        }
    }

    /// User 7, an agent, identified when the head was `at`.
    fn identified(expires_at: Option<SystemTime>, at: i64) -> Identified {
        Identified {
            identity: crate::identity::Identity {
                viewer: user(7, "agent"),
                expires_at,
            },
            at,
        }
    }

    /// Offers a live batch without rights changes.
    fn live(outlet: &Outlet, batch: &[Arc<Delivered>]) -> Result<u64, QueueFull> {
        outlet.offer(batch, &[], SystemTime::now())
    }

    /// An outlet of user 7, an agent, on an in-memory pipe that takes `room` bytes before it blocks.
    fn outlet(room: usize, capacity: usize, replaying: bool) -> (Outlet, DuplexStream) {
        let (ours, theirs) = duplex(room);
        let outlet = Outlet::new(
            1,
            identified(None, 0),
            Box::pin(ours),
            capacity,
            0,
            replaying,
            text_frame("hello"),
        );
        (outlet, theirs)
    }

    /// Reads what the client has received so far and decodes the text frames.
    async fn received(client: &mut DuplexStream) -> Vec<String> {
        let mut raw = vec![0; 64 * 1024];
        let read = client.read(&mut raw).await.expect("the pipe is open");
        let mut rest = &raw[..read];
        let mut texts = Vec::new();
        while !rest.is_empty() {
            let len = usize::from(rest[1] & 0x7f);
            texts
                .push(String::from_utf8(rest[2..2 + len].to_vec()).expect("text frames are UTF-8"));
            rest = &rest[2 + len..];
        }
        texts
    }

    #[tokio::test]
    async fn writes_straight_through_in_order_without_waking_anyone() {
        let (outlet, mut client) = outlet(4096, 8, false);
        assert_eq!(live(&outlet, &[event(1)]), Ok(1));
        assert_eq!(live(&outlet, &[event(2), event(3)]), Ok(2));
        assert_eq!(live(&outlet, &[event(2)]), Ok(0));
        assert!(!outlet.lock().has_work());
        assert_eq!(
            received(&mut client).await,
            ["hello", r#"{"id":1}"#, r#"{"id":2}"#, r#"{"id":3}"#]
        );
    }

    #[tokio::test]
    async fn queues_what_the_socket_does_not_take_and_refuses_beyond_capacity() {
        let (outlet, mut client) = outlet(16, 2, false);
        assert_eq!(live(&outlet, &[event(1)]), Ok(1)); // partly written, rest queued
        assert_eq!(live(&outlet, &[event(2)]), Ok(1));
        assert_eq!(live(&outlet, &[event(3)]), Err(QueueFull));
        assert!(outlet.lock().has_work());
        let reader = tokio::spawn(async move {
            let mut all = Vec::new();
            let mut chunk = [0; 64];
            while all.len() < 7 + 10 + 10 {
                let read = client.read(&mut chunk).await.expect("the pipe is open");
                all.extend_from_slice(&chunk[..read]);
            }
            all
        });
        outlet.drain().await.expect("the client reads");
        let all = reader.await.expect("the reader finishes");
        assert_eq!(&all[2..7], b"hello");
        assert_eq!(&all[9..17], br#"{"id":1}"#);
        assert_eq!(&all[19..27], br#"{"id":2}"#);
    }

    #[tokio::test]
    async fn live_events_wait_behind_a_replay_and_are_not_sent_twice() {
        let (outlet, mut client) = outlet(4096, 8, true);
        assert_eq!(live(&outlet, &[event(3), event(4)]), Ok(2));
        outlet.push_replayed(&[event(1), event(2), event(3)], 3);
        outlet.release(3);
        assert_eq!(live(&outlet, &[event(4)]), Ok(0));
        assert_eq!(live(&outlet, &[event(5)]), Ok(1));
        assert_eq!(
            received(&mut client).await,
            [
                "hello",
                r#"{"id":1}"#,
                r#"{"id":2}"#,
                r#"{"id":3}"#,
                r#"{"id":4}"#,
                r#"{"id":5}"#
            ]
        );
    }

    #[tokio::test]
    async fn a_client_that_does_not_read_is_told_to_close_once_its_queue_is_full() {
        let (outlet, _client) = outlet(8, 1, false);
        outlet
            .push(Bytes::from_static(b"0123456789"))
            .expect("room for one frame");
        assert!(outlet.push(Bytes::from_static(b"x")).is_err());
        let reason = outlet.control.closed().await;
        assert_eq!(reason, CloseReason::SLOW_CONSUMER);
    }

    #[tokio::test]
    async fn after_a_change_of_the_viewers_rights_events_wait_for_a_newer_identification() {
        let (outlet, mut client) = outlet(4096, 8, false);
        let change = (2, RightsChange::Recheck { user_id: 7 });
        let someone_else = (1, RightsChange::Recheck { user_id: 8 });
        let batch = [event(1), event(2), event(3)];
        assert_eq!(
            outlet.offer(&batch, &[someone_else, change], SystemTime::now()),
            Ok(3)
        );
        outlet.control.recheck_requested().await;
        assert_eq!(live(&outlet, &[event(4)]), Ok(1));
        // Identified before the change was committed: that proves nothing.
        outlet.adopt(identified(None, 1));
        assert!(outlet.is_stale());
        outlet.adopt(identified(None, 4));
        assert!(!outlet.is_stale());
        assert_eq!(
            received(&mut client).await,
            [
                "hello",
                r#"{"id":1}"#,
                r#"{"id":2}"#,
                r#"{"id":3}"#,
                r#"{"id":4}"#
            ]
        );
    }

    #[tokio::test]
    async fn a_revoked_viewer_gets_nothing_after_the_revoking_event() {
        let (outlet, mut client) = outlet(4096, 8, false);
        let revoke = (
            2,
            RightsChange::Revoke {
                user_id: 7,
                reason: CloseReason::USER_BLOCKED,
            },
        );
        let batch = [event(1), event(2), event(3)];
        assert_eq!(outlet.offer(&batch, &[revoke], SystemTime::now()), Ok(2));
        assert_eq!(outlet.control.closed().await, CloseReason::USER_BLOCKED);
        assert_eq!(live(&outlet, &[event(4)]), Ok(0));
        assert_eq!(
            received(&mut client).await,
            ["hello", r#"{"id":1}"#, r#"{"id":2}"#]
        );
    }

    #[tokio::test]
    async fn events_offered_after_the_session_ended_wait_for_an_identification() {
        let (outlet, mut client) = outlet(4096, 8, false);
        outlet.adopt(identified(Some(SystemTime::now()), 0));
        assert_eq!(live(&outlet, &[event(1)]), Ok(1));
        assert!(outlet.is_stale());
        assert_eq!(received(&mut client).await, ["hello"]);
    }

    #[tokio::test]
    async fn a_replay_stops_at_a_change_of_rights_not_yet_identified() {
        let (outlet, _client) = outlet(4096, 8, true);
        let change = (5, RightsChange::Recheck { user_id: 7 });
        assert_eq!(
            outlet.offer(&[event(5)], &[change], SystemTime::now()),
            Ok(1)
        );
        let page = [event(3), event(4), event(5), event(6)];
        assert_eq!(outlet.push_replayed(&page, 6), 5);
    }
}
