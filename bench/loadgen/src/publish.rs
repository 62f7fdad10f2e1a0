//! The publisher: M events at R per second, one request at a time so that the order of
//! sequence numbers is the order the server accepted them in. Also the few status
//! requests the coordinator makes to the server.

use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::time::Instant;

use crate::{
    Mode,
    histogram::{Histogram, Summary},
    pusher::{App, CHANNEL},
    unix_micros,
};

/// One publish request may take this long before it counts as failed.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How far behind its schedule the publisher may fall before it gives up.
const GRACE: Duration = Duration::from_secs(90);
/// What the hub wraps around `data`: `{"id":…,"type":"bench","timestamp":"…","data":…}`,
/// with a seven-digit id.
const ICTDESK_ENVELOPE: usize =
    r#"{"id":1234567,"type":"bench","timestamp":"2026-01-01T00:00:00.000Z","data":}"#.len();
/// What a Pusher message wraps around `data` (a JSON string: its ten quotes escaped),
/// with ictdesk's seven-digit `id`.
const PUSHER_ENVELOPE: usize =
    r#"{"event":"bench","channel":"bench","data":"","id":1234567}"#.len() + 10;

pub struct Publisher {
    pub mode: Mode,
    /// For `Mode::Pusher`: the app whose secret signs each request.
    pub pusher: Option<App>,
    pub url: String,
    pub token: Option<String>,
    pub http: reqwest::Client,
    pad: String,
}

#[derive(Debug, Default)]
pub struct Published {
    pub first_us: u64,
    pub last_us: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub latency_us: Summary,
}

impl Publisher {
    /// `frame_bytes`: the size of the event frame clients should receive.
    pub fn new(
        mode: Mode,
        url: String,
        token: Option<String>,
        pusher: Option<App>,
        frame_bytes: usize,
    ) -> Result<Self> {
        if mode == Mode::Pusher && pusher.is_none() {
            bail!("--mode pusher needs --pusher-app ID:KEY:SECRET");
        }
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .no_proxy()
            .build()?;
        let bare = data(999, unix_micros(), "").len();
        let envelope = match mode {
            Mode::Ictdesk => ICTDESK_ENVELOPE,
            Mode::Pusher => PUSHER_ENVELOPE,
            Mode::Nchan => 0,
        };
        let pad = "x".repeat(frame_bytes.saturating_sub(bare + envelope));
        Ok(Self {
            mode,
            pusher,
            url,
            token,
            http,
            pad,
        })
    }

    /// Sends `events` events, event `seq` due at `start + seq × period`; a late request
    /// does not shift the schedule of the next ones, so the average rate holds if the
    /// server lets it. Gives up `GRACE` after the schedule's end, counting the events not
    /// sent as errors.
    pub async fn run(&self, events: u64, start: Instant, period: Duration) -> Published {
        let latency = Histogram::new();
        let mut published = Published::default();
        let give_up = start + period.mul_f64(events as f64) + GRACE;
        for seq in 0..events {
            if Instant::now() > give_up {
                published.errors += events - seq;
                published
                    .first_error
                    .get_or_insert_with(|| format!("gave up after {seq} events: too slow"));
                break;
            }
            tokio::time::sleep_until(start + period.mul_f64(seq as f64)).await;
            let sent_us = unix_micros();
            if seq == 0 {
                published.first_us = sent_us;
            }
            published.last_us = sent_us;
            let began = Instant::now();
            if let Err(error) = self.publish(seq, sent_us).await {
                published.errors += 1;
                published.first_error.get_or_insert(format!("{error:#}"));
            }
            latency.record(began.elapsed().as_micros() as u64);
        }
        published.latency_us = latency.summary();
        published
    }

    async fn publish(&self, seq: u64, sent_us: u64) -> Result<()> {
        let data = data(seq, sent_us, &self.pad);
        let (body, url) = match (&self.pusher, self.mode) {
            (Some(app), Mode::Pusher) => {
                let data = serde_json::to_string(&data)?;
                let body = format!(r#"{{"name":"bench","channels":["{CHANNEL}"],"data":{data}}}"#);
                let url = app.sign("POST", &self.url, &[], &body);
                (body, url)
            }
            (_, Mode::Ictdesk) => (
                format!(r#"{{"type":"bench","data":{data}}}"#),
                self.url.clone(),
            ),
            _ => (data, self.url.clone()),
        };
        let mut request = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            bail!("{status}: {}", text.chars().take(200).collect::<String>());
        }
        Ok(())
    }
}

fn data(seq: u64, sent_us: u64, pad: &str) -> String {
    format!(r#"{{"seq":{seq},"t":{sent_us},"pad":"{pad}"}}"#)
}

/// Subscribers the server reports: the sum of `/status` `clients` over the hub nodes
/// behind `ws_urls`, or Nchan's channel `subscribers` at the publisher location.
pub async fn server_clients(publisher: &Publisher, ws_urls: &[String]) -> Result<u64> {
    match publisher.mode {
        Mode::Ictdesk => {
            let mut total = 0;
            for base in node_bases(ws_urls) {
                let status = get_json(&publisher.http, &format!("{base}/status")).await?;
                total += status["clients"]
                    .as_u64()
                    .context("/status has no clients")?;
            }
            Ok(total)
        }
        Mode::Nchan => {
            let info = get_json(&publisher.http, &publisher.url).await?;
            info["subscribers"]
                .as_u64()
                .context("Nchan channel info has no subscribers")
        }
        Mode::Pusher => {
            let app = publisher.pusher.as_ref().context("no Pusher app")?;
            let base = publisher.url.trim_end_matches("/events");
            let url = app.sign(
                "GET",
                &format!("{base}/channels/{CHANNEL}"),
                &[("info", "subscription_count")],
                "",
            );
            let info = get_json(&publisher.http, &url).await?;
            info["subscription_count"]
                .as_u64()
                .context("the channel info has no subscription_count")
        }
    }
}

/// Connections the hub nodes closed as too slow (their `/metrics` counter).
pub async fn slow_consumers_dropped(http: &reqwest::Client, ws_urls: &[String]) -> Result<u64> {
    let mut total = 0;
    for base in node_bases(ws_urls) {
        let text = http
            .get(format!("{base}/metrics"))
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        let line = text
            .lines()
            .find(|line| line.starts_with("ictdesk_slow_consumers_dropped_total "))
            .context("/metrics has no ictdesk_slow_consumers_dropped_total")?;
        let value = line.split_whitespace().nth(1).unwrap_or_default();
        total += value.parse::<f64>().context("slow consumer count")? as u64;
    }
    Ok(total)
}

/// `ws://127.0.0.1:8080/ws` → `http://127.0.0.1:8080`, once per node.
fn node_bases(ws_urls: &[String]) -> Vec<String> {
    let mut bases: Vec<String> = ws_urls
        .iter()
        .filter_map(|url| url.strip_prefix("ws://"))
        .map(|rest| format!("http://{}", rest.split('/').next().unwrap_or(rest)))
        .collect();
    bases.sort();
    bases.dedup();
    bases
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<serde_json::Value> {
    let text = http
        .get(url)
        .header("accept", "application/json")
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    serde_json::from_str(&text).with_context(|| format!("{url} did not answer JSON"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_the_frame_to_the_requested_size() -> Result<()> {
        let publisher = Publisher::new(
            Mode::Nchan,
            "http://127.0.0.1:1/pub".into(),
            None,
            None,
            150,
        )?;
        assert_eq!(data(999, unix_micros(), &publisher.pad).len(), 150);
        Ok(())
    }

    #[test]
    fn node_bases_are_unique() {
        let urls = [
            "ws://127.0.0.1:1/ws".to_owned(),
            "ws://127.0.0.1:2/ws".to_owned(),
            "ws://127.0.0.1:1/ws".to_owned(),
        ];
        assert_eq!(
            node_bases(&urls),
            ["http://127.0.0.1:1", "http://127.0.0.1:2"]
        );
    }
}
