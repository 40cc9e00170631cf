//! Named expressions (`let NAME = EXPR;`) and pure functions (`fn NAME(a:
//! T, ...) -> T = EXPR;`): their bodies, the scope of a `fn` body (its
//! parameters, constants and other `fn`s only), calls, and recursion.
//!
//! A `let` body is device behaviour without `value`/`byte`: it is
//! evaluated where it is used, so it may be used anywhere device state is
//! visible (not in `ack`; not in `level` when it calls a hook). Recursion
//! is found on the finished IR as the strongly connected components of the
//! "refers to" graph (iteratively: no recursion on hostile input), and
//! reported once per cycle, at its first declaration.
//!
//! Emits E0902 (a `let` or `fn` that refers to itself, directly or through
//! others), E0903 (a `fn` body naming anything but its parameters and
//! `fn`s), E0404 (a `fn` called with the wrong number of arguments) and
//! E0403 (a `let` with a hook call in `level`, a `let` or `fn` indexed or
//! given a property).

use super::{Checker, ExprCx, Sym};
use crate::ast::{self, ScalarType};
use crate::diag::{self, Diagnostic};
use crate::ir::{self, FnId, LetId};
use crate::source::Span;

fn scalar(t: ScalarType) -> ir::Type {
    match t {
        ScalarType::Bool => ir::Type::Bool,
        t => ir::Type::Uint(t.bits()),
    }
}

impl<'a> Checker<'a> {
    /// Check every `let` and `fn`, then reject recursion.
    pub(super) fn lets_and_fns(&mut self) -> (Vec<ir::Let>, Vec<ir::Function>) {
        let mut fns = Vec::new();
        for (i, f) in self.fn_asts.clone().into_iter().enumerate() {
            let mut seen: Vec<&ast::Ident> = Vec::new();
            for (p, _) in &f.params {
                self.check_name(p, "parameter", false);
                if let Some(first) = seen.iter().find(|s| s.name == p.name) {
                    self.err(
                        Diagnostic::error(
                            diag::DUPLICATE_NAME,
                            p.span,
                            format!("parameter `{}` is declared twice", p.name),
                        )
                        .label("again")
                        .also(first.span, "first")
                        .hint("rename one"),
                    );
                }
                seen.push(p);
            }
            self.fn_scope = Some(FnId(i));
            let body = self.expr(&f.body, ExprCx::Device);
            self.fn_scope = None;
            fns.push(ir::Function {
                name: f.name.name.clone(),
                params: f
                    .params
                    .iter()
                    .map(|(n, t)| (n.name.clone(), scalar(*t)))
                    .collect(),
                ret: scalar(f.ret.0),
                // A body with an error leaves no IR (the spec has an error).
                body: body.unwrap_or(ir::Expr::Const(0)),
                span: f.span,
            });
        }
        let mut lets = Vec::new();
        for l in self.let_asts.clone() {
            let value = self.expr(&l.value, ExprCx::Device);
            lets.push(ir::Let {
                name: l.name.name.clone(),
                value: value.unwrap_or(ir::Expr::Const(0)),
                calls_hook: false,
                span: l.span,
            });
        }
        let fn_spans: Vec<Span> = self.fn_asts.iter().map(|f| f.name.span).collect();
        let fn_names: Vec<String> = fns.iter().map(|f| f.name.clone()).collect();
        let fn_edges: Vec<Vec<usize>> = fns.iter().map(|f| refs(&f.body).1).collect();
        self.report_cycles(&fn_edges, &fn_spans, &fn_names, "fn");
        let let_spans: Vec<Span> = self.let_asts.iter().map(|l| l.name.span).collect();
        let let_names: Vec<String> = lets.iter().map(|l| l.name.clone()).collect();
        let let_edges: Vec<Vec<usize>> = lets.iter().map(|l| refs(&l.value).0).collect();
        let cyclic = self.report_cycles(&let_edges, &let_spans, &let_names, "let");
        // Which lets call hooks, through other lets (fns cannot).
        let direct: Vec<bool> = lets.iter().map(|l| refs(&l.value).2).collect();
        let mut calls = direct.clone();
        if !cyclic {
            // A fixpoint over an acyclic graph: at most n rounds.
            for _ in 0..lets.len() {
                let mut changed = false;
                for i in 0..lets.len() {
                    if !calls[i] && let_edges[i].iter().any(|&j| calls[j]) {
                        calls[i] = true;
                        changed = true;
                    }
                }
                if !changed {
                    break;
                }
            }
        }
        for (l, c) in lets.iter_mut().zip(&calls) {
            l.calls_hook = *c;
        }
        self.let_calls_hook = calls;
        (lets, fns)
    }

    /// Report each cycle of `edges` once; true when there was one.
    fn report_cycles(
        &mut self,
        edges: &[Vec<usize>],
        spans: &[Span],
        names: &[String],
        kind: &str,
    ) -> bool {
        let comp = components(edges);
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); edges.len()];
        for (v, &c) in comp.iter().enumerate() {
            groups[c].push(v);
        }
        let mut reported = vec![false; edges.len()];
        let mut any = false;
        for v in 0..edges.len() {
            let c = comp[v];
            let members = &groups[c];
            let cyclic = members.len() > 1 || edges[v].contains(&v);
            if !cyclic || reported[c] {
                continue;
            }
            reported[c] = true;
            any = true;
            let message = if members.len() == 1 {
                format!("{kind} `{}` refers to itself", names[v])
            } else {
                format!(
                    "{kind} `{}` refers to itself through {}",
                    names[v],
                    members
                        .iter()
                        .filter(|&&u| u != v)
                        .map(|&u| format!("`{}`", names[u]))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            let mut d = Diagnostic::error(diag::RECURSION, spans[v], message)
                .label("recursive")
                .hint("write the recursion out, or keep a running value in a `state`");
            for &u in members.iter().filter(|&&u| u != v).take(4) {
                d = d.also(spans[u], "part of the cycle");
            }
            self.err(d);
        }
        any
    }

    /// A name in a `fn` body: one of its parameters.
    pub(super) fn fn_param(&mut self, p: &ast::Place, f: FnId) -> Option<ir::Expr> {
        let params = &self.fn_asts[f.0].params;
        if let Some(i) = params.iter().position(|(n, _)| n.name == p.base.name) {
            if p.field.is_some() || p.index.is_some() {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        p.span,
                        format!("parameter `{}` is a number", p.base.name),
                    )
                    .label("no fields or elements")
                    .hint("parameters are plain values"),
                );
                return None;
            }
            return Some(ir::Expr::Param(i));
        }
        let what = match self.names.get(&p.base.name) {
            Some((sym, _)) => sym.describe(),
            None => {
                self.lookup(&p.base, "a parameter")?;
                return None;
            }
        };
        self.fn_scope_error(&p.base, what)
    }

    pub(super) fn fn_scope_error<T>(&mut self, id: &ast::Ident, what: &str) -> Option<T> {
        let f = self.fn_scope?;
        let fa = self.fn_asts[f.0];
        self.err(
            Diagnostic::error(
                diag::FN_SCOPE,
                id.span,
                format!(
                    "`fn {}` cannot use `{}` ({what}): a `fn` sees only its parameters",
                    fa.name.name, id.name
                ),
            )
            .label("not a parameter")
            .also(fa.name.span, "in this `fn`")
            .hint("pass it as an argument, or use a `let` for expressions over device state"),
        );
        None
    }

    /// `name(args)` where `name` is a `fn`.
    pub(super) fn fn_call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        cx: ExprCx,
    ) -> Option<ir::Expr> {
        let Some((Sym::Fn(id), _)) = self.names.get(&name.name).copied() else {
            return None;
        };
        let want = self.fn_asts[id.0].params.len();
        if args.len() != want {
            self.err(
                Diagnostic::error(
                    diag::BAD_CALL,
                    name.span,
                    format!(
                        "`fn {}` takes {want} argument(s), {} given",
                        name.name,
                        args.len()
                    ),
                )
                .label("wrong number of arguments")
                .also(self.fn_asts[id.0].span, "declared here"),
            );
            return None;
        }
        let out: Vec<Option<ir::Expr>> = args.iter().map(|a| self.expr(a, cx)).collect();
        Some(ir::Expr::Fn(
            id,
            out.into_iter().collect::<Option<Vec<_>>>()?,
        ))
    }

    /// A `let` used as a value.
    pub(super) fn let_value(&mut self, p: &ast::Place, l: LetId, cx: ExprCx) -> Option<ir::Expr> {
        if p.field.is_some() || p.index.is_some() {
            self.err(
                Diagnostic::error(
                    diag::WRONG_KIND,
                    p.span,
                    format!("`let {}` is a number", p.base.name),
                )
                .label("no fields or elements")
                .hint("a `let` names a value; use it alone"),
            );
            return None;
        }
        if let Some(item) = cx.no_hooks()
            && self.let_calls_hook.get(l.0).copied().unwrap_or(false)
        {
            self.err(
                Diagnostic::error(
                    diag::WRONG_KIND,
                    p.span,
                    format!("`let {}` calls a hook; hooks cannot be called here", p.base.name),
                )
                .label(format!("used in `{item}`"))
                .also(self.let_asts[l.0].span, "declared here")
                .hint(format!("`{item}` is evaluated outside device actions; compute into a `state` in an action instead")),
            );
            return None;
        }
        Some(ir::Expr::Let(l))
    }
}

/// The lets and fns an expression refers to, and whether it calls a hook.
fn refs(e: &ir::Expr) -> (Vec<usize>, Vec<usize>, bool) {
    let mut lets = Vec::new();
    let mut fns = Vec::new();
    let mut hook = false;
    e.walk(&mut |x| match x {
        ir::Expr::Let(l) => lets.push(l.0),
        ir::Expr::Fn(f, _) => fns.push(f.0),
        ir::Expr::Call(..) => hook = true,
        _ => {}
    });
    (lets, fns, hook)
}

/// Strongly connected components (Kosaraju, iterative): a component
/// number per node.
fn components(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut order = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    for s in 0..n {
        if seen[s] {
            continue;
        }
        seen[s] = true;
        let mut stack = vec![(s, 0usize)];
        while let Some((v, i)) = stack.pop() {
            if let Some(&w) = edges[v].get(i) {
                stack.push((v, i + 1));
                if w < n && !seen[w] {
                    seen[w] = true;
                    stack.push((w, 0));
                }
            } else {
                order.push(v);
            }
        }
    }
    let mut rev = vec![Vec::new(); n];
    for (v, ws) in edges.iter().enumerate() {
        for &w in ws {
            if w < n {
                rev[w].push(v);
            }
        }
    }
    let mut comp = vec![usize::MAX; n];
    let mut c = 0;
    for &s in order.iter().rev() {
        if comp[s] != usize::MAX {
            continue;
        }
        comp[s] = c;
        let mut stack = vec![s];
        while let Some(v) = stack.pop() {
            for &w in &rev[v] {
                if comp[w] == usize::MAX {
                    comp[w] = c;
                    stack.push(w);
                }
            }
        }
        c += 1;
    }
    comp
}
