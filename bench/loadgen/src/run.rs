//! One benchmark run: connect N clients, publish M events at R/s, wait for delivery,
//! measure the server, and describe it all in one JSON object.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use anyhow::Result;
use serde_json::{Map, Value, json};
use tokio::{sync::oneshot, task::JoinHandle, time::Instant};

use crate::{
    Mode, RunArgs,
    client::{self, Shared, Tally},
    procfs::{self, Usage},
    publish::{self, Published, Publisher},
};

/// How long the server may take to report every connected client.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// A subscriber count that has not moved for this long is taken as final.
const STABLE: Duration = Duration::from_secs(1);
/// Pause after connecting, so the memory reading is not taken mid-allocation.
const SETTLE: Duration = Duration::from_millis(500);
/// How long the client tasks may take to hand in their tallies once stopped.
const COLLECT_TIMEOUT: Duration = Duration::from_secs(20);

/// What the server, this process and the whole machine had used at one moment.
#[derive(Clone, Copy)]
struct Snapshot {
    server: Usage,
    own_cpu: f64,
    machine_cpu: f64,
}

impl Snapshot {
    fn take(server_pids: &[u32]) -> Result<Self> {
        Ok(Self {
            server: procfs::read(server_pids)?,
            own_cpu: procfs::own_cpu_seconds()?,
            machine_cpu: procfs::machine_busy_seconds()?,
        })
    }
}

/// Snapshots before connecting, once connected, and once delivered (before the clients
/// close, whose cost is not part of the run).
struct Readings {
    before: Snapshot,
    connected: Snapshot,
    after: Snapshot,
}

/// How the connect phase went.
struct Connecting {
    all_settled: bool,
    seconds: f64,
    server_clients: Option<u64>,
}

pub async fn run(args: RunArgs) -> Result<Value> {
    // Stalled clients first, so that the memory per connection is the readers' only.
    let stalled = connect_stalled(&args).await;
    let before = Snapshot::take(&args.server_pids)?;
    let pusher = args
        .pusher_app
        .as_deref()
        .map(crate::pusher::App::parse)
        .transpose()?;
    let publisher = Publisher::new(
        args.mode,
        args.publish.clone(),
        args.token.clone(),
        pusher,
        args.frame_bytes,
    )?;
    let shared = Arc::new(Shared::new(
        args.mode,
        args.clients,
        args.events,
        args.handshakes,
    ));
    let (handles, stops, connecting) = connect_all(&args, &shared, &publisher).await;
    let connected = Snapshot::take(&args.server_pids)?;
    let published = publish_all(&args, &shared, &publisher).await;
    let drained = wait_for(&shared.done, Duration::from_secs(args.drain_timeout)).await;
    let after = Snapshot::take(&args.server_pids)?;
    let slow_dropped = match args.mode {
        Mode::Ictdesk => publish::slow_consumers_dropped(&publisher.http, &args.ws_urls)
            .await
            .ok(),
        Mode::Nchan | Mode::Pusher => None,
    };
    drop(stops);
    let totals = Totals::of(&collect(handles).await, args.events);
    let mut report = object(json!({
        "drained": drained,
        "slow_consumers_dropped": slow_dropped,
        "stalled": args.stalled,
        "stalled_connected": stalled.len(),
    }));
    drop(stalled);
    report.extend(describe(&args, &connecting));
    report.extend(totals.json(&shared, &published));
    let readings = Readings {
        before,
        connected,
        after,
    };
    report.extend(cost_json(&readings, totals.connected));
    Ok(Value::Object(report))
}

/// What was run, and how the connecting went.
fn describe(args: &RunArgs, connecting: &Connecting) -> Map<String, Value> {
    let mode = format!("{:?}", args.mode).to_lowercase();
    object(json!({
        "target": args.target.clone().unwrap_or_else(|| mode.clone()),
        "mode": mode,
        "unix_time": crate::unix_micros() / 1_000_000,
        "clients": args.clients,
        "events": args.events,
        "rate": args.rate,
        "connect_seconds": round(connecting.seconds, 3),
        "all_settled": connecting.all_settled,
        "server_clients": connecting.server_clients,
    }))
}

/// Clients that connect and then never read, to see whether they slow the others down
/// and whether the server lets them go. Not counted in any other result.
async fn connect_stalled(args: &RunArgs) -> Vec<client::Socket> {
    let connects = (0..args.stalled).map(|i| {
        let url = &args.ws_urls[i % args.ws_urls.len()];
        tokio::time::timeout(client::CONNECT_TIMEOUT, client::connect(url, args.mode))
    });
    futures_util::future::join_all(connects)
        .await
        .into_iter()
        .filter_map(|connected| connected.ok()?.ok())
        .collect()
}

/// Opens every client (bounded handshakes in flight) and waits until the server counts
/// them, then a little longer for its memory to settle. Returns the client tasks.
async fn connect_all(
    args: &RunArgs,
    shared: &Arc<Shared>,
    publisher: &Publisher,
) -> (Vec<JoinHandle<Tally>>, Vec<Stop>, Connecting) {
    let started = Instant::now();
    let (handles, stops) = spawn_clients(args, shared);
    let all_settled = wait_for(&shared.settled, Duration::from_secs(args.connect_timeout)).await;
    let seconds = started.elapsed().as_secs_f64();
    let server_clients = wait_ready(publisher, &args.ws_urls, args.clients).await;
    tokio::time::sleep(SETTLE).await;
    let connecting = Connecting {
        all_settled,
        seconds,
        server_clients,
    };
    (handles, stops, connecting)
}

/// Publishes on schedule, after telling the clients the schedule.
async fn publish_all(args: &RunArgs, shared: &Shared, publisher: &Publisher) -> Published {
    let period = Duration::from_secs_f64(1.0 / args.rate.max(0.001));
    let start = Instant::now();
    let _ = shared
        .schedule
        .set((crate::unix_micros(), period.as_secs_f64() * 1e6));
    publisher.run(args.events, start, period).await
}

/// Dropping it tells its client to stop.
type Stop = oneshot::Sender<()>;

fn spawn_clients(args: &RunArgs, shared: &Arc<Shared>) -> (Vec<JoinHandle<Tally>>, Vec<Stop>) {
    (0..args.clients)
        .map(|i| {
            let url = args.ws_urls[i % args.ws_urls.len()].clone();
            let (stop, stopped) = oneshot::channel();
            (
                tokio::spawn(client::run(url, shared.clone(), stopped)),
                stop,
            )
        })
        .unzip()
}

/// Waits for a countdown to reach zero; false on timeout.
async fn wait_for(notify: &tokio::sync::Notify, limit: Duration) -> bool {
    tokio::time::timeout(limit, notify.notified()).await.is_ok()
}

/// Polls the server until it counts `expected` subscribers, or its count has not moved
/// for a while (Nchan's count across workers lags behind), or the time is up; returns
/// its last count, or `None` if it never answered.
async fn wait_ready(publisher: &Publisher, ws_urls: &[String], expected: usize) -> Option<u64> {
    let deadline = Instant::now() + READY_TIMEOUT;
    let mut last = None;
    let mut changed = Instant::now();
    while Instant::now() < deadline {
        let count = publish::server_clients(publisher, ws_urls).await.ok();
        if count.is_some_and(|count| count >= expected as u64) {
            return count;
        }
        if count != last {
            (last, changed) = (count, Instant::now());
        } else if changed.elapsed() >= STABLE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last
}

/// Every task's tally; a task that does not finish in time counts as a failed client.
async fn collect(handles: Vec<JoinHandle<Tally>>) -> Vec<Tally> {
    let deadline = Instant::now() + COLLECT_TIMEOUT;
    let mut tallies = Vec::with_capacity(handles.len());
    for handle in handles {
        let abort = handle.abort_handle();
        let tally = match tokio::time::timeout_at(deadline, handle).await {
            Ok(Ok(tally)) => tally,
            Ok(Err(error)) => failed(format!("client task failed: {error}")),
            Err(_) => {
                abort.abort();
                failed("client task did not stop in time".into())
            }
        };
        tallies.push(tally);
    }
    tallies
}

fn failed(reason: String) -> Tally {
    Tally {
        read_error: Some(reason),
        ..Tally::default()
    }
}

/// The clients' tallies, added up.
#[derive(Default)]
struct Totals {
    connected: u64,
    connect_failed: u64,
    first_connect_error: Option<String>,
    expected: u64,
    delivered: u64,
    duplicated: u64,
    out_of_order: u64,
    foreign: u64,
    frames: u64,
    frame_bytes: u64,
    last_receive_us: u64,
    close_codes: BTreeMap<u16, u64>,
    read_errors: u64,
    first_read_error: Option<String>,
}

impl Totals {
    fn of(tallies: &[Tally], events: u64) -> Self {
        let mut totals = Totals::default();
        for tally in tallies {
            totals.add(tally, events);
        }
        totals
    }

    fn add(&mut self, tally: &Tally, events: u64) {
        if !tally.connected {
            self.connect_failed += 1;
            if self.first_connect_error.is_none() {
                self.first_connect_error = tally.connect_error.clone();
            }
            return;
        }
        self.connected += 1;
        self.expected += events;
        self.delivered += tally.unique;
        self.duplicated += tally.duplicated;
        self.out_of_order += tally.out_of_order;
        self.foreign += tally.foreign;
        self.frames += tally.frames;
        self.frame_bytes += tally.frame_bytes;
        self.last_receive_us = self.last_receive_us.max(tally.last_receive_us);
        if let Some(code) = tally.closed_by_server {
            *self.close_codes.entry(code).or_default() += 1;
        }
        if let Some(error) = &tally.read_error {
            self.read_errors += 1;
            self.first_read_error.get_or_insert_with(|| error.clone());
        }
    }

    fn json(&self, shared: &Shared, published: &Published) -> Map<String, Value> {
        let latency = shared.latency.summary();
        let due = shared.due_latency.summary();
        let ms = |us: u64| round(us as f64 / 1000.0, 2);
        let span_s = self.last_receive_us.saturating_sub(published.first_us) as f64 / 1e6;
        let per_second = if span_s > 0.0 {
            self.delivered as f64 / span_s
        } else {
            0.0
        };
        let publish_s = published.last_us.saturating_sub(published.first_us) as f64 / 1e6;
        // Intervals between the first and the last publish.
        let published_count = shared.events.saturating_sub(1) as f64;
        let closes: Map<String, Value> = self
            .close_codes
            .iter()
            .map(|(code, count)| (code.to_string(), json!(count)))
            .collect();
        object(json!({
            "connected": self.connected,
            "connect_failed": self.connect_failed,
            "first_connect_error": self.first_connect_error,
            "expected": self.expected,
            "delivered": self.delivered,
            "lost": self.expected - self.delivered,
            "duplicated": self.duplicated,
            "out_of_order": self.out_of_order,
            "foreign": self.foreign,
            "closed_by_server": closes,
            "read_errors": self.read_errors,
            "first_read_error": self.first_read_error,
            "latency_ms_p50": ms(latency.p50),
            "latency_ms_p90": ms(latency.p90),
            "latency_ms_p99": ms(latency.p99),
            "latency_ms_max": ms(latency.max),
            "due_latency_ms_p50": ms(due.p50),
            "due_latency_ms_p99": ms(due.p99),
            "due_latency_ms_max": ms(due.max),
            "deliveries_per_second": per_second.round() as u64,
            "frame_bytes_mean": self.frame_bytes.checked_div(self.frames),
            "publish_errors": published.errors,
            "first_publish_error": published.first_error,
            "publish_seconds": round(publish_s, 2),
            "publish_rate": round(published_count / publish_s.max(1e-6), 1),
            "publish_ms_p50": ms(published.latency_us.p50),
            "publish_ms_p99": ms(published.latency_us.p99),
            "publish_ms_max": ms(published.latency_us.max),
        }))
    }
}

/// Server memory and CPU, and the CPU of this process and of everything else.
fn cost_json(readings: &Readings, clients: u64) -> Map<String, Value> {
    let Readings {
        before,
        connected,
        after,
    } = readings;
    let per_connection = |snapshot: &Snapshot| {
        let grown = snapshot.server.rss_kib as f64 - before.server.rss_kib as f64;
        round(grown / clients.max(1) as f64, 2)
    };
    let server_cpu = |from: &Snapshot, to: &Snapshot| {
        round(to.server.cpu_seconds() - from.server.cpu_seconds(), 2)
    };
    let own_cpu = after.own_cpu - before.own_cpu;
    let machine_cpu = after.machine_cpu - before.machine_cpu;
    let other_cpu =
        machine_cpu - own_cpu - (after.server.cpu_seconds() - before.server.cpu_seconds());
    object(json!({
        "rss_before_kib": before.server.rss_kib,
        "rss_connected_kib": connected.server.rss_kib,
        "rss_after_kib": after.server.rss_kib,
        "kib_per_connection": per_connection(connected),
        "kib_per_connection_after": per_connection(after),
        "server_cpu_connect_s": server_cpu(before, connected),
        "server_cpu_deliver_s": server_cpu(connected, after),
        "server_cpu_s": server_cpu(before, after),
        "server_cpu_user_s": round(after.server.user_seconds - before.server.user_seconds, 2),
        "server_cpu_system_s": round(after.server.system_seconds - before.server.system_seconds, 2),
        "loadgen_cpu_s": round(own_cpu, 2),
        "machine_cpu_s": round(machine_cpu, 2),
        "other_cpu_s": round(other_cpu.max(0.0), 2),
    }))
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn round(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}
