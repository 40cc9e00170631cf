//! Scenario values: operands folded to `constant (+ dma.addr)`, constant
//! operands, repeat counts and stream bytes.

use crate::ast::{self, BinOp, ExprKind};
use crate::check::Checker;
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;
use pcidev_core::ops::{eval_binary, eval_unary};
use pcidev_core::scenario::MAX_EXPANDED_STEPS;

impl Checker<'_> {
    /// A constant step operand (no `dma.addr`).
    pub(super) fn constant(&mut self, e: &ast::Expr, dev: &ir::Device, what: &str) -> Option<u64> {
        let v = self.value(e, dev)?;
        if v.plus_dma_addr {
            self.err(
                Diagnostic::error(diag::BAD_STEP, e.span, format!("{what} is a constant"))
                    .label("not a constant"),
            );
            return None;
        }
        Some(v.constant)
    }

    pub(super) fn repeat_count(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<u32> {
        let n = self.constant(e, dev, "a repeat count")?;
        if n == 0 || n > MAX_EXPANDED_STEPS {
            self.err(
                Diagnostic::error(
                    diag::BAD_STEP,
                    e.span,
                    format!("repeat count {n} is not 1 to {MAX_EXPANDED_STEPS}"),
                )
                .label("repeat count")
                .hint("a scenario runs at most 100000 steps in all"),
            );
            return None;
        }
        Some(n as u32)
    }

    /// Bytes of an `input` or `expect output` step.
    pub(super) fn byte_data(&mut self, d: &ast::ByteData, dev: &ir::Device) -> Option<Vec<u8>> {
        match d {
            ast::ByteData::Text(t) => Some(t.value.as_bytes().to_vec()),
            ast::ByteData::List(items, _) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for e in items {
                    match self.constant(e, dev, "a byte") {
                        Some(b) if b <= 0xff => out.push(b as u8),
                        Some(b) => {
                            self.err(
                                Diagnostic::error(
                                    diag::BAD_STEP,
                                    e.span,
                                    format!("0x{b:x} is not a byte"),
                                )
                                .label("more than 8 bits")
                                .hint("stream bytes are 0 to 0xff"),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
        }
    }

    /// Fold a scenario expression to `constant (+ dma.addr)`.
    pub(super) fn value(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<ir::StepValue> {
        let (dma, constant) = self.fold(e, dev)?;
        match dma {
            0 => Some(ir::StepValue::new(constant)),
            1 => Some(ir::StepValue::dma_addr(constant)),
            _ => self.dma_addr_offset_only(e.span),
        }
    }

    pub(super) fn dma_addr_offset_only<T>(&mut self, span: Span) -> Option<T> {
        self.err(
            Diagnostic::error(
                diag::BAD_STEP,
                span,
                "`dma.addr` may only be offset by a constant",
            )
            .label("not `dma.addr + constant`")
            .hint("write `dma.addr` or `dma.addr + 0x100`"),
        );
        None
    }

    /// (coefficient of dma.addr, constant). Coefficients other than 0/1 are
    /// rejected by the caller.
    pub(super) fn fold(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<(i64, u64)> {
        let bad = |c: &mut Self, span: Span| {
            c.err(
                Diagnostic::error(
                    diag::BAD_STEP,
                    span,
                    "scenario values are constants (and `dma.addr`)",
                )
                .label("not a constant")
                .hint("scenarios run from outside the device: they cannot read its state"),
            );
            None
        };
        match &e.kind {
            ExprKind::Num(v) => Some((0, *v)),
            ExprKind::Bool(b) => Some((0, *b as u64)),
            ExprKind::DmaAddr => {
                if dev.dma_buffer.is_none() {
                    self.err(
                        Diagnostic::error(
                            diag::DMA_NO_BUFFER,
                            e.span,
                            "`dma.addr` without a `dma_buffer`",
                        )
                        .label("no DMA buffer")
                        .hint("declare `dma_buffer SIZE;` in the device"),
                    );
                    return None;
                }
                Some((1, 0))
            }
            ExprKind::Unary(op, x) => {
                let (d, v) = self.fold(x, dev)?;
                if d != 0 {
                    return self.dma_addr_offset_only(e.span);
                }
                Some((0, eval_unary(*op, v)))
            }
            ExprKind::Binary(op, a, b) => {
                let (da, va) = self.fold(a, dev)?;
                let (db, vb) = self.fold(b, dev)?;
                match op {
                    BinOp::Add => Some((da + db, va.wrapping_add(vb))),
                    BinOp::Sub if db == 0 => Some((da, va.wrapping_sub(vb))),
                    _ if da == 0 && db == 0 => Some((0, eval_binary(*op, va, vb))),
                    _ => self.dma_addr_offset_only(e.span),
                }
            }
            ExprKind::Cond(c, a, b) => {
                let (dc, vc) = self.fold(c, dev)?;
                if dc != 0 {
                    return self.dma_addr_offset_only(c.span);
                }
                if vc != 0 {
                    self.fold(a, dev)
                } else {
                    self.fold(b, dev)
                }
            }
            _ => bad(self, e.span),
        }
    }
}
