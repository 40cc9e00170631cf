//! What a host does to a [`Model`] besides accesses: its clock and timers,
//! its byte streams, the VMM requests it made, its windows (shared with the
//! VMM), state probes and snapshots.

use super::{MAX_ADVANCE_FIRINGS, Model, Registers};
use crate::snapshot::{SnapshotError, Target};
use crate::trace::TraceEvent;
use crate::window::WindowInfo;
use pcidev_core::VmmRequest;
use pcidev_core::scenario::Probe;

impl<R: Registers> Model<R> {
    // ------------------------------------------------------------- time

    /// The model's clock, in ns.
    pub fn now(&self) -> u64 {
        self.ctx.now()
    }

    /// Move the clock to `now` without firing anything (a host with a real
    /// clock calls this before each access, so `start` measures from the
    /// right time). Ignored if `now` is in the past.
    pub fn set_now(&mut self, now: u64) {
        self.ctx.timers_mut().set_now(now);
    }

    /// When the next timer is due (to arm a host's timerfd); `None` when no
    /// timer runs.
    pub fn next_deadline(&self) -> Option<u64> {
        self.ctx.timers().next_deadline()
    }

    /// Move the clock to `now` and fire every timer due by then, each at
    /// most once per call (a periodic timer that missed periods fires once
    /// and re-arms after `now`), in deadline order, ties in declaration
    /// order. Returns how many fired. For a host driving a real clock.
    pub fn fire_due(&mut self, now: u64) -> usize {
        self.set_now(now);
        let mut fired = 0;
        while let Some(id) = self.ctx.timers_mut().pop_due() {
            self.fire(id);
            fired += 1;
        }
        fired
    }

    /// Let `ns` of virtual time pass: every deadline reached fires at its
    /// own time (the clock stands at the deadline while the fire block
    /// runs, so a periodic timer fires once per period), then the clock
    /// stands at `now + ns`. Returns how many timers fired.
    ///
    /// At most [`MAX_ADVANCE_FIRINGS`] fire one by one; past that (a 100 µs
    /// timer re-armed for days of virtual time) the clock jumps to the end
    /// and each timer still due fires once, as [`Self::fire_due`] does, so
    /// one call never does unbounded work.
    pub fn advance(&mut self, ns: u64) -> usize {
        let target = self.now().saturating_add(ns);
        let mut fired = 0;
        while fired < MAX_ADVANCE_FIRINGS {
            let Some((_, due)) = self.ctx.timers().earliest_due(target) else {
                break;
            };
            self.set_now(due);
            if let Some(id) = self.ctx.timers_mut().pop_due() {
                self.fire(id);
                fired += 1;
            }
        }
        fired + self.fire_due(target)
    }

    fn fire(&mut self, id: usize) {
        let now = self.now();
        let name = self.ctx.timer_name(id);
        self.ctx.trace_with(|| TraceEvent::TimerFired {
            timer: id as u32,
            name: name.to_owned(),
            now,
        });
        self.regs.timer_expired(&mut self.ctx, id);
        self.refresh_interrupt();
    }

    /// Is timer `id` running (`T.running`)?
    pub fn timer_running(&self, id: usize) -> bool {
        self.ctx.timer_running(id)
    }

    // ------------------------------------------------------------- streams

    /// The stream's name, by id.
    pub fn stream_name(&self, stream: usize) -> &'static str {
        self.ctx.stream_name(stream)
    }

    /// May the host deliver a byte on `stream` now (its `ready`)?
    pub fn stream_ready(&self, stream: usize) -> bool {
        stream < self.ctx.stream_count() && self.regs.stream_ready(&self.ctx, stream)
    }

    /// Deliver one byte on `stream` if it is ready: runs its `on input`,
    /// then recomputes the interrupt line. False (nothing happened) when
    /// the stream is not ready; the host keeps the byte for later.
    pub fn stream_input(&mut self, stream: usize, byte: u8) -> bool {
        if !self.stream_ready(stream) {
            return false;
        }
        self.ctx.trace_with(|| TraceEvent::StreamIn {
            stream: stream as u32,
            byte,
        });
        self.regs.stream_input(&mut self.ctx, stream, byte);
        self.refresh_interrupt();
        true
    }

    /// The spec's streams by name; a stream's id is its index.
    pub fn streams(&self) -> &'static [&'static str] {
        self.ctx.stream_names()
    }

    /// The spec's timers by name; a timer's id is its index.
    pub fn timers(&self) -> &'static [&'static str] {
        self.ctx.timer_names()
    }

    /// The bytes the device sent on `stream` since the last call.
    pub fn take_output(&mut self, stream: usize) -> Vec<u8> {
        self.ctx.take_output(stream)
    }

    // ------------------------------------------------------------- VMM

    /// The VMM requests made since the last call, oldest first.
    pub fn take_vmm_requests(&mut self) -> Vec<VmmRequest> {
        self.ctx.take_vmm_requests()
    }

    /// A piece of device state (host-only scenario expectations): timers
    /// from the runtime, the rest from the model.
    pub fn probe(&self, probe: Probe) -> Option<u64> {
        let count = self.ctx.timer_names().len();
        let timer = |id: u32| usize::try_from(id).ok().filter(|&i| i < count);
        match probe {
            Probe::TimerRunning(id) => timer(id).map(|i| u64::from(self.ctx.timer_running(i))),
            Probe::TimerRemaining(id) => timer(id).map(|i| self.ctx.timer_remaining(i)),
            _ => self.regs.probe(probe),
        }
    }

    // ------------------------------------------------------------- windows

    /// The spec's windows (buffer states shown in BARs), by id.
    pub fn windows(&self) -> &'static [WindowInfo] {
        self.regs.windows()
    }

    /// Back window `window`'s buffer with a shared mapping of `file` (a
    /// memfd) at byte `offset`, keeping its contents (see
    /// [`Bytes::share`](crate::window::Bytes::share)).
    /// Returns a second handle to the file that backs the buffer and the
    /// buffer's offset in it, for the VMM: `file` and `offset`, or what an
    /// earlier call installed when the buffer is shared already (another
    /// window may show the same buffer). Errors when there is no such
    /// window or the file cannot be sized or mapped.
    pub fn share_window(
        &mut self,
        window: usize,
        file: std::fs::File,
        offset: u64,
    ) -> std::io::Result<(std::fs::File, u64)> {
        let len = self.windows().get(window).map(|w| w.len);
        let buf = self
            .regs
            .window(window)
            .filter(|b| Some(b.len() as u64) == len)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "no such window"))?;
        if buf.shared_file().is_none() {
            buf.share(file, offset)?;
        }
        match buf.shared_file() {
            Some((f, at)) => Ok((f.try_clone()?, at)),
            None => Err(std::io::Error::other("window not shared")),
        }
    }

    // ------------------------------------------------------------- snapshots

    fn snapshot_target(&self) -> Result<Target<'static>, SnapshotError> {
        let info = self.info();
        let layout = self
            .regs
            .snapshot_layout()
            .ok_or(SnapshotError::Unsupported { device: info.name })?;
        Ok(Target {
            info,
            layout,
            timers: self.ctx.timer_names(),
            streams: self.ctx.stream_names(),
            windows: self.regs.windows(),
        })
    }

    /// The model's whole state as a snapshot document (see
    /// [`crate::snapshot`]; the README documents the format). Errors only
    /// when the model does not declare its state.
    pub fn save_snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        let target = self.snapshot_target()?;
        let (states, storage) = self.regs.save_state();
        Ok(crate::snapshot::encode(
            &target,
            self.ctx.save(),
            states,
            storage,
        ))
    }

    /// Replace the model's state by the snapshot `bytes` (taken from a
    /// model of the same device and layout). The snapshot is decoded and
    /// checked completely first: on error nothing changed. The interrupt
    /// sink, guest memory and trace stay as installed; the sink hears the
    /// INTx line's new level if it differs. The clock is set to the saved
    /// clock (even backwards), each timer due its saved time left after it.
    pub fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        let target = self.snapshot_target()?;
        let doc = crate::snapshot::decode(&target, bytes)?;
        self.regs.restore_state(&doc.states, &doc.storage);
        self.ctx.restore(&doc.runtime);
        Ok(())
    }
}
