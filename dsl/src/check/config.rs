//! Configuration space: placement of `config { }` registers and vendor
//! capabilities, after the registers themselves are lowered (their
//! behaviour is checked like any BAR register's by `registers.rs`).
//!
//! Rules (the runtime's placement contract is [`pcidev_core::config`]):
//! registers at absolute offsets inside 0x40..0x100, u8/u16/u32, naturally
//! aligned, not overlapping each other, MSI (0x40..0x4e with `msi`), MSI-X
//! (0x50..0x5c with `msix`) or a capability header; a vendor capability's
//! registers inside its body, other registers outside every capability;
//! capabilities dword aligned, 3 bytes or more, inside 0x40..0x100, not
//! overlapping each other, MSI or MSI-X.
//!
//! Emits E0801 (register in the standard header), E0802 (register beyond
//! 0xff), E0803 (register overlapping a capability), E0804 (invalid
//! capability), E0805 (overlapping capabilities), E0806 (register wider than
//! 4 bytes), E0302 (overlapping registers) and E0304 (misaligned register).

use super::Checker;
use crate::ast;
use crate::diag::{self, Diagnostic};
use crate::ir::{self, RegId};
use crate::source::Span;
use pcidev_core::config::{
    CONFIG_SPACE_SIZE, DEVICE_SPECIFIC, MAX_CONFIG_ACCESS, msi_range, msix_range,
};
use std::ops::Range;

/// A capability the runtime places, as the checker sees it.
struct Placed {
    name: &'static str,
    range: Range<u64>,
}

fn overlaps(a: &Range<u64>, b: &Range<u64>) -> bool {
    a.start < b.end && b.start < a.end
}

fn hex(r: &Range<u64>) -> String {
    format!("0x{:x}..0x{:x}", r.start, r.end)
}

impl<'a> Checker<'a> {
    /// Check configuration-space placement and fill `dev.config_registers`
    /// and `dev.capabilities`.
    pub(super) fn config_space(&mut self, dev: &mut ir::Device, asts: &[&'a ast::ConfigAst]) {
        let mut runtime = Vec::new();
        if dev.interrupt.msi_vectors.is_some() {
            runtime.push(Placed {
                name: "MSI",
                range: msi_range(),
            });
        }
        if dev.has_msix() {
            runtime.push(Placed {
                name: "MSI-X",
                range: msix_range(),
            });
        }
        // RegId of each register AST (identity.rs declared them in order).
        let id_of = |c: &Self, r: &ast::RegisterAst| {
            c.reg_asts
                .iter()
                .position(|(x, _)| std::ptr::eq(*x, r))
                .map(RegId)
        };

        // Capabilities first: registers are placed against them.
        let mut caps: Vec<(ir::Capability, &'a ast::CapabilityAst)> = Vec::new();
        for cap_ast in asts.iter().flat_map(|c| &c.capabilities) {
            let Some(cap) = self.capability(cap_ast, &runtime, &caps) else {
                continue;
            };
            caps.push((cap, cap_ast));
        }

        // Registers: those outside capabilities, then each capability's.
        let mut placed: Vec<RegId> = Vec::new();
        for config in asts {
            for r in &config.registers {
                if let Some(id) = id_of(self, r)
                    && self.place_config_register(dev, id, r, None, &runtime, &caps)
                {
                    placed.push(id);
                }
            }
        }
        for (ci, (_, cap_ast)) in caps.clone().iter().enumerate() {
            for r in &cap_ast.registers {
                if let Some(id) = id_of(self, r)
                    && self.place_config_register(dev, id, r, Some(ci), &runtime, &caps)
                {
                    placed.push(id);
                    caps[ci].0.registers.push(id);
                }
            }
        }

        // Registers against each other.
        placed.sort_by_key(|r| (dev.register(*r).offset, r.0));
        let mut prev: Option<RegId> = None;
        for &id in &placed {
            let reg = dev.register(id);
            let range = reg.offset..reg.offset + u64::from(reg.width);
            if let Some(p) = prev {
                let pr = dev.register(p);
                let prange = pr.offset..pr.offset + u64::from(pr.width);
                if overlaps(&prange, &range) {
                    let (ra, _) = self.reg_asts[id.0];
                    let (pa, _) = self.reg_asts[p.0];
                    let d = Diagnostic::error(
                        diag::REG_OVERLAP,
                        ra.offset.span,
                        format!("register `{}` overlaps register `{}`", reg.name, pr.name),
                    )
                    .label(hex(&range))
                    .also(pa.offset.span, format!("`{}` is {}", pr.name, hex(&prange)))
                    .hint("to show one value at two offsets, read a `state` from two registers");
                    self.err(d);
                }
                if prange.end >= range.end {
                    continue;
                }
            }
            prev = Some(id);
        }

        for (cap, _) in &mut caps {
            cap.registers
                .sort_by_key(|r| (dev.register(*r).offset, r.0));
        }
        dev.config_registers = placed;
        let mut caps: Vec<ir::Capability> = caps.into_iter().map(|(c, _)| c).collect();
        caps.sort_by_key(|c| c.offset);
        dev.capabilities = caps;
    }

    /// Check one capability's kind and placement; `None` when it cannot be
    /// placed (already reported).
    fn capability(
        &mut self,
        c: &ast::CapabilityAst,
        runtime: &[Placed],
        earlier: &[(ir::Capability, &ast::CapabilityAst)],
    ) -> Option<ir::Capability> {
        let kind = match c.kind.0.as_str() {
            "vendor" => ir::CapabilityKind::Vendor,
            other => {
                self.err(
                    Diagnostic::error(
                        diag::BAD_CAPABILITY,
                        c.kind.1,
                        format!("`{other}` is not a capability kind a spec places"),
                    )
                    .label("unknown kind")
                    .hint(
                        "write `capability vendor`; MSI and MSI-X come from the `interrupt` block",
                    ),
                );
                return None;
            }
        };
        let offset = c.offset.value;
        let size = c.size.value;
        let mut ok = true;
        if !(DEVICE_SPECIFIC..CONFIG_SPACE_SIZE).contains(&offset) || !offset.is_multiple_of(4) {
            self.err(
                Diagnostic::error(
                    diag::BAD_CAPABILITY,
                    c.offset.span,
                    format!("a capability cannot start at 0x{offset:x}"),
                )
                .label("not a dword-aligned offset in 0x40..0x100")
                .hint("capability pointers address dwords of the device-specific area: use 0x40, 0x44, ... 0xfc"),
            );
            ok = false;
        }
        let header = u64::from(kind.header_len());
        if size < header || size > 0xff {
            self.err(
                Diagnostic::error(
                    diag::BAD_CAPABILITY,
                    c.size.span,
                    format!("a vendor capability of {size} bytes"),
                )
                .label(format!("{header} to 255 bytes, header included"))
                .hint("the length byte counts the 3-byte header (id, next, length)"),
            );
            ok = false;
        } else if ok && offset + size > CONFIG_SPACE_SIZE {
            self.err(
                Diagnostic::error(
                    diag::BAD_CAPABILITY,
                    c.size.span,
                    format!(
                        "the capability at 0x{offset:x} ends at 0x{:x}, beyond configuration space",
                        offset + size
                    ),
                )
                .label("past 0x100")
                .hint("move it lower or make it smaller"),
            );
            ok = false;
        }
        if !ok {
            return None;
        }
        let range = offset..offset + size;
        for p in runtime {
            if overlaps(&range, &p.range) {
                self.err(
                    Diagnostic::error(
                        diag::CAPABILITY_OVERLAP,
                        c.offset.span,
                        format!(
                            "the capability at {} overlaps the {} capability at {}",
                            hex(&range),
                            p.name,
                            hex(&p.range)
                        ),
                    )
                    .label("overlaps")
                    .hint(format!(
                        "the runtime places {} there; move this capability",
                        p.name
                    )),
                );
                return None;
            }
        }
        for (e, e_ast) in earlier {
            let er = u64::from(e.offset)..u64::from(e.offset) + u64::from(e.size);
            if overlaps(&range, &er) {
                self.err(
                    Diagnostic::error(
                        diag::CAPABILITY_OVERLAP,
                        c.offset.span,
                        format!(
                            "the capability at {} overlaps the capability at {}",
                            hex(&range),
                            hex(&er)
                        ),
                    )
                    .label("overlaps")
                    .also(e_ast.offset.span, format!("this one is {}", hex(&er)))
                    .hint("move one of them"),
                );
                return None;
            }
        }
        Some(ir::Capability {
            kind,
            offset: offset as u8,
            size: size as u8,
            registers: Vec::new(),
            span: c.span,
        })
    }

    /// Check one register's placement; true when it is placed.
    fn place_config_register(
        &mut self,
        dev: &ir::Device,
        id: RegId,
        r: &ast::RegisterAst,
        cap: Option<usize>,
        runtime: &[Placed],
        caps: &[(ir::Capability, &ast::CapabilityAst)],
    ) -> bool {
        let reg = dev.register(id);
        let span = r.offset.span;
        let width = u64::from(reg.width);
        if reg.width > MAX_CONFIG_ACCESS {
            self.err(
                Diagnostic::error(
                    diag::CONFIG_REG_WIDTH,
                    r.width.1,
                    format!(
                        "configuration-space register `{}` is {width} bytes wide",
                        reg.name
                    ),
                )
                .label("wider than a configuration-space access")
                .hint("use u8, u16 or u32 (two u32 registers for a 64-bit value)"),
            );
            return false;
        }
        let Some(end) = reg.offset.checked_add(width) else {
            self.beyond(reg, span);
            return false;
        };
        let range = reg.offset..end;
        if reg.offset < DEVICE_SPECIFIC {
            self.err(
                Diagnostic::error(
                    diag::CONFIG_REG_IN_HEADER,
                    span,
                    format!(
                        "configuration-space register `{}` at {} is in the standard header",
                        reg.name,
                        hex(&range)
                    ),
                )
                .label("0x00..0x40 is the header")
                .hint("configuration-space registers use absolute offsets from 0x40 to 0xff"),
            );
            return false;
        }
        if end > CONFIG_SPACE_SIZE {
            self.beyond(reg, span);
            return false;
        }
        if !reg.offset.is_multiple_of(width) {
            self.err(
                Diagnostic::error(
                    diag::REG_MISALIGNED,
                    span,
                    format!(
                        "register `{}` at 0x{:x} is not aligned to its {} bytes",
                        reg.name, reg.offset, reg.width
                    ),
                )
                .label("misaligned")
                .hint(format!("use an offset that is a multiple of {}", reg.width)),
            );
            return false;
        }
        for p in runtime {
            if overlaps(&range, &p.range) {
                self.err(
                    Diagnostic::error(
                        diag::CONFIG_REG_IN_CAPABILITY,
                        span,
                        format!(
                            "register `{}` at {} overlaps the {} capability at {}",
                            reg.name,
                            hex(&range),
                            p.name,
                            hex(&p.range)
                        ),
                    )
                    .label("the runtime places a capability here")
                    .hint(format!("move the register out of {}", hex(&p.range))),
                );
                return false;
            }
        }
        for (ci, (c, c_ast)) in caps.iter().enumerate() {
            let whole = u64::from(c.offset)..u64::from(c.offset) + u64::from(c.size);
            let header = u64::from(c.offset)..u64::from(c.offset) + u64::from(c.kind.header_len());
            let body = header.end..whole.end;
            let problem = if cap == Some(ci) {
                if overlaps(&range, &header) {
                    Some(format!(
                        "register `{}` at {} overlaps its capability's header {}",
                        reg.name,
                        hex(&range),
                        hex(&header)
                    ))
                } else if range.start < body.start || range.end > body.end {
                    Some(format!(
                        "register `{}` at {} is outside its capability's body {}",
                        reg.name,
                        hex(&range),
                        hex(&body)
                    ))
                } else {
                    None
                }
            } else if overlaps(&range, &whole) {
                Some(format!(
                    "register `{}` at {} overlaps the capability at {}",
                    reg.name,
                    hex(&range),
                    hex(&whole)
                ))
            } else {
                None
            };
            if let Some(message) = problem {
                self.err(
                    Diagnostic::error(diag::CONFIG_REG_IN_CAPABILITY, span, message)
                        .label("here")
                        .also(c_ast.span, format!("the capability is {}", hex(&whole)))
                        .hint(
                            "a capability's registers go inside its block, after its 3-byte header",
                        ),
                );
                return false;
            }
        }
        true
    }

    fn beyond(&mut self, reg: &ir::Register, span: Span) {
        self.err(
            Diagnostic::error(
                diag::CONFIG_REG_BEYOND,
                span,
                format!(
                    "configuration-space register `{}` at 0x{:x} ({} bytes) ends beyond 0xff",
                    reg.name, reg.offset, reg.width
                ),
            )
            .label("past the 256-byte configuration space")
            .hint("configuration-space registers end at or before 0x100"),
        );
    }
}
