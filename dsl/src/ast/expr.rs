//! Expressions as written.

use super::{BinOp, Ident, Place, UnOp};
use crate::source::Span;

/// An expression with its span.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// The whole expression.
    pub span: Span,
}

/// What an [`Expr`] is.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// An integer literal.
    Num(u64),
    /// `true` or `false`.
    Bool(bool),
    /// The value being written, inside `on write` (and `ack`).
    Value,
    /// The driver's DMA buffer address, in scenarios.
    DmaAddr,
    /// A state, register, `REG.field`, `buf[i]` or property read (no side
    /// effects).
    Place(Place),
    /// A hook call, `NAME(ARGS)`, or a call of a `fn` (resolved later).
    Call {
        /// The hook or function called.
        hook: Ident,
        /// Arguments, in order.
        args: Vec<Expr>,
    },
    /// `-x`, `~x` or `!x`.
    Unary(UnOp, Box<Expr>),
    /// A binary operator and its operands.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c { a } else { b }`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `index`: the element number, inside an array register.
    Index,
    /// `byte`: the byte that arrived, inside a stream's `on input`.
    Byte,
    /// `access.size`: bytes of the current guest access.
    AccessSize,
    /// `access.mask`: the register bits the current guest access covers.
    AccessMask,
}
