//! Actions: the statements of `on read`, `on write`, timer and `on input`
//! blocks, where they store, and DMA sources and destinations.

use super::{
    AssignOp, Expr, HookId, IrqOp, RegId, StateId, StreamId, TimeUnit, TimerId, VmmRequest,
};

/// Where an assignment stores. Values are truncated to the target's width
/// (a bool stores `value != 0`); an out-of-range buffer index is ignored.
#[derive(Debug, Clone)]
pub enum Place {
    /// A scalar state.
    State(StateId),
    /// The whole storage of a register (bypasses access kinds: the device
    /// itself is writing).
    Register(RegId),
    /// A register's field: the register and the index in its
    /// [`Register::fields`](super::Register::fields) (only that field's bits change).
    Field(RegId, usize),
    /// One byte of a buffer state, at the index the expression gives.
    BufferByte(StateId, Box<Expr>),
}

/// An action, in an `on read`, `on write`, timer or `on input` block.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// `if cond { then } else { otherwise }`.
    If {
        /// Non-zero: run `then`.
        cond: Expr,
        /// Actions when the condition holds.
        then: Vec<Stmt>,
        /// Actions otherwise (empty without `else`).
        otherwise: Vec<Stmt>,
    },
    /// Only when the interrupt has no derived `level`.
    Irq(IrqOp),
    /// Send MSI vector N (ignored by the runtime when MSI is not enabled).
    Msi(Expr),
    /// Device -> guest memory.
    DmaWrite {
        /// Guest physical address of the first byte.
        addr: Expr,
        /// Bytes to write (above 16 MiB: outcome 5, nothing transferred).
        len: Expr,
        /// Where the bytes come from.
        source: Source,
        /// Where the [`DmaOutcome`](super::DmaOutcome) code is stored, if anywhere.
        status: Option<Place>,
    },
    /// Guest memory -> device.
    DmaRead {
        /// Guest physical address of the first byte.
        addr: Expr,
        /// Bytes to read.
        len: Expr,
        /// Where they land.
        into: DmaDest,
        /// Where the [`DmaOutcome`](super::DmaOutcome) code is stored, if anywhere.
        status: Option<Place>,
    },
    /// `place op= value`: the value (combined with the place's by `op`) is
    /// truncated to the place's width.
    Assign {
        /// Where the result is stored.
        place: Place,
        /// `=` or a compound operator.
        op: AssignOp,
        /// The right-hand side.
        value: Expr,
    },
    /// A hook call whose result (if any) is dropped.
    Call {
        /// The hook called.
        hook: HookId,
        /// Arguments, in parameter order (truncated to the parameter types).
        args: Vec<Expr>,
    },
    /// Arm a timer: fires after `duration * unit.nanos()` ns (wrapping u64,
    /// then clamped by `pcidev_core::time::clamp_duration`); `periodic`
    /// re-arms with the same period each time it fires.
    TimerStart {
        /// The timer armed.
        timer: TimerId,
        /// How many `unit`s (evaluated when the statement runs).
        duration: Expr,
        /// The unit of `duration`.
        unit: TimeUnit,
        /// `every` (true) rather than `after`.
        periodic: bool,
    },
    /// Disarm a timer (nothing when it is not running).
    TimerStop(TimerId),
    /// Append the value (truncated to the element width) to a FIFO state;
    /// nothing when full.
    FifoPush(StateId, Expr),
    /// Drop the first element; nothing when empty.
    FifoPop(StateId),
    /// Empty the FIFO.
    FifoClear(StateId),
    /// Queue one byte (the value's low 8 bits) on a stream's output; a full
    /// queue drops it (traced).
    Send(StreamId, Expr),
    /// Ask the VMM for something.
    Vmm(VmmRequest),
}

impl Stmt {
    /// The expressions directly in this statement (not in nested
    /// statements; see [`Stmt::walk_all`]).
    pub fn exprs(&self) -> Vec<&Expr> {
        fn place<'a>(p: &'a Place, v: &mut Vec<&'a Expr>) {
            if let Place::BufferByte(_, i) = p {
                v.push(i);
            }
        }
        let mut v = Vec::new();
        match self {
            Stmt::If { cond, .. } => v.push(cond),
            Stmt::Msi(e) | Stmt::FifoPush(_, e) | Stmt::Send(_, e) => v.push(e),
            Stmt::TimerStart { duration, .. } => v.push(duration),
            Stmt::Assign {
                place: p, value, ..
            } => {
                v.push(value);
                place(p, &mut v);
            }
            Stmt::Call { args, .. } => v.extend(args),
            Stmt::DmaWrite {
                addr,
                len,
                source,
                status,
            } => {
                v.extend([addr, len]);
                match source {
                    Source::Random(e) | Source::Pattern(e) | Source::Word(e) => v.push(e),
                    Source::Buffer { offset, .. } => v.push(offset),
                }
                if let Some(p) = status {
                    place(p, &mut v);
                }
            }
            Stmt::DmaRead {
                addr,
                len,
                into,
                status,
            } => {
                v.extend([addr, len]);
                match into {
                    DmaDest::Buffer { offset, .. } => v.push(offset),
                    DmaDest::Scalar(p) => place(p, &mut v),
                }
                if let Some(p) = status {
                    place(p, &mut v);
                }
            }
            Stmt::Irq(_)
            | Stmt::TimerStop(_)
            | Stmt::FifoPop(_)
            | Stmt::FifoClear(_)
            | Stmt::Vmm(_) => {}
        }
        v
    }

    /// Visit these statements and every nested one (`if` branches).
    pub fn walk_all(stmts: &[Stmt], f: &mut dyn FnMut(&Stmt)) {
        let mut stack: Vec<&Stmt> = stmts.iter().rev().collect();
        while let Some(s) = stack.pop() {
            f(s);
            if let Stmt::If {
                then, otherwise, ..
            } = s
            {
                stack.extend(otherwise.iter().rev());
                stack.extend(then.iter().rev());
            }
        }
    }
}

/// Bytes a DMA write sends.
#[derive(Debug, Clone)]
pub enum Source {
    /// The xorshift32 stream from this seed (see the runtime's `random_bytes`).
    Random(Expr),
    /// One byte, repeated.
    Pattern(Expr),
    /// The 8 little-endian bytes of a value, repeated.
    Word(Expr),
    /// A device buffer from an offset.
    /// `state[offset ..]`: bytes of a buffer state; a range past its end
    /// fails with outcome 6 (nothing transferred).
    Buffer {
        /// The buffer state.
        state: StateId,
        /// Offset of the first byte in the buffer.
        offset: Expr,
    },
}

/// Where a DMA read lands.
#[derive(Debug, Clone)]
pub enum DmaDest {
    /// `into state[offset ..]`: bytes of a buffer state; a range past its end
    /// fails with outcome 6.
    Buffer {
        /// The buffer state.
        state: StateId,
        /// Offset of the first byte in the buffer.
        offset: Expr,
    },
    /// A scalar place: at most 8 bytes, little-endian.
    Scalar(Place),
}
