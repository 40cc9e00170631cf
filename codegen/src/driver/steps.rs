//! Scenarios as the driver's probe self-test, as data for
//! `templates/driver/step.rs`: one method per scenario, a few statements
//! per step.
//!
//! Every step starts with `t.step(LINE, "TEXT");` and ends by passing or
//! failing it through the `Tally` of the support file `selftest.rs` (which
//! logs it). In between (`ioN` is `&self.bars.barN`):
//!
//! | step | code |
//! |---|---|
//! | `read REG` | `let _ = ioN.read(barN::REG);` (`try_read` + `t.done` for 64-bit MMIO) |
//! | `write REG = V` | `let v = barN::REG::from_raw(V); ioN.write_reg(v);` |
//! | `expect REG == V mask M` | `let got = ioN.read(barN::REG); t.check_reg(Ok(got), V, M);` |
//! | `wait REG == V mask M` | `let read = \|\| ioN.try_read(barN::REG); t.wait_reg(read, V, M);` (polls, 2 s) |
//! | raw `bar N @ O : uW` | `ioN.try_readW(O)` / `ioN.try_writeW(V, O)` and `t.check` / `t.done` |
//! | configuration space (`config @ O : uW`, a `config { }` register) | as raw, on `cfg = self.pdev.config_space()`, at `O` / `config::REG` |
//! | `invalid write LOC = V` | `let done = ioN.try_writeW(V, O); t.done(done);` |
//! | `invalid read LOC` | `let got = ioN.try_readW(O); t.check(got, EXPECT, u64::MAX);` |
//! | `expect irq` / `expect no irq` | `t.expect_irq(\|\| self.irq_count());` (waits 1 s) / `t.expect_no_irq(..)` (20 ms) |
//! | `expect dma[A..B] == D` | `let data = DmaContents::..; t.expect_dma(&self.dma, A, B, data);` |
//! | `fill dma[A..B] = D` | `let data = DmaContents::..; t.fill_dma(&self.dma, A, B, data);` |
//! | `expect REG != V` | as `==`, with `t.check_reg_ne` / `t.check_ne` |
//! | `advance N UNIT` | `t.advance(US);`: sleeps, in microseconds rounded up |
//! | `repeat N { .. }` | `for _ in 0..N { .. }` around its body (a nested repeat is unrolled in it) |
//! | host-only steps (`input`, `expect output`, `expect vmm`, `expect STATE`) | `t.skip(..)`: logged, counted as skipped |
//! | a step that judges (`expect`, `wait`, `invalid read`, `expect irq` / `no irq` / `msi` / `dma`) after a skipped `input` of its scenario | `t.skip("after host-only input")`: the device's state is not what the scenario expects |
//!
//! The last row is decided here, from the scenario's steps: once a step
//! that changes the device's state from outside (`input`; the other
//! host-only steps only observe) is skipped, every later step of the
//! scenario that judges is skipped too, while steps that only act (`read`,
//! `write`, `invalid write`, `fill dma`, `advance`) still run, so setup and
//! cleanup writes still happen. An `input` in a loop's body taints the whole
//! body (it runs again after the input) and everything after the loop.
//!
//! A step whose code is one statement of at most [`INLINE_WIDTH`] columns
//! is written as that statement (`t.check_reg(Ok(io0.read(bar0::R)), 0x1,
//! u64::MAX);`, shapes in `templates/driver/inline_step.rs`); a longer one
//! binds its parts first, as in the table.
//!
//! A value `dma.addr + C` is `self.dma_plus(C)`; written to a register it
//! first goes through `t.fits(..)`, which fails the step if the bus address
//! does not fit the register (it does under the DMA mask the IR asks for).
//! Raw accesses use the run-time checked accessors. A raw access that is not
//! naturally aligned cannot be issued through the kernel's I/O accessors at
//! all: that step is logged as `skipped` and counted neither passed nor run.

pub(crate) use super::plan::{AFTER_INPUT, after_input, blocks};
use super::regs::{RegRef, fallible};
use super::text::{self, Doc, Names};
use askama::Template;
use pcidevc_dsl::ir::{self, Data, Device, Loc, StepKind};

/// Widest statement (without its `;`) written on one line in place of a
/// step's longer form: rustfmt's `chain_width` and `fn_call_width` (60), so
/// rustfmt never breaks such a line, at any indentation the steps use.
pub const INLINE_WIDTH: usize = 60;

/// What the crate root needs for the steps.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Any step at all: the support file `selftest.rs`.
    pub steps: bool,
    /// `DmaContents` (a `fill dma` or `expect dma` step).
    pub dma_data: bool,
    /// The `dma_plus` method.
    pub dma_plus: bool,
    /// An `expect msi` step run by the driver (the `expect_msi` method).
    pub expect_msi: bool,
    /// An access to configuration space (`pdev.config_space()`, the `Io`
    /// trait).
    pub config: bool,
}

/// A scenario of more steps than this runs in parts of at most this many
/// (a top-level `repeat` stays whole), one method each: LLVM's promotion of
/// locals to registers takes time quadratic in a function's size, and the
/// 7,500 steps of one method kept the kernel build busy for minutes.
pub const STEPS_PER_PART: usize = 256;

/// One scenario method.
#[derive(Debug)]
pub struct ScenarioView {
    pub doc: Doc,
    pub method: String,
    pub name_lit: String,
    /// The steps: one part, in the scenario's method, or more than one,
    /// each in a method of its own the scenario's method calls in order.
    pub parts: Vec<PartView>,
}

/// Consecutive steps of a scenario, in one method.
#[derive(Debug)]
pub struct PartView {
    /// The part's method (unused for a scenario of one part).
    pub method: String,
    /// The part's method's doc.
    pub doc: Doc,
    /// The BARs its steps access (an `ioN` binding each).
    pub bars: Vec<u8>,
    /// Does a step access configuration space (a `cfg` binding)?
    pub config: bool,
    /// The steps, top-level `repeat`s grouped as loops.
    pub blocks: Vec<BlockView>,
}

impl ScenarioView {
    /// Every step view, each once (a loop's body once).
    pub fn steps(&self) -> impl Iterator<Item = &StepView> {
        self.parts
            .iter()
            .flat_map(|p| &p.blocks)
            .flat_map(|b| &b.steps)
    }
}

/// Steps run once, or a top-level `repeat N { .. }` as a loop.
#[derive(Debug)]
pub struct BlockView {
    /// `Some(N)`: the steps are the body of `for _ in 0..N` (N >= 2).
    pub repeat: Option<u32>,
    pub steps: Vec<StepView>,
}

/// One step.
#[derive(Debug)]
pub struct StepView {
    pub line: usize,
    /// The step's text as a string literal.
    pub text: String,
    /// `t.step(LINE, "TEXT");` fits on one line (else one argument a line).
    pub one_line: bool,
    /// The step's code as short lines (one statement, or an access and
    /// `t.pass();`), when they fit in [`INLINE_WIDTH`]; else empty and the
    /// template writes the longer form of `action`.
    pub inline: Vec<String>,
    pub action: Action,
}

/// The one-statement shapes of a step (`templates/driver/inline_step.rs`).
#[derive(Template)]
#[template(path = "driver/inline_step.rs", escape = "none")]
struct InlineStep<'a> {
    action: &'a Action,
}

/// `action` as short lines, or nothing when it has no such shape or a
/// line would be wider than [`INLINE_WIDTH`].
fn inline(action: &Action) -> Vec<String> {
    let text = InlineStep { action }.render().unwrap_or_default();
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let fits = |l: &String| l.trim_end_matches(';').len() <= INLINE_WIDTH;
    if lines.iter().all(fits) {
        lines
    } else {
        Vec::new()
    }
}

impl Action {
    /// The register the step names, if it names one.
    pub fn reg(&self) -> Option<&RegRef> {
        match self {
            Action::Read { reg, .. }
            | Action::Write { reg, .. }
            | Action::Expect { reg, .. }
            | Action::Wait { reg, .. } => Some(reg),
            _ => None,
        }
    }
}

/// What a step does after `t.step(..)`.
#[derive(Debug)]
pub enum Action {
    Read {
        reg: RegRef,
        fallible: bool,
    },
    ReadRaw(Raw),
    Write {
        reg: RegRef,
        value: Value,
        fallible: bool,
    },
    WriteRaw {
        raw: Raw,
        value: Value,
    },
    Expect {
        reg: RegRef,
        fallible: bool,
        want: Value,
        mask: String,
        /// `!=` instead of `==`.
        ne: bool,
    },
    ExpectRaw {
        raw: Raw,
        want: Value,
        mask: String,
        ne: bool,
    },
    /// `advance`: sleep this many microseconds (an `i64` literal).
    Advance(String),
    Wait {
        reg: RegRef,
        want: Value,
        mask: String,
    },
    WaitRaw {
        raw: Raw,
        want: Value,
        mask: String,
    },
    ExpectIrq,
    ExpectNoIrq,
    /// `expect msi N` (the vector, a `usize` literal).
    ExpectMsi(String),
    ExpectDma {
        start: String,
        end: String,
        data: DmaData,
    },
    FillDma {
        start: String,
        end: String,
        data: DmaData,
    },
    /// The reason, as a string literal.
    Skip(String),
}

/// A raw run-time checked access of `bits` at `offset` of BAR `bar`
/// (`None`: configuration space), through the binding `io`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw {
    pub bar: Option<u8>,
    /// `ioN` for BAR N, `cfg` for configuration space.
    pub io: String,
    pub bits: u32,
    pub offset: String,
}

/// Scenario data for the DMA buffer: `DmaContents::VARIANT(ARG)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DmaData {
    pub variant: &'static str,
    pub arg: String,
}

/// A scenario value: a constant, or the DMA buffer's address plus an offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value {
    pub constant: String,
    /// `Some(offset)` for `dma.addr + offset`.
    pub dma_plus: Option<String>,
}

/// Every scenario, and what their code needs.
pub fn scenarios(dev: &Device) -> (Vec<ScenarioView>, Needs) {
    let mut needs = Needs::default();
    let mut methods = Names::default();
    let views = dev
        .scenarios
        .iter()
        .map(|sc| scenario(dev, sc, &mut needs, &mut methods))
        .collect();
    (views, needs)
}

fn scenario(
    dev: &Device,
    sc: &ir::Scenario,
    needs: &mut Needs,
    methods: &mut Names,
) -> ScenarioView {
    let groups = blocks(&sc.steps);
    let skips = after_input(&groups);
    let blocks: Vec<BlockView> = groups
        .into_iter()
        .zip(skips)
        .map(|((repeat, steps), skips)| BlockView {
            repeat,
            steps: steps
                .into_iter()
                .zip(skips)
                .map(|(st, after_input)| step(dev, st, after_input, needs))
                .collect(),
        })
        .collect();
    let desc = if sc.description.is_empty() {
        String::new()
    } else {
        format!(": {}", sc.description)
    };
    let method = methods.take(format!("scenario_{}", sc.name));
    let split = split_blocks(blocks, STEPS_PER_PART);
    let count = split.len();
    let parts = split
        .into_iter()
        .enumerate()
        .map(|(i, blocks)| {
            let steps = || blocks.iter().flat_map(|b| &b.steps);
            let mut bars: Vec<u8> = steps().filter_map(|s| s.action.bar()).collect();
            bars.sort_unstable();
            bars.dedup();
            let config = steps().any(|s| s.action.config());
            needs.config |= config;
            let first = steps().map(|s| s.line).min().unwrap_or_default();
            let last = steps().map(|s| s.line).max().unwrap_or_default();
            PartView {
                method: if count > 1 {
                    methods.take(format!("{method}_part{}", i + 1))
                } else {
                    String::new()
                },
                doc: Doc(format!(
                    "Part {} of {count} of scenario `{}`: the steps of lines {}-{}.",
                    i + 1,
                    sc.name,
                    first,
                    last
                )),
                bars,
                config,
                blocks,
            }
        })
        .collect();
    ScenarioView {
        doc: Doc(format!("Scenario `{}`{desc}.", sc.name)),
        method,
        name_lit: text::str_lit(&sc.name),
        parts,
    }
}

/// `blocks` in parts of at most `max` (>= 1) steps, in order; a loop is
/// never split (a loop longer than `max` is a part of its own). At least
/// one part.
fn split_blocks(blocks: Vec<BlockView>, max: usize) -> Vec<Vec<BlockView>> {
    let mut parts = Vec::new();
    let mut part: Vec<BlockView> = Vec::new();
    // Steps in `part`.
    let mut len = 0;
    for block in blocks {
        if block.repeat.is_some() {
            let n = block.steps.len();
            if len > 0 && len + n > max {
                parts.push(std::mem::take(&mut part));
                len = 0;
            }
            part.push(block);
            len += n;
            continue;
        }
        let mut steps = block.steps.into_iter().peekable();
        while steps.peek().is_some() {
            if len >= max {
                parts.push(std::mem::take(&mut part));
                len = 0;
            }
            let piece: Vec<StepView> = steps.by_ref().take(max - len).collect();
            len += piece.len();
            part.push(BlockView {
                repeat: None,
                steps: piece,
            });
        }
    }
    if !part.is_empty() || parts.is_empty() {
        parts.push(part);
    }
    parts
}

impl Action {
    /// The BAR the step accesses, if any.
    fn bar(&self) -> Option<u8> {
        match self {
            Action::Read { reg, .. }
            | Action::Write { reg, .. }
            | Action::Expect { reg, .. }
            | Action::Wait { reg, .. } => Some(reg.bar),
            Action::ReadRaw(raw)
            | Action::WriteRaw { raw, .. }
            | Action::ExpectRaw { raw, .. }
            | Action::WaitRaw { raw, .. } => raw.bar,
            _ => None,
        }
    }

    /// Does the step access configuration space?
    fn config(&self) -> bool {
        match self {
            Action::ReadRaw(raw)
            | Action::WriteRaw { raw, .. }
            | Action::ExpectRaw { raw, .. }
            | Action::WaitRaw { raw, .. } => raw.bar.is_none(),
            _ => false,
        }
    }
}

/// How a step reaches its location.
enum Access {
    /// Through the register's `register!` type.
    Reg { reg: RegRef, fallible: bool },
    /// A raw run-time checked access.
    Raw(Raw),
    /// Cannot be issued; the reason.
    Skip(&'static str),
}

fn access(dev: &Device, loc: &Loc, raw: bool) -> Access {
    if loc.space == ir::Space::Config {
        // Through `pdev.config_space()`: a register by its `config::NAME`
        // offset, a raw location by its number (the checker keeps both
        // inside the 256 bytes, 1, 2 or 4 bytes wide).
        let offset = match (dev.register_at(loc), raw) {
            (Some(r), false) => format!("config::{}", dev.register(r).name),
            _ => text::hex(loc.offset),
        };
        return Access::Raw(Raw {
            bar: None,
            io: "cfg".into(),
            bits: loc.width as u32 * 8,
            offset,
        });
    }
    let Some(bar) = loc.space.bar().and_then(|b| dev.bar(b)) else {
        return Access::Skip("no such BAR");
    };
    if let (Some(r), false) = (dev.register_at(loc), raw) {
        return Access::Reg {
            reg: RegRef::of(bar.index, dev.register(r)),
            fallible: fallible(bar, loc.width),
        };
    }
    if !matches!(loc.width, 1 | 2 | 4 | 8) || !loc.offset.is_multiple_of(loc.width as u64) {
        return Access::Skip("Linux I/O accessors cannot issue misaligned accesses");
    }
    if loc.width == 8 && bar.kind.is_io() {
        return Access::Skip("port I/O has no 8-byte accesses");
    }
    Access::Raw(Raw {
        bar: Some(bar.index),
        io: format!("io{}", bar.index),
        bits: loc.width as u32 * 8,
        offset: text::hex(loc.offset),
    })
}

fn value(v: &ir::StepValue, needs: &mut Needs) -> Value {
    needs.dma_plus |= v.plus_dma_addr;
    Value {
        constant: text::hex(v.constant),
        dma_plus: v.plus_dma_addr.then(|| text::hex(v.constant)),
    }
}

fn data(d: &Data) -> DmaData {
    let (variant, arg) = match d {
        Data::Random(seed) => ("Random", u64::from(*seed)),
        Data::Pattern(b) => ("Pattern", u64::from(*b)),
        Data::Word(w) => ("Word", *w),
    };
    DmaData {
        variant,
        arg: text::hex(arg),
    }
}

/// Why a host-only step is skipped (the same text in both drivers).
pub(crate) const HOST_ONLY: &str = "host only (device state, stream bytes or VMM requests)";

/// An `advance` of `ns` nanoseconds as a sleep in microseconds, rounded up
/// (a driver never sleeps less than the scenario asked), at most `i64::MAX`.
pub(crate) fn advance_us(ns: u64) -> u64 {
    ns.div_ceil(1000).min(i64::MAX as u64)
}

fn skip(why: &str) -> Action {
    Action::Skip(text::str_lit(why))
}

/// A step's view; `after_input`: a judging step skipped because an
/// earlier `input` was (see [`after_input`]).
fn step(dev: &Device, st: &ir::Step, after_input: bool, needs: &mut Needs) -> StepView {
    needs.steps = true;
    let action = match &st.kind {
        _ if after_input => skip(AFTER_INPUT),
        StepKind::Read(loc) => match access(dev, loc, false) {
            Access::Reg { reg, fallible } => Action::Read { reg, fallible },
            Access::Raw(raw) => Action::ReadRaw(raw),
            Access::Skip(why) => skip(why),
        },
        StepKind::Write(loc, v) | StepKind::InvalidWrite(loc, v) => {
            let invalid = matches!(st.kind, StepKind::InvalidWrite(..));
            match access(dev, loc, invalid) {
                Access::Reg { reg, fallible } => Action::Write {
                    reg,
                    value: value(v, needs),
                    fallible,
                },
                Access::Raw(raw) => Action::WriteRaw {
                    raw,
                    value: value(v, needs),
                },
                Access::Skip(why) => skip(why),
            }
        }
        StepKind::Expect {
            loc,
            value: v,
            mask,
            cmp,
        } => match access(dev, loc, false) {
            Access::Reg { reg, fallible } => Action::Expect {
                reg,
                fallible,
                want: value(v, needs),
                mask: text::mask(*mask),
                ne: *cmp == ir::Cmp::Ne,
            },
            Access::Raw(raw) => Action::ExpectRaw {
                raw,
                want: value(v, needs),
                mask: text::mask(*mask),
                ne: *cmp == ir::Cmp::Ne,
            },
            Access::Skip(why) => skip(why),
        },
        StepKind::Wait {
            loc,
            value: v,
            mask,
        } => match access(dev, loc, false) {
            Access::Reg { reg, .. } => Action::Wait {
                reg,
                want: value(v, needs),
                mask: text::mask(*mask),
            },
            Access::Raw(raw) => Action::WaitRaw {
                raw,
                want: value(v, needs),
                mask: text::mask(*mask),
            },
            Access::Skip(why) => skip(why),
        },
        StepKind::InvalidRead { loc, expect } => match access(dev, loc, true) {
            Access::Raw(raw) => Action::ExpectRaw {
                raw,
                want: Value {
                    constant: text::hex(*expect),
                    dma_plus: None,
                },
                mask: text::mask(u64::MAX),
                ne: false,
            },
            // Raw accesses are requested with `raw = true`, so a register
            // access cannot come back; kept total without a panic.
            Access::Reg { .. } => skip("internal: no raw access"),
            Access::Skip(why) => skip(why),
        },
        StepKind::ExpectIrq(true) => Action::ExpectIrq,
        StepKind::ExpectIrq(false) => Action::ExpectNoIrq,
        StepKind::ExpectDma {
            start,
            end,
            data: d,
        } => {
            needs.dma_data = true;
            Action::ExpectDma {
                start: text::hex(*start),
                end: text::hex(*end),
                data: data(d),
            }
        }
        StepKind::Fill {
            start,
            end,
            data: d,
        } => {
            needs.dma_data = true;
            Action::FillDma {
                start: text::hex(*start),
                end: text::hex(*end),
                data: data(d),
            }
        }
        StepKind::Advance(ns) => Action::Advance(advance_us(*ns).to_string()),
        k if k.host_only() => skip(HOST_ONLY),
        StepKind::ExpectMsi(v) if super::irq::multi_vector(dev) => {
            needs.expect_msi = true;
            Action::ExpectMsi(v.to_string())
        }
        StepKind::ExpectMsi(_) => skip("one vector: the driver counts interrupts, not vectors"),
        // Grouped or unrolled by `blocks` before steps are rendered.
        StepKind::Repeat { .. } => skip("internal: a repeat header"),
        StepKind::ExpectState { .. }
        | StepKind::Input { .. }
        | StepKind::ExpectOutput { .. }
        | StepKind::ExpectVmm(_) => skip(HOST_ONLY),
    };
    let line = st.line.to_string();
    let text = text::str_lit(&st.text);
    StepView {
        line: st.line,
        one_line: text::fits_call_width(&[&line, &text]),
        text,
        inline: inline(&action),
        action,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(body: &str) -> Device {
        let text = format!(
            "device t {{ id 0x1234:0x5678; class 0xff:0x00:0x00; state st: u32 = 0;
             interrupt {{ pin A; level st != 0; status R; ack R = 0; }}
             dma_buffer 256;
             bar 0 mem64 size 4K {{
                 register R @ 0x0 : u32 {{ read st; on write {{ st = value; }} }}
                 register Q @ 0x8 : u64 rw;
             }}
             bar 2 io size 16 {{ access 2; register P @ 0x0 : u16 rw; }}
             config {{ register CFG @ 0x60 : u16 rw; }}
             stream line {{ on input {{ st = byte; }} }}
             scenario s {{ {body} }} }}"
        );
        let c = pcidevc_dsl::compile_str("t.pcidev", &text);
        let errors: Vec<String> = c.errors().map(|d| d.message.clone()).collect();
        c.device.unwrap_or_else(|| panic!("{errors:?}"))
    }

    /// The action of the only step, and what the steps need.
    fn action(body: &str) -> (Action, Needs) {
        let d = dev(body);
        let (mut views, needs) = scenarios(&d);
        let step = views
            .remove(0)
            .parts
            .remove(0)
            .blocks
            .remove(0)
            .steps
            .remove(0);
        (step.action, needs)
    }

    /// The BARs the first part of the only scenario binds (`ioN`).
    fn bars(body: &str) -> Vec<u8> {
        scenarios(&dev(body)).0.remove(0).parts.remove(0).bars
    }

    fn reg(bar: u8, name: &str) -> RegRef {
        RegRef {
            bar,
            name: name.into(),
            index: None,
        }
    }

    fn konst(v: &str) -> Value {
        Value {
            constant: v.into(),
            dma_plus: None,
        }
    }

    #[test]
    fn register_steps_use_the_register_types() {
        let (a, n) = action("write R = 5;");
        assert!(
            matches!(&a, Action::Write { reg: r, value, fallible: false } if *r == reg(0, "R") && *value == konst("0x5")),
            "{a:?}"
        );
        assert!(n.steps && !n.dma_plus, "{n:?}");
        assert_eq!(bars("write R = 5;"), [0]);
        let (a, _) = action("expect R == 1 mask 0xf;");
        assert!(
            matches!(&a, Action::Expect { fallible: false, want, mask, .. } if *want == konst("0x1") && mask == "0xf"),
            "{a:?}"
        );
        let (a, _) = action("wait Q == 2;");
        assert!(
            matches!(&a, Action::Wait { reg: r, mask, .. } if *r == reg(0, "Q") && mask == "u64::MAX"),
            "{a:?}"
        );
        let (a, _) = action("read Q;");
        assert!(matches!(&a, Action::Read { fallible: true, .. }), "{a:?}");
        let (a, _) = action("write P = 3;");
        assert!(
            matches!(&a, Action::Write { reg: r, fallible: false, .. } if *r == reg(2, "P")),
            "{a:?}"
        );
        assert_eq!(reg(2, "P").to_string(), "bar2::P");
    }

    #[test]
    fn raw_and_invalid_steps_use_run_time_checked_accessors() {
        let raw = |bar: u8, bits, offset: &str| Raw {
            bar: Some(bar),
            io: format!("io{bar}"),
            bits,
            offset: offset.into(),
        };
        let (a, _) = action("expect bar 2 @ 0x2 : u16 == 7;");
        assert!(
            matches!(&a, Action::ExpectRaw { raw: r, want, .. } if *r == raw(2, 16, "0x2") && *want == konst("0x7")),
            "{a:?}"
        );
        let (a, _) = action("invalid write bar 2 @ 0x0 : u8 = 1;");
        assert!(
            matches!(&a, Action::WriteRaw { raw: r, value } if *r == raw(2, 8, "0x0") && *value == konst("0x1")),
            "{a:?}"
        );
        let (a, _) = action("invalid read bar 2 @ 0x1 : u8;");
        assert!(
            matches!(&a, Action::ExpectRaw { raw: r, want, mask, ne: false } if *r == raw(2, 8, "0x1") && *want == konst("0x0") && mask == "u64::MAX"),
            "{a:?}"
        );
        let (a, _) = action("invalid read bar 0 @ 0x1 : u16;");
        assert!(
            matches!(&a, Action::Skip(why) if why == "\"Linux I/O accessors cannot issue misaligned accesses\""),
            "{a:?}"
        );
    }

    #[test]
    fn config_steps_use_the_config_space_accessors() {
        let cfg = |bits, offset: &str| Raw {
            bar: None,
            io: "cfg".into(),
            bits,
            offset: offset.into(),
        };
        let (a, n) = action("write CFG = 5;");
        assert!(
            matches!(&a, Action::WriteRaw { raw: r, value } if *r == cfg(16, "config::CFG") && *value == konst("0x5")),
            "{a:?}"
        );
        assert!(n.config, "{n:?}");
        assert!(bars("write CFG = 5;").is_empty());
        let (a, _) = action("expect config @ 0x62 : u8 == 1;");
        assert!(
            matches!(&a, Action::ExpectRaw { raw: r, .. } if *r == cfg(8, "0x62")),
            "{a:?}"
        );
        let (a, _) = action("wait CFG == 0;");
        assert!(
            matches!(&a, Action::WaitRaw { raw: r, .. } if *r == cfg(16, "config::CFG")),
            "{a:?}"
        );
    }

    #[test]
    fn dma_values_and_data() {
        let (a, n) = action("write R = dma.addr + 0x10;");
        assert!(
            matches!(&a, Action::Write { value, .. } if value.dma_plus.as_deref() == Some("0x10")),
            "{a:?}"
        );
        assert!(n.dma_plus && !n.dma_data);
        let (a, n) = action("fill dma[0 .. 8] = word(0x1122);");
        assert!(
            matches!(&a, Action::FillDma { start, end, data } if start == "0x0" && end == "0x8" && data.variant == "Word" && data.arg == "0x1122"),
            "{a:?}"
        );
        assert!(n.dma_data);
        assert!(bars("fill dma[0 .. 8] = word(0x1122);").is_empty());
        let (a, _) = action("expect dma[8 .. 16] == random(3);");
        assert!(
            matches!(&a, Action::ExpectDma { data, .. } if data.variant == "Random" && data.arg == "0x3"),
            "{a:?}"
        );
    }

    #[test]
    fn interrupt_steps_and_step_headers() {
        assert!(matches!(action("expect irq;").0, Action::ExpectIrq));
        assert!(matches!(action("expect no irq;").0, Action::ExpectNoIrq));
        let d = dev("write R = 1; expect irq;");
        let (views, _) = scenarios(&d);
        let lines: Vec<usize> = d.scenarios[0].steps.iter().map(|s| s.line).collect();
        let steps = &views[0].parts[0].blocks[0].steps;
        assert_eq!(steps[0].line, lines[0]);
        assert_eq!(steps[0].text, "\"write R = 1;\"");
        assert!(steps[0].one_line);
        assert_eq!(views[0].method, "scenario_s");
        assert_eq!(views[0].parts[0].bars, [0]);
    }

    #[test]
    fn top_level_repeats_become_loops() {
        let d = dev(
            "write R = 1; repeat 3 { read R; repeat 2 { expect R == 1; } } \
             repeat 1 { write R = 2; } expect irq;",
        );
        let groups: Vec<(Option<u32>, Vec<&str>)> = blocks(&d.scenarios[0].steps)
            .into_iter()
            .map(|(n, steps)| (n, steps.iter().map(|s| s.text.as_str()).collect()))
            .collect();
        // The loop holds its nested repeat unrolled; `repeat 1` is its body,
        // joined with the plain steps around it.
        assert_eq!(
            groups,
            [
                (None, vec!["write R = 1;"]),
                (Some(3), vec!["read R;", "expect R == 1;", "expect R == 1;"]),
                (None, vec!["write R = 2;", "expect irq;"]),
            ]
        );
        let (views, _) = scenarios(&d);
        assert_eq!(views[0].parts[0].blocks[1].repeat, Some(3));
        assert_eq!(views[0].steps().count(), 6);
    }

    /// Each step's text and whether the driver skips it after an input.
    fn after_input_of(body: &str) -> Vec<(String, bool)> {
        let d = dev(body);
        let groups = blocks(&d.scenarios[0].steps);
        let skips = after_input(&groups);
        groups
            .iter()
            .zip(&skips)
            .flat_map(|((_, steps), skips)| steps.iter().zip(skips))
            .map(|(st, skip)| (st.text.clone(), *skip))
            .collect()
    }

    #[test]
    fn judging_steps_after_an_input_are_skipped() {
        let got = after_input_of(
            "expect R == 0; write R = 1; input line \"a\"; expect st == 1; \
             expect R == 0x61; read R; wait R == 1; expect irq; write R = 0; \
             expect no irq; invalid read bar 2 @ 0x1 : u8; fill dma[0 .. 4] = pattern(1); \
             expect dma[0 .. 4] == pattern(1); advance 1 us; invalid write bar 2 @ 0x1 : u8 = 1;",
        );
        let skipped: Vec<(&str, bool)> = got.iter().map(|(t, s)| (t.as_str(), *s)).collect();
        assert_eq!(
            skipped,
            [
                ("expect R == 0;", false),
                ("write R = 1;", false),
                ("input line \"a\";", false),
                // Host only: skipped for that reason, not this one.
                ("expect st == 1;", false),
                ("expect R == 0x61;", true),
                ("read R;", false),
                ("wait R == 1;", true),
                ("expect irq;", true),
                ("write R = 0;", false),
                ("expect no irq;", true),
                ("invalid read bar 2 @ 0x1 : u8;", true),
                ("fill dma[0 .. 4] = pattern(1);", false),
                ("expect dma[0 .. 4] == pattern(1);", true),
                ("advance 1 us;", false),
                ("invalid write bar 2 @ 0x1 : u8 = 1;", false),
            ]
        );
        let d = dev("input line \"a\"; expect R == 1; write R = 0;");
        let (views, n) = scenarios(&d);
        let actions: Vec<&Action> = views[0].steps().map(|s| &s.action).collect();
        assert!(
            matches!(actions[..], [Action::Skip(a), Action::Skip(b), Action::Write { .. }]
                if a.contains("host only") && b == "\"after host-only input\""),
            "{actions:?}"
        );
        // A skipped step needs nothing from the crate root.
        let (_, n2) = scenarios(&dev("input line \"a\"; expect dma[0 .. 4] == pattern(1);"));
        assert!(!n2.dma_data, "{n2:?}");
        assert_eq!(views[0].parts[0].bars, [0], "{n:?}");
    }

    #[test]
    fn an_input_in_a_loop_taints_its_whole_body_and_what_follows() {
        let got = after_input_of(
            "expect R == 0; repeat 2 { expect R == 1; input line \"a\"; write R = 1; \
             expect R == 2; } expect irq; write R = 0;",
        );
        let skipped: Vec<bool> = got.iter().map(|(_, s)| *s).collect();
        assert_eq!(skipped, [false, true, false, false, true, true, false]);
        // Observing host-only steps taint nothing.
        let got = after_input_of("expect output line \"a\"; expect st == 0; expect R == 0;");
        assert!(got.iter().all(|(_, s)| !s), "{got:?}");
    }

    #[test]
    fn long_scenarios_run_in_parts_of_whole_loops() {
        let sizes = |body: &str| -> Vec<Vec<(Option<u32>, usize)>> {
            let (views, _) = scenarios(&dev(body));
            views[0]
                .parts
                .iter()
                .map(|p| p.blocks.iter().map(|b| (b.repeat, b.steps.len())).collect())
                .collect()
        };
        let once = "write Q = 1; ";
        // Up to STEPS_PER_PART steps: one part.
        assert_eq!(sizes(&once.repeat(STEPS_PER_PART)), [[(None, 256)]]);
        // One more: two parts, in order.
        assert_eq!(
            sizes(&once.repeat(STEPS_PER_PART + 1)),
            [vec![(None, 256)], vec![(None, 1)]]
        );
        // A loop is never split: it starts a part when it does not fit, and
        // the steps after it fill that part.
        let body = format!(
            "{}repeat 2 {{ write Q = 2; read Q; expect Q == 2; }}{}",
            once.repeat(255),
            once.repeat(300)
        );
        assert_eq!(
            sizes(&body),
            [
                vec![(None, 255)],
                vec![(Some(2), 3), (None, 253)],
                vec![(None, 47)]
            ]
        );
        let (views, _) = scenarios(&dev(&body));
        let methods: Vec<&str> = views[0].parts.iter().map(|p| p.method.as_str()).collect();
        assert_eq!(
            methods,
            ["scenario_s_part1", "scenario_s_part2", "scenario_s_part3"]
        );
        let lines: Vec<usize> = views[0].steps().map(|s| s.line).collect();
        assert!(
            lines.windows(2).all(|w| w[0] <= w[1]),
            "steps stay in order"
        );
        assert_eq!(lines.len(), 255 + 3 + 300);
    }
}
