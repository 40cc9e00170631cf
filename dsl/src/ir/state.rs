//! The device's variables and named behaviour: state types and states,
//! timers, streams, `let`s, `fn`s and hooks.

use super::{Expr, Stmt};
use crate::source::Span;

/// The type of a state, a `fn` parameter or result, or a hook parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// An unsigned integer of 8, 16, 32 or 64 bits.
    Uint(u32),
    /// `bool`: stored as 0 or 1.
    Bool,
    /// A byte buffer of this length (device memory, e.g. edu's DMA buffer).
    Buffer(u64),
    /// A bounded queue of `elem_bits`-bit unsigned elements (8, 16, 32,
    /// 64), holding at most `capacity` (1..=[`MAX_FIFO`]). Empty at reset.
    /// `push` on a full FIFO and `pop` on an empty one do nothing.
    Fifo {
        /// Bits of an element: 8, 16, 32 or 64.
        elem_bits: u32,
        /// Most elements held: 1..=[`MAX_FIFO`].
        capacity: u32,
    },
}

/// The largest FIFO capacity a spec may declare.
pub const MAX_FIFO: u64 = 4096;

impl Type {
    /// Bits of a scalar (1 for bool); 0 for buffers.
    pub fn bits(self) -> u32 {
        match self {
            Type::Uint(b) => b,
            Type::Bool => 1,
            Type::Buffer(_) | Type::Fifo { .. } => 0,
        }
    }
}

/// A `state`: a variable of the device, reset with it unless `sticky`.
#[derive(Debug, Clone)]
pub struct State {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// Scalar, buffer or FIFO.
    pub ty: Type,
    /// Value at reset of a scalar, fitting its type (buffers start from
    /// `init`, FIFOs empty).
    pub reset: u64,
    /// A buffer's initial bytes (the rest is zero); empty for scalars.
    pub init: Vec<u8>,
    /// Keeps its value across a device reset (`reset` is then only the
    /// value at creation).
    pub sticky: bool,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// A timer. Started by [`Stmt::TimerStart`]; when it fires, `on_fire` runs
/// (a periodic timer is re-armed from its due time first). Starting a
/// running timer re-arms it.
#[derive(Debug, Clone)]
pub struct Timer {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// Actions run each time the timer fires.
    pub on_fire: Vec<Stmt>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// A byte stream to the outside world.
#[derive(Debug, Clone)]
pub struct Stream {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// May the host deliver a byte now? `None`: always.
    pub ready: Option<Expr>,
    /// Runs once per delivered byte ([`Expr::Byte`]).
    pub on_input: Vec<Stmt>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// `let NAME = EXPR;`: evaluated where it is used (no storage). The
/// expression sees states and registers, never `value`/`byte`/`index`.
#[derive(Debug, Clone)]
pub struct Let {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// The expression it stands for.
    pub value: Expr,
    /// Does evaluating it call a hook (directly or through other lets)?
    /// Such lets are not usable in `level`.
    pub calls_hook: bool,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// `fn NAME(params) -> ret = body;`: arguments are truncated to their
/// parameter types before the body runs, the result to `ret`.
#[derive(Debug, Clone)]
pub struct Function {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// Parameter names and types, in order ([`Expr::Param`] indexes them).
    pub params: Vec<(String, Type)>,
    /// The result type.
    pub ret: Type,
    /// The body: parameters, constants and other `fn`s only.
    pub body: Expr,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// A named piece of user Rust code: `fn name(&mut self, params: u64...) -> u64`.
#[derive(Debug, Clone)]
pub struct Hook {
    /// lower_snake_case: the `Hooks` trait method's name.
    pub name: String,
    /// Parameter names and types, in order.
    pub params: Vec<(String, Type)>,
    /// The return type; `None`: returns nothing.
    pub ret: Option<Type>,
    /// The declaration, for diagnostics.
    pub span: Span,
}
