//! `State` and `Storage` of a big spec, in parts.
//!
//! rustc finds a struct field by name with a scan of the struct's fields,
//! so code naming the fields of a struct of n fields, about n times, is
//! checked in time n²: at 20,000 registers each register's write method
//! took twice as long to type-check as at 10,000. A device with more than
//! [`CHUNK`] registers (states) keeps its stored registers (states) in
//! parts: the register with id `i` in field `part{i / CHUNK}` of `Storage`,
//! a struct `StoragePart{i / CHUNK}` of its own (`self.storage.part3.r789`).
//! `Debug` still prints one flat struct, the same text as for a small
//! spec. Specs of usual size keep flat structs.

use super::chunks::CHUNK;
use pcidevc_dsl::ir::{self, Device};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

/// The part holding stored register `r`, when `Storage` is in parts.
pub(super) fn storage_part(d: &Device, r: ir::RegId) -> Option<usize> {
    (d.registers.len() > CHUNK).then_some(r.0 / CHUNK)
}

/// The part holding state `s`, when `State` is in parts.
pub(super) fn state_part(d: &Device, s: ir::StateId) -> Option<usize> {
    (d.states.len() > CHUNK).then_some(s.0 / CHUNK)
}

/// The field of part `k` in `State` / `Storage`.
pub(super) fn part_field(k: usize) -> Ident {
    format_ident!("part{k}")
}

/// The struct of part `k` of `ty` (`State`, `Storage`).
pub(super) fn part_type(ty: &str, k: usize) -> Ident {
    format_ident!("{ty}Part{k}")
}

/// `self.storage` or `self.storage.part3` for stored register `r`.
pub(super) fn storage_base(d: &Device, r: ir::RegId) -> TokenStream {
    match storage_part(d, r) {
        Some(k) => {
            let p = part_field(k);
            quote!(self.storage.#p)
        }
        None => quote!(self.storage),
    }
}

/// `self.state.name` (or `self.state.part3.name`) for state `s`.
pub(super) fn state_place(d: &Device, s: ir::StateId) -> TokenStream {
    state_place_in(d, s, quote!(self.state))
}

/// State `s` of the `State` value `state`: `state.name` or
/// `state.part3.name`.
pub(super) fn state_place_in(d: &Device, s: ir::StateId, state: TokenStream) -> TokenStream {
    let n = format_ident!("{}", d.state(s).name);
    match state_part(d, s) {
        Some(k) => {
            let p = part_field(k);
            quote!(#state.#p.#n)
        }
        None => quote!(#state.#n),
    }
}
