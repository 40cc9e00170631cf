//! Scenario steps on the driver's DMA buffer: ranges inside it, the data
//! expected or filled there, and the DMA mask the driver sets.

use crate::ast;
use crate::check::Checker;
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;

impl Checker<'_> {
    pub(super) fn data(&mut self, s: &ast::Source, dev: &ir::Device) -> Option<ir::Data> {
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

    pub(super) fn dma_range(
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

    pub(in crate::check) fn dma_mask_bits(&self, dev: &ir::Device) -> u8 {
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
