//! The syntax tree, exactly as written, with a span on everything.
//!
//! The AST is what the parser produces and the checker consumes; no backend
//! sees it (they get the typed [`crate::ir`]). Names are not resolved here and
//! nothing is validated beyond the grammar.

use crate::source::Span;
pub use pcidev_core::time::TimeUnit;
pub use pcidev_core::{AccessKind, AssignOp, BinOp, IrqOp, UnOp};

mod actions;
mod bar;
mod expr;
mod items;
mod scenario;

pub use actions::{Place, Source, SourceKind, Stmt, StmtKind};
pub use bar::{
    AccessAst, BarAst, BarKindAst, CapabilityAst, ConfigAst, FieldAst, InvalidKindAst, RegisterAst,
    WindowAst,
};
pub use expr::{Expr, ExprKind};
pub use items::{
    BufferInit, FnAst, HookAst, InterruptAst, InterruptItem, LetAst, ScalarType, StateAst,
    StreamAst, TimerAst, TypeAst,
};
pub use scenario::{ByteData, Location, ProbeLocation, ScenarioAst, Step, StepKind};

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
    /// Names declared by items the parser reported and dropped (a syntax
    /// error in a register, a `fn` whose body nests too deep, ...): a use
    /// of one is not reported again as an unknown name.
    pub malformed_names: Vec<String>,
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
