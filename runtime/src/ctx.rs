//! [`DeviceCtx`]: what a model can do to the outside world (DMA, MSI, the
//! interrupt line, timers, byte streams, VMM requests, hooks, tracing), and
//! the [`InterruptSink`] a host provides.
//!
//! Generated `Registers` code only ever sees a `&mut DeviceCtx`; every effect
//! it has on the world goes through here, is gated as PCI requires (bus
//! master, MSI enable) and is traced.

use std::sync::Arc;

use vm_memory::{GuestAddress, GuestMemoryBackend};

use crate::GuestMem;
use crate::clock::{TimerState, Timers};
use crate::config::{ConfigSpace, ConfigState, MsiMessage};
use crate::info::DeviceInfo;
use crate::msix::MsixSend;
use crate::snapshot::{Hex, SnapshotError};
use crate::stream::Outputs;
use crate::trace::{DmaDirection, DmaOutcome, TraceEvent, TraceSink};

use pcidev_core::VmmRequest;
pub use pcidev_core::dma::MAX_DMA_LEN;

/// The most VMM requests queued before the host drains them; later ones
/// are dropped (and traced), so a guest hammering pvpanic cannot grow the
/// queue.
pub const MAX_VMM_PENDING: usize = 64;

/// Where a model's interrupts go. vm-device has no interrupt traits, so hosts
/// implement this (an irqfd, an eventfd for vfio-user, a test recorder).
pub trait InterruptSink: Send {
    /// The INTx line changed. Called only on edges.
    fn set_intx(&mut self, asserted: bool);
    /// Deliver one MSI message.
    /// `vector` is the spec's vector number (already within the vectors the
    /// guest enabled); `message` is what the guest programmed for it.
    fn msi(&mut self, vector: u8, message: MsiMessage);
    /// Deliver one MSI-X message: `vector` is the table entry (below the
    /// device's vector count, unmasked); `message` is what the guest
    /// programmed in that entry.
    fn msix(&mut self, vector: u16, message: MsiMessage);
}

/// The model's view of the world. Owned by [`Model`](crate::Model) and passed
/// to every `Registers` call.
pub struct DeviceCtx {
    pub(crate) config: ConfigSpace,
    sink: Option<Box<dyn InterruptSink>>,
    memory: Option<Arc<GuestMem>>,
    trace: Option<Box<dyn TraceSink>>,
    latched_irq: bool,
    /// The device's interrupt level at the last recompute (before masking),
    /// to send MSI on its rising edges.
    level: bool,
    /// The INTx line as last reported to the sink.
    line: bool,
    /// Where the level goes, as the last [`Self::update_intx`] found it
    /// (config writes, resets and restores change it, and each recomputes
    /// it): INTx may reach the line ([`Self::intx_allowed`]).
    route_intx: bool,
    /// ... and a rising edge sends vector 0 (MSI-X or MSI enabled).
    route_msi: bool,
    /// The clock and the spec's timers.
    timers: Timers,
    timer_names: &'static [&'static str],
    /// Output queues of the spec's streams.
    outputs: Outputs,
    stream_names: &'static [&'static str],
    /// VMM requests not yet taken by the host.
    vmm: Vec<VmmRequest>,
    /// The VMM emulates the MSI-X table and masking (kept across resets).
    msix_masking_by_vmm: bool,
    /// The guest access under way: (bytes, register bits it covers); (0, 0)
    /// outside register calls.
    access: (u64, u64),
    /// The array element the guest access under way reaches (0 outside).
    element: u64,
}

impl std::fmt::Debug for DeviceCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceCtx")
            .field("config", &self.config)
            .field("has_sink", &self.sink.is_some())
            .field("has_memory", &self.memory.is_some())
            .field("has_trace", &self.trace.is_some())
            .field("latched_irq", &self.latched_irq)
            .field("line", &self.line)
            .field("timers", &self.timers)
            .field("vmm", &self.vmm)
            .finish()
    }
}

impl DeviceCtx {
    /// A context with a reset configuration space for `info`, no interrupt
    /// sink, no guest memory and no trace.
    pub fn new(info: &'static DeviceInfo) -> Self {
        DeviceCtx {
            config: ConfigSpace::new(info),
            sink: None,
            memory: None,
            trace: None,
            latched_irq: false,
            level: false,
            line: false,
            route_intx: false,
            route_msi: false,
            timers: Timers::new(0),
            timer_names: &[],
            outputs: Outputs::new(0),
            stream_names: &[],
            vmm: Vec::new(),
            msix_masking_by_vmm: false,
            access: (0, 0),
            element: 0,
        }
    }

    // ------------------------------------------------------------- access

    /// `access.size`: bytes of the guest access running the current
    /// register read or write (1, 2, 4 or 8); 0 outside one (and in a
    /// whole-register access of a model whose
    /// [`Registers::ACCESS_CONTEXT`](crate::Registers::ACCESS_CONTEXT) is
    /// false: nothing there reads it).
    #[inline]
    pub fn access_size(&self) -> u64 {
        self.access.0
    }

    /// `access.mask`: the bits of the current register the guest access
    /// covers (a 1-byte access at offset 1 of a u16 register: `0xff00`);
    /// 0 outside one (as [`Self::access_size`]).
    #[inline]
    pub fn access_mask(&self) -> u64 {
        self.access.1
    }

    #[inline]
    pub(crate) fn set_access(&mut self, size: u64, mask: u64) {
        self.access = (size, mask);
    }

    /// `index`: the element of the register array the current register
    /// read or write reaches (see [`RegisterLayout::count`]); 0 outside an
    /// array or an access.
    ///
    /// [`RegisterLayout::count`]: crate::RegisterLayout::count
    pub fn array_index(&self) -> u64 {
        self.element
    }

    pub(crate) fn set_array_index(&mut self, element: u64) {
        self.element = element;
    }

    /// Give the context the spec's timers and streams (by name, in
    /// declaration order): all stopped, all queues empty.
    pub(crate) fn declare(
        &mut self,
        timers: &'static [&'static str],
        streams: &'static [&'static str],
    ) {
        self.timers = Timers::new(timers.len());
        self.timer_names = timers;
        self.outputs = Outputs::new(streams.len());
        self.stream_names = streams;
    }

    // ------------------------------------------------------------- time

    /// The model's clock, in ns (virtual in scenarios, see
    /// [`Model::advance`](crate::Model::advance)).
    #[inline]
    pub fn now(&self) -> u64 {
        self.timers.now()
    }

    /// Arm timer `id` to fire `ns` from now (clamped to the timer limits),
    /// once or every `ns`; a running timer is re-armed. `start T after/every`.
    pub fn start_timer(&mut self, id: usize, ns: u64, periodic: bool) {
        self.timers.start(id, ns, periodic);
    }

    /// Disarm timer `id` (`stop T;`).
    pub fn stop_timer(&mut self, id: usize) {
        self.timers.stop(id);
    }

    /// `T.running`.
    #[inline]
    pub fn timer_running(&self, id: usize) -> bool {
        self.timers.running(id)
    }

    /// `T.remaining`: ns until timer `id` fires, 0 when stopped.
    #[inline]
    pub fn timer_remaining(&self, id: usize) -> u64 {
        self.timers.remaining(id)
    }

    pub(crate) fn timers_mut(&mut self) -> &mut Timers {
        &mut self.timers
    }

    pub(crate) fn timers(&self) -> &Timers {
        &self.timers
    }

    pub(crate) fn timer_names(&self) -> &'static [&'static str] {
        self.timer_names
    }

    pub(crate) fn timer_name(&self, id: usize) -> &'static str {
        self.timer_names.get(id).copied().unwrap_or("?")
    }

    // ------------------------------------------------------------- streams

    /// `send S v;`: queue one byte on stream `stream`. Dropped (and traced
    /// as an overflow) when the queue is full.
    #[inline]
    pub fn send(&mut self, stream: usize, byte: u8) {
        let queued = self.outputs.push(stream, byte);
        self.trace_with(|| TraceEvent::StreamOut {
            stream: stream as u32,
            byte,
            queued,
        });
    }

    /// `S.space`: bytes stream `stream`'s output queue can still take.
    #[inline]
    pub fn stream_space(&self, stream: usize) -> u64 {
        self.outputs.space(stream) as u64
    }

    pub(crate) fn take_output(&mut self, stream: usize) -> Vec<u8> {
        self.outputs.take(stream)
    }

    pub(crate) fn stream_name(&self, id: usize) -> &'static str {
        self.stream_names.get(id).copied().unwrap_or("?")
    }

    pub(crate) fn stream_names(&self) -> &'static [&'static str] {
        self.stream_names
    }

    pub(crate) fn stream_count(&self) -> usize {
        self.stream_names.len()
    }

    // ------------------------------------------------------------- VMM

    /// `vmm R;`: ask the VMM for `request`. Queued for the host (at most
    /// [`MAX_VMM_PENDING`]; beyond that dropped) and traced either way.
    pub fn vmm_request(&mut self, request: VmmRequest) {
        let queued = self.vmm.len() < MAX_VMM_PENDING;
        if queued {
            self.vmm.push(request);
        }
        self.trace_with(|| TraceEvent::Vmm { request, queued });
    }

    pub(crate) fn take_vmm_requests(&mut self) -> Vec<VmmRequest> {
        std::mem::take(&mut self.vmm)
    }

    /// The configuration space (COMMAND, BAR addresses, MSI state, ...).
    pub fn config(&self) -> &ConfigSpace {
        &self.config
    }

    /// Whether a trace sink is installed (to skip building costly events).
    #[inline]
    pub fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Record an event if a trace sink is installed; `event` is only built
    /// when needed.
    #[inline]
    pub fn trace_with(&mut self, event: impl FnOnce() -> TraceEvent) {
        if let Some(trace) = self.trace.as_mut() {
            trace.record(&event());
        }
    }

    /// Write `data` to guest memory at `addr` (device → guest).
    ///
    /// Nothing is written unless bus mastering is enabled, guest memory is
    /// present and all of `[addr, addr + data.len())` lies in guest memory
    /// (it may span adjacent regions). An empty transfer is `Done` once the
    /// first two checks pass.
    pub fn dma_write(&mut self, addr: u64, data: &[u8]) -> DmaOutcome {
        let outcome = match self.dma_target(addr, data.len()) {
            Ok(Some(mem)) => match vm_memory::Bytes::write_slice(&*mem, data, GuestAddress(addr)) {
                Ok(()) => DmaOutcome::Done,
                // Unreachable after the range check, but never panic.
                Err(_) => DmaOutcome::OutOfRange,
            },
            Ok(None) => DmaOutcome::Done,
            Err(outcome) => outcome,
        };
        self.trace_dma(DmaDirection::ToGuest, addr, data.len(), outcome, Some(data));
        outcome
    }

    /// Read guest memory at `addr` into `data` (guest → device), with the
    /// same checks as [`Self::dma_write`]. On any outcome but `Done`, `data`
    /// is left unchanged.
    pub fn dma_read(&mut self, addr: u64, data: &mut [u8]) -> DmaOutcome {
        let len = data.len();
        let outcome = match self.dma_target(addr, len) {
            Ok(Some(mem)) => {
                // Read into a scratch buffer so a failure cannot leave `data`
                // half overwritten.
                let mut buf = vec![0; len];
                match vm_memory::Bytes::read_slice(&*mem, &mut buf, GuestAddress(addr)) {
                    Ok(()) => {
                        data.copy_from_slice(&buf);
                        DmaOutcome::Done
                    }
                    Err(_) => DmaOutcome::OutOfRange,
                }
            }
            Ok(None) => DmaOutcome::Done,
            Err(outcome) => outcome,
        };
        self.trace_dma(DmaDirection::FromGuest, addr, len, outcome, Some(data));
        outcome
    }

    /// DMA `len` bytes of `random_bytes(seed, len)` to `addr`. The length is
    /// checked before anything is allocated (it usually comes from a
    /// guest-written register).
    pub fn dma_write_random(&mut self, addr: u64, len: u64, seed: u32) -> DmaOutcome {
        self.dma_write_generated(addr, len, |buf| {
            crate::Xorshift32::new(seed).fill_bytes(buf)
        })
    }

    /// DMA `len` copies of `byte` to `addr`.
    pub fn dma_write_pattern(&mut self, addr: u64, len: u64, byte: u8) -> DmaOutcome {
        self.dma_write_generated(addr, len, |buf| buf.fill(byte))
    }

    /// DMA `len` bytes to `addr`: the 8 little-endian bytes of `word`,
    /// repeated.
    pub fn dma_write_word(&mut self, addr: u64, len: u64, word: u64) -> DmaOutcome {
        let bytes = word.to_le_bytes();
        self.dma_write_generated(addr, len, |buf| {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = bytes[i % 8];
            }
        })
    }

    /// Read up to 8 bytes at `addr` as a little-endian integer (`len` above 8
    /// reads 8). The value is 0 unless the outcome is `Done`.
    pub fn dma_read_le(&mut self, addr: u64, len: u64) -> (DmaOutcome, u64) {
        let mut bytes = [0u8; 8];
        let n = usize::try_from(len.min(8)).unwrap_or(8);
        let outcome = self.dma_read(addr, &mut bytes[..n]);
        let value = if outcome == DmaOutcome::Done {
            u64::from_le_bytes(bytes)
        } else {
            0
        };
        (outcome, value)
    }

    fn dma_write_generated(
        &mut self,
        addr: u64,
        len: u64,
        fill: impl FnOnce(&mut [u8]),
    ) -> DmaOutcome {
        match usize::try_from(len) {
            Ok(n) if n <= MAX_DMA_LEN => {
                let mut buf = vec![0u8; n];
                fill(&mut buf);
                self.dma_write(addr, &buf)
            }
            _ => {
                // Report exactly as dma_write would, without allocating.
                let outcome = if !self.config.bus_master_enabled() {
                    DmaOutcome::BusMasterDisabled
                } else {
                    DmaOutcome::TooLong
                };
                self.trace_dma(
                    DmaDirection::ToGuest,
                    addr,
                    usize::try_from(len).unwrap_or(usize::MAX),
                    outcome,
                    None,
                );
                outcome
            }
        }
    }

    /// The memory a DMA of `len` bytes at `addr` may use: `Ok(None)` for an
    /// empty transfer, `Err` with the outcome when it must not happen.
    fn dma_target(&self, addr: u64, len: usize) -> Result<Option<Arc<GuestMem>>, DmaOutcome> {
        if !self.config.bus_master_enabled() {
            return Err(DmaOutcome::BusMasterDisabled);
        }
        if len > MAX_DMA_LEN {
            return Err(DmaOutcome::TooLong);
        }
        let mem = self.memory.as_ref().ok_or(DmaOutcome::NoGuestMemory)?;
        if len == 0 {
            return Ok(None);
        }
        // The last byte must not wrap past the top of the address space.
        if addr.checked_add(len as u64 - 1).is_none() {
            return Err(DmaOutcome::OutOfRange);
        }
        if !GuestMemoryBackend::check_range(&**mem, GuestAddress(addr), len) {
            return Err(DmaOutcome::OutOfRange);
        }
        Ok(Some(Arc::clone(mem)))
    }

    fn trace_dma(
        &mut self,
        direction: DmaDirection,
        address: u64,
        len: usize,
        outcome: DmaOutcome,
        data: Option<&[u8]>,
    ) {
        self.trace_with(|| TraceEvent::Dma {
            direction,
            address,
            len,
            outcome,
            fnv1a: data
                .filter(|_| outcome == DmaOutcome::Done)
                .map(crate::trace::fnv1a64),
        });
    }

    /// Signal interrupt vector `vector` (`msi EXPR;`). When the guest
    /// enabled MSI-X it goes through MSI-X (a masked vector only sets its
    /// pending bit, see `msix.rs`); else, when it enabled MSI, it is
    /// delivered if below the number of vectors enabled; else nothing
    /// happens. Traced either way.
    pub fn msi_notify(&mut self, vector: u16) {
        let by_vmm = self.msix_masking_by_vmm;
        if let Some(msix) = self.config.msix.as_mut().filter(|m| m.enabled()) {
            let outcome = if by_vmm {
                msix.send_unmasked(vector)
            } else {
                msix.send(vector)
            };
            let (message, pending) = match outcome {
                MsixSend::Deliver(m) => (Some(m), false),
                MsixSend::Pending => (None, true),
                MsixSend::Dropped => (None, false),
            };
            if let (Some(message), Some(sink)) = (message, self.sink.as_mut()) {
                sink.msix(vector, message);
            }
            self.trace_msix(vector, message, pending);
            return;
        }
        let vector = u8::try_from(vector).unwrap_or(u8::MAX);
        let message = self.config.msi_message(vector);
        if let (Some(message), Some(sink)) = (message, self.sink.as_mut()) {
            sink.msi(vector, message);
        }
        self.trace_with(|| TraceEvent::Msi {
            vector,
            address: message.map_or(0, |m| m.address),
            data: message.map_or(0, |m| m.data),
            delivered: message.is_some(),
        });
    }

    fn trace_msix(&mut self, vector: u16, message: Option<MsiMessage>, pending: bool) {
        self.trace_with(|| TraceEvent::Msix {
            vector,
            address: message.map_or(0, |m| m.address),
            data: message.map_or(0, |m| m.data),
            delivered: message.is_some(),
            pending,
        });
    }

    pub(crate) fn set_msix_masking_by_vmm(&mut self, on: bool) {
        self.msix_masking_by_vmm = on;
    }

    /// Deliver the MSI-X messages that the last config or table write
    /// unmasked (pending vectors), in vector order.
    pub(crate) fn deliver_unmasked(&mut self, unmasked: Vec<(u16, MsiMessage)>) {
        for (vector, message) in unmasked {
            if let Some(sink) = self.sink.as_mut() {
                sink.msix(vector, message);
            }
            self.trace_msix(vector, Some(message), false);
        }
    }

    /// A BAR access at `offset` of `bar` that touches the MSI-X table or
    /// PBA: served here (`Some(valid)`), or `None` when it touches neither.
    pub(crate) fn msix_read(&mut self, bar: u8, offset: u64, data: &mut [u8]) -> Option<bool> {
        let msix = self.config.msix.as_ref()?;
        let (area, at) = msix.locate(bar, offset, data.len())?;
        Some(msix.read(area, at, data))
    }

    /// As [`Self::msix_read`], for a write; delivers a vector it unmasks.
    pub(crate) fn msix_write(&mut self, bar: u8, offset: u64, data: &[u8]) -> Option<bool> {
        let msix = self.config.msix.as_mut()?;
        let (area, at) = msix.locate(bar, offset, data.len())?;
        let (valid, unmasked) = msix.write(area, at, data);
        self.deliver_unmasked(unmasked);
        Some(valid)
    }

    /// Set the latched interrupt level used by specs that raise and lower
    /// explicitly (their `interrupt_level` returns [`Self::latched_irq`]).
    /// The line follows when the runtime recomputes it after the access.
    pub fn set_irq(&mut self, level: bool) {
        self.latched_irq = level;
    }

    /// The latched interrupt level.
    #[inline]
    pub fn latched_irq(&self) -> bool {
        self.latched_irq
    }

    /// Assert then deassert INTx (an edge), if INTx may be used now and the
    /// line is not already asserted. Traced as `IntxPulse`.
    pub fn pulse_irq(&mut self) {
        let delivered = self.intx_allowed() && !self.line;
        if delivered && let Some(sink) = self.sink.as_mut() {
            sink.set_intx(true);
            sink.set_intx(false);
        }
        self.trace_with(|| TraceEvent::IntxPulse { delivered });
    }

    /// Record that the user hook `name` ran.
    pub fn hook(&mut self, name: &'static str) {
        self.trace_with(|| TraceEvent::Hook {
            name: name.to_owned(),
        });
    }

    /// INTx may reach the line: the device has a pin, INTx is not disabled
    /// and MSI is not enabled.
    fn intx_allowed(&self) -> bool {
        self.config.info().interrupt_pin.is_some()
            && !self.config.intx_disabled()
            && !self.config.msi_enabled()
            && !self.config.msix_enabled()
    }

    /// The INTx line as the host sees it now.
    pub fn intx_asserted(&self) -> bool {
        self.line
    }

    /// Take the device's interrupt `level`: update STATUS.interrupt and, on an
    /// edge of the resulting line, tell the sink and trace it. When the guest
    /// enabled MSI-X or MSI, a rising edge of the level sends vector 0
    /// instead (the same level-derived interrupt, delivered as a message).
    pub(crate) fn update_intx(&mut self, level: bool) {
        self.refresh_route();
        let rising = level && !self.level;
        self.level = level;
        if rising && self.route_msi {
            self.msi_notify(0);
        }
        self.config.set_interrupt_status(level);
        self.set_line(level && self.route_intx);
    }

    /// [`Self::update_intx`] by the route the last one found, doing
    /// nothing when the level is unchanged: after an access that cannot
    /// have changed the route (a BAR access served by the model's
    /// whole-register fast path).
    #[inline]
    pub(crate) fn settle_level(&mut self, level: bool) {
        if level == self.level {
            return;
        }
        self.level = level;
        // Changed: rising exactly when it is now high.
        if level && self.route_msi {
            self.msi_notify(0);
        }
        self.config.set_interrupt_status(level);
        self.set_line(level && self.route_intx);
    }

    /// Recompute where the level goes from the config space.
    fn refresh_route(&mut self) {
        self.route_intx = self.intx_allowed();
        self.route_msi = self.config.msix_enabled() || self.config.msi_enabled();
    }

    /// The INTx line is `line` now: on an edge, tell the sink and trace it.
    #[inline]
    fn set_line(&mut self, line: bool) {
        if line != self.line {
            self.line = line;
            if let Some(sink) = self.sink.as_mut() {
                sink.set_intx(line);
            }
            self.trace_with(|| TraceEvent::Intx { asserted: line });
        }
    }

    /// Install the interrupt sink. If the line is asserted it is reported to
    /// the new sink at once, so host and device agree.
    pub(crate) fn set_sink(&mut self, mut sink: Box<dyn InterruptSink>) {
        if self.line {
            sink.set_intx(true);
        }
        self.sink = Some(sink);
    }

    pub(crate) fn set_memory(&mut self, memory: Option<Arc<GuestMem>>) {
        self.memory = memory;
    }

    pub(crate) fn set_trace(&mut self, trace: Option<Box<dyn TraceSink>>) {
        self.trace = trace;
    }

    /// Reset the config space and the latched level, and stop every timer
    /// (the line is recomputed by the owner). The clock keeps running;
    /// bytes already sent and VMM requests already made stay queued: they
    /// have left the device.
    pub(crate) fn reset(&mut self) {
        self.config.reset();
        self.latched_irq = false;
        self.level = false;
        self.timers.stop_all();
    }
}

/// The context's part of a snapshot (see `snapshot.rs`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CtxState {
    /// The clock, in ns.
    clock_ns: u64,
    /// Per timer, in declaration order: `null` when stopped.
    timers: Vec<Option<TimerState>>,
    /// Per stream: output not yet taken by the host.
    stream_output: Vec<Hex>,
    /// VMM requests not yet taken by the host.
    vmm_pending: Vec<VmmRequest>,
    latched_irq: bool,
    /// The interrupt level at the last recompute (MSI fires on its rising
    /// edges).
    level: bool,
    /// The INTx line as last reported.
    line: bool,
    msix_masking_by_vmm: bool,
    config: ConfigState,
}

impl CtxState {
    /// Does it fit a device `info` with `timers` timers and `streams`
    /// streams?
    pub(crate) fn check(
        &self,
        info: &'static DeviceInfo,
        timers: usize,
        streams: usize,
    ) -> Result<(), SnapshotError> {
        let invalid = SnapshotError::Invalid;
        Timers::check(&self.timers, timers).map_err(invalid)?;
        Outputs::check(&self.stream_output, streams).map_err(invalid)?;
        if self.vmm_pending.len() > MAX_VMM_PENDING {
            return Err(invalid(format!(
                "{} VMM requests pending, at most {MAX_VMM_PENDING}",
                self.vmm_pending.len()
            )));
        }
        ConfigSpace::new(info).check(&self.config).map_err(invalid)
    }
}

impl DeviceCtx {
    pub(crate) fn save(&self) -> CtxState {
        CtxState {
            clock_ns: self.timers.now(),
            timers: self.timers.save(),
            stream_output: self.outputs.save().into_iter().map(Hex).collect(),
            vmm_pending: self.vmm.clone(),
            latched_irq: self.latched_irq,
            level: self.level,
            line: self.line,
            msix_masking_by_vmm: self.msix_masking_by_vmm,
            config: self.config.save(),
        }
    }

    /// Take a checked `saved` state. The sink hears the line's new level
    /// if it changed.
    pub(crate) fn restore(&mut self, saved: &CtxState) {
        self.timers.restore(saved.clock_ns, &saved.timers);
        self.outputs.restore(&saved.stream_output);
        self.vmm.clone_from(&saved.vmm_pending);
        self.latched_irq = saved.latched_irq;
        self.level = saved.level;
        self.msix_masking_by_vmm = saved.msix_masking_by_vmm;
        self.config.restore(&saved.config);
        if saved.line != self.line {
            self.line = saved.line;
            if let Some(sink) = self.sink.as_mut() {
                sink.set_intx(saved.line);
            }
        }
        self.refresh_route();
        self.access = (0, 0);
    }
}
