//! Actions as written: statements of action blocks, DMA sources and
//! places that store.

use super::{AssignOp, Expr, Ident, IrqOp, TimeUnit};
use crate::source::Span;

/// One action in an action block.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// What it does.
    pub kind: StmtKind,
    /// The whole statement.
    pub span: Span,
}

/// The actions of `on read`, `on write`, timers and `on input`.
#[derive(Debug, Clone)]
pub enum StmtKind {
    /// `if COND { ... } else { ... }` (`else if` nests in `otherwise`).
    If {
        /// The condition (non-zero is true).
        cond: Expr,
        /// Actions when the condition holds.
        then: Vec<Stmt>,
        /// Actions otherwise (empty without `else`).
        otherwise: Vec<Stmt>,
    },
    /// `irq raise;`, `irq lower;`, `irq pulse;`
    Irq(IrqOp),
    /// `msi EXPR;`: send that vector (MSI-X when enabled, else MSI).
    Msi(Expr),
    /// `dma write addr A len L from SOURCE [status P];`: device to guest.
    DmaWrite {
        /// Guest physical address of the first byte.
        addr: Expr,
        /// Number of bytes.
        len: Expr,
        /// Where the bytes come from.
        source: Source,
        /// Where to store the outcome code (1 done, 2 bus mastering off, ...).
        status: Option<Place>,
    },
    /// `dma read addr A len L into P [status S];`: guest to device.
    DmaRead {
        /// Guest physical address of the first byte.
        addr: Expr,
        /// Number of bytes.
        len: Expr,
        /// Where the bytes go: a buffer at an index, or a scalar (<= 8 bytes, LE).
        into: Place,
        /// Where to store the outcome code.
        status: Option<Place>,
    },
    /// `PLACE = EXPR;` and the compound forms (`+=`, `|=`, ...).
    Assign {
        /// What is assigned.
        place: Place,
        /// `=` or the compound operator.
        op: AssignOp,
        /// The right-hand side (truncated to the place's width).
        value: Expr,
    },
    /// `HOOK(ARGS);`: a hook call whose result is dropped.
    Call {
        /// The hook called.
        hook: Ident,
        /// Arguments, in order.
        args: Vec<Expr>,
    },
    /// `start T after|every EXPR UNIT;`
    Start {
        /// The timer started.
        timer: Ident,
        /// `every` (true) or `after` (false).
        periodic: bool,
        /// The duration, in `unit`s (evaluated when `start` runs).
        duration: Expr,
        /// The unit of `duration`.
        unit: TimeUnit,
    },
    /// `stop T;`
    Stop(Ident),
    /// `send S EXPR;`
    Send {
        /// The stream written to.
        stream: Ident,
        /// The byte (its low 8 bits are sent).
        value: Expr,
    },
    /// `vmm reset;` (the request as written, checked later).
    Vmm(Ident),
    /// `NAME.method(ARG?);` (`push`, `pop`, `clear` on FIFOs).
    Method {
        /// The FIFO.
        target: Ident,
        /// The method's name.
        method: Ident,
        /// The argument (`push` takes one; the others none).
        arg: Option<Expr>,
    },
}

/// What a DMA transfer or a DMA scenario step moves.
#[derive(Debug, Clone)]
pub struct Source {
    /// Which source.
    pub kind: SourceKind,
    /// Where it is written.
    pub span: Span,
}

/// The bytes of a [`Source`].
#[derive(Debug, Clone)]
pub enum SourceKind {
    /// `random(SEED)`: the xorshift32 stream of `runtime/src/rng.rs`.
    Random(Expr),
    /// `pattern(BYTE)`: every byte the same.
    Pattern(Expr),
    /// `word(W)`: the 8 little-endian bytes of W, repeated.
    Word(Expr),
    /// A place: a buffer from an index, or a scalar's bytes.
    Place(Place),
}

/// Named storage: `state`, `REG`, `REG.field`, `buffer[index]`.
#[derive(Debug, Clone)]
pub struct Place {
    /// The state or register named.
    pub base: Ident,
    /// `.name` after the base: a register's field, or a property of a FIFO,
    /// timer or stream (`rx.len`, `t.running`).
    pub field: Option<Ident>,
    /// `[index]` of a buffer.
    pub index: Option<Box<Expr>>,
    /// The whole place.
    pub span: Span,
}
