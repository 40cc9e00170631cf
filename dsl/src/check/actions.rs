//! Actions: the statements of `on read` / `on write` blocks, timers' fire
//! blocks and streams' `on input` (assignments, `if`, `irq`, `msi`, DMA,
//! hook calls; `start`/`stop`, `send`, `vmm` and FIFO methods through
//! `timers.rs`, `streams.rs` and `fifos.rs`) and DMA sources and
//! destinations.
//! Records the sites of `irq` and `msi` actions, which `interrupt.rs` checks
//! once the interrupt is known, and the states that a compound assignment or
//! a DMA source reads.
//!
//! Emits E0603 (a DMA source that is not random/pattern/word or a buffer
//! range) and E0403 (a `fn` called as a statement); names and expressions go through `exprs.rs`.

use super::{Checker, ExprCx, Sym};
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, StateId};

impl<'a> Checker<'a> {
    pub(super) fn block(&mut self, stmts: &[ast::Stmt], cx: ExprCx) -> Vec<ir::Stmt> {
        stmts.iter().filter_map(|s| self.stmt(s, cx)).collect()
    }

    fn stmt(&mut self, s: &ast::Stmt, cx: ExprCx) -> Option<ir::Stmt> {
        use ast::StmtKind as K;
        Some(match &s.kind {
            K::If {
                cond,
                then,
                otherwise,
            } => {
                let cond = self.expr(cond, cx);
                let then = self.block(then, cx);
                let otherwise = self.block(otherwise, cx);
                ir::Stmt::If {
                    cond: cond?,
                    then,
                    otherwise,
                }
            }
            K::Irq(op) => {
                self.irq_stmt_sites.push(s.span);
                ir::Stmt::Irq(*op)
            }
            K::Msi(e) => {
                self.msi_stmt_sites.push(s.span);
                ir::Stmt::Msi(self.expr(e, cx)?)
            }
            K::DmaWrite {
                addr,
                len,
                source,
                status,
            } => {
                let a = self.expr(addr, cx);
                let l = self.expr(len, cx);
                let src = self.source(source, cx);
                let st = status.as_ref().map(|p| self.place(p, cx, true));
                ir::Stmt::DmaWrite {
                    addr: a?,
                    len: l?,
                    source: src?,
                    status: st.map_or(Some(None), |x| x.map(Some))?,
                }
            }
            K::DmaRead {
                addr,
                len,
                into,
                status,
            } => {
                let a = self.expr(addr, cx);
                let l = self.expr(len, cx);
                let dest = self.dma_dest(into, cx);
                let st = status.as_ref().map(|p| self.place(p, cx, true));
                ir::Stmt::DmaRead {
                    addr: a?,
                    len: l?,
                    into: dest?,
                    status: st.map_or(Some(None), |x| x.map(Some))?,
                }
            }
            K::Assign { place, op, value } => {
                let pl = self.place(place, cx, true);
                if *op != ast::AssignOp::Set
                    && let Some(ir::Place::State(sid)) = &pl
                {
                    // `x |= 1` reads x.
                    self.used_states.insert(sid.0);
                }
                let v = self.expr(value, cx);
                ir::Stmt::Assign {
                    place: pl?,
                    op: *op,
                    value: v?,
                }
            }
            K::Call { hook, args } => {
                if let Some((Sym::Fn(_), _)) = self.names.get(&hook.name) {
                    self.err(
                        Diagnostic::error(
                            diag::WRONG_KIND,
                            hook.span,
                            format!(
                                "`fn {}` is pure: calling it as a statement does nothing",
                                hook.name
                            ),
                        )
                        .label("result unused")
                        .hint("use its value in an expression, e.g. `x = f(..);`"),
                    );
                    return None;
                }
                let (id, args) = self.call(hook, args, cx)?;
                ir::Stmt::Call { hook: id, args }
            }
            K::Start {
                timer,
                periodic,
                duration,
                unit,
            } => self.start_stmt(timer, *periodic, duration, *unit, cx)?,
            K::Stop(t) => ir::Stmt::TimerStop(self.lookup_timer(t)?),
            K::Send { stream, value } => self.send_stmt(stream, value, cx)?,
            K::Vmm(kind) => ir::Stmt::Vmm(self.vmm_request(kind)?),
            K::Method {
                target,
                method,
                arg,
            } => self.method_stmt(target, method, arg.as_ref(), cx)?,
        })
    }

    /// The buffer state of a place written `buf[i]`; `None` for any other
    /// place.
    fn buffer_of(&self, p: &ast::Place) -> Option<StateId> {
        if p.index.is_none() || p.field.is_some() {
            return None;
        }
        match self.names.get(&p.base.name) {
            Some((Sym::State(s), _))
                if matches!(self.state_asts[s.0].ty, ast::TypeAst::Buffer(..)) =>
            {
                Some(*s)
            }
            _ => None,
        }
    }

    fn source(&mut self, s: &ast::Source, cx: ExprCx) -> Option<ir::Source> {
        Some(match &s.kind {
            ast::SourceKind::Random(e) => ir::Source::Random(self.expr(e, cx)?),
            ast::SourceKind::Pattern(e) => ir::Source::Pattern(self.expr(e, cx)?),
            ast::SourceKind::Word(e) => ir::Source::Word(self.expr(e, cx)?),
            ast::SourceKind::Place(p) => match self.buffer_of(p) {
                Some(state) => {
                    self.used_states.insert(state.0);
                    let offset = self.expr(p.index.as_deref()?, cx)?;
                    ir::Source::Buffer { state, offset }
                }
                None => {
                    self.err(
                        Diagnostic::error(diag::DMA_TARGET, s.span, "a DMA write sends random(..), pattern(..), word(..) or a buffer range `buf[offset]`")
                            .label("not a data source")
                            .hint("to send a register's value, use `word(REG)`"),
                    );
                    return None;
                }
            },
        })
    }

    fn dma_dest(&mut self, p: &ast::Place, cx: ExprCx) -> Option<ir::DmaDest> {
        match self.buffer_of(p) {
            Some(state) => {
                let offset = self.expr(p.index.as_deref()?, cx)?;
                Some(ir::DmaDest::Buffer { state, offset })
            }
            None => Some(ir::DmaDest::Scalar(self.place(p, cx, true)?)),
        }
    }
}
