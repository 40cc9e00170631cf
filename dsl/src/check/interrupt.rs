//! The interrupt: `pin`, `msi`, the derived `level`, the `status` register
//! the driver's handler reads, the `ack` it writes, and whether the device's
//! `irq` / `msi` actions have something to act on.
//!
//! Emits E0501 (no pin or MSI), E0502 (an `irq` action with a derived
//! level), E0503 (no `status`), E0504 (invalid pin), E0505 (`irq` / `msi`
//! action without an interrupt / MSI), E0104 (MSI vector count), E0105 (an
//! item given twice) and E0403 (a status register that always reads 0, or a
//! status or ack register in configuration space).

use super::{Checker, ExprCx};
use crate::ast::{self, InterruptItem};
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;
use std::collections::HashMap;

impl<'a> Checker<'a> {
    pub(super) fn interrupt(&mut self, ast: Option<&ast::InterruptAst>) -> ir::Interrupt {
        let mut out = ir::Interrupt::default();
        let Some(ast) = ast else { return out };
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for (item, span) in &ast.items {
            let key = match item {
                InterruptItem::Pin(_) => "pin",
                InterruptItem::Msi(_) => "msi",
                InterruptItem::Level(_) => "level",
                InterruptItem::Status(_) => "status",
                InterruptItem::Ack { .. } => "ack",
            };
            if let Some(prev) = seen.insert(key, *span) {
                self.err(
                    Diagnostic::error(
                        diag::DUPLICATE_ITEM,
                        *span,
                        format!("`{key}` is given twice in `interrupt`"),
                    )
                    .label("second")
                    .also(prev, "first")
                    .hint("keep one"),
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
                InterruptItem::Level(e) => out.level = self.expr(e, ExprCx::Level),
                InterruptItem::Status(r) => {
                    if let Some(id) = self.lookup_register(r) {
                        let (ra, _) = self.reg_asts[id.0];
                        let readable = !ra.read.is_empty()
                            || self.fields[id.0].iter().any(|f| f.access.readable());
                        if !readable {
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
                InterruptItem::Ack { register, value } => {
                    let id = self.lookup_register(register);
                    let v = self.expr(value, ExprCx::Ack);
                    if let (Some(id), Some(v)) = (id, v) {
                        self.not_config(id, register, "ack");
                        out.ack = Some((id, v));
                    }
                }
            }
        }
        // (A `pin` or `msi` that was written but invalid is reported already.)
        let has_source = seen.contains_key("pin") || seen.contains_key("msi");
        if !out.any()
            && !has_source
            && (out.level.is_some() || out.status.is_some() || out.ack.is_some())
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
        if out.any() && out.status.is_none() && !seen.contains_key("status") {
            self.err(
                Diagnostic::error(diag::NO_STATUS, ast.span, "the interrupt has no `status` register")
                    .label("handler cannot tell its interrupt from others")
                    .hint("add `status REGISTER;` naming the register that is non-zero while the device interrupts"),
            );
        }
        out
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
            if irq.msi_vectors.is_none() {
                self.err(
                    Diagnostic::error(
                        diag::NO_INTERRUPT,
                        site,
                        "`msi` action on a device without MSI",
                    )
                    .label("no MSI declared")
                    .hint("add `msi N;` to the `interrupt` block"),
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
