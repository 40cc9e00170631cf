//! Register arrays: `register NAME[N]` is listed as N registers `NAME_0 ..
//! NAME_{N-1}` before any other check runs, each `width` bytes after the
//! previous, so names, placement and scenarios see elements. Their
//! behaviour keeps `index` ([`ir::Expr::Index`]), and each element records
//! where it sits ([`ir::ArrayElem`]): backends emit one item per array.
//! Elements after the first are listed without fields or behaviour: the
//! checker checks the head's once and gives every element a copy, so an
//! error in them is reported once, not once per element.
//!
//! Emits E0104 (an array of 0 or more than [`MAX_ARRAY`] registers, or an
//! array in configuration space).

use super::Checker;
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
            let array = r.name.name.clone();
            // Elements after the first share the head's fields and
            // behaviour, which the checker takes from the head (see
            // `Checker::array_head_of`): list them without, so that the
            // spec's behaviour is not copied `count` times.
            let mut head = r;
            head.count = None;
            let tail = ast::RegisterAst {
                fields: Vec::new(),
                read: Vec::new(),
                on_read: Vec::new(),
                on_write: Vec::new(),
                name: head.name.clone(),
                count: None,
                offset: head.offset,
                width: head.width,
                access: head.access,
                reset: head.reset,
                access_sizes: head.access_sizes.clone(),
                span: head.span,
            };
            let mut head = Some(head);
            for i in 0..count.value {
                let mut e = match head.take() {
                    Some(h) => h,
                    None => tail.clone(),
                };
                e.name.name = format!("{array}_{i}");
                e.offset.value = tail.offset.value.saturating_add(i.saturating_mul(stride));
                elements.insert(
                    e.name.name.clone(),
                    ir::ArrayElem {
                        array: array.clone(),
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

/// Has `r` no fields and no behaviour of its own, as [`expand_arrays`]
/// lists an array's elements after the first?
fn is_bare(r: &ast::RegisterAst) -> bool {
    r.fields.is_empty() && r.read.is_empty() && r.on_read.is_empty() && r.on_write.is_empty()
}

impl Checker<'_> {
    /// For register `i`, an element after the first of a register array:
    /// its array's head (element 0), whose fields and behaviour it shares
    /// and which comes `index` registers before it. `None` for every other
    /// register.
    pub(super) fn array_head_of(&self, i: usize) -> Option<usize> {
        let (r, _) = self.reg_asts[i];
        let elem = self.elements.get(&r.name.name).filter(|e| e.index > 0)?;
        let head = i.checked_sub(usize::try_from(elem.index).ok()?)?;
        let (h, _) = self.reg_asts[head];
        let is_head = self
            .elements
            .get(&h.name.name)
            .is_some_and(|e| e.index == 0 && e.array == elem.array);
        (is_head && is_bare(r)).then_some(head)
    }
}
