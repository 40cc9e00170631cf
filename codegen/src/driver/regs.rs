//! BARs and registers, as data for `templates/driver/bar.rs`: per BAR a
//! module `barN` with one `register!` block (offsets, widths, fields), the
//! field enums, and per register the access helpers that carry what
//! `register!` does not know: the spec's access semantics.
//!
//! Helpers are inherent methods of the register types (`io` is the BAR):
//! - `REG::read(io)` if a read can return something (a computed `read`, or a
//!   readable field); 64-bit registers on memory BARs use the run-time
//!   checked accessors and return `Result` (7.3's build-time checked ones
//!   refuse 8-byte accesses on a `pci::Bar`);
//! - `value.trigger(io)` if a write runs `on write` actions, else
//!   `value.write(io)` if the register has a `rw`/`wo` field; none for
//!   read-only ones;
//! - `REG::clear_FIELD(io)` per `w1c` field and `REG::set_FIELD(io)` per
//!   `w1s` field (`clear` / `set` for a whole-register one): a write with ones
//!   in that field only, read-modify-write when the register also has `rw`
//!   fields (so they keep their value).
//!
//! A BAR of more than [`TYPED_REGISTERS_MAX`] registers (an array counts
//! once) is a big one: only the registers the driver's own code names (the
//! scenario steps, the interrupt handler) get a `register!` type and
//! helpers; the others are offset constants in `barK::offsets`
//! ([`OffsetView`]). A `register!` type costs the kernel build about 1 MB of
//! rustc memory (its expansion, and the trait impls every type adds to
//! coherence checking), so a driver of 100,000 typed registers would need
//! about 100 GB; a constant costs next to nothing.
//!
//! A field whose name would collide with a helper of its register, or with
//! what `register!` reserves, is renamed `f_NAME`.
//!
//! A register array `register NAME[N]` is one [`RegView`] with its element
//! count (rendered as `NAME(u32)[N] @ OFFSET`, the kernel's array form) and
//! no helpers (an element is `io.read(barK::NAME::at(i))`); a [`RegRef`] to
//! an element carries its index (`barK::NAME::at(i)`). Steps and the
//! handler name registers only through [`RegRef`].

use super::text::{self, Doc, Names, SUPPORTED_NAME_LEN};
use crate::summary;
use pcidevc_dsl::ir::{self, AccessKind, BarKind, Device, InvalidAccess, Register, Stmt};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A register as the code names it: its location `barK::NAME`, or for an
/// array element `barK::NAME::at(i)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegRef {
    pub bar: u8,
    /// The register's type: the array's for an element.
    pub name: String,
    /// The element, for an array element.
    pub index: Option<u64>,
}

impl RegRef {
    /// How code names `reg` of BAR `bar`.
    pub fn of(bar: u8, reg: &Register) -> RegRef {
        RegRef {
            bar,
            name: reg.item_name().to_string(),
            index: reg.array.as_ref().map(|a| a.index),
        }
    }

    /// The register's type path, `barK::NAME` (for `from_raw`).
    pub fn ty(&self) -> String {
        format!("bar{}::{}", self.bar, self.name)
    }
}

impl fmt::Display for RegRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bar{}::{}", self.bar, self.name)?;
        match self.index {
            Some(i) => write!(f, "::at({i})"),
            None => Ok(()),
        }
    }
}

/// A BAR with more registers than this is a big one (see the module docs).
pub const TYPED_REGISTERS_MAX: usize = 256;

/// The registers the driver's code names, by BAR and type name: on a big
/// BAR, the only ones with a `register!` type.
#[derive(Debug, Default)]
pub struct NamedRegisters(BTreeSet<(u8, String)>);

impl NamedRegisters {
    /// The registers `refs` name (an array element names its array).
    pub fn of<'a>(refs: impl IntoIterator<Item = &'a RegRef>) -> NamedRegisters {
        NamedRegisters(refs.into_iter().map(|r| (r.bar, r.name.clone())).collect())
    }

    fn contains(&self, bar: u8, name: &str) -> bool {
        self.0.contains(&(bar, name.to_string()))
    }
}

/// One BAR.
#[derive(Debug)]
pub struct BarView {
    pub index: u8,
    pub is_io: bool,
    /// The size as a literal.
    pub size: String,
    /// "I/O, 16 bytes" and the like.
    pub what: String,
    /// The size constant's doc.
    pub size_doc: Doc,
    /// The register module's doc.
    pub doc: Doc,
    /// The registers with a `register!` type: all of them, or on a big BAR
    /// those the driver names.
    pub registers: Vec<RegView>,
    /// On a big BAR, the other registers, as offsets.
    pub offsets: Vec<OffsetView>,
    /// The `offsets` module's doc.
    pub offsets_doc: Doc,
    pub enums: Vec<EnumView>,
    /// Does the driver's code (steps, handler) read its `Bars` field? Set
    /// by the caller.
    pub read: bool,
}

/// A register of a big BAR the driver does not name:
/// `pub(crate) const NAME: usize = OFFSET;` with the register's doc and its
/// fields.
#[derive(Debug)]
pub struct OffsetView {
    pub doc: Doc,
    pub name: String,
    pub offset: String,
}

/// One register: its `register!` entry and its helpers.
#[derive(Debug)]
pub struct RegView {
    pub doc: Doc,
    pub name: String,
    pub storage: &'static str,
    pub offset: String,
    /// Elements, for a register array (`NAME(u8)[N] @ OFFSET`).
    pub count: Option<u64>,
    /// High bits first, as `register!` wants them.
    pub fields: Vec<FieldView>,
    pub helpers: Vec<HelperView>,
    pub access: Accessors,
}

/// The accessor names of a register, which depend on whether its accesses
/// are checked at build time or at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accessors {
    pub read: &'static str,
    pub write: &'static str,
    /// What `read` returns: `Self` or `Result<Self>`.
    pub value_type: &'static str,
    /// What a write helper returns: nothing or ` -> Result`.
    pub returns: &'static str,
    /// `?` after a read inside a helper, when reads can fail.
    pub question: &'static str,
}

impl Accessors {
    /// A `width`-byte register on `bar`: 8 bytes on a memory BAR are
    /// accessed through the run-time checked accessors.
    pub fn of(bar: &ir::Bar, width: u8) -> Accessors {
        if fallible(bar, width) {
            Accessors {
                read: "try_read",
                write: "try_write_reg",
                value_type: "Result<Self>",
                returns: " -> Result",
                question: "?",
            }
        } else {
            Accessors {
                read: "read",
                write: "write_reg",
                value_type: "Self",
                returns: "",
                question: "",
            }
        }
    }
}

/// One field line: `hi:lo name [=> Enum | ?=> Enum];`.
#[derive(Debug)]
pub struct FieldView {
    pub doc: Option<Doc>,
    pub hi: u32,
    pub lo: u32,
    pub name: String,
    pub conversion: Option<Conversion>,
}

/// A field converted to and from its enum.
#[derive(Debug)]
pub struct Conversion {
    pub name: String,
    /// Every bit pattern has a name: `=>` (else `?=>`).
    pub total: bool,
}

/// A field's named values as a Rust enum.
#[derive(Debug)]
pub struct EnumView {
    pub doc: Doc,
    pub name: String,
    pub storage: &'static str,
    pub bits: u32,
    pub variants: Vec<Variant>,
    pub total: bool,
}

#[derive(Debug)]
pub struct Variant {
    pub name: String,
    pub value: String,
}

/// One access helper of a register.
#[derive(Debug)]
pub struct HelperView {
    pub doc: Doc,
    pub name: String,
    pub kind: HelperKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HelperKind {
    /// `fn read(io) -> Self`.
    Read,
    /// `fn write(self, io)` or `fn trigger(self, io)`.
    Write,
    /// `fn clear_x(io)` / `fn set_x(io)`: writes the ones in `bits`; with
    /// `keep`, first reads the register and keeps those (`rw`) bits.
    Bits { bits: String, keep: Option<String> },
}

/// Is a `width`-byte register on `bar` accessed through the run-time checked
/// accessors? (8 bytes on a memory BAR.)
pub fn fallible(bar: &ir::Bar, width: u8) -> bool {
    width == 8 && !bar.kind.is_io()
}

fn kind_text(bar: &ir::Bar) -> String {
    let kind = match bar.kind {
        BarKind::Io => "I/O",
        BarKind::Mem32 { .. } => "32-bit memory",
        BarKind::Mem64 { .. } => "64-bit memory",
    };
    let pf = if bar.kind.is_prefetchable() {
        ", prefetchable"
    } else {
        ""
    };
    format!("{kind}{pf}, {} bytes", bar.size)
}

fn policy_text(bar: &ir::Bar) -> String {
    let sizes = bar.policy.sizes.text("/");
    let align = if bar.policy.aligned { "aligned " } else { "" };
    let invalid = match bar.policy.invalid {
        InvalidAccess::Ignore => "ignored, reading 0",
        InvalidAccess::AllOnes => "ignored, reading all-ones",
        InvalidAccess::Error => "errors, reading all-ones",
    };
    format!("{align}{sizes}-byte accesses; others are {invalid}")
}

/// Every BAR's view; `named` are the registers the driver's code names.
pub fn bars(dev: &Device, named: &NamedRegisters) -> Vec<BarView> {
    dev.bars
        .iter()
        .map(|bar| bar_view(dev, bar, named))
        .collect()
}

fn bar_view(dev: &Device, bar: &ir::Bar, named: &NamedRegisters) -> BarView {
    let all: Vec<&Register> = dev.layout_registers(bar).map(|r| dev.register(r)).collect();
    let big = all.len() > TYPED_REGISTERS_MAX;
    let (regs, untyped): (Vec<&Register>, Vec<&Register>) = all
        .iter()
        .partition(|r| !big || named.contains(bar.index, r.item_name()));
    let mut enum_names = Names::default();
    // Names the module already uses (its own items, and what `use super::*`
    // and the enum impls rely on).
    for used in [
        "Bounded",
        "From",
        "TryFrom",
        "Result",
        "Ok",
        "Err",
        "Self",
        "Error",
        "Option",
        "Some",
        "None",
        "Io",
        "Bars",
        "Tally",
        "PortIo",
        "PciEnable",
        "DmaContents",
        "Coherent",
    ] {
        enum_names.take(used.to_string());
    }
    for i in 0..6 {
        enum_names.take(format!("Bar{i}"));
    }
    for r in &all {
        enum_names.take(r.item_name().to_string());
    }
    // A field's enum is named after the field, or after register and field
    // when several fields of this BAR share a name.
    let mut field_count = BTreeMap::<&str, usize>::new();
    for r in &regs {
        for f in r.fields.iter().filter(|f| !f.variants.is_empty()) {
            *field_count.entry(f.name.as_str()).or_default() += 1;
        }
    }
    let mut enums = Vec::new();
    let registers = regs
        .iter()
        .map(|reg| {
            let mut view = reg_view(dev, bar, reg);
            for (field, view) in reg.fields.iter().zip(view.fields.iter_mut()) {
                if field.variants.is_empty() {
                    continue;
                }
                let shared = field_count.get(field.name.as_str()).is_some_and(|n| *n > 1);
                let e = field_enum(reg, field, shared, &mut enum_names);
                view.conversion = Some(Conversion {
                    name: e.name.clone(),
                    total: e.total,
                });
                enums.push(e);
            }
            // `register!` wants fields from the high bits down, like datasheets.
            view.fields
                .sort_by(|a, b| b.hi.cmp(&a.hi).then(b.lo.cmp(&a.lo)));
            view
        })
        .collect();
    BarView {
        index: bar.index,
        is_io: bar.kind == BarKind::Io,
        size: text::size_lit(bar.size),
        what: kind_text(bar),
        size_doc: Doc(format!(
            "Size of BAR {} ({}); mapping fails if the device's BAR is smaller.",
            bar.index,
            kind_text(bar)
        )),
        doc: Doc(format!(
            "Registers of BAR {} ({}; {}), with access helpers that follow each register's \
             access semantics (which `register!` does not know).",
            bar.index,
            kind_text(bar),
            policy_text(bar)
        )),
        registers,
        offsets: untyped
            .iter()
            .map(|reg| OffsetView {
                doc: Doc(offset_doc(dev, bar, reg)),
                name: reg.item_name().to_string(),
                offset: text::hex(reg.offset),
            })
            .collect(),
        offsets_doc: Doc(format!(
            "Offsets of the {} registers of BAR {} the driver does not name: the BAR has more than \
             {TYPED_REGISTERS_MAX} registers, so only those the driver names have a `register!` \
             type (a type costs the kernel build about 1 MB of memory). Access one with `Io`'s \
             plain accessors, e.g. `io.read32(bar{}::offsets::NAME)`.",
            untyped.len(),
            bar.index,
            bar.index
        )),
        enums,
        read: false,
    }
}

/// An untyped register's doc: its `register!` doc, its width and its fields.
fn offset_doc(dev: &Device, bar: &ir::Bar, reg: &Register) -> String {
    let mut s = reg_doc(dev, bar, reg);
    s.push_str(&format!(" Width `{}`.", text::uint(reg.width)));
    let mut fields: Vec<&ir::Field> = reg.fields.iter().filter(|f| !f.implicit).collect();
    // High bits first, as the typed registers list them.
    fields.sort_by(|a, b| b.hi.cmp(&a.hi).then(b.lo.cmp(&a.lo)));
    let fields: Vec<String> = fields
        .iter()
        .map(|f| {
            let bits = if f.hi == f.lo {
                f.lo.to_string()
            } else {
                format!("{}:{}", f.hi, f.lo)
            };
            format!("`{}` {bits} ({})", f.name, f.access.keyword())
        })
        .collect();
    if !fields.is_empty() {
        s.push_str(&format!(" Fields: {}.", fields.join(", ")));
    }
    s
}

/// The enum of `field`'s named values. Its name is the field's in
/// CamelCase, or register and field when the name is shared (unless that
/// is longer than [`SUPPORTED_NAME_LEN`]: then a number is appended).
fn field_enum(reg: &Register, field: &ir::Field, shared: bool, names: &mut Names) -> EnumView {
    let short = text::camel(&field.name);
    let long = text::camel(&format!("{}_{}", reg.name, field.name));
    let name = if !shared && !names.contains(&short) {
        names.take(short)
    } else if long.len() <= SUPPORTED_NAME_LEN {
        names.take_camel(long)
    } else {
        names.take_camel(short)
    };
    let bits = field.bits();
    EnumView {
        doc: Doc(format!("Named values of `{}.{}`.", reg.name, field.name)),
        name,
        storage: text::uint(reg.width),
        bits,
        variants: field
            .variants
            .iter()
            .map(|(n, v)| Variant {
                name: text::camel(n),
                value: text::hex(*v),
            })
            .collect(),
        total: bits < 64 && field.variants.len() as u64 == 1u64 << bits,
    }
}

/// The register's entry and helpers; field enums are attached by the caller.
fn reg_view(dev: &Device, bar: &ir::Bar, reg: &Register) -> RegView {
    // An array's elements are reached through `at(i)`; helpers name one
    // fixed location, so an array has none.
    let helpers = if reg.array.is_some() {
        Vec::new()
    } else {
        helpers(dev, reg)
    };
    let taken: Vec<&str> = helpers.iter().map(|h| h.name.as_str()).collect();
    let mut fields: Vec<FieldView> = reg
        .fields
        .iter()
        .map(|f| {
            let reset = if f.reset != 0 {
                format!(", reset {}", text::hex(f.reset))
            } else {
                String::new()
            };
            FieldView {
                // An implicit field is the whole register, documented above.
                doc: (!f.implicit).then(|| Doc(format!("{}{reset}.", f.access.keyword()))),
                hi: f.hi,
                lo: f.lo,
                name: field_ident(&f.name, &taken),
                conversion: None,
            }
        })
        .collect();
    if fields.is_empty() {
        // No storage: one field over the whole register, for the raw value.
        fields.push(FieldView {
            doc: None,
            hi: reg.bits() - 1,
            lo: 0,
            name: "value".into(),
            conversion: None,
        });
    }
    RegView {
        doc: Doc(reg_doc(dev, bar, reg)),
        name: reg.item_name().to_string(),
        storage: text::uint(reg.width),
        offset: text::hex(reg.offset),
        count: reg.array.as_ref().map(|a| a.count),
        fields,
        helpers,
        access: Accessors::of(bar, reg.width),
    }
}

/// A field name `register!` accepts and no helper of the register uses:
/// `register!` reserves `from_raw`, `into_raw`, `into` and the prefixes
/// `with_`, `const_`, `try_with_`, `__`; an inherent `zeroed` getter would
/// shadow `Zeroable::zeroed`.
pub fn field_ident(name: &str, helpers: &[&str]) -> String {
    let reserved = ["from_raw", "into_raw", "into", "zeroed"].contains(&name)
        || ["with_", "const_", "try_with_", "__"]
            .iter()
            .any(|p| name.starts_with(p))
        || helpers.contains(&name);
    if reserved {
        format!("f_{name}")
    } else {
        name.to_string()
    }
}

fn reg_doc(dev: &Device, bar: &ir::Bar, reg: &Register) -> String {
    let mut s = match &reg.array {
        Some(a) => format!(
            "`{}[{}]` at BAR {} + {} (`{}_0` .. `{}_{}`, one every {} bytes; `index` is the element)",
            a.array,
            a.count,
            bar.index,
            text::hex(reg.offset),
            a.array,
            a.array,
            a.count - 1,
            a.stride
        ),
        None => format!(
            "`{}` at BAR {} + {}",
            reg.name,
            bar.index,
            text::hex(reg.offset)
        ),
    };
    if reg.has_storage() {
        let access = reg
            .access
            .map(|a| a.keyword().to_string())
            .unwrap_or_else(|| {
                let mut kinds: Vec<&str> = Vec::new();
                for f in &reg.fields {
                    if !kinds.contains(&f.access.keyword()) {
                        kinds.push(f.access.keyword());
                    }
                }
                kinds.join("/")
            });
        s.push_str(&format!(": {access}, reset {}", text::hex(reg.reset)));
    } else {
        s.push_str(" (no storage)");
    }
    let mut parts = Vec::new();
    if let Some(e) = &reg.read {
        parts.push(format!("reads `{}`", summary::expr(dev, e)));
    } else if !reg.readable() {
        parts.push("reads 0".to_string());
    }
    if !reg.on_read.is_empty() {
        parts.push(format!("a read runs `{}`", actions(dev, &reg.on_read)));
    }
    if !reg.on_write.is_empty() {
        parts.push(format!("a write runs `{}`", actions(dev, &reg.on_write)));
    }
    if !parts.is_empty() {
        s.push_str("; ");
        s.push_str(&parts.join("; "));
    }
    s.push('.');
    s
}

/// Actions as one line of spec-like text, cut short when long.
pub fn actions(dev: &Device, stmts: &[Stmt]) -> String {
    let text = stmts
        .iter()
        .map(|s| summary::stmt_line(dev, s))
        .collect::<Vec<_>>()
        .join("; ");
    if text.chars().count() > 240 {
        let cut: String = text.chars().take(240).collect();
        format!("{cut} ...")
    } else {
        text
    }
}

/// Mask of a register's fields of some access kinds.
fn mask_of(reg: &Register, kinds: &[AccessKind]) -> u64 {
    reg.fields
        .iter()
        .filter(|f| kinds.contains(&f.access))
        .fold(0, |m, f| m | f.mask())
}

fn helpers(dev: &Device, reg: &Register) -> Vec<HelperView> {
    let mut out = Vec::new();

    if reg.readable() {
        let mut doc = format!("Reads `{}`", reg.name);
        if let Some(e) = &reg.read {
            doc.push_str(&format!(": `{}`", summary::expr(dev, e)));
        }
        doc.push('.');
        let rclr: Vec<&ir::Field> = reg
            .fields
            .iter()
            .filter(|f| f.access == AccessKind::Rclr)
            .collect();
        match rclr.as_slice() {
            [] => {}
            [f] if f.implicit => doc.push_str(" Reading clears it."),
            fields => {
                let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                doc.push_str(&format!(" Reading clears `{}`.", names.join("`, `")));
            }
        }
        if !reg.on_read.is_empty() {
            doc.push_str(&format!(
                " Reading makes the device run `{}`.",
                actions(dev, &reg.on_read)
            ));
        }
        out.push(HelperView {
            doc: Doc(doc),
            name: "read".into(),
            kind: HelperKind::Read,
        });
    }

    let plain = reg
        .fields
        .iter()
        .any(|f| matches!(f.access, AccessKind::Rw | AccessKind::Wo));
    let ones = mask_of(reg, &[AccessKind::W1c, AccessKind::W1s]);
    if !reg.on_write.is_empty() || plain {
        let (name, mut doc) = if reg.on_write.is_empty() {
            ("write", format!("Writes `{}`.", reg.name))
        } else {
            (
                "trigger",
                format!(
                    "Writes `{}`, which makes the device run `{}`.",
                    reg.name,
                    actions(dev, &reg.on_write)
                ),
            )
        };
        if ones != 0 {
            doc.push_str(" Ones written to `w1c` / `w1s` fields clear / set them.");
        }
        out.push(HelperView {
            doc: Doc(doc),
            name: name.into(),
            kind: HelperKind::Write,
        });
    }

    let keep = mask_of(reg, &[AccessKind::Rw]);
    for f in &reg.fields {
        let (verb, what) = match f.access {
            AccessKind::W1c => ("clear", "Clears"),
            AccessKind::W1s => ("set", "Sets"),
            _ => continue,
        };
        let (name, target) = if f.implicit {
            (verb.to_string(), format!("`{}`", reg.name))
        } else {
            (
                format!("{verb}_{}", f.name),
                format!("`{}.{}`", reg.name, f.name),
            )
        };
        let mut doc = if ones & !f.mask() != 0 {
            format!(
                "{what} every bit of {target} (writes ones there and zeros to the other `w1c` / \
                 `w1s` fields)."
            )
        } else {
            format!("{what} every bit of {target} (writes ones there).")
        };
        let keep = (keep != 0 && reg.readable()).then(|| {
            doc.push_str(" Reads first, to keep the `rw` fields.");
            text::hex(keep)
        });
        out.push(HelperView {
            doc: Doc(doc),
            name,
            kind: HelperKind::Bits {
                bits: text::hex(f.mask()),
                keep,
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(bar_body: &str) -> Device {
        let text = format!(
            "device t {{ id 0x1234:0x5678; class 0xff:0x00:0x00; state st: u32 = 0;
             bar 0 mem64 size 4K {{ {bar_body} }} }}"
        );
        let c = pcidevc_dsl::compile_str("t.pcidev", &text);
        let errors: Vec<String> = c.errors().map(|d| d.message.clone()).collect();
        c.device.unwrap_or_else(|| panic!("{errors:?}"))
    }

    /// `REG::helper` for every helper, in BAR and offset order.
    fn helper_names(d: &Device) -> Vec<String> {
        bars(d, &NamedRegisters::default())
            .iter()
            .flat_map(|b| &b.registers)
            .flat_map(|r| {
                r.helpers
                    .iter()
                    .map(move |h| format!("{}::{}", r.name, h.name))
            })
            .collect()
    }

    #[test]
    fn helpers_follow_access_kinds_and_actions() {
        let d = dev("register A @ 0x0 : u32 rw;
             register B @ 0x4 : u32 ro = 7;
             register C @ 0x8 : u32 wo;
             register D @ 0xc : u32 w1c;
             register E @ 0x10 : u32 rclr;
             register F @ 0x14 : u32 { on write { st = value; } }
             register G @ 0x18 : u32 { read st; }
             register H @ 0x20 : u64 rw;
             register I @ 0x28 : u32 { field enable [0] rw; field ev [1] w1c; field go [2] w1s; }");
        assert_eq!(
            helper_names(&d),
            [
                "A::read",
                "A::write",
                "B::read",
                "C::write",
                "D::read",
                "D::clear",
                "E::read",
                "F::trigger",
                "G::read",
                "H::read",
                "H::write",
                "I::read",
                "I::write",
                "I::clear_ev",
                "I::set_go",
            ]
        );
        let views = bars(&d, &NamedRegisters::default());
        let reg = |n: &str| {
            views[0]
                .registers
                .iter()
                .find(|r| r.name == n)
                .expect("register")
        };
        let helper = |r: &str, h: &str| {
            reg(r)
                .helpers
                .iter()
                .find(|x| x.name == h)
                .expect("helper")
                .kind
                .clone()
        };
        // 64-bit registers on memory BARs use the run-time checked accessors.
        assert_eq!(reg("H").access.read, "try_read");
        assert_eq!(reg("H").access.value_type, "Result<Self>");
        assert_eq!(reg("H").access.write, "try_write_reg");
        assert_eq!(reg("A").access.read, "read");
        // w1c with an rw neighbour: read-modify-write keeping bit 0 only.
        assert_eq!(
            helper("I", "clear_ev"),
            HelperKind::Bits {
                bits: "0x2".into(),
                keep: Some("0x1".into())
            }
        );
        // Whole-register w1c: ones everywhere, no read.
        assert_eq!(
            helper("D", "clear"),
            HelperKind::Bits {
                bits: "0xffffffff".into(),
                keep: None
            }
        );
        let doc = |r: &str, h: &str| {
            reg(r)
                .helpers
                .iter()
                .find(|x| x.name == h)
                .expect("helper")
                .doc
                .0
                .clone()
        };
        assert!(doc("F", "trigger").contains("`st = value`"));
        assert!(doc("E", "read").contains("Reading clears it."));
        assert!(doc("G", "read").contains("Reads `G`: `st`."));
    }

    #[test]
    fn registers_and_fields_render_for_register_macro() {
        let d = dev("register CTRL @ 0x10 : u16 {
                 field mode [2:1] rw { low = 0, high = 1 }
                 field with_x [3] rw;
                 field go [0] w1s;
             }
             register STAT @ 0x20 : u32 { field mode [1:0] ro { a = 0, b = 1, c = 2, d = 3 } }");
        let views = bars(&d, &NamedRegisters::default());
        let b = &views[0];
        assert_eq!((b.index, b.size.as_str()), (0, "4096"));
        let ctrl = &b.registers[0];
        assert_eq!((ctrl.storage, ctrl.offset.as_str()), ("u16", "0x10"));
        // High bits first; `with_` is reserved by `register!`.
        // `hi:lo name` and the conversion, as the `register!` line reads.
        let fields: Vec<String> = ctrl
            .fields
            .iter()
            .map(|f| {
                let conversion = f.conversion.as_ref().map_or(String::new(), |c| {
                    format!(" {}=> {}", if c.total { "" } else { "?" }, c.name)
                });
                format!("{}:{} {}{conversion}", f.hi, f.lo, f.name)
            })
            .collect();
        assert_eq!(fields, ["3:3 f_with_x", "2:1 mode ?=> CtrlMode", "0:0 go"]);
        // `mode` is in two registers: the enums are named after both.
        let enums: Vec<(&str, bool)> = b.enums.iter().map(|e| (e.name.as_str(), e.total)).collect();
        assert_eq!(enums, [("CtrlMode", false), ("StatMode", true)]);
        assert_eq!((b.enums[1].storage, b.enums[1].bits), ("u32", 2));
    }

    #[test]
    fn reserved_and_helper_field_names_are_renamed() {
        assert_eq!(field_ident("mode", &[]), "mode");
        for n in [
            "into", "from_raw", "into_raw", "zeroed", "with_x", "const_y", "__z",
        ] {
            assert_eq!(field_ident(n, &[]), format!("f_{n}"));
        }
        assert_eq!(field_ident("read", &["read", "write"]), "f_read");
        assert_eq!(field_ident("read", &["trigger"]), "read");
        let d = dev(
            "register R @ 0x0 : u32 { field go [0] w1s; field done [1] w1c; field clear_done [2] rw; }",
        );
        let names: Vec<String> = bars(&d, &NamedRegisters::default())[0].registers[0]
            .fields
            .iter()
            .map(|f| f.name.clone())
            .collect();
        assert_eq!(names, ["f_clear_done", "done", "go"]);
    }
}
