//! Device items other than BARs and scenarios: the `interrupt` block,
//! scalar and state types, states, hooks, timers, streams, `let`s and `fn`s.

use super::{Expr, Ident, Num, Stmt, Str};
use crate::source::Span;

/// One item of an `interrupt` block.
#[derive(Debug, Clone)]
pub enum InterruptItem {
    /// `pin A..D;`: the INTx pin (the letter checked by the checker).
    Pin(Ident),
    /// `msi N;`: MSI vectors (1, 2, 4, 8, 16 or 32).
    Msi(Num),
    /// `msix N table bar B @ OFF pba bar B @ OFF;`
    Msix {
        /// Number of vectors (1 to 2048).
        vectors: Num,
        /// Table location: (BAR index, offset in the BAR).
        table: (Num, Num),
        /// Pending bit array location: (BAR index, offset in the BAR).
        pba: (Num, Num),
    },
    /// `level EXPR;`: the INTx level, recomputed after every access.
    Level(Expr),
    /// `status REG;`: the register the driver's handler reads first.
    Status(Ident),
    /// `mine EXPR;`
    Mine(Expr),
    /// `ack REG = EXPR [when EXPR];`
    Ack {
        /// The register written.
        register: Ident,
        /// The value written (may use `value`, the `status` register as read).
        value: Expr,
        /// Write only when this is non-zero (`None`: always).
        when: Option<Expr>,
    },
}

/// `interrupt { ... }` (items kept in order; repeats are checked later).
#[derive(Debug, Clone)]
pub struct InterruptAst {
    /// The whole block.
    pub span: Span,
    /// Items with the span of each whole item (for duplicate reports).
    pub items: Vec<(InterruptItem, Span)>,
    /// Some item had a syntax error (already reported): what it would have
    /// declared is unknown, so "missing item" errors would be cascades.
    pub malformed: bool,
}

/// A scalar type of the language: the register widths and state types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    /// 8-bit unsigned.
    U8,
    /// 16-bit unsigned.
    U16,
    /// 32-bit unsigned.
    U32,
    /// 64-bit unsigned.
    U64,
    /// `true`/`false`, stored as one bit.
    Bool,
}

impl ScalarType {
    /// The type named `s` (`u8`, `u16`, `u32`, `u64` or `bool`), if any.
    pub fn parse(s: &str) -> Option<ScalarType> {
        Some(match s {
            "u8" => ScalarType::U8,
            "u16" => ScalarType::U16,
            "u32" => ScalarType::U32,
            "u64" => ScalarType::U64,
            "bool" => ScalarType::Bool,
            _ => return None,
        })
    }
    /// Width in bits (1 for `bool`).
    pub fn bits(self) -> u32 {
        match self {
            ScalarType::U8 => 8,
            ScalarType::U16 => 16,
            ScalarType::U32 => 32,
            ScalarType::U64 => 64,
            ScalarType::Bool => 1,
        }
    }
    /// The type's name as written in a spec (and in Rust).
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::U8 => "u8",
            ScalarType::U16 => "u16",
            ScalarType::U32 => "u32",
            ScalarType::U64 => "u64",
            ScalarType::Bool => "bool",
        }
    }
}

/// The type of a `state`.
#[derive(Debug, Clone)]
pub enum TypeAst {
    /// `u8` .. `u64` or `bool`.
    Scalar(ScalarType, Span),
    /// `[u8; N]`: a buffer of N bytes.
    Buffer(Num, Span),
    /// `fifo[ELEM; CAPACITY]`.
    Fifo(ScalarType, Num, Span),
}

/// `state NAME: TYPE [= INIT] [sticky];`
#[derive(Debug, Clone)]
pub struct StateAst {
    /// The state's name.
    pub name: Ident,
    /// Its type as written.
    pub ty: TypeAst,
    /// `= N` for a scalar: the value at reset (0 when absent).
    pub reset: Option<Num>,
    /// A buffer's initial bytes: `= "text"`, `= strings(SLOT, "a", ...)`
    /// or `= [0x52, 0x54]`.
    pub init: Option<BufferInit>,
    /// `sticky`: keeps its value across a device reset.
    pub sticky: Option<Span>,
    /// The whole item.
    pub span: Span,
}

/// Initial contents of a buffer state.
#[derive(Debug, Clone)]
pub enum BufferInit {
    /// One string, from offset 0.
    Text(Str),
    /// Each string at `slot * i`, zero-padded.
    Strings {
        /// Bytes per string (each string is cut to fit).
        slot: Num,
        /// The strings, placed in order.
        strings: Vec<Str>,
        /// The whole `strings(...)` call.
        span: Span,
    },
    /// `[b0, b1, ...]`: one number per byte, from offset 0.
    Bytes {
        /// The bytes as written (checked to fit 8 bits).
        bytes: Vec<Num>,
        /// The whole list.
        span: Span,
    },
}

impl BufferInit {
    /// Where the initializer is written.
    pub fn span(&self) -> Span {
        match self {
            BufferInit::Text(s) => s.span,
            BufferInit::Strings { span, .. } | BufferInit::Bytes { span, .. } => *span,
        }
    }
}

/// `hook NAME(a: T, ...) [-> T];`: behaviour written in Rust.
#[derive(Debug, Clone)]
pub struct HookAst {
    /// The hook's name (a method of the model's `Hooks` trait).
    pub name: Ident,
    /// Parameters, in order, with their types.
    pub params: Vec<(Ident, ScalarType)>,
    /// The return type and where it is written; `None`: returns nothing.
    pub ret: Option<(ScalarType, Span)>,
    /// The whole item.
    pub span: Span,
}

/// `timer NAME { ... }`: the block runs when the timer fires.
#[derive(Debug, Clone)]
pub struct TimerAst {
    /// The timer's name (`NAME.running`, `NAME.remaining` in expressions).
    pub name: Ident,
    /// The actions run when the timer fires.
    pub on_fire: Vec<Stmt>,
    /// The whole item.
    pub span: Span,
}

/// `stream NAME { ready EXPR; on input { ... } }` (both optional).
#[derive(Debug, Clone)]
pub struct StreamAst {
    /// The stream's name (`send NAME`, `NAME.space`, `input NAME`).
    pub name: Ident,
    /// `ready EXPR;` items (a second one is E0105).
    pub ready: Vec<(Expr, Span)>,
    /// `on input { ... }` blocks, each with its span (a second one is E0105).
    pub on_input: Vec<(Vec<Stmt>, Span)>,
    /// The whole item.
    pub span: Span,
}

/// `let NAME = EXPR;`
#[derive(Debug, Clone)]
pub struct LetAst {
    /// The name it gives.
    pub name: Ident,
    /// The expression, evaluated where the name is used.
    pub value: Expr,
    /// The whole item.
    pub span: Span,
}

/// `fn NAME(a: T, ...) -> T = EXPR;`
#[derive(Debug, Clone)]
pub struct FnAst {
    /// The function's name.
    pub name: Ident,
    /// Parameters, in order (arguments are truncated to these types).
    pub params: Vec<(Ident, ScalarType)>,
    /// The return type (the result is truncated to it) and its span.
    pub ret: (ScalarType, Span),
    /// The body: a pure expression over the parameters and constants.
    pub body: Expr,
    /// The whole item.
    pub span: Span,
}
