//! Scenarios as the C driver's probe self-test: one function per scenario,
//! a few lines per step, with the helpers of `pcidevc_selftest.h`. This
//! file computes each step's data (`StepC`); `templates/c/step.c` holds
//! the code shapes.
//!
//! Every step starts with `pcidevc_step(t, LINE, "TEXT");` and ends by
//! passing, failing or skipping it (the log line):
//!
//! | step | code |
//! |---|---|
//! | `read REG` | `(void)ioread32(ADDR); pcidevc_pass(t);` |
//! | `write REG = V` | `iowrite32(V, ADDR); pcidevc_pass(t);` |
//! | `expect REG == V mask M` | `pcidevc_check(t, ioread32(ADDR), V, M);` (`!=`: `pcidevc_check_ne`) |
//! | `wait REG == V mask M` | `pcidevc_wait(t, ADDR, WIDTH, V, M);` (polls, 2 s) |
//! | `invalid write LOC = V` | the access as written, then `pcidevc_pass(t);` |
//! | `invalid read LOC` | `pcidevc_check(t, ioreadN(ADDR), EXPECT, U64_MAX);` |
//! | `expect irq` / `expect no irq` | `pcidevc_expect_irq(t);` / `pcidevc_expect_no_irq(t);` |
//! | `expect dma[A..B] == D` / `fill dma[A..B] = D` | `pcidevc_expect_dma(...)` / `pcidevc_fill_dma(...)` |
//! | `advance N UNIT` | `pcidevc_advance(t, US);` (sleeps, microseconds rounded up) |
//! | `repeat N { .. }` | `for (int i = 0; i < N; i++) { .. }` around its body (a nested repeat is unrolled in it) |
//!
//! | a judging step (`expect`, `wait`, `invalid read`, `expect irq` / `msi` / `dma`) after a skipped `input` | `pcidevc_skip(t, "after host-only input");` |
//!
//! The last row follows the rule of `driver::steps` (decided there, the
//! same for both drivers): once a scenario skips an `input`, its later
//! steps that judge are skipped, those that only act still run; an `input`
//! in a loop's body taints the whole body.
//!
//! `ADDR` is `d->barN + <OFFSET MACRO>` for a register, `d->barN + 0xOFF`
//! for a raw location. Configuration-space locations use
//! `pcidevc_cfg_read(d->pdev, OFF, WIDTH)`, `pcidevc_cfg_write(t, d->pdev,
//! OFF, WIDTH, V)` (which passes or fails the step) and `pcidevc_cfg_wait`,
//! built on `pci_read_config_*` / `pci_write_config_*`. A value `dma.addr + C` is `d->dma_addr + C`, checked
//! to fit the register first (`pcidevc_fits`). As in the Rust driver,
//! accesses the kernel's accessors cannot issue (misaligned, 8-byte port
//! I/O) and steps only a host can run are skipped, logged and counted as
//! skipped (the verdict adds `, S skipped`).

use super::{At, Names, c_string, num, wrap_calls};
use askama::Template;
use pcidevc_dsl::ir::{self, Data, Device, Loc, StepKind, StepValue};

/// One scenario function.
#[derive(Debug)]
pub struct ScenarioC {
    pub name: String,
    pub description: String,
    /// The body as complete lines (indented; a blank line between steps).
    pub lines: Vec<String>,
}

pub fn scenarios(dev: &Device, names: &Names) -> Vec<ScenarioC> {
    dev.scenarios
        .iter()
        .map(|s| {
            let mut lines = Vec::new();
            let groups = crate::driver::steps::blocks(&s.steps);
            let skips = crate::driver::steps::after_input(&groups);
            for ((repeat, steps), skips) in groups.into_iter().zip(skips) {
                let indent = if repeat.is_some() { 2 } else { 1 };
                if let Some(n) = repeat {
                    lines.push(String::new());
                    lines.push(format!("\tfor (int i = 0; i < {n}; i++) {{"));
                }
                for (k, (st, after_input)) in steps.into_iter().zip(skips).enumerate() {
                    if repeat.is_none() || k > 0 {
                        lines.push(String::new());
                    }
                    lines.extend(step(dev, names, st, after_input, indent));
                }
                if repeat.is_some() {
                    lines.push("\t}".into());
                }
            }
            ScenarioC {
                name: s.name.clone(),
                description: super::comment_safe(&s.description),
                lines,
            }
        })
        .collect()
}

/// How a step reaches its location.
enum Access {
    /// A BAR location.
    At(At),
    /// Configuration space: offset expression, width (1, 2 or 4).
    Config { off: String, width: u8 },
    /// Cannot be issued; the reason.
    Skip(&'static str),
}

fn access(dev: &Device, names: &Names, loc: &Loc, raw: bool) -> Access {
    if loc.space == ir::Space::Config {
        let off = match (dev.register_at(loc), raw) {
            (Some(r), false) => super::reg_offset(dev, names, r),
            _ => format!("{:#x}", loc.offset),
        };
        return Access::Config {
            off,
            width: loc.width,
        };
    }
    let Some(bar) = loc.space.bar().and_then(|b| dev.bar(b)) else {
        return Access::Skip("no such BAR");
    };
    let io = bar.kind.is_io();
    if let (Some(r), false) = (dev.register_at(loc), raw) {
        return Access::At(At {
            addr: super::reg_addr(dev, names, r),
            width: loc.width,
            io,
        });
    }
    if !matches!(loc.width, 1 | 2 | 4 | 8) || !loc.offset.is_multiple_of(loc.width as u64) {
        return Access::Skip("Linux I/O accessors cannot issue misaligned accesses");
    }
    if loc.width == 8 && io {
        return Access::Skip("port I/O has no 8-byte accesses");
    }
    Access::At(At {
        addr: format!("d->bar{} + {:#x}", bar.index, loc.offset),
        width: loc.width,
        io,
    })
}

/// A scenario value as a C expression.
fn value(v: &StepValue) -> String {
    match (v.plus_dma_addr, v.constant) {
        (true, 0) => "d->dma_addr".into(),
        (true, c) => format!("d->dma_addr + {}", num(c)),
        (false, c) => num(c),
    }
}

fn data(d: &Data) -> String {
    match d {
        Data::Random(seed) => format!("pcidevc_random({})", num(u64::from(*seed))),
        Data::Pattern(b) => format!("pcidevc_pattern({})", num(u64::from(*b))),
        Data::Word(w) => format!("pcidevc_word({})", num(*w)),
    }
}

/// One step, as data for `templates/c/step.c`.
#[derive(Template)]
#[template(path = "c/step.c", escape = "none")]
struct StepC {
    /// The tabs every line starts with.
    ind: String,
    line: usize,
    /// The step's text, escaped for a C string literal.
    text: String,
    action: ActionC,
}

/// What a step does after `pcidevc_step(..)`.
enum ActionC {
    Read(At),
    CfgRead {
        off: String,
        width: u8,
    },
    Write {
        at: At,
        value: String,
    },
    /// A write of `dma.addr + C`, if it fits the register (`cast` to its
    /// width).
    WriteFits {
        at: At,
        value: String,
        cast: &'static str,
    },
    CfgWrite {
        off: String,
        width: u8,
        value: String,
    },
    Check {
        ne: bool,
        at: At,
        want: String,
        mask: String,
    },
    CfgCheck {
        ne: bool,
        off: String,
        width: u8,
        want: String,
        mask: String,
    },
    Wait {
        at: At,
        want: String,
        mask: String,
    },
    CfgWait {
        off: String,
        width: u8,
        want: String,
        mask: String,
    },
    ExpectIrq,
    ExpectNoIrq,
    ExpectMsi(u32),
    /// `fill dma` (`fill`) or `expect dma`.
    Dma {
        fill: bool,
        size: String,
        start: String,
        end: String,
        data: String,
    },
    /// Microseconds.
    Advance(u64),
    Skip(&'static str),
}

/// A step's lines, each starting with `indent` tabs, wrapped to 100
/// columns; `after_input`: a judging step skipped because an earlier
/// `input` was (`driver::steps::after_input`).
fn step(
    dev: &Device,
    names: &Names,
    st: &ir::Step,
    after_input: bool,
    indent: usize,
) -> Vec<String> {
    let action = if after_input {
        ActionC::Skip(crate::driver::steps::AFTER_INPUT)
    } else {
        action(dev, names, st)
    };
    let view = StepC {
        ind: "\t".repeat(indent),
        line: st.line,
        text: c_string(&st.text),
        action,
    };
    wrap_calls(&crate::finish_text(view.render()))
}

fn action(dev: &Device, names: &Names, st: &ir::Step) -> ActionC {
    let has_irq = dev.interrupt.any();
    let dma_size = || format!("{}_DMA_BUFFER_SIZE", crate::c_header::prefix(dev));
    match &st.kind {
        StepKind::Read(loc) => match access(dev, names, loc, false) {
            Access::At(at) => ActionC::Read(at),
            Access::Config { off, width } => ActionC::CfgRead { off, width },
            Access::Skip(why) => ActionC::Skip(why),
        },
        StepKind::Write(loc, v) => write(dev, names, loc, v, false),
        StepKind::InvalidWrite(loc, v) => write(dev, names, loc, v, true),
        StepKind::Expect {
            loc,
            value: v,
            mask,
            cmp,
        } => {
            let ne = *cmp == ir::Cmp::Ne;
            let (want, mask) = (value(v), num(*mask));
            match access(dev, names, loc, false) {
                Access::At(at) => ActionC::Check { ne, at, want, mask },
                Access::Config { off, width } => ActionC::CfgCheck {
                    ne,
                    off,
                    width,
                    want,
                    mask,
                },
                Access::Skip(why) => ActionC::Skip(why),
            }
        }
        StepKind::Wait {
            loc,
            value: v,
            mask,
        } => {
            let (want, mask) = (value(v), num(*mask));
            match access(dev, names, loc, false) {
                Access::At(at) => ActionC::Wait { at, want, mask },
                Access::Config { off, width } => ActionC::CfgWait {
                    off,
                    width,
                    want,
                    mask,
                },
                Access::Skip(why) => ActionC::Skip(why),
            }
        }
        StepKind::InvalidRead { loc, expect } => match access(dev, names, loc, true) {
            Access::At(at) => ActionC::Check {
                ne: false,
                at,
                want: num(*expect),
                mask: "U64_MAX".into(),
            },
            // The checker rejects `invalid` on configuration space.
            Access::Config { .. } => ActionC::Skip("configuration accesses are never invalid"),
            Access::Skip(why) => ActionC::Skip(why),
        },
        StepKind::ExpectIrq(_) if !has_irq => ActionC::Skip("the spec declares no interrupt"),
        StepKind::ExpectIrq(true) => ActionC::ExpectIrq,
        StepKind::ExpectIrq(false) => ActionC::ExpectNoIrq,
        StepKind::ExpectDma { .. } | StepKind::Fill { .. } if dev.dma_buffer.is_none() => {
            ActionC::Skip("the spec declares no dma_buffer")
        }
        StepKind::ExpectDma {
            start,
            end,
            data: d,
        } => ActionC::Dma {
            fill: false,
            size: dma_size(),
            start: num(*start),
            end: num(*end),
            data: data(d),
        },
        StepKind::Fill {
            start,
            end,
            data: d,
        } => ActionC::Dma {
            fill: true,
            size: dma_size(),
            start: num(*start),
            end: num(*end),
            data: data(d),
        },
        StepKind::Advance(ns) => ActionC::Advance(crate::driver::steps::advance_us(*ns)),
        StepKind::ExpectMsi(v) if crate::driver::irq_multi_vector(dev) => {
            ActionC::ExpectMsi(u32::from(*v))
        }
        StepKind::ExpectMsi(_) => {
            ActionC::Skip("one vector: the driver counts interrupts, not vectors")
        }
        // Grouped or unrolled by `blocks` before steps are rendered.
        StepKind::Repeat { .. } => ActionC::Skip("internal: a repeat header"),
        StepKind::ExpectState { .. }
        | StepKind::Input { .. }
        | StepKind::ExpectOutput { .. }
        | StepKind::ExpectVmm(_) => ActionC::Skip(crate::driver::steps::HOST_ONLY),
    }
}

/// A write step: to a BAR (a value relative to the DMA buffer checked to
/// fit first), or to configuration space (`pcidevc_cfg_write`, which
/// reports the kernel's error).
fn write(dev: &Device, names: &Names, loc: &Loc, v: &StepValue, invalid: bool) -> ActionC {
    match access(dev, names, loc, invalid) {
        Access::At(at) if v.plus_dma_addr => ActionC::WriteFits {
            cast: match at.width {
                1 => "(u8)",
                2 => "(u16)",
                4 => "(u32)",
                _ => "",
            },
            at,
            value: value(v),
        },
        Access::At(at) => ActionC::Write {
            at,
            value: value(v),
        },
        Access::Config { off, width } => ActionC::CfgWrite {
            off,
            width,
            value: if v.plus_dma_addr {
                format!("(u32)({})", value(v))
            } else {
                value(v)
            },
        },
        Access::Skip(why) => ActionC::Skip(why),
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

    /// The code of the only step, without its `pcidevc_step` line.
    fn code(body: &str) -> String {
        let d = dev(body);
        let (_, names) = crate::c_header::groups(&d);
        let v = scenarios(&d, &names);
        // Lines after the blank line and the `pcidevc_step` line, unindented.
        v[0].lines[2..]
            .iter()
            .map(|l| l.strip_prefix('\t').unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn register_steps_use_the_header_names() {
        assert_eq!(
            code("write R = 5;"),
            "iowrite32(0x5, d->bar0 + T_BAR0_R);\npcidevc_pass(t);"
        );
        assert_eq!(
            code("expect R == 1 mask 0xf;"),
            "pcidevc_check(t, ioread32(d->bar0 + T_BAR0_R), 0x1, 0xf);"
        );
        assert_eq!(
            code("wait Q == 2;"),
            "pcidevc_wait(t, d->bar0 + T_BAR0_Q, 8, 0x2, U64_MAX);"
        );
        assert_eq!(
            code("read Q;"),
            "(void)readq(d->bar0 + T_BAR0_Q);\npcidevc_pass(t);"
        );
        assert_eq!(
            code("write P = 3;"),
            "iowrite16(0x3, d->bar2 + T_BAR2_P);\npcidevc_pass(t);"
        );
    }

    #[test]
    fn raw_invalid_and_unissuable_steps() {
        assert_eq!(
            code("expect bar 2 @ 0x2 : u16 == 7;"),
            "pcidevc_check(t, ioread16(d->bar2 + 0x2), 0x7, U64_MAX);"
        );
        assert_eq!(
            code("invalid write bar 2 @ 0x0 : u8 = 1;"),
            "iowrite8(0x1, d->bar2 + 0x0);\npcidevc_pass(t);"
        );
        assert_eq!(
            code("invalid read bar 0 @ 0x1 : u16;"),
            "pcidevc_skip(t, \"Linux I/O accessors cannot issue misaligned accesses\");"
        );
    }

    #[test]
    fn config_steps_use_the_config_accessors() {
        assert_eq!(
            code("write CFG = 5;"),
            "pcidevc_cfg_write(t, d->pdev, T_CONFIG_CFG, 2, 0x5);"
        );
        assert_eq!(
            code("expect CFG == 5;"),
            "pcidevc_check(t, pcidevc_cfg_read(d->pdev, T_CONFIG_CFG, 2), 0x5, U64_MAX);"
        );
        assert_eq!(
            code("expect config @ 0x62 : u8 == 1;"),
            "pcidevc_check(t, pcidevc_cfg_read(d->pdev, 0x62, 1), 0x1, U64_MAX);"
        );
        assert_eq!(
            code("wait CFG == 0;"),
            "pcidevc_cfg_wait(t, d->pdev, T_CONFIG_CFG, 2, 0x0, U64_MAX);"
        );
    }

    #[test]
    fn dma_addresses_are_checked_to_fit() {
        assert_eq!(
            code("write R = dma.addr + 0x10;"),
            "if (pcidevc_fits(t, d->dma_addr + 0x10, 32)) {\n\tiowrite32((u32)(d->dma_addr + 0x10), d->bar0 + T_BAR0_R);\n\tpcidevc_pass(t);\n}"
        );
        assert_eq!(
            code("expect dma[8 .. 16] == random(3);"),
            "pcidevc_expect_dma(t, d->dma, T_DMA_BUFFER_SIZE, 0x8, 0x10, pcidevc_random(0x3));"
        );
        assert_eq!(code("expect no irq;"), "pcidevc_expect_no_irq(t);");
    }

    #[test]
    fn top_level_repeats_are_loops() {
        let d = dev("repeat 2 { write R = 5; expect R == 5; } expect irq;");
        let (_, names) = crate::c_header::groups(&d);
        let text = scenarios(&d, &names)[0].lines.join("\n");
        let body =
            "\t\tiowrite32(0x5, d->bar0 + T_BAR0_R);\n\t\tpcidevc_pass(t);\n\n\t\tpcidevc_step(";
        assert!(
            text.starts_with("\n\tfor (int i = 0; i < 2; i++) {\n\t\tpcidevc_step(t, "),
            "{text}"
        );
        assert!(text.contains(body), "{text}");
        assert!(text.contains("U64_MAX);\n\t}\n\n\tpcidevc_step("), "{text}");
        assert_eq!(text.matches("iowrite32").count(), 1, "{text}");
    }

    #[test]
    fn judging_steps_after_an_input_are_skipped() {
        let d = dev("input line \"a\"; expect R == 1; write R = 0; expect no irq;");
        let (_, names) = crate::c_header::groups(&d);
        let lines = scenarios(&d, &names).remove(0).lines;
        let code: Vec<&str> = lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.starts_with("pcidevc_step"))
            .collect();
        let host = format!("pcidevc_skip(t, \"{}\");", crate::driver::steps::HOST_ONLY);
        let after = "pcidevc_skip(t, \"after host-only input\");";
        assert_eq!(
            code,
            [
                host.as_str(),
                after,
                "iowrite32(0x0, d->bar0 + T_BAR0_R);",
                "pcidevc_pass(t);",
                after,
            ]
        );
    }
}
