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
//!
//! Each `match` below names every IR variant: a new construct in the IR is
//! a compile error here until the interpreter implements it.

use pcidev_core::ops::{eval_binary, eval_unary, set_field, truncate};
use pcidev_runtime::ops::{buf_get, buf_range, buf_range_mut, buf_set, msi_vector};
use pcidev_runtime::{DMA_STATUS_BAD_BUFFER_RANGE, DeviceCtx, DmaOutcome};
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
                // Refused at load (`spec::unsupported`).
                ir::Type::Fifo { .. } => Slot::Scalar(0),
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

    fn scalar(&self, s: ir::StateId) -> u64 {
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

/// What an evaluation may touch besides the data: the spec, the world
/// (`None` for the interrupt level, which has no effects), the hooks and
/// the `value` in scope.
pub(crate) struct Run<'a> {
    pub spec: &'static Spec,
    pub ctx: Option<&'a mut DeviceCtx>,
    pub hooks: Option<&'a mut dyn Hooks>,
    /// `value` in `on write` (the written value); 0 elsewhere.
    pub value: u64,
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
            // Language v2: `Spec::load` refuses specs that use these
            // (`spec::unsupported`), so they are never evaluated.
            Expr::TimerRunning(_)
            | Expr::TimerRemaining(_)
            | Expr::FifoLen(_)
            | Expr::FifoFront(_)
            | Expr::FifoFull(_)
            | Expr::FifoEmpty(_)
            | Expr::StreamSpace(_)
            | Expr::Byte
            | Expr::Let(_)
            | Expr::Fn(..)
            | Expr::Param(_) => 0,
            Expr::AccessSize => self.ctx.as_deref().map_or(0, DeviceCtx::access_size),
            Expr::AccessMask => self.ctx.as_deref().map_or(0, DeviceCtx::access_mask),
        }
    }

    /// Call hook `h`: arguments converted to the parameter types, the call
    /// traced, the answer converted to the return type.
    fn call(&mut self, data: &Data, h: ir::HookId, args: &[Expr]) -> u64 {
        let hook = self.spec.device.hook(h);
        let mut values = Vec::with_capacity(hook.params.len());
        for ((_, ty), a) in hook.params.iter().zip(args) {
            let v = self.eval(data, a);
            values.push(match ty {
                ir::Type::Bool => u64::from(v != 0),
                ir::Type::Uint(bits) => truncate(v, *bits),
                ir::Type::Buffer(_) | ir::Type::Fifo { .. } => 0,
            });
        }
        if let Some(ctx) = self.ctx.as_deref_mut() {
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
                if let Some(ctx) = self.ctx.as_deref_mut() {
                    match op {
                        IrqOp::Raise => ctx.set_irq(true),
                        IrqOp::Lower => ctx.set_irq(false),
                        IrqOp::Pulse => ctx.pulse_irq(),
                    }
                }
            }
            Stmt::Msi(v) => {
                let v = msi_vector(self.eval(data, v));
                if let Some(ctx) = self.ctx.as_deref_mut() {
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
            // Language v2: refused at load (`spec::unsupported`).
            Stmt::TimerStart { .. }
            | Stmt::TimerStop(_)
            | Stmt::FifoPush(..)
            | Stmt::FifoPop(_)
            | Stmt::FifoClear(_)
            | Stmt::Send(..)
            | Stmt::Vmm(_) => {}
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
                            Some(dst) => match self.ctx.as_deref_mut() {
                                Some(c) => c.dma_read(addr, dst).status_code(),
                                None => 0,
                            },
                            None => DMA_STATUS_BAD_BUFFER_RANGE,
                        }
                    }
                    ir::DmaDest::Scalar(place) => {
                        let (outcome, bytes) = match self.ctx.as_deref_mut() {
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
        self.ctx.as_deref_mut().map_or(0, f)
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
