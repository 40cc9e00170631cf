//! Expressions and actions of the IR, evaluated.
//!
//! The reference is the model backend (`pcidevc_codegen::model` and its
//! `expr` module): every rule below is the generated code's, including the
//! order in which sub-expressions run (it matters only for hook calls,
//! which are traced). Operators are `pcidev_core::ops`' functions, never
//! re-implemented here.
//!
//! - `&&`, `||` and `if` evaluate only what Rust's `&&`, `||` and `if`
//!   would; other operators evaluate the left operand first.
//! - A hook call without a return value used as an expression is 0 and is
//!   not called (the generated code folds it to the constant 0).
//! - Stores truncate to the place (a bool stores `v != 0`); a compound
//!   assignment to a buffer byte evaluates the index, then the index again
//!   and the value (the generated `{ let index = ..; let byte = ..; }`).
//! - DMA evaluates address, length, then the source's operands; a device
//!   buffer range that does not fit gives `BAD_BUFFER_RANGE` untraced.
//! - A `let` is evaluated where it is used, every time (hooks it calls are
//!   called and traced each time, as the generated `let_NAME` method is).
//! - A `fn` call converts its arguments to the parameter types (left to
//!   right), evaluates the body with them and truncates the result to the
//!   return type; arguments are kept on a stack in [`Run`].
//! - `start T after D unit` multiplies (wrapping) before the runtime clamps;
//!   `send S v` sends `v as u8`; `F.push(v)` pushes `v` truncated to the
//!   element type; timers, streams, VMM requests go through the runtime's
//!   `DeviceCtx` exactly as generated code calls it.
//!
//! Each `match` below names every IR variant: a new construct in the IR is
//! a compile error here until the interpreter implements it.

use pcidev_core::ops::{eval_binary, eval_unary, set_field, truncate};
use pcidev_runtime::ops::{buf_get, buf_range, buf_range_mut, buf_set, msi_vector};
use pcidev_runtime::{DMA_STATUS_BAD_BUFFER_RANGE, DeviceCtx, DmaOutcome, DynFifo};
use pcidevc_dsl::ir::{self, BinOp, Expr, IrqOp, Place, Stmt, UnOp};

use crate::hooks::Hooks;
use crate::spec::Spec;

/// One state item's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Slot {
    /// Scalars (`bool` as 0 or 1), already truncated to their type.
    Scalar(u64),
    /// Byte buffers (the runtime's type, which a window needs).
    Buffer(pcidev_runtime::Bytes),
    /// FIFO states (elements already truncated to the element type).
    Fifo(DynFifo),
}

/// The device's variables: states and register storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Data {
    pub states: Vec<Slot>,
    /// Per register (`RegId`); 0 for registers without storage.
    pub storage: Vec<u64>,
}

impl Data {
    /// Reset values (states' `= value`, buffers' initial bytes, registers'
    /// reset).
    pub fn reset(spec: &Spec) -> Self {
        let d = &spec.device;
        let states = d
            .states
            .iter()
            .map(|s| match s.ty {
                ir::Type::Buffer(len) => {
                    let len = usize::try_from(len).unwrap_or(0);
                    Slot::Buffer(pcidev_runtime::Bytes::new(len, &s.init))
                }
                ir::Type::Bool => Slot::Scalar(u64::from(s.reset != 0)),
                ir::Type::Uint(bits) => Slot::Scalar(truncate(s.reset, bits)),
                ir::Type::Fifo { capacity, .. } => {
                    Slot::Fifo(DynFifo::new(usize::try_from(capacity).unwrap_or(0)))
                }
            })
            .collect();
        let storage = d
            .registers
            .iter()
            .map(|r| {
                if r.has_storage() {
                    truncate(r.reset, r.bits())
                } else {
                    0
                }
            })
            .collect();
        Data { states, storage }
    }

    /// Reset values, except that `sticky` states keep their value in
    /// `self` (the generated `reset`).
    pub fn reset_keeping_sticky(&mut self, spec: &Spec) {
        let mut fresh = Data::reset(spec);
        for (i, s) in spec.device.states.iter().enumerate() {
            let windowed = spec.window_states.iter().any(|w| w.0 == i);
            if (s.sticky || windowed)
                && let (Some(new), Some(old)) = (fresh.states.get_mut(i), self.states.get_mut(i))
            {
                std::mem::swap(new, old);
                // Windowed buffers are reset in place, as generated code
                // does: a buffer shared with the VMM stays shared.
                if !s.sticky
                    && let Slot::Buffer(b) = new
                {
                    b.reset(&s.init);
                }
            }
        }
        *self = fresh;
    }

    pub fn fifo(&self, s: ir::StateId) -> Option<&DynFifo> {
        match self.states.get(s.0) {
            Some(Slot::Fifo(f)) => Some(f),
            _ => None,
        }
    }

    fn fifo_mut(&mut self, s: ir::StateId) -> Option<&mut DynFifo> {
        match self.states.get_mut(s.0) {
            Some(Slot::Fifo(f)) => Some(f),
            _ => None,
        }
    }

    pub fn scalar(&self, s: ir::StateId) -> u64 {
        match self.states.get(s.0) {
            Some(Slot::Scalar(v)) => *v,
            // Buffers are only indexed (the checker guarantees it).
            _ => 0,
        }
    }

    fn buffer(&self, s: ir::StateId) -> &[u8] {
        match self.states.get(s.0) {
            Some(Slot::Buffer(b)) => b,
            _ => &[],
        }
    }

    /// A buffer state, as the runtime's type (for windows).
    pub(crate) fn bytes_mut(&mut self, s: ir::StateId) -> Option<&mut pcidev_runtime::Bytes> {
        match self.states.get_mut(s.0) {
            Some(Slot::Buffer(b)) => Some(b),
            _ => None,
        }
    }

    fn buffer_mut(&mut self, s: ir::StateId) -> &mut [u8] {
        match self.states.get_mut(s.0) {
            Some(Slot::Buffer(b)) => b,
            _ => &mut [],
        }
    }

    fn reg(&self, r: ir::RegId) -> u64 {
        self.storage.get(r.0).copied().unwrap_or(0)
    }
}

/// The runtime's context as an evaluation sees it: mutable in actions,
/// shared where the generated code has `&DeviceCtx` (the interrupt
/// level, a stream's `ready`), which have no effects.
pub(crate) enum World<'a> {
    Mut(&'a mut DeviceCtx),
    Shared(&'a DeviceCtx),
}

impl World<'_> {
    fn get(&self) -> &DeviceCtx {
        match self {
            World::Mut(c) => c,
            World::Shared(c) => c,
        }
    }

    fn get_mut(&mut self) -> Option<&mut DeviceCtx> {
        match self {
            World::Mut(c) => Some(c),
            World::Shared(_) => None,
        }
    }
}

/// What an evaluation may touch besides the data: the spec, the world, the
/// hooks (`None` where the generated code may not call them), and what is
/// in scope.
pub(crate) struct Run<'a> {
    pub spec: &'static Spec,
    pub ctx: World<'a>,
    pub hooks: Option<&'a mut dyn Hooks>,
    /// `value` in `on write` (the written value); 0 elsewhere.
    pub value: u64,
    /// `byte` in a stream's `on input`; 0 elsewhere.
    pub byte: u64,
    /// `index` in an array element's behaviour: its element number.
    pub index: u64,
    /// Arguments of the `fn` calls being evaluated (innermost last), and
    /// where the innermost call's start.
    params: Vec<u64>,
    param_base: usize,
}

impl<'a> Run<'a> {
    /// An evaluation in `ctx` with `value` and `byte` in scope.
    pub fn new(
        spec: &'static Spec,
        ctx: World<'a>,
        hooks: Option<&'a mut dyn Hooks>,
        value: u64,
        byte: u64,
    ) -> Self {
        Run {
            spec,
            ctx,
            hooks,
            value,
            byte,
            index: 0,
            params: Vec::new(),
            param_base: 0,
        }
    }
}

impl Run<'_> {
    /// Evaluate `e` as u64 (a bool is 0 or 1).
    pub fn eval(&mut self, data: &Data, e: &Expr) -> u64 {
        let dev = &self.spec.device;
        match e {
            Expr::Const(v) => *v,
            Expr::State(s) => data.scalar(*s),
            Expr::Register(r) => data.reg(*r),
            Expr::Field(r, f) => {
                let Some(field) = dev.register(*r).fields.get(*f) else {
                    return 0;
                };
                (data.reg(*r) >> field.lo) & ir::low_mask(field.bits())
            }
            Expr::BufferByte(s, i) => {
                let i = self.eval(data, i);
                buf_get(data.buffer(*s), i)
            }
            Expr::Value => self.value,
            Expr::Call(h, args) => {
                if dev.hook(*h).ret.is_none() {
                    return 0;
                }
                self.call(data, *h, args)
            }
            Expr::Unary(op, x) => {
                let v = self.eval(data, x);
                match op {
                    UnOp::Not | UnOp::Neg | UnOp::BitNot => eval_unary(*op, v),
                }
            }
            Expr::Binary(op, a, b) => match op {
                BinOp::And => {
                    let a = self.eval(data, a) != 0;
                    u64::from(a && self.eval(data, b) != 0)
                }
                BinOp::Or => {
                    let a = self.eval(data, a) != 0;
                    u64::from(a || self.eval(data, b) != 0)
                }
                BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::BitOr
                | BinOp::BitXor
                | BinOp::BitAnd
                | BinOp::Shl
                | BinOp::Shr
                | BinOp::Add
                | BinOp::Sub
                | BinOp::Mul
                | BinOp::Div
                | BinOp::Rem => {
                    let a = self.eval(data, a);
                    let b = self.eval(data, b);
                    eval_binary(*op, a, b)
                }
            },
            Expr::Cond(c, a, b) => {
                if self.eval(data, c) != 0 {
                    self.eval(data, a)
                } else {
                    self.eval(data, b)
                }
            }
            Expr::AccessSize => self.ctx.get().access_size(),
            Expr::AccessMask => self.ctx.get().access_mask(),
            Expr::Index => self.index,
            Expr::TimerRunning(t) => u64::from(self.ctx.get().timer_running(t.0)),
            Expr::TimerRemaining(t) => self.ctx.get().timer_remaining(t.0),
            Expr::FifoLen(s) => data.fifo(*s).map_or(0, DynFifo::count),
            Expr::FifoFront(s) => data.fifo(*s).map_or(0, DynFifo::front),
            Expr::FifoFull(s) => u64::from(data.fifo(*s).is_some_and(DynFifo::is_full)),
            Expr::FifoEmpty(s) => u64::from(data.fifo(*s).is_some_and(DynFifo::is_empty)),
            Expr::StreamSpace(s) => self.ctx.get().stream_space(s.0),
            Expr::Byte => self.byte,
            Expr::Let(l) => self.eval(data, &dev.let_(*l).value),
            Expr::Fn(f, args) => self.call_fn(data, *f, args),
            Expr::Param(i) => self.params.get(self.param_base + *i).copied().unwrap_or(0),
        }
    }

    /// A `fn` call: arguments converted to the parameter types, the body
    /// evaluated with them, the result converted to the return type.
    fn call_fn(&mut self, data: &Data, f: ir::FnId, args: &[Expr]) -> u64 {
        let func = self.spec.device.function(f);
        let base = self.params.len();
        for ((_, ty), a) in func.params.iter().zip(args) {
            let v = self.convert_arg(data, *ty, a);
            self.params.push(v);
        }
        let saved = std::mem::replace(&mut self.param_base, base);
        let r = self.eval(data, &func.body);
        self.param_base = saved;
        self.params.truncate(base);
        match func.ret {
            ir::Type::Bool => u64::from(r != 0),
            ir::Type::Uint(bits) => truncate(r, bits),
            ir::Type::Buffer(_) | ir::Type::Fifo { .. } => 0,
        }
    }

    /// An argument of a hook or `fn` call, converted to the parameter type
    /// (not evaluated for a type that cannot be a parameter: the generated
    /// code passes 0 there).
    fn convert_arg(&mut self, data: &Data, ty: ir::Type, a: &Expr) -> u64 {
        match ty {
            ir::Type::Bool => u64::from(self.eval(data, a) != 0),
            ir::Type::Uint(bits) => truncate(self.eval(data, a), bits),
            ir::Type::Buffer(_) | ir::Type::Fifo { .. } => 0,
        }
    }

    /// Call hook `h`: arguments converted to the parameter types, the call
    /// traced, the answer converted to the return type.
    fn call(&mut self, data: &Data, h: ir::HookId, args: &[Expr]) -> u64 {
        let hook = self.spec.device.hook(h);
        let mut values = Vec::with_capacity(hook.params.len());
        for ((_, ty), a) in hook.params.iter().zip(args) {
            let v = self.convert_arg(data, *ty, a);
            values.push(v);
        }
        if let Some(ctx) = self.ctx.get_mut() {
            ctx.hook(self.spec.hook_names[h.0]);
        }
        let Some(hooks) = self.hooks.as_deref_mut() else {
            return 0;
        };
        let r = hooks.call(h.0, hook, &values);
        match hook.ret {
            Some(ir::Type::Bool) => u64::from(r != 0),
            Some(ir::Type::Uint(bits)) => truncate(r, bits),
            Some(ir::Type::Buffer(_) | ir::Type::Fifo { .. }) | None => 0,
        }
    }

    /// Run a block of actions.
    pub fn exec_all(&mut self, data: &mut Data, stmts: &[Stmt]) {
        for s in stmts {
            self.exec(data, s);
        }
    }

    fn exec(&mut self, data: &mut Data, s: &Stmt) {
        match s {
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                if self.eval(data, cond) != 0 {
                    self.exec_all(data, then);
                } else {
                    self.exec_all(data, otherwise);
                }
            }
            Stmt::Irq(op) => {
                if let Some(ctx) = self.ctx.get_mut() {
                    match op {
                        IrqOp::Raise => ctx.set_irq(true),
                        IrqOp::Lower => ctx.set_irq(false),
                        IrqOp::Pulse => ctx.pulse_irq(),
                    }
                }
            }
            Stmt::Msi(v) => {
                let v = msi_vector(self.eval(data, v));
                if let Some(ctx) = self.ctx.get_mut() {
                    ctx.msi_notify(v);
                }
            }
            Stmt::Assign { place, op, value } => {
                if let Place::BufferByte(s, i) = place {
                    let index = self.eval(data, i);
                    let byte = match op.binary() {
                        None => self.eval(data, value),
                        Some(bin) => {
                            let at = self.eval(data, i);
                            let old = buf_get(data.buffer(*s), at);
                            let new = self.eval(data, value);
                            eval_binary(bin, old, new)
                        }
                    };
                    buf_set(data.buffer_mut(*s), index, byte);
                    return;
                }
                let new = self.eval(data, value);
                let v = match op.binary() {
                    None => new,
                    Some(bin) => eval_binary(bin, self.read_place(data, place), new),
                };
                self.store(data, place, v);
            }
            Stmt::Call { hook, args } => {
                self.call(data, *hook, args);
            }
            Stmt::TimerStart {
                timer,
                duration,
                unit,
                periodic,
            } => {
                let d = self.eval(data, duration);
                let ns = eval_binary(BinOp::Mul, d, unit.nanos());
                if let Some(ctx) = self.ctx.get_mut() {
                    ctx.start_timer(timer.0, ns, *periodic);
                }
            }
            Stmt::TimerStop(t) => {
                if let Some(ctx) = self.ctx.get_mut() {
                    ctx.stop_timer(t.0);
                }
            }
            Stmt::FifoPush(st, v) => {
                let bits = match self.spec.device.state(*st).ty {
                    ir::Type::Fifo { elem_bits, .. } => elem_bits,
                    _ => 64,
                };
                let v = truncate(self.eval(data, v), bits);
                if let Some(f) = data.fifo_mut(*st) {
                    f.push(v);
                }
            }
            Stmt::FifoPop(st) => {
                if let Some(f) = data.fifo_mut(*st) {
                    f.pop();
                }
            }
            Stmt::FifoClear(st) => {
                if let Some(f) = data.fifo_mut(*st) {
                    f.clear();
                }
            }
            Stmt::Send(st, v) => {
                let byte = self.eval(data, v) as u8;
                if let Some(ctx) = self.ctx.get_mut() {
                    ctx.send(st.0, byte);
                }
            }
            Stmt::Vmm(r) => {
                if let Some(ctx) = self.ctx.get_mut() {
                    ctx.vmm_request(*r);
                }
            }
            Stmt::DmaWrite {
                addr,
                len,
                source,
                status,
            } => {
                let addr = self.eval(data, addr);
                let len = self.eval(data, len);
                let code = match source {
                    ir::Source::Random(seed) => {
                        let seed = self.eval(data, seed) as u32;
                        self.ctx_do(|c| c.dma_write_random(addr, len, seed).status_code())
                    }
                    ir::Source::Pattern(b) => {
                        let b = self.eval(data, b) as u8;
                        self.ctx_do(|c| c.dma_write_pattern(addr, len, b).status_code())
                    }
                    ir::Source::Word(w) => {
                        let w = self.eval(data, w);
                        self.ctx_do(|c| c.dma_write_word(addr, len, w).status_code())
                    }
                    ir::Source::Buffer { state, offset } => {
                        let offset = self.eval(data, offset);
                        match buf_range(data.buffer(*state), offset, len) {
                            Some(bytes) => self.ctx_do(|c| c.dma_write(addr, bytes).status_code()),
                            None => DMA_STATUS_BAD_BUFFER_RANGE,
                        }
                    }
                };
                if let Some(p) = status {
                    self.store(data, p, code);
                }
            }
            Stmt::DmaRead {
                addr,
                len,
                into,
                status,
            } => {
                let addr = self.eval(data, addr);
                let len = self.eval(data, len);
                let code = match into {
                    ir::DmaDest::Buffer { state, offset } => {
                        let offset = self.eval(data, offset);
                        match buf_range_mut(data.buffer_mut(*state), offset, len) {
                            Some(dst) => match self.ctx.get_mut() {
                                Some(c) => c.dma_read(addr, dst).status_code(),
                                None => 0,
                            },
                            None => DMA_STATUS_BAD_BUFFER_RANGE,
                        }
                    }
                    ir::DmaDest::Scalar(place) => {
                        let (outcome, bytes) = match self.ctx.get_mut() {
                            Some(c) => c.dma_read_le(addr, len),
                            None => (DmaOutcome::NoGuestMemory, 0),
                        };
                        if outcome == DmaOutcome::Done {
                            self.store(data, place, bytes);
                        }
                        outcome.status_code()
                    }
                };
                if let Some(p) = status {
                    self.store(data, p, code);
                }
            }
        }
    }

    /// A DMA through the context (there always is one in actions).
    fn ctx_do(&mut self, f: impl FnOnce(&mut DeviceCtx) -> u64) -> u64 {
        self.ctx.get_mut().map_or(0, f)
    }

    /// The current value of a scalar place (compound assignment's left side).
    fn read_place(&mut self, data: &Data, p: &Place) -> u64 {
        match p {
            Place::State(s) => data.scalar(*s),
            Place::Register(r) => data.reg(*r),
            Place::Field(r, f) => self.eval(data, &Expr::Field(*r, *f)),
            Place::BufferByte(s, i) => {
                let i = self.eval(data, i);
                buf_get(data.buffer(*s), i)
            }
        }
    }

    /// `place = v` with the language's truncation.
    fn store(&mut self, data: &mut Data, place: &Place, v: u64) {
        let dev = &self.spec.device;
        match place {
            Place::State(s) => {
                let ty = dev.state(*s).ty;
                if let Some(Slot::Scalar(slot)) = data.states.get_mut(s.0) {
                    match ty {
                        ir::Type::Bool => *slot = u64::from(v != 0),
                        ir::Type::Uint(bits) => *slot = truncate(v, bits),
                        ir::Type::Buffer(_) | ir::Type::Fifo { .. } => {}
                    }
                }
            }
            Place::Register(r) => {
                let bits = dev.register(*r).bits();
                if let Some(slot) = data.storage.get_mut(r.0) {
                    *slot = truncate(v, bits);
                }
            }
            Place::Field(r, f) => {
                let reg = dev.register(*r);
                let Some(field) = reg.fields.get(*f) else {
                    return;
                };
                if let Some(slot) = data.storage.get_mut(r.0) {
                    *slot = truncate(set_field(*slot, field.lo, field.mask(), v), reg.bits());
                }
            }
            Place::BufferByte(s, i) => {
                let index = self.eval(data, i);
                buf_set(data.buffer_mut(*s), index, v);
            }
        }
    }
}
