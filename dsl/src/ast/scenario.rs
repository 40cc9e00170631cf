//! Scenarios as written: steps, locations, probes and byte data.

use super::{Expr, Ident, Num, ScalarType, Source, Str, TimeUnit};
use crate::source::Span;

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
