//! The device's data types: `Hooks`, `State` and `Storage`.

use super::emit::{Kind, List, Piece};
use super::{Model, arrays, field_ident, lit_hex, scalar_type, state_type, uint_type, where_};
use pcidevc_dsl::ir::{self, Register};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

impl Model<'_> {
    pub(super) fn hooks(&self) -> TokenStream {
        let d = self.dev;
        if d.hooks.is_empty() {
            return quote! {
                /// Behaviour left to Rust code. This spec declares no hooks.
                pub trait Hooks: Send + 'static {}

                /// The hooks of a spec that declares none.
                #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
                pub struct NoHooks;

                impl Hooks for NoHooks {}
            };
        }
        let methods = d.hooks.iter().map(|h| {
            let name = format_ident!("{}", h.name);
            let params = h.params.iter().map(|(n, t)| {
                let n = format_ident!("{}", n);
                let t = scalar_type(*t);
                quote!(#n: #t)
            });
            let doc = format!(" The spec's `hook {}`.", h.name);
            match h.ret {
                Some(t) => {
                    let t = scalar_type(t);
                    quote!(#[doc = #doc] fn #name(&mut self, #(#params),*) -> #t;)
                }
                None => quote!(#[doc = #doc] fn #name(&mut self, #(#params),*);),
            }
        });
        quote! {
            /// Behaviour the spec leaves to Rust code: implement this for your
            /// type and build the device with `Device::new(your_hooks)`.
            pub trait Hooks: Send + 'static {
                #(#methods)*
            }
        }
    }

    /// `State` and its `Default`; fields and initializers are lists.
    pub(super) fn state_struct(&self) -> Piece<'_> {
        let d = self.dev;
        let windowed = move |i: usize| d.windowed(ir::StateId(i));
        let field = move |i: usize, s: &ir::State| {
            let n = format_ident!("{}", s.name);
            let t = if windowed(i) {
                quote!(Bytes)
            } else {
                state_type(s.ty)
            };
            if s.sticky {
                quote!(#[doc = " Sticky: keeps its value across a device reset."] pub #n: #t,)
            } else {
                quote!(pub #n: #t,)
            }
        };
        let init = move |i: usize, s: &ir::State| {
            let n = format_ident!("{}", s.name);
            let v = match s.ty {
                ir::Type::Bool => {
                    let b = s.reset != 0;
                    quote!(#b)
                }
                ir::Type::Uint(_) => lit_hex(s.reset),
                ir::Type::Fifo { .. } => quote!(pcidev_runtime::Fifo::default()),
                ir::Type::Buffer(len) if windowed(i) => {
                    let len = lit_hex(len);
                    let bytes = proc_macro2::Literal::byte_string(&s.init);
                    quote!(Bytes::new(#len, #bytes))
                }
                ir::Type::Buffer(len) => {
                    let len = lit_hex(len);
                    if s.init.is_empty() {
                        quote!(vec![0; #len].into_boxed_slice())
                    } else {
                        let bytes = proc_macro2::Literal::byte_string(&s.init);
                        quote!(pcidev_runtime::ops::init_buffer(#len, #bytes))
                    }
                }
            };
            quote!(#n: #v,)
        };
        let fields = List {
            len: d.states.len(),
            kind: Kind::Field,
            elems: Box::new(move |r| r.map(|i| field(i, &d.states[i])).collect()),
        };
        let inits = List {
            len: d.states.len(),
            kind: Kind::FieldValue,
            elems: Box::new(move |r| r.map(|i| init(i, &d.states[i])).collect()),
        };
        // No `PartialEq`: derived for n fields it is one `&&` chain n deep,
        // which overflows rustc's stack near 10,000 fields. Likewise `Storage`.
        let derives = if d.states.iter().any(|s| matches!(s.ty, ir::Type::Buffer(_))) {
            quote!(#[derive(Debug, Clone)])
        } else {
            quote!(#[derive(Debug, Clone, Copy)])
        };
        Piece {
            lists: vec![fields, inits],
            build: Box::new(move |fill| {
                let (fields, inits) = (fill(0), fill(1));
                quote! {
                    /// The device's variables (the spec's `state` items).
                    #derives
                    pub struct State {
                        #fields
                    }

                    impl Default for State {
                        /// Reset values.
                        fn default() -> Self {
                            State { #inits }
                        }
                    }
                }
            }),
        }
    }

    /// `Storage` and its `Default`; fields and initializers are lists.
    pub(super) fn storage_struct(&self) -> Piece<'_> {
        let d = self.dev;
        let stored: std::rc::Rc<Vec<&Register>> = std::rc::Rc::new(
            d.registers
                .iter()
                .filter(|r| r.has_storage() && arrays::emits(r))
                .collect(),
        );
        let field = |r: &Register| {
            let n = field_ident(r.item_name());
            let t = uint_type(r.bits());
            let t = arrays::storage_type(r, quote!(#t));
            let doc = format!(
                " `{}`: {} + {:#x}.",
                arrays::doc_name(r),
                where_(r),
                r.offset
            );
            quote!(#[doc = #doc] pub #n: #t,)
        };
        let init = |r: &Register| {
            let n = field_ident(r.item_name());
            let v = arrays::storage_init(r);
            quote!(#n: #v,)
        };
        let (s1, s2) = (stored.clone(), stored.clone());
        let fields = List {
            len: stored.len(),
            kind: Kind::Field,
            elems: Box::new(move |r| s1[r].iter().map(|r| field(r)).collect()),
        };
        let inits = List {
            len: stored.len(),
            kind: Kind::FieldValue,
            elems: Box::new(move |r| s2[r].iter().map(|r| init(r)).collect()),
        };
        Piece {
            lists: vec![fields, inits],
            build: Box::new(move |fill| {
                let (fields, inits) = (fill(0), fill(1));
                quote! {
                    /// Values of the registers that hold one (those with an access kind).
                    #[derive(Debug, Clone, Copy)]
                    pub struct Storage {
                        #fields
                    }

                    impl Default for Storage {
                        /// Reset values.
                        fn default() -> Self {
                            Storage { #inits }
                        }
                    }
                }
            }),
        }
    }
}
