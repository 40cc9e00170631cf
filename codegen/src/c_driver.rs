//! The C driver backend: a Linux PCI driver skeleton in C, the same driver
//! as the Rust one (`driver.rs`), for the kernel developers who write C.
//!
//! [`render`] writes, relative to the device's output directory:
//! - `driver_c/<name>.c`: the driver (template `templates/c/driver.c`;
//!   the interrupt handler's body and the accessors in
//!   `templates/c/items.c`, each scenario step in `templates/c/step.c`,
//!   rendered one statement a line and wrapped to 100 columns by
//!   [`wrap_calls`]);
//! - `driver_c/pcidevc_selftest.h`: self-test support, the same file for
//!   every device (tally and log lines, polling, interrupt counting, the
//!   xorshift32/pattern/word DMA data), emitted verbatim;
//! - `driver_c/Kbuild`, `driver_c/Makefile` (`make [KDIR=...] [W=1]`).
//!
//! The driver includes `../<name>.h` (the C header backend) for every
//! offset, size and id, so the register map has one C source of truth.
//!
//! What it does, as the Rust driver: match `vendor:device` (any
//! subsystem); enable the device; bus mastering when the device does DMA
//! or declares MSI (an MSI is a memory write); the DMA mask and a coherent
//! buffer when the spec declares `dma_buffer`; map every BAR with its kind
//! and size checked (`pcim_iomap_region`; the generic `ioread*`/`iowrite*`
//! accessors serve I/O and memory BARs alike, 8-byte accesses use `readq`/
//! `writeq` on memory BARs); allocate MSI vectors (as many as declared) or
//! INTx and request every vector shared; the handler reads `status` (0:
//! `IRQ_NONE`), writes `ack` and counts; the probe self-test runs every
//! scenario step and logs exactly the Rust driver's lines
//! (`<name>: selftest: <scenario>: step N (line L): <text>: ok`, then
//! `<name>: selftest: P/N passed`). Everything is device-managed (`pcim_*`,
//! `devm_*`, `dmam_*`), so remove only logs and is where the author
//! quiesces the device.
//!
//! A failing step does not fail the probe (as in the Rust driver).

mod steps;

use crate::OutputFile;
use crate::c_header::{self, Names};
use askama::Template;
use pcidev_core::ops::{eval_binary, eval_unary};
use pcidevc_dsl::ir::{self, BinOp, Device, Expr, UnOp};
use std::path::PathBuf;

/// The support header, emitted as is.
pub const SELFTEST_H: &str = include_str!("../templates/c/pcidevc_selftest.h");

/// checkpatch's line limit.
pub const MAX_COLUMNS: usize = 100;

#[derive(Template)]
#[template(path = "c/driver.c", escape = "none")]
struct DriverC {
    name: String,
    upper: String,
    description: String,
    intro: Vec<String>,
    bars: Vec<BarC>,
    map_bar_pad: String,
    dma: bool,
    set_master: Option<&'static str>,
    irq: Option<IrqC>,
    scenarios: Vec<steps::ScenarioC>,
}

struct BarC {
    index: u8,
    what: String,
    kind: &'static str,
    /// The size macro.
    size: String,
}

struct IrqC {
    comment: String,
    vectors: u16,
    types: String,
    /// One counter per vector (MSI-X, or several MSI vectors declared):
    /// each vector's handler gets its own `struct NAME_vector`.
    multi: bool,
    /// Handler lines after the first declaration, indented (empty: blank).
    handler: Vec<String>,
}

#[derive(Template)]
#[template(path = "c/Kbuild", escape = "none")]
struct Kbuild<'a> {
    name: &'a str,
    source: &'a str,
    generator: &'a str,
}

#[derive(Template)]
#[template(path = "c/Makefile", escape = "none")]
struct Makefile<'a> {
    name: &'a str,
    source: &'a str,
    generator: &'a str,
}

/// The driver's files.
pub fn render(dev: &Device) -> Vec<OutputFile> {
    render_names(dev, &c_header::groups(dev).1)
}

/// The driver's files, naming the header's macros by `names` (from
/// [`c_header::groups`], computed once for the header and the driver).
pub fn render_names(dev: &Device, names: &c_header::Names) -> Vec<OutputFile> {
    let source = crate::summary::file_name(&dev.source_name).to_string();
    let generator = crate::generator(dev);
    let file = |p: &str, contents: String| OutputFile {
        path: PathBuf::from(format!("driver_c/{p}")),
        contents,
    };
    vec![
        file(
            &format!("{}.c", dev.name),
            crate::finish_text(driver(dev, names, &source).render()),
        ),
        file(
            "pcidevc_selftest.h",
            crate::support_file(dev, SELFTEST_H, "/*", " */"),
        ),
        file(
            "Kbuild",
            crate::finish_text(
                Kbuild {
                    name: &dev.name,
                    source: &source,
                    generator: &generator,
                }
                .render(),
            ),
        ),
        file(
            "Makefile",
            crate::finish_text(
                Makefile {
                    name: &dev.name,
                    source: &source,
                    generator: &generator,
                }
                .render(),
            ),
        ),
    ]
}

fn driver(dev: &Device, names: &Names, source: &str) -> DriverC {
    let upper = c_header::prefix(dev);
    let generator = crate::generator(dev);
    let does_dma = dev.does_dma();
    let msi = dev.interrupt.msi_vectors.is_some() || dev.interrupt.msix.is_some();
    let steps: usize = dev.scenarios.iter().map(|s| s.steps.len()).sum();
    let mut intro = vec![format!(
        "C PCI driver skeleton for {} (PCI {:04x}:{:04x}){}.",
        dev.name,
        dev.vendor_id,
        dev.device_id,
        if dev.description.is_empty() {
            String::new()
        } else {
            format!(": {}", comment_safe(&dev.description))
        }
    )];
    intro.push(String::new());
    intro.extend(c_header::wrap(
        &format!(
            "Generated by {generator} from {source}. Do not edit: change the spec and regenerate. \
             Your own code goes where a comment says \"pcidevc: extension point\". Probe enables \
             the device, maps its BARs{}{} and runs the spec's {} scenario(s) ({steps} steps) as a \
             self-test: one log line per step, then \"{}: selftest: P/N passed\". Load with \
             selftest=0 to skip it.",
            if dev.interrupt.any() {
                ", requests its interrupt"
            } else {
                ""
            },
            if dev.dma_buffer.is_some() {
                ", allocates a coherent DMA buffer"
            } else {
                ""
            },
            dev.scenarios.len(),
            dev.name
        ),
        74,
    ));
    let head = format!("static void __iomem *{}_map_bar(", dev.name);
    DriverC {
        name: dev.name.clone(),
        upper,
        description: c_string(if dev.description.is_empty() {
            &dev.name
        } else {
            &dev.description
        }),
        intro,
        bars: dev
            .bars
            .iter()
            .map(|b| BarC {
                index: b.index,
                what: crate::doc::model::bar_what(b),
                kind: if b.kind.is_io() {
                    "IORESOURCE_IO"
                } else {
                    "IORESOURCE_MEM"
                },
                size: names.bar_size.get(&b.index).cloned().unwrap_or_default(),
            })
            .collect(),
        map_bar_pad: pad(head.len()),
        dma: dev.dma_buffer.is_some(),
        set_master: match (does_dma, msi) {
            (true, true) => Some("The device does DMA, and an MSI is a DMA write too."),
            (true, false) => Some("The device does DMA."),
            (false, true) => {
                Some("An MSI is a memory write by the device: it needs bus mastering.")
            }
            (false, false) => None,
        },
        irq: irq(dev, names),
        scenarios: steps::scenarios(dev, names),
    }
}

fn irq(dev: &Device, names: &Names) -> Option<IrqC> {
    let int = &dev.interrupt;
    if !int.any() {
        return None;
    }
    let (comment, types) = match (int.msi_vectors, int.pin) {
        (Some(n), Some(p)) => (
            format!(
                "MSI ({n} vector(s) declared) if the platform has it, else INTx (pin {}, shared).",
                p.letter()
            ),
            "PCI_IRQ_MSI | PCI_IRQ_INTX",
        ),
        (Some(n), None) => (
            format!("MSI ({n} vector(s) declared; the spec has no INTx pin)."),
            "PCI_IRQ_MSI",
        ),
        (None, p) => (
            format!(
                "INTx (pin {}), shared with other devices.",
                p.map_or('?', |p| p.letter())
            ),
            "PCI_IRQ_INTX",
        ),
    };
    let multi = crate::driver::irq_multi_vector(dev);
    let (comment, types) = match int.msix {
        Some(m) => (
            format!(
                "MSI-X ({} vectors declared) preferred; else {comment}",
                m.vectors
            ),
            format!("PCI_IRQ_MSIX | {types}"),
        ),
        None => (comment, types.to_string()),
    };
    let lines = wrap_calls(&crate::finish_text(
        HandlerTemplate {
            h: &handler(dev, names, multi),
        }
        .render(),
    ));
    Some(IrqC {
        comment,
        vectors: int.max_vectors(),
        types,
        multi,
        handler: lines,
    })
}

/// A BAR location: the address expression (`d->barN + OFFSET`), the
/// access width in bytes, and whether the BAR is port I/O. The accessors
/// for it are in `templates/c/items.c` (`read`, `write`).
#[derive(Debug)]
pub(crate) struct At {
    pub(crate) addr: String,
    pub(crate) width: u8,
    pub(crate) io: bool,
}

/// The interrupt handler's body before the count, as data for the
/// `handler` macro of `templates/c/items.c` (the protocol of
/// `ir::Interrupt::handler_reads`).
struct HandlerC {
    /// The `rN` locals, comma-separated (none: no declaration).
    decl: Option<String>,
    /// Registers read before the `mine` test.
    first: Vec<ReadC>,
    mine: Option<MineC>,
    /// Several vectors (a message-signalled one is never shared).
    multi: bool,
    /// Registers read once the interrupt is ours, for the acks.
    then: Vec<ReadC>,
    acks: Vec<AckC>,
}

/// `rN = read(REG);`.
struct ReadC {
    var: String,
    name: String,
    /// Why it is read first (only for `first`).
    why: &'static str,
    at: At,
    /// Not used by the test or the acks: `(void)rN;`.
    unused: bool,
}

struct MineC {
    /// The test in the spec's words (comment-safe).
    prose: String,
    /// The test as a C expression over the `rN` locals.
    test: String,
}

struct AckC {
    /// The ack in the spec's words (comment-safe).
    text: String,
    /// Its `when` condition, if any, as a C expression.
    when: Option<String>,
    at: At,
    value: String,
}

#[derive(Template)]
#[template(
    source = "{%- import \"c/items.c\" as items -%}{% call items::handler(h) %}{% endcall %}",
    ext = "c",
    escape = "none"
)]
struct HandlerTemplate<'a> {
    h: &'a HandlerC,
}

fn handler(dev: &Device, names: &Names, multi: bool) -> HandlerC {
    let int = &dev.interrupt;
    let (first, then) = int.handler_reads();
    // Used as the C expressions below render them (folding may drop some).
    let mut texts: Vec<String> = int.mine.iter().map(|m| c_expr_in(Some(dev), m)).collect();
    for a in &int.acks {
        texts.push(c_expr_in(Some(dev), &a.value));
        texts.extend(a.when.as_ref().map(|w| c_expr_in(Some(dev), w)));
    }
    let used = crate::driver::irq::mentioned(dev, int, &texts);
    let var = |r: &ir::RegId| crate::driver::ack::reg_var(dev, *r);
    let all: Vec<String> = first.iter().chain(&then).map(var).collect();
    let read = |r: &ir::RegId, why: &'static str| ReadC {
        var: var(r),
        name: dev.register(*r).name.clone(),
        why,
        at: reg_at(dev, names, *r),
        unused: !used.contains(r),
    };
    HandlerC {
        decl: (!all.is_empty()).then(|| all.join(", ")),
        first: first
            .iter()
            .map(|r| {
                read(
                    r,
                    if Some(*r) == int.status {
                        "the spec's `status`, read first"
                    } else {
                        "read once, for the `mine` test"
                    },
                )
            })
            .collect(),
        mine: int.mine.as_ref().map(|m| MineC {
            prose: comment_safe(&crate::prose::expr(dev, m)),
            test: c_expr_in(Some(dev), m),
        }),
        multi,
        then: then.iter().map(|r| read(r, "")).collect(),
        acks: int
            .acks
            .iter()
            .map(|a| AckC {
                text: comment_safe(&crate::summary::ack_text(dev, a)),
                when: a.when.as_ref().map(|w| c_expr_in(Some(dev), w)),
                at: reg_at(dev, names, a.register),
                value: c_expr_in(Some(dev), &a.value),
            })
            .collect(),
    }
}

/// The register's offset: its header macro.
fn reg_offset(dev: &Device, names: &Names, r: ir::RegId) -> String {
    names
        .offset
        .get(&r)
        .cloned()
        .unwrap_or_else(|| format!("{:#x}", dev.register(r).offset))
}

/// A BAR register's address: `d->barN + <OFFSET MACRO>`. (Configuration
/// registers are reached with `pcidevc_cfg_*` instead; the handler's
/// status and ack registers are always BAR registers.)
fn reg_addr(dev: &Device, names: &Names, r: ir::RegId) -> String {
    let reg = dev.register(r);
    let off = reg_offset(dev, names, r);
    format!("d->bar{} + {off}", reg.bar().unwrap_or_default())
}

/// Register `r` as a BAR location.
fn reg_at(dev: &Device, names: &Names, r: ir::RegId) -> At {
    let reg = dev.register(r);
    At {
        addr: reg_addr(dev, names, r),
        width: reg.width,
        io: reg
            .bar()
            .and_then(|b| dev.bar(b))
            .is_some_and(|b| b.kind.is_io()),
    }
}

/// A constant: `0x1337`, `0x100000000ULL`, `U64_MAX`.
pub fn num(v: u64) -> String {
    if v == u64::MAX {
        "U64_MAX".into()
    } else if v > u64::from(u32::MAX) {
        format!("{v:#x}ULL")
    } else {
        format!("{v:#x}")
    }
}

/// An `ack` expression (constants, `value`, operators: the checker allows
/// nothing else) as a C `u64` expression with the IR's semantics: wrapping
/// arithmetic, comparisons and logic give 0 or 1, division by zero gives 0,
/// shifts by 64 or more give 0. Constant parts are folded with the front
/// end's evaluator.
pub fn c_expr(e: &Expr) -> String {
    c_expr_in(None, e)
}

/// [`c_expr`] with the device: registers and fields (in the interrupt
/// handler) are its `rN` locals.
pub fn c_expr_in(dev: Option<&Device>, e: &Expr) -> String {
    let c_expr = |e: &Expr| c_expr_in(dev, e);
    if let Some(v) = fold(e) {
        return num(v);
    }
    match e {
        Expr::Value => "value".into(),
        Expr::Register(r) if dev.is_some() => {
            dev.map_or("0".into(), |d| crate::driver::ack::reg_var(d, *r))
        }
        Expr::Field(r, i) if dev.is_some() => match dev.map(|d| d.register(*r)) {
            Some(reg) if *i < reg.fields.len() => {
                let f = &reg.fields[*i];
                let v = dev.map_or("0".into(), |d| crate::driver::ack::reg_var(d, *r));
                let mask = num(ir::low_mask(f.bits()));
                if f.lo == 0 {
                    format!("({v} & {mask})")
                } else {
                    format!("(({v} >> {}) & {mask})", f.lo)
                }
            }
            _ => "0".into(),
        },
        Expr::Unary(op, x) => {
            let x = c_expr(x);
            match op {
                UnOp::Not => format!("(u64)!({x})"),
                UnOp::Neg => format!("-({x})"),
                UnOp::BitNot => format!("~({x})"),
            }
        }
        Expr::Binary(op, a, b) => {
            let (x, y) = (c_expr(a), c_expr(b));
            match op {
                BinOp::Div => format!("(({y}) ? ({x}) / ({y}) : 0)"),
                BinOp::Rem => format!("(({y}) ? ({x}) % ({y}) : 0)"),
                BinOp::Shl => format!("(({y}) < 64 ? ({x}) << ({y}) : 0)"),
                BinOp::Shr => format!("(({y}) < 64 ? ({x}) >> ({y}) : 0)"),
                op if op.is_boolean() => format!("(u64)(({x}) {} ({y}))", op.symbol()),
                op => format!("(({x}) {} ({y}))", op.symbol()),
            }
        }
        Expr::Cond(c, a, b) => format!("(({}) ? ({}) : ({}))", c_expr(c), c_expr(a), c_expr(b)),
        // Not in an `ack` (the checker rejects them); 0 keeps the C valid.
        _ => "0".into(),
    }
}

fn fold(e: &Expr) -> Option<u64> {
    match e {
        Expr::Const(v) => Some(*v),
        Expr::Unary(op, x) => Some(eval_unary(*op, fold(x)?)),
        Expr::Binary(op, a, b) => Some(eval_binary(*op, fold(a)?, fold(b)?)),
        Expr::Cond(c, a, b) => Some(if fold(c)? != 0 { fold(a)? } else { fold(b)? }),
        _ => None,
    }
}

/// A C string literal's contents (quotes and backslashes escaped, control
/// characters as octal).
pub fn c_string(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\x7f' => o.push_str(&format!("\\{:03o}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// Text safe inside a `/* */` comment.
pub fn comment_safe(s: &str) -> String {
    s.replace("*/", "* /").replace("/*", "/ *")
}

/// Tabs and spaces reaching column `col` (tabs of 8).
fn pad(col: usize) -> String {
    format!("{}{}", "\t".repeat(col / 8), " ".repeat(col % 8))
}

/// Display width of a line (tabs to the next multiple of 8).
pub fn columns(line: &str) -> usize {
    line.chars()
        .fold(0, |c, ch| if ch == '\t' { (c / 8 + 1) * 8 } else { c + 1 })
}

/// `func(args);` at `indent` tabs: on one line when it fits in
/// [`MAX_COLUMNS`], else arguments packed on lines aligned with the
/// opening parenthesis (kernel style). Lines carry no indent of their own
/// beyond continuation alignment relative to `indent`.
pub fn call(indent: usize, func: &str, args: &[String], end: &str) -> Vec<String> {
    let one = format!("{func}({}){end}", args.join(", "));
    if columns(&format!("{}{one}", "\t".repeat(indent))) <= MAX_COLUMNS {
        return vec![one];
    }
    let open = indent * 8 + func.len() + 1;
    let mut lines: Vec<String> = Vec::new();
    let mut cur = format!("{func}(");
    for (i, a) in args.iter().enumerate() {
        let piece = if i + 1 == args.len() {
            format!("{a}){end}")
        } else {
            format!("{a},")
        };
        let first = cur.ends_with('(');
        let candidate = if first {
            format!("{cur}{piece}")
        } else {
            format!("{cur} {piece}")
        };
        let shown = if lines.is_empty() {
            format!("{}{candidate}", "\t".repeat(indent))
        } else {
            format!("{}{candidate}", pad(open))
        };
        if first || columns(&shown) <= MAX_COLUMNS {
            cur = candidate;
        } else {
            lines.push(cur);
            cur = piece;
        }
    }
    lines.push(cur);
    // Continuation lines are aligned with the parenthesis, written after
    // the `indent` tabs the caller (or template) puts before every line.
    let cont = pad(open - indent * 8);
    let mut out = vec![lines[0].clone()];
    out.extend(lines[1..].iter().map(|l| format!("{cont}{l}")));
    out
}

/// `text` (rendered C) as lines, a line wider than [`MAX_COLUMNS`] that
/// holds a call wrapped at that call's arguments ([`call`]): the first call
/// on the line (`f(` after a name; `if (f(..)) {` wraps `f`'s arguments),
/// arguments split at its top-level commas outside string literals.
/// Comments and lines without a call are left as they are; leading blank
/// lines (a template's first newline) are dropped.
pub fn wrap_calls(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.trim_start_matches('\n').lines() {
        match split_call(line) {
            Some((indent, func, args, end)) if columns(line) > MAX_COLUMNS => {
                let tabs = "\t".repeat(indent);
                out.extend(
                    call(indent, func, &args, end)
                        .into_iter()
                        .map(|l| format!("{tabs}{l}")),
                );
            }
            _ => out.push(line.to_string()),
        }
    }
    out
}

/// A line as (leading tabs, text up to the call's `(`, its arguments, what
/// follows its `)`), or `None` for a comment or a line without a call.
fn split_call(line: &str) -> Option<(usize, &str, Vec<String>, &str)> {
    let body = line.trim_start_matches('\t');
    let indent = line.len() - body.len();
    if body.starts_with("/*") || body.starts_with('*') {
        return None;
    }
    let bytes = body.as_bytes();
    let open = (1..bytes.len()).find(|&i| {
        bytes[i] == b'(' && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_')
    })?;
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    let mut args = Vec::new();
    let mut start = open + 1;
    for (i, c) in body.char_indices().skip_while(|&(i, _)| i <= open) {
        if quoted {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            '(' => depth += 1,
            ')' if depth == 0 => {
                args.push(body[start..i].trim().to_string());
                return Some((indent, &body[..open], args, &body[i + 1..]));
            }
            ')' => depth -= 1,
            ',' if depth == 0 => {
                args.push(body[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ack_expressions_keep_the_ir_semantics() {
        let v = || Box::new(Expr::Value);
        let c = |x| Box::new(Expr::Const(x));
        assert_eq!(c_expr(&Expr::Const(0)), "0x0");
        assert_eq!(c_expr(&Expr::Value), "value");
        assert_eq!(c_expr(&Expr::Unary(UnOp::BitNot, v())), "~(value)");
        assert_eq!(
            c_expr(&Expr::Binary(BinOp::Div, c(8), v())),
            "((value) ? (0x8) / (value) : 0)"
        );
        assert_eq!(
            c_expr(&Expr::Binary(BinOp::Eq, v(), c(1))),
            "(u64)((value) == (0x1))"
        );
        assert_eq!(
            c_expr(&Expr::Binary(BinOp::Shl, c(1), c(70))),
            "0x0",
            "folded with the IR's shift rule"
        );
    }

    #[test]
    fn long_calls_wrap_at_the_parenthesis() {
        let args = vec![
            "t".to_string(),
            "x".repeat(70),
            "0x1".into(),
            "U64_MAX".into(),
        ];
        let lines = call(1, "pcidevc_check", &args, ";");
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0], format!("pcidevc_check(t, {},", "x".repeat(70)));
        // Column 8 + 14: one tab and six spaces after the template's tab.
        assert_eq!(lines[1], "\t      0x1, U64_MAX);");
        assert!(call(1, "f", &["a".into()], ";") == ["f(a);"]);
        assert_eq!(c_string("a\"b\\c\n"), "a\\\"b\\\\c\\n");
        assert_eq!(columns("\tab"), 10);
    }

    #[test]
    fn long_lines_wrap_at_their_calls_arguments() {
        let long = format!("\tpcidevc_check(t, {}, 0x1, U64_MAX);", "x".repeat(70));
        let args = vec!["t".into(), "x".repeat(70), "0x1".into(), "U64_MAX".into()];
        let want: Vec<String> = call(1, "pcidevc_check", &args, ";")
            .into_iter()
            .map(|l| format!("\t{l}"))
            .collect();
        assert_eq!(wrap_calls(&long), want);
        // Commas in a string literal do not split; `if (f(..)) {` wraps `f`.
        let text = format!("\t\tpcidevc_step(t, 1, \"a, b\\\", {}\");", "y".repeat(90));
        let lines = wrap_calls(&text);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[1].trim_start().starts_with("\"a, b"), "{lines:?}");
        let fits = format!(
            "\tif (pcidevc_fits(t, d->dma_addr + {}, 32)) {{",
            "9".repeat(80)
        );
        let want: Vec<String> = call(
            1,
            "if (pcidevc_fits",
            &[
                "t".into(),
                format!("d->dma_addr + {}", "9".repeat(80)),
                "32".into(),
            ],
            ") {",
        )
        .into_iter()
        .map(|l| format!("\t{l}"))
        .collect();
        assert_eq!(wrap_calls(&fits), want);
        // Short lines and comments stay as they are.
        let short = "\tiowrite8(0x1, d->bar0 + 0x0);\n\n\t/* a, b */";
        assert_eq!(
            wrap_calls(short),
            ["\tiowrite8(0x1, d->bar0 + 0x0);", "", "\t/* a, b */"]
        );
    }
}
