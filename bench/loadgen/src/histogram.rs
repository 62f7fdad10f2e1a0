//! A lock-free latency histogram shared by all client tasks. Log-linear buckets (exact
//! below 256 µs, then 128 sub-buckets per power of two, so under 1 % error) keep it at a
//! fixed 32 KiB however many samples arrive, instead of a vector per client.

use std::sync::atomic::{AtomicU64, Ordering};

/// Sub-buckets per power of two: 2^7.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
/// Enough buckets for values up to 2^40 µs (12 days); larger values land in the last one.
const BUCKETS: usize = (SUB as usize) * 33;

pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    count: AtomicU64,
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

impl Histogram {
    pub fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            max: AtomicU64::new(0),
        }
    }

    pub fn record(&self, value: u64) {
        self.buckets[index(value)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(value, Ordering::Relaxed);
    }

    pub fn summary(&self) -> Summary {
        let count = self.count.load(Ordering::Relaxed);
        Summary {
            count,
            p50: self.quantile(count, 0.50),
            p90: self.quantile(count, 0.90),
            p99: self.quantile(count, 0.99),
            max: self.max.load(Ordering::Relaxed),
        }
    }

    /// The upper edge of the bucket holding the q-th value (0 when empty).
    fn quantile(&self, count: u64, q: f64) -> u64 {
        if count == 0 {
            return 0;
        }
        let rank = ((count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return upper_edge(i).min(self.max.load(Ordering::Relaxed));
            }
        }
        self.max.load(Ordering::Relaxed)
    }
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
