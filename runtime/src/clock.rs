//! The model's clock and its timers.
//!
//! Contract (the spec language's `timer`, `start`, `stop`, `.running`,
//! `.remaining`):
//! - Time is u64 nanoseconds on a clock the model owns. In host tests and
//!   scenarios it is virtual: it starts at 0 and moves only when the harness
//!   advances it. A host with a real clock sets it (CLOCK_MONOTONIC since
//!   the model started) before accesses and when its timerfd fires; the
//!   clock never goes backwards.
//! - `start(id, ns, periodic)` arms timer `id` to fire `ns` from now, the
//!   duration clamped by [`clamp_duration`]; starting a running timer
//!   re-arms it (QEMU's `timer_mod`). `stop` disarms it.
//! - Due timers fire in deadline order, ties in declaration order (lower
//!   id first). A timer is disarmed (one-shot) or re-armed (periodic)
//!   *before* its fire block runs, so the block may stop or restart it.
//! - A periodic timer re-arms from its due time (`due + period`, no drift).
//!   When the clock jumped past several periods (a host that fell behind),
//!   the missed ones are dropped: the next deadline is the first
//!   `due + k * period` after now, so one jump costs one firing.
//!
//! The table has one slot per timer the spec declares; ids out of range are
//! ignored (generated code never produces them).

use pcidev_core::time::{MAX_TIMER_NS, MIN_TIMER_NS, clamp_duration};
use serde::{Deserialize, Serialize};

/// One timer's arming.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Slot {
    /// When it fires next; `None` when stopped.
    deadline: Option<u64>,
    /// The period of a periodic timer.
    period: Option<u64>,
}

/// A clock and the timers measured against it.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    now: u64,
    slots: Vec<Slot>,
}

impl Timers {
    /// `count` stopped timers at time 0.
    pub fn new(count: usize) -> Self {
        Timers {
            now: 0,
            slots: vec![Slot::default(); count],
        }
    }

    /// The clock, in ns.
    #[inline]
    pub fn now(&self) -> u64 {
        self.now
    }

    /// Move the clock to `now` (ignored if it is in the past). Timers that
    /// become due are not fired: see [`Self::pop_due`].
    pub fn set_now(&mut self, now: u64) {
        self.now = self.now.max(now);
    }

    /// Arm timer `id` to fire `ns` (clamped) from now, once or every `ns`.
    pub fn start(&mut self, id: usize, ns: u64, periodic: bool) {
        let ns = clamp_duration(ns);
        let now = self.now;
        if let Some(slot) = self.slots.get_mut(id) {
            slot.deadline = Some(now.saturating_add(ns));
            slot.period = periodic.then_some(ns);
        }
    }

    /// Disarm timer `id`.
    pub fn stop(&mut self, id: usize) {
        if let Some(slot) = self.slots.get_mut(id) {
            *slot = Slot::default();
        }
    }

    /// Disarm every timer (device reset).
    pub fn stop_all(&mut self) {
        self.slots.fill(Slot::default());
    }

    /// Is timer `id` armed?
    #[inline]
    pub fn running(&self, id: usize) -> bool {
        self.slots.get(id).is_some_and(|s| s.deadline.is_some())
    }

    /// Nanoseconds until timer `id` fires; 0 when stopped (or due).
    #[inline]
    pub fn remaining(&self, id: usize) -> u64 {
        self.slots
            .get(id)
            .and_then(|s| s.deadline)
            .map_or(0, |d| d.saturating_sub(self.now))
    }

    /// The earliest deadline of any armed timer.
    pub fn next_deadline(&self) -> Option<u64> {
        self.slots.iter().filter_map(|s| s.deadline).min()
    }

    /// The timer that fires first among those due at or before `limit`
    /// (deadline order, ties by id), with its deadline.
    pub fn earliest_due(&self, limit: u64) -> Option<(usize, u64)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.deadline.map(|d| (i, d)))
            .filter(|&(_, d)| d <= limit)
            .min_by_key(|&(i, d)| (d, i))
    }

    /// Take the next timer due now: disarm it, or re-arm it for its next
    /// period after now (dropping missed periods). The caller runs its fire
    /// block.
    pub fn pop_due(&mut self) -> Option<usize> {
        let (id, due) = self.earliest_due(self.now)?;
        let now = self.now;
        let slot = &mut self.slots[id];
        slot.deadline = slot.period.map(|p| {
            // First `due + k * p` strictly after now (k >= 1).
            let behind = now - due;
            let k = behind / p + 1;
            due.saturating_add(k.saturating_mul(p))
        });
        Some(id)
    }
}

/// A running timer in a snapshot: its time left relative to the clock
/// (not its absolute deadline) and its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimerState {
    remaining_ns: u64,
    period_ns: Option<u64>,
}

impl Timers {
    /// Each timer: `None` when stopped.
    pub(crate) fn save(&self) -> Vec<Option<TimerState>> {
        self.slots
            .iter()
            .map(|s| {
                s.deadline.map(|d| TimerState {
                    remaining_ns: d.saturating_sub(self.now),
                    period_ns: s.period,
                })
            })
            .collect()
    }

    /// Is `saved` a valid table of `count` timers: what [`Self::start`]
    /// could have armed (a period within the clamp, time left at most
    /// [`MAX_TIMER_NS`])?
    pub(crate) fn check(saved: &[Option<TimerState>], count: usize) -> Result<(), String> {
        if saved.len() != count {
            return Err(format!("{} timers, the layout has {count}", saved.len()));
        }
        for (i, t) in saved
            .iter()
            .enumerate()
            .filter_map(|(i, t)| Some((i, (*t)?)))
        {
            let period_ok = t
                .period_ns
                .is_none_or(|p| (MIN_TIMER_NS..=MAX_TIMER_NS).contains(&p));
            if !period_ok || t.remaining_ns > MAX_TIMER_NS {
                return Err(format!(
                    "timer {i}: period or time left beyond the timer limits"
                ));
            }
        }
        Ok(())
    }

    /// The clock at `now` and the timers of a checked `saved` table,
    /// each due its time left after `now`.
    pub(crate) fn restore(&mut self, now: u64, saved: &[Option<TimerState>]) {
        self.now = now;
        for (slot, t) in self.slots.iter_mut().zip(saved) {
            *slot = match t {
                Some(t) => Slot {
                    deadline: Some(now.saturating_add(t.remaining_ns)),
                    period: t.period_ns,
                },
                None => Slot::default(),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shot_fires_once_at_its_deadline() {
        let mut t = Timers::new(1);
        t.start(0, 1_000_000, false);
        assert!(t.running(0));
        assert_eq!(t.remaining(0), 1_000_000);
        t.set_now(999_999);
        assert_eq!(t.pop_due(), None);
        assert_eq!(t.remaining(0), 1);
        t.set_now(1_000_000);
        assert_eq!(t.pop_due(), Some(0));
        assert!(!t.running(0));
        assert_eq!(t.remaining(0), 0);
        assert_eq!(t.pop_due(), None);
    }

    #[test]
    fn durations_are_clamped() {
        let mut t = Timers::new(2);
        t.start(0, 1, true);
        assert_eq!(t.remaining(0), MIN_TIMER_NS);
        t.start(1, u64::MAX, false);
        assert_eq!(t.remaining(1), MAX_TIMER_NS);
        t.stop(0);
        t.set_now(u64::MAX);
        // Deadlines saturate rather than wrap.
        t.start(1, u64::MAX, false);
        assert_eq!(t.next_deadline(), Some(u64::MAX));
    }

    #[test]
    fn restart_rearms_and_stop_disarms() {
        let mut t = Timers::new(1);
        t.start(0, 1_000_000, false);
        t.set_now(500_000);
        t.start(0, 1_000_000, false);
        assert_eq!(t.next_deadline(), Some(1_500_000));
        t.stop(0);
        assert_eq!(t.next_deadline(), None);
        assert!(!t.running(0));
    }

    #[test]
    fn deadline_order_then_declaration_order() {
        let mut t = Timers::new(3);
        t.start(2, 200_000, false);
        t.start(1, 300_000, false);
        t.start(0, 300_000, false);
        t.set_now(1_000_000);
        assert_eq!(t.pop_due(), Some(2));
        assert_eq!(t.pop_due(), Some(0));
        assert_eq!(t.pop_due(), Some(1));
        assert_eq!(t.pop_due(), None);
    }

    #[test]
    fn periodic_rearms_from_due_time_and_drops_missed_periods() {
        let mut t = Timers::new(1);
        t.start(0, 1_000_000, true);
        // Reached a little late: the next deadline keeps the phase.
        t.set_now(1_000_300);
        assert_eq!(t.pop_due(), Some(0));
        assert_eq!(t.next_deadline(), Some(2_000_000));
        // Jumped 3.5 periods: one firing, next deadline after now.
        t.set_now(5_500_000);
        assert_eq!(t.pop_due(), Some(0));
        assert_eq!(t.pop_due(), None);
        assert_eq!(t.next_deadline(), Some(6_000_000));
    }

    #[test]
    fn saved_timers_keep_their_time_left_and_phase() {
        let mut t = Timers::new(3);
        t.set_now(1_000);
        t.start(0, 500_000, true);
        t.start(2, 300_000, false);
        t.set_now(201_000);
        let saved = t.save();
        assert_eq!(Timers::check(&saved, 3), Ok(()));
        assert!(Timers::check(&saved, 2).is_err());
        let mut u = Timers::new(3);
        u.restore(t.now(), &saved);
        assert_eq!(u.slots, t.slots);
        // Another clock: the same time left.
        let mut v = Timers::new(3);
        v.restore(7, &saved);
        assert_eq!(v.remaining(0), t.remaining(0));
        assert_eq!(v.remaining(2), 100_000);
        let zero_period = vec![Some(TimerState {
            remaining_ns: 1,
            period_ns: Some(0),
        })];
        assert!(Timers::check(&zero_period, 1).is_err());
    }

    #[test]
    fn clock_never_goes_back_and_bad_ids_are_ignored() {
        let mut t = Timers::new(1);
        t.set_now(10);
        t.set_now(5);
        assert_eq!(t.now(), 10);
        t.start(7, 1_000_000, false);
        t.stop(7);
        assert!(!t.running(7));
        assert_eq!(t.remaining(7), 0);
        assert_eq!(t.next_deadline(), None);
    }
}
