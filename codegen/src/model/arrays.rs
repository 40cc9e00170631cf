//! Register arrays in the generated model: one item per array, so the
//! model does not grow with the element count.
//!
//! An array `register NAME[N]` (elements `NAME_0 .. NAME_{N-1}` in the IR,
//! see `ir::ArrayElem`) becomes one `RegisterLayout` entry
//! (`.array(N)`), one `read_name`/`write_name` method taking the element
//! number (`index` in the spec), and, when it stores a value, one `[uW; N]`
//! field of `Storage`. The runtime computes the element from the access
//! offset and hands it over as `ctx.array_index()`.

use super::{field_ident, lit_hex};
use pcidevc_dsl::ir::{self, Register};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

/// Does the generated model emit an item for `r`? Plain registers and
/// array heads do; the other elements are reached through their head.
pub(crate) fn emits(r: &Register) -> bool {
    !r.is_array_tail()
}

/// Where register `id`'s stored value lives when a method of the register
/// itself names it: `self.storage.name`, or for an array, the element the
/// method was called for (`self.storage.name[index]`); in a part of
/// `Storage` for a big spec ([`super::parts`]).
pub(crate) fn own_storage(d: &ir::Device, id: ir::RegId) -> TokenStream {
    let r = d.register(id);
    let f = field_ident(r.item_name());
    let base = super::parts::storage_base(d, head(d, id));
    match &r.array {
        // `index` < N already (the runtime derives it from this array's
        // layout entry, whose count is the field's length); `% N` keeps
        // the generated code free of any indexing that could panic.
        // One element: it is element 0 (`% 1` would be clippy's
        // modulo_one).
        Some(a) if a.count == 1 => quote!(#base.#f[0]),
        Some(a) => {
            let n = proc_macro2::Literal::usize_unsuffixed(a.count as usize);
            quote!(#base.#f[index as usize % #n])
        }
        None => quote!(#base.#f),
    }
}

/// Does [`own_storage`] use the `index` parameter (an array of more than
/// one element)?
pub(crate) fn own_storage_indexes(r: &Register) -> bool {
    r.array.as_ref().is_some_and(|a| a.count > 1)
}

/// Where register `id`'s stored value lives when another register's
/// behaviour (or an interrupt expression) names it: a fixed element for an
/// array.
pub(crate) fn storage_of(d: &ir::Device, id: ir::RegId) -> TokenStream {
    let r = d.register(id);
    let f = field_ident(r.item_name());
    let base = super::parts::storage_base(d, head(d, id));
    match &r.array {
        Some(a) => {
            let i = proc_macro2::Literal::usize_unsuffixed(a.index as usize);
            quote!(#base.#f[#i])
        }
        None => quote!(#base.#f),
    }
}

/// The register declaring `id`'s `Storage` field: itself, or its array's
/// head.
pub(crate) fn head(d: &ir::Device, id: ir::RegId) -> ir::RegId {
    let index = d.register(id).array.as_ref().map_or(0, |a| a.index);
    ir::RegId(id.0.saturating_sub(usize::try_from(index).unwrap_or(0)))
}

/// `Storage`'s field type for `r` (its head for an array): `uW` or
/// `[uW; N]`.
pub(crate) fn storage_type(r: &Register, t: TokenStream) -> TokenStream {
    match r.array_head() {
        Some(a) => {
            let n = proc_macro2::Literal::usize_unsuffixed(a.count as usize);
            quote!([#t; #n])
        }
        None => t,
    }
}

/// `Storage`'s reset value for `r`: every element of an array resets
/// alike.
pub(crate) fn storage_init(r: &Register) -> TokenStream {
    let v = lit_hex(r.reset);
    match r.array_head() {
        Some(a) => {
            let n = proc_macro2::Literal::usize_unsuffixed(a.count as usize);
            quote!([#v; #n])
        }
        None => v,
    }
}

/// The call of `r`'s read or write method `m` from the dispatch, with the
/// element for an array (`args` follow `ctx` and the element).
pub(crate) fn dispatch_call(r: &Register, m: &Ident, args: &[TokenStream]) -> TokenStream {
    match &r.array {
        Some(_) => quote!({
            let index = ctx.array_index();
            self.#m(ctx, index #(, #args)*)
        }),
        None => quote!(self.#m(ctx #(, #args)*)),
    }
}

/// The `, index: u64` parameter of an array's methods (`_index` when its
/// behaviour and storage do not use it); nothing for a plain register.
pub(crate) fn index_param(r: &Register, used: bool) -> TokenStream {
    match (&r.array, used) {
        (None, _) => quote!(),
        (Some(_), true) => quote!(, index: u64),
        (Some(_), false) => quote!(, _index: u64),
    }
}

/// The layout entry's array suffix: `.array(N)` for an array head.
pub(crate) fn layout_suffix(r: &Register) -> TokenStream {
    match r.array_head() {
        Some(a) => {
            let n = proc_macro2::Literal::u64_unsuffixed(a.count);
            quote!(.array(#n))
        }
        None => quote!(),
    }
}

/// What a doc comment calls `r`: `NAME`, or `NAME[N]` for an array.
pub(crate) fn doc_name(r: &Register) -> String {
    match &r.array {
        Some(a) => format!("{}[{}]", a.array, a.count),
        None => r.name.clone(),
    }
}
