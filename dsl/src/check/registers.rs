//! Registers: lowering to IR (width, sizes, reset from the fields, the
//! `read` / `on read` / `on write` behaviour) and placement in their BAR.
//!
//! Emits E0301 (outside the BAR), E0302 (overlapping registers), E0303
//! (width or `access` sizes not allowed by the BAR), E0304 (misaligned),
//! E0206 (invalid access size), E0105 (an item given twice in a register)
//! and E0001 (`unaligned` on a register). Behaviour goes through
//! `exprs.rs` and `actions.rs`.

use super::bars::size_bit;
use super::{Checker, ExprCx};
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, RegId};
use crate::source::Span;

impl<'a> Checker<'a> {
    /// `access SIZES;` inside a register: sizes it accepts, all of which
    /// its BAR must allow, and among them its own width.
    fn register_sizes(
        &mut self,
        r: &ast::RegisterAst,
        bars: &[ir::Bar],
        space: ir::Space,
    ) -> Option<u8> {
        let (first, rest) = r.access_sizes.split_first()?;
        for again in rest {
            self.dup_item(again.span, first.span, "access");
        }
        if first.unaligned {
            self.err(
                Diagnostic::error(
                    diag::SYNTAX,
                    first.span,
                    "`unaligned` belongs to the BAR's `access`",
                )
                .label("not allowed on a register")
                .hint("registers only narrow the sizes; alignment is the BAR's"),
            );
        }
        // Configuration space takes accesses of 1, 2 and 4 bytes.
        let config_sizes =
            ir::AccessSizes(ir::AccessSizes::B1.0 | ir::AccessSizes::B2.0 | ir::AccessSizes::B4.0);
        let bar = match space {
            ir::Space::Bar(index) => Some(bars.iter().find(|b| b.index == index)?),
            ir::Space::Config => None,
        };
        let allowed = bar.map_or(config_sizes, |b| b.policy.sizes);
        let mut mask = 0u8;
        for n in &first.sizes {
            let bit = size_bit(n.value);
            if bit == 0 {
                self.err(
                    Diagnostic::error(
                        diag::BAD_ACCESS_SIZE,
                        n.span,
                        format!("{} is not a valid access size", n.value),
                    )
                    .label("sizes are 1, 2, 4 or 8")
                    .hint("use 1, 2, 4 or 8"),
                );
            } else if !allowed.contains(n.value as usize) {
                let d = match bar {
                    Some(bar) => Diagnostic::error(
                        diag::REG_WIDTH_NOT_ALLOWED,
                        n.span,
                        format!(
                            "register `{}` allows {}-byte accesses, but BAR {} does not",
                            r.name.name, n.value, bar.index
                        ),
                    )
                    .label("not allowed by the BAR")
                    .also(bar.span, "the BAR's access policy")
                    .hint("a register can only narrow its BAR's sizes"),
                    None => Diagnostic::error(
                        diag::REG_WIDTH_NOT_ALLOWED,
                        n.span,
                        format!(
                            "register `{}` allows {}-byte accesses, but configuration space has none",
                            r.name.name, n.value
                        ),
                    )
                    .label("not a configuration-space access size")
                    .hint("configuration-space accesses are 1, 2 or 4 bytes"),
                };
                self.err(d);
            } else {
                mask |= bit;
            }
        }
        let width = (r.width.0.bits() / 8).max(1) as u64;
        if mask != 0 && mask & (width as u8) == 0 {
            self.err(
                Diagnostic::error(
                    diag::REG_WIDTH_NOT_ALLOWED,
                    first.span,
                    format!("register `{}` is {width} bytes wide but does not allow {width}-byte accesses", r.name.name),
                )
                .label("its own width is missing")
                .also(r.width.1, "register width")
                .hint(format!("add {width} to the register's `access` sizes")),
            );
        }
        (mask != 0).then_some(mask)
    }

    pub(super) fn registers(&mut self, bars: &[ir::Bar]) -> Vec<ir::Register> {
        let mut regs = Vec::new();
        for (i, (r, space)) in self.reg_asts.clone().into_iter().enumerate() {
            let fields = self.fields[i].clone();
            let reset = fields.iter().fold(0u64, |acc, f| acc | (f.reset << f.lo));
            let width = (r.width.0.bits() / 8).max(1) as u8;
            let mut reg = ir::Register {
                name: r.name.name.clone(),
                space,
                offset: r.offset.value,
                width,
                access: r.access.map(|a| a.0),
                sizes: self.register_sizes(r, bars, space).map(ir::AccessSizes),
                fields,
                reset,
                read: None,
                on_read: Vec::new(),
                on_write: Vec::new(),
                array: self.elements.get(&r.name.name).cloned(),
                span: r.span,
            };
            // An array's elements after the first share the head's
            // behaviour, checked once (arrays.rs): copy it.
            if let Some(head) = self.array_head_of(i) {
                let h: &ir::Register = &regs[head];
                (reg.read, reg.on_read, reg.on_write) =
                    (h.read.clone(), h.on_read.clone(), h.on_write.clone());
                regs.push(reg);
                continue;
            }
            self.array_elem = reg.array.clone();
            if let Some(((e, _), rest)) = r.read.split_first() {
                for (_, again) in rest {
                    self.dup_item(*again, r.read[0].1, "read");
                }
                self.in_access = true;
                reg.read = self.expr(e, ExprCx::Device);
                self.in_access = false;
            }
            if let Some(((b, _), rest)) = r.on_read.split_first() {
                for (_, again) in rest {
                    self.dup_item(*again, r.on_read[0].1, "on read");
                }
                self.in_access = true;
                reg.on_read = self.block(b, ExprCx::Device);
                self.in_access = false;
            }
            if let Some(((b, _), rest)) = r.on_write.split_first() {
                for (_, again) in rest {
                    self.dup_item(*again, r.on_write[0].1, "on write");
                }
                self.in_access = true;
                reg.on_write = self.block(b, ExprCx::Write);
                self.in_access = false;
            }
            self.array_elem = None;
            regs.push(reg);
        }
        // Placement within BARs. A BAR index given twice (E0202) mixes two
        // BARs' registers, and a BAR of 0 bytes (E0203) holds none: both are
        // reported already, and placement errors would only repeat them.
        for bar in bars {
            if bar.size == 0 || bars.iter().filter(|b| b.index == bar.index).count() > 1 {
                continue;
            }
            let mut members: Vec<usize> = (0..regs.len())
                .filter(|&i| regs[i].space == ir::Space::Bar(bar.index))
                .collect();
            members.sort_by_key(|&i| (regs[i].offset, i));
            let mut prev: Option<usize> = None;
            for &i in &members {
                let (r, _) = self.reg_asts[i];
                let reg = &regs[i];
                let end = reg.offset.checked_add(reg.width as u64);
                if end.is_none_or(|e| e > bar.size) {
                    self.err(
                        Diagnostic::error(
                            diag::REG_OUTSIDE_BAR,
                            r.offset.span,
                            format!(
                                "register `{}` at 0x{:x} ({} bytes) is outside BAR {} ({} bytes)",
                                reg.name, reg.offset, reg.width, bar.index, bar.size
                            ),
                        )
                        .label("outside the BAR")
                        .also(bar.span, format!("BAR {} is {} bytes", bar.index, bar.size))
                        .hint("move the register or enlarge the BAR"),
                    );
                }
                if reg.offset % reg.width as u64 != 0 {
                    self.err(
                        Diagnostic::error(
                            diag::REG_MISALIGNED,
                            r.offset.span,
                            format!(
                                "register `{}` at 0x{:x} is not aligned to its {} bytes",
                                reg.name, reg.offset, reg.width
                            ),
                        )
                        .label("misaligned")
                        .hint(format!("use an offset that is a multiple of {}", reg.width)),
                    );
                }
                // (sizes == 0: every listed size was invalid, already reported)
                if !bar.policy.sizes.is_empty()
                    && !bar.policy.sizes.contains(usize::from(reg.width))
                {
                    let sizes = bar.policy.sizes.text(", ");
                    self.err(
                        Diagnostic::error(diag::REG_WIDTH_NOT_ALLOWED, r.width.1, format!("register `{}` is {} bytes wide, but BAR {} allows accesses of {} bytes", reg.name, reg.width, bar.index, sizes))
                            .label("width not allowed")
                            .also(bar.span, "the BAR's access policy")
                            .hint(format!("add {} to the BAR's `access` sizes, or change the register's width", reg.width)),
                    );
                }
                if let Some(p) = prev {
                    let pr = &regs[p];
                    if pr.offset + pr.width as u64 > reg.offset {
                        let (pa, _) = self.reg_asts[p];
                        self.err(
                            Diagnostic::error(diag::REG_OVERLAP, r.offset.span, format!("register `{}` overlaps register `{}`", reg.name, pr.name))
                                .label(format!("0x{:x}..0x{:x}", reg.offset, reg.offset + reg.width as u64))
                                .also(pa.offset.span, format!("`{}` is 0x{:x}..0x{:x}", pr.name, pr.offset, pr.offset + pr.width as u64))
                                .hint(if reg.offset == pr.offset {
                                    "one offset is one register: for banked or read/write-split registers (a 16550's RBR/THR/DLL), declare one register, keep each bank in a `state`, and choose in it: `read if dlab { dll } else { rbr };`, `on write { if dlab { dll = value; } else { thr = value; } }`"
                                } else {
                                    "to show one value at two offsets, read a `state` from two registers"
                                }),
                        );
                    }
                }
                if prev.is_none_or(|p| {
                    regs[p].offset + regs[p].width as u64 <= reg.offset + reg.width as u64
                }) {
                    prev = Some(i);
                }
            }
        }
        regs
    }

    fn dup_item(&mut self, again: Span, first: Span, what: &str) {
        self.err(
            Diagnostic::error(
                diag::DUPLICATE_ITEM,
                again,
                format!("`{what}` is given twice in this register"),
            )
            .label("second")
            .also(first, "first")
            .hint("merge them into one"),
        );
    }
}

/// List each BAR's registers, by offset (then declaration order).
pub(super) fn list_bar_registers(dev: &mut ir::Device) {
    for bar in &mut dev.bars {
        let mut members: Vec<RegId> = (0..dev.registers.len())
            .filter(|&i| dev.registers[i].space == ir::Space::Bar(bar.index))
            .map(RegId)
            .collect();
        members.sort_by_key(|r| (dev.registers[r.0].offset, r.0));
        bar.registers = members;
    }
}
