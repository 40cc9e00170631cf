//! Lints: warnings about a spec that is valid but probably not what was
//! meant. They run last, on the finished IR.
//!
//! Emits W0001 (DMA that, at reset, targets a window that is not RAM on
//! common machines) and W0003 (a state that is never read; only when there
//! is no error, since an error may have dropped a use). W0002 belongs to
//! scenario steps (`scenarios.rs`).

use super::Checker;
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;
use pcidev_core::ops::{eval_binary, eval_unary};

impl<'a> Checker<'a> {
    /// W0001: DMA whose address is, at reset, in a window that is not RAM.
    pub(super) fn warn_non_ram_dma(&mut self, dev: &ir::Device) {
        let mut found = Vec::new();
        for r in &dev.registers {
            for stmts in [&r.on_read, &r.on_write] {
                let mut addrs = Vec::new();
                collect_dma_addrs(stmts, &mut addrs);
                found.extend(addrs.into_iter().map(|a| (a, r.span)));
            }
        }
        for (addr, dma_register) in found {
            if let Some(a) = reset_value(addr, dev)
                && let Some(window) = non_ram_window(a)
            {
                let site = self.dma_site(addr, dev).unwrap_or(dma_register);
                self.diags.push(
                    Diagnostic::warning(diag::NON_RAM_DMA, site, format!("at reset this DMA targets 0x{a:x}, {window}"))
                        .label("not RAM on common machines")
                        .hint("the DMA will be refused there; let the driver program the address (a register) to prove DMA end to end"),
                );
            }
        }
    }

    /// Span of the register whose reset value an address comes from.
    fn dma_site(&self, e: &ir::Expr, dev: &ir::Device) -> Option<Span> {
        let mut site = None;
        e.walk(&mut |x| {
            if let ir::Expr::Register(r) = x {
                site = Some(dev.register(*r).span);
            }
        });
        site
    }

    pub(super) fn warn_unused_states(&mut self, dev: &ir::Device) {
        // After an error, a use may have been dropped with the construct
        // that was wrong (a bad expression, a rejected DMA source): the
        // warning would then be wrong too.
        if self.diags.iter().any(Diagnostic::is_error) {
            return;
        }
        for (i, s) in dev.states.iter().enumerate() {
            if !self.used_states.contains(&i) {
                self.diags.push(
                    Diagnostic::warning(
                        diag::UNUSED_STATE,
                        s.span,
                        format!("state `{}` is never read", s.name),
                    )
                    .label("unused")
                    .hint("read it from a register, the level or an action, or remove it"),
                );
            }
        }
    }
}

fn collect_dma_addrs<'e>(stmts: &'e [ir::Stmt], out: &mut Vec<&'e ir::Expr>) {
    for s in stmts {
        match s {
            ir::Stmt::DmaWrite { addr, .. } | ir::Stmt::DmaRead { addr, .. } => out.push(addr),
            ir::Stmt::If {
                then, otherwise, ..
            } => {
                collect_dma_addrs(then, out);
                collect_dma_addrs(otherwise, out);
            }
            _ => {}
        }
    }
}

/// Evaluate an expression with every state and register at its reset value;
/// `None` when it depends on something else (a written value, a hook).
fn reset_value(e: &ir::Expr, dev: &ir::Device) -> Option<u64> {
    Some(match e {
        ir::Expr::Const(v) => *v,
        ir::Expr::State(s) => dev.state(*s).reset,
        ir::Expr::Register(r) => dev.register(*r).reset,
        ir::Expr::Field(r, f) => dev.register(*r).fields.get(*f)?.reset,
        ir::Expr::Unary(op, x) => eval_unary(*op, reset_value(x, dev)?),
        ir::Expr::Binary(op, a, b) => eval_binary(*op, reset_value(a, dev)?, reset_value(b, dev)?),
        ir::Expr::Cond(c, a, b) => {
            if reset_value(c, dev)? != 0 {
                reset_value(a, dev)?
            } else {
                reset_value(b, dev)?
            }
        }
        _ => return None,
    })
}

/// Which well-known non-RAM window of a PC an address is in.
fn non_ram_window(a: u64) -> Option<&'static str> {
    match a {
        0xa_0000..=0xb_ffff => Some("the legacy VGA window (0xa0000-0xbffff)"),
        0xc_0000..=0xf_ffff => Some("the option ROM and BIOS area (0xc0000-0xfffff)"),
        0xfec0_0000..=0xffff_ffff => Some("the MMIO hole below 4G (IOAPIC, LAPIC, flash)"),
        _ => None,
    }
}
