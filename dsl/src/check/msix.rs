//! Placement of the MSI-X table and pending bit array
//! (`msix N table bar B @ OFF pba bar B @ OFF;`), checked once the BARs and
//! registers are known.
//!
//! Emits E0506 (not a declared memory BAR), E0507 (offset not 8-byte
//! aligned, at or above 4 GiB, or the structure runs past its BAR's end) and
//! E0508 (a structure shares bytes with a register or with the other
//! structure). On any error the MSI-X capability is dropped from the IR, so
//! nothing downstream sees a misplaced table.

use super::Checker;
use crate::ast::{self, InterruptItem};
use crate::diag::{self, Diagnostic};
use crate::ir;

impl<'a> Checker<'a> {
    pub(super) fn check_msix(&mut self, dev: &mut ir::Device, ast: Option<&ast::InterruptAst>) {
        let Some(msix) = dev.interrupt.msix else {
            return;
        };
        let Some((table, pba)) = ast.and_then(|a| {
            a.items.iter().find_map(|(i, _)| match i {
                InterruptItem::Msix { table, pba, .. } => Some((*table, *pba)),
                _ => None,
            })
        }) else {
            return;
        };
        let areas = [
            ("table", table, msix.table_offset, msix.table_len()),
            ("pending bit array", pba, msix.pba_offset, msix.pba_len()),
        ];
        let mut ok = true;
        for (what, (bar_num, off_num), offset, len) in areas {
            ok &= self.msix_area(dev, what, bar_num, off_num, offset, len);
        }
        if ok {
            let (t, p) = (areas[0], areas[1]);
            let t_end = t.2 + t.3;
            let p_end = p.2 + p.3;
            if msix.table_bar == msix.pba_bar && t.2 < p_end && p.2 < t_end {
                self.err(
                    Diagnostic::error(
                        diag::MSIX_OVERLAP,
                        pba.1.span,
                        format!(
                            "the MSI-X pending bit array [{:#x}, {:#x}) overlaps the table [{:#x}, {:#x})",
                            p.2, p_end, t.2, t_end
                        ),
                    )
                    .label("pending bit array here")
                    .also(table.1.span, "table here")
                    .hint(format!("place the pending bit array at {t_end:#x} or later")),
                );
                ok = false;
            }
        }
        if !ok {
            dev.interrupt.msix = None;
        }
    }

    /// One structure: a memory BAR, aligned, inside, clear of registers.
    fn msix_area(
        &mut self,
        dev: &ir::Device,
        what: &str,
        bar_num: ast::Num,
        off_num: ast::Num,
        offset: u64,
        len: u64,
    ) -> bool {
        let bar = u8::try_from(bar_num.value)
            .ok()
            .and_then(|b| dev.bar(b))
            .filter(|b| !b.kind.is_io());
        let Some(bar) = bar else {
            let declared = u8::try_from(bar_num.value).ok().and_then(|b| dev.bar(b));
            let mut d = Diagnostic::error(
                diag::MSIX_BAR,
                bar_num.span,
                match declared {
                    Some(_) => format!("the MSI-X {what} cannot live in I/O BAR {}", bar_num.value),
                    None => format!(
                        "the MSI-X {what} names BAR {}, which the device does not declare",
                        bar_num.value
                    ),
                },
            )
            .label("not a memory BAR of this device")
            .hint("declare `bar B mem32 size S { .. }` and place the structure there");
            if let Some(b) = declared {
                d = d.also(b.span, "declared as I/O here");
            }
            self.err(d);
            return false;
        };
        let misplaced = |msg: String, hint: String| {
            Diagnostic::error(diag::MSIX_PLACEMENT, off_num.span, msg)
                .label("misplaced")
                .also(
                    bar.span,
                    format!("BAR {} is {:#x} bytes", bar.index, bar.size),
                )
                .hint(hint)
        };
        if !offset.is_multiple_of(8) || offset >= 1 << 32 {
            self.err(misplaced(
                format!("the MSI-X {what} offset {offset:#x} is not 8-byte aligned below 4 GiB"),
                "the low 3 bits of the offset register hold the BAR number: use a multiple of 8"
                    .into(),
            ));
            return false;
        }
        let end = offset.saturating_add(len);
        if end > bar.size {
            self.err(misplaced(
                format!(
                    "the MSI-X {what} [{offset:#x}, {end:#x}) runs past the end of BAR {}",
                    bar.index
                ),
                format!("the {what} takes {len:#x} bytes: grow the BAR or move it"),
            ));
            return false;
        }
        let clash = bar
            .registers
            .iter()
            .map(|r| dev.register(*r))
            .find(|r| r.offset < end && offset < r.offset + u64::from(r.width));
        if let Some(r) = clash {
            self.err(
                Diagnostic::error(
                    diag::MSIX_OVERLAP,
                    off_num.span,
                    format!(
                        "the MSI-X {what} [{offset:#x}, {end:#x}) overlaps register `{}` at {:#x}",
                        r.name, r.offset
                    ),
                )
                .label(format!("{what} here"))
                .also(r.span, "register here")
                .hint("the runtime serves these bytes itself: move the register or the structure"),
            );
            return false;
        }
        true
    }
}
