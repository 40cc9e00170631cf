//! Semantic analysis: AST to IR, with every check of the language.
//!
//! All problems of a spec are collected in one run. The IR is produced only
//! when no error was found (warnings allowed), so backends can rely on the
//! invariants listed in [`crate::ir`].
//!
//! One concern per file, in the order [`check`] runs them. The table gives
//! each file's own diagnostic codes (see [`crate::diag`]); the module doc of
//! each file lists every code it emits, shared ones (E0001, E0104, E0105)
//! included.
//!
//! | file | checks | main codes |
//! | --- | --- | --- |
//! | `identity.rs` | one device; `id`, `class`, ... once each; declares every name | E0101-E0105 |
//! | `arrays.rs` | `register NAME[N]` listed as N registers (elements) | E0104 |
//! | `names.rs` | name forms, the namespace, lookups (used by every pass) | E0106, E0401-E0403 |
//! | `states.rs` | state types, resets, buffer contents; hook signatures | E0104, E0305, E0401 |
//! | `bars.rs` | BAR index, kind, size, access policy | E0201-E0206 |
//! | `fields.rs` | bit ranges, field resets, enums | E0305-E0312 |
//! | `registers.rs` | access sizes, behaviour, placement in the BAR | E0301-E0304 |
//! | `config.rs` | configuration-space registers and vendor capabilities: placement | E0801-E0806, E0302 |
//! | `exprs.rs` | expressions and places in behaviour | E0402-E0404, E0312 |
//! | `actions.rs` | statements, DMA sources and destinations | E0603 |
//! | `interrupt.rs` | pin, MSI, level; the handler protocol (status, mine, ack ... when); `irq`/`msi` actions | E0501-E0505, E0510-E0512 |
//! | `msix.rs` | MSI-X table and PBA placement | E0506-E0508 |
//! | `lets.rs` | `let` and `fn`: bodies, scopes, recursion | E0902, E0903, E0404 |
//! | `timers.rs` | timer fire blocks, `start`/`stop`, `.running`/`.remaining` | E0403, E0905 |
//! | `streams.rs` | streams (`ready`, `on input`, `byte`), `send`, `.space`, `vmm` | E0105, E0403, E0904, E0905 |
//! | `fifos.rs` | FIFO states' properties and methods | E0403, E0905 |
//! | `scenarios/` | steps and repeats (`mod.rs`), locations and state probes, values, DMA ranges | E0601, E0602, E0701-E0705, W0002 |
//! | `windows.rs` | `window` items: buffer states shown in a BAR | E1001-E1003 |
//! | `lints.rs` | warnings on the finished IR | W0001, W0003 |

use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, low_mask};
use crate::source::{SourceMap, Span};
use std::collections::{HashMap, HashSet};

mod actions;
mod arrays;
mod bars;
mod config;
mod exprs;
mod fields;
mod fifos;
mod identity;
mod interrupt;
mod lets;
mod lints;
mod msix;
mod names;
mod registers;
mod scenarios;
mod states;
mod streams;
mod timers;
mod windows;

pub use arrays::MAX_ARRAY;
use arrays::expand_arrays;
use exprs::ExprCx;
use names::Sym;

/// What the passes share: the diagnostics so far, the namespace, and what
/// earlier passes resolved for later ones.
struct Checker<'a> {
    sources: &'a SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    names: HashMap<String, (Sym, Span)>,
    /// [`ast::SpecAst::malformed_names`]: unknown, but already reported.
    malformed_names: HashSet<&'a str>,
    /// Registers as declared (index = RegId), with their space.
    reg_asts: Vec<(&'a ast::RegisterAst, ir::Space)>,
    state_asts: Vec<&'a ast::StateAst>,
    hook_asts: Vec<&'a ast::HookAst>,
    timer_asts: Vec<&'a ast::TimerAst>,
    stream_asts: Vec<&'a ast::StreamAst>,
    let_asts: Vec<&'a ast::LetAst>,
    fn_asts: Vec<&'a ast::FnAst>,
    /// Does each `let` call a hook, directly or through other lets (filled
    /// once every let is checked; `level` may not use those that do).
    let_calls_hook: Vec<bool>,
    /// The `fn` whose body is being checked: names resolve to its
    /// parameters only.
    fn_scope: Option<ir::FnId>,
    /// Checking a register's `read`, `on read` or `on write`: the only
    /// places a guest access is under way (`access.size`, `access.mask`).
    in_access: bool,
    /// Each array element's place in its array, by element name.
    elements: HashMap<String, ir::ArrayElem>,
    /// Checking an array element's behaviour: `index` is defined.
    array_elem: Option<ir::ArrayElem>,
    /// Fields resolved per register (filled before expressions are checked).
    fields: Vec<Vec<ir::Field>>,
    used_states: HashSet<usize>,
    /// Sites of `irq raise/lower/pulse` and `msi` statements.
    irq_stmt_sites: Vec<Span>,
    msi_stmt_sites: Vec<Span>,
    /// Numbers that did not parse (E0002) and were read as 0.
    bad_numbers: HashSet<Span>,
}

/// Check a parsed spec. Returns the IR when no error was reported (by the
/// parser or here).
pub fn check(
    spec: &ast::SpecAst,
    sources: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<ir::Device> {
    if !spec.language_supported() {
        // Reported by the parser, which then read nothing else.
        return None;
    }
    let device = identity::the_device(spec, sources, diags)?;
    let (expanded, elements) = expand_arrays(device, diags);
    let device = &expanded;
    let bad_numbers = diags
        .iter()
        .filter(|d| d.code == diag::BAD_NUMBER)
        .map(|d| d.span)
        .collect();
    let mut c = Checker {
        sources,
        diags,
        names: HashMap::new(),
        malformed_names: spec.malformed_names.iter().map(String::as_str).collect(),
        reg_asts: Vec::new(),
        state_asts: Vec::new(),
        hook_asts: Vec::new(),
        timer_asts: Vec::new(),
        stream_asts: Vec::new(),
        let_asts: Vec::new(),
        fn_asts: Vec::new(),
        let_calls_hook: Vec::new(),
        fn_scope: None,
        in_access: false,
        elements,
        array_elem: None,
        fields: Vec::new(),
        used_states: HashSet::new(),
        irq_stmt_sites: Vec::new(),
        msi_stmt_sites: Vec::new(),
        bad_numbers,
    };
    let mut ir = c.device(device);
    ir.language = spec.language_version();
    let has_error = c.diags.iter().any(|d| d.is_error());
    if has_error { None } else { Some(ir) }
}

/// Does `value` fit in `bits` bits?
fn fits(value: u64, bits: u32) -> bool {
    value & !low_mask(bits) == 0
}

impl<'a> Checker<'a> {
    /// Report an error (or a warning) unless it is the echo of a number
    /// that did not parse.
    fn err(&mut self, d: Diagnostic) {
        // A number that did not parse reads as 0; what that 0 breaks at the
        // same place (a BAR size of 0, ...) is not news.
        if self.bad_numbers.contains(&d.span) {
            return;
        }
        self.diags.push(d);
    }

    /// The passes, in order: each reads what the earlier ones resolved.
    fn device(&mut self, d: &'a ast::DeviceAst) -> ir::Device {
        // Identity items; every name declared, so uses may precede declarations.
        let identity::Items {
            mut dev,
            interrupt_ast,
            bar_asts,
            config_asts,
            scenario_asts,
        } = self.items(d);
        dev.states = self
            .state_asts
            .clone()
            .into_iter()
            .map(|s| self.state(s))
            .collect();
        dev.hooks = self
            .hook_asts
            .clone()
            .into_iter()
            .map(|h| self.hook(h))
            .collect();
        dev.bars = self.bars(&bar_asts);
        // Fields first: expressions may name any register's fields.
        // An array's elements share their head's fields (arrays.rs).
        for i in 0..self.reg_asts.len() {
            let fields = match self.array_head_of(i) {
                Some(head) => self.fields[head].clone(),
                None => self.fields_of(self.reg_asts[i].0),
            };
            self.fields.push(fields);
        }
        // Named expressions and functions: used by any behaviour below.
        (dev.lets, dev.fns) = self.lets_and_fns();
        // Registers with their behaviour (exprs.rs, actions.rs).
        dev.registers = self.registers(&dev.bars);
        // Timers' and streams' behaviour: actions like any other.
        dev.timers = self.timers();
        dev.streams = self.streams();
        registers::list_bar_registers(&mut dev);
        // Windows after registers: they must not overlap any.
        self.windows(&bar_asts, &mut dev);
        dev.interrupt = self.interrupt(interrupt_ast);
        self.check_msix(&mut dev, interrupt_ast);
        // Configuration space: placement of its registers and capabilities
        // (against the MSI capability the interrupt places).
        self.config_space(&mut dev, &config_asts);
        // The `irq`/`msi` actions met in the registers' behaviour.
        self.check_irq_statements(&dev.interrupt, interrupt_ast);
        // Scenarios address the device built so far.
        dev.scenarios = scenario_asts
            .iter()
            .filter_map(|s| self.scenario(s, &dev))
            .collect();
        dev.dma_mask_bits = self.dma_mask_bits(&dev);
        // Lints last, on the finished IR.
        self.warn_non_ram_dma(&dev);
        self.warn_unused_states(&dev);
        dev
    }
}
