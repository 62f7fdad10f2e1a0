//! Counters for `/metrics` (Prometheus text) and `/status`. One registry per hub, not a
//! process-wide recorder, so that tests can run many hubs in one process.

use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub method: String,
    pub path: String,
    pub status: u16,
}

pub(crate) struct Metrics {
    registry: Registry,
    pub connections: Gauge,
    pub waiting_polls: Gauge,
    pub events: Counter,
    pub messages_sent: Counter,
    pub slow_consumers_dropped: Counter,
    pub events_pruned: Counter,
    pub requests: Family<RequestLabels, Histogram>,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("ictdesk");
        let connections = Gauge::default();
        let waiting_polls = Gauge::default();
        let events = Counter::default();
        let messages_sent = Counter::default();
        let slow_consumers_dropped = Counter::default();
        let events_pruned = Counter::default();
        let requests = Family::<RequestLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0,
            ])
        });
        registry.register(
            "websocket_connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        registry.register(
            "long_polls_waiting",
            "Long polls being held open",
            waiting_polls.clone(),
        );
        registry.register(
            "events",
            "Events read from the log and fanned out",
            events.clone(),
        );
        registry.register(
            "messages_sent",
            "Frames sent to clients",
            messages_sent.clone(),
        );
        registry.register(
            "slow_consumers_dropped",
            "Connections closed because their queue was full",
            slow_consumers_dropped.clone(),
        );
        registry.register(
            "events_pruned",
            "Events deleted from the log by retention",
            events_pruned.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            requests.clone(),
        );
        Self {
            registry,
            connections,
            waiting_polls,
            events,
            messages_sent,
            slow_consumers_dropped,
            events_pruned,
            requests,
        }
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }
}
