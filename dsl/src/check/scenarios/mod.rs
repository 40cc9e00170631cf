//! Scenarios: each step's location (a register or a raw `BAR:offset`), its
//! values folded to `constant (+ dma.addr)`, DMA buffer ranges and data,
//! and whether the access is valid under its BAR's policy as the step
//! claims. Scenarios run from outside the device, so they see constants and
//! the driver's DMA buffer only. Also derives the DMA mask the driver sets.
//!
//! `repeat N { ... }` is flattened into a header step and its body (see
//! `pcidev_core::scenario`). Expectations on device state (`expect rx.len
//! == 0;`) become host-only `ExpectState` steps, as do `input`, `expect
//! output` and `expect vmm`.
//!
//! Emits E0601 (`dma.addr` or `dma[..]` without a `dma_buffer`), E0602
//! (range outside the DMA buffer), E0701 (invalid step: location, width,
//! non-constant value, repeat count, bytes, duration), E0704 (a scenario
//! longer than `MAX_EXPANDED_STEPS` unrolled), E0705 (`wait` on state),
//! E0403/E0905 (a state probe of the wrong kind), E0904 (`expect vmm` of an
//! unknown request), E0702 (`invalid` step on a valid access), E0703
//! (expecting a value from a register that always reads 0), E0505 (`expect
//! irq` without an interrupt) and the warning W0002 (an access the BAR does
//! not allow, in a step not marked `invalid`).

use super::Checker;
use crate::ast::{self, StepKind};
use crate::diag::{self, Diagnostic};
use crate::ir::{self, low_mask};
use pcidev_core::scenario::{MAX_EXPANDED_STEPS, expanded_len};

mod dma;
mod locations;
mod values;

impl<'a> Checker<'a> {
    pub(super) fn scenario(
        &mut self,
        s: &ast::ScenarioAst,
        dev: &ir::Device,
    ) -> Option<ir::Scenario> {
        let mut steps = Vec::new();
        if !self.steps_into(&s.steps, dev, &mut steps) {
            return None;
        }
        let kinds: Vec<ir::StepKind> = steps.iter().map(|s| s.kind.clone()).collect();
        let total = expanded_len(&kinds);
        if total.is_none_or(|n| n > MAX_EXPANDED_STEPS) {
            self.err(
                Diagnostic::error(
                    diag::SCENARIO_TOO_LONG,
                    s.name.span,
                    format!(
                        "scenario `{}` runs more than {MAX_EXPANDED_STEPS} steps once its repeats are unrolled",
                        s.name.name
                    ),
                )
                .label("too long")
                .hint("lower the repeat counts, or split the scenario"),
            );
            return None;
        }
        Some(ir::Scenario {
            name: s.name.name.clone(),
            description: s
                .description
                .as_ref()
                .map(|d| d.value.clone())
                .unwrap_or_default(),
            steps,
            span: s.span,
        })
    }

    /// Check `steps` and append them to `out`, a `repeat` as its header
    /// step followed by its body. False when any step had an error.
    fn steps_into(
        &mut self,
        steps: &[ast::Step],
        dev: &ir::Device,
        out: &mut Vec<ir::Step>,
    ) -> bool {
        let mut ok = true;
        for step in steps {
            let snippet = self.sources.snippet(step.span);
            let line = self.sources.line(step.span);
            if let StepKind::Repeat { count, body } = &step.kind {
                let n = self.repeat_count(count, dev);
                let text = snippet
                    .split('{')
                    .next()
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let at = out.len();
                out.push(ir::Step {
                    kind: ir::StepKind::Repeat { count: 0, len: 0 },
                    text,
                    line,
                    span: step.span,
                });
                let body_ok = self.steps_into(body, dev, out);
                let len = u32::try_from(out.len() - at - 1).unwrap_or(u32::MAX);
                match n {
                    Some(count) if body_ok => out[at].kind = ir::StepKind::Repeat { count, len },
                    _ => ok = false,
                }
                continue;
            }
            match self.step(step, dev) {
                Some(kind) => {
                    let text = snippet.split_whitespace().collect::<Vec<_>>().join(" ");
                    out.push(ir::Step {
                        kind,
                        text,
                        line,
                        span: step.span,
                    });
                }
                None => ok = false,
            }
        }
        ok
    }

    fn step(&mut self, step: &ast::Step, dev: &ir::Device) -> Option<ir::StepKind> {
        let mask_of = |c: &mut Self, m: &Option<ast::Expr>| -> Option<u64> {
            match m {
                None => Some(u64::MAX),
                Some(e) => {
                    let v = c.value(e, dev)?;
                    if v.plus_dma_addr {
                        c.err(
                            Diagnostic::error(diag::BAD_STEP, e.span, "a mask is a constant")
                                .label("not a constant"),
                        );
                        return None;
                    }
                    Some(v.constant)
                }
            }
        };
        Some(match &step.kind {
            StepKind::Read { location } => {
                let loc = self.location(location, dev)?;
                self.policy_check(&loc, location.span(), false, dev)?;
                ir::StepKind::Read(loc)
            }
            StepKind::Write { location, value } => {
                let loc = self.location(location, dev)?;
                let v = self.value(value, dev)?;
                self.fits_loc(&loc, v, value.span)?;
                self.policy_check(&loc, location.span(), false, dev)?;
                ir::StepKind::Write(loc, v)
            }
            StepKind::Expect {
                location,
                value,
                mask,
                ..
            }
            | StepKind::Wait {
                location,
                value,
                mask,
            } => {
                let not_equal = matches!(
                    step.kind,
                    StepKind::Expect {
                        not_equal: true,
                        ..
                    }
                );
                let cmp = if not_equal { ir::Cmp::Ne } else { ir::Cmp::Eq };
                let location = match self.probe_location(location)? {
                    Err(loc) => loc,
                    Ok(probe) => {
                        if matches!(step.kind, StepKind::Wait { .. }) {
                            self.err(
                                Diagnostic::error(
                                    diag::HOST_ONLY_STEP,
                                    location.span(),
                                    "`wait` polls a register; device state is visible to host tests only",
                                )
                                .label("state, not a register")
                                .hint("use `expect` (host only, skipped by the driver), or wait on a register that shows this state"),
                            );
                            return None;
                        }
                        let v = self.constant(value, dev, "an expected value");
                        let m = mask_of(self, mask);
                        return Some(ir::StepKind::ExpectState {
                            probe,
                            cmp,
                            value: v?,
                            mask: m?,
                        });
                    }
                };
                let location = &location;
                let loc = self.location(location, dev)?;
                let v = self.value(value, dev)?;
                let m = mask_of(self, mask)?;
                self.fits_loc(&loc, v, value.span)?;
                self.policy_check(&loc, location.span(), false, dev)?;
                if let Some(r) = dev.register_at(&loc) {
                    let reg = dev.register(r);
                    if !reg.readable() && !v.plus_dma_addr && (v.constant & m != 0) != not_equal {
                        self.err(
                            Diagnostic::error(
                                diag::STEP_NEEDS_READ,
                                location.span(),
                                format!("register `{}` always reads 0", reg.name),
                            )
                            .label("write-only")
                            .also(reg.span, "declared here")
                            .hint("expect 0, or make the register readable"),
                        );
                        return None;
                    }
                }
                if matches!(step.kind, StepKind::Expect { .. }) {
                    ir::StepKind::Expect {
                        loc,
                        value: v,
                        mask: m,
                        cmp,
                    }
                } else {
                    ir::StepKind::Wait {
                        loc,
                        value: v,
                        mask: m,
                    }
                }
            }
            StepKind::InvalidWrite { location, value } => {
                let loc = self.location(location, dev)?;
                let v = self.value(value, dev)?;
                self.fits_loc(&loc, v, value.span)?;
                self.policy_check(&loc, location.span(), true, dev)?;
                ir::StepKind::InvalidWrite(loc, v)
            }
            StepKind::InvalidRead { location } => {
                let loc = self.location(location, dev)?;
                self.policy_check(&loc, location.span(), true, dev)?;
                let bar = dev.bar(loc.space.bar()?)?;
                let expect = match bar.policy.invalid {
                    ir::InvalidAccess::Ignore => 0,
                    _ => low_mask(loc.width as u32 * 8),
                };
                ir::StepKind::InvalidRead { loc, expect }
            }
            StepKind::ExpectIrq { asserted } => {
                if !dev.interrupt.any() {
                    self.err(
                        Diagnostic::error(
                            diag::NO_INTERRUPT,
                            step.span,
                            "`expect irq` on a device without an interrupt",
                        )
                        .label("no interrupt declared")
                        .hint("declare `interrupt { pin A; status REG; }`"),
                    );
                    return None;
                }
                ir::StepKind::ExpectIrq(*asserted)
            }
            StepKind::ExpectMsi { vector } => {
                let int = &dev.interrupt;
                if int.msi_vectors.is_none() && int.msix.is_none() {
                    self.err(
                        Diagnostic::error(
                            diag::NO_INTERRUPT,
                            step.span,
                            "`expect msi` on a device without MSI or MSI-X",
                        )
                        .label("no vectors declared")
                        .hint("declare `msi N;` or `msix N table bar B @ OFF pba bar B @ OFF;` in `interrupt`"),
                    );
                    return None;
                }
                let max = int.max_vectors();
                if vector.value >= u64::from(max) {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_STEP,
                            vector.span,
                            format!(
                                "vector {} does not exist: the device declares {max}",
                                vector.value
                            ),
                        )
                        .label("no such vector")
                        .hint(format!("vectors are numbered 0 to {}", max - 1)),
                    );
                    return None;
                }
                ir::StepKind::ExpectMsi(vector.value as u16)
            }
            StepKind::ExpectDma { start, end, source } | StepKind::Fill { start, end, source } => {
                let (s, e) = self.dma_range(start, end, step.span, dev)?;
                let data = self.data(source, dev)?;
                if matches!(step.kind, StepKind::Fill { .. }) {
                    ir::StepKind::Fill {
                        start: s,
                        end: e,
                        data,
                    }
                } else {
                    ir::StepKind::ExpectDma {
                        start: s,
                        end: e,
                        data,
                    }
                }
            }
            // Flattened by `steps_into`.
            StepKind::Repeat { .. } => return None,
            StepKind::Advance { amount, unit } => {
                let n = self.constant(amount, dev, "a duration")?;
                let Some(ns) = n.checked_mul(unit.nanos()) else {
                    self.err(
                        Diagnostic::error(
                            diag::BAD_STEP,
                            amount.span,
                            "this duration does not fit in 64 bits of nanoseconds",
                        )
                        .label("too long")
                        .hint("advance by less"),
                    );
                    return None;
                };
                ir::StepKind::Advance(ns)
            }
            StepKind::Input { stream, data } | StepKind::ExpectOutput { stream, data } => {
                let s = self.lookup_stream(stream);
                let bytes = self.byte_data(data, dev);
                let (s, bytes) = (s?.0 as u32, bytes?);
                if matches!(step.kind, StepKind::Input { .. }) {
                    if bytes.is_empty() {
                        self.err(
                            Diagnostic::error(diag::BAD_STEP, step.span, "`input` of no bytes")
                                .label("nothing to deliver")
                                .hint("give at least one byte: `input line \"x\";`"),
                        );
                        return None;
                    }
                    ir::StepKind::Input { stream: s, bytes }
                } else {
                    ir::StepKind::ExpectOutput { stream: s, bytes }
                }
            }
            StepKind::ExpectVmm(kind) => ir::StepKind::ExpectVmm(self.vmm_request(kind)?),
        })
    }
}
