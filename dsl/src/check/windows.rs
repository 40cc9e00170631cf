//! Windows: `window STATE @ OFFSET [ro|rw];` in a BAR shows a buffer
//! state's bytes at `OFFSET .. OFFSET + len` (see [`ir::Window`]).
//!
//! Emits E0402 (unknown state, with a suggestion), E1003 (the name is not a
//! buffer state), E1001 (the window does not fit in its BAR) and E1002 (it
//! overlaps a register or another window; both sites are shown). Runs after
//! the registers are placed, and fills each [`ir::Bar::windows`] sorted by
//! offset.

use super::{Checker, Sym};
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;

impl<'a> Checker<'a> {
    pub(super) fn windows(&mut self, bar_asts: &[&'a ast::BarAst], dev: &mut ir::Device) {
        for b in bar_asts {
            if b.windows.is_empty() {
                continue;
            }
            let same_index = bar_asts
                .iter()
                .filter(|o| o.index.value == b.index.value)
                .count();
            // A BAR index given twice (E0202) or a BAR of 0 bytes (E0203) is
            // reported already; placement errors would only repeat it.
            let Some(bar_pos) = dev
                .bars
                .iter()
                .position(|ib| u64::from(ib.index) == b.index.value && ib.size != 0)
            else {
                continue;
            };
            if same_index > 1 {
                continue;
            }
            let mut placed: Vec<(ir::Window, Span)> = Vec::new();
            for w in &b.windows {
                let Some(window) = self.window(w, &dev.bars[bar_pos], dev) else {
                    continue;
                };
                // Another window of this BAR.
                if let Some((other, other_span)) = placed
                    .iter()
                    .find(|(o, _)| o.offset < window.end() && window.offset < o.end())
                {
                    let name = &dev.state(other.state).name;
                    self.err(
                        Diagnostic::error(
                            diag::WINDOW_OVERLAP,
                            w.offset.span,
                            format!("window `{}` overlaps window `{name}`", w.state.name),
                        )
                        .label(format!("{:#x}..{:#x}", window.offset, window.end()))
                        .also(
                            *other_span,
                            format!("`{name}` is {:#x}..{:#x}", other.offset, other.end()),
                        )
                        .hint("give each window its own range of the BAR"),
                    );
                    continue;
                }
                // A register of this BAR.
                let bar = &dev.bars[bar_pos];
                let hit = bar.registers.iter().map(|r| dev.register(*r)).find(|r| {
                    r.offset < window.end() && window.offset < r.offset + u64::from(r.width)
                });
                if let Some(r) = hit {
                    self.err(
                        Diagnostic::error(
                            diag::WINDOW_OVERLAP,
                            w.offset.span,
                            format!("window `{}` overlaps register `{}`", w.state.name, r.name),
                        )
                        .label(format!("{:#x}..{:#x}", window.offset, window.end()))
                        .also(
                            r.span,
                            format!(
                                "`{}` is {:#x}..{:#x}",
                                r.name,
                                r.offset,
                                r.offset + u64::from(r.width)
                            ),
                        )
                        .hint(
                            "move the window or the register: each byte of a BAR has one meaning",
                        ),
                    );
                    continue;
                }
                placed.push((window, w.offset.span));
            }
            let mut windows: Vec<ir::Window> = placed.into_iter().map(|(w, _)| w).collect();
            windows.sort_by_key(|w| w.offset);
            dev.bars[bar_pos].windows = windows;
        }
    }

    /// One window, resolved and checked against its BAR's bounds.
    fn window(
        &mut self,
        w: &ast::WindowAst,
        bar: &ir::Bar,
        dev: &ir::Device,
    ) -> Option<ir::Window> {
        let state = match self.lookup(&w.state, "a buffer state")? {
            Sym::State(s) if matches!(dev.state(s).ty, ir::Type::Buffer(_)) => s,
            other => {
                let what = match other {
                    Sym::State(s) => match dev.state(s).ty {
                        ir::Type::Fifo { .. } => "a FIFO state",
                        _ => "a scalar state",
                    },
                    other => other.describe(),
                };
                self.err(
                    Diagnostic::error(
                        diag::WINDOW_NOT_BUFFER,
                        w.state.span,
                        format!("`{}` is {what}, not a buffer state", w.state.name),
                    )
                    .label("a window shows a byte buffer")
                    .hint(format!(
                        "declare `state {}: [u8; LEN];`, or show the value with a register",
                        w.state.name
                    )),
                );
                return None;
            }
        };
        self.used_states.insert(state.0);
        let ir::Type::Buffer(len) = dev.state(state).ty else {
            return None;
        };
        let offset = w.offset.value;
        let end = offset.checked_add(len);
        if end.is_none_or(|e| e > bar.size) {
            self.err(
                Diagnostic::error(
                    diag::WINDOW_OUTSIDE_BAR,
                    w.offset.span,
                    format!(
                        "window `{}` at {offset:#x} ({len} bytes) is outside BAR {} ({} bytes)",
                        w.state.name, bar.index, bar.size
                    ),
                )
                .label("outside the BAR")
                .also(bar.span, format!("BAR {} is {} bytes", bar.index, bar.size))
                .hint("enlarge the BAR, shrink the buffer or move the window"),
            );
            return None;
        }
        Some(ir::Window {
            state,
            offset,
            len,
            writable: w.writable.0,
            span: w.span,
        })
    }
}
