//! The C driver backend: a Linux PCI driver skeleton in C, the same driver
//! as the Rust one (`driver.rs`), for the kernel developers who write C.
//!
//! [`render`] writes, relative to the device's output directory:
//! - `driver_c/<name>.c`: the driver (template `templates/c/driver.c`);
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
    let source = crate::summary::file_name(&dev.source_name).to_string();
    let generator = crate::generator(dev);
    let (_, names) = c_header::groups(dev);
    let file = |p: &str, contents: String| OutputFile {
        path: PathBuf::from(format!("driver_c/{p}")),
        contents,
    };
    vec![
        file(
            &format!("{}.c", dev.name),
            crate::finish_text(driver(dev, &names, &source).render()),
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
    let mut lines = handler(dev, names);
    if multi {
        // A message-signalled vector is never shared: when the `mine` test
        // says "not ours" it is still ours (acks are skipped, as in the Rust
        // driver).
        if let Some(i) = lines
            .iter()
            .position(|l| l == "\treturn IRQ_NONE;")
            .filter(|&i| i > 0)
        {
            let test = lines[i - 1].clone();
            lines.splice(
                i - 1..=i,
                [
                    format!("{test} {{"),
                    "\tif (!v->exclusive)".to_string(),
                    "\t\treturn IRQ_NONE;".to_string(),
                    "\t/* A message-signalled vector is ours even when the test says otherwise. */"
                        .to_string(),
                    "} else {".to_string(),
                ],
            );
            let end = lines.len();
            for l in &mut lines[i + 4..end] {
                if !l.is_empty() {
                    *l = format!("\t{l}");
                }
            }
            lines.push("}".to_string());
        }
    }
    Some(IrqC {
        comment,
        vectors: int.max_vectors(),
        types,
        multi,
        handler: lines
            .into_iter()
            .map(|l| if l.is_empty() { l } else { format!("\t{l}") })
            .collect(),
    })
}

/// The handler's body before the count (the protocol of
/// `ir::Interrupt::handler_reads`): read the registers the `mine` test
/// needs into `rN` locals, `IRQ_NONE` when it is 0, read the registers
/// only the acks need, write each ack whose `when` holds.
fn handler(dev: &Device, names: &Names) -> Vec<String> {
    let int = &dev.interrupt;
    let mut out = Vec::new();
    let (first, then) = int.handler_reads();
    let used = crate::driver::irq::used_registers(int);
    let var = |r: &ir::RegId| crate::driver::ack::reg_var(dev, *r);
    let all: Vec<ir::RegId> = first.iter().chain(&then).copied().collect();
    if !all.is_empty() {
        out.push(format!(
            "u64 {};",
            all.iter().map(var).collect::<Vec<_>>().join(", ")
        ));
        out.push(String::new());
    }
    for r in &first {
        let why = if Some(*r) == int.status {
            "the spec's `status`, read first"
        } else {
            "read once, for the `mine` test"
        };
        out.push(format!(
            "/* `{}`: `{}`, {why}. */",
            var(r),
            dev.register(*r).name
        ));
        out.push(format!("{} = {};", var(r), read_expr(dev, names, *r)));
        if !used.contains(r) {
            out.push(format!("(void){};", var(r)));
        }
    }
    match &int.mine {
        Some(m) => {
            out.push(format!(
                "/* The spec's `mine {}`: otherwise another device's interrupt. */",
                comment_safe(&crate::prose::expr(dev, m))
            ));
            out.push(format!("if (!({}))", c_expr_in(Some(dev), m)));
            out.push("\treturn IRQ_NONE;".into());
        }
        None => out
            .push("/* The spec gives no `status`/`mine` test: every interrupt is ours. */".into()),
    }
    for r in &then {
        out.push(format!(
            "/* `{}`: `{}`, read once (the interrupt is ours), for the acks. */",
            var(r),
            dev.register(*r).name
        ));
        out.push(format!("{} = {};", var(r), read_expr(dev, names, *r)));
    }
    for a in &int.acks {
        out.push(format!(
            "/* The spec's `ack {}`. */",
            comment_safe(&crate::summary::ack_text(dev, a))
        ));
        let value = c_expr_in(Some(dev), &a.value);
        match &a.when {
            Some(w) => {
                out.push(format!("if ({})", c_expr_in(Some(dev), w)));
                let mut lines = write_reg(dev, names, 2, a.register, &value);
                if let Some(l) = lines.first_mut() {
                    l.insert(0, '\t');
                }
                out.extend(lines);
            }
            None => out.extend(write_reg(dev, names, 1, a.register, &value)),
        }
    }
    if int.acks.is_empty() && int.mine.is_some() {
        out.push(
            "/* The spec declares no `ack`: the device stops interrupting by itself. */".into(),
        );
    }
    out
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

/// A read of register `r` as a C expression.
fn read_expr(dev: &Device, names: &Names, r: ir::RegId) -> String {
    let reg = dev.register(r);
    let io = reg
        .bar()
        .and_then(|b| dev.bar(b))
        .is_some_and(|b| b.kind.is_io());
    read_at(&reg_addr(dev, names, r), reg.width, io)
}

/// A write of `value` to register `r`, at `indent` tabs.
fn write_reg(dev: &Device, names: &Names, indent: usize, r: ir::RegId, value: &str) -> Vec<String> {
    let reg = dev.register(r);
    let io = reg
        .bar()
        .and_then(|b| dev.bar(b))
        .is_some_and(|b| b.kind.is_io());
    write_lines(indent, &reg_addr(dev, names, r), reg.width, io, value)
}

/// `ioread32(addr)`; 8 bytes: `readq` on memory, two 4-byte reads on I/O
/// (port I/O has no 8-byte accesses).
pub fn read_at(addr: &str, width: u8, io: bool) -> String {
    match (width, io) {
        (1, _) => format!("ioread8({addr})"),
        (2, _) => format!("ioread16({addr})"),
        (4, _) => format!("ioread32({addr})"),
        (_, false) => format!("readq({addr})"),
        (_, true) => format!("ioread32({addr}) | (u64)ioread32({addr} + 4) << 32"),
    }
}

/// The statement(s) writing `value` at `addr`, laid out at `indent` tabs;
/// see [`read_at`].
pub fn write_lines(indent: usize, addr: &str, width: u8, io: bool, value: &str) -> Vec<String> {
    let (f, v) = match (width, io) {
        (1, _) => ("iowrite8", value.to_string()),
        (2, _) => ("iowrite16", value.to_string()),
        (4, _) => ("iowrite32", value.to_string()),
        (_, false) => ("writeq", value.to_string()),
        (_, true) => {
            let mut out = call(
                indent,
                "iowrite32",
                &[format!("lower_32_bits({value})"), addr.to_string()],
                ";",
            );
            out.extend(call(
                indent,
                "iowrite32",
                &[format!("upper_32_bits({value})"), format!("{addr} + 4")],
                ";",
            ));
            return out;
        }
    };
    call(indent, f, &[v, addr.to_string()], ";")
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
}
