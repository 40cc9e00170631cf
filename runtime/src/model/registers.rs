//! [`Registers`]: the device-specific part of a [`Model`](super::Model),
//! implemented by generated code (and by the interpreter).

use crate::ctx::DeviceCtx;
use crate::info::DeviceInfo;
use crate::snapshot::{StateLayout, StateValue};
use crate::window::{Bytes, WindowInfo};
use pcidev_core::scenario::Probe;

/// Whether a whole-register access the model served
/// ([`Registers::read_whole`], [`Registers::write_whole`]) may have changed
/// the device's interrupt level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// It may have: the runtime recomputes the level
    /// ([`Registers::interrupt_level`]) and follows it.
    MayChange,
    /// It cannot have: the access wrote nothing the level reads (see
    /// `pcidevc_dsl::ir::LevelInputs`), so the runtime keeps the level it
    /// has.
    Unchanged,
}

/// The device-specific part of a model, implemented by generated code.
pub trait Registers: Send + 'static {
    /// The static description of the device. Generated models return a
    /// `const`; the interpreter (`pcidev-interp`) one description built per
    /// loaded spec. It must not change over the model's life.
    fn info(&self) -> &'static DeviceInfo;

    /// Does any register read or write look at the guest access under
    /// way ([`DeviceCtx::access_size`], [`DeviceCtx::access_mask`])? When
    /// false the runtime does not set them for the whole-register fast
    /// path ([`Self::read_whole`], [`Self::write_whole`]): they then read
    /// 0 there. Generated models say false when no expression of the spec
    /// reads `access.size` or `access.mask` and the spec declares no hooks
    /// (Rust code that could ask); the default is true.
    const ACCESS_CONTEXT: bool = true;

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
    /// Returns the register's value (its read, with side effects) and
    /// whether the read may have changed the interrupt level ([`Level`]:
    /// `Unchanged` only when it certainly did not), or `None` without doing
    /// anything for any other access, which the runtime then checks
    /// against the policy and splits over [`Self::read_register`]. `Some`
    /// must be exactly what that generic path would do. The runtime calls
    /// it only while the BAR decodes, with `access.size`/`access.mask` set
    /// for a whole-register access (unless [`Self::ACCESS_CONTEXT`] is
    /// false).
    /// Generated models decode `offset` with a `match` on the register
    /// offsets; the default serves nothing.
    fn read_whole(
        &mut self,
        ctx: &mut DeviceCtx,
        bar: u8,
        offset: u64,
        len: usize,
    ) -> Option<(u64, Level)> {
        let _ = (ctx, bar, offset, len);
        None
    }

    /// As [`Self::read_whole`], for a write of `value` (the `len` bytes,
    /// little-endian): `Some` with its [`Level`] when served (as
    /// [`Self::write_register`] with every byte lane), `None` without doing
    /// anything otherwise.
    fn write_whole(
        &mut self,
        ctx: &mut DeviceCtx,
        bar: u8,
        offset: u64,
        len: usize,
        value: u64,
    ) -> Option<Level> {
        let _ = (ctx, bar, offset, len, value);
        None
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
    /// BAR access (but a whole-register one that answered
    /// [`Level::Unchanged`]) and config write (a derived expression, or
    /// `ctx.latched_irq()` for specs that raise and lower explicitly).
    fn interrupt_level(&self, ctx: &DeviceCtx) -> bool;

    /// Back to reset values (`sticky` state keeps its value).
    fn reset(&mut self);

    /// The spec's timers by name, in declaration order (their ids).
    /// Generated models return a literal; the interpreter the names of the
    /// loaded spec. Like [`Self::info`], it must not change over the
    /// model's life: [`Model::new`](super::Model::new) sizes the timer table from it once.
    fn timers(&self) -> &'static [&'static str] {
        &[]
    }

    /// The spec's byte streams by name, in declaration order (their ids).
    /// Read once by [`Model::new`](super::Model::new), as [`Self::timers`].
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
