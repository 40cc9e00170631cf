//! The document model: what the documentation says about a device, built
//! once from the IR and rendered by every format (HTML, Markdown).
//!
//! A [`Document`] is a list of facts and sentences, never markup: names,
//! numbers, [`Para`]s from [`crate::prose`] (the renderer all prose shares)
//! and action lines. Formats decide how to show them; they never look at
//! the IR again except to resolve a register reference to its anchor.
//!
//! Designed so that language v2 slots in without a new shape: a
//! configuration-space register block is one more [`SpaceDoc`] (kind
//! `Config`), capabilities and MSI-X are more [`Document::config`] rows,
//! windows are more [`SpaceDoc::policy`] lines, timers and streams are more
//! entries of [`Document::sections`] (a titled list of paragraphs).

use crate::prose::{self, AccessLabel, Behaviour, Para};
use pcidevc_dsl::ir::{self, BarKind, Device, RegId};

/// Everything the documentation of one device says.
#[derive(Debug, Clone)]
pub struct Document {
    /// The device name (lower_snake_case).
    pub name: String,
    /// The spec's `description` (empty when it has none).
    pub description: String,
    /// The spec's file name.
    pub source: String,
    /// [`crate::generator`]: the compiler and language versions.
    pub generator: String,
    /// Identity and configuration-space summary: (label, value) rows.
    pub config: Vec<(String, String)>,
    /// Titled prose sections: interrupt, DMA (later: timers, streams).
    pub sections: Vec<Section>,
    /// Device variables and hooks: (name, type, initial value or signature).
    pub states: Vec<(String, String, String)>,
    /// Hooks: (name, signature as the spec writes it, `name(a: u32) -> u32`).
    pub hooks: Vec<(String, String)>,
    /// Register spaces: each BAR (later: configuration space).
    pub spaces: Vec<SpaceDoc>,
    /// Scenarios, in spec order.
    pub scenarios: Vec<ScenarioDoc>,
    /// Number of registers in all spaces.
    pub register_count: usize,
}

/// A titled list of paragraphs.
#[derive(Debug, Clone)]
pub struct Section {
    /// Anchor (`interrupt`, `dma`).
    pub anchor: String,
    /// Heading text.
    pub title: String,
    /// The section's paragraphs, in order.
    pub paras: Vec<Para>,
}

/// Where registers live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpaceKind {
    /// A BAR, by index.
    Bar(u8),
    /// Configuration space's device-specific area.
    Config,
}

/// One register space and its register map.
#[derive(Debug, Clone)]
pub struct SpaceDoc {
    /// A BAR or configuration space.
    pub kind: SpaceKind,
    /// Anchor (`bar0`).
    pub anchor: String,
    /// `BAR 0`.
    pub title: String,
    /// `I/O, 16 bytes`.
    pub what: String,
    /// How the space answers accesses, in sentences.
    pub policy: Vec<String>,
    /// The space's registers, sorted by offset.
    pub registers: Vec<RegisterDoc>,
}

/// One register.
#[derive(Debug, Clone)]
pub struct RegisterDoc {
    /// The register in the IR (paragraphs link to registers by id).
    pub id: RegId,
    /// The register's name (`UPPER_SNAKE_CASE`).
    pub name: String,
    /// Anchor (`r-NAME`; register names are unique in a device).
    pub anchor: String,
    /// Offset in the BAR, or absolute in configuration space.
    pub offset: u64,
    /// Width in bits.
    pub bits: u32,
    /// The access kinds shown in the register map.
    pub access: AccessLabel,
    /// Reset value of the storage (`None`: no storage).
    pub reset: Option<u64>,
    /// Fields from the most significant bit down; a register whose storage
    /// has no declared fields has one field covering it (`implicit`), and a
    /// register without storage has none.
    pub fields: Vec<FieldDoc>,
    /// What reads and writes do, in sentences.
    pub behaviour: Behaviour,
    /// `on read` / `on write` actions, one line each, indented.
    pub on_read: Vec<String>,
    /// `on write` actions, one line each, indented.
    pub on_write: Vec<String>,
}

/// One field.
#[derive(Debug, Clone)]
pub struct FieldDoc {
    /// The field's name (`value` for an implicit field).
    pub name: String,
    /// Most significant bit.
    pub hi: u32,
    /// Least significant bit.
    pub lo: u32,
    /// Spec keyword (`rw`, `w1c`, ...).
    pub access: &'static str,
    /// Value at reset, in field position (bit 0 is the field's `lo`).
    pub reset: u64,
    /// Named values (name, value), in spec order.
    pub variants: Vec<(String, u64)>,
    /// Stands for the whole register's storage.
    pub implicit: bool,
}

impl FieldDoc {
    /// `[7:4]` or `[3]`.
    pub fn bits_text(&self) -> String {
        if self.hi == self.lo {
            format!("[{}]", self.lo)
        } else {
            format!("[{}:{}]", self.hi, self.lo)
        }
    }
}

/// One scenario.
#[derive(Debug, Clone)]
pub struct ScenarioDoc {
    /// The scenario's name.
    pub name: String,
    /// Its description (empty when it has none).
    pub description: String,
    /// (spec line, step text).
    pub steps: Vec<(usize, String)>,
}

impl RegisterDoc {
    /// What the search box matches: name and offset, lower case.
    pub fn search_key(&self) -> String {
        format!("{} {:#x}", self.name.to_ascii_lowercase(), self.offset)
    }
}

/// `v` in hexadecimal with a `0x` prefix (offsets and resets in tables).
pub fn hex(v: u64) -> String {
    format!("{v:#x}")
}

/// Builds the document of `dev`.
pub fn build(dev: &Device) -> Document {
    let spaces: Vec<SpaceDoc> = dev
        .bars
        .iter()
        .map(|b| bar(dev, b))
        .chain(config_space(dev))
        .collect();
    Document {
        name: dev.name.clone(),
        description: dev.description.clone(),
        source: crate::summary::file_name(&dev.source_name).to_string(),
        generator: crate::generator(dev),
        config: config_rows(dev),
        sections: vec![
            Section {
                anchor: "interrupt".into(),
                title: "Interrupt".into(),
                paras: prose::interrupt(dev),
            },
            Section {
                anchor: "dma".into(),
                title: "DMA".into(),
                paras: prose::dma(dev),
            },
        ]
        .into_iter()
        .chain(
            (!(dev.timers.is_empty()
                && dev.streams.is_empty()
                && dev.lets.is_empty()
                && dev.fns.is_empty()))
            .then(|| Section {
                anchor: "time-streams".into(),
                title: "Timers, streams and named expressions".into(),
                paras: prose::time_and_streams(dev),
            }),
        )
        .collect(),
        states: dev
            .states
            .iter()
            .map(|s| {
                let (ty, mut init) = match s.ty {
                    ir::Type::Fifo { .. } => (prose::type_name(s.ty), "empty".into()),
                    ir::Type::Uint(b) => (format!("u{b}"), hex(s.reset)),
                    ir::Type::Bool => ("bool".into(), (s.reset != 0).to_string()),
                    ir::Type::Buffer(n) => (
                        format!("[u8; {n}]"),
                        if s.init.is_empty() {
                            "zero".into()
                        } else {
                            format!("\"{}\", then zero", s.init.escape_ascii())
                        },
                    ),
                };
                if s.sticky {
                    init.push_str(" (sticky: kept across a device reset)");
                }
                (s.name.clone(), ty, init)
            })
            .collect(),
        hooks: dev
            .hooks
            .iter()
            .map(|h| {
                let params: Vec<String> = h
                    .params
                    .iter()
                    .map(|(n, t)| format!("{n}: {}", prose::type_name(*t)))
                    .collect();
                let ret = h
                    .ret
                    .map(|t| format!(" -> {}", prose::type_name(t)))
                    .unwrap_or_default();
                (
                    h.name.clone(),
                    format!("{}({}){ret}", h.name, params.join(", ")),
                )
            })
            .collect(),
        register_count: spaces.iter().map(|s| s.registers.len()).sum(),
        spaces,
        scenarios: dev
            .scenarios
            .iter()
            .map(|s| ScenarioDoc {
                name: s.name.clone(),
                description: s.description.clone(),
                steps: s
                    .steps
                    .iter()
                    .map(|st| (st.line, st.text.clone()))
                    .collect(),
            })
            .collect(),
    }
}

/// `I/O, 16 bytes`, `64-bit memory, prefetchable, 1 MiB`.
pub fn bar_what(b: &ir::Bar) -> String {
    let kind = match b.kind {
        BarKind::Io => "I/O",
        BarKind::Mem32 { .. } => "32-bit memory",
        BarKind::Mem64 { .. } => "64-bit memory",
    };
    let pf = if b.kind.is_prefetchable() {
        ", prefetchable"
    } else {
        ""
    };
    format!("{kind}{pf}, {}", prose::size_text(b.size))
}

fn config_rows(dev: &Device) -> Vec<(String, String)> {
    let [base, sub, prog] = dev.class_code;
    let mut rows = vec![
        (
            "Vendor:device".to_string(),
            format!("{:04x}:{:04x}", dev.vendor_id, dev.device_id),
        ),
        ("Revision".into(), format!("{:#04x}", dev.revision)),
        (
            "Class code".into(),
            format!("{base:02x}:{sub:02x}:{prog:02x} (base class, subclass, prog-if)"),
        ),
        (
            "Subsystem".into(),
            format!("{:04x}:{:04x}", dev.subsystem_vendor_id, dev.subsystem_id),
        ),
    ];
    for b in &dev.bars {
        rows.push((
            format!("BAR {}", b.index),
            format!("{} ({} registers)", bar_what(b), b.registers.len()),
        ));
    }
    rows.push((
        "Interrupt pin".into(),
        dev.interrupt
            .pin
            .map_or_else(|| "none".to_string(), |p| format!("INT{}", p.letter())),
    ));
    rows.push((
        "MSI".into(),
        dev.interrupt.msi_vectors.map_or_else(
            || "none".to_string(),
            |n| format!("{n} vector{}", if n == 1 { "" } else { "s" }),
        ),
    ));
    rows.push((
        "MSI-X".into(),
        dev.interrupt.msix.map_or_else(
            || "none".to_string(),
            |m| {
                format!(
                    "{} vector{}: table at BAR {} + {:#x} ({:#x} bytes), pending bits at BAR {} + {:#x} ({:#x} bytes)",
                    m.vectors,
                    if m.vectors == 1 { "" } else { "s" },
                    m.table_bar,
                    m.table_offset,
                    m.table_len(),
                    m.pba_bar,
                    m.pba_offset,
                    m.pba_len()
                )
            },
        ),
    ));
    rows.push(("Capabilities".into(), capabilities_text(dev)));
    if !dev.config_registers.is_empty() {
        rows.push((
            "Configuration registers".into(),
            format!(
                "{} at 0x40..0x100 (absolute offsets)",
                dev.config_registers.len()
            ),
        ));
    }
    if let Some(n) = dev.dma_buffer {
        rows.push((
            "Driver DMA buffer".into(),
            format!(
                "{} (DMA mask {} bits)",
                prose::size_text(n),
                dev.dma_mask_bits
            ),
        ));
    }
    rows
}

/// The capability list in offset order, as the runtime links it.
pub fn capabilities_text(dev: &Device) -> String {
    let mut caps: Vec<(u8, String)> = Vec::new();
    if dev.interrupt.msi_vectors.is_some() {
        caps.push((
            pcidev_core::config::MSI_CAP_OFFSET,
            "MSI (id 0x05) at 0x40, placed by the runtime".into(),
        ));
    }
    if dev.interrupt.msix.is_some() {
        caps.push((
            0x50,
            "MSI-X (id 0x11) at 0x50, placed by the runtime".into(),
        ));
    }
    for c in &dev.capabilities {
        caps.push((
            c.offset,
            format!(
                "vendor-specific (id 0x09) at {:#x}, {} bytes",
                c.offset, c.size
            ),
        ));
    }
    caps.sort_by_key(|c| c.0);
    if caps.is_empty() {
        "none".into()
    } else {
        caps.into_iter().map(|c| c.1).collect::<Vec<_>>().join("; ")
    }
}

/// Configuration space's registers, when the spec has any.
fn config_space(dev: &Device) -> Option<SpaceDoc> {
    if dev.config_registers.is_empty() {
        return None;
    }
    Some(SpaceDoc {
        kind: SpaceKind::Config,
        anchor: "config".into(),
        title: "Configuration space".into(),
        what: "device-specific area 0x40..0x100, absolute offsets".into(),
        policy: vec![
            "Accepts 1-, 2- and 4-byte accesses (pci_read_config_* / pci_write_config_*).".into(),
            "A register that lists its access sizes does not see other sizes: their bytes act as plain configuration memory.".into(),
            format!("Capabilities: {}.", capabilities_text(dev)),
        ],
        registers: dev
            .config_registers
            .iter()
            .map(|r| register(dev, *r))
            .collect(),
    })
}

fn bar(dev: &Device, b: &ir::Bar) -> SpaceDoc {
    let p = &b.policy;
    let mut policy = vec![format!(
        "Accepts {}{}-byte accesses.",
        if p.aligned { "naturally aligned " } else { "" },
        p.sizes.text("/")
    )];
    policy.push(format!(
        "Other accesses are invalid: {}.",
        match p.invalid {
            ir::InvalidAccess::Ignore => "writes are dropped, reads return 0",
            ir::InvalidAccess::AllOnes => "writes are dropped, reads return all-ones",
            ir::InvalidAccess::Error =>
                "the access fails; writes are dropped, reads return all-ones",
        }
    ));
    policy.push(format!(
        "Bytes no register covers read {} and ignore writes.",
        match p.unmapped {
            ir::Unmapped::Zero => "0",
            ir::Unmapped::Ones => "all-ones",
        }
    ));
    for w in &b.windows {
        policy.push(format!(
            "Window {} at {}..{} ({}): the device buffer's bytes, {}, little-endian at any allowed size, with no side effects.",
            dev.state(w.state).name,
            hex(w.offset),
            hex(w.end()),
            prose::size_text(w.len),
            if w.writable { "read-write" } else { "read-only (writes are dropped)" }
        ));
    }
    SpaceDoc {
        kind: SpaceKind::Bar(b.index),
        anchor: format!("bar{}", b.index),
        title: format!("BAR {}", b.index),
        what: bar_what(b),
        policy,
        registers: dev.layout_registers(b).map(|r| register(dev, r)).collect(),
    }
}

fn register(dev: &Device, id: RegId) -> RegisterDoc {
    let reg = dev.register(id);
    let mut fields: Vec<FieldDoc> = reg
        .fields
        .iter()
        .map(|f| FieldDoc {
            name: f.name.clone(),
            hi: f.hi,
            lo: f.lo,
            access: f.access.keyword(),
            reset: f.reset,
            variants: f.variants.clone(),
            implicit: f.implicit,
        })
        .collect();
    fields.sort_by_key(|f| std::cmp::Reverse(f.lo));
    RegisterDoc {
        id,
        name: crate::summary::item_label(reg),
        anchor: anchor(reg.item_name()),
        offset: reg.offset,
        bits: reg.bits(),
        access: prose::access_label(reg),
        reset: reg.has_storage().then_some(reg.reset),
        fields,
        behaviour: prose::behaviour(dev, id),
        on_read: prose::block(dev, &reg.on_read, 0),
        on_write: prose::block(dev, &reg.on_write, 0),
    }
}

/// The anchor of register `name` (an array element links to its array's,
/// `anchor(reg.item_name())`).
pub fn anchor(name: &str) -> String {
    format!("r-{name}")
}
