//! The per-spec part of snapshots in a generated model: the
//! `SNAPSHOT_LAYOUT` const (every `state` item and stored register with
//! its type, in declaration order) and the `Registers` methods that save
//! and restore `State` and `Storage` in that order
//! (`pcidev_runtime::snapshot` owns the format; the interpreter declares
//! the same layout from the IR).
//!
//! Restoring is total: the runtime checks a snapshot against the layout
//! before calling `restore_state`, and the helpers used here
//! (`snapshot::uint`, `copy_bytes`, `fifo`, `Fifo::restore_items`) do
//! nothing harmful on values they were not meant for.

use super::chunks::{CHUNK, run_range};
use super::emit::{Fill, Kind, List, Piece};
use super::{field_ident, lit_hex};
use pcidevc_dsl::ir::{self, Device, Register};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

/// The runtime's `StateKind` of a state or storage type.
fn kind(ty: ir::Type) -> TokenStream {
    match ty {
        ir::Type::Bool => quote!(pcidev_runtime::StateKind::Bool),
        ir::Type::Uint(b) => {
            let b = Literal::u32_unsuffixed(b);
            quote!(pcidev_runtime::StateKind::Uint(#b))
        }
        ir::Type::Buffer(len) => {
            let len = lit_hex(len);
            quote!(pcidev_runtime::StateKind::Buffer(#len))
        }
        ir::Type::Fifo {
            elem_bits,
            capacity,
        } => {
            let (e, c) = (
                Literal::u32_unsuffixed(elem_bits),
                Literal::u32_unsuffixed(capacity),
            );
            quote!(pcidev_runtime::StateKind::Fifo { elem_bits: #e, capacity: #c })
        }
    }
}

fn stored(dev: &Device) -> Vec<&Register> {
    dev.registers.iter().filter(|r| r.has_storage()).collect()
}

/// The type a register's storage has in a snapshot.
fn storage_type(r: &Register) -> ir::Type {
    ir::Type::Uint(r.bits().clamp(8, 64).next_power_of_two())
}

/// Does the device store a register array? Its snapshot layout is then
/// built by a loop at first use, so generated size stays flat in the
/// element count.
fn has_arrays(dev: &Device) -> bool {
    stored(dev).iter().any(|r| r.array.is_some())
}

/// `pub const SNAPSHOT_LAYOUT` (or, with register arrays, `pub fn
/// snapshot_layout()`), an item of the model module; its states and its
/// registers are lists.
pub(super) fn layout_const(dev: &Device) -> Piece<'_> {
    fn decl(name: &str, ty: ir::Type) -> TokenStream {
        let k = kind(ty);
        quote!(pcidev_runtime::StateDecl::new(#name, #k))
    }
    let states = List {
        len: dev.states.len(),
        kind: Kind::Expr,
        weight: 1,
        elems: Box::new(move |r| {
            let s = dev.states[r].iter().map(|s| decl(&s.name, s.ty));
            quote!(#(#s,)*)
        }),
    };
    if !has_arrays(dev) {
        let regs = stored(dev);
        let storage = List {
            len: regs.len(),
            kind: Kind::Expr,
            weight: 1,
            elems: Box::new(move |r| {
                let s = regs[r].iter().map(|r| decl(&r.name, storage_type(r)));
                quote!(#(#s,)*)
            }),
        };
        return Piece {
            lists: vec![states, storage],
            build: Box::new(|fill| {
                let (states, storage) = (fill(0), fill(1));
                quote! {
                    /// What a snapshot of this device saves besides the runtime's state:
                    /// every `state` item, then every register with storage.
                    pub const SNAPSHOT_LAYOUT: pcidev_runtime::StateLayout = pcidev_runtime::StateLayout {
                        states: &[#states],
                        storage: &[#storage],
                    };
                }
            }),
        };
    }
    let heads: Vec<&Register> = stored(dev)
        .into_iter()
        .filter(|r| !r.is_array_tail())
        .collect();
    let pushes = List {
        len: heads.len(),
        kind: Kind::Stmt,
        weight: 1,
        elems: Box::new(move |r| {
            heads[r]
                .iter()
                .map(|r| {
                    let k = kind(storage_type(r));
                    match r.array_head() {
                        None => {
                            let name = &r.name;
                            quote!(storage.push(pcidev_runtime::StateDecl::new(#name, #k));)
                        }
                        Some(a) => {
                            let count = Literal::u64_unsuffixed(a.count);
                            let fmt = format!("{}_{{i}}", a.array);
                            quote! {
                                for i in 0..#count {
                                    storage.push(pcidev_runtime::StateDecl::new(String::leak(format!(#fmt)), #k));
                                }
                            }
                        }
                    }
                })
                .collect()
        }),
    };
    let total = Literal::usize_unsuffixed(stored(dev).len());
    Piece {
        lists: vec![states, pushes],
        build: Box::new(move |fill| {
            let (states, pushes) = (fill(0), fill(1));
            quote! {
                /// What a snapshot of this device saves besides the runtime's state:
                /// every `state` item, then every register with storage (an array's
                /// elements one by one, `NAME_0 ..`). Built once, at first use.
                pub fn snapshot_layout() -> &'static pcidev_runtime::StateLayout {
                    static LAYOUT: std::sync::OnceLock<pcidev_runtime::StateLayout> = std::sync::OnceLock::new();
                    LAYOUT.get_or_init(|| {
                        let mut storage = Vec::with_capacity(#total);
                        #pushes
                        const STATES: &[pcidev_runtime::StateDecl] = &[#states];
                        pcidev_runtime::StateLayout {
                            states: STATES,
                            storage: Vec::leak(storage),
                        }
                    })
                }
            }
        }),
    }
}

/// A scalar field's value as u64 (no conversion for u64 fields: clippy).
fn to_u64(place: TokenStream, ty: ir::Type) -> TokenStream {
    match ty {
        ir::Type::Uint(64) => place,
        _ => quote!(u64::from(#place)),
    }
}

/// `u64` tokens `v` as a field of type `ty`.
fn from_u64(v: TokenStream, ty: ir::Type) -> TokenStream {
    match ty {
        ir::Type::Bool => quote!(#v != 0),
        ir::Type::Uint(64) => v,
        ir::Type::Uint(b) => {
            let t = format_ident!("u{}", b);
            quote!(#v as #t)
        }
        // Not scalars: callers handle them.
        ir::Type::Buffer(_) | ir::Type::Fifo { .. } => v,
    }
}

/// One state's save expression and restore statement, from list `list`
/// at index `i`.
fn state_io(
    place: TokenStream,
    ty: ir::Type,
    list: &TokenStream,
    i: usize,
) -> (TokenStream, TokenStream) {
    let i = Literal::usize_unsuffixed(i);
    match ty {
        ir::Type::Buffer(_) => (
            quote!(pcidev_runtime::StateValue::bytes(&#place)),
            quote!(pcidev_runtime::snapshot::copy_bytes(#list, #i, &mut #place);),
        ),
        ir::Type::Fifo { .. } => (
            quote!(pcidev_runtime::StateValue::Fifo(#place.save_items())),
            quote!(#place.restore_items(pcidev_runtime::snapshot::fifo(#list, #i));),
        ),
        ir::Type::Bool | ir::Type::Uint(_) => {
            let save = to_u64(place.clone(), ty);
            let value = from_u64(quote!(pcidev_runtime::snapshot::uint(#list, #i)), ty);
            (
                quote!(pcidev_runtime::StateValue::Uint(#save)),
                quote!(#place = #value;),
            )
        }
    }
}

/// Each stored register (an array once, by its head) with its position in
/// the storage list: an array's elements take one each.
fn stored_at(dev: &Device) -> Vec<(ir::RegId, usize)> {
    let mut at = 0usize;
    let mut regs: Vec<(ir::RegId, usize)> = Vec::new();
    for (id, r) in dev.registers.iter().enumerate() {
        if !r.has_storage() || r.is_array_tail() {
            continue;
        }
        regs.push((ir::RegId(id), at));
        at = match r.array_head() {
            None => at + 1,
            Some(a) => at.saturating_add(usize::try_from(a.count).unwrap_or(usize::MAX)),
        };
    }
    regs
}

/// State `i`'s save expression and restore statement.
fn state_io_of(dev: &Device, i: usize) -> (TokenStream, TokenStream) {
    let place = super::parts::state_place(dev, ir::StateId(i));
    state_io(place, dev.states[i].ty, &quote!(states), i)
}

/// The lists of [`registers_methods`], in its slot order: state saves,
/// storage saves, state restores, storage restores (for a spec saved in
/// [`Runs`], the calls of the runs' methods).
pub(super) fn registers_lists(dev: &Device) -> Vec<List<'_>> {
    let runs = Runs::of(dev);
    if runs.any() {
        let calls = |what: &'static str, list: &'static str, len: usize| List {
            len,
            kind: Kind::Stmt,
            weight: 1,
            elems: Box::new(move |range| {
                let arg = format_ident!("{list}");
                range
                    .map(|k| {
                        let m = run_method(what, list, k);
                        if what == "save" {
                            quote!(self.#m(&mut #arg);)
                        } else {
                            quote!(self.#m(#arg);)
                        }
                    })
                    .collect()
            }),
        };
        let (s, g) = (runs.state_runs(), runs.storage_runs());
        return vec![
            calls("save", "states", s),
            calls("save", "storage", g),
            calls("restore", "states", s),
            calls("restore", "storage", g),
        ];
    }
    let states = &dev.states;
    let regs = std::rc::Rc::new(stored_at(dev));
    let arrays = has_arrays(dev);
    let (s1, s2) = (states, states);
    let (r1, r2) = (regs.clone(), regs.clone());
    vec![
        List {
            len: s1.len(),
            kind: Kind::Separated,
            weight: 1,
            elems: Box::new(move |r| {
                let saves = r.map(|i| state_io_of(dev, i).0);
                quote!(#(#saves),*)
            }),
        },
        List {
            len: regs.len(),
            kind: if arrays { Kind::Stmt } else { Kind::Separated },
            weight: 1,
            elems: Box::new(move |r| {
                let saves = r1[r].iter().map(|(id, at)| {
                    let save = storage_io(dev, *id, *at).0;
                    // With arrays the list is statements: an array's save
                    // is one already, a plain register's is an expression.
                    match (arrays, dev.register(*id).array_head()) {
                        (true, None) => quote!(storage.push(#save);),
                        _ => save,
                    }
                });
                if arrays {
                    quote!(#(#saves)*)
                } else {
                    quote!(#(#saves),*)
                }
            }),
        },
        List {
            len: s2.len(),
            kind: Kind::Stmt,
            weight: 1,
            elems: Box::new(move |r| r.map(|i| state_io_of(dev, i).1).collect()),
        },
        List {
            len: regs.len(),
            kind: Kind::Stmt,
            weight: 1,
            elems: Box::new(move |r| {
                r2[r]
                    .iter()
                    .map(|(id, at)| storage_io(dev, *id, *at).1)
                    .collect()
            }),
        },
    ]
}

/// A stored register's save (an expression for the `vec!`, or with
/// arrays a statement) and restore statement, at `at` in the storage list.
fn storage_io(dev: &Device, id: ir::RegId, at: usize) -> (TokenStream, TokenStream) {
    let r = dev.register(id);
    let storage_list = quote!(storage);
    let ty = storage_type(r);
    let base = super::parts::storage_base(dev, id);
    match r.array_head() {
        None => {
            let f = field_ident(&r.name);
            state_io(quote!(#base.#f), ty, &storage_list, at)
        }
        Some(_) => {
            let f = field_ident(r.item_name());
            // `0 + i` would be clippy's identity_op.
            let position = if at == 0 {
                quote!(i)
            } else {
                let base = Literal::usize_unsuffixed(at);
                quote!(#base + i)
            };
            let save = to_u64(quote!(*v), ty);
            let value = from_u64(
                quote!(pcidev_runtime::snapshot::uint(#storage_list, #position)),
                ty,
            );
            (
                quote! {
                    storage.extend(#base.#f.iter().map(|v| pcidev_runtime::StateValue::Uint(#save)));
                },
                quote! {
                    for (i, slot) in #base.#f.iter_mut().enumerate() {
                        *slot = #value;
                    }
                },
            )
        }
    }
}

/// The saves and restores of a spec with more than [`CHUNK`] states or
/// stored registers, in methods of at most [`CHUNK`] each: one function
/// saving or restoring everything is checked by rustc slower than
/// linearly (`save_state` took 1.4 s of a 10,000-register model's `cargo
/// check`, 6 s at 20,000).
pub(super) struct Runs<'d> {
    dev: &'d Device,
    regs: Vec<(ir::RegId, usize)>,
}

impl<'d> Runs<'d> {
    pub fn of(dev: &'d Device) -> Self {
        let regs = stored_at(dev);
        Runs { dev, regs }
    }

    /// Is the snapshot saved in runs?
    pub fn any(&self) -> bool {
        self.dev.states.len() > CHUNK || self.regs.len() > CHUNK
    }

    fn state_runs(&self) -> usize {
        self.dev.states.len().div_ceil(CHUNK)
    }

    fn storage_runs(&self) -> usize {
        self.regs.len().div_ceil(CHUNK)
    }

    /// The runs [`Self::methods`] prints (none when not saved in runs).
    pub fn len(&self) -> usize {
        if self.any() {
            self.state_runs() + self.storage_runs()
        } else {
            0
        }
    }

    /// The save and restore methods of run `i`: the states' runs, then the
    /// storage's.
    pub fn methods(&self, i: usize) -> TokenStream {
        let mut saves = Vec::new();
        let mut restores = Vec::new();
        let state_runs = self.state_runs();
        if i < state_runs {
            let range = run_range(i, self.dev.states.len());
            for j in range.clone() {
                let (save, restore) = state_io_of(self.dev, j);
                saves.push(quote!(states.push(#save);));
                restores.push(restore);
            }
            let doc = format!("states {}..={}", range.start, range.end - 1);
            return run_pair(("states", i), &doc, saves, restores);
        }
        let k = i - state_runs;
        let range = run_range(k, self.regs.len());
        for (id, at) in &self.regs[range.clone()] {
            let (save, restore) = storage_io(self.dev, *id, *at);
            saves.push(match self.dev.register(*id).array_head() {
                // An array's save is a statement already.
                Some(_) => save,
                None => quote!(storage.push(#save);),
            });
            restores.push(restore);
        }
        let doc = format!("stored registers {}..={}", range.start, range.end - 1);
        run_pair(("storage", k), &doc, saves, restores)
    }
}

/// Run `k` of `list`'s (`states` or `storage`) save and restore methods:
/// `save_states_0`, `restore_states_0`.
fn run_method(what: &str, list: &str, k: usize) -> proc_macro2::Ident {
    format_ident!("{what}_{list}_{k}")
}

/// A run's save and restore methods, of `doc` (which items).
fn run_pair(
    (list, k): (&str, usize),
    doc: &str,
    saves: Vec<TokenStream>,
    restores: Vec<TokenStream>,
) -> TokenStream {
    let (save, restore) = (run_method("save", list, k), run_method("restore", list, k));
    let list = format_ident!("{list}");
    let save_doc = format!(" `save_state` of {doc}.");
    let restore_doc = format!(" `restore_state` of {doc}.");
    quote! {
        #[doc = #save_doc]
        fn #save(&self, #list: &mut Vec<pcidev_runtime::StateValue>) {
            #(#saves)*
        }

        #[doc = #restore_doc]
        fn #restore(&mut self, #list: &[pcidev_runtime::StateValue]) {
            #(#restores)*
        }
    }
}

/// What [`registers_methods`] needs of the whole device (computed once).
pub(super) struct Facts {
    has_states: bool,
    has_storage: bool,
    has_arrays: bool,
    storage_len: usize,
    states_len: usize,
    /// Saved in [`Runs`]: the lists are calls of the runs' methods.
    runs: bool,
}

impl Facts {
    pub fn of(dev: &Device) -> Self {
        Facts {
            has_states: !dev.states.is_empty(),
            has_storage: !stored(dev).is_empty(),
            has_arrays: has_arrays(dev),
            storage_len: storage_len(dev),
            states_len: dev.states.len(),
            runs: Runs::of(dev).any(),
        }
    }
}

/// `snapshot_layout`, `save_state` and `restore_state` for the
/// `Registers` impl, with [`registers_lists`]' slots filled by `fill`.
pub(super) fn registers_methods(facts: &Facts, fill: Fill) -> TokenStream {
    let (has_states, has_storage) = (facts.has_states, facts.has_storage);
    let (state_saves, storage_saves) = (fill(0), fill(1));
    let (state_restores, storage_restores) = (fill(2), fill(3));
    let list = |saves: TokenStream, any: bool| {
        if any {
            quote!(vec![#saves])
        } else {
            quote!(Vec::new())
        }
    };
    // A list filled by statements (pushes, run methods' calls), with
    // capacity for every element: never fewer than the pushes (clippy).
    let filled = |name: &str, total: usize, saves: TokenStream| {
        let (v, total) = (format_ident!("{name}"), Literal::usize_unsuffixed(total));
        quote! {{
            let mut #v = Vec::with_capacity(#total);
            #saves
            #v
        }}
    };
    let save_states = if facts.runs && has_states {
        filled("states", facts.states_len, state_saves)
    } else {
        list(state_saves, has_states)
    };
    let save_storage = if (facts.runs || facts.has_arrays) && has_storage {
        filled("storage", facts.storage_len, storage_saves)
    } else {
        list(storage_saves, has_storage)
    };
    let layout = if facts.has_arrays {
        quote!(snapshot_layout())
    } else {
        quote!(&SNAPSHOT_LAYOUT)
    };
    let param = |name: &str, used: bool| {
        if used {
            format_ident!("{}", name)
        } else {
            format_ident!("_{}", name)
        }
    };
    let states_param = param("states", has_states);
    let storage_param = param("storage", has_storage);
    quote! {
        fn snapshot_layout(&self) -> Option<&'static pcidev_runtime::StateLayout> {
            Some(#layout)
        }

        fn save_state(&self) -> (Vec<pcidev_runtime::StateValue>, Vec<pcidev_runtime::StateValue>) {
            (#save_states, #save_storage)
        }

        fn restore_state(
            &mut self,
            #states_param: &[pcidev_runtime::StateValue],
            #storage_param: &[pcidev_runtime::StateValue],
        ) {
            #state_restores
            #storage_restores
        }
    }
}

/// Entries of the storage list: an array's elements one each.
fn storage_len(dev: &Device) -> usize {
    stored(dev)
        .into_iter()
        .filter(|r| !r.is_array_tail())
        .fold(0usize, |at, r| match r.array_head() {
            None => at + 1,
            Some(a) => at.saturating_add(usize::try_from(a.count).unwrap_or(usize::MAX)),
        })
}
