//! A lock-free latency histogram shared by all client tasks. Log-linear buckets (exact
//! below 256 µs, then 128 sub-buckets per power of two, so under 1 % error) keep it at a
//! fixed size however many samples arrive, instead of a vector per client. Each thread
//! records into its own stripe: counters shared by the threads would bounce between
//! their cores on every sample and cost the load generator more than the frame itself.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Sub-buckets per power of two: 2^7.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for values up to 2^40 µs (12 days); larger values land in the last one.
const BUCKETS: usize = (SUB as usize) * 33;
/// Stripes per histogram: more than the runtime's threads, so each has its own.
const STRIPES: usize = 8;

pub struct Histogram {
    stripes: Box<[Stripe]>,
}

/// One thread's share, on cache lines of its own.
#[repr(align(128))]
struct Stripe {
    buckets: Box<[AtomicU64]>,
    max: AtomicU64,
}

/// Percentiles of the recorded values, in the recorded unit.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

thread_local! {
    /// This thread's stripe, handed out round-robin on first use.
    static STRIPE: usize = {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(1, Ordering::Relaxed) % STRIPES
    };
}

impl Histogram {
    pub fn new() -> Self {
        let stripe = || Stripe {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        };
        Self {
            stripes: (0..STRIPES).map(|_| stripe()).collect(),
        }
    }

    pub fn record(&self, value: u64) {
        let stripe = &self.stripes[STRIPE.with(|stripe| *stripe)];
        stripe.buckets[index(value)].fetch_add(1, Ordering::Relaxed);
        stripe.max.fetch_max(value, Ordering::Relaxed);
    }

    pub fn summary(&self) -> Summary {
        let buckets: Vec<u64> = (0..BUCKETS)
            .map(|i| {
                self.stripes
                    .iter()
                    .map(|stripe| stripe.buckets[i].load(Ordering::Relaxed))
                    .sum()
            })
            .collect();
        let count = buckets.iter().sum();
        let max = self
            .stripes
            .iter()
            .map(|stripe| stripe.max.load(Ordering::Relaxed))
            .max()
            .unwrap_or(0);
        let quantile = |q| quantile(&buckets, count, max, q);
        Summary {
            count,
            p50: quantile(0.50),
            p90: quantile(0.90),
            p99: quantile(0.99),
            max,
        }
    }
}

/// The upper edge of the bucket holding the q-th value (0 when empty).
fn quantile(buckets: &[u64], count: u64, max: u64, q: f64) -> u64 {
    if count == 0 {
        return 0;
    }
    let rank = ((count as f64) * q).ceil().max(1.0) as u64;
    let mut seen = 0;
    for (i, bucket) in buckets.iter().enumerate() {
        seen += bucket;
        if seen >= rank {
            return upper_edge(i).min(max);
        }
    }
    max
}

fn index(value: u64) -> usize {
    if value < 2 * SUB {
        return value as usize;
    }
    let shift = 63 - value.leading_zeros() - SUB_BITS;
    let mantissa = value >> shift;
    ((SUB * u64::from(shift) + mantissa) as usize).min(BUCKETS - 1)
}

fn upper_edge(index: usize) -> u64 {
    let index = index as u64;
    if index < 2 * SUB {
        return index;
    }
    let shift = index / SUB - 1;
    let mantissa = index % SUB + SUB;
    ((mantissa + 1) << shift) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_tight() {
        for value in [0, 1, 255, 256, 257, 1000, 12_345, 999_999, 50_000_000] {
            let edge = upper_edge(index(value));
            assert!(edge >= value, "{value} -> {edge}");
            assert!(
                (edge - value) as f64 <= value as f64 / 100.0 + 1.0,
                "{value} -> {edge}"
            );
        }
        assert_eq!(index(256), 256);
        assert_eq!(index(255), 255);
    }

    #[test]
    fn percentiles_follow_the_samples() {
        let histogram = Histogram::new();
        for value in 1..=1000 {
            histogram.record(value * 100);
        }
        let summary = histogram.summary();
        assert_eq!(summary.count, 1000);
        assert_eq!(summary.max, 100_000);
        assert!((49_500..=50_500).contains(&summary.p50), "{summary:?}");
        assert!((98_500..=99_900).contains(&summary.p99), "{summary:?}");
    }

    #[test]
    fn an_empty_histogram_reports_zeros() {
        assert_eq!(Histogram::new().summary(), Summary::default());
    }
}
