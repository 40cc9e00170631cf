//! Integer expressions and their traversal.

use super::{BinOp, FnId, HookId, LetId, RegId, StateId, StreamId, TimerId, UnOp};

/// Integer expressions, evaluated in u64 with wrapping arithmetic.
/// Comparisons and logical operators give 0 or 1; division by zero gives 0;
/// shifts by 64 or more give 0.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A constant.
    Const(u64),
    /// A scalar state's value.
    State(StateId),
    /// The stored value of a register (no read side effects).
    Register(RegId),
    /// A field's value, shifted down to bit 0 (the register's stored bits,
    /// no side effects); the index is into [`Register::fields`](super::Register::fields).
    Field(RegId, usize),
    /// Byte `index` of a buffer state; 0 when out of range.
    BufferByte(StateId, Box<Expr>),
    /// The value being written (`on write`), or the status read (`ack`).
    Value,
    /// A hook call (its result; the hook may have side effects).
    Call(HookId, Vec<Expr>),
    /// `-x` (wrapping), `~x` or `!x` (0 or 1).
    Unary(UnOp, Box<Expr>),
    /// A binary operator (see [`BinOp`]) and its operands.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c { a } else { b }` (only the chosen branch is evaluated).
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// 1 when the timer is running, else 0.
    TimerRunning(TimerId),
    /// Nanoseconds until the timer fires; 0 when stopped.
    TimerRemaining(TimerId),
    /// Elements in a FIFO state.
    FifoLen(StateId),
    /// The first element of a FIFO state; 0 when empty.
    FifoFront(StateId),
    /// 1 when the FIFO holds `capacity` elements.
    FifoFull(StateId),
    /// 1 when the FIFO holds nothing.
    FifoEmpty(StateId),
    /// Bytes the stream's output queue can still take.
    StreamSpace(StreamId),
    /// The byte being delivered, in a stream's `on input`.
    Byte,
    /// A named expression's value.
    Let(LetId),
    /// A pure function call.
    Fn(FnId, Vec<Expr>),
    /// Parameter N of the enclosing `fn` (only in `fn` bodies).
    Param(usize),
    /// Bytes of the current guest access (1, 2, 4, 8): only in a
    /// register's `read`, `on read` and `on write`.
    AccessSize,
    /// The register bits the current guest access covers (e.g. `0xff00`
    /// for a 1-byte access at offset 1 of a u16 register): only where
    /// [`Expr::AccessSize`] is.
    AccessMask,
    /// The element number of the array register whose behaviour this is
    /// (only in `register NAME[N]`; see [`Register::index_value`](super::Register::index_value)).
    Index,
}

impl Expr {
    /// The value of an expression of constants and operators only (the
    /// semantics of `pcidev_core::ops`), else None.
    pub fn constant(&self) -> Option<u64> {
        match self {
            Expr::Const(v) => Some(*v),
            Expr::Unary(op, x) => Some(pcidev_core::ops::eval_unary(*op, x.constant()?)),
            Expr::Binary(op, a, b) => Some(pcidev_core::ops::eval_binary(
                *op,
                a.constant()?,
                b.constant()?,
            )),
            Expr::Cond(c, a, b) => {
                if c.constant()? != 0 {
                    a.constant()
                } else {
                    b.constant()
                }
            }
            _ => None,
        }
    }

    /// Like [`Expr::walk`], but without the branch a conditional with a
    /// constant condition does not take (generated code leaves it out, so
    /// what only it names is unused).
    pub fn walk_live(&self, f: &mut dyn FnMut(&Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            match e {
                Expr::BufferByte(_, i) | Expr::Unary(_, i) => stack.push(i),
                Expr::Binary(_, a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                Expr::Cond(c, a, b) => match c.constant() {
                    Some(0) => stack.push(b),
                    Some(_) => stack.push(a),
                    None => {
                        stack.push(c);
                        stack.push(a);
                        stack.push(b);
                    }
                },
                Expr::Call(_, args) | Expr::Fn(_, args) => stack.extend(args.iter()),
                _ => {}
            }
        }
    }

    /// Visit this expression and every sub-expression (iteratively).
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            match e {
                Expr::BufferByte(_, i) | Expr::Unary(_, i) => stack.push(i),
                Expr::Binary(_, a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                Expr::Cond(c, a, b) => {
                    stack.push(c);
                    stack.push(a);
                    stack.push(b);
                }
                Expr::Call(_, args) | Expr::Fn(_, args) => stack.extend(args.iter()),
                _ => {}
            }
        }
    }
}
