//! BARs and registers: one `register!` block per BAR (in a module `barN`),
//! field enums, and the access helpers on `Bars` that carry what `register!`
//! does not know: the spec's access semantics.
//!
//! Helpers, per register (names in lower case):
//! - `read_reg()` if a read can return something (a computed `read`, or a
//!   readable field); 64-bit registers on memory BARs return `Result` (7.3's
//!   build-time checked accessors refuse 8-byte accesses on a `pci::Bar`);
//! - `trigger_reg(value)` if a write runs `on write` actions, else
//!   `write_reg(value)` if it has a `rw`/`wo` field; none for read-only ones;
//! - `clear_reg_field()` per `w1c` field and `set_reg_field()` per `w1s`
//!   field: a write with ones in that field only, read-modify-write when the
//!   register also has `rw` fields (so they keep their value).

use super::layout::{self, Names};
use crate::summary;
use pcidevc_dsl::ir::{self, AccessKind, BarKind, Device, InvalidAccess, Register, Stmt};

/// One BAR, for the templates.
#[derive(Debug)]
pub struct BarView {
    pub index: u8,
    /// `bar1` (the `Bars` field and the register module).
    pub field: String,
    /// `Bar1` (the type alias).
    pub alias: String,
    /// `BAR1_SIZE`.
    pub size_const: String,
    /// The size as a literal.
    pub size: String,
    /// "I/O, 16 bytes" and the like.
    pub what: String,
    pub is_io: bool,
    /// Doc lines of the register module.
    pub module_doc: String,
    pub registers: Vec<RegView>,
    pub enums: Vec<EnumView>,
}

/// One register of a `register!` block.
#[derive(Debug)]
pub struct RegView {
    /// Doc lines, indented for the `register!` block.
    pub doc: String,
    pub name: String,
    pub storage: &'static str,
    pub offset: String,
    pub fields: Vec<FieldView>,
}

/// One field line: `hi:lo name [=> T | ?=> T];`.
#[derive(Debug)]
pub struct FieldView {
    pub doc: String,
    pub hi: u32,
    pub lo: u32,
    pub name: String,
    /// ` => T` or ` ?=> T`, or empty.
    pub conversion: String,
}

/// A field's named values as a Rust enum, converted from/to the field's
/// `Bounded` by `register!`.
#[derive(Debug)]
pub struct EnumView {
    pub doc: String,
    pub name: String,
    /// `Bounded<u32, 2>`.
    pub bounded: String,
    pub storage: &'static str,
    pub variants: Vec<(String, String)>,
    /// Every bit pattern has a name (infallible `=>`).
    pub total: bool,
    /// `impl From<Bounded> for Enum {` or `impl TryFrom<Bounded> for Enum {`.
    pub from_bounded: String,
    /// `impl From<Enum> for Bounded {`.
    pub into_bounded: String,
}

/// One `Bars` helper method, laid out.
#[derive(Debug)]
pub struct HelperView {
    pub doc: String,
    pub sig: String,
    pub body: String,
}

/// Is a `width`-byte register on `bar` accessed through the run-time checked
/// accessors? (8 bytes on a memory BAR.)
pub fn fallible(bar: &ir::Bar, width: u8) -> bool {
    width == 8 && !bar.kind.is_io()
}

fn kind_text(bar: &ir::Bar) -> String {
    let kind = match bar.kind {
        BarKind::Io => "I/O".to_string(),
        BarKind::Mem32 { .. } => "32-bit memory".to_string(),
        BarKind::Mem64 { .. } => "64-bit memory".to_string(),
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
    format!("{align}{}-byte accesses; others are {invalid}", sizes)
}

/// Builds every BAR's view, and the `Bars` helpers in BAR and offset order.
pub fn bars(dev: &Device) -> (Vec<BarView>, Vec<HelperView>) {
    let mut helpers = Vec::new();
    let mut names = Names::default();
    let views = dev
        .bars
        .iter()
        .map(|bar| {
            let field = format!("bar{}", bar.index);
            let mut enum_names = Names::default();
            // Names the module (or the enum impls) already use.
            for used in [
                "Bounded", "From", "TryFrom", "Result", "Ok", "Err", "Self", "register",
            ] {
                enum_names.take(used.to_string());
            }
            for r in &bar.registers {
                enum_names.take(dev.register(*r).name.clone());
            }
            // A field's enum is named after the field, or after register and
            // field when several fields of this BAR share a name.
            let mut field_count = std::collections::BTreeMap::<&str, usize>::new();
            for r in &bar.registers {
                for f in dev
                    .register(*r)
                    .fields
                    .iter()
                    .filter(|f| !f.variants.is_empty())
                {
                    *field_count.entry(f.name.as_str()).or_default() += 1;
                }
            }
            let mut enums = Vec::new();
            let registers = bar
                .registers
                .iter()
                .map(|id| {
                    let reg = dev.register(*id);
                    helpers.extend(reg_helpers(dev, bar, reg, &field, &mut names));
                    reg_view(dev, bar, reg, &mut enums, &mut enum_names, &field_count)
                })
                .collect();
            BarView {
                index: bar.index,
                alias: format!("Bar{}", bar.index),
                size_const: format!("BAR{}_SIZE", bar.index),
                size: size_lit(bar.size),
                what: kind_text(bar),
                is_io: bar.kind == BarKind::Io,
                module_doc: layout::doc_block(
                    0,
                    "///",
                    &format!(
                        "Registers of BAR {} ({}; {}).",
                        bar.index,
                        kind_text(bar),
                        policy_text(bar)
                    ),
                ),
                field,
                registers,
                enums,
            }
        })
        .collect();
    (views, helpers)
}

/// Sizes up to 4 KiB in decimal, larger ones in hex.
pub fn size_lit(v: u64) -> String {
    if v <= 4096 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

fn reg_view(
    dev: &Device,
    bar: &ir::Bar,
    reg: &Register,
    enums: &mut Vec<EnumView>,
    enum_names: &mut Names,
    field_count: &std::collections::BTreeMap<&str, usize>,
) -> RegView {
    let storage = layout::uint(reg.width);
    let mut fields: Vec<FieldView> = reg
        .fields
        .iter()
        .map(|f| {
            let mut conversion = String::new();
            if !f.variants.is_empty() {
                let shared = field_count.get(f.name.as_str()).is_some_and(|n| *n > 1);
                let long = layout::camel(&format!("{}_{}", reg.name, f.name));
                let short = layout::camel(&f.name);
                let name = if !shared && !enum_names.contains(&short) {
                    enum_names.take(short)
                } else {
                    enum_names.take_camel(long)
                };
                let total = f.bits() < 64 && f.variants.len() as u64 == 1u64 << f.bits();
                conversion = format!(" {}=> {name}", if total { "" } else { "?" });
                let bounded = format!("Bounded<{storage}, {}>", f.bits());
                let from_trait = if total { "From" } else { "TryFrom" };
                enums.push(EnumView {
                    doc: layout::doc_block(
                        4,
                        "///",
                        &format!("Named values of `{}.{}`.", reg.name, f.name),
                    ),
                    from_bounded: layout::impl_header(
                        4,
                        &format!("{from_trait}<{bounded}>"),
                        &name,
                    ),
                    into_bounded: layout::impl_header(4, &format!("From<{name}>"), &bounded),
                    name,
                    bounded,
                    storage,
                    variants: f
                        .variants
                        .iter()
                        .map(|(n, v)| (layout::camel(n), layout::hex(*v)))
                        .collect(),
                    total,
                });
            }
            let reset = if f.reset != 0 {
                format!(", reset {}", layout::hex(f.reset))
            } else {
                String::new()
            };
            FieldView {
                // An implicit field is the whole register, documented above.
                doc: if f.implicit {
                    String::new()
                } else {
                    layout::doc_block(12, "///", &format!("{}{reset}.", f.access.keyword()))
                },
                hi: f.hi,
                lo: f.lo,
                name: field_ident(&f.name),
                conversion,
            }
        })
        .collect();
    if fields.is_empty() {
        // No storage: one field over the whole register, for the raw value.
        fields.push(FieldView {
            doc: String::new(),
            hi: reg.bits() - 1,
            lo: 0,
            name: "value".into(),
            conversion: String::new(),
        });
    }
    // `register!` wants fields from the high bits down, like datasheets.
    fields.sort_by(|a, b| b.hi.cmp(&a.hi).then(b.lo.cmp(&a.lo)));
    RegView {
        doc: layout::doc_block(8, "///", &reg_doc(dev, bar, reg)),
        name: reg.name.clone(),
        storage,
        offset: layout::hex(reg.offset),
        fields,
    }
}

/// A field name `register!` accepts: it reserves `from_raw`, `into_raw`,
/// `into` and the prefixes `with_`, `const_`, `try_with_`, `__`; and an
/// inherent `zeroed` getter would shadow `Zeroable::zeroed`.
pub fn field_ident(name: &str) -> String {
    let reserved = ["from_raw", "into_raw", "into", "zeroed"].contains(&name)
        || ["with_", "const_", "try_with_", "__"]
            .iter()
            .any(|p| name.starts_with(p));
    if reserved {
        format!("f_{name}")
    } else {
        name.to_string()
    }
}

fn reg_doc(dev: &Device, bar: &ir::Bar, reg: &Register) -> String {
    let mut s = format!(
        "`{}` at BAR {} + {}",
        reg.name,
        bar.index,
        layout::hex(reg.offset)
    );
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
        s.push_str(&format!(": {access}, reset {}", layout::hex(reg.reset)));
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

fn reg_helpers(
    dev: &Device,
    bar: &ir::Bar,
    reg: &Register,
    field: &str,
    names: &mut Names,
) -> Vec<HelperView> {
    let lower = reg.name.to_lowercase();
    let path = format!("{field}::{}", reg.name);
    let root = format!("self.{field}");
    let fallible = fallible(bar, reg.width);
    let mut out = Vec::new();
    let result = |t: &str| {
        if fallible {
            format!("Result<{t}>")
        } else {
            t.to_string()
        }
    };

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
        let name = names.take(format!("read_{lower}"));
        let method = if fallible { "try_read" } else { "read" };
        out.push(HelperView {
            doc: layout::doc_block(4, "///", &doc),
            sig: layout::fn_sig(4, &name, &["&self"], Some(&result(&path))),
            body: layout::chain_tail(8, &root, method, &path),
        });
    }

    let plain = reg
        .fields
        .iter()
        .any(|f| matches!(f.access, AccessKind::Rw | AccessKind::Wo));
    let write_method = if fallible {
        "try_write_reg"
    } else {
        "write_reg"
    };
    if !reg.on_write.is_empty() || plain {
        let (verb, doc) = if reg.on_write.is_empty() {
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
        let mut doc = doc;
        if mask_of(reg, &[AccessKind::W1c, AccessKind::W1s]) != 0 {
            doc.push_str(" Ones written to `w1c` / `w1s` fields clear / set them.");
        }
        let name = names.take(format!("{verb}_{lower}"));
        let ret = if fallible { Some("Result") } else { None };
        let param = format!("value: {path}");
        out.push(HelperView {
            doc: layout::doc_block(4, "///", &doc),
            sig: layout::fn_sig(4, &name, &["&self", &param], ret),
            body: layout::chain_tail(8, &root, write_method, "value"),
        });
    }

    let keep = mask_of(reg, &[AccessKind::Rw]);
    for f in &reg.fields {
        let (verb, what) = match f.access {
            AccessKind::W1c => ("clear", "Clears"),
            AccessKind::W1s => ("set", "Sets"),
            _ => continue,
        };
        let name = if f.implicit {
            names.take(format!("{verb}_{lower}"))
        } else {
            names.take(format!("{verb}_{lower}_{}", f.name))
        };
        let target = if f.implicit {
            format!("`{}`", reg.name)
        } else {
            format!("`{}.{}`", reg.name, f.name)
        };
        let others = mask_of(reg, &[AccessKind::W1c, AccessKind::W1s]) & !f.mask() != 0;
        let mut doc = if others {
            format!(
                "{what} every bit of {target} (writes ones there and zeros to the other `w1c` / `w1s` fields)."
            )
        } else {
            format!("{what} every bit of {target} (writes ones there).")
        };
        let ret = if fallible { Some("Result") } else { None };
        let body = if keep != 0 && reg.readable() {
            doc.push_str(" Reads first, to keep the `rw` fields.");
            let read = if fallible {
                format!("io.try_read({path})?")
            } else {
                format!("io.read({path})")
            };
            [
                format!("        let io = &{root};"),
                layout::let_stmt(8, "current", &read),
                format!(
                    "        let keep = current.into_raw() & {};",
                    layout::hex(keep)
                ),
                layout::let_from_raw(
                    8,
                    "value",
                    &path,
                    &format!("keep | {}", layout::hex(f.mask())),
                ),
                format!("        io.{write_method}(value)"),
            ]
            .join("\n")
        } else {
            let write = layout::let_from_raw(8, "value", &path, &layout::hex(f.mask()));
            format!(
                "{write}\n{}",
                layout::chain_tail(8, &root, write_method, "value")
            )
        };
        out.push(HelperView {
            doc: layout::doc_block(4, "///", &doc),
            sig: layout::fn_sig(4, &name, &["&self"], ret),
            body,
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

    fn helper_names(d: &Device) -> Vec<String> {
        bars(d)
            .1
            .iter()
            .map(|h| {
                let sig = h.sig.trim_start().trim_start_matches("fn ");
                sig[..sig.find('(').unwrap_or(sig.len())].to_string()
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
                "read_a",
                "write_a",
                "read_b",
                "write_c",
                "read_d",
                "clear_d",
                "read_e",
                "trigger_f",
                "read_g",
                "read_h",
                "write_h",
                "read_i",
                "write_i",
                "clear_i_ev",
                "set_i_go",
            ]
        );
        let (_, helpers) = bars(&d);
        let find = |n: &str| {
            helpers
                .iter()
                .find(|h| h.sig.contains(&format!("fn {n}(")))
                .expect("helper")
        };
        // 64-bit registers on memory BARs use the run-time checked accessors.
        assert!(find("read_h").sig.ends_with("-> Result<bar0::H> {"));
        assert!(find("read_h").body.contains("try_read(bar0::H)"));
        assert!(find("write_h").body.contains("try_write_reg(value)"));
        // w1c with an rw neighbour: read-modify-write keeping bit 0 only.
        let c = &find("clear_i_ev").body;
        assert!(c.contains("let keep = current.into_raw() & 0x1;"), "{c}");
        assert!(c.contains("bar0::I::from_raw(keep | 0x2)"), "{c}");
        // Whole-register w1c: ones everywhere, no read.
        assert!(
            find("clear_d")
                .body
                .contains("bar0::D::from_raw(0xffffffff)")
        );
        assert!(find("trigger_f").doc.contains("`st = value`"));
        assert!(find("read_e").doc.contains("Reading clears it."));
        assert!(find("read_g").doc.contains("Reads `G`: `st`."));
    }

    #[test]
    fn registers_and_fields_render_for_register_macro() {
        let d = dev("register CTRL @ 0x10 : u16 {
                 field mode [2:1] rw { low = 0, high = 1 }
                 field with_x [3] rw;
                 field go [0] w1s;
             }
             register STAT @ 0x20 : u32 { field mode [1:0] ro { a = 0, b = 1, c = 2, d = 3 } }");
        let (views, _) = bars(&d);
        let b = &views[0];
        assert_eq!(b.field, "bar0");
        assert_eq!((b.alias.as_str(), b.size.as_str()), ("Bar0", "4096"));
        let ctrl = &b.registers[0];
        assert_eq!((ctrl.storage, ctrl.offset.as_str()), ("u16", "0x10"));
        // High bits first; `into` is reserved by `register!`.
        let fields: Vec<(u32, u32, &str, &str)> = ctrl
            .fields
            .iter()
            .map(|f| (f.hi, f.lo, f.name.as_str(), f.conversion.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (3, 3, "f_with_x", ""),
                (2, 1, "mode", " ?=> CtrlMode"),
                (0, 0, "go", "")
            ]
        );
        // `mode` is in two registers: the enums are named after both.
        let enums: Vec<(&str, bool)> = b.enums.iter().map(|e| (e.name.as_str(), e.total)).collect();
        assert_eq!(enums, [("CtrlMode", false), ("StatMode", true)]);
        assert_eq!(b.enums[1].bounded, "Bounded<u32, 2>");
        assert_eq!(
            b.enums[1].from_bounded,
            "    impl From<Bounded<u32, 2>> for StatMode {"
        );
    }

    #[test]
    fn reserved_field_names_are_renamed() {
        assert_eq!(field_ident("mode"), "mode");
        for n in [
            "into", "from_raw", "into_raw", "zeroed", "with_x", "const_y", "__z",
        ] {
            assert_eq!(field_ident(n), format!("f_{n}"));
        }
        assert_eq!(size_lit(4096), "4096");
        assert_eq!(size_lit(8192), "0x2000");
    }
}
