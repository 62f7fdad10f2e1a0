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
    time::SystemTime,
};

use bytes::Bytes;
use tokio::task::{JoinSet, coop::unconstrained};

use super::{
    channel::ChannelName,
    members::{Change, Members},
};
use crate::{
    app::{Application, ChannelGrant},
    event::Delivered,
    outlet::{Offer, Outlet, text_frame},
    registry::{CloseReason, ConnectionId},
    rights::RightsChange,
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
    /// On the application's own channels, the person whose rights it stands on
    /// ([`ChannelGrant::holder`]).
    pub holder: Option<i64>,
    progress: Mutex<Progress>,
}

struct Progress {
    /// The last event id sent on this channel: none goes out twice.
    cursor: i64,
    /// A resume replays from the log: live events wait in `held`.
    replaying: bool,
    /// What it may receive of the application's events, as last checked.
    grant: Option<ChannelGrant>,
    /// The holder's rights may have changed: events after it wait in `held` until
    /// the subscription is checked again.
    stale: Option<Stale>,
    /// Live events waiting, in order, while replaying or stale.
    held: Vec<Held>,
    ended: bool,
}

/// Changes of the holder's rights not yet checked: the first (nothing after it goes
/// out) and the newest (a check must come after it to count).
#[derive(Clone, Copy)]
struct Stale {
    since: i64,
    through: i64,
}

struct Held {
    id: i64,
    frame: Bytes,
    /// A mirrored application event, checked against the grant when it goes out.
    mirrored: Option<Arc<Delivered>>,
}

/// The client let its queue fill up.
pub(crate) struct TooSlow;

impl Progress {
    fn holds(&self, id: i64) -> bool {
        self.replaying || self.stale.is_some_and(|stale| id > stale.since)
    }

    /// Whether the grant lets a mirrored event through.
    fn may_see(&self, mirrored: Option<&Arc<Delivered>>) -> bool {
        match (mirrored, &self.grant) {
            (None, _) => true,
            (Some(event), Some(grant)) => event.audience.includes(&grant.viewer),
            (Some(_), None) => false,
        }
    }

    fn expired(&self, now: SystemTime) -> bool {
        self.grant
            .as_ref()
            .and_then(|grant| grant.expires_at)
            .is_some_and(|end| end <= now)
    }

    fn mark_stale(&mut self, since: i64, through: i64) {
        self.stale = Some(match self.stale {
            None => Stale { since, through },
            Some(stale) => Stale {
                since: stale.since.min(since),
                through: stale.through.max(through),
            },
        });
    }
}

impl Subscription {
    /// Offers one event's frame; skipped if already sent (or before the join) or if
    /// the grant does not let it through. While the holder's rights are unchecked,
    /// it waits — unfiltered, as they may have grown.
    fn offer(
        &self,
        delivery: &Delivery,
        capacity: usize,
        now: SystemTime,
    ) -> Result<bool, TooSlow> {
        let id = delivery.id;
        let mut progress = lock(&self.progress);
        if progress.ended || id <= progress.cursor {
            return Ok(false);
        }
        if progress.stale.is_none() && progress.expired(now) {
            // Everything before this event was offered while the grant still held.
            progress.mark_stale(id - 1, id - 1);
            self.outlet.control.recheck();
        }
        if progress.holds(id) {
            if progress.held.len() >= capacity {
                return Err(TooSlow);
            }
            progress.held.push(Held {
                id,
                frame: delivery.frame.clone(),
                mirrored: delivery.mirrored.clone(),
            });
            return Ok(true);
        }
        if !progress.may_see(delivery.mirrored.as_ref()) {
            return Ok(false);
        }
        progress.cursor = id;
        match self.outlet.offer_frame(delivery.frame.clone()) {
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
        progress.replaying = false;
        progress.cursor = progress.cursor.max(through);
        self.flush_held(&mut progress);
    }

    /// The holder's rights changed with events `first` to `newest`: what follows
    /// `first` waits until [`Subscription::adopt`] with a check after `newest`.
    fn rights_changed(&self, first: i64, newest: i64) {
        let mut progress = lock(&self.progress);
        if !progress.ended {
            progress.mark_stale(first, newest);
            self.outlet.control.recheck();
        }
    }

    /// Whether the subscription waits to be checked again, now that it is `now` (a
    /// grant that ran out waits from what was last sent).
    pub fn needs_check(&self, now: SystemTime) -> bool {
        let mut progress = lock(&self.progress);
        if progress.stale.is_none() && progress.expired(now) {
            let cursor = progress.cursor;
            progress.mark_stale(cursor, cursor);
        }
        progress.stale.is_some()
    }

    /// When the grant runs out, if it does.
    pub fn expires_at(&self) -> Option<SystemTime> {
        lock(&self.progress)
            .grant
            .as_ref()
            .and_then(|grant| grant.expires_at)
    }

    /// The grant as checked again when the log was at `at`: the events held since a
    /// change of the holder's rights follow, those it lets through, if the check came
    /// after every such change.
    pub fn adopt(&self, grant: ChannelGrant, at: i64) {
        let mut progress = lock(&self.progress);
        progress.grant = Some(grant);
        if progress.stale.is_some_and(|stale| stale.through <= at) {
            progress.stale = None;
        }
        self.flush_held(&mut progress);
    }

    fn flush_held(&self, progress: &mut Progress) {
        if progress.replaying || progress.stale.is_some() {
            return;
        }
        for held in std::mem::take(&mut progress.held) {
            if held.id > progress.cursor && progress.may_see(held.mirrored.as_ref()) {
                progress.cursor = held.id;
                let _ = self.outlet.offer_frame(held.frame);
            }
        }
    }

    fn end(&self) {
        let mut progress = lock(&self.progress);
        progress.ended = true;
        progress.held.clear();
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
        self.except.as_deref() != Some(&*subscription.socket_id)
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

    /// The last log id the fan-out has applied: a check of rights made after reading
    /// it reflects every change up to it.
    pub fn through(&self) -> i64 {
        self.read().through.load(Ordering::Acquire)
    }

    /// Adds a subscription made by `make(joined_at)`, with (for presence channels) the
    /// member list as of that point. Live events wait for `release` (a resume replays
    /// first). A grant checked at `checked_at`, before the join, may miss a change of
    /// its holder's rights since: the subscription is checked again before anything
    /// after its join goes out.
    pub fn subscribe<T>(
        &self,
        key: ChannelKey,
        grant: Option<(ChannelGrant, i64)>,
        make: impl FnOnce(i64) -> (Subscription, T),
    ) -> (Arc<Subscription>, T) {
        let mut table = self.write();
        let (mut subscription, extra) = make(table.through.load(Ordering::Acquire));
        let joined_at = subscription.joined_at;
        let stale = grant
            .as_ref()
            .is_some_and(|(_, checked_at)| *checked_at < joined_at)
            .then_some(Stale {
                since: joined_at,
                through: joined_at,
            });
        if stale.is_some() {
            subscription.outlet.control.recheck();
        }
        subscription.holder = grant.as_ref().map(|(grant, _)| grant.holder);
        subscription.progress = Mutex::new(Progress {
            cursor: joined_at,
            replaying: true,
            grant: grant.map(|(grant, _)| grant),
            stale,
            held: Vec::new(),
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
    ) -> Subscription {
        Subscription {
            connection,
            socket_id,
            outlet,
            joined_at,
            holder: None,
            progress: Mutex::new(Progress {
                cursor: joined_at,
                replaying: false,
                grant: None,
                stale: None,
                held: Vec::new(),
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

    /// Applies a batch of the log: presence changes to `members`, each channel event
    /// to that channel's subscribers, and the batch's rights `changes` to the
    /// subscriptions whose holder they concern. Returns the deliveries made.
    pub async fn fan_out(
        &self,
        batch: &[Arc<Delivered>],
        changes: &[(i64, RightsChange)],
        members: &Members,
        mirror: &Mirror<'_>,
    ) -> u64 {
        let deliveries: Arc<[Delivery]> = self.plan(batch, changes, members, mirror).into();
        let now = SystemTime::now();
        let largest = deliveries
            .iter()
            .map(|delivery| delivery.subscribers.len())
            .max()
            .unwrap_or(0);
        let shards = self.shards.min(largest / SHARD_MIN).max(1);
        let outcome = if shards == 1 {
            unconstrained(deliver(deliveries, 0, 1, self.capacity, now)).await
        } else {
            let mut tasks = JoinSet::new();
            for shard in 0..shards {
                let deliveries = deliveries.clone();
                let capacity = self.capacity;
                tasks.spawn(unconstrained(deliver(
                    deliveries, shard, shards, capacity, now,
                )));
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

    /// Under the read lock: marks the subscriptions whose holder's rights changed,
    /// applies the batch's presence changes and picks, for each event, its frame and
    /// its channel's subscribers.
    fn plan(
        &self,
        batch: &[Arc<Delivered>],
        changes: &[(i64, RightsChange)],
        members: &Members,
        mirror: &Mirror<'_>,
    ) -> Vec<Delivery> {
        let table = self.read();
        if !changes.is_empty() {
            rights_changed(&table, changes);
        }
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
                None => event.frame.clone(),
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
            .any(|subscription| subscription.holder.is_some())
        {
            continue;
        }
        let Some(data) = data.get_or_insert_with(|| {
            serde_json::from_str::<Envelope<'_>>(&event.json)
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

/// Marks each subscription on the application's channels whose holder's rights
/// change in the batch (after it joined): nothing after the first change reaches it
/// until it is checked again. Rare, so a walk over every subscription does.
fn rights_changed(table: &Table, changes: &[(i64, RightsChange)]) {
    let subscriptions = table
        .channels
        .values()
        .flat_map(|channel| channel.subscribers.values());
    for subscription in subscriptions {
        let Some(holder) = subscription.holder else {
            continue;
        };
        let theirs = changes
            .iter()
            .filter(|(id, change)| change.user_id() == holder && *id > subscription.joined_at)
            .map(|(id, _)| *id);
        if let (Some(first), Some(newest)) = (theirs.clone().min(), theirs.max()) {
            subscription.rights_changed(first, newest);
        }
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
    now: SystemTime,
) -> Outcome {
    let mut outcome = Outcome::default();
    let mut offered = 0;
    for delivery in deliveries.iter() {
        for subscription in delivery.subscribers.iter().skip(shard).step_by(shards) {
            if !delivery.is_for(subscription) {
                continue;
            }
            match subscription.offer(delivery, capacity, now) {
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
