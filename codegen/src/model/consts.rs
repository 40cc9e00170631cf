//! The register map as public constants, for the dispatch and for a VMM
//! developer embedding the model: one module per BAR (`bar0`, ...) and one
//! for configuration space (`config`) holding each register's offset, and
//! per register with fields a module of field masks, accessors and named
//! values as enums (`bar0::ctrl::MODE`, `bar0::ctrl::mode(v)`,
//! `bar0::ctrl::Mode::Fast`).
//!
//! Every name inside these modules comes from the spec, whose names are
//! unique per device and never Rust keywords (E0106), so the modules need
//! no renaming: offsets are UPPER_SNAKE constants, field modules and
//! accessors lower_snake, enums CamelCase.

use super::emit::{Kind, List, Piece};
use super::{Model, field_ident, lit_hex, uint_type, where_};
use pcidevc_dsl::ir::{self, Register};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The module holding a register's offset constant: `bar0`, or `config`.
pub(super) fn space_module(r: &Register) -> Ident {
    match r.space {
        ir::Space::Bar(n) => format_ident!("bar{}", n),
        ir::Space::Config => format_ident!("config"),
    }
}

/// A register's offset constant, as a path from the model module:
/// `bar0::RBR_THR`.
pub(super) fn offset_path(r: &Register) -> TokenStream {
    let m = space_module(r);
    let c = format_ident!("{}", r.item_name());
    match &r.array {
        // An element other than the first: the array's offset plus its own.
        Some(a) if a.index > 0 => {
            let d = lit_hex(a.index * a.stride);
            quote!(#m::#c + #d)
        }
        _ => quote!(#m::#c),
    }
}

/// `lower_snake` as `CamelCase`.
fn camel(name: &str) -> String {
    name.split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Bytes, for doc comments.
fn bytes(n: u64) -> String {
    if n == 1 {
        "1 byte".to_owned()
    } else {
        format!("{n} bytes")
    }
}

impl Model<'_> {
    /// `pub mod bar0 { ... }` per BAR with registers, and `pub mod config`
    /// when the device has configuration-space registers.
    pub(super) fn register_map(&self) -> Vec<Piece<'_>> {
        let d = self.dev;
        let mut out = Vec::new();
        for bar in &d.bars {
            if bar.registers.is_empty() {
                continue;
            }
            let m = format_ident!("bar{}", bar.index);
            let doc = format!(
                " Register offsets in BAR {} ({}), and their fields.",
                bar.index,
                crate::doc::model::bar_what(bar),
            );
            // One entry per array (its head), as in the layout.
            let regs: Vec<&Register> = d.layout_registers(bar).map(|r| d.register(r)).collect();
            out.push(Self::space_mod(m, doc, regs));
        }
        if !d.config_registers.is_empty() {
            let m = format_ident!("config");
            let doc = " Offsets of the configuration-space registers, and their fields.";
            let regs: Vec<&Register> = d.config_registers.iter().map(|r| d.register(*r)).collect();
            out.push(Self::space_mod(m, doc.to_owned(), regs));
        }
        out
    }

    /// `pub mod NAME { ... }`: the offsets, then the field modules, each a
    /// list.
    fn space_mod<'r>(m: Ident, doc: String, regs: Vec<&'r Register>) -> Piece<'r> {
        let regs = std::rc::Rc::new(regs);
        let (r1, r2) = (regs.clone(), regs.clone());
        let items = List {
            len: regs.len(),
            kind: Kind::ModItem,
            weight: 1,
            elems: Box::new(move |range| Self::offset_items(&r1, range)),
        };
        let fields = List {
            len: regs.len(),
            kind: Kind::ModItem,
            weight: 1,
            elems: Box::new(move |range| r2[range].iter().map(|r| Self::fields_mod(r)).collect()),
        };
        Piece {
            lists: vec![items, fields],
            build: Box::new(move |fill| {
                let (items, fields) = (fill(0), fill(1));
                quote! {
                    #[doc = #doc]
                    pub mod #m {
                        #items
                        #fields
                    }
                }
            }),
        }
    }

    /// The offset constants of `regs[range]`.
    fn offset_items(regs: &[&Register], range: std::ops::Range<usize>) -> TokenStream {
        let items = regs[range].iter().map(|r| {
            let c = format_ident!("{}", r.item_name());
            let offset = lit_hex(r.offset);
            match r.array_head() {
                // An array: its first element's offset and the count
                // (element i at `NAME + i * width`).
                Some(a) => {
                    let doc = format!(
                        " `{}[{}]`: element i at this offset + i * {}.",
                        a.array,
                        a.count,
                        bytes(r.width.into())
                    );
                    let name = format!("{}_COUNT", a.array);
                    let count = proc_macro2::Literal::u64_unsuffixed(a.count);
                    let count_doc = format!(" Elements of `{}`.", a.array);
                    // (A register of that name keeps it: names are unique.)
                    let count_const = (!regs.iter().any(|o| o.item_name() == name)).then(|| {
                        let n = format_ident!("{}", name);
                        quote!(#[doc = #count_doc] pub const #n: u64 = #count;)
                    });
                    quote! {
                        #[doc = #doc]
                        pub const #c: u64 = #offset;
                        #count_const
                    }
                }
                None => {
                    let doc = format!(" `{}`: {}.", r.name, bytes(r.width.into()));
                    quote! {
                        #[doc = #doc]
                        pub const #c: u64 = #offset;
                    }
                }
            }
        });
        quote!(#(#items)*)
    }

    /// A register's fields: mask constants (in register position), an
    /// accessor per field, and an enum per field with named values.
    /// Nothing for a register without declared fields.
    fn fields_mod(r: &Register) -> TokenStream {
        let fields: Vec<&ir::Field> = r.fields.iter().filter(|f| !f.implicit).collect();
        if fields.is_empty() {
            return quote!();
        }
        let m = field_ident(r.item_name());
        let ty = uint_type(r.bits());
        let doc = format!(
            " Fields of `{}` ({} + {:#x}): masks in register position,",
            r.item_name(),
            where_(r),
            r.offset
        );
        // Two fields whose enums would share a name get none.
        let mut enum_names = std::collections::BTreeMap::new();
        for f in fields.iter().filter(|f| !f.variants.is_empty()) {
            *enum_names.entry(camel(&f.name)).or_insert(0) += 1;
        }
        let items = fields.iter().map(|f| {
            let c = format_ident!("{}", f.name.to_ascii_uppercase());
            let mask = lit_hex(f.mask());
            let bits = if f.lo == f.hi {
                format!("bit {}", f.lo)
            } else {
                format!("bits {}..={}", f.lo, f.hi)
            };
            let doc = format!(" `{}`: {bits}, {}.", f.name, f.access.keyword());
            let get = format_ident!("{}", f.name);
            let get_doc = format!(" `{}` of a `{}` value.", f.name, r.name);
            let lo = lit_hex(f.lo.into());
            let value = if f.lo == 0 {
                quote!(value & #c)
            } else {
                quote!((value & #c) >> #lo)
            };
            let named = if enum_names.get(&camel(&f.name)).copied().unwrap_or(0) == 1 {
                Self::field_enum(f, &ty)
            } else {
                quote!()
            };
            quote! {
                #[doc = #doc]
                pub const #c: #ty = #mask;

                #[doc = #get_doc]
                pub fn #get(value: #ty) -> #ty {
                    #value
                }

                #named
            }
        });
        quote! {
            #[doc = #doc]
            #[doc = " accessors and named values."]
            pub mod #m {
                #(#items)*
            }
        }
    }

    /// `pub enum Mode { ... }` for a field with named values, with
    /// conversions from and to the field's value. Nothing when two names
    /// would read the same in CamelCase or the name is a prelude type's.
    fn field_enum(f: &ir::Field, ty: &Ident) -> TokenStream {
        let name = camel(&f.name);
        let mut names = std::collections::BTreeSet::new();
        let distinct = f.variants.iter().all(|(n, _)| names.insert(camel(n)));
        if f.variants.is_empty() || !distinct || PRELUDE_TYPES.contains(&name.as_str()) {
            return quote!();
        }
        let name = format_ident!("{}", name);
        let variants: Vec<(Ident, TokenStream, &str, u64)> = f
            .variants
            .iter()
            .map(|(n, v)| (format_ident!("{}", camel(n)), lit_hex(*v), n.as_str(), *v))
            .collect();
        let decl = variants.iter().map(|(n, _, spec, raw)| {
            let doc = format!(" `{spec}` ({raw:#x}).");
            quote!(#[doc = #doc] #n,)
        });
        // Two names for one value: the first is the one a value converts to.
        let mut seen = std::collections::BTreeSet::new();
        let from = variants
            .iter()
            .filter(|(_, _, _, raw)| seen.insert(*raw))
            .map(|(n, v, _, _)| quote!(#v => Some(#name::#n),));
        let to = variants.iter().map(|(n, v, _, _)| quote!(#name::#n => #v,));
        let doc = format!(" Named values of `{}`.", f.name);
        quote! {
            #[doc = #doc]
            // No `Hash` (`value()` is the key when one is needed): its
            // derive cost more to compile than the rest of the enum (28%
            // of a 10k-register model's `cargo check`).
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub enum #name {
                #(#decl)*
            }

            impl #name {
                /// The named value a field value has, if any.
                pub fn from_value(value: #ty) -> Option<Self> {
                    match value {
                        #(#from)*
                        _ => None,
                    }
                }

                /// The field value.
                pub fn value(self) -> #ty {
                    match self {
                        #(#to)*
                    }
                }
            }
        }
    }
}

/// Prelude names a field enum must not shadow (the enum's own methods use
/// `Option`).
const PRELUDE_TYPES: &[&str] = &[
    "Option",
    "Result",
    "Some",
    "None",
    "Ok",
    "Err",
    "Box",
    "Vec",
    "String",
    "Self",
    "Copy",
    "Clone",
    "Debug",
    "Default",
    "Eq",
    "PartialEq",
    "Hash",
    "Send",
    "Sync",
    "Sized",
];
