//! The syntax tree, exactly as written, with a span on everything.
//!
//! The AST is what the parser produces and the checker consumes; no backend
//! sees it (they get the typed [`crate::ir`]). Names are not resolved here and
//! nothing is validated beyond the grammar.

use crate::source::Span;
pub use pcidev_core::time::TimeUnit;
pub use pcidev_core::{AccessKind, AssignOp, BinOp, IrqOp, UnOp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// An integer literal with its value already parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num {
    pub value: u64,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Str {
    pub value: String,
    pub span: Span,
}

/// A spec file after includes: zero or more devices (the checker wants one).
#[derive(Debug, Clone, Default)]
pub struct SpecAst {
    /// `language N;` of the spec file, when it states one.
    pub language: Option<Num>,
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

#[derive(Debug, Clone)]
pub struct DeviceAst {
    pub name: Ident,
    pub span: Span,
    pub items: Vec<DeviceItem>,
}

#[derive(Debug, Clone)]
pub enum DeviceItem {
    Description(Str),
    Id {
        vendor: Num,
        device: Num,
        span: Span,
    },
    Revision(Num),
    Class {
        base: Num,
        sub: Num,
        prog_if: Num,
        span: Span,
    },
    Subsystem {
        vendor: Num,
        id: Num,
        span: Span,
    },
    Interrupt(InterruptAst),
    State(StateAst),
    Hook(HookAst),
    DmaBuffer(Num),
    Bar(BarAst),
    Scenario(ScenarioAst),
    Timer(TimerAst),
    Stream(StreamAst),
    Let(LetAst),
    Fn(FnAst),
    Config(ConfigAst),
}

impl DeviceItem {
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

#[derive(Debug, Clone)]
pub enum InterruptItem {
    Pin(Ident),
    Msi(Num),
    /// `msix N table bar B @ OFF pba bar B @ OFF;`
    Msix {
        vectors: Num,
        table: (Num, Num),
        pba: (Num, Num),
    },
    Level(Expr),
    Status(Ident),
    /// `mine EXPR;`
    Mine(Expr),
    /// `ack REG = EXPR [when EXPR];`
    Ack {
        register: Ident,
        value: Expr,
        when: Option<Expr>,
    },
}

#[derive(Debug, Clone)]
pub struct InterruptAst {
    pub span: Span,
    /// Items with the span of each whole item (for duplicate reports).
    pub items: Vec<(InterruptItem, Span)>,
    /// Some item had a syntax error (already reported): what it would have
    /// declared is unknown, so "missing item" errors would be cascades.
    pub malformed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarType {
    U8,
    U16,
    U32,
    U64,
    Bool,
}

impl ScalarType {
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
    pub fn bits(self) -> u32 {
        match self {
            ScalarType::U8 => 8,
            ScalarType::U16 => 16,
            ScalarType::U32 => 32,
            ScalarType::U64 => 64,
            ScalarType::Bool => 1,
        }
    }
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

#[derive(Debug, Clone)]
pub enum TypeAst {
    Scalar(ScalarType, Span),
    Buffer(Num, Span),
    /// `fifo[ELEM; CAPACITY]`.
    Fifo(ScalarType, Num, Span),
}

#[derive(Debug, Clone)]
pub struct StateAst {
    pub name: Ident,
    pub ty: TypeAst,
    pub reset: Option<Num>,
    /// A buffer's initial bytes: `= "text"` or `= strings(SLOT, "a", ...)`.
    pub init: Option<BufferInit>,
    /// `sticky`: keeps its value across a device reset.
    pub sticky: Option<Span>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum BufferInit {
    /// One string, from offset 0.
    Text(Str),
    /// Each string at `slot * i`, zero-padded.
    Strings {
        slot: Num,
        strings: Vec<Str>,
        span: Span,
    },
}

impl BufferInit {
    pub fn span(&self) -> Span {
        match self {
            BufferInit::Text(s) => s.span,
            BufferInit::Strings { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone)]
pub struct HookAst {
    pub name: Ident,
    pub params: Vec<(Ident, ScalarType)>,
    pub ret: Option<(ScalarType, Span)>,
    pub span: Span,
}

/// `timer NAME { ... }`: the block runs when the timer fires.
#[derive(Debug, Clone)]
pub struct TimerAst {
    pub name: Ident,
    pub on_fire: Vec<Stmt>,
    pub span: Span,
}

/// `stream NAME { ready EXPR; on input { ... } }` (both optional).
#[derive(Debug, Clone)]
pub struct StreamAst {
    pub name: Ident,
    pub ready: Vec<(Expr, Span)>,
    pub on_input: Vec<(Vec<Stmt>, Span)>,
    pub span: Span,
}

/// `let NAME = EXPR;`
#[derive(Debug, Clone)]
pub struct LetAst {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `fn NAME(a: T, ...) -> T = EXPR;`
#[derive(Debug, Clone)]
pub struct FnAst {
    pub name: Ident,
    pub params: Vec<(Ident, ScalarType)>,
    pub ret: (ScalarType, Span),
    pub body: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarKindAst {
    Io,
    Mem32,
    Mem64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvalidKindAst {
    Ignore,
    Ones,
    Error,
}

#[derive(Debug, Clone)]
pub struct AccessAst {
    pub sizes: Vec<Num>,
    pub unaligned: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct BarAst {
    pub index: Num,
    pub kind: BarKindAst,
    pub kind_span: Span,
    pub prefetchable: Option<Span>,
    pub size: Num,
    pub access: Vec<AccessAst>,
    pub invalid: Vec<(InvalidKindAst, Span)>,
    /// `unmapped ones;` (true) / `unmapped zero;`.
    pub unmapped: Vec<(bool, Span)>,
    pub registers: Vec<RegisterAst>,
    /// `window STATE @ OFFSET [ro|rw];` items.
    pub windows: Vec<WindowAst>,
    pub span: Span,
}

/// `window STATE @ OFFSET [ro|rw];`: a buffer state shown in the BAR.
#[derive(Debug, Clone)]
pub struct WindowAst {
    pub state: Ident,
    pub offset: Num,
    /// `ro` (false) or `rw` (true, the default), with its span if written.
    pub writable: (bool, Option<Span>),
    pub span: Span,
}

/// `config { register ...; capability vendor @ OFF size N { ... } }`:
/// registers at absolute configuration-space offsets.
#[derive(Debug, Clone)]
pub struct ConfigAst {
    pub registers: Vec<RegisterAst>,
    pub capabilities: Vec<CapabilityAst>,
    pub span: Span,
}

/// `capability vendor @ OFFSET size N { register ...; }`.
#[derive(Debug, Clone)]
pub struct CapabilityAst {
    /// The kind word (`vendor`) and its span.
    pub kind: (String, Span),
    pub offset: Num,
    pub size: Num,
    pub registers: Vec<RegisterAst>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FieldAst {
    pub name: Ident,
    pub hi: Num,
    pub lo: Num,
    pub bits_span: Span,
    pub access: (AccessKind, Span),
    pub reset: Option<Num>,
    pub variants: Vec<(Ident, Num)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct RegisterAst {
    pub name: Ident,
    /// `NAME[N]`: an array of N registers `NAME_0 .. NAME_{N-1}`.
    pub count: Option<Num>,
    pub offset: Num,
    pub width: (ScalarType, Span),
    pub access: Option<(AccessKind, Span)>,
    pub reset: Option<Num>,
    pub fields: Vec<FieldAst>,
    /// `access SIZES;` inside the register: narrows the BAR's sizes.
    pub access_sizes: Vec<AccessAst>,
    pub read: Vec<(Expr, Span)>,
    pub on_read: Vec<(Vec<Stmt>, Span)>,
    pub on_write: Vec<(Vec<Stmt>, Span)>,
    pub span: Span,
}

// ------------------------------------------------------------------ actions

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    If {
        cond: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    Irq(IrqOp),
    Msi(Expr),
    DmaWrite {
        addr: Expr,
        len: Expr,
        source: Source,
        status: Option<Place>,
    },
    DmaRead {
        addr: Expr,
        len: Expr,
        into: Place,
        status: Option<Place>,
    },
    Assign {
        place: Place,
        op: AssignOp,
        value: Expr,
    },
    Call {
        hook: Ident,
        args: Vec<Expr>,
    },
    /// `start T after|every EXPR UNIT;`
    Start {
        timer: Ident,
        periodic: bool,
        duration: Expr,
        unit: TimeUnit,
    },
    /// `stop T;`
    Stop(Ident),
    /// `send S EXPR;`
    Send {
        stream: Ident,
        value: Expr,
    },
    /// `vmm reset;` (the request as written, checked later).
    Vmm(Ident),
    /// `NAME.method(ARG?);` (`push`, `pop`, `clear` on FIFOs).
    Method {
        target: Ident,
        method: Ident,
        arg: Option<Expr>,
    },
}

#[derive(Debug, Clone)]
pub struct Source {
    pub kind: SourceKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum SourceKind {
    Random(Expr),
    Pattern(Expr),
    Word(Expr),
    Place(Place),
}

/// Named storage: `state`, `REG`, `REG.field`, `buffer[index]`.
#[derive(Debug, Clone)]
pub struct Place {
    pub base: Ident,
    pub field: Option<Ident>,
    pub index: Option<Box<Expr>>,
    pub span: Span,
}

// ------------------------------------------------------------------ expressions

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Num(u64),
    Bool(bool),
    /// The value being written, inside `on write` (and `ack`).
    Value,
    /// The driver's DMA buffer address, in scenarios.
    DmaAddr,
    Place(Place),
    Call {
        hook: Ident,
        args: Vec<Expr>,
    },
    Unary(UnOp, Box<Expr>),
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

#[derive(Debug, Clone)]
pub struct ScenarioAst {
    pub name: Ident,
    pub description: Option<Str>,
    pub steps: Vec<Step>,
    pub span: Span,
}

/// What an expectation looks at: a register or raw location, or (host
/// only) a piece of state such as `rx.len`.
#[derive(Debug, Clone)]
pub enum ProbeLocation {
    Location(Location),
    /// A name with an optional `.property` (resolved by the checker).
    Named {
        name: Ident,
        property: Option<Ident>,
    },
}

impl ProbeLocation {
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
    Text(Str),
    List(Vec<Expr>, Span),
}

#[derive(Debug, Clone)]
pub enum Location {
    Register(Ident),
    /// `bar N @ OFF : W`, or `config @ OFF : W` (`bar` is then `None`).
    Raw {
        bar: Option<Num>,
        offset: Num,
        width: (ScalarType, Span),
        span: Span,
    },
}

impl Location {
    pub fn span(&self) -> Span {
        match self {
            Location::Register(i) => i.span,
            Location::Raw { span, .. } => *span,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub kind: StepKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum StepKind {
    Expect {
        location: ProbeLocation,
        /// `!=` instead of `==`.
        not_equal: bool,
        value: Expr,
        mask: Option<Expr>,
    },
    Wait {
        location: ProbeLocation,
        value: Expr,
        mask: Option<Expr>,
    },
    Write {
        location: Location,
        value: Expr,
    },
    Read {
        location: Location,
    },
    InvalidWrite {
        location: Location,
        value: Expr,
    },
    InvalidRead {
        location: Location,
    },
    ExpectIrq {
        asserted: bool,
    },
    /// `expect msi N;`
    ExpectMsi {
        vector: Num,
    },
    ExpectDma {
        start: Expr,
        end: Expr,
        source: Source,
    },
    Fill {
        start: Expr,
        end: Expr,
        source: Source,
    },
    /// `repeat N { ... }`.
    Repeat {
        count: Expr,
        body: Vec<Step>,
    },
    /// `advance N UNIT;`
    Advance {
        amount: Expr,
        unit: TimeUnit,
    },
    /// `input S BYTES;`
    Input {
        stream: Ident,
        data: ByteData,
    },
    /// `expect output S BYTES;`
    ExpectOutput {
        stream: Ident,
        data: ByteData,
    },
    /// `expect vmm KIND;`
    ExpectVmm(Ident),
}
