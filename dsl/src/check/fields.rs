//! Fields: a register's bit ranges, their access kinds, resets and enum
//! variants, or the one implicit `value` field of a register without
//! fields. Resolved for every register before any expression is checked,
//! since expressions may name any register's fields.
//!
//! Emits E0305 (reset too wide), E0306 (fields overlap), E0307 (field
//! outside its register), E0308 (writable field in a read-only register),
//! E0309 (reversed bit range), E0310 (invalid enum), E0311 (reset on both
//! register and fields), E0312 (reset of a register without storage),
//! E0401 (field declared twice) and E0001 (a `bool` register); names go
//! through E0106.

use super::{Checker, fits};
use crate::ast::{self, AccessKind, ScalarType};
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;
use std::collections::HashMap;

impl<'a> Checker<'a> {
    pub(super) fn fields_of(&mut self, r: &ast::RegisterAst) -> Vec<ir::Field> {
        let width_bits = r.width.0.bits();
        if r.width.0 == ScalarType::Bool {
            self.err(
                Diagnostic::error(diag::SYNTAX, r.width.1, "a register is u8, u16, u32 or u64")
                    .label("not a register width")
                    .hint("use u8 for a one-byte register"),
            );
            return Vec::new();
        }
        let reg_access = r.access.map(|a| a.0);
        if r.fields.is_empty() {
            let Some(access) = reg_access else {
                if let Some(n) = r.reset {
                    self.err(
                        Diagnostic::error(
                            diag::NO_STORAGE,
                            n.span,
                            format!(
                                "register `{}` has a reset value but no storage",
                                r.name.name
                            ),
                        )
                        .label("reset of a register without an access kind")
                        .hint("give it an access kind, e.g. `: u32 rw = ...`"),
                    );
                }
                return Vec::new();
            };
            let reset = r.reset.map(|n| n.value).unwrap_or(0);
            if let Some(n) = r.reset
                && !fits(n.value, width_bits)
            {
                self.err(
                    Diagnostic::error(
                        diag::RESET_TOO_WIDE,
                        n.span,
                        format!(
                            "reset value 0x{:x} does not fit in {width_bits} bits",
                            n.value
                        ),
                    )
                    .label("too wide")
                    .also(r.width.1, "register width")
                    .hint("widen the register or fix the value"),
                );
            }
            return vec![ir::Field {
                name: "value".into(),
                lo: 0,
                hi: width_bits - 1,
                access,
                reset,
                variants: Vec::new(),
                implicit: true,
            }];
        }
        // Explicit fields.
        if let Some(n) = r.reset
            && r.fields.iter().any(|f| f.reset.is_some())
        {
            let f = r
                .fields
                .iter()
                .find(|f| f.reset.is_some())
                .map(|f| f.span)
                .unwrap_or(r.span);
            self.err(
                Diagnostic::error(
                    diag::RESET_TWICE,
                    n.span,
                    "reset given on the register and on its fields",
                )
                .label("register reset")
                .also(f, "field reset")
                .hint("give the reset either on the register or on the fields"),
            );
        }
        let mut out: Vec<ir::Field> = Vec::new();
        let mut spans: Vec<Span> = Vec::new();
        let mut names: HashMap<&str, Span> = HashMap::new();
        for f in &r.fields {
            self.check_name(&f.name, "field", false);
            if let Some(prev) = names.insert(&f.name.name, f.name.span) {
                self.err(
                    Diagnostic::error(
                        diag::DUPLICATE_NAME,
                        f.name.span,
                        format!(
                            "field `{}` is declared twice in `{}`",
                            f.name.name, r.name.name
                        ),
                    )
                    .label("second")
                    .also(prev, "first")
                    .hint("rename one"),
                );
            }
            let (hi, lo) = (f.hi.value, f.lo.value);
            if lo > hi {
                self.err(
                    Diagnostic::error(
                        diag::BAD_BIT_RANGE,
                        f.bits_span,
                        format!("bit range [{hi}:{lo}] is reversed"),
                    )
                    .label("high bit first")
                    .hint(format!("write [{lo}:{hi}]")),
                );
                continue;
            }
            if hi >= width_bits as u64 {
                self.err(
                    Diagnostic::error(
                        diag::FIELD_OUTSIDE,
                        f.bits_span,
                        format!(
                            "bit {hi} is outside the {width_bits}-bit register `{}`",
                            r.name.name
                        ),
                    )
                    .label("outside the register")
                    .also(r.width.1, "register width")
                    .hint(format!("bits of this register are 0 to {}", width_bits - 1)),
                );
                continue;
            }
            let field = ir::Field {
                name: f.name.name.clone(),
                lo: lo as u32,
                hi: hi as u32,
                access: f.access.0,
                reset: f.reset.map(|n| n.value).unwrap_or(0),
                variants: f
                    .variants
                    .iter()
                    .map(|(n, v)| (n.name.clone(), v.value))
                    .collect(),
                implicit: false,
            };
            for (other, ospan) in out.iter().zip(&spans) {
                if other.mask() & field.mask() != 0 {
                    self.err(
                        Diagnostic::error(
                            diag::FIELD_OVERLAP,
                            f.bits_span,
                            format!("field `{}` overlaps field `{}`", f.name.name, other.name),
                        )
                        .label(format!("bits [{hi}:{lo}]"))
                        .also(
                            *ospan,
                            format!("`{}` is bits [{}:{}]", other.name, other.hi, other.lo),
                        )
                        .hint("fields of one register must not share bits"),
                    );
                }
            }
            if let Some(n) = f.reset
                && !fits(n.value, field.bits())
            {
                self.err(
                    Diagnostic::error(
                        diag::RESET_TOO_WIDE,
                        n.span,
                        format!(
                            "reset value 0x{:x} does not fit in the {}-bit field `{}`",
                            n.value,
                            field.bits(),
                            f.name.name
                        ),
                    )
                    .label("too wide")
                    .also(f.bits_span, "field bits")
                    .hint("fix the value or widen the field"),
                );
            }
            if reg_access == Some(AccessKind::Ro) && f.access.0.writable() {
                self.err(
                    Diagnostic::error(
                        diag::WRITABLE_IN_RO,
                        f.access.1,
                        format!(
                            "field `{}` is {} in read-only register `{}`",
                            f.name.name,
                            f.access.0.keyword(),
                            r.name.name
                        ),
                    )
                    .label("writable field")
                    .also(
                        r.access.map(|a| a.1).unwrap_or(r.span),
                        "register declared ro",
                    )
                    .hint("make the field `ro`, or the register `rw`"),
                );
            }
            let mut vnames: HashMap<&str, Span> = HashMap::new();
            let mut values: HashMap<u64, Span> = HashMap::new();
            for (vn, vv) in &f.variants {
                self.check_name(vn, "enum variant", false);
                if let Some(prev) = vnames.insert(&vn.name, vn.span) {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_ENUM,
                            vn.span,
                            format!("variant `{}` is declared twice", vn.name),
                        )
                        .label("second")
                        .also(prev, "first"),
                    );
                }
                if let Some(prev) = values.insert(vv.value, vv.span) {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_ENUM,
                            vv.span,
                            format!("value {} is used by two variants", vv.value),
                        )
                        .label("second")
                        .also(prev, "first")
                        .hint("each variant needs its own value"),
                    );
                }
                if !fits(vv.value, field.bits()) {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_ENUM,
                            vv.span,
                            format!(
                                "value {} does not fit in the {}-bit field `{}`",
                                vv.value,
                                field.bits(),
                                f.name.name
                            ),
                        )
                        .label("too wide")
                        .also(f.bits_span, "field bits"),
                    );
                }
            }
            out.push(field);
            spans.push(f.span);
        }
        if let Some(n) = r.reset {
            // Spread a register-level reset over the fields.
            if !fits(n.value, width_bits) {
                self.err(
                    Diagnostic::error(
                        diag::RESET_TOO_WIDE,
                        n.span,
                        format!(
                            "reset value 0x{:x} does not fit in {width_bits} bits",
                            n.value
                        ),
                    )
                    .label("too wide")
                    .also(r.width.1, "register width"),
                );
            }
            for f in &mut out {
                f.reset = (n.value & f.mask()) >> f.lo;
            }
        }
        out
    }
}
