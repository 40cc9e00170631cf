//! The Rust-for-Linux backend: a Linux 7.3 Rust PCI driver skeleton per spec.
//!
//! [`render`] writes, relative to the device's output directory:
//! - `driver/<name>.rs`: the crate root, what is specific to this device
//!   (template `templates/driver/driver.rs`, with the shapes of `bar.rs`,
//!   `step.rs` and `items.rs` next to it);
//! - the shared support modules the device needs, copied verbatim from
//!   `codegen/support/driver/` (never generated): `pci_ext.rs` (always: a
//!   device id for any vendor, mapping a memory BAR after checking it is
//!   one), `pio.rs` (with an I/O BAR: port I/O, which 7.3's `kernel::io`
//!   lacks, and `PciEnable`), `selftest.rs` (with scenario steps: the
//!   self-test's `Tally` and checks, the DMA data generators); the crate
//!   root declares `mod` for each, and rustc finds them beside it;
//! - `driver/Kbuild`: `obj-m += <name>.o`;
//! - `driver/Makefile`: `make [KDIR=...] [CLIPPY=1]` builds the module
//!   out of tree (`make -C $(KDIR) M=$(CURDIR) modules`).
//!
//! What the crate root holds, and what of the IR each part derives from:
//! - the device table: `vendor_id:device_id` (subsystem ids match anything);
//! - per BAR: its size, a type (`pci::Bar`, or `PortIo` for I/O BARs), and a
//!   module `barN` with one `register!` block (offsets, widths, fields;
//!   fields with named values get an enum) and the register types' access
//!   helpers, derived from access kinds and actions (`driver/regs.rs`); a
//!   BAR of more than 256 registers types only those the driver names, the
//!   others are offsets in `barN::offsets` (a `register!` type costs the
//!   kernel build ~1 MB);
//! - probe: enable (`PciEnable` when there is an I/O BAR, else
//!   `enable_device_mem`), bus mastering when [`pcidevc_dsl::ir::Device::does_dma`] or
//!   the spec declares MSI (an MSI is a memory write by the device: QEMU
//!   drops it without bus mastering), the DMA mask `dma_mask_bits` and a
//!   coherent buffer of `dma_buffer` bytes, every BAR mapped with its size
//!   checked (memory BARs are also checked to be memory), the interrupt
//!   (`msi` and/or `pin`: MSI preferred, INTx as fallback, registered
//!   `SHARED`);
//! - the interrupt handler: reads `interrupt.status`; 0 means "not ours"
//!   (`IrqReturn::None`); else writes `interrupt.ack` and counts
//!   (`driver/irq.rs`);
//! - the self-test: every scenario as a method (a long one calls methods of
//!   at most 256 steps each), run at the end of probe (module parameter
//!   `selftest`, default on), see `driver/steps.rs`;
//! - teardown by field order of the driver data: IRQ, vectors, BARs, device
//!   enable, DMA buffer; `unbind` is where the author quiesces the device.
//!
//! **A failing step does not fail the probe.** The self-test logs every step
//! and a verdict line (`<name>: selftest: P/N passed`), which is what test
//! harnesses read; the device stays bound so the author can poke at it. The
//! `start()` extension point is where a real driver decides to fail.
//!
//! The Rust code here computes data (names, literals, which shape); the
//! templates hold the code. The output is a pure function of the IR and is
//! already formatted the way the kernel's rustfmt formats it, for names up
//! to [`SUPPORTED_NAME_LEN`] characters (covered by the tests).

pub(crate) mod ack;
pub(crate) mod irq;
mod plan;

/// Whether the drivers register one handler per vector (see
/// `irq::multi_vector`): the C driver follows the Rust one.
pub(crate) fn irq_multi_vector(dev: &pcidevc_dsl::ir::Device) -> bool {
    irq::multi_vector(dev)
}
mod regs;
pub(crate) mod steps;
mod text;

use crate::OutputFile;
use askama::Template;
use pcidevc_dsl::ir::{BarKind, Device};
use std::path::PathBuf;

use irq::{AckValue, IrqView};
use regs::{BarView, HelperKind};
use steps::{Action, ScenarioView};
use text::Doc;
pub use text::SUPPORTED_NAME_LEN;

/// A support module, copied verbatim into the drivers that need it.
struct Support {
    name: &'static str,
    source: &'static str,
}

const PCI_EXT: Support = Support {
    name: "pci_ext",
    source: include_str!("../support/driver/pci_ext.rs"),
};
const PIO: Support = Support {
    name: "pio",
    source: include_str!("../support/driver/pio.rs"),
};
const SELFTEST: Support = Support {
    name: "selftest",
    source: include_str!("../support/driver/selftest.rs"),
};

/// The driver's files: `driver/<name>.rs`, its support modules,
/// `driver/Kbuild` and `driver/Makefile`.
pub fn render(dev: &Device) -> Vec<OutputFile> {
    let source = crate::summary::file_name(&dev.source_name).to_string();
    let generator = crate::generator(dev);
    let root = driver_rs(dev, &source);
    let mut files = vec![OutputFile {
        path: PathBuf::from(format!("driver/{}.rs", dev.name)),
        contents: finish(root.render()),
    }];
    files.extend(root.support_mods.iter().map(|m| OutputFile {
        path: PathBuf::from(format!("driver/{}.rs", m.name)),
        contents: crate::support_file(dev, m.source, "//", ""),
    }));
    let kbuild = Kbuild {
        name: &dev.name,
        source: &source,
        generator: &generator,
    };
    let makefile = Makefile {
        name: &dev.name,
        source: &source,
        generator: &generator,
    };
    files.push(OutputFile {
        path: PathBuf::from("driver/Kbuild"),
        contents: finish(kbuild.render()),
    });
    files.push(OutputFile {
        path: PathBuf::from("driver/Makefile"),
        contents: finish(makefile.render()),
    });
    files
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
    generator: &'a str,
}

#[derive(Template)]
#[template(path = "driver/Makefile", escape = "none")]
struct Makefile<'a> {
    name: &'a str,
    source: &'a str,
    generator: &'a str,
}

/// The crate root's view: data only; `templates/driver/driver.rs` holds
/// the code.
#[derive(Template)]
#[template(path = "driver/driver.rs", escape = "none")]
struct DriverRs {
    source: String,
    generator: String,
    name: String,
    name_lit: String,
    camel: String,
    doc: ModuleDoc,
    /// The items of `use kernel::{...}`, in rustfmt's order.
    imports: Vec<UseGroup>,
    /// The support modules, in rustfmt's (alphabetical) order.
    support_mods: Vec<SupportMod>,
    pio: bool,
    bars: Vec<BarView>,
    /// Does code of the crate root read the BARs (else nothing but the
    /// author's code would)?
    bars_read: bool,
    dma: Option<DmaView>,
    /// Why bus mastering is on, if it is.
    set_master_why: Option<&'static str>,
    irq: Option<IrqView>,
    scenarios: Vec<ScenarioView>,
    /// The configuration-space registers' offsets (`mod config`).
    config_regs: Vec<ConfigRegView>,
    dma_plus: bool,
    /// The driver runs `expect msi` steps (per-vector consumed counts).
    expect_msi: bool,
    /// One handler per vector (`irq.multi`), for the parts outside `irq`.
    multi: bool,
    vendor: String,
    device: String,
    description_lit: String,
    teardown: Doc,
}

/// The module doc's paragraphs.
struct ModuleDoc {
    title: Doc,
    body: Doc,
    support: Doc,
}

/// One item of `use kernel::{...}`: `head`, `head::item` or
/// `head::{items}`.
struct UseGroup {
    head: &'static str,
    items: Vec<&'static str>,
}

/// A support module: `mod NAME;` and `use NAME::{uses};`.
struct SupportMod {
    name: &'static str,
    source: &'static str,
    /// What the crate root uses of it (`head` is `name`).
    uses: UseGroup,
}

impl SupportMod {
    fn new(support: &Support, uses: Vec<&'static str>) -> SupportMod {
        SupportMod {
            name: support.name,
            source: support.source,
            uses: UseGroup {
                head: support.name,
                items: uses,
            },
        }
    }
}

/// A configuration-space register: `const NAME: usize = OFFSET;`.
struct ConfigRegView {
    doc: Doc,
    name: String,
    offset: String,
}

/// The coherent DMA buffer.
struct DmaView {
    len: String,
    mask_bits: u8,
}

fn driver_rs(dev: &Device, source: &str) -> DriverRs {
    let (scenarios, needs) = steps::scenarios(dev);
    let irq = irq::view(dev);
    // Every register the driver's code names: scenario steps, the handler's
    // reads and acknowledgements.
    let named: Vec<&regs::RegRef> = scenarios
        .iter()
        .flat_map(|s| s.steps())
        .filter_map(|st| st.action.reg())
        .chain(irq.iter().flat_map(|i| {
            i.reads_first
                .iter()
                .chain(&i.reads_then)
                .map(|r| &r.reg)
                .chain(i.acks.iter().map(|a| &a.reg))
        }))
        .collect();
    let mut bars = regs::bars(dev, &regs::NamedRegisters::of(named.iter().copied()));
    // The BARs whose `Bars` field the steps or the handler read.
    for bar in &mut bars {
        bar.read = scenarios
            .iter()
            .flat_map(|s| &s.parts)
            .any(|p| p.bars.contains(&bar.index))
            || irq.as_ref().is_some_and(|i| i.ios.contains(&bar.index));
    }
    let pio = dev.bars.iter().any(|b| b.kind == BarKind::Io);
    let mem_bars = dev.bars.iter().any(|b| b.kind != BarKind::Io);
    let dma = dev.dma_buffer.map(|len| DmaView {
        len: text::size_lit(len),
        mask_bits: dev.dma_mask_bits.clamp(1, 64),
    });
    let helpers = bars
        .iter()
        .flat_map(|b| &b.registers)
        .any(|r| !r.helpers.is_empty());
    let bars_read = bars.iter().any(|b| b.read);
    let uses_io = bars_read || helpers || needs.config;
    let config_regs = dev
        .config_registers
        .iter()
        .map(|&r| {
            let reg = dev.register(r);
            ConfigRegView {
                doc: Doc(format!(
                    "`{}`: u{} at configuration offset {:#x}, {}.",
                    reg.name,
                    reg.bits(),
                    reg.offset,
                    crate::prose::access_label(reg).text()
                )),
                name: reg.name.clone(),
                offset: text::hex(reg.offset),
            }
        })
        .collect();

    // `barK::NAME::at(i)` (an array element) needs the `Array` trait.
    let uses_array = named.iter().any(|r| r.index.is_some());
    let io: Vec<&str> = [
        ("register", bars.iter().any(|b| !b.registers.is_empty())),
        ("register::Array", uses_array),
        ("Io", uses_io),
    ]
    .into_iter()
    .filter_map(|(item, used)| used.then_some(item))
    .collect();
    // Every group of `use kernel::{...}` the crate root may need, in
    // rustfmt's order, and whether it does.
    let imports = [
        ("device", vec!["Bound", "Core"], true),
        (
            "dma",
            vec!["Coherent", "Device as _", "DmaMask"],
            dma.is_some(),
        ),
        ("io", io.clone(), !io.is_empty()),
        (
            "irq",
            vec!["self", "IrqRequest", "IrqReturn"],
            irq.is_some(),
        ),
        ("pci", vec![], true),
        ("prelude::*", vec![], true),
        ("sync::atomic", vec!["Atomic", "Relaxed"], irq.is_some()),
    ]
    .into_iter()
    .filter_map(|(head, items, used)| used.then_some(UseGroup { head, items }))
    .collect();

    // Items in rustfmt's order.
    let mut support_mods = vec![SupportMod::new(
        &PCI_EXT,
        if mem_bars {
            vec!["map_memory_bar", "pci_device_id"]
        } else {
            vec!["pci_device_id"]
        },
    )];
    if pio {
        support_mods.push(SupportMod::new(&PIO, vec!["PciEnable", "PortIo"]));
    }
    if needs.steps {
        let uses = if needs.dma_data {
            vec!["DmaContents", "Tally"]
        } else {
            vec!["Tally"]
        };
        support_mods.push(SupportMod::new(&SELFTEST, uses));
    }

    let does_dma = dev.does_dma();
    let msi = dev.interrupt.msi_vectors.is_some() || dev.interrupt.msix.is_some();
    DriverRs {
        source: source.to_string(),
        generator: crate::generator(dev),
        name: dev.name.clone(),
        name_lit: text::str_lit(&dev.name),
        camel: text::camel(&dev.name),
        doc: module_doc(dev, source, &support_mods),
        imports,
        pio,
        dma,
        // MSI is a memory write by the device: it needs bus mastering too.
        set_master_why: match (does_dma, msi) {
            (true, true) => Some("The device does DMA, and an MSI is a DMA write too."),
            (true, false) => Some("The device does DMA."),
            (false, true) => {
                Some("An MSI is a memory write by the device: it needs bus mastering.")
            }
            (false, false) => None,
        },
        scenarios,
        config_regs,
        dma_plus: needs.dma_plus,
        expect_msi: needs.expect_msi,
        multi: irq.as_ref().is_some_and(|i| i.multi.is_some()),
        vendor: format!("{:#06x}", dev.vendor_id),
        device: format!("{:#06x}", dev.device_id),
        description_lit: text::str_lit(if dev.description.is_empty() {
            &dev.name
        } else {
            &dev.description
        }),
        teardown: Doc(format!(
            "Fields are dropped in declaration order, which is the teardown order: {}.",
            teardown_text(dev, !bars.is_empty(), pio)
        )),
        support_mods,
        bars,
        bars_read,
        irq,
    }
}

fn module_doc(dev: &Device, source: &str, support: &[SupportMod]) -> ModuleDoc {
    let mut title = format!(
        "Rust PCI driver skeleton for {} (PCI {:04x}:{:04x})",
        dev.name, dev.vendor_id, dev.device_id
    );
    if !dev.description.is_empty() {
        title.push_str(": ");
        title.push_str(&dev.description);
    }
    title.push('.');
    let steps: usize = dev.scenarios.iter().map(|s| s.steps.len()).sum();
    let mut what = vec!["enables the device"];
    if !dev.bars.is_empty() {
        what.push("maps its BARs");
    }
    if dev.interrupt.any() {
        what.push("requests its interrupt");
    }
    if dev.dma_buffer.is_some() {
        what.push("allocates a coherent DMA buffer");
    }
    let what = match what.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => what.join(""),
    };
    let body = format!(
        "Generated by {} from `{source}`. Probe {what}, then runs the spec's {} scenario(s) \
         ({steps} steps) as a self-test: one log line per step, then `{}: selftest: P/N passed`. \
         Load with `selftest=0` to skip it.",
        crate::generator(dev),
        dev.scenarios.len(),
        dev.name
    );
    let what_support = |m: &SupportMod| match m.name {
        "pci_ext" => "`pci_ext` (device ids for any vendor, memory BARs)",
        "pio" => "`pio` (port I/O for I/O BARs)",
        _ => "`selftest` (the self-test's checks and log lines)",
    };
    let support = format!(
        "Support modules, copied verbatim from pcidevc into the drivers that need them: {}.",
        support
            .iter()
            .map(what_support)
            .collect::<Vec<_>>()
            .join(", ")
    );
    ModuleDoc {
        title: Doc(title),
        body: Doc(body),
        support: Doc(support),
    }
}

fn teardown_text(dev: &Device, bars: bool, pio: bool) -> String {
    let mut v = Vec::new();
    if dev.interrupt.any() {
        v.push("free the IRQ (waiting for a running handler)");
        v.push("free the vectors");
    }
    if bars {
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
