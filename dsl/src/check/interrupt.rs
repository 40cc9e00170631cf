//! The interrupt: `pin`, `msi`, the derived `level`, and the driver's
//! handler protocol: `status` (a register read first; `value` in the
//! expressions below), `mine` (is this interrupt the device's?), and the
//! `ack` writes with their optional `when` conditions; and whether the
//! device's `irq` / `msi` actions have something to act on.
//!
//! Handler expressions (`mine`, ack values, `when`) are evaluated by the
//! driver over registers it reads (`ir::Interrupt::handler_reads`): they may
//! use constants, operators, `if`, readable registers and their fields, and
//! `value` (rewritten here to the `status` register).
//!
//! Emits E0501 (no pin or MSI), E0502 (an `irq` action with a derived
//! level), E0503 (INTx without `status` or `mine`), E0504 (invalid pin),
//! E0505 (`irq` / `msi` action without an interrupt / MSI), E0510 (a handler
//! expression names what the driver cannot read), E0511 (it reads a
//! register that always reads 0), E0512 (`value` without `status`), E0104
//! (MSI vector count), E0105 (an item other than `ack` given twice), E0402
//! (unknown name or field) and E0403 (a status register that always reads
//! 0, or a status or ack register in configuration space). After a syntax error inside the block, "missing item" errors (E0501,
//! E0503) are not reported: the malformed item may have been the one.

use super::{Checker, ExprCx, Sym};
use crate::ast::{self, ExprKind, InterruptItem};
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;
use std::collections::HashMap;

impl<'a> Checker<'a> {
    pub(super) fn interrupt(&mut self, ast: Option<&ast::InterruptAst>) -> ir::Interrupt {
        let mut out = ir::Interrupt::default();
        let Some(ast) = ast else { return out };
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        // `status` first: `value` in the expressions names it, wherever it
        // stands in the block.
        let status_ast = ast.items.iter().find_map(|(i, _)| match i {
            InterruptItem::Status(r) => Some(r),
            _ => None,
        });
        let mut status_named = false;
        let mut mine_ast = None;
        for (item, span) in &ast.items {
            let key = match item {
                InterruptItem::Pin(_) => "pin",
                InterruptItem::Msi(_) => "msi",
                InterruptItem::Msix { .. } => "msix",
                InterruptItem::Level(_) => "level",
                InterruptItem::Status(_) => "status",
                InterruptItem::Mine(_) => "mine",
                // Repeatable: one write per cause.
                InterruptItem::Ack { .. } => "",
            };
            if !key.is_empty()
                && let Some(prev) = seen.insert(key, *span)
            {
                self.err(
                    Diagnostic::error(
                        diag::DUPLICATE_ITEM,
                        *span,
                        format!("`{key}` is given twice in `interrupt`"),
                    )
                    .label("second")
                    .also(prev, "first")
                    .hint(if key == "mine" {
                        "keep one; combine tests with `||` or `&&`"
                    } else {
                        "keep one"
                    }),
                );
                continue;
            }
            match item {
                InterruptItem::Pin(p) => {
                    out.pin = match p.name.as_str() {
                        "A" => Some(ir::IntxPin::A),
                        "B" => Some(ir::IntxPin::B),
                        "C" => Some(ir::IntxPin::C),
                        "D" => Some(ir::IntxPin::D),
                        _ => {
                            self.err(
                                Diagnostic::error(
                                    diag::BAD_PIN,
                                    p.span,
                                    format!("`{}` is not an interrupt pin", p.name),
                                )
                                .label("pins are A, B, C, D")
                                .hint("for no INTx, omit `pin`"),
                            );
                            None
                        }
                    }
                }
                InterruptItem::Msi(n) => {
                    if n.value == 0 || n.value > 32 || !n.value.is_power_of_two() {
                        self.err(
                            Diagnostic::error(
                                diag::OUT_OF_RANGE,
                                n.span,
                                format!("{} MSI vectors: must be 1, 2, 4, 8, 16 or 32", n.value),
                            )
                            .label("invalid vector count")
                            .hint("MSI vector counts are powers of two up to 32"),
                        );
                    } else {
                        out.msi_vectors = Some(n.value as u8);
                    }
                }
                InterruptItem::Msix {
                    vectors,
                    table,
                    pba,
                } => {
                    // Placement (BARs, alignment, overlaps) is checked in
                    // msix.rs once the registers are known.
                    if vectors.value == 0 || vectors.value > 2048 {
                        self.err(
                            Diagnostic::error(
                                diag::OUT_OF_RANGE,
                                vectors.span,
                                format!("{} MSI-X vectors: must be 1 to 2048", vectors.value),
                            )
                            .label("invalid vector count")
                            .hint("an MSI-X table has 1 to 2048 entries"),
                        );
                    } else {
                        let bar = |n: &ast::Num| u8::try_from(n.value).unwrap_or(u8::MAX);
                        out.msix = Some(ir::Msix {
                            vectors: vectors.value as u16,
                            table_bar: bar(&table.0),
                            table_offset: table.1.value,
                            pba_bar: bar(&pba.0),
                            pba_offset: pba.1.value,
                        });
                    }
                }
                InterruptItem::Level(e) => out.level = self.expr(e, ExprCx::Level),
                InterruptItem::Status(r) => {
                    status_named = true;
                    if let Some(id) = self.lookup_register(r) {
                        if !self.register_readable(id) {
                            let (ra, _) = self.reg_asts[id.0];
                            self.err(
                                Diagnostic::error(diag::WRONG_KIND, r.span, format!("status register `{}` always reads 0", r.name))
                                    .label("not readable")
                                    .also(ra.span, "declared here")
                                    .hint("the handler reads this register to tell whether the interrupt is its own"),
                            );
                        }
                        self.not_config(id, r, "status");
                        out.status = Some(id);
                    }
                }
                InterruptItem::Mine(e) => {
                    mine_ast = Some(e);
                    out.mine = self.handler_expr(e, status_ast);
                }
                InterruptItem::Ack {
                    register,
                    value,
                    when,
                } => {
                    let id = self.lookup_register(register);
                    let v = self.handler_expr(value, status_ast);
                    let w = when.as_ref().map(|w| self.handler_expr(w, status_ast));
                    if let (Some(reg), Some(value), Some(when)) =
                        (id, v, w.map_or(Some(None), |w| w.map(Some)))
                    {
                        self.not_config(reg, register, "ack");
                        out.acks.push(ir::Ack {
                            register: reg,
                            value,
                            when,
                        });
                    }
                }
            }
        }
        // A lone `status REG;` means "mine while REG is non-zero".
        if mine_ast.is_none()
            && let Some(s) = out.status
        {
            out.mine = Some(ir::Expr::Binary(
                ir::BinOp::Ne,
                Box::new(ir::Expr::Register(s)),
                Box::new(ir::Expr::Const(0)),
            ));
        }
        // (A `pin` or `msi` that was written but invalid is reported already;
        // a malformed item may have been the missing one.)
        let has_source =
            seen.contains_key("pin") || seen.contains_key("msi") || seen.contains_key("msix");
        if !out.any()
            && !has_source
            && !ast.malformed
            && (out.level.is_some() || status_named || mine_ast.is_some() || !out.acks.is_empty())
        {
            self.err(
                Diagnostic::error(
                    diag::NO_INTERRUPT_SOURCE,
                    ast.span,
                    "this interrupt has neither `pin` nor `msi`",
                )
                .label("no way to interrupt")
                .hint("add `pin A;` (INTx) and/or `msi 1;`"),
            );
        }
        // A shared INTx line needs a test; MSI vectors are the device's own.
        if out.pin.is_some() && !status_named && mine_ast.is_none() && !ast.malformed {
            self.err(
                Diagnostic::error(
                    diag::NO_STATUS,
                    ast.span,
                    "the INTx interrupt has neither `status` nor `mine`",
                )
                .label("the handler cannot tell this device's interrupts from others on a shared line")
                .hint("add `status REGISTER;` (non-zero while the device interrupts) or `mine EXPR;` over registers, e.g. `mine (IIR & 1) == 0;`"),
            );
        }
        out
    }

    /// Can the driver read something other than 0 from `r`?
    fn register_readable(&self, r: ir::RegId) -> bool {
        // An array element's `read` is its head's (arrays.rs).
        let (ra, _) = self.reg_asts[self.array_head_of(r.0).unwrap_or(r.0)];
        !ra.read.is_empty() || self.fields[r.0].iter().any(|f| f.access.readable())
    }

    /// A `mine`, `ack` or `when` expression: what the driver's handler can
    /// evaluate over the registers it reads.
    fn handler_expr(&mut self, e: &ast::Expr, status: Option<&ast::Ident>) -> Option<ir::Expr> {
        Some(match &e.kind {
            ExprKind::Num(v) => ir::Expr::Const(*v),
            ExprKind::Bool(b) => ir::Expr::Const(*b as u64),
            ExprKind::Value => match status {
                Some(s) => ir::Expr::Register(self.handler_register(s)?),
                None => {
                    self.err(
                        Diagnostic::error(
                            diag::VALUE_WITHOUT_STATUS,
                            e.span,
                            "`value` names the `status` register, and this interrupt has none",
                        )
                        .label("no `status REG;` in this block")
                        .hint("declare `status REG;`, or name the register itself"),
                    );
                    return None;
                }
            },
            ExprKind::Place(p) if p.index.is_none() => {
                let sym = self.lookup(&p.base, "a register")?;
                let Sym::Register(r) = sym else {
                    return self.not_for_handler(e.span, sym.describe());
                };
                if self.reg_asts[r.0].1 == ir::Space::Config {
                    return self.not_for_handler(
                        e.span,
                        "a configuration-space register (it reads BAR registers)",
                    );
                }
                if !self.register_readable(r) {
                    let (ra, _) = self.reg_asts[r.0];
                    self.err(
                        Diagnostic::error(
                            diag::HANDLER_UNREADABLE,
                            p.base.span,
                            format!("register `{}` always reads 0", p.base.name),
                        )
                        .label("the handler would read 0 here")
                        .also(ra.span, "declared write-only")
                        .hint("name a readable register"),
                    );
                    return None;
                }
                match &p.field {
                    None => ir::Expr::Register(r),
                    Some(f) => match self.fields[r.0]
                        .iter()
                        .position(|x| x.name == f.name && !x.implicit)
                    {
                        Some(i) => ir::Expr::Field(r, i),
                        None => {
                            self.err(
                                Diagnostic::error(
                                    diag::UNKNOWN_NAME,
                                    f.span,
                                    format!("register `{}` has no field `{}`", p.base.name, f.name),
                                )
                                .label("unknown field"),
                            );
                            return None;
                        }
                    },
                }
            }
            ExprKind::Place(_) => return self.not_for_handler(e.span, "an indexed place"),
            ExprKind::Call { .. } => return self.not_for_handler(e.span, "a call"),
            ExprKind::DmaAddr => return self.not_for_handler(e.span, "`dma.addr`"),
            ExprKind::Index => return self.not_for_handler(e.span, "`index`"),
            ExprKind::Byte => return self.not_for_handler(e.span, "`byte`"),
            ExprKind::AccessSize | ExprKind::AccessMask => {
                return self.not_for_handler(e.span, "`access.size` / `access.mask`");
            }
            ExprKind::Cond(c, a, b) => {
                let c = self.handler_expr(c, status);
                let a = self.handler_expr(a, status);
                let b = self.handler_expr(b, status);
                ir::Expr::Cond(Box::new(c?), Box::new(a?), Box::new(b?))
            }
            ExprKind::Unary(op, x) => ir::Expr::Unary(*op, Box::new(self.handler_expr(x, status)?)),
            ExprKind::Binary(op, a, b) => {
                let a = self.handler_expr(a, status);
                let b = self.handler_expr(b, status);
                ir::Expr::Binary(*op, Box::new(a?), Box::new(b?))
            }
        })
    }

    /// The `status` register, resolved again for `value` (its errors are
    /// reported at the `status` item).
    fn handler_register(&mut self, id: &ast::Ident) -> Option<ir::RegId> {
        match self.names.get(&id.name) {
            Some((Sym::Register(r), _)) => Some(*r),
            _ => None,
        }
    }

    fn not_for_handler(&mut self, span: Span, what: impl std::fmt::Display) -> Option<ir::Expr> {
        self.err(
            Diagnostic::error(
                diag::HANDLER_EXPR,
                span,
                format!("the driver's interrupt handler cannot evaluate {what}"),
            )
            .label("not visible to the driver")
            .hint("`mine`, `ack` and `when` use constants, registers, fields and `value`; show device state in a register"),
        );
        None
    }

    pub(super) fn check_irq_statements(
        &mut self,
        irq: &ir::Interrupt,
        ast: Option<&ast::InterruptAst>,
    ) {
        let level_span = ast.and_then(|a| {
            a.items
                .iter()
                .find(|(i, _)| matches!(i, InterruptItem::Level(_)))
                .map(|(_, s)| *s)
        });
        for site in self.irq_stmt_sites.clone() {
            if !irq.any() {
                self.err(
                    Diagnostic::error(
                        diag::NO_INTERRUPT,
                        site,
                        "`irq` action on a device without an interrupt",
                    )
                    .label("nothing to raise")
                    .hint("declare `interrupt { pin A; status REG; }`"),
                );
            } else if let Some(level) = level_span {
                self.err(
                    Diagnostic::error(
                        diag::LEVEL_CONFLICT,
                        site,
                        "explicit `irq` action on a device whose level is derived",
                    )
                    .label("explicit action")
                    .also(level, "the line follows this expression")
                    .hint("change the state the level reads instead, or drop `level`"),
                );
            }
        }
        for site in self.msi_stmt_sites.clone() {
            if irq.msi_vectors.is_none() && irq.msix.is_none() {
                self.err(
                    Diagnostic::error(
                        diag::NO_INTERRUPT,
                        site,
                        "`msi` action on a device without MSI",
                    )
                    .label("no MSI declared")
                    .hint("add `msi N;` or `msix N table bar B @ OFF pba bar B @ OFF;` to the `interrupt` block"),
                );
            }
        }
    }
}

impl Checker<'_> {
    /// The handler reaches `status` and `ack` through a BAR mapping: a
    /// configuration-space register cannot be one (E0403).
    fn not_config(&mut self, id: ir::RegId, r: &ast::Ident, what: &str) {
        let (ra, space) = self.reg_asts[id.0];
        if space == ir::Space::Config {
            self.err(
                Diagnostic::error(
                    diag::WRONG_KIND,
                    r.span,
                    format!("`{what}` register `{}` is in configuration space", r.name),
                )
                .label("not in a BAR")
                .also(ra.span, "declared here")
                .hint("the interrupt handler reads and writes BAR registers: use one"),
            );
        }
    }
}
