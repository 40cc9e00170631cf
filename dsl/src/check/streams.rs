//! Streams and VMM requests: each `stream NAME { ready EXPR; on input {
//! ... } }` (each item at most once; `byte` is the arriving byte in `on
//! input`), the `send` statement, the `.space` property and `vmm KIND;`.
//!
//! Emits E0105 (`ready` or `on input` given twice), E0403 (`send` to
//! something that is not a stream, a stream used as a number), E0904 (an
//! unknown VMM request) and E0905 (an unknown stream property).

use super::{Checker, ExprCx, Sym};
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, StreamId, VmmRequest};
use crate::source::Span;

impl<'a> Checker<'a> {
    /// Every stream with its checked `ready` and `on input`.
    pub(super) fn streams(&mut self) -> Vec<ir::Stream> {
        self.stream_asts
            .clone()
            .into_iter()
            .map(|s| {
                for (_, again) in s.ready.iter().skip(1) {
                    self.dup_stream_item(*again, s.ready[0].1, "ready");
                }
                for (_, again) in s.on_input.iter().skip(1) {
                    self.dup_stream_item(*again, s.on_input[0].1, "on input");
                }
                ir::Stream {
                    name: s.name.name.clone(),
                    ready: s
                        .ready
                        .first()
                        .and_then(|(e, _)| self.expr(e, ExprCx::Ready)),
                    on_input: s
                        .on_input
                        .first()
                        .map(|(b, _)| self.block(b, ExprCx::Input))
                        .unwrap_or_default(),
                    span: s.span,
                }
            })
            .collect()
    }

    fn dup_stream_item(&mut self, again: Span, first: Span, what: &str) {
        self.err(
            Diagnostic::error(
                diag::DUPLICATE_ITEM,
                again,
                format!("`{what}` is given twice in this stream"),
            )
            .label("second")
            .also(first, "first")
            .hint("merge them into one"),
        );
    }

    /// The stream a `send` or a scenario step names.
    pub(super) fn lookup_stream(&mut self, id: &ast::Ident) -> Option<StreamId> {
        match self.lookup(id, "a stream")? {
            Sym::Stream(s) => Some(s),
            other => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        id.span,
                        format!("`{}` is {}, not a stream", id.name, other.describe()),
                    )
                    .label("expected a stream")
                    .hint(format!("declare it: `stream {} {{ ... }}`", id.name)),
                );
                None
            }
        }
    }

    /// `send S EXPR;`
    pub(super) fn send_stmt(
        &mut self,
        stream: &ast::Ident,
        value: &ast::Expr,
        cx: ExprCx,
    ) -> Option<ir::Stmt> {
        let s = self.lookup_stream(stream);
        let v = self.expr(value, cx);
        Some(ir::Stmt::Send(s?, v?))
    }

    /// The request `vmm KIND;` or `expect vmm KIND;` names.
    pub(super) fn vmm_request(&mut self, kind: &ast::Ident) -> Option<VmmRequest> {
        let r = VmmRequest::parse(&kind.name);
        if r.is_none() {
            self.err(
                Diagnostic::error(
                    diag::BAD_VMM,
                    kind.span,
                    format!("`{}` is not a VMM request", kind.name),
                )
                .label("unknown request")
                .hint(format!(
                    "requests: {}",
                    VmmRequest::ALL.map(|r| r.keyword()).join(", ")
                )),
            );
        }
        r
    }

    /// `S.space`.
    pub(super) fn stream_property(&mut self, p: &ast::Place, s: StreamId) -> Option<ir::Expr> {
        let name = &p.base.name;
        match (&p.field, &p.index) {
            (Some(f), None) if f.name == "space" => Some(ir::Expr::StreamSpace(s)),
            (Some(f), None) => {
                self.err(
                    Diagnostic::error(
                        diag::BAD_MEMBER,
                        f.span,
                        format!("stream `{name}` has no property `{}`", f.name),
                    )
                    .label("unknown property")
                    .hint("streams have `.space` (bytes the output queue can take)"),
                );
                None
            }
            _ => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        p.span,
                        format!("stream `{name}` is used as a number"),
                    )
                    .label("a stream, not a number")
                    .hint(format!(
                        "use `{name}.space`; bytes arrive as `byte` in its `on input`"
                    )),
                );
                None
            }
        }
    }
}
