//! The syntax tree, exactly as written, with a span on everything.
//!
//! The AST is what the parser produces and the checker consumes; no backend
//! sees it (they get the typed [`crate::ir`]). Names are not resolved here and
//! nothing is validated beyond the grammar.

use crate::source::Span;
pub use pcidev_core::time::TimeUnit;
pub use pcidev_core::{AccessKind, AssignOp, BinOp, IrqOp, UnOp};

/// A name as written (not yet resolved), with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    /// The name's text, exactly as written.
    pub name: String,
    /// Where the name is, for diagnostics that point at it.
    pub span: Span,
}

/// An integer literal with its value already parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num {
    /// The value (suffixes `K`/`M`/`G` applied; overflow is E0002).
    pub value: u64,
    /// Where the literal is.
    pub span: Span,
}

/// A string literal with its escapes (`\\`, `\"`, `\n`, `\t`) decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str {
    /// The decoded text, without the quotes.
    pub value: String,
    /// Where the literal is, quotes included.
    pub span: Span,
}

/// A spec file after includes: zero or more devices (the checker wants one).
#[derive(Debug, Clone, Default)]
pub struct SpecAst {
    /// `language N;` of the spec file, when it states one.
    pub language: Option<Num>,
    /// The `device` items, in file order.
    pub devices: Vec<DeviceAst>,
}

impl SpecAst {
    /// The language version the spec is read as: the one it states, or the
    /// newest ([`crate::ir::LANGUAGE_VERSION`]).
    pub fn language_version(&self) -> u64 {
        self.language
            .map_or(crate::ir::LANGUAGE_VERSION, |n| n.value)
    }

    /// Can this compiler read the spec? (`language N;` with N from 1 to
    /// [`crate::ir::LANGUAGE_VERSION`], or no `language` item.)
    pub fn language_supported(&self) -> bool {
        (1..=crate::ir::LANGUAGE_VERSION).contains(&self.language_version())
    }
}

/// `device NAME { ... }`: one PCI function.
#[derive(Debug, Clone)]
pub struct DeviceAst {
    /// The device's name (`lower_snake_case`; the generated code is named
    /// after it).
    pub name: Ident,
    /// The whole item, from `device` to the closing brace.
    pub span: Span,
    /// The items in the braces, in file order (includes spliced in).
    pub items: Vec<DeviceItem>,
}

/// One item of a `device` block.
#[derive(Debug, Clone)]
pub enum DeviceItem {
    /// `description "TEXT";`
    Description(Str),
    /// `id VENDOR:DEVICE;`
    Id {
        /// PCI vendor id (0x0000 and 0xffff are refused by the checker).
        vendor: Num,
        /// PCI device id.
        device: Num,
        /// The whole item.
        span: Span,
    },
    /// `revision N;` (PCI revision id, 0 when absent).
    Revision(Num),
    /// `class BASE:SUB:PROG_IF;`
    Class {
        /// Base class code.
        base: Num,
        /// Subclass code.
        sub: Num,
        /// Programming interface.
        prog_if: Num,
        /// The whole item.
        span: Span,
    },
    /// `subsystem VENDOR:ID;`
    Subsystem {
        /// Subsystem vendor id.
        vendor: Num,
        /// Subsystem id.
        id: Num,
        /// The whole item.
        span: Span,
    },
    /// `interrupt { ... }`
    Interrupt(InterruptAst),
    /// `state NAME: TYPE [= INIT] [sticky];`
    State(StateAst),
    /// `hook NAME(PARAMS) [-> TYPE];`
    Hook(HookAst),
    /// `dma_buffer SIZE;`: bytes of the driver's DMA buffer (`dma.addr` in
    /// scenarios).
    DmaBuffer(Num),
    /// `bar N KIND [prefetchable] size S { ... }`
    Bar(BarAst),
    /// `scenario NAME ["DESCRIPTION"] { ... }`
    Scenario(ScenarioAst),
    /// `timer NAME { ... }`
    Timer(TimerAst),
    /// `stream NAME [{ ... }]`
    Stream(StreamAst),
    /// `let NAME = EXPR;`
    Let(LetAst),
    /// `fn NAME(PARAMS) -> TYPE = EXPR;`
    Fn(FnAst),
    /// `config { ... }`
    Config(ConfigAst),
}

impl DeviceItem {
    /// The whole item, for diagnostics about it (duplicates, misplacement).
    pub fn span(&self) -> Span {
        match self {
            DeviceItem::Description(s) => s.span,
            DeviceItem::Id { span, .. }
            | DeviceItem::Class { span, .. }
            | DeviceItem::Subsystem { span, .. } => *span,
            DeviceItem::Revision(n) | DeviceItem::DmaBuffer(n) => n.span,
            DeviceItem::Interrupt(i) => i.span,
            DeviceItem::State(s) => s.span,
            DeviceItem::Hook(h) => h.span,
            DeviceItem::Bar(b) => b.span,
            DeviceItem::Scenario(s) => s.span,
            DeviceItem::Timer(t) => t.span,
            DeviceItem::Stream(s) => s.span,
            DeviceItem::Let(l) => l.span,
            DeviceItem::Fn(f) => f.span,
            DeviceItem::Config(c) => c.span,
        }
    }
}

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
    /// A buffer's initial bytes: `= "text"` or `= strings(SLOT, "a", ...)`.
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
}

impl BufferInit {
    /// Where the initializer is written.
    pub fn span(&self) -> Span {
        match self {
            BufferInit::Text(s) => s.span,
            BufferInit::Strings { span, .. } => *span,
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

// ------------------------------------------------------------------ actions

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

// ------------------------------------------------------------------ expressions

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

// ------------------------------------------------------------------ scenarios

/// `scenario NAME ["DESCRIPTION"] { STEPS }`
#[derive(Debug, Clone)]
pub struct ScenarioAst {
    /// The scenario's name (the name of its host test).
    pub name: Ident,
    /// What it checks, shown by the driver's self-test.
    pub description: Option<Str>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// The whole item.
    pub span: Span,
}

/// What an expectation looks at: a register or raw location, or (host
/// only) a piece of state such as `rx.len`.
#[derive(Debug, Clone)]
pub enum ProbeLocation {
    /// A register or a raw `bar`/`config` location.
    Location(Location),
    /// A name with an optional `.property` (resolved by the checker).
    Named {
        /// The state, FIFO, timer or register named.
        name: Ident,
        /// `.len`, `.front`, `.running`, ...; `None` for the value itself.
        property: Option<Ident>,
    },
}

impl ProbeLocation {
    /// The whole location as written.
    pub fn span(&self) -> Span {
        match self {
            ProbeLocation::Location(l) => l.span(),
            ProbeLocation::Named { name, property } => match property {
                Some(p) => name.span.to(p.span),
                None => name.span,
            },
        }
    }
}

/// Bytes in a scenario: `"text"` or `[expr, ...]`.
#[derive(Debug, Clone)]
pub enum ByteData {
    /// `"text"`: the UTF-8 bytes of the decoded string.
    Text(Str),
    /// `[e, ...]`: one byte per expression, and the list's span.
    List(Vec<Expr>, Span),
}

/// Where a scenario reads or writes.
#[derive(Debug, Clone)]
pub enum Location {
    /// A register by name.
    Register(Ident),
    /// `bar N @ OFF : W`, or `config @ OFF : W` (`bar` is then `None`).
    Raw {
        /// BAR index; `None` for configuration space.
        bar: Option<Num>,
        /// Offset in the BAR or in configuration space.
        offset: Num,
        /// Width of the access and its span.
        width: (ScalarType, Span),
        /// The whole location.
        span: Span,
    },
}

impl Location {
    /// The whole location as written.
    pub fn span(&self) -> Span {
        match self {
            Location::Register(i) => i.span,
            Location::Raw { span, .. } => *span,
        }
    }
}

/// One scenario step with its span.
#[derive(Debug, Clone)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// The whole step.
    pub span: Span,
}

/// What a scenario step does (see [`pcidev_core::scenario::Step`] for
/// the checked form).
#[derive(Debug, Clone)]
pub enum StepKind {
    /// `expect LOC ==|!= VALUE [mask M];`: read and compare.
    Expect {
        /// What is read.
        location: ProbeLocation,
        /// `!=` instead of `==`.
        not_equal: bool,
        /// Expected value.
        value: Expr,
        /// Only the bits set in the mask are compared.
        mask: Option<Expr>,
    },
    /// `wait LOC == VALUE [mask M];`: poll until equal (the driver waits; the
    /// host model must already match).
    Wait {
        /// The register polled.
        location: ProbeLocation,
        /// Expected value.
        value: Expr,
        /// Only the bits set in the mask are compared.
        mask: Option<Expr>,
    },
    /// `write LOC = VALUE;`
    Write {
        /// Where to write.
        location: Location,
        /// The value (may use `dma.addr`).
        value: Expr,
    },
    /// `read LOC;`: a read for its side effects; the value is not checked.
    Read {
        /// Where to read.
        location: Location,
    },
    /// `invalid write LOC = VALUE;`: an access the BAR's policy refuses.
    InvalidWrite {
        /// Where to write.
        location: Location,
        /// The value.
        value: Expr,
    },
    /// `invalid read LOC;`: an access the BAR's policy refuses.
    InvalidRead {
        /// Where to read.
        location: Location,
    },
    /// `expect irq;` / `expect no irq;`
    ExpectIrq {
        /// `expect irq` (true) or `expect no irq` (false).
        asserted: bool,
    },
    /// `expect msi N;`
    ExpectMsi {
        /// The vector.
        vector: Num,
    },
    /// `expect dma[START .. END] == SOURCE;`: the DMA buffer's bytes.
    ExpectDma {
        /// First byte (an offset into the DMA buffer).
        start: Expr,
        /// One past the last byte.
        end: Expr,
        /// The expected bytes.
        source: Source,
    },
    /// `fill dma[START .. END] = SOURCE;`: set the DMA buffer's bytes.
    Fill {
        /// First byte (an offset into the DMA buffer).
        start: Expr,
        /// One past the last byte.
        end: Expr,
        /// The bytes written.
        source: Source,
    },
    /// `repeat N { ... }`.
    Repeat {
        /// How many times (at most 100000 steps unrolled in all).
        count: Expr,
        /// The steps repeated.
        body: Vec<Step>,
    },
    /// `advance N UNIT;`
    Advance {
        /// How much virtual time passes, in `unit`s.
        amount: Expr,
        /// The unit of `amount`.
        unit: TimeUnit,
    },
    /// `input S BYTES;`
    Input {
        /// The stream the bytes arrive on.
        stream: Ident,
        /// The bytes.
        data: ByteData,
    },
    /// `expect output S BYTES;`
    ExpectOutput {
        /// The stream whose output is checked.
        stream: Ident,
        /// The bytes expected since the last check, in order.
        data: ByteData,
    },
    /// `expect vmm KIND;`
    ExpectVmm(Ident),
}
