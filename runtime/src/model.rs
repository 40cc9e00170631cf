//! [`Model`]: a generated [`Registers`] impl plus the generic PCI behaviour
//! (config space, BAR decoding and access policy, INTx), served to hosts via
//! vm-device's `MutDevicePio`/`MutDeviceMmio` or the object-safe [`PciModel`].

use std::sync::Arc;

use vm_device::bus::{MmioAddress, MmioAddressOffset, PioAddress, PioAddressOffset};
use vm_device::{MutDeviceMmio, MutDevicePio};

use crate::GuestMem;
use crate::config::ConfigSpace;
use crate::ctx::{DeviceCtx, InterruptSink};
use crate::info::{BarInfo, DeviceInfo, InvalidAccess, RegisterLayout};
use crate::snapshot::{SnapshotError, StateLayout, StateValue, Target};
use crate::trace::{AccessOutcome, InvalidReason, TraceEvent, TraceSink, le_value};
use crate::window::{Bytes, WindowInfo};
use pcidev_core::VmmRequest;
use pcidev_core::scenario::Probe;

/// The device-specific part of a model, implemented by generated code.
pub trait Registers: Send + 'static {
    /// The static description of the device. Generated models return a
    /// `const`; the interpreter (`pcidev-interp`) one description built per
    /// loaded spec. It must not change over the model's life.
    fn info(&self) -> &'static DeviceInfo;

    /// Full-register read with its side effects. `bar` is the BAR index
    /// (0..=5), `reg` the index into that BAR's `registers`. Only the low
    /// `width` bytes of the result are used.
    fn read_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize) -> u64;

    /// Write with byte enables: bit `i` of `lanes` set means byte `i` of the
    /// register is written; `value` is positioned in the register (bytes not
    /// enabled are 0).
    fn write_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize, value: u64, lanes: u8);

    /// Serve a BAR read that is exactly one whole register, the common
    /// access: `len` bytes at `offset` of BAR `bar`, where a register of
    /// `len` bytes starts, valid under the BAR's and the register's access
    /// sizes and alignment, outside every window and MSI-X structure.
    /// Returns the register's value (its read, with side effects), or
    /// `None` without doing anything for any other access, which the
    /// runtime then checks against the policy and splits over
    /// [`Self::read_register`]. `Some` must be exactly what that generic
    /// path would do. The runtime calls it only while the BAR decodes, with
    /// `access.size`/`access.mask` set for a whole-register access.
    /// Generated models decode `offset` with a `match` on the register
    /// offsets; the default serves nothing.
    fn read_whole(&mut self, ctx: &mut DeviceCtx, bar: u8, offset: u64, len: usize) -> Option<u64> {
        let _ = (ctx, bar, offset, len);
        None
    }

    /// As [`Self::read_whole`], for a write of `value` (the `len` bytes,
    /// little-endian): true when served (as [`Self::write_register`] with
    /// every byte lane), false without doing anything otherwise.
    fn write_whole(
        &mut self,
        ctx: &mut DeviceCtx,
        bar: u8,
        offset: u64,
        len: usize,
        value: u64,
    ) -> bool {
        let _ = (ctx, bar, offset, len, value);
        false
    }

    /// Full-register read of configuration register `reg` (an index into
    /// [`DeviceInfo::config_registers`]), with its side effects; as
    /// [`Self::read_register`]. The default (no configuration registers)
    /// reads 0.
    fn read_config_register(&mut self, ctx: &mut DeviceCtx, reg: usize) -> u64 {
        let _ = (ctx, reg);
        0
    }

    /// Write to configuration register `reg`, with byte enables; as
    /// [`Self::write_register`]. The default (no configuration registers)
    /// ignores it.
    fn write_config_register(&mut self, ctx: &mut DeviceCtx, reg: usize, value: u64, lanes: u8) {
        let _ = (ctx, reg, value, lanes);
    }

    /// The device's interrupt level, recomputed by the runtime after every
    /// BAR access and config write (a derived expression, or
    /// `ctx.latched_irq()` for specs that raise and lower explicitly).
    fn interrupt_level(&self, ctx: &DeviceCtx) -> bool;

    /// Back to reset values (`sticky` state keeps its value).
    fn reset(&mut self);

    /// The spec's timers by name, in declaration order (their ids).
    /// Generated models return a literal; the interpreter the names of the
    /// loaded spec. Like [`Self::info`], it must not change over the
    /// model's life: [`Model::new`] sizes the timer table from it once.
    fn timers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The spec's byte streams by name, in declaration order (their ids).
    /// Read once by [`Model::new`], as [`Self::timers`].
    fn streams(&self) -> &'static [&'static str] {
        &[]
    }

    /// Timer `timer` fired: run its fire block. The runtime has already
    /// disarmed it (one-shot) or re-armed it (periodic).
    fn timer_expired(&mut self, ctx: &mut DeviceCtx, timer: usize) {
        let _ = (ctx, timer);
    }

    /// May the outside world deliver a byte on `stream` now (the stream's
    /// `ready` expression; default: always)?
    fn stream_ready(&self, ctx: &DeviceCtx, stream: usize) -> bool {
        let _ = (ctx, stream);
        true
    }

    /// One byte arrived on `stream`: run its `on input` block. Called only
    /// when [`Self::stream_ready`] holds.
    fn stream_input(&mut self, ctx: &mut DeviceCtx, stream: usize, byte: u8) {
        let _ = (ctx, stream, byte);
    }

    /// The spec's windows (buffer states shown in BARs); a window's id is
    /// its index. The runtime serves every access inside one by copying
    /// bytes of [`Self::window`].
    fn windows(&self) -> &'static [WindowInfo] {
        &[]
    }

    /// The buffer behind window `window`, exactly `windows()[window].len`
    /// bytes long (a buffer of another length is ignored by the runtime).
    fn window(&mut self, window: usize) -> Option<&mut Bytes> {
        let _ = window;
        None
    }

    /// A piece of device state for host-only scenario expectations
    /// (`expect rx.len == 0;`): states and FIFOs. `None` when the model has
    /// no such state. Timer probes are answered by the runtime.
    fn probe(&self, probe: Probe) -> Option<u64> {
        let _ = probe;
        None
    }

    /// The device state a snapshot saves (see [`crate::snapshot`]);
    /// `None` (the default): the model cannot be snapshotted. Generated
    /// models and the interpreter declare every state and stored
    /// register. Like [`Self::info`], it must not change over the model's
    /// life.
    fn snapshot_layout(&self) -> Option<&'static StateLayout> {
        None
    }

    /// The values of [`Self::snapshot_layout`]'s states and storage, in
    /// its order.
    fn save_state(&self) -> (Vec<StateValue>, Vec<StateValue>) {
        (Vec::new(), Vec::new())
    }

    /// Take the values [`Self::save_state`] gave, already checked against
    /// [`Self::snapshot_layout`] (one per declaration, each of its type and
    /// within its bounds). Must not panic whatever it is given.
    fn restore_state(&mut self, states: &[StateValue], storage: &[StateValue]) {
        let _ = (states, storage);
    }
}

/// A BAR access that failed under an [`InvalidAccess::Error`] policy (or hit
/// a BAR the device does not have).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct AccessError {
    /// BAR index as requested.
    pub bar: u8,
    /// Offset inside the BAR.
    pub offset: u64,
    /// Access length in bytes.
    pub len: usize,
    /// What made the access invalid.
    pub reason: InvalidReason,
}

impl std::fmt::Display for AccessError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self.reason {
            InvalidReason::UnknownBar => "no such BAR",
            InvalidReason::Size => "access size not allowed",
            InvalidReason::Misaligned => "misaligned access",
            InvalidReason::OutOfRange => "access beyond the end of the BAR",
        };
        write!(
            f,
            "invalid {}-byte access to BAR{} at offset {:#x}: {why}",
            self.len, self.bar, self.offset
        )
    }
}

impl std::error::Error for AccessError {}

/// The most timer firings [`Model::advance`] runs one by one in a call.
pub const MAX_ADVANCE_FIRINGS: usize = 1 << 20;

/// The BAR index traced when a PIO/MMIO base address matches no BAR.
pub const NO_BAR: u8 = u8::MAX;

/// A complete PCI device: generated registers plus runtime behaviour.
#[derive(Debug)]
pub struct Model<R: Registers> {
    /// The generated register state (public so hosts and tests can inspect it).
    pub regs: R,
    ctx: DeviceCtx,
}

impl<R: Registers> Model<R> {
    /// A model around `regs` (expected to be in its reset state), with a
    /// reset config space, no interrupt sink, no guest memory and no trace.
    pub fn new(regs: R) -> Self {
        let info = regs.info();
        let mut ctx = DeviceCtx::new(info);
        ctx.declare(regs.timers(), regs.streams());
        let mut model = Model { regs, ctx };
        model.refresh_interrupt();
        model
    }

    /// The static description of the device.
    pub fn info(&self) -> &'static DeviceInfo {
        self.regs.info()
    }

    /// Where INTx edges and MSI messages go. If the line is asserted now,
    /// the new sink is told at once.
    pub fn set_interrupt_sink(&mut self, sink: Box<dyn InterruptSink>) {
        self.ctx.set_sink(sink);
    }

    /// The guest memory DMA uses (`None`: every DMA ends `NoGuestMemory`).
    /// The type is vm-memory 0.18's `GuestMemoryMmap<()>`
    /// (= `GuestRegionCollection<GuestRegionMmap<()>>`, no dirty bitmap); a
    /// host whose memory map changes installs a new one.
    pub fn set_guest_memory(&mut self, mem: Option<Arc<GuestMem>>) {
        self.ctx.set_memory(mem);
    }

    /// Where trace events go (`None`: no tracing).
    pub fn set_trace(&mut self, sink: Option<Box<dyn TraceSink>>) {
        self.ctx.set_trace(sink);
    }

    /// Declare that the VMM emulates the MSI-X table, masking and pending
    /// bits itself and only needs to know which vector fired: QEMU's
    /// `vfio-user-pci` overlays its own table (`hw/vfio/pci.c` +
    /// `hw/pci/msix.c`) and never forwards table writes, so the model's
    /// table stays in its reset state (every vector masked). With this set,
    /// every vector sent while the guest has MSI-X enabled is delivered to
    /// the sink; the model's table and PBA still answer BAR accesses.
    pub fn set_msix_masking_by_vmm(&mut self, on: bool) {
        self.ctx.set_msix_masking_by_vmm(on);
    }

    /// Read configuration space. Any offset and length is accepted; bytes
    /// beyond the 256-byte space read 0xff. The configuration registers the
    /// access reaches are each read once, in offset order.
    pub fn config_read(&mut self, offset: u64, data: &mut [u8]) {
        self.ctx.config.read(offset, data);
        let regs = self.info().config_registers;
        for (reg, lo, hi) in self.ctx.config.register_overlaps(offset, data.len()) {
            let Some(base) = regs.get(reg).map(|r| r.offset) else {
                continue;
            };
            self.ctx
                .set_access(data.len() as u64, access_mask(lo - base, hi - base));
            let value = self.regs.read_config_register(&mut self.ctx, reg);
            self.ctx.set_access(0, 0);
            for b in lo..hi {
                // b - base < 4: placement keeps registers inside 4 bytes;
                // b - offset < data.len(): the overlap lies inside the access.
                data[(b - offset) as usize] = (value >> ((b - base) * 8)) as u8;
            }
        }
        self.ctx.trace_with(|| TraceEvent::ConfigRead {
            offset,
            size: data.len(),
            value: le_value(data),
        });
    }

    /// Write configuration space (read-only bits and out-of-range bytes are
    /// ignored; the configuration registers the access reaches are each
    /// written once, in offset order), then recompute the interrupt line.
    pub fn config_write(&mut self, offset: u64, data: &[u8]) {
        self.ctx.config.write(offset, data);
        let regs = self.info().config_registers;
        for (reg, lo, hi) in self.ctx.config.register_overlaps(offset, data.len()) {
            let Some(base) = regs.get(reg).map(|r| r.offset) else {
                continue;
            };
            let (value, lanes) = gather_lanes(data, offset, base, lo, hi);
            self.ctx
                .set_access(data.len() as u64, access_mask(lo - base, hi - base));
            self.regs
                .write_config_register(&mut self.ctx, reg, value, lanes);
            self.ctx.set_access(0, 0);
        }
        self.ctx.trace_with(|| TraceEvent::ConfigWrite {
            offset,
            size: data.len(),
            value: le_value(data),
        });
        // Pending MSI-X vectors that the write unmasked (function mask
        // cleared, MSI-X enabled) are delivered now, as msix.c does.
        let unmasked = std::mem::take(&mut self.ctx.config.msix_unmasked);
        self.ctx.deliver_unmasked(unmasked);
        self.refresh_interrupt();
    }

    /// Read `data.len()` bytes at `offset` of BAR `bar`. See the crate docs
    /// for validity, decode gating and register splitting. Never panics;
    /// `data` is always filled.
    #[inline]
    pub fn bar_read(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> Result<(), AccessError> {
        if self.read_whole(bar, offset, data) {
            return Ok(());
        }
        self.bar_read_split(bar, offset, data)
    }

    /// [`Self::bar_read`]'s fast path: one whole register, decoded by the
    /// model ([`Registers::read_whole`]). False, having done nothing, for
    /// any other access.
    #[inline]
    fn read_whole(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> bool {
        let len = data.len();
        if !(1..=8).contains(&len) || !self.ctx.config.bar_decodes(bar) {
            return false;
        }
        self.ctx.set_access(len as u64, access_mask(0, len as u64));
        let value = self.regs.read_whole(&mut self.ctx, bar, offset, len);
        self.ctx.set_access(0, 0);
        let Some(value) = value else {
            return false;
        };
        data.copy_from_slice(&value.to_le_bytes()[..len]);
        self.ctx.trace_with(|| TraceEvent::BarRead {
            bar,
            offset,
            size: len,
            value: le_value(data),
            outcome: AccessOutcome::Done,
        });
        self.settle_interrupt();
        true
    }

    /// [`Self::bar_read`] for any access: the access policy, MSI-X, the
    /// access split over the registers and windows it overlaps. Kept out
    /// of line so that the fast path stays small where it is inlined.
    #[inline(never)]
    fn bar_read_split(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> Result<(), AccessError> {
        let msix = if self.msix_decodes(bar, offset, data.len()) {
            self.ctx.msix_read(bar, offset, data)
        } else {
            None
        };
        let checked = match msix {
            Some(valid) => Err(msix_outcome(valid, offset, data.len())),
            None => self.check_bar_access(bar, offset, data.len()),
        };
        let outcome = match checked {
            Ok(info) => {
                self.dispatch_read(info.0, info.1, offset, data);
                AccessOutcome::Done
            }
            // An MSI-X table/PBA access was served (or filled) already.
            Err(outcome) if msix.is_some() => outcome,
            Err(outcome) => {
                let fill = match outcome {
                    AccessOutcome::Invalid {
                        action: InvalidAccess::Ignore,
                        ..
                    } => 0,
                    _ => 0xff,
                };
                data.fill(fill);
                outcome
            }
        };
        self.ctx.trace_with(|| TraceEvent::BarRead {
            bar,
            offset,
            size: data.len(),
            value: le_value(data),
            outcome,
        });
        self.refresh_interrupt();
        result(bar, offset, data.len(), outcome)
    }

    /// Write `data` at `offset` of BAR `bar`. See [`Self::bar_read`].
    #[inline]
    pub fn bar_write(&mut self, bar: u8, offset: u64, data: &[u8]) -> Result<(), AccessError> {
        if self.write_whole(bar, offset, data) {
            return Ok(());
        }
        self.bar_write_split(bar, offset, data)
    }

    /// [`Self::bar_write`]'s fast path, as [`Self::read_whole`].
    #[inline]
    fn write_whole(&mut self, bar: u8, offset: u64, data: &[u8]) -> bool {
        let len = data.len();
        if !(1..=8).contains(&len) || !self.ctx.config.bar_decodes(bar) {
            return false;
        }
        let mut bytes = [0; 8];
        bytes[..len].copy_from_slice(data);
        let value = u64::from_le_bytes(bytes);
        self.ctx.set_access(len as u64, access_mask(0, len as u64));
        let served = self
            .regs
            .write_whole(&mut self.ctx, bar, offset, len, value);
        self.ctx.set_access(0, 0);
        if !served {
            return false;
        }
        self.ctx.trace_with(|| TraceEvent::BarWrite {
            bar,
            offset,
            size: len,
            value: le_value(data),
            outcome: AccessOutcome::Done,
        });
        self.settle_interrupt();
        true
    }

    /// [`Self::bar_write`] for any access, as [`Self::bar_read_split`].
    #[inline(never)]
    fn bar_write_split(&mut self, bar: u8, offset: u64, data: &[u8]) -> Result<(), AccessError> {
        let msix = if self.msix_decodes(bar, offset, data.len()) {
            self.ctx.msix_write(bar, offset, data)
        } else {
            None
        };
        let checked = match msix {
            Some(valid) => Err(msix_outcome(valid, offset, data.len())),
            None => self.check_bar_access(bar, offset, data.len()),
        };
        let outcome = match checked {
            Ok(info) => {
                self.dispatch_write(info.0, info.1, offset, data);
                AccessOutcome::Done
            }
            Err(outcome) => outcome,
        };
        self.ctx.trace_with(|| TraceEvent::BarWrite {
            bar,
            offset,
            size: data.len(),
            value: le_value(data),
            outcome,
        });
        self.refresh_interrupt();
        result(bar, offset, data.len(), outcome)
    }

    /// Reset the registers (sticky state survives), the writable config
    /// space (COMMAND, BAR addresses, interrupt line, MSI) and the latched
    /// interrupt level, stop every timer, then recompute the line (which
    /// deasserts it for any sane reset state). Queued output and VMM
    /// requests stay queued.
    pub fn reset(&mut self) {
        self.regs.reset();
        self.ctx.reset();
        self.ctx.trace_with(|| TraceEvent::Reset);
        self.refresh_interrupt();
    }

    /// Recompute the interrupt level and line now. The runtime does this
    /// after every BAR access and config write; call it after changing
    /// device state from outside an access (e.g. a host timer).
    pub fn refresh_interrupt(&mut self) {
        let level = self.regs.interrupt_level(&self.ctx);
        self.ctx.update_intx(level);
    }

    /// [`Self::refresh_interrupt`] after a whole-register access: the line,
    /// STATUS.interrupt and MSI follow the level only when it changed.
    /// Equivalent, since what else they depend on (COMMAND, the MSI and
    /// MSI-X enables) changes only in a config write or a reset, each of
    /// which refreshes in full.
    #[inline]
    fn settle_interrupt(&mut self) {
        let level = self.regs.interrupt_level(&self.ctx);
        if level != self.ctx.level() {
            self.ctx.update_intx(level);
        }
    }

    /// The INTx line as the host sees it now.
    pub fn interrupt_asserted(&self) -> bool {
        self.ctx.intx_asserted()
    }

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
    /// memfd) at byte `offset`, keeping its contents (see [`Bytes::share`]).
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

    /// The device context (config space, latched level, ...).
    pub fn ctx(&self) -> &DeviceCtx {
        &self.ctx
    }

    /// The device context, mutably (to trigger DMA/MSI from host code).
    pub fn ctx_mut(&mut self) -> &mut DeviceCtx {
        &mut self.ctx
    }

    /// The configuration space.
    pub fn config(&self) -> &ConfigSpace {
        &self.ctx.config
    }

    /// The BAR of the given kind (I/O or memory) that serves a bus range at
    /// `base`: the one whose programmed address equals `base`, else the only
    /// BAR of that kind, else [`NO_BAR`].
    pub fn bar_for_base(&self, io: bool, base: u64) -> u8 {
        let config = &self.ctx.config;
        let mut candidates =
            (0..6u8).filter(|&i| config.bar_info(i).is_some_and(|b| b.kind.is_io() == io));
        let mut only = None;
        let mut count = 0;
        for i in candidates.by_ref() {
            if config.bar_address(i) == Some(base) {
                return i;
            }
            only = Some(i);
            count += 1;
        }
        match (count, only) {
            (1, Some(i)) => i,
            _ => NO_BAR,
        }
    }

    /// Whether an access to `bar` may reach the MSI-X structures: a memory
    /// BAR that decodes, and the access lies inside it.
    fn msix_decodes(&self, bar: u8, offset: u64, len: usize) -> bool {
        let config = &self.ctx.config;
        config.msix().is_some()
            && config.mem_enabled()
            && config.bar_info(bar).is_some_and(|b| {
                !b.kind.is_io() && offset.checked_add(len as u64).is_some_and(|e| e <= b.size)
            })
    }

    /// The BAR to use for an access and the registers it overlaps, or how
    /// the access ends without reaching any register.
    fn check_bar_access(
        &self,
        bar: u8,
        offset: u64,
        len: usize,
    ) -> Result<(&'static BarInfo, Overlaps), AccessOutcome> {
        let config = &self.ctx.config;
        let Some(info) = config.bar_info(bar) else {
            return Err(AccessOutcome::Invalid {
                reason: InvalidReason::UnknownBar,
                action: InvalidAccess::Error,
            });
        };
        let decoding = if info.kind.is_io() {
            config.io_enabled()
        } else {
            config.mem_enabled()
        };
        if !decoding {
            return Err(AccessOutcome::DecodeDisabled);
        }
        let policy = info.policy;
        let invalid = |reason| {
            Err(AccessOutcome::Invalid {
                reason,
                action: policy.invalid,
            })
        };
        if !policy.sizes.contains(len) {
            return invalid(InvalidReason::Size);
        }
        let Some(end) = offset
            .checked_add(len as u64)
            .filter(|end| *end <= info.size)
        else {
            return invalid(InvalidReason::OutOfRange);
        };
        if policy.aligned && !offset.is_multiple_of(len as u64) {
            return invalid(InvalidReason::Misaligned);
        }
        let overlaps = Overlaps::find(info, offset, end);
        // Registers may narrow the BAR's sizes (e.g. edu: 4 bytes below 0x80,
        // 4 or 8 above).
        let narrowed = overlaps.iter(info).any(|(i, _, _, _)| {
            let sizes = info.registers[i].sizes;
            sizes.0 != 0 && !sizes.contains(len)
        });
        if narrowed {
            return invalid(InvalidReason::Size);
        }
        Ok((info, overlaps))
    }

    fn dispatch_read(
        &mut self,
        info: &'static BarInfo,
        overlaps: Overlaps,
        offset: u64,
        data: &mut [u8],
    ) {
        // Bytes no register covers read as the policy says.
        data.fill(info.policy.unmapped.fill());
        for (reg, element, lo, hi) in overlaps.iter(info) {
            let base = element_base(&info.registers[reg], element);
            self.ctx
                .set_access(data.len() as u64, access_mask(lo - base, hi - base));
            self.ctx.set_array_index(element);
            let value = self.regs.read_register(&mut self.ctx, info.index, reg);
            self.ctx.set_access(0, 0);
            self.ctx.set_array_index(0);
            for b in lo..hi {
                // b - base < 8: the overlap lies inside the (clamped) register.
                data[(b - offset) as usize] = (value >> ((b - base) * 8)) as u8;
            }
        }
        self.windows_io(info.index, offset, WindowIo::Read(data));
    }

    /// For each window of BAR `bar` that the access at `offset` overlaps,
    /// copy the overlapping bytes between the buffer and the access (a
    /// write only into writable windows). Windows whose buffer is missing
    /// or of the wrong length are skipped.
    fn windows_io(&mut self, bar: u8, offset: u64, mut io: WindowIo<'_>) {
        let len = match &io {
            WindowIo::Read(d) => d.len(),
            WindowIo::Write(d) => d.len(),
        };
        let end = offset.saturating_add(len as u64);
        for (i, w) in self.regs.windows().iter().enumerate() {
            let (lo, hi) = (offset.max(w.offset), end.min(w.end()));
            if w.bar != bar || lo >= hi {
                continue;
            }
            if matches!(io, WindowIo::Write(_)) && !w.writable {
                continue;
            }
            let Some(buf) = self.regs.window(i).filter(|b| b.len() as u64 == w.len) else {
                continue;
            };
            // In range: lo..hi lies inside both the window and the access,
            // and the buffer is the window's length.
            let (from, to) = ((lo - w.offset) as usize, (hi - w.offset) as usize);
            let (a, b) = ((lo - offset) as usize, (hi - offset) as usize);
            match &mut io {
                WindowIo::Read(d) => d[a..b].copy_from_slice(&buf[from..to]),
                WindowIo::Write(d) => buf[from..to].copy_from_slice(&d[a..b]),
            }
        }
    }

    fn dispatch_write(
        &mut self,
        info: &'static BarInfo,
        overlaps: Overlaps,
        offset: u64,
        data: &[u8],
    ) {
        for (reg, element, lo, hi) in overlaps.iter(info) {
            let base = element_base(&info.registers[reg], element);
            let (value, lanes) = gather_lanes(data, offset, base, lo, hi);
            self.ctx
                .set_access(data.len() as u64, access_mask(lo - base, hi - base));
            self.ctx.set_array_index(element);
            self.regs
                .write_register(&mut self.ctx, info.index, reg, value, lanes);
            self.ctx.set_access(0, 0);
            self.ctx.set_array_index(0);
        }
        self.windows_io(info.index, offset, WindowIo::Write(data));
    }
}

/// The guest's side of a window access.
enum WindowIo<'a> {
    Read(&'a mut [u8]),
    Write(&'a [u8]),
}

/// The registers a valid access `[offset, end)` overlaps, each with the
/// element of an array entry it reaches (0 for a plain register) and the
/// overlapping byte range `[lo, hi)`. The binary search for the first one
/// runs once per access (O(log n) in layout entries, an array being one);
/// the element is computed, not searched; the policy check and the
/// dispatch both iterate.
#[derive(Debug, Clone, Copy)]
struct Overlaps {
    first: usize,
    offset: u64,
    end: u64,
}

impl Overlaps {
    /// The layout is sorted, so a binary search finds the first register.
    fn find(info: &'static BarInfo, offset: u64, end: u64) -> Self {
        let first = info.registers.partition_point(|r| r.end() <= offset);
        Overlaps { first, offset, end }
    }

    fn iter(self, info: &'static BarInfo) -> impl Iterator<Item = (usize, u64, u64, u64)> {
        let Overlaps { first, offset, end } = self;
        info.registers
            .iter()
            .enumerate()
            .skip(first)
            .take_while(move |(_, r)| r.offset < end)
            .flat_map(move |(i, r)| {
                let lo = offset.max(r.offset);
                let hi = end.min(r.end());
                // The elements `[lo, hi)` reaches: at most 8 (an access is
                // at most 8 bytes); none when the ranges do not meet.
                let w = r.clamped_width();
                let (from, to) = if lo < hi {
                    ((lo - r.offset) / w, (hi - 1 - r.offset) / w + 1)
                } else {
                    (0, 0)
                };
                (from..to).map(move |e| {
                    let base = element_base(r, e);
                    (i, e, lo.max(base), hi.min(base.saturating_add(w)))
                })
            })
    }
}

/// Offset of element `element` of a layout entry (the entry's own for a
/// plain register). In range: elements come from the entry's `end()`.
fn element_base(r: &RegisterLayout, element: u64) -> u64 {
    r.offset + element * r.clamped_width()
}

/// How an access to the MSI-X table or PBA ended: done, or invalid (a size
/// other than 4 or 8, or misaligned: reads all-ones, writes dropped).
fn msix_outcome(valid: bool, offset: u64, len: usize) -> AccessOutcome {
    if valid {
        AccessOutcome::Done
    } else {
        AccessOutcome::Invalid {
            reason: if matches!(len, 4 | 8) && !offset.is_multiple_of(len as u64) {
                InvalidReason::Misaligned
            } else {
                InvalidReason::Size
            },
            action: InvalidAccess::AllOnes,
        }
    }
}

/// The part of a write at `offset` (`data`) that covers bytes `lo..hi` of a
/// register at `base`: its value in register position and the byte lanes
/// written (bit `k`: byte `k` of the register).
fn gather_lanes(data: &[u8], offset: u64, base: u64, lo: u64, hi: u64) -> (u64, u8) {
    (lo..hi).fold((0, 0), |(value, lanes), b| {
        let lane = b - base;
        (
            value | u64::from(data[(b - offset) as usize]) << (lane * 8),
            lanes | 1 << lane,
        )
    })
}

/// `access.mask` for an access covering bytes `lo..hi` of a register
/// (`hi <= 8`).
fn access_mask(lo: u64, hi: u64) -> u64 {
    let bits = |n: u64| {
        if n >= 8 {
            u64::MAX
        } else {
            (1u64 << (n * 8)) - 1
        }
    };
    bits(hi) & !bits(lo)
}

fn result(bar: u8, offset: u64, len: usize, outcome: AccessOutcome) -> Result<(), AccessError> {
    match outcome {
        AccessOutcome::Invalid {
            reason,
            action: InvalidAccess::Error,
        } => Err(AccessError {
            bar,
            offset,
            len,
            reason,
        }),
        _ => Ok(()),
    }
}

/// I/O BAR accesses; `offset` is relative to the range base, and the BAR is
/// found with [`Model::bar_for_base`]. Errors are dropped (port I/O cannot
/// report them); reads are then all-ones.
impl<R: Registers> MutDevicePio for Model<R> {
    fn pio_read(&mut self, base: PioAddress, offset: PioAddressOffset, data: &mut [u8]) {
        let bar = self.bar_for_base(true, u64::from(base.0));
        let _ = self.bar_read(bar, u64::from(offset), data);
    }

    fn pio_write(&mut self, base: PioAddress, offset: PioAddressOffset, data: &[u8]) {
        let bar = self.bar_for_base(true, u64::from(base.0));
        let _ = self.bar_write(bar, u64::from(offset), data);
    }
}

/// Memory BAR accesses; as for [`MutDevicePio`].
impl<R: Registers> MutDeviceMmio for Model<R> {
    fn mmio_read(&mut self, base: MmioAddress, offset: MmioAddressOffset, data: &mut [u8]) {
        let bar = self.bar_for_base(false, base.0);
        let _ = self.bar_read(bar, offset, data);
    }

    fn mmio_write(&mut self, base: MmioAddress, offset: MmioAddressOffset, data: &[u8]) {
        let bar = self.bar_for_base(false, base.0);
        let _ = self.bar_write(bar, offset, data);
    }
}

/// Object-safe view of any [`Model`], for hosts that serve "any model"
/// (e.g. the vfio-user server). Each method forwards to the `Model` method of
/// the same name.
pub trait PciModel: Send {
    /// The static description of the device.
    fn info(&self) -> &'static DeviceInfo;
    /// See [`Model::config_read`].
    fn config_read(&mut self, offset: u64, data: &mut [u8]);
    /// See [`Model::config_write`].
    fn config_write(&mut self, offset: u64, data: &[u8]);
    /// See [`Model::bar_read`].
    fn bar_read(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> Result<(), AccessError>;
    /// See [`Model::bar_write`].
    fn bar_write(&mut self, bar: u8, offset: u64, data: &[u8]) -> Result<(), AccessError>;
    /// See [`Model::reset`].
    fn reset(&mut self);
    /// See [`Model::set_interrupt_sink`].
    fn set_interrupt_sink(&mut self, sink: Box<dyn InterruptSink>);
    /// See [`Model::set_msix_masking_by_vmm`].
    fn set_msix_masking_by_vmm(&mut self, on: bool);
    /// See [`Model::set_guest_memory`].
    fn set_guest_memory(&mut self, mem: Option<Arc<GuestMem>>);
    /// See [`Model::set_trace`].
    fn set_trace(&mut self, sink: Option<Box<dyn TraceSink>>);
    /// See [`Model::interrupt_asserted`].
    fn interrupt_asserted(&self) -> bool;
    /// See [`Model::refresh_interrupt`].
    fn refresh_interrupt(&mut self);
    /// See [`Model::set_now`].
    fn set_now(&mut self, now: u64);
    /// See [`Model::next_deadline`].
    fn next_deadline(&self) -> Option<u64>;
    /// See [`Model::fire_due`].
    fn fire_due(&mut self, now: u64) -> usize;
    /// See [`Model::stream_ready`].
    fn stream_ready(&self, stream: usize) -> bool;
    /// See [`Model::stream_input`].
    fn stream_input(&mut self, stream: usize, byte: u8) -> bool;
    /// See [`Model::streams`].
    fn streams(&self) -> &'static [&'static str];
    /// See [`Model::take_output`].
    fn take_output(&mut self, stream: usize) -> Vec<u8>;
    /// See [`Model::take_vmm_requests`].
    fn take_vmm_requests(&mut self) -> Vec<VmmRequest>;
    /// See [`Model::windows`].
    fn windows(&self) -> &'static [WindowInfo] {
        &[]
    }
    /// See [`Model::save_snapshot`].
    fn save_snapshot(&self) -> Result<Vec<u8>, SnapshotError>;
    /// See [`Model::restore_snapshot`].
    fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<(), SnapshotError>;
    /// See [`Model::now`].
    fn now(&self) -> u64;
    /// See [`Model::share_window`].
    fn share_window(
        &mut self,
        window: usize,
        file: std::fs::File,
        offset: u64,
    ) -> std::io::Result<(std::fs::File, u64)> {
        let _ = (window, file, offset);
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "no windows",
        ))
    }
}

impl<R: Registers> PciModel for Model<R> {
    fn info(&self) -> &'static DeviceInfo {
        self.regs.info()
    }
    fn config_read(&mut self, offset: u64, data: &mut [u8]) {
        Model::config_read(self, offset, data)
    }
    fn config_write(&mut self, offset: u64, data: &[u8]) {
        Model::config_write(self, offset, data)
    }
    fn bar_read(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> Result<(), AccessError> {
        Model::bar_read(self, bar, offset, data)
    }
    fn bar_write(&mut self, bar: u8, offset: u64, data: &[u8]) -> Result<(), AccessError> {
        Model::bar_write(self, bar, offset, data)
    }
    fn reset(&mut self) {
        Model::reset(self)
    }
    fn set_interrupt_sink(&mut self, sink: Box<dyn InterruptSink>) {
        Model::set_interrupt_sink(self, sink)
    }
    fn set_msix_masking_by_vmm(&mut self, on: bool) {
        Model::set_msix_masking_by_vmm(self, on)
    }
    fn set_guest_memory(&mut self, mem: Option<Arc<GuestMem>>) {
        Model::set_guest_memory(self, mem)
    }
    fn set_trace(&mut self, sink: Option<Box<dyn TraceSink>>) {
        Model::set_trace(self, sink)
    }
    fn interrupt_asserted(&self) -> bool {
        Model::interrupt_asserted(self)
    }
    fn refresh_interrupt(&mut self) {
        Model::refresh_interrupt(self)
    }
    fn set_now(&mut self, now: u64) {
        Model::set_now(self, now)
    }
    fn next_deadline(&self) -> Option<u64> {
        Model::next_deadline(self)
    }
    fn fire_due(&mut self, now: u64) -> usize {
        Model::fire_due(self, now)
    }
    fn stream_ready(&self, stream: usize) -> bool {
        Model::stream_ready(self, stream)
    }
    fn stream_input(&mut self, stream: usize, byte: u8) -> bool {
        Model::stream_input(self, stream, byte)
    }
    fn streams(&self) -> &'static [&'static str] {
        Model::streams(self)
    }
    fn take_output(&mut self, stream: usize) -> Vec<u8> {
        Model::take_output(self, stream)
    }
    fn take_vmm_requests(&mut self) -> Vec<VmmRequest> {
        Model::take_vmm_requests(self)
    }
    fn windows(&self) -> &'static [WindowInfo] {
        Model::windows(self)
    }
    fn save_snapshot(&self) -> Result<Vec<u8>, SnapshotError> {
        Model::save_snapshot(self)
    }
    fn restore_snapshot(&mut self, bytes: &[u8]) -> Result<(), SnapshotError> {
        Model::restore_snapshot(self, bytes)
    }
    fn now(&self) -> u64 {
        Model::now(self)
    }
    fn share_window(
        &mut self,
        window: usize,
        file: std::fs::File,
        offset: u64,
    ) -> std::io::Result<(std::fs::File, u64)> {
        Model::share_window(self, window, file, offset)
    }
}
