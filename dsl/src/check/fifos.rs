//! FIFO states (`state rx: fifo[u8; 16];`): their properties in
//! expressions (`.len`, `.front`, `.full`, `.empty`) and their methods as
//! statements (`.push(EXPR)`, `.pop()`, `.clear()`). The declaration itself
//! (element type, capacity) is checked in `states.rs`.
//!
//! Emits E0403 (a FIFO used as a number or indexed, a method on something
//! that is not a FIFO) and E0905 (an unknown property or method, a method
//! with the wrong number of arguments).

use super::{Checker, ExprCx, Sym};
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, StateId};

/// What a FIFO offers in expressions.
const PROPERTIES: &str = "`.len`, `.front`, `.full`, `.empty`";
/// What a FIFO offers as statements.
const METHODS: &str = "`.push(v)`, `.pop()`, `.clear()`";

impl<'a> Checker<'a> {
    pub(super) fn is_fifo(&self, s: StateId) -> bool {
        matches!(self.state_asts[s.0].ty, ast::TypeAst::Fifo(..))
    }

    /// `rx.len` and friends.
    pub(super) fn fifo_property(
        &mut self,
        p: &ast::Place,
        s: StateId,
        _cx: ExprCx,
    ) -> Option<ir::Expr> {
        self.used_states.insert(s.0);
        let name = &p.base.name;
        if p.index.is_some() {
            self.err(
                Diagnostic::error(
                    diag::WRONG_KIND,
                    p.span,
                    format!("FIFO `{name}` cannot be indexed"),
                )
                .label("indexed here")
                .hint(format!("a FIFO shows its first element: `{name}.front`")),
            );
            return None;
        }
        let Some(prop) = &p.field else {
            self.err(
                Diagnostic::error(
                    diag::WRONG_KIND,
                    p.span,
                    format!("FIFO `{name}` is used as a number"),
                )
                .label("a FIFO, not a number")
                .hint(format!("use one of its properties: {PROPERTIES}")),
            );
            return None;
        };
        Some(match prop.name.as_str() {
            "len" => ir::Expr::FifoLen(s),
            "front" => ir::Expr::FifoFront(s),
            "full" => ir::Expr::FifoFull(s),
            "empty" => ir::Expr::FifoEmpty(s),
            other => {
                let hint = if matches!(other, "push" | "pop" | "clear") {
                    format!("`{other}` is a statement: `{name}.{other}(..);`")
                } else {
                    format!("FIFOs have {PROPERTIES}")
                };
                self.err(
                    Diagnostic::error(
                        diag::BAD_MEMBER,
                        prop.span,
                        format!("FIFO `{name}` has no property `{other}`"),
                    )
                    .label("unknown property")
                    .hint(hint),
                );
                return None;
            }
        })
    }

    /// `rx.push(v);`, `rx.pop();`, `rx.clear();`
    pub(super) fn method_stmt(
        &mut self,
        target: &ast::Ident,
        method: &ast::Ident,
        arg: Option<&ast::Expr>,
        cx: ExprCx,
    ) -> Option<ir::Stmt> {
        let s = match self.lookup(target, "a FIFO state")? {
            Sym::State(s) if self.is_fifo(s) => s,
            other => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        target.span,
                        format!(
                            "`{}` is {}, not a FIFO; only FIFOs have methods",
                            target.name,
                            other.describe()
                        ),
                    )
                    .label("method call on this")
                    .hint("declare a FIFO with `state NAME: fifo[u8; 16];`"),
                );
                return None;
            }
        };
        let wants_arg = match method.name.as_str() {
            "push" => true,
            "pop" | "clear" => false,
            other => {
                self.err(
                    Diagnostic::error(
                        diag::BAD_MEMBER,
                        method.span,
                        format!("FIFO `{}` has no method `{other}`", target.name),
                    )
                    .label("unknown method")
                    .hint(format!("FIFOs have {METHODS}")),
                );
                return None;
            }
        };
        if wants_arg != arg.is_some() {
            let want = if wants_arg {
                "one argument"
            } else {
                "no argument"
            };
            self.err(
                Diagnostic::error(
                    diag::BAD_MEMBER,
                    method.span,
                    format!("`{}` takes {want}", method.name),
                )
                .label(if wants_arg {
                    "the value to push is missing"
                } else {
                    "unexpected argument"
                })
                .hint(format!("FIFOs have {METHODS}")),
            );
            return None;
        }
        Some(match (method.name.as_str(), arg) {
            ("push", Some(e)) => ir::Stmt::FifoPush(s, self.expr(e, cx)?),
            ("pop", _) => ir::Stmt::FifoPop(s),
            _ => ir::Stmt::FifoClear(s),
        })
    }
}
