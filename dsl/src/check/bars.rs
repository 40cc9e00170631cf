//! BARs: index, kind, size, and the access policy (sizes, alignment, what
//! an invalid or unmapped access does).
//!
//! Emits E0201 (index), E0202 (index taken twice, including a mem64's upper
//! half), E0203 (size not a power of two), E0204 (I/O BAR over 256 bytes),
//! E0205 (too small), E0206 (invalid access size), E0104 (mem32 over 2G),
//! E0105 (`access`, `invalid` or `unmapped` twice) and E0001 (a prefetchable
//! I/O BAR).

use super::Checker;
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;
use std::collections::BTreeMap;

impl<'a> Checker<'a> {
    pub(super) fn bars(&mut self, asts: &[&'a ast::BarAst]) -> Vec<ir::Bar> {
        let mut claimed: BTreeMap<u64, Span> = BTreeMap::new();
        let mut out = Vec::new();
        for b in asts {
            let prefetchable = b.prefetchable.is_some();
            let kind = match b.kind {
                ast::BarKindAst::Io => ir::BarKind::Io,
                ast::BarKindAst::Mem32 => ir::BarKind::Mem32 { prefetchable },
                ast::BarKindAst::Mem64 => ir::BarKind::Mem64 { prefetchable },
            };
            let idx = b.index.value;
            let slots = u64::from(kind.slots());
            if idx > 5 || idx + slots - 1 > 5 {
                let why = if idx <= 5 {
                    "a mem64 BAR also takes the next index, and there is no BAR 6"
                } else {
                    "BARs are numbered 0 to 5"
                };
                self.err(
                    Diagnostic::error(
                        diag::BAR_INDEX,
                        b.index.span,
                        format!("BAR index {idx} is out of range"),
                    )
                    .label(why)
                    .hint("use an index from 0 to 5 (0 to 4 for mem64)"),
                );
            } else {
                for slot in idx..idx + slots {
                    if let Some(prev) = claimed.get(&slot) {
                        self.err(
                            Diagnostic::error(
                                diag::BAR_DUPLICATE,
                                b.index.span,
                                format!("BAR index {slot} is already taken"),
                            )
                            .label(if slot == idx {
                                "this BAR"
                            } else {
                                "this mem64 BAR's upper half"
                            })
                            .also(*prev, "taken by this BAR")
                            .hint("give each BAR its own index (a mem64 BAR uses two)"),
                        );
                    } else {
                        claimed.insert(slot, b.index.span);
                    }
                }
            }
            if b.prefetchable.is_some() && kind == ir::BarKind::Io {
                self.err(
                    Diagnostic::error(
                        diag::SYNTAX,
                        b.prefetchable.unwrap_or(b.span),
                        "I/O BARs cannot be prefetchable",
                    )
                    .label("only memory BARs are prefetchable")
                    .hint("remove `prefetchable` or make the BAR mem32/mem64"),
                );
            }
            let size = b.size.value;
            if !size.is_power_of_two() {
                let next = size.checked_next_power_of_two().unwrap_or(1 << 63);
                self.err(
                    Diagnostic::error(
                        diag::BAR_SIZE_POW2,
                        b.size.span,
                        format!("BAR size {size} (0x{size:x}) is not a power of two"),
                    )
                    .label("not a power of two")
                    .hint(format!("round up to {next} (0x{next:x})")),
                );
            } else if kind == ir::BarKind::Io && size > 256 {
                self.err(
                    Diagnostic::error(
                        diag::BAR_IO_TOO_BIG,
                        b.size.span,
                        format!("I/O BAR of {size} bytes; the limit is 256"),
                    )
                    .label("too large for I/O space")
                    .also(b.kind_span, "declared io here")
                    .hint("use a mem32 BAR for larger register files"),
                );
            } else if (kind.is_io() && size < 4) || (!kind.is_io() && size < 16) {
                self.err(
                    Diagnostic::error(
                        diag::BAR_TOO_SMALL,
                        b.size.span,
                        format!("BAR of {size} bytes is too small"),
                    )
                    .label("too small")
                    .hint("I/O BARs are at least 4 bytes, memory BARs at least 16"),
                );
            } else if matches!(kind, ir::BarKind::Mem32 { .. }) && size > (1 << 31) {
                self.err(
                    Diagnostic::error(diag::OUT_OF_RANGE, b.size.span, "a mem32 BAR is at most 2G")
                        .label("too large for 32-bit space")
                        .hint("use a mem64 BAR"),
                );
            }
            let policy = self.policy(b, kind);
            out.push(ir::Bar {
                index: idx.min(255) as u8,
                kind,
                size,
                policy,
                registers: Vec::new(),
                windows: Vec::new(),
                span: b.span,
            });
        }
        out.sort_by_key(|b| b.index);
        out
    }

    fn policy(&mut self, b: &ast::BarAst, kind: ir::BarKind) -> ir::AccessPolicy {
        let max = if kind == ir::BarKind::Io { 4 } else { 8 };
        let mut sizes = if kind == ir::BarKind::Io {
            0b0111
        } else {
            0b1111
        };
        let mut aligned = true;
        if let Some((first, rest)) = b.access.split_first() {
            for again in rest {
                self.err(
                    Diagnostic::error(
                        diag::DUPLICATE_ITEM,
                        again.span,
                        "`access` is given twice in this BAR",
                    )
                    .label("second")
                    .also(first.span, "first")
                    .hint("list every allowed size in one `access` item"),
                );
            }
            sizes = 0;
            aligned = !first.unaligned;
            for n in &first.sizes {
                let bit = size_bit(n.value);
                if bit != 0 && n.value <= max {
                    sizes |= bit;
                } else {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_ACCESS_SIZE,
                            n.span,
                            format!("{} is not a valid access size here", n.value),
                        )
                        .label(if n.value == 8 {
                            "I/O accesses are at most 4 bytes"
                        } else {
                            "sizes are 1, 2, 4 or 8"
                        })
                        .hint(if kind == ir::BarKind::Io {
                            "use 1, 2 or 4"
                        } else {
                            "use 1, 2, 4 or 8"
                        }),
                    );
                }
            }
        }
        let mut invalid = ir::InvalidAccess::Ignore;
        if let Some(((first, first_span), rest)) = b.invalid.split_first() {
            for (_, again) in rest {
                self.err(
                    Diagnostic::error(
                        diag::DUPLICATE_ITEM,
                        *again,
                        "`invalid` is given twice in this BAR",
                    )
                    .label("second")
                    .also(*first_span, "first")
                    .hint("keep one"),
                );
            }
            invalid = match first {
                ast::InvalidKindAst::Ignore => ir::InvalidAccess::Ignore,
                ast::InvalidKindAst::Ones => ir::InvalidAccess::AllOnes,
                ast::InvalidKindAst::Error => ir::InvalidAccess::Error,
            };
        }
        let mut unmapped_ones = false;
        if let Some(((ones, first), rest)) = b.unmapped.split_first() {
            for (_, again) in rest {
                self.err(
                    Diagnostic::error(
                        diag::DUPLICATE_ITEM,
                        *again,
                        "`unmapped` is given twice in this BAR",
                    )
                    .label("second")
                    .also(*first, "first")
                    .hint("keep one"),
                );
            }
            unmapped_ones = *ones;
        }
        ir::AccessPolicy {
            sizes: ir::AccessSizes(sizes),
            aligned,
            invalid,
            unmapped: if unmapped_ones {
                ir::Unmapped::Ones
            } else {
                ir::Unmapped::Zero
            },
        }
    }
}

/// An access size's bit in [`ir::AccessPolicy::sizes`]; 0 when the size is
/// not 1, 2, 4 or 8.
pub(super) fn size_bit(bytes: u64) -> u8 {
    match bytes {
        1 => 1,
        2 => 2,
        4 => 4,
        8 => 8,
        _ => 0,
    }
}
