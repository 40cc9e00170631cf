//! The Rust-for-Linux backend: a Linux 7.3 Rust PCI driver skeleton per spec.
//!
//! [`render`] writes, relative to the device's output directory:
//! - `driver/<name>.rs`: the driver (template `templates/driver/driver.rs`);
//! - `driver/Kbuild`: `obj-m += <name>.o`;
//! - `driver/Makefile`: `make [KDIR=...] [CLIPPY=1]` builds the module
//!   out of tree (`make -C $(KDIR) M=$(CURDIR) modules`).
//!
//! What the driver holds, and what of the IR each part derives from:
//! - the device table: `vendor_id:device_id` (subsystem ids match anything),
//!   through a documented `pci_device_id()` helper, because 7.3's
//!   `pci::Vendor` cannot name an arbitrary vendor;
//! - per BAR: its size, a type (`pci::Bar`, or the port-I/O backend `PortIo`
//!   for I/O BARs, see `driver/regs.rs`), and a module `barN` with one `register!`
//!   block (offsets, widths, fields; fields with named values get an enum);
//! - `Bars`: the mapped BARs, with access helpers derived from the registers'
//!   access kinds and actions (`driver/regs.rs`);
//! - probe: enable (`pci_enable_device` through `PortIo`'s `PciEnable` when
//!   there is an I/O BAR, else `enable_device_mem`), bus mastering when
//!   [`ir::Device::does_dma`] or the spec declares MSI (an MSI is a memory
//!   write by the device: QEMU drops it without bus mastering), the DMA mask `dma_mask_bits` and a coherent
//!   buffer of `dma_buffer` bytes, every BAR mapped with its size checked
//!   (memory BARs are also checked to be memory), the interrupt (`msi` and/or
//!   `pin`: MSI preferred, INTx as fallback, registered `SHARED`);
//! - the interrupt handler: reads `interrupt.status`; 0 means "not ours"
//!   (`IrqReturn::None`); else writes `interrupt.ack` (see `driver/ack.rs`) and counts;
//! - the self-test: every scenario as a method, run at the end of probe
//!   (module parameter `selftest`, default on), see `driver/steps.rs`;
//! - teardown by field order of the driver data: IRQ, vectors, BARs, device
//!   enable, DMA buffer; `unbind` is where the author quiesces the device.
//!
//! **A failing step does not fail the probe.** The self-test logs every step
//! and a verdict line (`<name>: selftest: P/N passed`), which is what test
//! harnesses read; the device stays bound so the author can poke at it. The
//! `start()` extension point is where a real driver decides to fail.
//!
//! The output is a pure function of the IR and is already formatted the way
//! the kernel's rustfmt formats it (see `driver/layout.rs`): names up to
//! [`SUPPORTED_NAME_LEN`] characters are covered by the tests.

mod ack;
mod layout;
mod regs;
mod steps;

use crate::OutputFile;
use askama::Template;
use pcidevc_dsl::ir::{self, BarKind, Device};
use std::path::PathBuf;

pub use layout::SUPPORTED_NAME_LEN;
use steps::Needs;

/// The driver's files: `driver/<name>.rs`, `driver/Kbuild`, `driver/Makefile`.
pub fn render(dev: &Device) -> Vec<OutputFile> {
    let source = crate::summary::file_name(&dev.source_name).to_string();
    let driver = driver_rs(dev, &source);
    let kbuild = Kbuild {
        name: &dev.name,
        source: &source,
    };
    let makefile = Makefile {
        name: &dev.name,
        source: &source,
    };
    vec![
        OutputFile {
            path: PathBuf::from(format!("driver/{}.rs", dev.name)),
            contents: finish(driver.render()),
        },
        OutputFile {
            path: PathBuf::from("driver/Kbuild"),
            contents: finish(kbuild.render()),
        },
        OutputFile {
            path: PathBuf::from("driver/Makefile"),
            contents: finish(makefile.render()),
        },
    ]
}

/// A rendered file, ending in exactly one newline. Rendering only formats
/// strings, so it cannot fail; if it ever did, the file says so and does not
/// compile (never a panic).
fn finish(r: askama::Result<String>) -> String {
    match r {
        Ok(mut s) => {
            while s.ends_with("\n\n") {
                s.pop();
            }
            if !s.ends_with('\n') {
                s.push('\n');
            }
            s
        }
        Err(e) => format!("compile_error!(\"pcidevc: rendering failed: {e}\");\n"),
    }
}

#[derive(Template)]
#[template(path = "driver/Kbuild", escape = "none")]
struct Kbuild<'a> {
    name: &'a str,
    source: &'a str,
}

#[derive(Template)]
#[template(path = "driver/Makefile", escape = "none")]
struct Makefile<'a> {
    name: &'a str,
    source: &'a str,
}

/// The driver source's view model. Everything spec-dependent is computed
/// here; the template only places it.
#[derive(Template)]
#[template(path = "driver/driver.rs", escape = "none")]
struct DriverRs {
    source: String,
    name: String,
    name_lit: String,
    camel: String,
    module_doc: String,
    imports: String,
    pio: bool,
    bars: Vec<regs::BarView>,
    helpers: Vec<regs::HelperView>,
    mem_bars: bool,
    dma: Option<DmaView>,
    set_master: bool,
    set_master_why: &'static str,
    irq: Option<IrqView>,
    timing_consts: String,
    needs: Needs,
    scenarios: Vec<steps::ScenarioView>,
    vendor: String,
    device: String,
    description_lit: String,
    data_doc: String,
    /// `let data = Name { ... };` when nothing needs pinning (no IRQ).
    data_init: String,
}

/// The coherent DMA buffer.
#[derive(Debug)]
struct DmaView {
    len: String,
    mask_bits: u8,
}

/// The interrupt: vector types and handler.
#[derive(Debug)]
struct IrqView {
    /// What is allocated, for a comment.
    comment: String,
    /// `let types = ...;`, laid out.
    types: String,
    /// The handler up to (excluding) the count increment.
    handler_body: String,
}

fn driver_rs(dev: &Device, source: &str) -> DriverRs {
    let (bars, helpers) = regs::bars(dev);
    let (scenarios, needs) = steps::scenarios(dev);
    let pio = dev.bars.iter().any(|b| b.kind == BarKind::Io);
    let mem_bars = dev.bars.iter().any(|b| b.kind != BarKind::Io);
    let dma = dev.dma_buffer.map(|len| DmaView {
        len: regs::size_lit(len),
        mask_bits: dev.dma_mask_bits.clamp(1, 64),
    });
    let irq = irq_view(dev);
    let features = Features {
        dma: dma.is_some(),
        irq: irq.is_some(),
        bars: !dev.bars.is_empty(),
        needs,
    };
    let data_doc = format!(
        "/// Driver data of one bound device.\n///\n{}",
        layout::doc_block(
            0,
            "///",
            &format!(
                "Fields are dropped in declaration order, which is the teardown order: {}.",
                teardown_text(dev, &features, pio)
            )
        )
    );
    DriverRs {
        source: source.to_string(),
        name: dev.name.clone(),
        name_lit: layout::str_lit(&dev.name),
        camel: layout::camel(&dev.name),
        module_doc: module_doc(dev, source),
        imports: imports(&features),
        pio,
        bars,
        helpers,
        mem_bars,
        dma,
        // MSI is a memory write by the device: it needs bus mastering too.
        set_master: dev.does_dma() || dev.interrupt.msi_vectors.is_some(),
        set_master_why: match (dev.does_dma(), dev.interrupt.msi_vectors.is_some()) {
            (true, true) => "The device does DMA, and an MSI is a DMA write too.",
            (true, false) => "The device does DMA.",
            _ => "An MSI is a memory write by the device: it needs bus mastering.",
        },
        irq,
        timing_consts: timing_consts(&needs),
        needs,
        scenarios,
        vendor: format!("{:#06x}", dev.vendor_id),
        device: format!("{:#06x}", dev.device_id),
        description_lit: layout::str_lit(if dev.description.is_empty() {
            &dev.name
        } else {
            &dev.description
        }),
        data_doc,
        data_init: data_init(dev, pio),
    }
}

fn module_doc(dev: &Device, source: &str) -> String {
    let mut title = format!(
        "Rust PCI driver skeleton for {} (PCI {:04x}:{:04x})",
        dev.name, dev.vendor_id, dev.device_id
    );
    if !dev.description.is_empty() {
        title.push_str(&format!(": {}", dev.description));
    }
    title.push('.');
    let steps: usize = dev.scenarios.iter().map(|s| s.steps.len()).sum();
    let mut what = vec!["enables the device", "maps its BARs"];
    if dev.interrupt.any() {
        what.push("requests its interrupt");
    }
    if dev.dma_buffer.is_some() {
        what.push("allocates a coherent DMA buffer");
    }
    let what = match what.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{}, {last}", rest.join(", ")),
        _ => what.join(""),
    };
    let body = format!(
        "Generated by pcidevc from `{source}`. Probe {what} and runs the spec's {} scenario(s) \
         ({steps} steps) as a self-test: one log line per step, then `{}: selftest: P/N passed`. \
         Load with `selftest=0` to skip it.",
        dev.scenarios.len(),
        dev.name
    );
    format!(
        "{}\n//!\n{}",
        layout::doc_block(0, "//!", &title),
        layout::doc_block(0, "//!", &body)
    )
}

/// What the imports depend on.
struct Features {
    dma: bool,
    irq: bool,
    bars: bool,
    needs: Needs,
}

/// The `use kernel::{...};` block, in rustfmt's order and the kernel's
/// vertical style (a `//` after the last item of each nested list).
fn imports(f: &Features) -> String {
    let n = &f.needs;
    let mut groups: Vec<(&str, Vec<&str>)> = vec![
        ("bindings", vec![]),
        ("device", vec!["Bound", "Core"]),
        ("pci", vec![]),
        ("prelude::*", vec![]),
    ];
    if f.dma {
        groups.push(("dma", vec!["Coherent", "Device as _", "DmaMask"]));
    }
    if n.fail {
        groups.push(("fmt", vec![]));
    }
    let mut io = Vec::new();
    if f.bars {
        io.push("Io");
    }
    if n.expect_dma {
        io.push("io_read");
    }
    if n.fill_dma {
        io.push("io_write");
    }
    if n.poll() {
        io.push("poll::read_poll_timeout");
    }
    if n.register_trait() {
        io.push("register::Register");
    }
    if !io.is_empty() {
        groups.push(("io", io));
    }
    if f.irq {
        groups.push(("irq", vec!["self", "IrqRequest", "IrqReturn"]));
        groups.push(("sync::atomic", vec!["Atomic", "Relaxed"]));
    }
    let mut time = Vec::new();
    if n.expect_no_irq {
        time.push("delay::fsleep");
    }
    if n.poll() || n.expect_no_irq {
        time.push("Delta");
    }
    if !time.is_empty() {
        groups.push(("time", time));
    }
    groups.sort_by(|a, b| use_cmp(a.0, b.0));
    let mut s = String::from("use kernel::{\n");
    for (head, mut items) in groups {
        items.sort_by(|a, b| use_cmp(a, b));
        match items.as_slice() {
            [] => s.push_str(&format!("    {head},\n")),
            [one] => s.push_str(&format!("    {head}::{one},\n")),
            many => {
                s.push_str(&format!("    {head}::{{\n"));
                for (i, it) in many.iter().enumerate() {
                    let end = if i + 1 == many.len() { ", //" } else { "," };
                    s.push_str(&format!("        {it}{end}\n"));
                }
                s.push_str("    },\n");
            }
        }
    }
    s.push_str("};");
    s
}

/// rustfmt's order of use-list items (2015/2021 style): `self` first, then
/// segment by segment: lower-case names before capitalised ones, then
/// alphabetical; a path sorts after its own prefix.
fn use_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    fn key(seg: &str) -> (u8, String) {
        let seg = seg.split(" as ").next().unwrap_or(seg);
        let class = if seg == "self" {
            0
        } else if seg == "*" {
            3
        } else if seg.starts_with(|c: char| c.is_ascii_uppercase()) {
            2
        } else {
            1
        };
        (class, seg.to_string())
    }
    let (sa, sb): (Vec<&str>, Vec<&str>) = (a.split("::").collect(), b.split("::").collect());
    for (x, y) in sa.iter().zip(sb.iter()) {
        match key(x).cmp(&key(y)) {
            Ordering::Equal => {}
            o => return o,
        }
    }
    sa.len().cmp(&sb.len())
}

/// The self-test's timing constants, as used.
fn timing_consts(n: &Needs) -> String {
    let mut v = Vec::new();
    if n.poll() {
        v.push("/// Poll interval of the self-test's waits.\nconst POLL_SLEEP: Delta = Delta::from_millis(1);");
    }
    if n.wait {
        v.push("/// How long a `wait` step polls: real devices answer asynchronously.\nconst WAIT_TIMEOUT: Delta = Delta::from_secs(2);");
    }
    if n.expect_irq {
        v.push("/// How long `expect irq` waits for the interrupt handler.\nconst IRQ_TIMEOUT: Delta = Delta::from_secs(1);");
    }
    if n.expect_no_irq {
        v.push("/// How long `expect no irq` waits before checking that no interrupt came.\nconst NO_IRQ_DELAY: Delta = Delta::from_millis(20);");
    }
    v.join("\n")
}

/// The driver data as a plain struct literal (no interrupt: nothing is
/// pinned), laid out like rustfmt's `struct_lit_width` (18) decides.
fn data_init(dev: &Device, pio: bool) -> String {
    let mut fields = vec!["pdev"];
    if !dev.bars.is_empty() {
        fields.push("bars");
    }
    if pio {
        fields.push("_enable: enable");
    }
    if dev.dma_buffer.is_some() {
        fields.push("dma");
    }
    let name = format!("{}Data", layout::camel(&dev.name));
    let joined = fields.join(", ");
    let one = format!("            let data = {name} {{ {joined} }};");
    if joined.len() <= 18 && one.len() <= layout::MAX_WIDTH {
        return one;
    }
    let mut s = format!("            let data = {name} {{\n");
    for f in fields {
        s.push_str(&format!("                {f},\n"));
    }
    s.push_str("            };");
    s
}

fn teardown_text(dev: &Device, f: &Features, pio: bool) -> String {
    let mut v = Vec::new();
    if f.irq {
        v.push("free the IRQ (waiting for a running handler)");
        v.push("free the vectors");
    }
    if f.bars {
        v.push("unmap the BARs");
    }
    if pio {
        v.push("disable the device");
    }
    if dev.dma_buffer.is_some() {
        v.push("free the DMA buffer");
    }
    if v.is_empty() {
        "nothing to undo".into()
    } else {
        v.join(", ")
    }
}

fn irq_view(dev: &Device) -> Option<IrqView> {
    let int = &dev.interrupt;
    if !int.any() {
        return None;
    }
    let (comment, types) = match (int.msi_vectors.is_some(), int.pin) {
        (true, Some(p)) => (
            format!("MSI if the platform has it, else INTx (pin {}, shared).", p.letter()),
            "            let types = pci::IrqTypes::default()\n                .with(pci::IrqType::Msi)\n                .with(pci::IrqType::Intx);".to_string(),
        ),
        (true, None) => (
            "MSI (the spec declares no INTx pin).".to_string(),
            "            let types = pci::IrqTypes::default().with(pci::IrqType::Msi);".to_string(),
        ),
        (false, p) => (
            format!(
                "INTx (pin {}), shared with other devices.",
                p.map(|p| p.letter()).unwrap_or('?')
            ),
            "            let types = pci::IrqTypes::default().with(pci::IrqType::Intx);".to_string(),
        ),
    };
    Some(IrqView {
        comment,
        types,
        handler_body: handler_body(dev),
    })
}

/// The handler: read `status`, return `None` on 0, write `ack`.
fn handler_body(dev: &Device) -> String {
    const I: usize = 8;
    let pad = " ".repeat(I);
    let int = &dev.interrupt;
    let mut out = Vec::new();
    let mut ios: Vec<u8> = int
        .status
        .iter()
        .chain(int.ack.iter().map(|(r, _)| r))
        .map(|r| dev.register(*r).bar)
        .filter(|b| dev.bar(*b).is_some())
        .collect();
    ios.sort_unstable();
    ios.dedup();
    let status = int.status.map(|r| dev.register(r));
    match status.and_then(|r| dev.bar(r.bar).map(|b| (r, b))) {
        Some((reg, bar)) => {
            out.push(format!(
                "{pad}// The spec's `status {}`: 0 means another device's interrupt (shared line).",
                reg.name
            ));
            for b in &ios {
                out.push(format!("{pad}let io{b} = &self.bars.bar{b};"));
            }
            let path = format!("bar{}::{}", reg.bar, reg.name);
            let io = format!("io{}", reg.bar);
            if regs::fallible(bar, reg.width) {
                out.push(format!(
                    "{pad}let Ok(status) = {io}.try_read({path}) else {{"
                ));
                out.push(format!("{pad}    return IrqReturn::None;"));
                out.push(format!("{pad}}};"));
            } else {
                out.push(layout::let_stmt(I, "status", &format!("{io}.read({path})")));
            }
            if reg.width == 8 {
                out.push(format!("{pad}let value = status.into_raw();"));
            } else {
                out.push(format!("{pad}let value = u64::from(status.into_raw());"));
            }
            out.push(format!("{pad}if value == 0 {{"));
            out.push(format!("{pad}    return IrqReturn::None;"));
            out.push(format!("{pad}}}"));
        }
        None => {
            // The checker requires a status register; without one the
            // interrupt cannot be told from a shared line's others.
            out.push(format!(
                "{pad}// The spec names no `status` register: every interrupt counts as ours."
            ));
            let uses_value = matches!(
                int.ack.as_ref().and_then(|(_, e)| ack::render(e)),
                Some(ack::Ack::Expr(_))
            );
            let var = if uses_value { "value" } else { "_value" };
            out.push(format!("{pad}let {var} = 0u64;"));
        }
    }
    if let Some((r, e)) = &int.ack {
        let reg = dev.register(*r);
        if let Some(bar) = dev.bar(reg.bar) {
            let path = format!("bar{}::{}", reg.bar, reg.name);
            let io = format!("io{}", reg.bar);
            out.push(format!(
                "{pad}// The spec's `ack {} = {}`.",
                reg.name,
                crate::summary::expr(dev, e)
            ));
            match ack::render(e) {
                Some(ack::Ack::Const(v)) => {
                    let v = v & ir::low_mask(reg.bits());
                    out.push(layout::let_from_raw(I, "ack", &path, &layout::hex(v)));
                }
                Some(ack::Ack::Expr(x)) => {
                    out.push(layout::let_stmt(I, "ack: u64", &x));
                    if reg.width == 8 {
                        out.push(layout::let_from_raw(I, "ack", &path, "ack"));
                    } else {
                        out.push(format!(
                            "{pad}// CAST: the register keeps the low {} bits, as the device does.",
                            reg.bits()
                        ));
                        let narrow = format!("ack as {}", layout::uint(reg.width));
                        out.push(layout::let_from_raw(I, "ack", &path, &narrow));
                    }
                }
                None => {
                    out.push(format!(
                        "{pad}// (not expressible in the driver; acknowledging with 0)"
                    ));
                    out.push(layout::let_from_raw(I, "ack", &path, "0x0"));
                }
            }
            if regs::fallible(bar, reg.width) {
                out.push(format!(
                    "{pad}// In bounds and aligned (pcidevc checked), so this cannot fail."
                ));
                out.push(format!("{pad}let _ = {io}.try_write_reg(ack);"));
            } else {
                out.push(format!("{pad}{io}.write_reg(ack);"));
            }
        }
    } else {
        out.push(format!(
            "{pad}// The spec declares no `ack`: the device stops interrupting by itself."
        ));
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imports_follow_rustfmt_order() {
        let mut v = vec![
            "Io",
            "register::Register",
            "io_read",
            "poll::read_poll_timeout",
            "self",
        ];
        v.sort_by(|a, b| use_cmp(a, b));
        assert_eq!(
            v,
            [
                "self",
                "io_read",
                "poll::read_poll_timeout",
                "register::Register",
                "Io"
            ]
        );
        let mut v = vec!["register::Array", "register", "Region", "IoLoc"];
        v.sort_by(|a, b| use_cmp(a, b));
        assert_eq!(v, ["register", "register::Array", "IoLoc", "Region"]);
    }
}
