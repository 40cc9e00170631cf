//! Scenarios: each step's location (a register or a raw `BAR:offset`), its
//! values folded to `constant (+ dma.addr)`, DMA buffer ranges and data,
//! and whether the access is valid under its BAR's policy as the step
//! claims. Scenarios run from outside the device, so they see constants and
//! the driver's DMA buffer only. Also derives the DMA mask the driver sets.
//!
//! Emits E0601 (`dma.addr` or `dma[..]` without a `dma_buffer`), E0602
//! (range outside the DMA buffer), E0701 (invalid step: location, width,
//! non-constant value), E0702 (`invalid` step on a valid access), E0703
//! (expecting a value from a register that always reads 0), E0505 (`expect
//! irq` without an interrupt) and the warning W0002 (an access the BAR does
//! not allow, in a step not marked `invalid`).

use super::{Checker, fits};
use crate::ast::{self, BinOp, ExprKind, ScalarType, StepKind};
use crate::diag::{self, Diagnostic};
use crate::ir::{self, low_mask};
use crate::source::Span;
use pcidev_core::ops::{eval_binary, eval_unary};

impl<'a> Checker<'a> {
    pub(super) fn scenario(
        &mut self,
        s: &ast::ScenarioAst,
        dev: &ir::Device,
    ) -> Option<ir::Scenario> {
        let mut steps = Vec::new();
        let mut ok = true;
        for step in &s.steps {
            match self.step(step, dev) {
                Some(kind) => {
                    let text = self
                        .sources
                        .snippet(step.span)
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ");
                    let line = self.sources.line(step.span);
                    steps.push(ir::Step {
                        kind,
                        text,
                        line,
                        span: step.span,
                    });
                }
                None => ok = false,
            }
        }
        ok.then(|| ir::Scenario {
            name: s.name.name.clone(),
            description: s
                .description
                .as_ref()
                .map(|d| d.value.clone())
                .unwrap_or_default(),
            steps,
            span: s.span,
        })
    }

    fn step(&mut self, step: &ast::Step, dev: &ir::Device) -> Option<ir::StepKind> {
        let mask_of = |c: &mut Self, m: &Option<ast::Expr>| -> Option<u64> {
            match m {
                None => Some(u64::MAX),
                Some(e) => {
                    let v = c.value(e, dev)?;
                    if v.plus_dma_addr {
                        c.err(
                            Diagnostic::error(diag::BAD_STEP, e.span, "a mask is a constant")
                                .label("not a constant"),
                        );
                        return None;
                    }
                    Some(v.constant)
                }
            }
        };
        Some(match &step.kind {
            StepKind::Read { location } => {
                let loc = self.location(location, dev)?;
                self.policy_check(&loc, location.span(), false, dev)?;
                ir::StepKind::Read(loc)
            }
            StepKind::Write { location, value } => {
                let loc = self.location(location, dev)?;
                let v = self.value(value, dev)?;
                self.fits_loc(&loc, v, value.span)?;
                self.policy_check(&loc, location.span(), false, dev)?;
                ir::StepKind::Write(loc, v)
            }
            StepKind::Expect {
                location,
                value,
                mask,
            }
            | StepKind::Wait {
                location,
                value,
                mask,
            } => {
                let loc = self.location(location, dev)?;
                let v = self.value(value, dev)?;
                let m = mask_of(self, mask)?;
                self.fits_loc(&loc, v, value.span)?;
                self.policy_check(&loc, location.span(), false, dev)?;
                if let Some(r) = dev.register_at(&loc) {
                    let reg = dev.register(r);
                    if !reg.readable() && !v.plus_dma_addr && v.constant & m != 0 {
                        self.err(
                            Diagnostic::error(
                                diag::STEP_NEEDS_READ,
                                location.span(),
                                format!("register `{}` always reads 0", reg.name),
                            )
                            .label("write-only")
                            .also(reg.span, "declared here")
                            .hint("expect 0, or make the register readable"),
                        );
                        return None;
                    }
                }
                if matches!(step.kind, StepKind::Expect { .. }) {
                    ir::StepKind::Expect {
                        loc,
                        value: v,
                        mask: m,
                        cmp: ir::Cmp::Eq,
                    }
                } else {
                    ir::StepKind::Wait {
                        loc,
                        value: v,
                        mask: m,
                    }
                }
            }
            StepKind::InvalidWrite { location, value } => {
                let loc = self.location(location, dev)?;
                let v = self.value(value, dev)?;
                self.fits_loc(&loc, v, value.span)?;
                self.policy_check(&loc, location.span(), true, dev)?;
                ir::StepKind::InvalidWrite(loc, v)
            }
            StepKind::InvalidRead { location } => {
                let loc = self.location(location, dev)?;
                self.policy_check(&loc, location.span(), true, dev)?;
                let bar = dev.bar(loc.space.bar()?)?;
                let expect = match bar.policy.invalid {
                    ir::InvalidAccess::Ignore => 0,
                    _ => low_mask(loc.width as u32 * 8),
                };
                ir::StepKind::InvalidRead { loc, expect }
            }
            StepKind::ExpectIrq { asserted } => {
                if !dev.interrupt.any() {
                    self.err(
                        Diagnostic::error(
                            diag::NO_INTERRUPT,
                            step.span,
                            "`expect irq` on a device without an interrupt",
                        )
                        .label("no interrupt declared")
                        .hint("declare `interrupt { pin A; status REG; }`"),
                    );
                    return None;
                }
                ir::StepKind::ExpectIrq(*asserted)
            }
            StepKind::ExpectDma { start, end, source } | StepKind::Fill { start, end, source } => {
                let (s, e) = self.dma_range(start, end, step.span, dev)?;
                let data = self.data(source, dev)?;
                if matches!(step.kind, StepKind::Fill { .. }) {
                    ir::StepKind::Fill {
                        start: s,
                        end: e,
                        data,
                    }
                } else {
                    ir::StepKind::ExpectDma {
                        start: s,
                        end: e,
                        data,
                    }
                }
            }
        })
    }

    fn location(&mut self, l: &ast::Location, dev: &ir::Device) -> Option<ir::Loc> {
        match l {
            ast::Location::Register(id) => {
                let r = self.lookup_register(id)?;
                let reg = dev.register(r);
                Some(ir::Loc::bar(reg.bar, reg.offset, reg.width))
            }
            ast::Location::Raw {
                bar,
                offset,
                width,
                span,
            } => {
                if width.0 == ScalarType::Bool {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_STEP,
                            width.1,
                            "accesses are u8, u16, u32 or u64",
                        )
                        .label("not an access width"),
                    );
                    return None;
                }
                let bytes = (width.0.bits() / 8) as u64;
                let Some(b) = dev.bar(bar.value.min(255) as u8).filter(|_| bar.value <= 5) else {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_STEP,
                            bar.span,
                            format!("the device has no BAR {}", bar.value),
                        )
                        .label("no such BAR")
                        .hint(format!(
                            "BARs: {}",
                            dev.bars
                                .iter()
                                .map(|b| b.index.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    );
                    return None;
                };
                if offset.value.checked_add(bytes).is_none_or(|e| e > b.size) {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_STEP,
                            *span,
                            format!(
                                "0x{:x} + {bytes} is outside BAR {} ({} bytes)",
                                offset.value, b.index, b.size
                            ),
                        )
                        .label("outside the BAR")
                        .also(b.span, "BAR declared here"),
                    );
                    return None;
                }
                Some(ir::Loc::bar(b.index, offset.value, bytes as u8))
            }
        }
    }

    /// Is the access valid under its BAR's policy, as the step claims?
    fn policy_check(
        &mut self,
        loc: &ir::Loc,
        span: Span,
        claims_invalid: bool,
        dev: &ir::Device,
    ) -> Option<()> {
        let bar = dev.bar(loc.space.bar()?)?;
        let valid = dev.access_valid(bar.index, loc.offset, loc.width as u64);
        let sizes = bar.policy.sizes.text(", ");
        if claims_invalid && valid {
            self.err(
                Diagnostic::error(
                    diag::NOT_INVALID,
                    span,
                    format!(
                        "a {}-byte access at 0x{:x} is valid for BAR {}",
                        loc.width, loc.offset, bar.index
                    ),
                )
                .label("valid access")
                .also(
                    bar.span,
                    format!("BAR {} allows {} byte(s)", bar.index, sizes),
                )
                .hint("drop `invalid`, or use a width the BAR rejects"),
            );
            return None;
        }
        if !claims_invalid && !valid {
            self.diags.push(
                Diagnostic::warning(diag::UNCHECKED_INVALID, span, format!("a {}-byte access at 0x{:x} is not allowed by BAR {}", loc.width, loc.offset, bar.index))
                    .label("the device will apply its `invalid` policy")
                    .also(bar.span, format!("BAR {} allows {} byte(s)", bar.index, sizes))
                    .hint("write `invalid write ...` / `invalid read ...` if that is what this step tests"),
            );
        }
        Some(())
    }

    fn fits_loc(&mut self, loc: &ir::Loc, v: ir::StepValue, span: Span) -> Option<()> {
        if !v.plus_dma_addr && !fits(v.constant, loc.width as u32 * 8) {
            self.err(
                Diagnostic::error(
                    diag::BAD_STEP,
                    span,
                    format!("0x{:x} does not fit in {} byte(s)", v.constant, loc.width),
                )
                .label("too wide")
                .hint("use a value that fits the access width"),
            );
            return None;
        }
        Some(())
    }

    /// Fold a scenario expression to `constant (+ dma.addr)`.
    fn value(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<ir::StepValue> {
        let (dma, constant) = self.fold(e, dev)?;
        match dma {
            0 => Some(ir::StepValue::new(constant)),
            1 => Some(ir::StepValue::dma_addr(constant)),
            _ => self.dma_addr_offset_only(e.span),
        }
    }

    fn dma_addr_offset_only<T>(&mut self, span: Span) -> Option<T> {
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
    fn fold(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<(i64, u64)> {
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

    fn data(&mut self, s: &ast::Source, dev: &ir::Device) -> Option<ir::Data> {
        let arg = |c: &mut Self, e: &ast::Expr| -> Option<u64> {
            let v = c.value(e, dev)?;
            if v.plus_dma_addr {
                c.err(
                    Diagnostic::error(diag::BAD_STEP, e.span, "data seeds are constants")
                        .label("not a constant"),
                );
                return None;
            }
            Some(v.constant)
        };
        Some(match &s.kind {
            ast::SourceKind::Random(e) => {
                let v = arg(self, e)?;
                if v > u32::MAX as u64 {
                    self.err(
                        Diagnostic::error(diag::BAD_STEP, e.span, "random seeds are 32-bit")
                            .label("too wide"),
                    );
                    return None;
                }
                ir::Data::Random(v as u32)
            }
            ast::SourceKind::Pattern(e) => {
                let v = arg(self, e)?;
                if v > 0xff {
                    self.err(
                        Diagnostic::error(diag::BAD_STEP, e.span, "a pattern is one byte")
                            .label("too wide"),
                    );
                    return None;
                }
                ir::Data::Pattern(v as u8)
            }
            ast::SourceKind::Word(e) => ir::Data::Word(arg(self, e)?),
            ast::SourceKind::Place(_) => {
                self.err(
                    Diagnostic::error(
                        diag::BAD_STEP,
                        s.span,
                        "scenario data is random(..), pattern(..) or word(..)",
                    )
                    .label("device buffers are not visible to scenarios")
                    .hint("compare against the data the device was given"),
                );
                return None;
            }
        })
    }

    fn dma_range(
        &mut self,
        start: &ast::Expr,
        end: &ast::Expr,
        span: Span,
        dev: &ir::Device,
    ) -> Option<(u64, u64)> {
        let Some(size) = dev.dma_buffer else {
            self.err(
                Diagnostic::error(
                    diag::DMA_NO_BUFFER,
                    span,
                    "this step uses the DMA buffer, but none is declared",
                )
                .label("no DMA buffer")
                .hint("declare `dma_buffer SIZE;` in the device"),
            );
            return None;
        };
        let s = self.value(start, dev)?;
        let e = self.value(end, dev)?;
        if s.plus_dma_addr || e.plus_dma_addr {
            self.err(
                Diagnostic::error(
                    diag::BAD_STEP,
                    span,
                    "ranges are offsets into the DMA buffer, not addresses",
                )
                .label("offsets, not dma.addr"),
            );
            return None;
        }
        if s.constant > e.constant || e.constant > size {
            self.err(
                Diagnostic::error(
                    diag::DMA_RANGE,
                    span,
                    format!(
                        "range {}..{} is outside the {size}-byte DMA buffer",
                        s.constant, e.constant
                    ),
                )
                .label("bad range")
                .hint(format!("start <= end <= {size}")),
            );
            return None;
        }
        Some((s.constant, e.constant))
    }

    pub(super) fn dma_mask_bits(&self, dev: &ir::Device) -> u8 {
        let mut bits = 64u8;
        for sc in &dev.scenarios {
            for st in &sc.steps {
                if let ir::StepKind::Write(loc, v) = &st.kind
                    && v.plus_dma_addr
                {
                    bits = bits.min(loc.width * 8);
                }
            }
        }
        bits
    }
}
