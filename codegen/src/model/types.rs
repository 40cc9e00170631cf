//! The device's data types: `Hooks`, `State` and `Storage`.

use super::chunks::{CHUNK, run_range};
use super::emit::{Kind, List, Piece};
use super::{Model, arrays, field_ident, lit_hex, scalar_type, state_type, uint_type, where_};
use pcidevc_dsl::ir;
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
            // `self` and the hook's parameters.
            let allow = super::allow_many_arguments(1 + h.params.len());
            match h.ret {
                Some(t) => {
                    let t = scalar_type(t);
                    quote!(#[doc = #doc] #allow fn #name(&mut self, #(#params),*) -> #t;)
                }
                None => quote!(#[doc = #doc] #allow fn #name(&mut self, #(#params),*);),
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
        let member = move |i: usize| {
            let s = &d.states[i];
            let n = format_ident!("{}", s.name);
            let t = if windowed(i) {
                quote!(Bytes)
            } else {
                state_type(s.ty)
            };
            let field = if s.sticky {
                quote!(#[doc = " Sticky: keeps its value across a device reset."] pub #n: #t,)
            } else {
                quote!(pub #n: #t,)
            };
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
            Some(Member {
                name: n.clone(),
                field,
                init: quote!(#n: #v,),
            })
        };
        // No `PartialEq`: derived for n fields it is one `&&` chain n deep,
        // which overflows rustc's stack near 10,000 fields. Likewise `Storage`.
        let copy = !d.states.iter().any(|s| matches!(s.ty, ir::Type::Buffer(_)));
        Members {
            ty: "State",
            doc: "The device's variables (the spec's `state` items).",
            what: "states",
            len: d.states.len(),
            parted: super::parts::state_part(d, ir::StateId(0)).is_some(),
            copy,
            member: std::rc::Rc::new(member),
            present: Box::new(|_| true),
        }
        .piece()
    }

    /// `Storage` and its `Default`; fields and initializers are lists.
    pub(super) fn storage_struct(&self) -> Piece<'_> {
        let d = self.dev;
        let stored = |r: &ir::Register| r.has_storage() && arrays::emits(r);
        let member = move |i: usize| {
            let r = &d.registers[i];
            if !stored(r) {
                return None;
            }
            let n = field_ident(r.item_name());
            let t = uint_type(r.bits());
            let t = arrays::storage_type(r, quote!(#t));
            let doc = format!(
                " `{}`: {} + {:#x}.",
                arrays::doc_name(r),
                where_(r),
                r.offset
            );
            let v = arrays::storage_init(r);
            Some(Member {
                field: quote!(#[doc = #doc] pub #n: #t,),
                init: quote!(#n: #v,),
                name: n,
            })
        };
        Members {
            ty: "Storage",
            doc: "Values of the registers that hold one (those with an access kind).",
            what: "registers",
            len: d.registers.len(),
            parted: super::parts::storage_part(d, ir::RegId(0)).is_some(),
            copy: true,
            member: std::rc::Rc::new(member),
            present: Box::new(move |i| stored(&d.registers[i])),
        }
        .piece()
    }
}

/// One field of `State` or `Storage`: its declaration and initializer.
struct Member {
    name: proc_macro2::Ident,
    field: TokenStream,
    init: TokenStream,
}

/// `State` or `Storage`: a struct whose fields are some of `len` items
/// (states, or registers by id: `member` says which and how), flat or in
/// parts ([`super::parts`]).
struct Members<'a> {
    ty: &'static str,
    doc: &'static str,
    /// What the items are, for the parts' docs.
    what: &'static str,
    len: usize,
    parted: bool,
    copy: bool,
    member: std::rc::Rc<dyn Fn(usize) -> Option<Member> + 'a>,
    /// Is item `i` a field (`member(i)` is `Some`), without building it?
    present: Box<dyn Fn(usize) -> bool + 'a>,
}

impl<'a> Members<'a> {
    fn derives(&self, debug: bool) -> TokenStream {
        match (debug, self.copy) {
            (true, true) => quote!(#[derive(Debug, Clone, Copy)]),
            (true, false) => quote!(#[derive(Debug, Clone)]),
            (false, true) => quote!(#[derive(Clone, Copy)]),
            (false, false) => quote!(#[derive(Clone)]),
        }
    }

    fn piece(self) -> Piece<'a> {
        if self.parted {
            return self.parted_piece();
        }
        // The fields' items, so that a list's elements are its fields.
        let items: std::rc::Rc<Vec<usize>> =
            std::rc::Rc::new((0..self.len).filter(|&i| (self.present)(i)).collect());
        let list = |kind: Kind, pick: fn(Member) -> TokenStream| {
            let (member, items) = (self.member.clone(), items.clone());
            List {
                len: items.len(),
                kind,
                weight: 1,
                elems: Box::new(move |r| {
                    items[r]
                        .iter()
                        .filter_map(|&i| member(i))
                        .map(pick)
                        .collect()
                }),
            }
        };
        let fields = list(Kind::Field, |m| m.field);
        let inits = list(Kind::FieldValue, |m| m.init);
        let derives = self.derives(true);
        let (ty, doc) = (format_ident!("{}", self.ty), format!(" {}", self.doc));
        Piece {
            lists: vec![fields, inits],
            build: Box::new(move |fill| {
                let (fields, inits) = (fill(0), fill(1));
                quote! {
                    #[doc = #doc]
                    #derives
                    pub struct #ty {
                        #fields
                    }

                    impl Default for #ty {
                        /// Reset values.
                        fn default() -> Self {
                            #ty { #inits }
                        }
                    }
                }
            }),
        }
    }

    /// The parts holding at least one field, by number.
    fn parts(&self) -> Vec<usize> {
        (0..self.len.div_ceil(CHUNK))
            .filter(|&k| run_range(k, self.len).any(|i| (self.present)(i)))
            .collect()
    }

    /// The struct of parts (deriving `Default`), its flat `Debug`, and per
    /// part a struct with its `Default` and the `Debug` of its fields.
    fn parted_piece(self) -> Piece<'a> {
        let parts = std::rc::Rc::new(self.parts());
        let (ty, name) = (format_ident!("{}", self.ty), self.ty);
        let doc = format!(" {}", self.doc);
        let doc2 = format!(
            " In parts of at most {CHUNK} {}: rustc checks code naming the fields of a struct",
            self.what
        );
        let part_fields = parts.iter().map(|&k| {
            let (f, t) = (
                super::parts::part_field(k),
                super::parts::part_type(name, k),
            );
            quote!(pub #f: #t,)
        });
        let debug_calls = parts.iter().map(|&k| {
            let f = super::parts::part_field(k);
            quote!(self.#f.debug_fields(&mut s);)
        });
        let derives = if self.copy {
            quote!(#[derive(Clone, Copy, Default)])
        } else {
            quote!(#[derive(Clone, Default)])
        };
        let head = quote! {
            #[doc = #doc]
            #[doc = ""]
            #[doc = #doc2]
            #[doc = " of many fields slowly. `Debug` prints one flat struct."]
            #derives
            pub struct #ty {
                #(#part_fields)*
            }

            impl std::fmt::Debug for #ty {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    let mut s = f.debug_struct(#name);
                    #(#debug_calls)*
                    s.finish()
                }
            }
        };
        let this = std::rc::Rc::new(self);
        let p = parts.clone();
        let items = List {
            len: parts.len(),
            kind: Kind::ModItem,
            // A part's struct, `Default` and `Debug` name up to CHUNK fields each.
            weight: 3 * CHUNK,
            elems: Box::new(move |range| p[range].iter().map(|&k| this.part(k)).collect()),
        };
        Piece {
            lists: vec![items],
            build: Box::new(move |fill| {
                let items = fill(0);
                quote! {
                    #head
                    #items
                }
            }),
        }
    }

    /// Part `k`: its struct, `Default` and fields' `Debug`.
    fn part(&self, k: usize) -> TokenStream {
        let range = run_range(k, self.len);
        let members: Vec<Member> = range.clone().filter_map(|i| (self.member)(i)).collect();
        let t = super::parts::part_type(self.ty, k);
        let doc = format!(
            " The fields of [`{}`] of {} {} to {} (in declaration order).",
            self.ty,
            self.what,
            range.start,
            range.end - 1,
        );
        let derives = self.derives(true);
        let fields = members.iter().map(|m| &m.field);
        let inits = members.iter().map(|m| &m.init);
        let debug = members.iter().map(|m| {
            let (n, s) = (&m.name, m.name.to_string());
            quote!(s.field(#s, &self.#n);)
        });
        quote! {
            #[doc = #doc]
            #derives
            pub struct #t {
                #(#fields)*
            }

            impl Default for #t {
                /// Reset values.
                fn default() -> Self {
                    #t { #(#inits)* }
                }
            }

            impl #t {
                /// Adds this part's fields to the flat `Debug` of the whole.
                fn debug_fields(&self, s: &mut std::fmt::DebugStruct<'_, '_>) {
                    #(#debug)*
                }
            }
        }
    }
}
