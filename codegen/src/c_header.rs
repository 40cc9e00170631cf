//! The C header backend: `<device>.h`, the register map as C constants.
//!
//! One `#define` per fact, in Linux header naming (`<DEVICE>_...`, upper
//! case), every value an unsigned integer constant (`0x4U`, `...ULL` above
//! 32 bits) so the same header compiles as C and C++, in user space and in
//! the kernel (where the masks go straight into `FIELD_GET`/`FIELD_PREP`):
//!
//! | define | value |
//! |---|---|
//! | `D_VENDOR_ID`, `D_DEVICE_ID`, `D_REVISION`, `D_CLASS` (base, sub, prog-if as 0xBBSSPP), `D_SUBSYSTEM_VENDOR_ID`, `D_SUBSYSTEM_ID` | identity |
//! | `D_INTX_PIN` (1 = INTA .. 4 = INTD, 0 none), `D_MSI_VECTORS` | interrupt |
//! | `D_DMA_BUFFER_SIZE`, `D_DMA_MASK_BITS` | the driver's DMA buffer (when declared) |
//! | `D_BARn_SIZE`, `D_BARn_ACCESS_SIZES` (bit N set: N-byte accesses) | per BAR |
//! | `D_BARn_REG`, `D_BARn_REG_WIDTH` (bytes), `D_BARn_REG_RESET` (with storage) | per register |
//! | `D_BARn_REG_FIELD_SHIFT`, `_MASK` (in register position), `_RESET` (field value) | per declared field |
//! | `D_BARn_REG_FIELD_VARIANT` | per named value (field value, unshifted) |
//!
//! Each register's block starts with a comment saying what it does (from
//! [`crate::prose`]). Names are unique: should two facts get the same name
//! (a register `CTRL_MODE` beside a field `CTRL.mode`), the later one gets
//! a doubled underscore before its last part (`D_BAR0_CTRL_MODE__RESET`).
//! [`Names`] gives other backends (the C driver) the names chosen.

use crate::prose;
use askama::Template;
use pcidevc_dsl::ir::{Device, RegId, low_mask};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The upper-case prefix of every name: the device name.
pub fn prefix(dev: &Device) -> String {
    dev.name.to_ascii_uppercase()
}

/// `0x1337U`, or `0x100000000ULL` above 32 bits.
pub fn literal(v: u64) -> String {
    if v > u64::from(u32::MAX) {
        format!("{v:#x}ULL")
    } else {
        format!("{v:#x}U")
    }
}

/// How a value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Radix {
    /// `0x1337U`: offsets, masks, values.
    Hex,
    /// `4U`: counts (widths, shifts, vectors).
    Dec,
    /// `0x0001U`: 16-bit PCI ids, four digits.
    Id,
    /// A register array's element offset, `(0x10U + (i) * 4U)` (the name
    /// ends in `(i)`): the value is the first element's, then the stride.
    Element(u64),
}

/// One `#define`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Define {
    /// The macro name (`<DEVICE>_...`, unique in the header).
    pub name: String,
    /// The value the macro expands to.
    pub value: u64,
    /// How the value is written (hex, decimal or a PCI id).
    pub radix: Radix,
    /// Printed after the value (`/* ... */`), may be empty.
    pub note: String,
}

impl Define {
    /// The value as a C constant.
    pub fn value_text(&self) -> String {
        match self.radix {
            Radix::Hex => literal(self.value),
            Radix::Dec => format!("{}U", self.value),
            Radix::Id => format!("{:#06x}U", self.value),
            Radix::Element(stride) => format!("({} + (i) * {stride}U)", literal(self.value)),
        }
    }
}

/// A commented group of defines.
#[derive(Debug, Clone)]
pub struct Group {
    /// Comment lines (without `/*`), may be empty.
    pub comment: Vec<String>,
    /// The defines, in header order.
    pub defines: Vec<Define>,
}

/// The names chosen for registers (what the C driver uses).
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// Register offset macro, by register (`NAME(3)` for an element of
    /// array `NAME`).
    pub offset: BTreeMap<RegId, String>,
    /// BAR size macro, by BAR index.
    pub bar_size: BTreeMap<u8, String>,
}

/// Every group of the header, with unique names.
pub fn groups(dev: &Device) -> (Vec<Group>, Names) {
    let p = prefix(dev);
    let mut used = BTreeSet::new();
    let mut names = Names::default();
    let mut unique = |name: String| -> String {
        let mut n = name;
        while used.contains(&n) {
            n = match n.rsplit_once('_') {
                Some((head, last)) => format!("{head}__{last}"),
                None => format!("{n}_"),
            };
        }
        used.insert(n.clone());
        n
    };
    let mut def = |name: String, value: u64, note: &str| {
        // Counts read best in decimal, ids with four digits.
        let radix = if ["_WIDTH", "_SHIFT", "_PIN", "_VECTORS", "_BITS"]
            .iter()
            .any(|s| name.ends_with(s))
        {
            Radix::Dec
        } else if name.ends_with("_ID")
            && name.starts_with(&format!("{p}_"))
            && !name.contains("_BAR")
        {
            Radix::Id
        } else {
            Radix::Hex
        };
        Define {
            name: unique(name),
            value,
            radix,
            note: note.to_string(),
        }
    };
    // A register array's offset macro (without `(i)`), by its head.
    let mut array_macro: BTreeMap<RegId, String> = BTreeMap::new();
    let mut out = Vec::new();
    let [base, sub, prog] = dev.class_code;
    let mut identity = vec![
        def(format!("{p}_VENDOR_ID"), dev.vendor_id.into(), ""),
        def(format!("{p}_DEVICE_ID"), dev.device_id.into(), ""),
        def(format!("{p}_REVISION"), dev.revision.into(), ""),
        def(
            format!("{p}_CLASS"),
            u64::from(base) << 16 | u64::from(sub) << 8 | u64::from(prog),
            "base class, subclass, prog-if",
        ),
        def(
            format!("{p}_SUBSYSTEM_VENDOR_ID"),
            dev.subsystem_vendor_id.into(),
            "",
        ),
        def(format!("{p}_SUBSYSTEM_ID"), dev.subsystem_id.into(), ""),
        def(
            format!("{p}_INTX_PIN"),
            dev.interrupt.pin.map_or(0, |x| x.register_value().into()),
            "1 = INTA .. 4 = INTD, 0: none",
        ),
        def(
            format!("{p}_MSI_VECTORS"),
            dev.interrupt.msi_vectors.map_or(0, u64::from),
            "",
        ),
    ];
    if let Some(n) = dev.dma_buffer {
        identity.push(def(
            format!("{p}_DMA_BUFFER_SIZE"),
            n,
            "the driver's coherent buffer",
        ));
        identity.push(def(
            format!("{p}_DMA_MASK_BITS"),
            dev.dma_mask_bits.into(),
            "",
        ));
    }
    let mut comment = vec![format!(
        "{}: identity (PCI {:04x}:{:04x})",
        dev.name, dev.vendor_id, dev.device_id
    )];
    if !dev.description.is_empty() {
        comment[0].push_str(&format!(", {}", dev.description));
    }
    out.push(Group {
        comment,
        defines: identity,
    });
    // BARs, then configuration space (its registers, capabilities).
    let config = (!dev.config_registers.is_empty() || !dev.capabilities.is_empty()).then_some(None);
    let sections = dev.bars.iter().map(Some).chain(config);
    for section in sections {
        let (b, registers) = match section {
            Some(bar) => {
                let b = format!("{p}_BAR{}", bar.index);
                let size = def(format!("{b}_SIZE"), bar.size, "");
                names.bar_size.insert(bar.index, size.name.clone());
                out.push(Group {
                    comment: vec![format!(
                        "BAR {}: {}",
                        bar.index,
                        crate::doc::model::bar_what(bar)
                    )],
                    defines: vec![
                        size,
                        def(
                            format!("{b}_ACCESS_SIZES"),
                            bar.policy.sizes.0.into(),
                            "bit N set: N-byte accesses",
                        ),
                    ],
                });
                (b, &bar.registers[..])
            }
            None => {
                let b = format!("{p}_CONFIG");
                let mut defines = Vec::new();
                for (i, c) in dev.capabilities.iter().enumerate() {
                    let cp = format!("{p}_VNDR_CAP{i}");
                    defines.push(def(
                        format!("{cp}_OFFSET"),
                        c.offset.into(),
                        "vendor capability (id 0x09)",
                    ));
                    defines.push(def(
                        format!("{cp}_SIZE"),
                        c.size.into(),
                        "bytes, header included",
                    ));
                }
                out.push(Group {
                    comment: vec![
                        "configuration space: registers at absolute offsets (pci_read_config_*)"
                            .into(),
                    ],
                    defines,
                });
                (b, &dev.config_registers[..])
            }
        };
        for &id in registers {
            let reg = dev.register(id);
            if let Some(a) = reg.array.as_ref().filter(|a| a.index > 0) {
                // One group per array (at its head); an element's offset
                // is the array's macro with its index.
                let head = RegId(id.0 - a.index as usize);
                if let Some(m) = array_macro.get(&head) {
                    names.offset.insert(id, format!("{m}({})", a.index));
                }
                continue;
            }
            let r = format!("{b}_{}", reg.item_name());
            let label = prose::access_label(reg);
            let mut comment = vec![match &reg.array {
                Some(a) => format!(
                    "{}[{}] @ {:#x}: u{}, {}; element i at {:#x} + i * {}",
                    a.array,
                    a.count,
                    reg.offset,
                    reg.bits(),
                    label.text(),
                    reg.offset,
                    a.stride
                ),
                None => format!(
                    "{} @ {:#x}: u{}, {}",
                    reg.name,
                    reg.offset,
                    reg.bits(),
                    label.text()
                ),
            }];
            let beh = prose::behaviour(dev, id);
            comment.extend(wrap(&beh.read.plain(dev), 72));
            if !reg.on_read.is_empty() {
                comment.push("on read:".into());
                comment.extend(prose::block(dev, &reg.on_read, 2));
            }
            comment.extend(wrap(&beh.write.plain(dev).replace(" below", ""), 72));
            if !reg.on_write.is_empty() {
                comment.push("on write:".into());
                comment.extend(prose::block(dev, &reg.on_write, 2));
            }
            for para in &beh.effects {
                comment.extend(wrap(&para.plain(dev), 72));
            }
            let mut defines = match &reg.array {
                Some(a) => {
                    let mut offset = def(r.clone(), reg.offset, "");
                    names.offset.insert(id, format!("{}(0)", offset.name));
                    array_macro.insert(id, offset.name.clone());
                    offset.name.push_str("(i)");
                    offset.radix = Radix::Element(a.stride);
                    let mut count = def(format!("{r}_COUNT"), a.count, "elements");
                    count.radix = Radix::Dec;
                    vec![offset, count]
                }
                None => {
                    let offset = def(r.clone(), reg.offset, "");
                    names.offset.insert(id, offset.name.clone());
                    vec![offset]
                }
            };
            defines.push(def(format!("{r}_WIDTH"), reg.width.into(), "bytes"));
            if reg.has_storage() {
                defines.push(def(format!("{r}_RESET"), reg.reset, ""));
            }
            for f in reg.fields.iter().filter(|f| !f.implicit) {
                let fp = format!("{r}_{}", f.name.to_ascii_uppercase());
                defines.push(def(format!("{fp}_SHIFT"), f.lo.into(), ""));
                defines.push(def(
                    format!("{fp}_MASK"),
                    low_mask(f.bits()) << f.lo,
                    &format!("{} {}", f.access.keyword(), bits_text(f.hi, f.lo)),
                ));
                defines.push(def(format!("{fp}_RESET"), f.reset, ""));
                for (v, value) in &f.variants {
                    defines.push(def(format!("{fp}_{}", v.to_ascii_uppercase()), *value, ""));
                }
            }
            out.push(Group { comment, defines });
        }
        let windows = match section {
            Some(bar) => &bar.windows[..],
            None => &[],
        };
        for w in windows {
            let name = &dev.state(w.state).name;
            let wn = format!("{b}_{}_WINDOW", name.to_ascii_uppercase());
            let access = if w.writable {
                "read-write"
            } else {
                "read-only"
            };
            let mut comment = vec![format!(
                "window {name} @ {:#x}: {} bytes of `{name}`, {access}",
                w.offset, w.len
            )];
            comment.extend(wrap(
                "Byte i of the window is byte i of the device buffer (little-endian, any size the BAR allows, no side effects).",
                72,
            ));
            out.push(Group {
                comment,
                defines: vec![
                    def(wn.clone(), w.offset, ""),
                    def(format!("{wn}_SIZE"), w.len, "bytes"),
                ],
            });
        }
    }
    (out, names)
}

fn bits_text(hi: u32, lo: u32) -> String {
    if hi == lo {
        format!("[{lo}]")
    } else {
        format!("[{hi}:{lo}]")
    }
}

/// Words of `text` on lines of at most `width` characters (longer words
/// on their own line).
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for w in text.split_whitespace() {
        if !cur.is_empty() && cur.len() + 1 + w.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(w);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

/// `#define NAME<tabs>VALUE`, values aligned at `column` (a multiple of 8).
fn define_line(d: &Define, column: usize) -> String {
    let head = format!("#define {}", d.name);
    let tabs = column.saturating_sub(head.len()).div_ceil(8).max(1);
    let mut s = format!("{head}{}{}", "\t".repeat(tabs), d.value_text());
    if !d.note.is_empty() {
        // `*/` cannot occur: notes are built from keywords and numbers.
        s.push_str(&format!("\t/* {} */", d.note));
    }
    s
}

/// A `/* ... */` comment block (one line when it fits).
pub fn comment_block(lines: &[String]) -> String {
    // Spec text (descriptions) must not close the comment early.
    let clean: Vec<String> = lines.iter().map(|l| l.replace("*/", "* /")).collect();
    match clean.as_slice() {
        [] => String::new(),
        [one] if one.len() <= 74 => format!("/* {one} */"),
        many => {
            let mut s = String::from("/*\n");
            for l in many {
                s.push_str(&format!(" * {l}\n"));
            }
            s.push_str(" */");
            s
        }
    }
}

#[derive(Template)]
#[template(path = "c/header.h", escape = "none")]
struct Header {
    source: String,
    generator: String,
    name: String,
    guard: String,
    /// Rendered groups (comment, then aligned defines).
    groups: Vec<String>,
}

/// `<device>.h`.
pub fn render(dev: &Device) -> crate::OutputFile {
    render_groups(dev, &groups(dev).0)
}

/// `<device>.h` from its [`groups`] (computed once when the C driver,
/// which needs their [`Names`], is generated too).
pub fn render_groups(dev: &Device, groups: &[Group]) -> crate::OutputFile {
    let longest = groups
        .iter()
        .flat_map(|g| &g.defines)
        .map(|d| d.name.len() + "#define ".len())
        .max()
        .unwrap_or(0);
    let column = (longest + 1).div_ceil(8) * 8;
    let rendered = groups
        .iter()
        .map(|g| {
            let mut s = comment_block(&g.comment);
            for d in &g.defines {
                s.push('\n');
                s.push_str(&define_line(d, column));
            }
            s
        })
        .collect();
    let h = Header {
        source: crate::summary::file_name(&dev.source_name).to_string(),
        generator: crate::generator(dev),
        name: dev.name.clone(),
        guard: format!("{}_H", prefix(dev)),
        groups: rendered,
    };
    crate::OutputFile {
        path: PathBuf::from(format!("{}.h", dev.name)),
        contents: crate::finish_text(h.render()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_alignment() {
        assert_eq!(literal(0x1337), "0x1337U");
        assert_eq!(literal(0xffff_ffff), "0xffffffffU");
        assert_eq!(literal(1 << 32), "0x100000000ULL");
        let d = Define {
            name: "X_BAR0_ID".into(),
            value: 4,
            radix: Radix::Hex,
            note: String::new(),
        };
        assert_eq!(define_line(&d, 32), "#define X_BAR0_ID\t\t0x4U");
    }

    #[test]
    fn colliding_names_get_a_double_underscore() {
        let c = pcidevc_dsl::compile_str(
            "t.pcidev",
            "device t { id 0x1234:0x5678; bar 0 mem32 size 64 {
                register CTRL @ 0 : u32 { field mode [1:0] rw = 1 { reset = 2 } }
                register CTRL_MODE @ 4 : u32 rw = 3;
            } }",
        );
        let dev = c.device.expect("valid");
        let (groups, names) = groups(&dev);
        let all: Vec<(String, u64)> = groups
            .iter()
            .flat_map(|g| &g.defines)
            .map(|d| (d.name.clone(), d.value))
            .collect();
        let get = |n: &str| all.iter().find(|(x, _)| x == n).map(|(_, v)| *v);
        assert_eq!(get("T_BAR0_CTRL_MODE_RESET"), Some(1)); // the field's, first
        assert_eq!(get("T_BAR0_CTRL_MODE__RESET"), Some(2)); // the named value
        assert_eq!(get("T_BAR0_CTRL_MODE___RESET"), Some(3)); // the register's, last
        assert_eq!(names.offset[&RegId(1)], "T_BAR0_CTRL_MODE");
        let unique: BTreeSet<&String> = all.iter().map(|(n, _)| n).collect();
        assert_eq!(unique.len(), all.len());
    }
}
