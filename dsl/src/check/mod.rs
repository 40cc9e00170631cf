//! Semantic analysis: AST to IR, with every check of the language.
//!
//! All problems of a spec are collected in one run. The IR is produced only
//! when no error was found (warnings allowed), so backends can rely on the
//! invariants listed in [`crate::ir`].

use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, RegId, low_mask};
use crate::source::{SourceMap, Span};
use std::collections::{HashMap, HashSet};

mod actions;
mod arrays;
mod bars;
mod eval;
mod exprs;
mod fields;
mod identity;
mod interrupt;
mod lints;
mod names;
mod registers;
mod scenarios;
mod states;

pub use arrays::MAX_ARRAY;
use arrays::expand_arrays;
pub use eval::{eval_binary, eval_unary};
use exprs::ExprCx;
use names::Sym;

struct Checker<'a> {
    sources: &'a SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    names: HashMap<String, (Sym, Span)>,
    /// Registers as declared (index = RegId), with their BAR index.
    reg_asts: Vec<(&'a ast::RegisterAst, u8)>,
    state_asts: Vec<&'a ast::StateAst>,
    hook_asts: Vec<&'a ast::HookAst>,
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
    let device = identity::the_device(spec, sources, diags)?;
    let expanded = expand_arrays(device, diags);
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
        reg_asts: Vec::new(),
        state_asts: Vec::new(),
        hook_asts: Vec::new(),
        fields: Vec::new(),
        used_states: HashSet::new(),
        irq_stmt_sites: Vec::new(),
        msi_stmt_sites: Vec::new(),
        bad_numbers,
    };
    let ir = c.device(device);
    let has_error = c.diags.iter().any(|d| d.is_error());
    if has_error { None } else { ir }
}

fn fits(value: u64, bits: u32) -> bool {
    value & !low_mask(bits) == 0
}

impl<'a> Checker<'a> {
    fn err(&mut self, d: Diagnostic) {
        // A number that did not parse reads as 0; what that 0 breaks at the
        // same place (a BAR size of 0, ...) is not news.
        if self.bad_numbers.contains(&d.span) {
            return;
        }
        self.diags.push(d);
    }

    fn device(&mut self, d: &'a ast::DeviceAst) -> Option<ir::Device> {
        let identity::Items {
            mut dev,
            interrupt_ast,
            bar_asts,
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
        self.fields = self
            .reg_asts
            .clone()
            .into_iter()
            .map(|(r, _)| self.fields_of(r))
            .collect();
        dev.registers = self.registers(&dev.bars);
        for bar in &mut dev.bars {
            let mut members: Vec<RegId> = (0..dev.registers.len())
                .filter(|&i| dev.registers[i].bar == bar.index)
                .map(RegId)
                .collect();
            members.sort_by_key(|r| (dev.registers[r.0].offset, r.0));
            bar.registers = members;
        }
        dev.interrupt = self.interrupt(interrupt_ast);
        self.check_irq_statements(&dev.interrupt, interrupt_ast);
        dev.scenarios = scenario_asts
            .iter()
            .map(|s| self.scenario(s, &dev))
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .collect();
        dev.dma_mask_bits = self.dma_mask_bits(&dev);
        self.warn_non_ram_dma(&dev);
        self.warn_unused_states(&dev);
        Some(dev)
    }
}
