//! Time in specs: units and the limits every timer is held to.
//!
//! Timer durations are u64 nanoseconds. Whatever a spec computes (often from
//! guest-written registers), the runtime clamps a duration to
//! `[MIN_TIMER_NS, MAX_TIMER_NS]`: a guest cannot make a timer fire more than
//! once per [`MIN_TIMER_NS`], so a periodic 1 ns timer cannot starve the
//! host. None of the QEMU devices pcidevc describes uses less (a 16550's
//! character timeout at 115200 baud is about 350 µs).

/// The shortest timer duration: 100 µs.
pub const MIN_TIMER_NS: u64 = 100_000;
/// The longest timer duration: 2^63 ns (about 292 years), so deadlines
/// never overflow.
pub const MAX_TIMER_NS: u64 = 1 << 63;

/// A duration clamped to the timer limits.
pub const fn clamp_duration(ns: u64) -> u64 {
    if ns < MIN_TIMER_NS {
        MIN_TIMER_NS
    } else if ns > MAX_TIMER_NS {
        MAX_TIMER_NS
    } else {
        ns
    }
}

/// A unit a spec writes after a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// Nanoseconds.
    Ns,
    /// Microseconds.
    Us,
    /// Milliseconds.
    Ms,
    /// Seconds.
    S,
}

impl TimeUnit {
    /// Nanoseconds per unit.
    pub const fn nanos(self) -> u64 {
        match self {
            TimeUnit::Ns => 1,
            TimeUnit::Us => 1_000,
            TimeUnit::Ms => 1_000_000,
            TimeUnit::S => 1_000_000_000,
        }
    }

    /// `n` of this unit in nanoseconds, saturating at `u64::MAX` (a spec's
    /// `600 s` is exact; an absurd literal clamps later, never wraps).
    pub const fn to_ns(self, n: u64) -> u64 {
        n.saturating_mul(self.nanos())
    }

    /// How a spec writes it.
    pub const fn keyword(self) -> &'static str {
        match self {
            TimeUnit::Ns => "ns",
            TimeUnit::Us => "us",
            TimeUnit::Ms => "ms",
            TimeUnit::S => "s",
        }
    }

    /// The unit spelled `s`.
    pub fn parse(s: &str) -> Option<TimeUnit> {
        [TimeUnit::Ns, TimeUnit::Us, TimeUnit::Ms, TimeUnit::S]
            .into_iter()
            .find(|u| u.keyword() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps() {
        assert_eq!(clamp_duration(1), MIN_TIMER_NS);
        assert_eq!(clamp_duration(u64::MAX), MAX_TIMER_NS);
        assert_eq!(clamp_duration(1_000_000), 1_000_000);
        assert_eq!(TimeUnit::parse("ms").map(TimeUnit::nanos), Some(1_000_000));
        assert_eq!(TimeUnit::S.to_ns(600), 600_000_000_000);
        assert_eq!(TimeUnit::S.to_ns(u64::MAX), u64::MAX);
        assert_eq!(TimeUnit::parse("min"), None);
    }
}
