//! [`Lateness`]: a fixed-size histogram of how late timers fire (fire time
//! minus due time), kept by the event thread so a run can report the
//! median and the 99th percentile, not just the worst case.
//!
//! Buckets are log-linear, like HdrHistogram's: exact microseconds below
//! 32 µs, then 16 buckets per power of two, so a quantile is within 1/16
//! (6.25 %) of the true value, at any magnitude, in 3.9 KiB that never
//! grows: a run of any length costs the same memory.

/// Values below this many microseconds get a bucket each.
const EXACT: u64 = 32;
/// Buckets per power of two above [`EXACT`].
const SUB: u64 = 16;
/// log2(EXACT) and log2(SUB).
const EXACT_BITS: u32 = 5;
const SUB_BITS: u32 = 4;
/// Enough buckets for any `u64` microsecond count.
const BUCKETS: usize = (EXACT + (64 - EXACT_BITS as u64) * SUB) as usize;

/// How late timer wakeups were, in a histogram of microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lateness {
    counts: [u32; BUCKETS],
    total: u64,
    max_ns: u64,
}

impl Default for Lateness {
    fn default() -> Self {
        Lateness {
            counts: [0; BUCKETS],
            total: 0,
            max_ns: 0,
        }
    }
}

impl Lateness {
    /// Count one wakeup `ns` nanoseconds after its due time.
    pub fn record(&mut self, ns: u64) {
        let b = bucket(ns / 1000);
        self.counts[b] = self.counts[b].saturating_add(1);
        self.total = self.total.saturating_add(1);
        self.max_ns = self.max_ns.max(ns);
    }

    /// Wakeups recorded.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The latest wakeup, exactly, in ns (0 when none).
    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// The `q`-quantile (0.0..=1.0) in µs: the lower bound of the bucket
    /// holding it (within 6.25 % of the true value). `None` when empty.
    pub fn quantile_us(&self, q: f64) -> Option<u64> {
        if self.total == 0 {
            return None;
        }
        // The rank of the wanted sample, 1-based: ceil(q * total), at least 1.
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for (b, &c) in self.counts.iter().enumerate() {
            seen += u64::from(c);
            if seen >= rank {
                return Some(lower_bound(b));
            }
        }
        Some(lower_bound(BUCKETS - 1))
    }
}

/// The bucket of `us` microseconds.
fn bucket(us: u64) -> usize {
    if us < EXACT {
        return us as usize;
    }
    let e = 63 - us.leading_zeros(); // >= EXACT_BITS
    let sub = (us >> (e - SUB_BITS)) & (SUB - 1);
    (EXACT + u64::from(e - EXACT_BITS) * SUB + sub) as usize
}

/// The smallest microsecond count in bucket `b`.
fn lower_bound(b: usize) -> u64 {
    let b = b as u64;
    if b < EXACT {
        return b;
    }
    let e = (b - EXACT) / SUB + u64::from(EXACT_BITS);
    let sub = (b - EXACT) % SUB;
    (1 << e) | (sub << (e - u64::from(SUB_BITS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_bounds_round_trip() {
        let mut last = 0;
        for us in (0..100_000u64).chain([u64::MAX / 1000, u64::MAX]) {
            let b = bucket(us);
            assert!(b < BUCKETS, "{us} µs -> bucket {b}");
            assert!(b >= last, "{us} µs went back to bucket {b}");
            last = b;
            let lo = lower_bound(b);
            assert!(lo <= us, "{us} µs below its bucket's bound {lo}");
            // Within 1/16 of the value above the exact range.
            assert!(us - lo <= us / SUB, "{us} µs in a bucket starting at {lo}");
        }
    }

    #[test]
    fn quantiles_of_a_known_distribution() {
        let mut l = Lateness::default();
        assert_eq!(l.quantile_us(0.5), None);
        // 98 wakeups 10 µs late, one 1 ms and one 50 ms.
        for _ in 0..98 {
            l.record(10_400);
        }
        l.record(1_000_000);
        l.record(50_000_000);
        assert_eq!(l.count(), 100);
        assert_eq!(l.quantile_us(0.5), Some(10));
        assert_eq!(l.quantile_us(0.98), Some(10));
        let p99 = l.quantile_us(0.99).unwrap();
        assert!((1000 - 1000 / 16..=1000).contains(&p99), "{p99}");
        let max = l.quantile_us(1.0).unwrap();
        assert!((50_000 - 50_000 / 16..=50_000).contains(&max), "{max}");
        assert_eq!(l.max_ns(), 50_000_000);
    }
}
