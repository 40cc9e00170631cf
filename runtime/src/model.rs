//! [`Model`]: a generated [`Registers`] impl plus the generic PCI behaviour
//! (config space, BAR decoding and access policy, INTx), served to hosts via
//! vm-device's `MutDevicePio`/`MutDeviceMmio` or the object-safe [`PciModel`].
//!
//! This file holds the model itself: construction, configuration space,
//! the whole-register fast path of BAR accesses and the interrupt line.
//! The rest, by concern:
//! - [`registers`]: the [`Registers`] trait generated code implements;
//! - [`access`]: the generic BAR access path (policy, MSI-X, splitting an
//!   access over registers and windows);
//! - [`host`]: time, streams, VMM requests, windows and snapshots;
//! - [`pci_model`]: the object-safe [`PciModel`] and vm-device's bus traits.

use std::sync::Arc;

use crate::GuestMem;
use crate::config::ConfigSpace;
use crate::ctx::{DeviceCtx, InterruptSink};
use crate::info::DeviceInfo;
use crate::trace::{AccessOutcome, InvalidReason, TraceEvent, TraceSink, le_value};

mod access;
mod host;
mod pci_model;
mod registers;

use access::{access_mask, gather_lanes};
pub use pci_model::PciModel;
pub use registers::{Level, Registers};

/// A BAR access that failed under an
/// [`InvalidAccess::Error`](crate::InvalidAccess::Error) policy (or hit a
/// BAR the device does not have).
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
        if R::ACCESS_CONTEXT {
            self.ctx.set_access(len as u64, access_mask(0, len as u64));
        }
        let value = self.regs.read_whole(&mut self.ctx, bar, offset, len);
        if R::ACCESS_CONTEXT {
            self.ctx.set_access(0, 0);
        }
        let Some((value, level)) = value else {
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
        if level == Level::MayChange {
            self.settle_interrupt();
        }
        true
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
        if R::ACCESS_CONTEXT {
            self.ctx.set_access(len as u64, access_mask(0, len as u64));
        }
        let served = self
            .regs
            .write_whole(&mut self.ctx, bar, offset, len, value);
        if R::ACCESS_CONTEXT {
            self.ctx.set_access(0, 0);
        }
        let Some(level) = served else {
            return false;
        };
        self.ctx.trace_with(|| TraceEvent::BarWrite {
            bar,
            offset,
            size: len,
            value: le_value(data),
            outcome: AccessOutcome::Done,
        });
        if level == Level::MayChange {
            self.settle_interrupt();
        }
        true
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
    /// after every BAR access that may change the level and every config
    /// write; call it after changing device state from outside an access
    /// (e.g. a host timer).
    pub fn refresh_interrupt(&mut self) {
        let level = self.regs.interrupt_level(&self.ctx);
        self.ctx.update_intx(level);
    }

    /// [`Self::refresh_interrupt`] after a whole-register access: the line,
    /// STATUS.interrupt and MSI follow the level only when it changed, by
    /// the interrupt route the last full refresh found. Equivalent, since
    /// what else they depend on (COMMAND, the MSI and MSI-X enables)
    /// changes only in a config write, a reset or a snapshot restore, each
    /// of which refreshes in full or recomputes the route.
    #[inline]
    fn settle_interrupt(&mut self) {
        let level = self.regs.interrupt_level(&self.ctx);
        self.ctx.settle_level(level);
    }

    /// The INTx line as the host sees it now.
    pub fn interrupt_asserted(&self) -> bool {
        self.ctx.intx_asserted()
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
}
