//! Scenarios as the driver's probe self-test: one method per scenario, a few
//! statements per step.
//!
//! Every step starts with `t.step(LINE, "TEXT");` and ends by passing or
//! failing it (the log line). In between (`ioN` is `&self.bars.barN`):
//!
//! | step | code |
//! |---|---|
//! | `read REG` | `let _ = ioN.read(barN::REG);` (`try_read` + `t.done` for 64-bit MMIO) |
//! | `write REG = V` | `let v = barN::REG::from_raw(V); ioN.write_reg(v);` |
//! | `expect REG == V mask M` | `let got = ioN.read(barN::REG); t.check_reg(Ok(got), V, M);` |
//! | `wait REG == V mask M` | `let read = \|\| ioN.try_read(barN::REG); t.wait_reg(read, V, M);` (polls, 2 s) |
//! | raw `bar N @ O : uW` | `ioN.try_readW(O)` / `ioN.try_writeW(V, O)` and `t.check` / `t.done` |
//! | `invalid write LOC = V` | `let done = ioN.try_writeW(V, O); t.done(done);` |
//! | `invalid read LOC` | `let got = ioN.try_readW(O); t.check(got, EXPECT, u64::MAX);` |
//! | `expect irq` / `expect no irq` | `self.expect_irq(t);` (waits 1 s) / `self.expect_no_irq(t);` (20 ms) |
//! | `expect dma[A..B] == D` | `let data = DmaContents::..; self.expect_dma(t, A, B, data);` |
//! | `fill dma[A..B] = D` | `let data = DmaContents::..; self.fill_dma(t, A, B, data);` |
//!
//! A value `dma.addr + C` is `self.dma_plus(C)`; written to a register it
//! first goes through `t.fits(..)`, which fails the step if the bus address
//! does not fit the register (it does under the DMA mask the IR asks for).
//! Raw accesses use the run-time checked accessors. A raw access that is not
//! naturally aligned cannot be issued through the kernel's I/O accessors at
//! all: that step is logged as `skipped` and counted neither passed nor run.

use super::layout::{self, Names};
use super::regs::fallible;
use pcidevc_dsl::ir::{self, Data, Device, Loc, StepKind, StepValue as Value};

/// Which self-test helpers the generated code uses (every helper is emitted
/// only when used: unused code would warn).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub steps: bool,
    pub fail: bool,
    pub done: bool,
    pub check: bool,
    pub check_reg: bool,
    pub fits: bool,
    pub wait: bool,
    pub wait_reg: bool,
    pub skip: bool,
    pub expect_irq: bool,
    pub expect_no_irq: bool,
    pub expect_dma: bool,
    pub fill_dma: bool,
    pub dma_plus: bool,
    pub random: bool,
    pub pattern: bool,
    pub word: bool,
}

impl Needs {
    /// Adds what the used helpers use in turn.
    fn close(&mut self) {
        self.check |= self.check_reg;
        self.wait |= self.wait_reg;
        self.fail |= self.done
            || self.check
            || self.fits
            || self.wait
            || self.expect_irq
            || self.expect_no_irq
            || self.expect_dma
            || self.fill_dma;
    }
    /// `DmaContents` / `DmaBytes`.
    pub fn dma_data(&self) -> bool {
        self.expect_dma || self.fill_dma
    }
    /// The `irqs` field of `Tally`.
    pub fn irqs(&self) -> bool {
        self.expect_irq || self.expect_no_irq
    }
    /// `read_poll_timeout` and `POLL_SLEEP`.
    pub fn poll(&self) -> bool {
        self.wait || self.expect_irq
    }
    /// The `Register` trait (generic register helpers).
    pub fn register_trait(&self) -> bool {
        self.check_reg || self.wait_reg
    }
}

/// One scenario method.
#[derive(Debug)]
pub struct ScenarioView {
    pub doc: String,
    pub method: String,
    /// The method body, indented, without the braces.
    pub body: String,
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
    needs.close();
    (views, needs)
}

fn scenario(
    dev: &Device,
    sc: &ir::Scenario,
    needs: &mut Needs,
    methods: &mut Names,
) -> ScenarioView {
    let mut bars_used: Vec<u8> = sc
        .steps
        .iter()
        .filter_map(|st| step_loc(&st.kind))
        .filter_map(|loc| loc.space.bar())
        .filter(|bar| dev.bar(*bar).is_some())
        .collect();
    bars_used.sort_unstable();
    bars_used.dedup();

    let mut body = vec![layout::call(
        8,
        "t.scenario",
        &[layout::str_lit(&sc.name)],
        ";",
    )];
    for b in &bars_used {
        body.push(format!("        let io{b} = &self.bars.bar{b};"));
    }
    for st in &sc.steps {
        needs.steps = true;
        body.push(String::new());
        body.push(step(dev, st, needs));
    }
    let desc = if sc.description.is_empty() {
        String::new()
    } else {
        format!(": {}", sc.description)
    };
    ScenarioView {
        doc: layout::doc_block(4, "///", &format!("Scenario `{}`{desc}.", sc.name)),
        method: methods.take(format!("scenario_{}", sc.name)),
        body: body.join("\n"),
    }
}

fn step_loc(k: &StepKind) -> Option<&Loc> {
    match k {
        StepKind::Read(loc)
        | StepKind::Write(loc, _)
        | StepKind::Expect { loc, .. }
        | StepKind::Wait { loc, .. }
        | StepKind::InvalidWrite(loc, _)
        | StepKind::InvalidRead { loc, .. } => Some(loc),
        _ => None,
    }
}

/// How a step reaches its location.
enum Access {
    /// Through the register's `register!` type.
    Reg {
        io: String,
        path: String,
        fallible: bool,
    },
    /// A raw run-time checked access of `bits` at `offset`.
    Raw {
        io: String,
        bits: u32,
        offset: String,
    },
    /// Cannot be issued; the reason.
    Skip(&'static str),
}

fn access(dev: &Device, loc: &Loc, raw: bool) -> Access {
    let Some(bar) = loc.space.bar().and_then(|b| dev.bar(b)) else {
        return Access::Skip("no such BAR");
    };
    let io = format!("io{}", bar.index);
    if let (Some(r), false) = (dev.register_at(loc), raw) {
        return Access::Reg {
            io,
            path: format!("bar{}::{}", bar.index, dev.register(r).name),
            fallible: fallible(bar, loc.width),
        };
    }
    if !matches!(loc.width, 1 | 2 | 4 | 8) || !loc.offset.is_multiple_of(loc.width as u64) {
        return Access::Skip("Linux I/O accessors cannot issue misaligned accesses");
    }
    if loc.width == 8 && bar.kind.is_io() {
        return Access::Skip("port I/O has no 8-byte accesses");
    }
    Access::Raw {
        io,
        bits: loc.width as u32 * 8,
        offset: layout::hex(loc.offset),
    }
}

/// A scenario value as a `u64` expression.
fn want(v: &Value, needs: &mut Needs) -> String {
    if v.plus_dma_addr {
        needs.dma_plus = true;
        format!("self.dma_plus({})", layout::hex(v.constant))
    } else {
        layout::hex(v.constant)
    }
}

fn data(d: &Data, needs: &mut Needs) -> String {
    match d {
        Data::Random(seed) => {
            needs.random = true;
            format!("DmaContents::Random({})", layout::hex(u64::from(*seed)))
        }
        Data::Pattern(b) => {
            needs.pattern = true;
            format!("DmaContents::Pattern({})", layout::hex(u64::from(*b)))
        }
        Data::Word(w) => {
            needs.word = true;
            format!("DmaContents::Word({})", layout::hex(*w))
        }
    }
}

const I: usize = 8;

fn line(s: &str) -> String {
    format!("{}{s}", " ".repeat(I))
}

fn step(dev: &Device, st: &ir::Step, needs: &mut Needs) -> String {
    let mut out = vec![layout::call(
        I,
        "t.step",
        &[st.line.to_string(), layout::str_lit(&st.text)],
        ";",
    )];
    match &st.kind {
        StepKind::Read(loc) => match access(dev, loc, false) {
            Access::Reg {
                io,
                path,
                fallible: false,
            } => {
                out.push(layout::let_stmt(I, "_", &format!("{io}.read({path})")));
                out.push(line("t.pass();"));
            }
            Access::Reg { io, path, .. } => {
                needs.done = true;
                out.push(layout::let_stmt(
                    I,
                    "got",
                    &format!("{io}.try_read({path})"),
                ));
                out.push(line("t.done(got);"));
            }
            Access::Raw { io, bits, offset } => {
                needs.done = true;
                out.push(line(&format!("let got = {io}.try_read{bits}({offset});")));
                out.push(line("t.done(got);"));
            }
            Access::Skip(why) => skip(&mut out, why, needs),
        },
        StepKind::Write(loc, v) => write(dev, &mut out, loc, v, false, needs),
        StepKind::InvalidWrite(loc, v) => write(dev, &mut out, loc, v, true, needs),
        StepKind::Expect {
            cmp: ir::Cmp::Ne, ..
        } => skip(
            &mut out,
            "this driver backend does not check `!=` yet",
            needs,
        ),
        StepKind::Expect {
            loc,
            value,
            mask,
            cmp: ir::Cmp::Eq,
        } => {
            let want = want(value, needs);
            let mask = layout::mask(*mask);
            match access(dev, loc, false) {
                Access::Reg { io, path, fallible } => {
                    needs.check_reg = true;
                    let (method, got) = if fallible {
                        ("try_read", "got")
                    } else {
                        ("read", "Ok(got)")
                    };
                    out.push(layout::let_stmt(
                        I,
                        "got",
                        &format!("{io}.{method}({path})"),
                    ));
                    out.push(layout::call(
                        I,
                        "t.check_reg",
                        &[got.into(), want, mask],
                        ";",
                    ));
                }
                Access::Raw { io, bits, offset } => {
                    needs.check = true;
                    out.push(line(&format!("let got = {io}.try_read{bits}({offset});")));
                    out.push(layout::call(I, "t.check", &["got".into(), want, mask], ";"));
                }
                Access::Skip(why) => skip(&mut out, why, needs),
            }
        }
        StepKind::Wait { loc, value, mask } => {
            let want = want(value, needs);
            let mask = layout::mask(*mask);
            match access(dev, loc, false) {
                Access::Reg { io, path, .. } => {
                    needs.wait_reg = true;
                    out.push(layout::let_stmt(
                        I,
                        "read",
                        &format!("|| {io}.try_read({path})"),
                    ));
                    out.push(layout::call(
                        I,
                        "t.wait_reg",
                        &["read".into(), want, mask],
                        ";",
                    ));
                }
                Access::Raw { io, bits, offset } => {
                    needs.wait = true;
                    out.push(line(&format!(
                        "let read = || {io}.try_read{bits}({offset});"
                    )));
                    out.push(layout::call(I, "t.wait", &["read".into(), want, mask], ";"));
                }
                Access::Skip(why) => skip(&mut out, why, needs),
            }
        }
        StepKind::InvalidRead { loc, expect } => match access(dev, loc, true) {
            Access::Raw { io, bits, offset } => {
                needs.check = true;
                out.push(line(&format!("let got = {io}.try_read{bits}({offset});")));
                out.push(layout::call(
                    I,
                    "t.check",
                    &["got".into(), layout::hex(*expect), "u64::MAX".into()],
                    ";",
                ));
            }
            Access::Reg { .. } => unreachable_access(&mut out, needs),
            Access::Skip(why) => skip(&mut out, why, needs),
        },
        StepKind::ExpectIrq(true) => {
            needs.expect_irq = true;
            out.push(line("self.expect_irq(t);"));
        }
        StepKind::ExpectIrq(false) => {
            needs.expect_no_irq = true;
            out.push(line("self.expect_no_irq(t);"));
        }
        StepKind::ExpectDma {
            start,
            end,
            data: d,
        } => {
            needs.expect_dma = true;
            out.push(line(&format!("let data = {};", data(d, needs))));
            out.push(layout::call(
                I,
                "self.expect_dma",
                &[
                    "t".into(),
                    layout::hex(*start),
                    layout::hex(*end),
                    "data".into(),
                ],
                ";",
            ));
        }
        StepKind::Fill {
            start,
            end,
            data: d,
        } => {
            needs.fill_dma = true;
            out.push(line(&format!("let data = {};", data(d, needs))));
            out.push(layout::call(
                I,
                "self.fill_dma",
                &[
                    "t".into(),
                    layout::hex(*start),
                    layout::hex(*end),
                    "data".into(),
                ],
                ";",
            ));
        }
        StepKind::Repeat { .. }
        | StepKind::ExpectMsi(_)
        | StepKind::ExpectState { .. }
        | StepKind::Advance(_)
        | StepKind::Input { .. }
        | StepKind::ExpectOutput { .. }
        | StepKind::ExpectVmm(_) => skip(
            &mut out,
            "this driver backend does not run language v2 steps yet",
            needs,
        ),
    }
    out.join("\n")
}

fn skip(out: &mut Vec<String>, why: &str, needs: &mut Needs) {
    needs.skip = true;
    out.push(layout::call(I, "t.skip", &[layout::str_lit(why)], ";"));
}

/// Raw accesses are always requested with `raw = true`, so a register access
/// cannot come back; kept total without a panic.
fn unreachable_access(out: &mut Vec<String>, needs: &mut Needs) {
    skip(out, "internal: no raw access", needs);
}

fn write(
    dev: &Device,
    out: &mut Vec<String>,
    loc: &Loc,
    v: &Value,
    invalid: bool,
    needs: &mut Needs,
) {
    let acc = access(dev, loc, invalid);
    if let Access::Skip(why) = acc {
        return skip(out, why, needs);
    }
    // The value to write, and the indentation of the write itself.
    let (value, ind) = if v.plus_dma_addr {
        needs.fits = true;
        needs.dma_plus = true;
        out.push(line(&format!(
            "if let Some(raw) = t.fits(self.dma_plus({})) {{",
            layout::hex(v.constant)
        )));
        ("raw".to_string(), I + 4)
    } else {
        (layout::hex(v.constant), I)
    };
    let pad = " ".repeat(ind);
    match acc {
        Access::Reg {
            io,
            path,
            fallible: false,
        } => {
            out.push(layout::let_from_raw(ind, "v", &path, &value));
            out.push(format!("{pad}{io}.write_reg(v);"));
            out.push(format!("{pad}t.pass();"));
        }
        Access::Reg { io, path, .. } => {
            needs.done = true;
            out.push(layout::let_from_raw(ind, "v", &path, &value));
            out.push(format!("{pad}let done = {io}.try_write_reg(v);"));
            out.push(format!("{pad}t.done(done);"));
        }
        Access::Raw { io, bits, offset } => {
            needs.done = true;
            out.push(format!(
                "{pad}let done = {io}.try_write{bits}({value}, {offset});"
            ));
            out.push(format!("{pad}t.done(done);"));
        }
        Access::Skip(_) => {}
    }
    if v.plus_dma_addr {
        out.push(line("}"));
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
             scenario s {{ {body} }} }}"
        );
        let c = pcidevc_dsl::compile_str("t.pcidev", &text);
        let errors: Vec<String> = c.errors().map(|d| d.message.clone()).collect();
        c.device.unwrap_or_else(|| panic!("{errors:?}"))
    }

    /// The code of the only step, without its `t.step(..)` line.
    fn code(body: &str) -> (String, Needs) {
        let d = dev(body);
        let (views, needs) = scenarios(&d);
        let body = &views[0].body;
        let step = body.split("\n\n").nth(1).expect("one step");
        let rest: Vec<&str> = step.lines().skip(1).map(str::trim).collect();
        (rest.join("\n"), needs)
    }

    #[test]
    fn register_steps_use_the_register_types() {
        let (c, n) = code("write R = 5;");
        assert_eq!(
            c,
            "let v = bar0::R::from_raw(0x5);\nio0.write_reg(v);\nt.pass();"
        );
        assert!(n.steps && !n.fail, "{n:?}");
        let (c, n) = code("expect R == 1 mask 0xf;");
        assert_eq!(
            c,
            "let got = io0.read(bar0::R);\nt.check_reg(Ok(got), 0x1, 0xf);"
        );
        assert!(n.check_reg && n.check && n.fail && n.register_trait());
        let (c, n) = code("wait Q == 2;");
        assert_eq!(
            c,
            "let read = || io0.try_read(bar0::Q);\nt.wait_reg(read, 0x2, u64::MAX);"
        );
        assert!(n.wait && n.poll());
        let (c, _) = code("read Q;");
        assert_eq!(c, "let got = io0.try_read(bar0::Q);\nt.done(got);");
        let (c, _) = code("write P = 3;");
        assert_eq!(
            c,
            "let v = bar2::P::from_raw(0x3);\nio2.write_reg(v);\nt.pass();"
        );
    }

    #[test]
    fn raw_and_invalid_steps_use_run_time_checked_accessors() {
        let (c, _) = code("expect bar 2 @ 0x2 : u16 == 7;");
        assert_eq!(
            c,
            "let got = io2.try_read16(0x2);\nt.check(got, 0x7, u64::MAX);"
        );
        let (c, n) = code("invalid write bar 2 @ 0x0 : u8 = 1;");
        assert_eq!(c, "let done = io2.try_write8(0x1, 0x0);\nt.done(done);");
        assert!(n.done && n.fail);
        let (c, _) = code("invalid read bar 2 @ 0x1 : u8;");
        assert_eq!(
            c,
            "let got = io2.try_read8(0x1);\nt.check(got, 0x0, u64::MAX);"
        );
        let (c, n) = code("invalid read bar 0 @ 0x1 : u16;");
        assert_eq!(
            c,
            "t.skip(\"Linux I/O accessors cannot issue misaligned accesses\");"
        );
        assert!(n.skip);
    }

    #[test]
    fn dma_values_go_through_fits() {
        let (c, n) = code("write R = dma.addr + 0x10;");
        assert_eq!(
            c,
            "if let Some(raw) = t.fits(self.dma_plus(0x10)) {\nlet v = bar0::R::from_raw(raw);\nio0.write_reg(v);\nt.pass();\n}"
        );
        assert!(n.fits && n.dma_plus && n.fail);
        let (c, n) = code("fill dma[0 .. 8] = word(0x1122);");
        assert_eq!(
            c,
            "let data = DmaContents::Word(0x1122);\nself.fill_dma(t, 0x0, 0x8, data);"
        );
        assert!(n.fill_dma && n.word && !n.random && n.dma_data());
        let (c, n) = code("expect dma[8 .. 16] == random(3);");
        assert_eq!(
            c,
            "let data = DmaContents::Random(0x3);\nself.expect_dma(t, 0x8, 0x10, data);"
        );
        assert!(n.expect_dma && n.random);
    }

    #[test]
    fn interrupt_steps_call_the_helpers() {
        let (c, n) = code("expect irq;");
        assert_eq!(c, "self.expect_irq(t);");
        assert!(n.expect_irq && n.irqs() && n.poll() && !n.expect_no_irq);
        let (c, n) = code("expect no irq;");
        assert_eq!(c, "self.expect_no_irq(t);");
        assert!(n.expect_no_irq && !n.poll());
    }

    #[test]
    fn each_step_starts_with_its_log_call() {
        let d = dev("write R = 1; expect irq;");
        let (views, _) = scenarios(&d);
        let lines: Vec<usize> = d.scenarios[0].steps.iter().map(|s| s.line).collect();
        assert!(
            views[0]
                .body
                .contains(&format!("t.step({}, \"write R = 1;\");", lines[0]))
        );
        assert!(
            views[0]
                .body
                .contains(&format!("t.step({}, \"expect irq;\");", lines[1]))
        );
        assert!(
            views[0]
                .body
                .starts_with("        t.scenario(\"s\");\n        let io0 = &self.bars.bar0;\n")
        );
        assert_eq!(views[0].method, "scenario_s");
    }
}
