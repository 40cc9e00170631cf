//! `#[pci_device]`: compile a `.pcidev` spec into a rust-vmm device model
//! inside your crate, with the same front end (`pcidevc-dsl`) and the same
//! code generator (`pcidevc_codegen::model::tokens`) as the `pcidevc` CLI, so
//! the module it expands to is exactly the CLI's `model.rs`.
//!
//! ```
//! use pcidevc_macros::pci_device;
//!
//! /// My hooks: the behaviour the spec leaves to Rust code.
//! #[pci_device(inline = r#"
//!     device scrambler {
//!         id 0x1337:0x0042;
//!         hook scramble(x: u32) -> u32;
//!         bar 0 mem32 size 16 {
//!             register DATA @ 0x0 : u32 rw = 0;
//!             register OUT @ 0x4 : u32 { read scramble(DATA); }
//!         }
//!     }
//! "#)]
//! #[derive(Debug, Default)]
//! struct Scrambler;
//!
//! impl scrambler::Hooks for Scrambler {
//!     fn scramble(&mut self, x: u32) -> u32 {
//!         x.rotate_left(8) ^ 0xa5a5_a5a5
//!     }
//! }
//!
//! let mut model = scrambler::model(Scrambler);
//! model.config_write(0x04, &pcidev_runtime::COMMAND_MEMORY_SPACE.to_le_bytes());
//! model.bar_write(0, 0, &0x1234_5678u32.to_le_bytes()).unwrap();
//! let mut out = [0; 4];
//! model.bar_read(0, 4, &mut out).unwrap();
//! assert_eq!(u32::from_le_bytes(out), 0x3456_7812 ^ 0xa5a5_a5a5);
//! ```
//!
//! The crate that uses the macro depends on `pcidev-runtime` (the generated
//! code names `pcidev_runtime::...`). See `README.md` beside this crate for
//! the attribute forms, hooks, rebuild tracking and error reporting.

mod args;
mod expand;

use proc_macro::TokenStream;

/// Generate a device model module from a `.pcidev` spec, next to the type
/// the attribute is on.
///
/// - `#[pci_device(spec = "specs/dev.pcidev")]`: a spec file, relative to
///   `CARGO_MANIFEST_DIR`; the crate is rebuilt when it or a file it
///   includes changes.
/// - `#[pci_device(inline = r#"device dev { ... }"#)]`: the spec text itself
///   (no `include`s).
/// - either form may end with `, deny_warnings`: the spec's warnings become
///   errors (they are not reported otherwise; `pcidevc check` shows them).
///
/// Expands to the item unchanged, `pub mod <device name> { ... }` holding
/// the generated model (`INFO`, `Hooks`, `State`, `Storage`, `Device<H>`,
/// `model(..)`, `scenarios`), and, when the spec declares no hooks,
/// `impl <device name>::Hooks for <the type> {}`. Spec errors become one
/// `compile_error!` each, naming `file:line:col`, the code and the message.
#[proc_macro_attribute]
pub fn pci_device(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(attr.into(), item.into()).into()
}

#[cfg(test)]
mod tests;
