//! Who is subscribed to which channel on this node, and the fan-out of Pusher events
//! to them.
//!
//! Joining without a gap works as for native connections (docs/architecture.md): the
//! fan-out applies a batch (presence changes included) and advances `through` under
//! the read lock; a subscription joins under the write lock, at `through`, with the
//! member list as of that point. Each subscription then gets exactly the events after
//! its join, and a resume replays those before it from the log.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard, RwLock,
        atomic::{AtomicI64, Ordering},
    },
};

use bytes::Bytes;
use tokio::task::{JoinSet, coop::unconstrained};

use super::{
    channel::ChannelName,
    members::{Change, Members},
};
use crate::{
    app::Application,
    audience::Viewer,
    event::Delivered,
    outlet::{Offer, Outlet, text_frame},
    registry::{CloseReason, ConnectionId},
};

/// What a channel is called in the registry: its app's id and its name.
pub(crate) type ChannelKey = (String, ChannelName);

/// One connection's subscription to one channel.
pub(crate) struct Subscription {
    pub connection: ConnectionId,
    pub socket_id: Arc<str>,
    pub outlet: Arc<Outlet>,
    /// The log id it joined at: live events after it, replayed ones up to it.
    pub joined_at: i64,
    /// On the application's own channels, whose rights the subscription has: the
    /// application's events visible to this viewer are mirrored onto the channel.
    pub mirror: Option<Viewer>,
    progress: Mutex<Progress>,
}

struct Progress {
    /// The last event id sent on this channel: none goes out twice.
    cursor: i64,
    /// While a resume replays, live events wait here in order.
    held: Option<Vec<(i64, Bytes)>>,
    ended: bool,
}

/// The client let its queue fill up.
pub(crate) struct TooSlow;

impl Subscription {
    /// Offers one event's frame; skipped if already sent (or before the join).
    fn offer(&self, id: i64, frame: &Bytes, capacity: usize) -> Result<bool, TooSlow> {
        let mut progress = lock(&self.progress);
        if progress.ended || id <= progress.cursor {
            return Ok(false);
        }
        if let Some(held) = &mut progress.held {
            if held.len() >= capacity {
                return Err(TooSlow);
            }
            held.push((id, frame.clone()));
            return Ok(true);
        }
        progress.cursor = id;
        match self.outlet.offer_frame(frame.clone()) {
            Offer::Taken => Ok(true),
            Offer::SocketFailed => Ok(false),
            Offer::Full => Err(TooSlow),
        }
    }

    /// Sends replayed events ahead of the live ones held back meanwhile.
    pub fn push_replayed(&self, events: &[Arc<Delivered>]) {
        let _progress = lock(&self.progress);
        // Pusher outlets never wait for an identification: everything goes.
        self.outlet.push_replayed(events, i64::MAX);
    }

    /// Ends a replay that sent everything up to `through`.
    pub fn release(&self, through: i64) {
        let mut progress = lock(&self.progress);
        progress.cursor = progress.cursor.max(through);
        for (id, frame) in progress.held.take().unwrap_or_default() {
            if id > progress.cursor {
                progress.cursor = id;
                let _ = self.outlet.offer_frame(frame);
            }
        }
    }

    fn end(&self) {
        lock(&self.progress).ended = true;
    }
}

#[derive(Default)]
struct Channel {
    subscribers: HashMap<ConnectionId, Arc<Subscription>>,
    /// The subscribers as a slice for the fan-out, rebuilt after a change.
    cached: Mutex<Option<Arc<[Arc<Subscription>]>>>,
}

impl Channel {
    fn snapshot(&self) -> Arc<[Arc<Subscription>]> {
        lock(&self.cached)
            .get_or_insert_with(|| self.subscribers.values().cloned().collect())
            .clone()
    }
}

struct Table {
    channels: HashMap<ChannelKey, Channel>,
    /// The last log id the fan-out has applied: advanced under the read lock, read
    /// under the write lock.
    through: AtomicI64,
}

pub(crate) struct Subscriptions {
    table: RwLock<Table>,
    capacity: usize,
    /// Fan-out tasks per batch at most: one per runtime worker.
    shards: usize,
}

/// One frame for the subscribers of one channel.
struct Delivery {
    id: i64,
    frame: Bytes,
    except: Option<String>,
    /// A mirrored application event: only subscribers whose viewer may see it.
    mirrored: Option<Arc<Delivered>>,
    subscribers: Arc<[Arc<Subscription>]>,
}

impl Delivery {
    fn is_for(&self, subscription: &Subscription) -> bool {
        if self.except.as_deref() == Some(&*subscription.socket_id) {
            return false;
        }
        match (&self.mirrored, &subscription.mirror) {
            (None, _) => true,
            (Some(event), Some(viewer)) => event.audience.includes(viewer),
            (Some(_), None) => false,
        }
    }
}

/// The application whose events are mirrored onto its Pusher channels.
pub(crate) struct Mirror<'a> {
    pub app_id: &'a str,
    pub application: &'a dyn Application,
}

impl Subscriptions {
    pub fn new(head: i64, capacity: usize) -> Self {
        Self {
            table: RwLock::new(Table {
                channels: HashMap::new(),
                through: AtomicI64::new(head),
            }),
            capacity: capacity.max(1),
            shards: tokio::runtime::Handle::try_current()
                .map_or(1, |runtime| runtime.metrics().num_workers())
                .max(1),
        }
    }

    /// Adds a subscription made by `make(joined_at)`, with (for presence channels) the
    /// member list as of that point. With `replaying`, live events wait for `release`.
    pub fn subscribe<T>(
        &self,
        key: ChannelKey,
        replaying: bool,
        make: impl FnOnce(i64) -> (Subscription, T),
    ) -> (Arc<Subscription>, T) {
        let mut table = self.write();
        let (mut subscription, extra) = make(table.through.load(Ordering::Acquire));
        subscription.progress = Mutex::new(Progress {
            cursor: subscription.joined_at,
            held: replaying.then(Vec::new),
            ended: false,
        });
        let subscription = Arc::new(subscription);
        let channel = table.channels.entry(key).or_default();
        channel
            .subscribers
            .insert(subscription.connection, subscription.clone());
        *lock(&channel.cached) = None;
        (subscription, extra)
    }

    /// A subscription before it joins: `subscribe` sets its progress.
    pub fn new_subscription(
        connection: ConnectionId,
        socket_id: Arc<str>,
        outlet: Arc<Outlet>,
        joined_at: i64,
        mirror: Option<Viewer>,
    ) -> Subscription {
        Subscription {
            connection,
            socket_id,
            outlet,
            joined_at,
            mirror,
            progress: Mutex::new(Progress {
                cursor: joined_at,
                held: None,
                ended: false,
            }),
        }
    }

    pub fn unsubscribe(&self, key: &ChannelKey, connection: ConnectionId) -> bool {
        let mut table = self.write();
        let Some(channel) = table.channels.get_mut(key) else {
            return false;
        };
        let Some(subscription) = channel.subscribers.remove(&connection) else {
            return false;
        };
        subscription.end();
        *lock(&channel.cached) = None;
        if channel.subscribers.is_empty() {
            table.channels.remove(key);
        }
        true
    }

    /// Subscriptions per occupied channel of an app.
    pub fn occupied(&self, app: &str) -> Vec<(ChannelName, usize)> {
        let table = self.read();
        let mut channels: Vec<_> = table
            .channels
            .iter()
            .filter(|((channel_app, _), _)| channel_app == app)
            .map(|((_, name), channel)| (name.clone(), channel.subscribers.len()))
            .collect();
        channels.sort();
        channels
    }

    pub fn count(&self, key: &ChannelKey) -> usize {
        self.read()
            .channels
            .get(key)
            .map_or(0, |channel| channel.subscribers.len())
    }

    /// Applies a batch of the log: presence changes to `members`, and each channel
    /// event to that channel's subscribers. Returns the deliveries made.
    pub async fn fan_out(
        &self,
        batch: &[Arc<Delivered>],
        members: &Members,
        mirror: &Mirror<'_>,
    ) -> u64 {
        let deliveries: Arc<[Delivery]> = self.plan(batch, members, mirror).into();
        let largest = deliveries
            .iter()
            .map(|delivery| delivery.subscribers.len())
            .max()
            .unwrap_or(0);
        let shards = self.shards.min(largest / SHARD_MIN).max(1);
        let outcome = if shards == 1 {
            unconstrained(deliver(deliveries, 0, 1, self.capacity)).await
        } else {
            let mut tasks = JoinSet::new();
            for shard in 0..shards {
                let deliveries = deliveries.clone();
                let capacity = self.capacity;
                tasks.spawn(unconstrained(deliver(deliveries, shard, shards, capacity)));
            }
            let mut outcome = Outcome::default();
            for shard in tasks.join_all().await {
                outcome.delivered += shard.delivered;
                outcome.too_slow.extend(shard.too_slow);
            }
            outcome
        };
        for subscription in outcome.too_slow {
            subscription.outlet.control.close(SLOW_CONSUMER);
        }
        outcome.delivered
    }

    /// Under the read lock: applies the batch's presence changes and picks, for each
    /// event, its frame and its channel's subscribers.
    fn plan(
        &self,
        batch: &[Arc<Delivered>],
        members: &Members,
        mirror: &Mirror<'_>,
    ) -> Vec<Delivery> {
        let table = self.read();
        let mut deliveries = Vec::new();
        for event in batch {
            let Some(topic) = &event.topic else {
                mirrored(&table, event, mirror, &mut deliveries);
                continue;
            };
            let Ok(channel) = ChannelName::parse(&topic.channel) else {
                continue;
            };
            let frame = match members.apply(event) {
                Some(Change::Unchanged) => continue,
                Some(change) => change.frame(&topic.channel),
                None => event.wire.clone(),
            };
            let key = (topic.app.clone(), channel);
            if let Some(channel) = table.channels.get(&key) {
                deliveries.push(Delivery {
                    id: event.id,
                    frame,
                    except: topic.except_socket.clone(),
                    mirrored: None,
                    subscribers: channel.snapshot(),
                });
            }
        }
        if let Some(last) = batch.last() {
            table.through.fetch_max(last.id, Ordering::AcqRel);
        }
        deliveries
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// An application event, onto each of the application's channels it belongs on, as a
/// Pusher message whose `data` is the event's data as a JSON string (as Laravel sends).
fn mirrored(table: &Table, event: &Arc<Delivered>, mirror: &Mirror<'_>, out: &mut Vec<Delivery>) {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        data: &'a serde_json::value::RawValue,
    }
    #[derive(serde::Serialize)]
    struct Message<'a> {
        event: &'a str,
        channel: &'a str,
        data: &'a str,
        id: i64,
    }
    let mut data = None;
    for ((app, name), channel) in &table.channels {
        if app != mirror.app_id || !mirror.application.belongs_on(event, name.as_str()) {
            continue;
        }
        let subscribers = channel.snapshot();
        if !subscribers
            .iter()
            .any(|subscription| subscription.mirror.is_some())
        {
            continue;
        }
        let Some(data) = data.get_or_insert_with(|| {
            serde_json::from_str::<Envelope<'_>>(&event.frame)
                .ok()
                .map(|envelope| envelope.data.get().to_owned())
        }) else {
            return;
        };
        let message = Message {
            event: &event.kind,
            channel: name.as_str(),
            data,
            id: event.id,
        };
        let json = serde_json::to_string(&message).expect("a message always serializes");
        out.push(Delivery {
            id: event.id,
            frame: text_frame(&json),
            except: None,
            mirrored: Some(event.clone()),
            subscribers,
        });
    }
}

/// Subscribers per fan-out task at least: for fewer, spreading the writes over several
/// workers costs more than it saves (as for `/ws`, see `registry`).
const SHARD_MIN: usize = 512;
/// Offers between yields, so that a worker's other tasks still run during a large
/// fan-out.
const YIELD_EVERY: usize = 256;

#[derive(Default)]
struct Outcome {
    delivered: u64,
    too_slow: Vec<Arc<Subscription>>,
}

/// Offers each delivery to its subscribers `shard`, `shard + shards`, …: a subscriber
/// is always in the same shard for one channel, so its events keep their order. Run
/// `unconstrained`: tokio's cooperative budget would fail every direct write after the
/// 128th of a poll and send the rest the slow way, through the connections' tasks.
async fn deliver(
    deliveries: Arc<[Delivery]>,
    shard: usize,
    shards: usize,
    capacity: usize,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut offered = 0;
    for delivery in deliveries.iter() {
        for subscription in delivery.subscribers.iter().skip(shard).step_by(shards) {
            if !delivery.is_for(subscription) {
                continue;
            }
            match subscription.offer(delivery.id, &delivery.frame, capacity) {
                Ok(true) => outcome.delivered += 1,
                Ok(false) => {}
                Err(TooSlow) => outcome.too_slow.push(subscription.clone()),
            }
            offered += 1;
            if offered % YIELD_EVERY == 0 {
                tokio::task::yield_now().await;
            }
        }
    }
    outcome
}

/// The Pusher code for "reconnect immediately": the client resumes what it missed.
pub(crate) const SLOW_CONSUMER: CloseReason = CloseReason {
    code: 4200,
    reason: "too slow reading events; reconnect and resume",
};

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
