//! [`Interp`]: one device instance of a [`Spec`], implementing the
//! runtime's [`Registers`] as the generated `Device<H>` does.
//!
//! Read of a register (the generated `read_<reg>` method): the value is the
//! computed `read` expression, else the stored readable bits; then `rclr`
//! fields clear; then `on read` runs; the value is returned. Write (the
//! generated `write_<reg>`): the enabled byte lanes of the writable fields
//! are updated by their access kinds (`pcidev_core::access::write_fields`),
//! then `on write` runs with `value`. Registers whose read (write) has no
//! effect are not dispatched at all, as in generated code. The interrupt
//! level is the `level` expression, else the latched level when the device
//! has an interrupt, else low. Reset restores every state and register
//! except `sticky` states.
//!
//! Language v2: a timer's fire block runs on `timer_expired`, a stream's
//! `ready` answers `stream_ready` (always ready without one) and its
//! `on input` runs on `stream_input` with `byte`; timers and streams are
//! named per loaded spec (`Registers::timers`/`streams`); `probe` answers
//! scalar states and FIFOs as the generated `probe` does.

use pcidev_core::access::{lanes_mask, write_fields};
use pcidev_core::ops::truncate;
use pcidev_core::scenario::Probe;
use pcidev_runtime::{
    DeviceCtx, DeviceInfo, Level, Model, Registers, StateLayout, StateValue, snapshot,
};
use pcidevc_dsl::ir::{self, RegId};

use crate::eval::{Data, Run, Slot, World};
use crate::hooks::{DefaultHooks, Hooks};
use crate::spec::Spec;

/// A device of an interpreted spec: its states and register storage, and
/// the Rust behind its hooks.
pub struct Interp {
    spec: &'static Spec,
    data: Data,
    hooks: Box<dyn Hooks>,
}

impl std::fmt::Debug for Interp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interp")
            .field("device", &self.spec.device.name)
            .field("state", &self.state())
            .field("storage", &self.storage())
            .finish_non_exhaustive()
    }
}

impl Interp {
    /// A device in its reset state, hooks answered by `hooks`.
    pub fn new(spec: &'static Spec, hooks: Box<dyn Hooks>) -> Self {
        Interp {
            spec,
            data: Data::reset(spec),
            hooks,
        }
    }

    /// A device whose hooks take the documented default (see
    /// [`DefaultHooks`]).
    pub fn with_default_hooks(spec: &'static Spec) -> Self {
        Self::new(spec, Box::new(DefaultHooks::new()))
    }

    /// The spec this device interprets.
    pub fn spec(&self) -> &'static Spec {
        self.spec
    }

    /// The device's `state` items, formatted as the generated `State`'s
    /// `Debug` formats them (`State { count: 3, busy: true, buf: [..] }`).
    pub fn state(&self) -> StateView<'_> {
        StateView(self)
    }

    /// The registers with storage, formatted as the generated `Storage`'s
    /// `Debug` formats them (`Storage { ctrl: 1, .. }`, lower-case names).
    pub fn storage(&self) -> StorageView<'_> {
        StorageView(self)
    }

    /// The value of state `name` (scalars; `None` for buffers and unknown
    /// names).
    pub fn state_value(&self, name: &str) -> Option<u64> {
        let i = self
            .spec
            .device
            .states
            .iter()
            .position(|s| s.name == name)?;
        match &self.data.states[i] {
            Slot::Scalar(v) => Some(*v),
            Slot::Buffer(_) | Slot::Fifo(_) => None,
        }
    }

    /// The stored value of register `name`.
    pub fn register_value(&self, name: &str) -> Option<u64> {
        let i = self
            .spec
            .device
            .registers
            .iter()
            .position(|r| r.name == name && r.has_storage())?;
        Some(self.data.storage[i])
    }

    fn run<'a>(
        &'a mut self,
        ctx: &'a mut DeviceCtx,
        value: u64,
        byte: u64,
    ) -> (Run<'a>, &'a mut Data) {
        (
            Run::new(
                self.spec,
                World::Mut(ctx),
                Some(self.hooks.as_mut()),
                value,
                byte,
            ),
            &mut self.data,
        )
    }

    /// An evaluation without effects (`&DeviceCtx`, no hooks).
    fn look<'a>(&'a self, ctx: &'a DeviceCtx) -> Run<'a> {
        Run::new(self.spec, World::Shared(ctx), None, 0, 0)
    }
}

impl Interp {
    /// A guest read of register `id` (a BAR's or configuration space's):
    /// what the generated read method does.
    fn read_id(&mut self, ctx: &mut DeviceCtx, id: RegId) -> u64 {
        let spec = self.spec;
        let plan = spec.plans[id.0];
        if !plan.read_matters {
            return 0;
        }
        let r = spec.device.register(id);
        let (mut run, data) = self.run(ctx, 0, 0);
        run.index = r.index_value();
        let value = match &r.read {
            Some(e) => run.eval(data, e),
            None => data.storage[id.0] & plan.readable,
        };
        if plan.rclr != 0 {
            data.storage[id.0] &= !plan.rclr & ir::low_mask(plan.bits);
        }
        run.exec_all(data, &r.on_read);
        value
    }

    /// A guest write of register `id` with byte enables `lanes`: what the
    /// generated write method does.
    fn write_id(&mut self, ctx: &mut DeviceCtx, id: RegId, value: u64, lanes: u8) {
        let spec = self.spec;
        let plan = spec.plans[id.0];
        if !plan.write_matters {
            return;
        }
        let r = spec.device.register(id);
        let (mut run, data) = self.run(ctx, value, 0);
        run.index = r.index_value();
        if plan.stores {
            let mask = lanes_mask(lanes);
            let slot = &mut data.storage[id.0];
            *slot = truncate(
                write_fields(*slot, value, mask, plan.rw, plan.w1c, plan.w1s),
                plan.bits,
            );
        }
        run.exec_all(data, &r.on_write);
    }
}

impl Registers for Interp {
    fn info(&self) -> &'static DeviceInfo {
        self.spec.info()
    }

    fn read_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize) -> u64 {
        match self.spec.reg_at(bar, reg, ctx.array_index()) {
            Some(id) => self.read_id(ctx, id),
            None => 0,
        }
    }

    fn write_register(&mut self, ctx: &mut DeviceCtx, bar: u8, reg: usize, value: u64, lanes: u8) {
        if let Some(id) = self.spec.reg_at(bar, reg, ctx.array_index()) {
            self.write_id(ctx, id, value, lanes);
        }
    }

    /// The generated `read_whole`: the registers of [`Spec::whole_at`],
    /// read as the generic path reads them.
    fn read_whole(
        &mut self,
        ctx: &mut DeviceCtx,
        bar: u8,
        offset: u64,
        len: usize,
    ) -> Option<(u64, Level)> {
        let id = self.spec.whole_at(bar, offset, len)?;
        Some((self.read_id(ctx, id), self.spec.plans[id.0].read_level))
    }

    /// The generated `write_whole`, as [`Self::read_whole`]: every byte
    /// lane of the register written.
    fn write_whole(
        &mut self,
        ctx: &mut DeviceCtx,
        bar: u8,
        offset: u64,
        len: usize,
        value: u64,
    ) -> Option<Level> {
        let id = self.spec.whole_at(bar, offset, len)?;
        // 1..=8: `len` is the register's width.
        let lanes = u8::MAX >> (8 - len.clamp(1, 8));
        self.write_id(ctx, id, value, lanes);
        Some(self.spec.plans[id.0].write_level)
    }

    fn read_config_register(&mut self, ctx: &mut DeviceCtx, reg: usize) -> u64 {
        match self.spec.device.config_registers.get(reg) {
            Some(&id) => self.read_id(ctx, id),
            None => 0,
        }
    }

    fn write_config_register(&mut self, ctx: &mut DeviceCtx, reg: usize, value: u64, lanes: u8) {
        if let Some(&id) = self.spec.device.config_registers.get(reg) {
            self.write_id(ctx, id, value, lanes);
        }
    }

    fn windows(&self) -> &'static [pcidev_runtime::WindowInfo] {
        self.spec.windows
    }

    fn window(&mut self, window: usize) -> Option<&mut pcidev_runtime::Bytes> {
        let state = self.spec.window_states.get(window)?;
        self.data.bytes_mut(*state)
    }

    fn interrupt_level(&self, ctx: &DeviceCtx) -> bool {
        let irq = &self.spec.device.interrupt;
        match &irq.level {
            Some(e) => self.look(ctx).eval(&self.data, e) != 0,
            None if irq.any() => ctx.latched_irq(),
            None => false,
        }
    }

    fn reset(&mut self) {
        self.data.reset_keeping_sticky(self.spec);
    }

    fn timers(&self) -> &'static [&'static str] {
        self.spec.timer_names
    }

    fn streams(&self) -> &'static [&'static str] {
        self.spec.stream_names
    }

    fn timer_expired(&mut self, ctx: &mut DeviceCtx, timer: usize) {
        let spec = self.spec;
        if let Some(t) = spec.device.timers.get(timer) {
            let (mut run, data) = self.run(ctx, 0, 0);
            run.exec_all(data, &t.on_fire);
        }
    }

    fn stream_ready(&self, ctx: &DeviceCtx, stream: usize) -> bool {
        match self
            .spec
            .device
            .streams
            .get(stream)
            .and_then(|s| s.ready.as_ref())
        {
            Some(e) => self.look(ctx).eval(&self.data, e) != 0,
            None => true,
        }
    }

    fn stream_input(&mut self, ctx: &mut DeviceCtx, stream: usize, byte: u8) {
        let spec = self.spec;
        if let Some(s) = spec.device.streams.get(stream) {
            let (mut run, data) = self.run(ctx, 0, u64::from(byte));
            run.exec_all(data, &s.on_input);
        }
    }

    fn snapshot_layout(&self) -> Option<&'static StateLayout> {
        Some(self.spec.snapshot_layout)
    }

    /// As the generated `save_state`: states, then registers with storage.
    fn save_state(&self) -> (Vec<StateValue>, Vec<StateValue>) {
        let states = self
            .data
            .states
            .iter()
            .map(|slot| match slot {
                Slot::Scalar(v) => StateValue::Uint(*v),
                Slot::Buffer(b) => StateValue::bytes(b),
                Slot::Fifo(f) => StateValue::Fifo(f.save_items()),
            })
            .collect();
        let storage = self
            .spec
            .device
            .registers
            .iter()
            .zip(&self.data.storage)
            .filter(|(r, _)| r.has_storage())
            .map(|(_, v)| StateValue::Uint(*v))
            .collect();
        (states, storage)
    }

    /// The inverse of [`Self::save_state`] for checked values (a value of
    /// another kind than its slot is skipped).
    fn restore_state(&mut self, states: &[StateValue], storage: &[StateValue]) {
        for (i, slot) in self.data.states.iter_mut().enumerate() {
            match slot {
                Slot::Scalar(v) => *v = snapshot::uint(states, i),
                Slot::Buffer(b) => snapshot::copy_bytes(states, i, b),
                Slot::Fifo(f) => f.restore_items(snapshot::fifo(states, i)),
            }
        }
        let stored = self
            .spec
            .device
            .registers
            .iter()
            .zip(self.data.storage.iter_mut())
            .filter(|(r, _)| r.has_storage());
        for (i, (_, v)) in stored.enumerate() {
            *v = snapshot::uint(storage, i);
        }
    }

    fn probe(&self, probe: Probe) -> Option<u64> {
        let dev = &self.spec.device;
        let (i, fifo) = match probe {
            Probe::State(i) => (i, false),
            Probe::FifoLen(i) | Probe::FifoFront(i) => (i, true),
            Probe::TimerRunning(_) | Probe::TimerRemaining(_) => return None,
        };
        let id = ir::StateId(usize::try_from(i).ok()?);
        let state = dev.states.get(id.0)?;
        match (state.ty, fifo) {
            (ir::Type::Bool | ir::Type::Uint(_), false) => Some(self.data.scalar(id)),
            (ir::Type::Fifo { .. }, true) => {
                let f = self.data.fifo(id)?;
                Some(match probe {
                    Probe::FifoLen(_) => f.count(),
                    _ => f.front(),
                })
            }
            _ => None,
        }
    }
}

impl Spec {
    /// A complete PCI function of this spec in its reset state, hooks
    /// answered by `hooks`.
    pub fn model(&'static self, hooks: Box<dyn Hooks>) -> Model<Interp> {
        Model::new(Interp::new(self, hooks))
    }
}

/// See [`Interp::state`].
pub struct StateView<'a>(&'a Interp);

impl std::fmt::Debug for StateView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dev = &self.0.spec.device;
        let mut s = f.debug_struct("State");
        for (state, slot) in dev.states.iter().zip(&self.0.data.states) {
            match (state.ty, slot) {
                (ir::Type::Bool, Slot::Scalar(v)) => s.field(&state.name, &(*v != 0)),
                (_, Slot::Scalar(v)) => s.field(&state.name, v),
                // The generated `State` holds windowed buffers as
                // `pcidev_runtime::Bytes`, the others as `Box<[u8]>`.
                (_, Slot::Buffer(b))
                    if dev
                        .windows()
                        .any(|(_, w)| dev.state(w.state).name == state.name) =>
                {
                    s.field(&state.name, b)
                }
                (_, Slot::Buffer(b)) => s.field(&state.name, &&**b),
                (_, Slot::Fifo(q)) => s.field(&state.name, q),
            };
        }
        s.finish()
    }
}

/// See [`Interp::storage`].
pub struct StorageView<'a>(&'a Interp);

impl std::fmt::Debug for StorageView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dev = &self.0.spec.device;
        let mut s = f.debug_struct("Storage");
        let storage = &self.0.data.storage;
        for (i, r) in dev.registers.iter().enumerate() {
            if !r.has_storage() || r.is_array_tail() {
                continue;
            }
            let name = r.item_name().to_ascii_lowercase();
            match r.array_head() {
                // An array is one `[uW; N]` field, as in the generated model.
                Some(a) => {
                    let end = (i + a.count as usize).min(storage.len());
                    s.field(&name, &&storage[i..end]);
                }
                None => {
                    s.field(&name, &storage[i]);
                }
            }
        }
        s.finish()
    }
}
