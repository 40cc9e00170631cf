//! Register arrays: `register NAME[N]` becomes N registers `NAME_0 ..
//! NAME_{N-1}` before any other check runs, each `width` bytes after the
//! previous, with `index` replaced by the element number. Later passes see
//! only plain registers.
//!
//! Emits E0104 (an array of 0 or more than [`MAX_ARRAY`] registers).

use crate::ast::{self, DeviceItem, ExprKind};
use crate::diag::{self, Diagnostic};

/// Largest `register NAME[N]` array.
pub const MAX_ARRAY: u64 = 4096;

/// Replace every `register NAME[N]` by N registers `NAME_0 .. NAME_{N-1}`,
/// each `width` bytes after the previous, with `index` replaced by the
/// element number.
pub(super) fn expand_arrays(d: &ast::DeviceAst, diags: &mut Vec<Diagnostic>) -> ast::DeviceAst {
    let mut d = d.clone();
    for item in &mut d.items {
        let DeviceItem::Bar(bar) = item else { continue };
        let mut out = Vec::with_capacity(bar.registers.len());
        for r in bar.registers.drain(..) {
            let Some(count) = r.count else {
                out.push(r);
                continue;
            };
            if count.value == 0 || count.value > MAX_ARRAY {
                diags.push(
                    Diagnostic::error(
                        diag::OUT_OF_RANGE,
                        count.span,
                        format!("an array of {} registers", count.value),
                    )
                    .label(format!("arrays hold 1 to {MAX_ARRAY} registers"))
                    .hint("split the block, or use a buffer state"),
                );
                continue;
            }
            let stride = u64::from(r.width.0.bits() / 8).max(1);
            for i in 0..count.value {
                let mut e = r.clone();
                e.count = None;
                e.name.name = format!("{}_{i}", r.name.name);
                e.offset.value = r.offset.value.saturating_add(i.saturating_mul(stride));
                for (x, _) in &mut e.read {
                    subst_index(x, i);
                }
                for (b, _) in e.on_read.iter_mut().chain(e.on_write.iter_mut()) {
                    subst_index_stmts(b, i);
                }
                out.push(e);
            }
        }
        bar.registers = out;
    }
    d
}

fn subst_index(e: &mut ast::Expr, i: u64) {
    match &mut e.kind {
        ExprKind::Index => e.kind = ExprKind::Num(i),
        ExprKind::Place(p) => subst_index_place(p, i),
        ExprKind::Call { args, .. } => args.iter_mut().for_each(|a| subst_index(a, i)),
        ExprKind::Unary(_, x) => subst_index(x, i),
        ExprKind::Binary(_, a, b) => {
            subst_index(a, i);
            subst_index(b, i);
        }
        ExprKind::Cond(c, a, b) => {
            subst_index(c, i);
            subst_index(a, i);
            subst_index(b, i);
        }
        ExprKind::Num(_)
        | ExprKind::Bool(_)
        | ExprKind::Value
        | ExprKind::DmaAddr
        | ExprKind::Byte
        | ExprKind::AccessSize
        | ExprKind::AccessMask => {}
    }
}

fn subst_index_place(p: &mut ast::Place, i: u64) {
    if let Some(x) = &mut p.index {
        subst_index(x, i);
    }
}

fn subst_index_source(s: &mut ast::Source, i: u64) {
    match &mut s.kind {
        ast::SourceKind::Random(e) | ast::SourceKind::Pattern(e) | ast::SourceKind::Word(e) => {
            subst_index(e, i)
        }
        ast::SourceKind::Place(p) => subst_index_place(p, i),
    }
}

fn subst_index_stmts(stmts: &mut [ast::Stmt], i: u64) {
    for s in stmts {
        match &mut s.kind {
            ast::StmtKind::If {
                cond,
                then,
                otherwise,
            } => {
                subst_index(cond, i);
                subst_index_stmts(then, i);
                subst_index_stmts(otherwise, i);
            }
            ast::StmtKind::Irq(_) => {}
            ast::StmtKind::Msi(e) => subst_index(e, i),
            ast::StmtKind::DmaWrite {
                addr,
                len,
                source,
                status,
            } => {
                subst_index(addr, i);
                subst_index(len, i);
                subst_index_source(source, i);
                if let Some(p) = status {
                    subst_index_place(p, i);
                }
            }
            ast::StmtKind::DmaRead {
                addr,
                len,
                into,
                status,
            } => {
                subst_index(addr, i);
                subst_index(len, i);
                subst_index_place(into, i);
                if let Some(p) = status {
                    subst_index_place(p, i);
                }
            }
            ast::StmtKind::Assign { place, value, .. } => {
                subst_index_place(place, i);
                subst_index(value, i);
            }
            ast::StmtKind::Call { args, .. } => args.iter_mut().for_each(|a| subst_index(a, i)),
            ast::StmtKind::Start { duration: e, .. } | ast::StmtKind::Send { value: e, .. } => {
                subst_index(e, i)
            }
            ast::StmtKind::Method { arg, .. } => {
                if let Some(e) = arg {
                    subst_index(e, i)
                }
            }
            ast::StmtKind::Stop(_) | ast::StmtKind::Vmm(_) => {}
        }
    }
}
