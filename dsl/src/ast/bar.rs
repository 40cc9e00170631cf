//! BARs and configuration space as written: access policies, windows,
//! capabilities, registers and their fields.

use super::{AccessKind, Expr, Ident, Num, ScalarType, Stmt};
use crate::source::Span;

/// The kind of a BAR, as written after its index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKindAst {
    /// `io`: I/O space, 4 to 256 bytes.
    Io,
    /// `mem32`: 32-bit memory space.
    Mem32,
    /// `mem64`: 64-bit memory space (takes two BAR slots).
    Mem64,
}

/// `invalid ...;`: what an access the BAR's policy refuses does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidKindAst {
    /// `ignore`: reads 0, writes dropped.
    Ignore,
    /// `ones`: reads all-ones, writes dropped.
    Ones,
    /// `error`: the access fails (`Err` to the VMM; reads all-ones).
    Error,
}

/// `access SIZES [unaligned];`
#[derive(Debug, Clone)]
pub struct AccessAst {
    /// Allowed access sizes in bytes (1, 2, 4, 8), as written.
    pub sizes: Vec<Num>,
    /// `unaligned`: accesses need not be naturally aligned.
    pub unaligned: bool,
    /// The whole item.
    pub span: Span,
}

/// `bar N KIND [prefetchable] size S { ... }`
#[derive(Debug, Clone)]
pub struct BarAst {
    /// BAR index, 0 to 5.
    pub index: Num,
    /// I/O or memory, 32 or 64 bits.
    pub kind: BarKindAst,
    /// Where the kind word is.
    pub kind_span: Span,
    /// `prefetchable`, with its span, when written.
    pub prefetchable: Option<Span>,
    /// Size in bytes (a power of two).
    pub size: Num,
    /// `access` items (a second one is E0105).
    pub access: Vec<AccessAst>,
    /// `invalid` items, with their spans (a second one is E0105).
    pub invalid: Vec<(InvalidKindAst, Span)>,
    /// `unmapped ones;` (true) / `unmapped zero;`.
    pub unmapped: Vec<(bool, Span)>,
    /// The BAR's registers, in file order.
    pub registers: Vec<RegisterAst>,
    /// `window STATE @ OFFSET [ro|rw];` items.
    pub windows: Vec<WindowAst>,
    /// The whole item.
    pub span: Span,
}

/// `window STATE @ OFFSET [ro|rw];`: a buffer state shown in the BAR.
#[derive(Debug, Clone)]
pub struct WindowAst {
    /// The buffer state shown.
    pub state: Ident,
    /// Offset of the window's first byte in the BAR.
    pub offset: Num,
    /// `ro` (false) or `rw` (true, the default), with its span if written.
    pub writable: (bool, Option<Span>),
    /// The whole item.
    pub span: Span,
}

/// `config { register ...; capability vendor @ OFF size N { ... } }`:
/// registers at absolute configuration-space offsets.
#[derive(Debug, Clone)]
pub struct ConfigAst {
    /// Registers at absolute configuration-space offsets (0x40..0xff).
    pub registers: Vec<RegisterAst>,
    /// `capability vendor` blocks.
    pub capabilities: Vec<CapabilityAst>,
    /// The whole block.
    pub span: Span,
}

/// `capability vendor @ OFFSET size N { register ...; }`.
#[derive(Debug, Clone)]
pub struct CapabilityAst {
    /// The kind word (`vendor`) and its span.
    pub kind: (String, Span),
    /// Offset of the capability header in configuration space (dword aligned).
    pub offset: Num,
    /// Length in bytes, the 3-byte header included.
    pub size: Num,
    /// Registers inside the capability, at absolute offsets.
    pub registers: Vec<RegisterAst>,
    /// The whole item.
    pub span: Span,
}

/// `field NAME [HI:LO] ACCESS [= RESET] [{ variant = N, ... }];`
#[derive(Debug, Clone)]
pub struct FieldAst {
    /// The field's name.
    pub name: Ident,
    /// Most significant bit (equals `lo` for `[N]`).
    pub hi: Num,
    /// Least significant bit.
    pub lo: Num,
    /// Where `[HI:LO]` is.
    pub bits_span: Span,
    /// The field's access kind and its span.
    pub access: (AccessKind, Span),
    /// `= N`: the field's value at reset, in field position (0 when absent).
    pub reset: Option<Num>,
    /// Named values (`{ off = 0, slow = 1 }`), in order.
    pub variants: Vec<(Ident, Num)>,
    /// The whole item.
    pub span: Span,
}

/// `register NAME[N]? @ OFFSET : WIDTH [ACCESS] [= RESET] (; | { ... })`
#[derive(Debug, Clone)]
pub struct RegisterAst {
    /// The register's name (`UPPER_SNAKE_CASE`).
    pub name: Ident,
    /// `NAME[N]`: an array of N registers `NAME_0 .. NAME_{N-1}`.
    pub count: Option<Num>,
    /// Offset in the BAR (or in configuration space, in `config`).
    pub offset: Num,
    /// The width and its span.
    pub width: (ScalarType, Span),
    /// The register-wide access kind, when written.
    pub access: Option<(AccessKind, Span)>,
    /// `= N`: the value at reset (0 when absent).
    pub reset: Option<Num>,
    /// `field` items, in order.
    pub fields: Vec<FieldAst>,
    /// `access SIZES;` inside the register: narrows the BAR's sizes.
    pub access_sizes: Vec<AccessAst>,
    /// `read EXPR;` items: the computed read value (a second one is E0105).
    pub read: Vec<(Expr, Span)>,
    /// `on read { ... }` blocks (a second one is E0105).
    pub on_read: Vec<(Vec<Stmt>, Span)>,
    /// `on write { ... }` blocks (a second one is E0105).
    pub on_write: Vec<(Vec<Stmt>, Span)>,
    /// The whole item.
    pub span: Span,
}
