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

use super::{Checker, fits};
use crate::ast::{self, BinOp, ExprKind, ScalarType, StepKind};
use crate::diag::{self, Diagnostic};
use crate::ir::{self, low_mask};
use crate::source::Span;
use pcidev_core::ops::{eval_binary, eval_unary};
use pcidev_core::scenario::{MAX_EXPANDED_STEPS, expanded_len};

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

    /// A constant step operand (no `dma.addr`).
    fn constant(&mut self, e: &ast::Expr, dev: &ir::Device, what: &str) -> Option<u64> {
        let v = self.value(e, dev)?;
        if v.plus_dma_addr {
            self.err(
                Diagnostic::error(diag::BAD_STEP, e.span, format!("{what} is a constant"))
                    .label("not a constant"),
            );
            return None;
        }
        Some(v.constant)
    }

    fn repeat_count(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<u32> {
        let n = self.constant(e, dev, "a repeat count")?;
        if n == 0 || n > MAX_EXPANDED_STEPS {
            self.err(
                Diagnostic::error(
                    diag::BAD_STEP,
                    e.span,
                    format!("repeat count {n} is not 1 to {MAX_EXPANDED_STEPS}"),
                )
                .label("repeat count")
                .hint("a scenario runs at most 100000 steps in all"),
            );
            return None;
        }
        Some(n as u32)
    }

    /// Bytes of an `input` or `expect output` step.
    fn byte_data(&mut self, d: &ast::ByteData, dev: &ir::Device) -> Option<Vec<u8>> {
        match d {
            ast::ByteData::Text(t) => Some(t.value.as_bytes().to_vec()),
            ast::ByteData::List(items, _) => {
                let mut out = Vec::with_capacity(items.len());
                let mut ok = true;
                for e in items {
                    match self.constant(e, dev, "a byte") {
                        Some(b) if b <= 0xff => out.push(b as u8),
                        Some(b) => {
                            self.err(
                                Diagnostic::error(
                                    diag::BAD_STEP,
                                    e.span,
                                    format!("0x{b:x} is not a byte"),
                                )
                                .label("more than 8 bits")
                                .hint("stream bytes are 0 to 0xff"),
                            );
                            ok = false;
                        }
                        None => ok = false,
                    }
                }
                ok.then_some(out)
            }
        }
    }

    /// `expect NAME[.property] ==|!= V` on device state (host only), or on
    /// a register named that way.
    fn probe(
        &mut self,
        name: &ast::Ident,
        property: Option<&ast::Ident>,
        span: Span,
    ) -> Option<Result<ir::Probe, ast::Location>> {
        use super::Sym;
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
    fn probe_location(
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

    fn location(&mut self, l: &ast::Location, dev: &ir::Device) -> Option<ir::Loc> {
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
    fn policy_check(
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

    fn fits_loc(&mut self, loc: &ir::Loc, v: ir::StepValue, span: Span) -> Option<()> {
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

    /// Fold a scenario expression to `constant (+ dma.addr)`.
    fn value(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<ir::StepValue> {
        let (dma, constant) = self.fold(e, dev)?;
        match dma {
            0 => Some(ir::StepValue::new(constant)),
            1 => Some(ir::StepValue::dma_addr(constant)),
            _ => self.dma_addr_offset_only(e.span),
        }
    }

    fn dma_addr_offset_only<T>(&mut self, span: Span) -> Option<T> {
        self.err(
            Diagnostic::error(
                diag::BAD_STEP,
                span,
                "`dma.addr` may only be offset by a constant",
            )
            .label("not `dma.addr + constant`")
            .hint("write `dma.addr` or `dma.addr + 0x100`"),
        );
        None
    }

    /// (coefficient of dma.addr, constant). Coefficients other than 0/1 are
    /// rejected by the caller.
    fn fold(&mut self, e: &ast::Expr, dev: &ir::Device) -> Option<(i64, u64)> {
        let bad = |c: &mut Self, span: Span| {
            c.err(
                Diagnostic::error(
                    diag::BAD_STEP,
                    span,
                    "scenario values are constants (and `dma.addr`)",
                )
                .label("not a constant")
                .hint("scenarios run from outside the device: they cannot read its state"),
            );
            None
        };
        match &e.kind {
            ExprKind::Num(v) => Some((0, *v)),
            ExprKind::Bool(b) => Some((0, *b as u64)),
            ExprKind::DmaAddr => {
                if dev.dma_buffer.is_none() {
                    self.err(
                        Diagnostic::error(
                            diag::DMA_NO_BUFFER,
                            e.span,
                            "`dma.addr` without a `dma_buffer`",
                        )
                        .label("no DMA buffer")
                        .hint("declare `dma_buffer SIZE;` in the device"),
                    );
                    return None;
                }
                Some((1, 0))
            }
            ExprKind::Unary(op, x) => {
                let (d, v) = self.fold(x, dev)?;
                if d != 0 {
                    return self.dma_addr_offset_only(e.span);
                }
                Some((0, eval_unary(*op, v)))
            }
            ExprKind::Binary(op, a, b) => {
                let (da, va) = self.fold(a, dev)?;
                let (db, vb) = self.fold(b, dev)?;
                match op {
                    BinOp::Add => Some((da + db, va.wrapping_add(vb))),
                    BinOp::Sub if db == 0 => Some((da, va.wrapping_sub(vb))),
                    _ if da == 0 && db == 0 => Some((0, eval_binary(*op, va, vb))),
                    _ => self.dma_addr_offset_only(e.span),
                }
            }
            ExprKind::Cond(c, a, b) => {
                let (dc, vc) = self.fold(c, dev)?;
                if dc != 0 {
                    return self.dma_addr_offset_only(c.span);
                }
                if vc != 0 {
                    self.fold(a, dev)
                } else {
                    self.fold(b, dev)
                }
            }
            _ => bad(self, e.span),
        }
    }

    fn data(&mut self, s: &ast::Source, dev: &ir::Device) -> Option<ir::Data> {
        let arg = |c: &mut Self, e: &ast::Expr| -> Option<u64> {
            let v = c.value(e, dev)?;
            if v.plus_dma_addr {
                c.err(
                    Diagnostic::error(diag::BAD_STEP, e.span, "data seeds are constants")
                        .label("not a constant"),
                );
                return None;
            }
            Some(v.constant)
        };
        Some(match &s.kind {
            ast::SourceKind::Random(e) => {
                let v = arg(self, e)?;
                if v > u32::MAX as u64 {
                    self.err(
                        Diagnostic::error(diag::BAD_STEP, e.span, "random seeds are 32-bit")
                            .label("too wide"),
                    );
                    return None;
                }
                ir::Data::Random(v as u32)
            }
            ast::SourceKind::Pattern(e) => {
                let v = arg(self, e)?;
                if v > 0xff {
                    self.err(
                        Diagnostic::error(diag::BAD_STEP, e.span, "a pattern is one byte")
                            .label("too wide"),
                    );
                    return None;
                }
                ir::Data::Pattern(v as u8)
            }
            ast::SourceKind::Word(e) => ir::Data::Word(arg(self, e)?),
            ast::SourceKind::Place(_) => {
                self.err(
                    Diagnostic::error(
                        diag::BAD_STEP,
                        s.span,
                        "scenario data is random(..), pattern(..) or word(..)",
                    )
                    .label("device buffers are not visible to scenarios")
                    .hint("compare against the data the device was given"),
                );
                return None;
            }
        })
    }

    fn dma_range(
        &mut self,
        start: &ast::Expr,
        end: &ast::Expr,
        span: Span,
        dev: &ir::Device,
    ) -> Option<(u64, u64)> {
        let Some(size) = dev.dma_buffer else {
            self.err(
                Diagnostic::error(
                    diag::DMA_NO_BUFFER,
                    span,
                    "this step uses the DMA buffer, but none is declared",
                )
                .label("no DMA buffer")
                .hint("declare `dma_buffer SIZE;` in the device"),
            );
            return None;
        };
        let s = self.value(start, dev)?;
        let e = self.value(end, dev)?;
        if s.plus_dma_addr || e.plus_dma_addr {
            self.err(
                Diagnostic::error(
                    diag::BAD_STEP,
                    span,
                    "ranges are offsets into the DMA buffer, not addresses",
                )
                .label("offsets, not dma.addr"),
            );
            return None;
        }
        if s.constant > e.constant || e.constant > size {
            self.err(
                Diagnostic::error(
                    diag::DMA_RANGE,
                    span,
                    format!(
                        "range {}..{} is outside the {size}-byte DMA buffer",
                        s.constant, e.constant
                    ),
                )
                .label("bad range")
                .hint(format!("start <= end <= {size}")),
            );
            return None;
        }
        Some((s.constant, e.constant))
    }

    pub(super) fn dma_mask_bits(&self, dev: &ir::Device) -> u8 {
        let mut bits = 64u8;
        for sc in &dev.scenarios {
            for st in &sc.steps {
                if let ir::StepKind::Write(loc, v) = &st.kind
                    && v.plus_dma_addr
                {
                    bits = bits.min(loc.width * 8);
                }
            }
        }
        bits
    }
}
