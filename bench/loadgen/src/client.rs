//! One subscriber: connects, waits until the server has registered it, then reads event
//! frames and keeps a tally small enough for ten thousand of them in one process.

use std::{
    sync::{
        Arc, OnceLock,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use tokio::{
    net::TcpStream,
    sync::{Notify, Semaphore, oneshot},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream, connect_async_with_config,
    tungstenite::{Message, protocol::WebSocketConfig},
};

use crate::{Mode, histogram::Histogram, scan, unix_micros};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long one handshake (and the welcome frame) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a polite close may take before the socket is just dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);
/// Event frames are ~150 bytes; a small read buffer keeps 10 000 clients cheap (and
/// tungstenite zeroes it before every read).
const READ_BUFFER: usize = 4 * 1024;

/// State every client task shares with the coordinator.
pub struct Shared {
    pub mode: Mode,
    pub events: u64,
    /// Latency from the actual publish (the `t` in the frame).
    pub latency: Histogram,
    /// Latency from when each event was due by the schedule: unlike the one above it
    /// includes the time a saturated server held the (one-at-a-time) publisher back.
    pub due_latency: Histogram,
    /// When event 0 was due (unix µs) and the schedule's spacing (µs); set before
    /// the first publish.
    pub schedule: OnceLock<(u64, f64)>,
    /// Clients still connecting; `settled` fires when it reaches zero.
    pub connecting: AtomicUsize,
    pub settled: Notify,
    /// Clients that may still receive something; `done` fires when it reaches zero.
    pub pending: AtomicUsize,
    pub done: Notify,
    /// Bounds the handshakes in flight.
    pub gate: Semaphore,
}

impl Shared {
    pub fn new(mode: Mode, clients: usize, events: u64, handshakes: usize) -> Self {
        Self {
            mode,
            events,
            latency: Histogram::new(),
            due_latency: Histogram::new(),
            schedule: OnceLock::new(),
            connecting: AtomicUsize::new(clients),
            settled: Notify::new(),
            pending: AtomicUsize::new(clients),
            done: Notify::new(),
            gate: Semaphore::new(handshakes.max(1)),
        }
    }

    /// `notify_one` keeps a permit, so the coordinator cannot miss the last one.
    fn countdown(counter: &AtomicUsize, notify: &Notify) {
        if counter.fetch_sub(1, Ordering::AcqRel) == 1 {
            notify.notify_one();
        }
    }
}

/// What one client saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub connected: bool,
    pub connect_error: Option<String>,
    pub unique: u64,
    pub duplicated: u64,
    pub out_of_order: u64,
    /// Event frames whose seq was outside 0..M (another run's events, say).
    pub foreign: u64,
    pub frames: u64,
    pub frame_bytes: u64,
    pub last_receive_us: u64,
    /// Close code when the server closed the connection; 0 when it closed without one.
    pub closed_by_server: Option<u16>,
    pub read_error: Option<String>,
}

/// Which events a client has seen: one bit per sequence number.
struct Seen {
    bits: Box<[u64]>,
    highest: Option<u64>,
}

impl Seen {
    fn new(events: u64) -> Self {
        Self {
            bits: vec![0; events.div_ceil(64) as usize].into_boxed_slice(),
            highest: None,
        }
    }

    /// Marks `seq`; false if it was already marked.
    fn insert(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        let fresh = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        fresh
    }
}

/// Runs one client until it has read everything or `stop`'s sender is dropped.
pub async fn run(url: String, shared: Arc<Shared>, stop: oneshot::Receiver<()>) -> Tally {
    let mut tally = Tally::default();
    let socket = {
        let _permit = shared.gate.acquire().await;
        tokio::time::timeout(CONNECT_TIMEOUT, connect(&url, shared.mode)).await
    };
    Shared::countdown(&shared.connecting, &shared.settled);
    let mut socket = match socket {
        Ok(Ok(socket)) => socket,
        Ok(Err(error)) => {
            tally.connect_error = Some(format!("{error:#}"));
            Shared::countdown(&shared.pending, &shared.done);
            return tally;
        }
        Err(_) => {
            tally.connect_error = Some("timed out".into());
            Shared::countdown(&shared.pending, &shared.done);
            return tally;
        }
    };
    tally.connected = true;
    receive(&mut socket, &shared, stop, &mut tally).await;
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close(None)).await;
    tally
}

/// Opens a WebSocket; for the hub, also waits for its welcome frame.
pub async fn connect(url: &str, mode: Mode) -> Result<Socket> {
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    let (mut socket, _) = connect_async_with_config(url, Some(config), true)
        .await
        .context("handshake")?;
    match mode {
        // Only after the welcome is the connection registered for live events.
        Mode::Ictdesk => match socket.next().await {
            Some(Ok(Message::Text(text))) if text.contains("\"welcome\"") => {}
            Some(Ok(other)) => bail!("expected a welcome frame, got {other:?}"),
            Some(Err(error)) => return Err(error).context("reading the welcome frame"),
            None => bail!("closed before the welcome frame"),
        },
        Mode::Pusher => crate::pusher::subscribe(&mut socket).await?,
        Mode::Nchan => {}
    }
    Ok(socket)
}

/// Reads until told to stop or the connection ends. Each client has its own stop
/// signal: one shared by all (a `watch`) costs a contended lock on every wake-up.
async fn receive(
    socket: &mut Socket,
    shared: &Shared,
    mut stop: oneshot::Receiver<()>,
    tally: &mut Tally,
) {
    let mut seen = Seen::new(shared.events);
    let mut counted_done = false;
    loop {
        let message = tokio::select! {
            biased;
            _ = &mut stop => break,
            message = socket.next() => message,
        };
        match message {
            Some(Ok(Message::Text(text)))
                if shared.mode == Mode::Pusher && crate::pusher::is_ping(text.as_str()) =>
            {
                // A Pusher server closes a client that does not answer its pings.
                if let Err(error) = socket.send(Message::text(crate::pusher::PONG)).await {
                    tally.read_error = Some(format!("answering a ping: {error}"));
                    break;
                }
            }
            Some(Ok(Message::Text(text))) => {
                if observe(text.as_str(), shared, &mut seen, tally) && !counted_done {
                    counted_done = true;
                    Shared::countdown(&shared.pending, &shared.done);
                }
            }
            Some(Ok(Message::Close(frame))) => {
                tally.closed_by_server = Some(frame.map_or(0, |frame| frame.code.into()));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tally.read_error = Some(error.to_string());
                break;
            }
            None => {
                tally.read_error = Some("connection closed without a close frame".into());
                break;
            }
        }
    }
    if !counted_done {
        Shared::countdown(&shared.pending, &shared.done);
    }
}

/// Counts one frame; true when this client now has every event.
fn observe(frame: &str, shared: &Shared, seen: &mut Seen, tally: &mut Tally) -> bool {
    let Some((seq, sent_us)) = scan::event(frame) else {
        return false;
    };
    let now = unix_micros();
    tally.frames += 1;
    tally.frame_bytes += frame.len() as u64;
    tally.last_receive_us = now;
    if seq >= shared.events {
        tally.foreign += 1;
        return false;
    }
    if !seen.insert(seq) {
        tally.duplicated += 1;
        return false;
    }
    if seen.highest.is_some_and(|highest| seq < highest) {
        tally.out_of_order += 1;
    }
    seen.highest = seen.highest.max(Some(seq));
    tally.unique += 1;
    shared.latency.record(now.saturating_sub(sent_us));
    if let Some(&(start_us, period_us)) = shared.schedule.get() {
        let due_us = start_us + (seq as f64 * period_us) as u64;
        shared.due_latency.record(now.saturating_sub(due_us));
    }
    tally.unique == shared.events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(seq: u64) -> String {
        format!(r#"{{"seq":{seq},"t":{},"pad":""}}"#, unix_micros())
    }

    #[test]
    fn tallies_duplicates_gaps_and_disorder() {
        let shared = Shared::new(Mode::Nchan, 1, 4, 1);
        let mut seen = Seen::new(4);
        let mut tally = Tally::default();
        for seq in [0, 2, 1, 2, 9] {
            assert!(!observe(&frame(seq), &shared, &mut seen, &mut tally));
        }
        assert!(observe(&frame(3), &shared, &mut seen, &mut tally));
        assert_eq!(tally.unique, 4);
        assert_eq!(tally.duplicated, 1);
        assert_eq!(tally.out_of_order, 1);
        assert_eq!(tally.foreign, 1);
        assert_eq!(shared.latency.summary().count, 4);
    }

    #[test]
    fn frames_without_seq_are_ignored() {
        let shared = Shared::new(Mode::Ictdesk, 1, 4, 1);
        let mut seen = Seen::new(4);
        let mut tally = Tally::default();
        assert!(!observe(
            r#"{"type":"pong"}"#,
            &shared,
            &mut seen,
            &mut tally
        ));
        assert_eq!(tally.frames, 0);
    }
}
