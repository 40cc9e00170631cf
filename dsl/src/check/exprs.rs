//! Expressions and places: resolving names used as values or assigned to,
//! and what each context may refer to ([`ExprCx`]: device behaviour,
//! `on write`, the interrupt `level`; `mine`/`ack` are `interrupt.rs`'s). Records which states are read,
//! for the unused-state lint.
//!
//! Properties of timers, FIFOs and streams, `let`s and `fn` calls are
//! resolved by their own files (`timers.rs`, `fifos.rs`, `streams.rs`,
//! `lets.rs`).
//!
//! Emits E0402 (unknown name or field), E0403 (a name of the wrong kind for
//! its place: `value` outside `on write`, `dma.addr` outside a scenario,
//! `index` outside an array, `byte` outside `on input`, a hook in
//! `level`, an indexed scalar, an unindexed buffer, a
//! FIFO assigned), E0404 (hook call arity, a hook
//! without a return value used as one) and E0312 (a register without
//! storage read or assigned), E1004 (`access.size` / `access.mask`
//! outside a register's `read`, `on read`, `on write`).

use super::{Checker, Sym};
use crate::ast::{self, ExprKind};
use crate::diag::{self, Diagnostic};
use crate::ir::{self, HookId};

/// Where an expression appears: decides what it may refer to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ExprCx {
    /// Device behaviour (`read`, `on read`): state, registers, hooks.
    Device,
    /// `on write`: also `value`.
    Write,
    /// `level`: state and registers only (no hooks, no value).
    Level,
    /// A stream's `on input`: device behaviour plus `byte`.
    Input,
    /// A stream's `ready`: device behaviour without hooks (the host asks
    /// it outside any action, through `&self`).
    Ready,
}

impl ExprCx {
    /// Hooks (and `let`s that call them) cannot be called here: the item
    /// is evaluated outside device actions. Its name, for the message.
    pub(super) fn no_hooks(self) -> Option<&'static str> {
        match self {
            ExprCx::Level => Some("level"),
            ExprCx::Ready => Some("ready"),
            _ => None,
        }
    }
}

impl<'a> Checker<'a> {
    pub(super) fn expr(&mut self, e: &ast::Expr, cx: ExprCx) -> Option<ir::Expr> {
        Some(match &e.kind {
            ExprKind::Num(v) => ir::Expr::Const(*v),
            ExprKind::Bool(b) => ir::Expr::Const(*b as u64),
            ExprKind::Value => {
                if cx != ExprCx::Write {
                    self.err(
                        Diagnostic::error(
                            diag::WRONG_KIND,
                            e.span,
                            "`value` is only defined in `on write` blocks (and the `interrupt` block)",
                        )
                        .label("no value being written here")
                        .hint("in `on write`, `value` is the value the guest wrote"),
                    );
                    return None;
                }
                ir::Expr::Value
            }
            ExprKind::DmaAddr => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        e.span,
                        "`dma.addr` is only defined in scenarios",
                    )
                    .label("not in a scenario")
                    .hint("device behaviour gets DMA addresses from registers"),
                );
                return None;
            }
            ExprKind::Byte => {
                if cx != ExprCx::Input || self.fn_scope.is_some() {
                    self.err(
                        Diagnostic::error(
                            diag::WRONG_KIND,
                            e.span,
                            "`byte` is only defined in a stream's `on input`",
                        )
                        .label("no byte arriving here")
                        .hint("`stream line { on input { rx.push(byte); } }`"),
                    );
                    return None;
                }
                ir::Expr::Byte
            }
            ExprKind::AccessSize | ExprKind::AccessMask => {
                if !self.in_access || self.fn_scope.is_some() {
                    let what = if matches!(e.kind, ExprKind::AccessSize) {
                        "access.size"
                    } else {
                        "access.mask"
                    };
                    self.err(
                        Diagnostic::error(
                            diag::ACCESS_OUTSIDE,
                            e.span,
                            format!("`{what}` is only defined while a guest accesses a register"),
                        )
                        .label("no guest access under way here")
                        .hint("use it in a register's `read`, `on read` or `on write`; pass it to a `fn` as an argument"),
                    );
                    return None;
                }
                if matches!(e.kind, ExprKind::AccessSize) {
                    ir::Expr::AccessSize
                } else {
                    ir::Expr::AccessMask
                }
            }
            ExprKind::Place(p) => {
                if let Some(f) = self.fn_scope {
                    return self.fn_param(p, f);
                }
                self.place_value(p, cx)?
            }
            ExprKind::Call { hook, args }
                if matches!(self.names.get(&hook.name), Some((Sym::Fn(_), _))) =>
            {
                self.fn_call(hook, args, cx)?
            }
            ExprKind::Call { hook, .. } if self.fn_scope.is_some() => {
                return self.fn_scope_error(hook, "a hook");
            }
            ExprKind::Call { hook, args } => {
                if let Some(item) = cx.no_hooks() {
                    self.err(
                        Diagnostic::error(diag::WRONG_KIND, hook.span, "hooks cannot be called here")
                            .label("hook call")
                            .hint(format!("`{item}` is evaluated outside device actions; compute into a `state` in an action instead")),
                    );
                    return None;
                }
                let (id, args) = self.call(hook, args, cx)?;
                if self.hook_asts[id.0].ret.is_none() {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_CALL,
                            hook.span,
                            format!(
                                "hook `{}` returns nothing; it cannot be used as a value",
                                hook.name
                            ),
                        )
                        .label("used as a value")
                        .also(self.hook_asts[id.0].span, "declared without `-> TYPE`")
                        .hint("declare a return type, or call it as a statement"),
                    );
                    return None;
                }
                ir::Expr::Call(id, args)
            }
            ExprKind::Index if self.array_elem.is_some() => ir::Expr::Index,
            ExprKind::Index => {
                self.err(
                    Diagnostic::error(diag::WRONG_KIND, e.span, "`index` is only defined in an array register")
                        .label("not in `register NAME[N]`")
                        .hint("declare the register as an array: `register NAME[4] @ 0x10 : u8 { read buf[index]; }`"),
                );
                return None;
            }
            ExprKind::Cond(c, a, b) => {
                let c = self.expr(c, cx);
                let a = self.expr(a, cx);
                let b = self.expr(b, cx);
                ir::Expr::Cond(Box::new(c?), Box::new(a?), Box::new(b?))
            }
            ExprKind::Unary(op, x) => ir::Expr::Unary(*op, Box::new(self.expr(x, cx)?)),
            ExprKind::Binary(op, a, b) => {
                let a = self.expr(a, cx);
                let b = self.expr(b, cx);
                ir::Expr::Binary(*op, Box::new(a?), Box::new(b?))
            }
        })
    }

    pub(super) fn call(
        &mut self,
        hook: &ast::Ident,
        args: &[ast::Expr],
        cx: ExprCx,
    ) -> Option<(HookId, Vec<ir::Expr>)> {
        let id = match self.lookup(hook, "a hook")? {
            Sym::Hook(h) => h,
            other => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        hook.span,
                        format!("`{}` is {}, not a hook", hook.name, other.describe()),
                    )
                    .label("called here")
                    .hint("declare it with `hook NAME(params) -> TYPE;`"),
                );
                return None;
            }
        };
        let want = self.hook_asts[id.0].params.len();
        if args.len() != want {
            self.err(
                Diagnostic::error(
                    diag::BAD_CALL,
                    hook.span,
                    format!(
                        "hook `{}` takes {want} argument(s), {} given",
                        hook.name,
                        args.len()
                    ),
                )
                .label("wrong number of arguments")
                .also(self.hook_asts[id.0].span, "declared here"),
            );
            return None;
        }
        let mut out = Vec::new();
        for a in args {
            out.push(self.expr(a, cx));
        }
        Some((id, out.into_iter().collect::<Option<Vec<_>>>()?))
    }

    /// A place read as a value.
    fn place_value(&mut self, p: &ast::Place, cx: ExprCx) -> Option<ir::Expr> {
        match self.lookup(&p.base, "a state or register")? {
            Sym::State(s) if self.is_fifo(s) => return self.fifo_property(p, s, cx),
            Sym::Timer(t) => return self.timer_property(p, t),
            Sym::Stream(st) => return self.stream_property(p, st),
            Sym::Let(l) => return self.let_value(p, l, cx),
            _ => {}
        }
        match self.place(p, cx, false)? {
            ir::Place::State(s) => Some(ir::Expr::State(s)),
            ir::Place::Register(r) => Some(ir::Expr::Register(r)),
            ir::Place::Field(r, f) => Some(ir::Expr::Field(r, f)),
            ir::Place::BufferByte(s, i) => Some(ir::Expr::BufferByte(s, i)),
        }
    }

    /// Resolve a place; `store` when it is assigned to.
    pub(super) fn place(&mut self, p: &ast::Place, cx: ExprCx, store: bool) -> Option<ir::Place> {
        let sym = self.lookup(&p.base, "a state or register")?;
        match sym {
            Sym::State(s) if store && self.is_fifo(s) => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        p.span,
                        format!("FIFO `{}` cannot be assigned", p.base.name),
                    )
                    .label("a FIFO, not a number")
                    .hint(format!(
                        "use `{0}.push(v);`, `{0}.pop();` or `{0}.clear();`",
                        p.base.name
                    )),
                );
                None
            }
            Sym::State(s) => {
                if !store {
                    self.used_states.insert(s.0);
                }
                let is_buffer = matches!(self.state_asts[s.0].ty, ast::TypeAst::Buffer(..));
                if let Some(f) = &p.field {
                    self.err(
                        Diagnostic::error(
                            diag::WRONG_KIND,
                            f.span,
                            format!("state `{}` has no fields", p.base.name),
                        )
                        .label("fields belong to registers")
                        .hint("use the state itself"),
                    );
                    return None;
                }
                match (&p.index, is_buffer) {
                    (Some(i), true) => Some(ir::Place::BufferByte(s, Box::new(self.expr(i, cx)?))),
                    (None, false) => Some(ir::Place::State(s)),
                    (Some(_), false) => {
                        self.err(
                            Diagnostic::error(
                                diag::WRONG_KIND,
                                p.span,
                                format!(
                                    "state `{}` is not a buffer; it cannot be indexed",
                                    p.base.name
                                ),
                            )
                            .label("indexed here")
                            .hint("only `[u8; N]` states are indexed"),
                        );
                        None
                    }
                    (None, true) => {
                        self.err(
                            Diagnostic::error(
                                diag::WRONG_KIND,
                                p.span,
                                format!("buffer `{}` is used as a number", p.base.name),
                            )
                            .label("a buffer, not a number")
                            .hint(format!("index it: `{}[0]`", p.base.name)),
                        );
                        None
                    }
                }
            }
            Sym::Register(r) => {
                if p.index.is_some() {
                    self.err(
                        Diagnostic::error(
                            diag::WRONG_KIND,
                            p.span,
                            format!("register `{}` cannot be indexed", p.base.name),
                        )
                        .label("indexed here"),
                    );
                    return None;
                }
                if self.fields[r.0].is_empty() {
                    let (ra, _) = self.reg_asts[r.0];
                    self.err(
                        Diagnostic::error(diag::NO_STORAGE, p.base.span, format!("register `{}` has no storage", p.base.name))
                            .label(if store { "assigned here" } else { "read here" })
                            .also(ra.name.span, "declared without an access kind")
                            .hint("name the `state` it shows instead, or give the register an access kind"),
                    );
                    return None;
                }
                match &p.field {
                    None => Some(ir::Place::Register(r)),
                    Some(f) => match self.fields[r.0]
                        .iter()
                        .position(|x| x.name == f.name && !x.implicit)
                    {
                        Some(i) => Some(ir::Place::Field(r, i)),
                        None => {
                            self.err(
                                Diagnostic::error(
                                    diag::UNKNOWN_NAME,
                                    f.span,
                                    format!("register `{}` has no field `{}`", p.base.name, f.name),
                                )
                                .label("unknown field")
                                .hint(format!(
                                    "fields of `{}`: {}",
                                    p.base.name,
                                    self.fields[r.0]
                                        .iter()
                                        .filter(|x| !x.implicit)
                                        .map(|x| x.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                            );
                            None
                        }
                    },
                }
            }
            other => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        p.base.span,
                        format!("`{}` is {}, not a value", p.base.name, other.describe()),
                    )
                    .label("used as a value")
                    .hint("values are states, registers and fields"),
                );
                None
            }
        }
    }
}
