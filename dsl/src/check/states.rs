//! States and hooks: the device's own variables (type, reset value, a
//! buffer's initial bytes) and the signatures of its calls into user code.
//!
//! Emits E0901 (FIFO element type, capacity, initial value), E0104 (buffer
//! length, string slot size), E0305 (a reset value or
//! initializer that does not fit its state) and E0401 (a hook parameter
//! declared twice); names go through E0106.

use super::{Checker, fits};
use crate::ast::{self, ScalarType};
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;
use std::collections::HashMap;

impl<'a> Checker<'a> {
    pub(super) fn state(&mut self, s: &ast::StateAst) -> ir::State {
        let ty = match &s.ty {
            ast::TypeAst::Scalar(ScalarType::Bool, _) => ir::Type::Bool,
            ast::TypeAst::Scalar(t, _) => ir::Type::Uint(t.bits()),
            ast::TypeAst::Buffer(n, span) => {
                if n.value == 0 || n.value > (1 << 24) {
                    self.err(
                        Diagnostic::error(
                            diag::OUT_OF_RANGE,
                            *span,
                            format!("buffer length {} is not 1 to 16M", n.value),
                        )
                        .label("buffer length")
                        .hint("device buffers are 1 byte to 16M"),
                    );
                }
                ir::Type::Buffer(n.value)
            }
            ast::TypeAst::Fifo(elem, cap, span) => {
                if *elem == ScalarType::Bool {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_FIFO,
                            *span,
                            "FIFO elements are u8, u16, u32 or u64",
                        )
                        .label("bool elements")
                        .hint("use `fifo[u8; N]` and store 0 or 1"),
                    );
                } else if cap.value == 0 || cap.value > ir::MAX_FIFO {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_FIFO,
                            cap.span,
                            format!("FIFO capacity {} is not 1 to {}", cap.value, ir::MAX_FIFO),
                        )
                        .label("capacity")
                        .hint(format!(
                            "FIFOs hold 1 to {} elements; the 16550's hold 16",
                            ir::MAX_FIFO
                        )),
                    );
                }
                ir::Type::Fifo {
                    elem_bits: elem.bits().max(8),
                    capacity: cap.value.min(ir::MAX_FIFO) as u32,
                }
            }
        };
        let reset = s.reset.map(|n| n.value).unwrap_or(0);
        if let Some(n) = s.reset {
            match ty {
                ir::Type::Buffer(_) => self.err(
                    Diagnostic::error(diag::RESET_TOO_WIDE, n.span, "a buffer has no reset value")
                        .label("buffers reset to zeroes")
                        .hint("remove the `= ...`"),
                ),
                ir::Type::Fifo { .. } => self.err(
                    Diagnostic::error(diag::BAD_FIFO, n.span, "a FIFO has no reset value")
                        .label("FIFOs start empty")
                        .hint("remove the `= ...`"),
                ),
                _ if !fits(n.value, ty.bits()) => self.err(
                    Diagnostic::error(
                        diag::RESET_TOO_WIDE,
                        n.span,
                        format!(
                            "reset value 0x{:x} does not fit in {} bits",
                            n.value,
                            ty.bits()
                        ),
                    )
                    .label("too wide")
                    .also(s.ty_span(), "declared type")
                    .hint("widen the type or fix the value"),
                ),
                _ => {}
            }
        }
        let init = match (&s.init, ty) {
            (None, _) => Vec::new(),
            (Some(init), ir::Type::Buffer(len)) => self.buffer_init(init, len),
            (Some(init), _) => {
                self.err(
                    Diagnostic::error(
                        diag::RESET_TOO_WIDE,
                        init.span(),
                        "only a `[u8; N]` buffer takes initial bytes",
                    )
                    .label("a string or byte-list initializer")
                    .also(s.ty_span(), "declared type")
                    .hint("declare the state as a buffer, or give a number"),
                );
                Vec::new()
            }
        };
        ir::State {
            name: s.name.name.clone(),
            ty,
            reset,
            init,
            sticky: s.sticky.is_some(),
            span: s.span,
        }
    }

    /// A buffer's initial bytes (trailing zeros trimmed).
    fn buffer_init(&mut self, init: &ast::BufferInit, len: u64) -> Vec<u8> {
        let mut bytes = Vec::new();
        match init {
            ast::BufferInit::Text(t) => bytes.extend_from_slice(t.value.as_bytes()),
            ast::BufferInit::Bytes { bytes: list, .. } => {
                for n in list {
                    if n.value > 0xff {
                        self.err(
                            Diagnostic::error(
                                diag::RESET_TOO_WIDE,
                                n.span,
                                format!("0x{:x} is not a byte", n.value),
                            )
                            .label("more than 8 bits")
                            .hint("each element of the list is one byte, 0 to 0xff"),
                        );
                    }
                    bytes.push(n.value as u8);
                }
            }
            ast::BufferInit::Strings { slot, strings, .. } => {
                if slot.value == 0 || slot.value > len {
                    self.err(
                        Diagnostic::error(
                            diag::OUT_OF_RANGE,
                            slot.span,
                            format!("slot of {} bytes in a {len}-byte buffer", slot.value),
                        )
                        .label("invalid slot size")
                        .hint("the slot is the distance between two strings' starts"),
                    );
                    return Vec::new();
                }
                for (i, t) in strings.iter().enumerate() {
                    if t.value.len() as u64 > slot.value {
                        self.err(
                            Diagnostic::error(
                                diag::RESET_TOO_WIDE,
                                t.span,
                                format!(
                                    "{} bytes do not fit in a {}-byte slot",
                                    t.value.len(),
                                    slot.value
                                ),
                            )
                            .label("too long")
                            .also(slot.span, "slot size")
                            .hint("enlarge the slot"),
                        );
                    }
                    let start = i * slot.value as usize;
                    bytes.resize(start, 0);
                    bytes.extend(t.value.bytes().take(slot.value as usize));
                }
            }
        }
        if bytes.len() as u64 > len {
            self.err(
                Diagnostic::error(
                    diag::RESET_TOO_WIDE,
                    init.span(),
                    format!(
                        "{} bytes of initial data in a {len}-byte buffer",
                        bytes.len()
                    ),
                )
                .label("too long")
                .hint("enlarge the buffer"),
            );
            bytes.truncate(len as usize);
        }
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        bytes
    }

    pub(super) fn hook(&mut self, h: &ast::HookAst) -> ir::Hook {
        let ty = |t: ScalarType| {
            if t == ScalarType::Bool {
                ir::Type::Bool
            } else {
                ir::Type::Uint(t.bits())
            }
        };
        let mut seen = HashMap::new();
        for (p, _) in &h.params {
            self.check_name(p, "hook parameter", false);
            if let Some(prev) = seen.insert(p.name.clone(), p.span) {
                self.err(
                    Diagnostic::error(
                        diag::DUPLICATE_NAME,
                        p.span,
                        format!("parameter `{}` is declared twice", p.name),
                    )
                    .label("second")
                    .also(prev, "first"),
                );
            }
        }
        ir::Hook {
            name: h.name.name.clone(),
            params: h
                .params
                .iter()
                .map(|(p, t)| (p.name.clone(), ty(*t)))
                .collect(),
            ret: h.ret.map(|(t, _)| ty(t)),
            span: h.span,
        }
    }
}

impl ast::StateAst {
    fn ty_span(&self) -> Span {
        match &self.ty {
            ast::TypeAst::Scalar(_, s)
            | ast::TypeAst::Buffer(_, s)
            | ast::TypeAst::Fifo(_, _, s) => *s,
        }
    }
}
