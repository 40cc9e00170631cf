//! Register arrays: `register NAME[N]` is listed as N registers `NAME_0 ..
//! NAME_{N-1}` before any other check runs, each `width` bytes after the
//! previous, so names, placement and scenarios see elements. Their
//! behaviour keeps `index` ([`ir::Expr::Index`]), and each element records
//! where it sits ([`ir::ArrayElem`]): backends emit one item per array.
//!
//! Emits E0104 (an array of 0 or more than [`MAX_ARRAY`] registers, or an
//! array in configuration space).

use crate::ast::{self, DeviceItem};
use crate::diag::{self, Diagnostic};
use crate::ir;
use std::collections::HashMap;

/// Largest `register NAME[N]` array: a 64 KiB BAR of `u8` registers.
pub const MAX_ARRAY: u64 = 65536;

/// List every `register NAME[N]` as N registers `NAME_0 .. NAME_{N-1}`,
/// each `width` bytes after the previous. Returns the spec so listed and
/// each element's place in its array, by element name.
pub(super) fn expand_arrays(
    d: &ast::DeviceAst,
    diags: &mut Vec<Diagnostic>,
) -> (ast::DeviceAst, HashMap<String, ir::ArrayElem>) {
    let mut d = d.clone();
    let mut elements = HashMap::new();
    for item in &mut d.items {
        if let DeviceItem::Config(c) = item {
            // Configuration space is at most 192 bytes of registers, and its
            // backends list registers one by one: arrays are for BARs.
            let regs = c
                .registers
                .iter()
                .chain(c.capabilities.iter().flat_map(|cap| &cap.registers));
            for count in regs.filter_map(|r| r.count) {
                diags.push(
                    Diagnostic::error(
                        diag::OUT_OF_RANGE,
                        count.span,
                        "a register array in configuration space",
                    )
                    .label("arrays are for BAR registers")
                    .hint("declare the registers one by one: `register X_0 @ 0x40 : u8; register X_1 @ 0x41 : u8;`"),
                );
            }
            continue;
        }
        let DeviceItem::Bar(bar) = item else { continue };
        let mut out = Vec::with_capacity(bar.registers.len());
        for r in bar.registers.drain(..) {
            let Some(count) = r.count else {
                out.push(r);
                continue;
            };
            if count.value == 0 || count.value > MAX_ARRAY {
                diags.push(
                    Diagnostic::error(
                        diag::OUT_OF_RANGE,
                        count.span,
                        format!("an array of {} registers", count.value),
                    )
                    .label(format!("arrays hold 1 to {MAX_ARRAY} registers"))
                    .hint("split the block, or use a buffer state"),
                );
                continue;
            }
            let stride = u64::from(r.width.0.bits() / 8).max(1);
            for i in 0..count.value {
                let mut e = r.clone();
                e.count = None;
                e.name.name = format!("{}_{i}", r.name.name);
                e.offset.value = r.offset.value.saturating_add(i.saturating_mul(stride));
                elements.insert(
                    e.name.name.clone(),
                    ir::ArrayElem {
                        array: r.name.name.clone(),
                        index: i,
                        count: count.value,
                        stride,
                    },
                );
                out.push(e);
            }
        }
        bar.registers = out;
    }
    (d, elements)
}
