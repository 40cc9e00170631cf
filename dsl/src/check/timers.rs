//! Timers: each `timer NAME { ... }`'s fire block (an action block like
//! `on write`, without `value`), the `start` / `stop` statements and the
//! `.running` / `.remaining` properties. Durations are expressions in the
//! unit written after them; the runtime clamps them (`pcidev_core::time`).
//!
//! Emits E0403 (`start`/`stop` of something that is not a timer, a timer
//! used as a number) and E0905 (an unknown timer property).

use super::{Checker, ExprCx, Sym};
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, TimerId};

impl<'a> Checker<'a> {
    /// Every timer with its checked fire block.
    pub(super) fn timers(&mut self) -> Vec<ir::Timer> {
        self.timer_asts
            .clone()
            .into_iter()
            .map(|t| ir::Timer {
                name: t.name.name.clone(),
                on_fire: self.block(&t.on_fire, ExprCx::Device),
                span: t.span,
            })
            .collect()
    }

    /// The timer a `start` or `stop` names.
    pub(super) fn lookup_timer(&mut self, id: &ast::Ident) -> Option<TimerId> {
        match self.lookup(id, "a timer")? {
            Sym::Timer(t) => Some(t),
            other => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        id.span,
                        format!("`{}` is {}, not a timer", id.name, other.describe()),
                    )
                    .label("expected a timer")
                    .hint(format!("declare it: `timer {} {{ ... }}`", id.name)),
                );
                None
            }
        }
    }

    /// `start T after|every EXPR UNIT;`
    pub(super) fn start_stmt(
        &mut self,
        timer: &ast::Ident,
        periodic: bool,
        duration: &ast::Expr,
        unit: ir::TimeUnit,
        cx: ExprCx,
    ) -> Option<ir::Stmt> {
        let t = self.lookup_timer(timer);
        let d = self.expr(duration, cx);
        Some(ir::Stmt::TimerStart {
            timer: t?,
            duration: d?,
            unit,
            periodic,
        })
    }

    /// `T.running`, `T.remaining`.
    pub(super) fn timer_property(&mut self, p: &ast::Place, t: TimerId) -> Option<ir::Expr> {
        let name = &p.base.name;
        match (&p.field, &p.index) {
            (Some(f), None) if f.name == "running" => Some(ir::Expr::TimerRunning(t)),
            (Some(f), None) if f.name == "remaining" => Some(ir::Expr::TimerRemaining(t)),
            (Some(f), None) => {
                self.err(
                    Diagnostic::error(
                        diag::BAD_MEMBER,
                        f.span,
                        format!("timer `{name}` has no property `{}`", f.name),
                    )
                    .label("unknown property")
                    .hint("timers have `.running` and `.remaining`"),
                );
                None
            }
            _ => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        p.span,
                        format!("timer `{name}` is used as a number"),
                    )
                    .label("a timer, not a number")
                    .hint(format!("use `{name}.running` or `{name}.remaining`")),
                );
                None
            }
        }
    }
}
