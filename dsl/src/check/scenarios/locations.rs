//! Where a scenario step reads or writes: a register, a raw `BAR:offset`
//! or configuration-space location, or (host only) a state probe; and
//! whether the access is valid under its BAR's policy as the step claims.

use crate::ast::{self, ScalarType};
use crate::check::{Checker, Sym, fits};
use crate::diag::{self, Diagnostic};
use crate::ir;
use crate::source::Span;

impl Checker<'_> {
    /// `expect NAME[.property] ==|!= V` on device state (host only), or on
    /// a register named that way.
    pub(super) fn probe(
        &mut self,
        name: &ast::Ident,
        property: Option<&ast::Ident>,
        span: Span,
    ) -> Option<Result<ir::Probe, ast::Location>> {
        let sym = self.lookup(name, "a register or state")?;
        let prop = property.map(|p| p.name.as_str());
        let bad_prop = |c: &mut Self, what: &str, have: &str| {
            let p = property.map_or(span, |p| p.span);
            c.err(
                Diagnostic::error(
                    diag::BAD_MEMBER,
                    p,
                    format!("{what} `{}` shows {have} to scenarios", name.name),
                )
                .label("not available here")
                .hint(format!("use {have}")),
            );
            None
        };
        Some(Ok(match sym {
            Sym::Register(_) => {
                if let Some(p) = property {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_STEP,
                            p.span,
                            "expectations read whole registers",
                        )
                        .label("a field")
                        .hint(format!(
                            "compare the field with `mask`: `expect {} == V mask M;`",
                            name.name
                        )),
                    );
                    return None;
                }
                return Some(Err(ast::Location::Register(name.clone())));
            }
            Sym::State(s) => match (&self.state_asts[s.0].ty, prop) {
                (ast::TypeAst::Scalar(..), None) => ir::Probe::State(s.0 as u32),
                (ast::TypeAst::Fifo(..), Some("len")) => ir::Probe::FifoLen(s.0 as u32),
                (ast::TypeAst::Fifo(..), Some("front")) => ir::Probe::FifoFront(s.0 as u32),
                (ast::TypeAst::Fifo(..), _) => {
                    return bad_prop(self, "FIFO", "`.len` and `.front`");
                }
                (ast::TypeAst::Scalar(..), Some(_)) => {
                    return bad_prop(self, "state", "its value (no property)");
                }
                (ast::TypeAst::Buffer(..), _) => {
                    self.err(
                        Diagnostic::error(
                            diag::WRONG_KIND,
                            span,
                            format!("buffer `{}` cannot be compared with a number", name.name),
                        )
                        .label("a buffer")
                        .hint("expect a register that shows its bytes, or a scalar state"),
                    );
                    return None;
                }
            },
            Sym::Timer(t) => match prop {
                Some("running") => ir::Probe::TimerRunning(t.0 as u32),
                Some("remaining") => ir::Probe::TimerRemaining(t.0 as u32),
                _ => return bad_prop(self, "timer", "`.running` and `.remaining`"),
            },
            other => {
                self.err(
                    Diagnostic::error(
                        diag::WRONG_KIND,
                        name.span,
                        format!("`{}` is {}; expectations look at registers and state", name.name, other.describe()),
                    )
                    .label("cannot be expected")
                    .hint("expect a register, a state, a FIFO's `.len`/`.front` or a timer's `.running`/`.remaining`"),
                );
                return None;
            }
        }))
    }

    /// A step's location: a register or raw location.
    pub(super) fn probe_location(
        &mut self,
        l: &ast::ProbeLocation,
    ) -> Option<Result<ir::Probe, ast::Location>> {
        match l {
            ast::ProbeLocation::Location(loc) => Some(Err(loc.clone())),
            ast::ProbeLocation::Named { name, property } => {
                self.probe(name, property.as_ref(), l.span())
            }
        }
    }

    pub(super) fn location(&mut self, l: &ast::Location, dev: &ir::Device) -> Option<ir::Loc> {
        match l {
            ast::Location::Register(id) => {
                let r = self.lookup_register(id)?;
                let reg = dev.register(r);
                Some(ir::Loc {
                    space: reg.space,
                    offset: reg.offset,
                    width: reg.width,
                })
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
                let Some(bar) = bar else {
                    // Configuration space: 1, 2 or 4 bytes inside 256.
                    let max = u64::from(pcidev_core::config::MAX_CONFIG_ACCESS);
                    if bytes > max {
                        self.err(
                            Diagnostic::error(
                                diag::BAD_STEP,
                                width.1,
                                "configuration-space accesses are u8, u16 or u32",
                            )
                            .label("too wide for configuration space"),
                        );
                        return None;
                    }
                    let size = pcidev_core::config::CONFIG_SPACE_SIZE;
                    if offset.value.checked_add(bytes).is_none_or(|e| e > size) {
                        self.err(
                            Diagnostic::error(
                                diag::BAD_STEP,
                                *span,
                                format!(
                                    "0x{:x} + {bytes} is outside configuration space (256 bytes)",
                                    offset.value
                                ),
                            )
                            .label("outside configuration space"),
                        );
                        return None;
                    }
                    return Some(ir::Loc::config(offset.value, bytes as u8));
                };
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
    pub(super) fn policy_check(
        &mut self,
        loc: &ir::Loc,
        span: Span,
        claims_invalid: bool,
        dev: &ir::Device,
    ) -> Option<()> {
        let Some(bar_index) = loc.space.bar() else {
            // Configuration space accepts every 1-, 2- and 4-byte access.
            if claims_invalid {
                self.err(
                    Diagnostic::error(
                        diag::NOT_INVALID,
                        span,
                        "configuration-space accesses are never invalid",
                    )
                    .label("valid access")
                    .hint("drop `invalid`: configuration space has no access policy"),
                );
                return None;
            }
            return Some(());
        };
        let bar = dev.bar(bar_index)?;
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

    pub(super) fn fits_loc(&mut self, loc: &ir::Loc, v: ir::StepValue, span: Span) -> Option<()> {
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
}
