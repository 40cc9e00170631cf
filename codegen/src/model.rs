//! IR -> Rust device model for rust-vmm hosts (quote + prettyplease).
//!
//! One module per spec. It holds only what is specific to the device:
//! - `INFO`: identity, BARs, access policies and register layout, as
//!   `pcidev_runtime::DeviceInfo`;
//! - `State` (the spec's `state` items) and `Storage` (registers with an
//!   access kind), both with `Default` = reset;
//! - `Hooks`: a trait with one method per `hook` (empty when there are none;
//!   `NoHooks` implements it then);
//! - `Device<H>`: one read and one write method per register implementing
//!   its access kinds, computed read and actions, and the
//!   `pcidev_runtime::Registers` impl dispatching to them;
//! - `scenarios`: the spec's scenarios as static step tables for
//!   `pcidev_runtime::scenario`, and a `#[cfg(test)]` test per scenario.
//!
//! A big spec (a BAR of more than 256 registers, more than 256 registers
//! or states) gets the same model in pieces rustc checks in linear time:
//! the fast path and the register dispatch in runs of 256 registers
//! (`fast_path`, `chunks`), `State` / `Storage` in parts (`parts`),
//! the snapshot's saves and the state probes in runs (`snapshot::Runs`,
//! `dispatch::probe_runs`).
//!
//! Everything generic (config space, BAR policy, splitting accesses over
//! registers, the interrupt line, DMA, tracing) lives in the runtime; see
//! `pcidev_runtime`'s docs for the semantics. Generated code contains no
//! `unsafe` and no operation that can panic: arithmetic wraps, and
//! division, shifts and buffer indexing go through `pcidev_runtime::ops`.

mod arrays;
mod chunks;
mod consts;
mod device;
mod dispatch;
mod emit;
mod expr;
mod fast_path;
mod info;
mod parts;
mod scenarios;
mod snapshot;
mod spacing;
mod types;
mod usage;

use crate::OutputFile;
use pcidevc_dsl::ir::{self, Device, Register};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};
pub use spacing::unparse;
use std::path::PathBuf;

/// The generated model module for `dev`, as a formatted Rust file.
pub fn render(dev: &Device) -> OutputFile {
    OutputFile {
        path: PathBuf::from("model.rs"),
        contents: render_source(dev),
    }
}

/// The model module's source text (formatted, with its header comment),
/// printed a piece at a time (see `emit`); the same text as formatting
/// [`tokens`] whole.
pub fn render_source(dev: &Device) -> String {
    let model = Model::new(dev);
    let mut out = emit::Out::new();
    for piece in model.pieces() {
        if emit::emit(&piece, &mut out).is_err() {
            // The whole module's error message, as below.
            return render_whole(dev);
        }
    }
    out.finish()
}

/// Lints that judge the arithmetic and logic a spec wrote, which the model
/// mirrors one for one (`read A & 0;`, `if c { 2 } else { 2 }`, `x <= 0xff`
/// on a u8, `if a { if b { .. } }`): allowed in every generated model, so a
/// model is clippy-clean whatever its spec says. The generator's own
/// rendering is kept free of them: `SPEC_FUZZ_ALL_LINTS=1 cargo xtask
/// spec-fuzz` forces them back on (`--force-warn`) to find where it is not.
pub const SPEC_LOGIC_LINTS: &[&str] = &[
    "unused_comparisons",
    "clippy::absurd_extreme_comparisons",
    "clippy::assign_op_pattern",
    "clippy::bad_bit_mask",
    "clippy::bool_comparison",
    "clippy::collapsible_else_if",
    "clippy::collapsible_if",
    "clippy::double_comparisons",
    "clippy::eq_op",
    "clippy::erasing_op",
    "clippy::identity_op",
    "clippy::if_same_then_else",
    "clippy::ifs_same_cond",
    "clippy::ineffective_bit_mask",
    "clippy::int_plus_one",
    "clippy::manual_is_multiple_of",
    "clippy::manual_range_contains",
    "clippy::needless_bool",
    "clippy::nonminimal_bool",
    "clippy::overly_complex_bool_expr",
    "clippy::self_assignment",
    "clippy::zero_divided_by_zero",
];

/// How a model that is not valid Rust starts its `compile_error!`.
pub(crate) const INVALID_RUST: &str = "pcidevc generated invalid Rust";

/// The model module's source text, formatted whole.
fn render_whole(dev: &Device) -> String {
    let tokens = tokens(dev);
    let file: syn::File = match syn::parse2(tokens) {
        Ok(f) => f,
        // The generator builds only valid syntax; should it ever not, fail
        // loudly in the output rather than panic in a user's build (the
        // CLI refuses to write it: `OutputFile::internal_error`).
        Err(e) => return format!("compile_error!(\"{INVALID_RUST}: {e}\");\n"),
    };
    unparse(&file)
}

/// The model module's items as tokens (what the `#[pci_device]` macro emits
/// inside a module).
pub fn tokens(dev: &Device) -> TokenStream {
    Model::new(dev).file()
}

struct Model<'a> {
    dev: &'a Device,
    /// What the interrupt level reads.
    level: std::rc::Rc<ir::LevelInputs>,
    /// Is the level tracked: does what it reads change only through guest
    /// accesses' statements and stores
    /// ([`pcidevc_dsl::ir::LevelInputs::tracked`]), and some fast-path
    /// access change it only through statements? Then those statements
    /// note the change and the fast path recomputes the level only after
    /// one did (`fast_path::Change::Noted`).
    level_tracked: bool,
    /// The register-map modules (`bar0`, `config`) the scenarios name
    /// offsets from, to import exactly those.
    scenario_maps: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

/// See [`Model::level_tracked`].
fn level_tracked(dev: &Device, level: &ir::LevelInputs) -> bool {
    let noted =
        |id, write| fast_path::change(dev, level, true, id, write) == fast_path::Change::Noted;
    dev.interrupt.level.is_some()
        && level.tracked()
        && dev
            .bars
            .iter()
            .flat_map(|b| dev.fast_path_registers(b))
            .any(|id| noted(id, false) || noted(id, true))
}

/// An unsuffixed integer literal: decimal below 10, hex otherwise.
pub(crate) fn lit_hex(v: u64) -> TokenStream {
    let text = if v < 10 {
        v.to_string()
    } else {
        format!("{v:#x}")
    };
    let lit = syn::LitInt::new(&text, Span::call_site());
    quote!(#lit)
}

/// An unsuffixed decimal integer literal (indices, counts).
pub(crate) fn lit_dec(v: u64) -> TokenStream {
    let lit = proc_macro2::Literal::u64_unsuffixed(v);
    quote!(#lit)
}

/// Spec text (a description) as one line of a doc comment: tabs as four
/// spaces (clippy's `tabs_in_doc_comments`), line breaks as spaces.
fn doc_text(s: &str) -> String {
    s.replace('\t', "    ").replace(['\n', '\r'], " ")
}

fn lit_str(s: &str) -> proc_macro2::Literal {
    proc_macro2::Literal::string(s)
}

/// The Rust type holding `bits` bits of storage.
fn uint_type(bits: u32) -> Ident {
    format_ident!("u{}", bits.clamp(8, 64).next_power_of_two())
}

pub(crate) fn field_ident(name: &str) -> Ident {
    format_ident!("{}", name.to_ascii_lowercase())
}

impl<'a> Model<'a> {
    fn new(dev: &'a Device) -> Self {
        let level = dev.level_inputs();
        Model {
            dev,
            scenario_maps: Default::default(),
            level_tracked: level_tracked(dev, &level),
            level: std::rc::Rc::new(level),
        }
    }

    fn file(&self) -> TokenStream {
        let mut out = TokenStream::new();
        for p in self.pieces() {
            out.extend(p.tokens());
        }
        out
    }

    /// The module's items in order, as pieces to print one at a time.
    fn pieces(&self) -> Vec<emit::Piece<'_>> {
        let dev = self.dev;
        let doc_title = format!(
            " Device model of `{}`{}.",
            dev.name,
            if dev.description.is_empty() {
                String::new()
            } else {
                format!(" ({})", doc_text(&dev.description))
            }
        );
        let doc_src = format!(
            " Generated by {} from `{}`.",
            crate::generator(dev),
            crate::summary::file_name(&dev.source_name)
        );
        // Import exactly what this device uses: generated code is warning-free.
        let mut names = vec!["DeviceCtx", "DeviceInfo", "Model", "Registers"];
        if !dev.bars.is_empty() {
            names.extend([
                "AccessPolicy",
                "AccessSizes",
                "BarInfo",
                "BarKind",
                "InvalidAccess",
                "Unmapped",
            ]);
        }
        if dev.bars.iter().any(|b| !b.registers.is_empty()) || !dev.config_registers.is_empty() {
            names.push("RegisterLayout");
        }
        let config_sizes = dev
            .config_registers
            .iter()
            .any(|r| dev.register(*r).sizes.is_some());
        if dev.bars.is_empty() && config_sizes {
            names.push("AccessSizes");
        }
        if !dev.capabilities.is_empty() {
            names.push("VendorCapInfo");
        }
        if dev
            .bars
            .iter()
            .any(|b| dev.fast_path_registers(b).next().is_some())
        {
            names.push("Level");
        }
        if dev.interrupt.pin.is_some() {
            names.push("IntxPin");
        }
        if dev.windows().next().is_some() {
            names.extend(["Bytes", "WindowInfo"]);
        }
        if dev.interrupt.msi_vectors.is_some() {
            names.push("MsiInfo");
        }
        if dev.interrupt.msix.is_some() {
            names.push("MsixInfo");
        }
        names.sort_unstable();
        let imports = names.iter().map(|n| format_ident!("{}", n));
        let spec_logic_lints = SPEC_LOGIC_LINTS
            .iter()
            .map(|l| syn::parse_str::<syn::Path>(l).expect("a lint path"));
        let header = quote! {
            #![doc = #doc_title]
            #![doc = ""]
            #![doc = #doc_src]
            #![doc = " Do not edit: change the spec and run `pcidevc` again."]
            #![doc = ""]
            #![doc = " Plug it into a rust-vmm host as `pcidev_runtime::Model<Device>` (see [`model`]): it"]
            #![doc = " implements `vm_device::MutDevicePio` / `MutDeviceMmio` (offsets relative to the BAR"]
            #![doc = " base) and `pcidev_runtime::PciModel` (config space, BARs, interrupts, DMA, trace)."]
            #![allow(#(#spec_logic_lints),*)]

            use pcidev_runtime::{#(#imports),*};
        };
        let mut pieces = vec![emit::Piece::plain(header), self.info()];
        pieces.extend(self.register_map());
        pieces.push(emit::Piece::plain(self.hooks()));
        pieces.push(self.state_struct());
        pieces.push(self.storage_struct());
        pieces.push(snapshot::layout_const(dev));
        let fast = std::rc::Rc::new(self.fast_path());
        let dispatch = std::rc::Rc::new([
            chunks::Dispatch::of(dev, chunks::Dir::Read),
            chunks::Dispatch::of(dev, chunks::Dir::Write),
        ]);
        pieces.push(self.device(&fast));
        pieces.extend(self.dispatch_runs(fast, dispatch.clone()));
        pieces.push(self.registers_impl(dispatch));
        pieces.push(emit::Piece::plain(self.scenarios()));
        pieces
    }
}

pub(crate) fn reg_loc(d: &Device, r: ir::RegId) -> ir::Loc {
    let reg = d.register(r);
    ir::Loc {
        space: reg.space,
        offset: reg.offset,
        width: reg.width,
    }
}

/// Where a register lives, for doc comments: `BAR 1` or `config`.
fn where_(r: &Register) -> String {
    match r.space {
        ir::Space::Bar(n) => format!("BAR {n}"),
        ir::Space::Config => "config".to_owned(),
    }
}

/// A register's `RegisterLayout` in `INFO`.
fn register_layout(reg: &Register) -> TokenStream {
    let name = lit_str(reg.item_name());
    let offset = lit_hex(reg.offset);
    let width = lit_hex(reg.width.into());
    let array = arrays::layout_suffix(reg);
    match reg.sizes {
        None => quote!(RegisterLayout::new(#name, #offset, #width) #array),
        Some(m) => {
            let m = lit_hex(m.0.into());
            quote!(RegisterLayout::new(#name, #offset, #width) #array .with_sizes(AccessSizes(#m)))
        }
    }
}

/// `#[allow(clippy::too_many_arguments)]` for a generated function of
/// `inputs` inputs (`self` included) when there are more than clippy's
/// limit of 7: a spec's `fn` and `hook` take as many parameters as it
/// declares, and the lint judges a Rust API, not a spec.
fn allow_many_arguments(inputs: usize) -> Option<TokenStream> {
    (inputs > 7).then(|| quote!(#[allow(clippy::too_many_arguments)]))
}

fn scalar_type(t: ir::Type) -> TokenStream {
    match t {
        ir::Type::Bool => quote!(bool),
        ir::Type::Uint(b) => {
            let t = uint_type(b);
            quote!(#t)
        }
        ir::Type::Buffer(_) | ir::Type::Fifo { .. } => quote!(u64),
    }
}

fn state_type(t: ir::Type) -> TokenStream {
    match t {
        ir::Type::Buffer(_) => quote!(Box<[u8]>),
        ir::Type::Fifo {
            elem_bits,
            capacity,
        } => {
            let e = uint_type(elem_bits);
            let n = proc_macro2::Literal::usize_unsuffixed(capacity as usize);
            quote!(pcidev_runtime::Fifo<#e, #n>)
        }
        other => scalar_type(other),
    }
}
