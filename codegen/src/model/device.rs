//! `Device<H>`: its constructor, one read and one write method per
//! register, and the methods behind `let`s, `fn`s, timers, streams and hook
//! calls.

use super::emit::{Fill, Kind, List, Piece};
use super::expr::{self, Ctx, Rendered, Ty, any_expr, bool_expr, u64_expr};
use super::usage::{called_hooks, used_fns, used_lets};
use super::{Model, allow_many_arguments, arrays, lit_hex, lit_str, scalar_type, where_};
use pcidevc_dsl::ir::{self, AccessKind, Register};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

impl Model<'_> {
    /// `Device<H>`, its methods and `model()`; the register methods and the
    /// fast path's arms are lists.
    pub(super) fn device<'m>(
        &'m self,
        fast: &std::rc::Rc<super::fast_path::FastPath<'m>>,
    ) -> Piece<'m> {
        let d = self.dev;
        let methods = List {
            len: d.registers.len(),
            kind: Kind::ImplItem,
            weight: 1,
            elems: Box::new(move |range| {
                range
                    .map(ir::RegId)
                    .flat_map(|id| [self.read_method(id), self.write_method(id)])
                    .collect()
            }),
        };
        let bars = fast.clone();
        let parts = self.device_parts();
        let mut lists = vec![methods];
        lists.extend(Self::whole_lists(&bars));
        Piece {
            lists,
            build: Box::new(move |fill| self.device_tokens(&bars, parts.clone(), fill)),
        }
    }

    /// The methods of `Device` besides the registers' (built once: they
    /// walk the whole spec): hook wrappers, `let`s, `fn`s, timers, streams.
    fn device_parts(&self) -> [TokenStream; 5] {
        let d = self.dev;
        let hook_wrappers = called_hooks(d).into_iter().map(|h| {
            let hook = d.hook(h);
            let name = format_ident!("{}", hook.name);
            let wrapper = format_ident!("hook_{}", hook.name);
            let lit = lit_str(&hook.name);
            let params: Vec<Ident> = hook
                .params
                .iter()
                .map(|(n, _)| format_ident!("{}", n))
                .collect();
            let typed = hook.params.iter().map(|(n, t)| {
                let n = format_ident!("{}", n);
                let t = scalar_type(*t);
                quote!(#n: #t)
            });
            let ret = match hook.ret {
                Some(t) => {
                    let t = scalar_type(t);
                    quote!(-> #t)
                }
                None => quote!(),
            };
            let doc = format!(" Run hook `{}`, traced.", hook.name);
            // `self`, `ctx` and the hook's parameters.
            let allow = allow_many_arguments(2 + hook.params.len());
            quote! {
                #[doc = #doc]
                #allow
                fn #wrapper(&mut self, ctx: &mut DeviceCtx, #(#typed),*) #ret {
                    ctx.hook(#lit);
                    self.hooks.#name(#(#params),*)
                }
            }
        });
        let lets = used_lets(d).into_iter().map(|l| self.let_method(l));
        let fns = used_fns(d).into_iter().map(|f| self.fn_method(f));
        let timers = d.timers.iter().map(|t| self.timer_method(t));
        let streams = d.streams.iter().map(|s| self.stream_method(s));
        [
            hook_wrappers.collect(),
            lets.collect(),
            fns.collect(),
            timers.collect(),
            streams.collect(),
        ]
    }

    fn device_tokens(
        &self,
        bars: &super::fast_path::FastPath,
        parts: [TokenStream; 5],
        fill: Fill,
    ) -> TokenStream {
        let d = self.dev;
        let name = &d.name;
        let doc =
            format!(" `{name}`: registers and behaviour. A host uses it as `Model<Device<H>>`.");
        let methods = fill(0);
        let whole = Self::whole_methods(bars, &|s| fill(1 + s));
        let [hook_wrappers, lets, fns, timers, streams] = parts;
        let default_hooks = if d.hooks.is_empty() {
            quote!(= NoHooks)
        } else {
            quote!()
        };
        let model_fn = if d.hooks.is_empty() {
            quote! {
                /// A complete PCI function in its reset state.
                pub fn model() -> Model<Device> {
                    Model::new(Device::new(NoHooks))
                }
            }
        } else {
            quote! {
                /// A complete PCI function in its reset state, with your hooks.
                pub fn model<H: Hooks>(hooks: H) -> Model<Device<H>> {
                    Model::new(Device::new(hooks))
                }
            }
        };
        // A tracked level: statements note what they change in
        // `level_dirty`, and the fast path asks `level_moved`.
        let (dirty_field, dirty_init, level_moved) = if self.level_tracked {
            (
                quote! {
                    /// Did a statement change something the interrupt level reads
                    /// since the fast path last asked ([`Self::level_moved`])?
                    level_dirty: bool,
                },
                quote!(level_dirty: false,),
                quote! {
                    /// Whether a guest access served by the fast path may have changed
                    /// the interrupt level: only if one of its statements wrote
                    /// something the level reads (else the runtime need not recompute it).
                    #[inline]
                    fn level_moved(&mut self) -> Level {
                        if std::mem::take(&mut self.level_dirty) {
                            Level::MayChange
                        } else {
                            Level::Unchanged
                        }
                    }
                },
            )
        } else {
            (quote!(), quote!(), quote!())
        };
        quote! {
            #[doc = #doc]
            #[derive(Debug)]
            pub struct Device<H: Hooks #default_hooks> {
                pub state: State,
                pub storage: Storage,
                pub hooks: H,
                #dirty_field
            }

            impl<H: Hooks> Device<H> {
                /// The device in its reset state.
                pub fn new(hooks: H) -> Self {
                    Device { state: State::default(), storage: Storage::default(), hooks, #dirty_init }
                }

                #level_moved

                #hook_wrappers

                #lets

                #fns

                #methods

                #whole

                #timers

                #streams
            }

            #model_fn
        }
    }

    /// `let NAME = EXPR;` as a method: `&self` unless it calls a hook.
    pub(super) fn let_method(&self, id: ir::LetId) -> TokenStream {
        let l = self.dev.let_(id);
        let name = format_ident!("let_{}", l.name);
        let doc = format!(" The spec's `let {}`.", l.name);
        let mut cx = Ctx::new(self.dev);
        cx.read_only = !l.calls_hook;
        let r = any_expr(&mut cx, &l.value);
        let ty = match r.ty() {
            Ty::Bool => quote!(bool),
            Ty::U64 => quote!(u64),
        };
        let body = r.into_tokens();
        let ctx = cx.ctx_param();
        if l.calls_hook {
            quote! {
                #[doc = #doc]
                fn #name(&mut self, #ctx: &mut DeviceCtx) -> #ty {
                    #body
                }
            }
        } else {
            quote! {
                #[doc = #doc]
                fn #name(&self, #ctx: &DeviceCtx) -> #ty {
                    #body
                }
            }
        }
    }

    /// `fn NAME(params) -> T = EXPR;` as an associated function.
    pub(super) fn fn_method(&self, id: ir::FnId) -> TokenStream {
        let f = self.dev.function(id);
        let name = format_ident!("fn_{}", f.name);
        let doc = format!(" The spec's `fn {}`.", f.name);
        let mut cx = Ctx::for_fn(self.dev, f);
        let body = match f.ret {
            ir::Type::Bool => bool_expr(&mut cx, &f.body).into_tokens(),
            ir::Type::Uint(b) => expr::narrow_rendered(u64_expr(&mut cx, &f.body), b),
            _ => quote!(0),
        };
        let params = f.params.iter().enumerate().map(|(i, (n, t))| {
            let n = if cx.used_params.get(i).copied().unwrap_or(false) {
                format_ident!("{}", n)
            } else {
                format_ident!("_{}", n)
            };
            let t = scalar_type(*t);
            quote!(#n: #t)
        });
        let ret = scalar_type(f.ret);
        let allow = allow_many_arguments(f.params.len());
        quote! {
            #[doc = #doc]
            #allow
            fn #name(#(#params),*) -> #ret {
                #body
            }
        }
    }

    /// A timer's fire block.
    pub(super) fn timer_method(&self, t: &ir::Timer) -> TokenStream {
        let name = format_ident!("fire_{}", t.name);
        let doc = format!(" Timer `{}` fired.", t.name);
        let mut cx = Ctx::new(self.dev);
        let body = expr::stmts(&mut cx, &t.on_fire);
        let ctx = cx.ctx_param();
        quote! {
            #[doc = #doc]
            fn #name(&mut self, #ctx: &mut DeviceCtx) {
                #body
            }
        }
    }

    /// A stream's `ready` and `on input`.
    pub(super) fn stream_method(&self, st: &ir::Stream) -> TokenStream {
        let input = format_ident!("input_{}", st.name);
        let doc = format!(" One byte arrived on stream `{}`.", st.name);
        let mut cx = Ctx::new(self.dev);
        let body = expr::stmts(&mut cx, &st.on_input);
        let ctx = cx.ctx_param();
        let byte = if cx.used_byte {
            quote!(byte)
        } else {
            quote!(_byte)
        };
        let ready = match &st.ready {
            Some(e) => {
                let name = format_ident!("ready_{}", st.name);
                let doc = format!(
                    " May the outside world deliver a byte on `{}` now?",
                    st.name
                );
                let mut cx = Ctx::new(self.dev);
                cx.read_only = true;
                let r = bool_expr(&mut cx, e).into_tokens();
                let ctx = cx.ctx_param();
                quote! {
                    #[doc = #doc]
                    fn #name(&self, #ctx: &DeviceCtx) -> bool {
                        #r
                    }
                }
            }
            None => quote!(),
        };
        quote! {
            #ready

            #[doc = #doc]
            fn #input(&mut self, #ctx: &mut DeviceCtx, #byte: u8) {
                #body
            }
        }
    }

    pub(super) fn reg_ident(r: &Register, what: &str) -> Ident {
        format_ident!("{}_{}", what, r.item_name().to_ascii_lowercase())
    }

    /// Does a guest read of `r` do or return anything?
    pub(super) fn read_matters(r: &Register) -> bool {
        r.read.is_some()
            || !r.on_read.is_empty()
            || r.fields
                .iter()
                .any(|f| f.access.readable() || f.access == AccessKind::Rclr)
    }

    pub(super) fn write_matters(r: &Register) -> bool {
        !r.on_write.is_empty() || r.fields.iter().any(|f| f.access.writable())
    }

    pub(super) fn read_method(&self, id: ir::RegId) -> TokenStream {
        let r = self.dev.register(id);
        if !Self::read_matters(r) || !arrays::emits(r) {
            return quote!();
        }
        let name = Self::reg_ident(r, "read");
        let doc = format!(
            " Guest read of `{}` ({} + {:#x}, {} bytes).",
            arrays::doc_name(r),
            where_(r),
            r.offset,
            r.width
        );
        let mut cx = Ctx::new(self.dev);
        cx.level = self.level_tracked.then(|| self.level.clone());
        // `let`s used more than once, computed once (see `read_once_lets`).
        cx.once_lets = super::usage::read_once_lets(self.dev, r);
        let once: Vec<TokenStream> = cx
            .once_lets
            .iter()
            .map(|l| {
                let name = format_ident!("let_{}", self.dev.let_(*l).name);
                quote!(let #name = self.#name(ctx);)
            })
            .collect();
        cx.used_ctx |= !once.is_empty();
        let own = arrays::own_storage(self.dev, id);
        let mut uses_own = false;
        let value = match &r.read {
            Some(e) => u64_expr(&mut cx, e).into_tokens(),
            None => {
                uses_own = true;
                let readable = r
                    .fields
                    .iter()
                    .filter(|f| f.access.readable())
                    .fold(0u64, |m, f| m | f.mask());
                if readable == ir::low_mask(r.bits()) {
                    Rendered::from_u64_of(own.clone(), r.bits()).into_tokens()
                } else {
                    let m = lit_hex(readable);
                    let v = Rendered::from_u64_of(own.clone(), r.bits());
                    let v = v.wrap(expr::prec::BITAND);
                    quote!(#v & #m)
                }
            }
        };
        let rclr = r
            .fields
            .iter()
            .filter(|f| f.access == AccessKind::Rclr)
            .fold(0u64, |m, f| m | f.mask());
        let clear = if rclr != 0 {
            uses_own = true;
            let keep = lit_hex(!rclr & ir::low_mask(r.bits()));
            quote!(#own &= #keep;)
        } else {
            quote!()
        };
        let actions = expr::stmts(&mut cx, &r.on_read);
        let uses_own = uses_own && arrays::own_storage_indexes(r);
        let index = arrays::index_param(r, uses_own || cx.used_index);
        let ctx = cx.ctx_param();
        let body = if clear.is_empty() && actions.is_empty() {
            quote!(#(#once)* #value)
        } else {
            quote! {
                #(#once)*
                let value = #value;
                #clear
                #actions
                value
            }
        };
        quote! {
            #[doc = #doc]
            fn #name(&mut self, #ctx: &mut DeviceCtx #index) -> u64 {
                #body
            }
        }
    }

    pub(super) fn write_method(&self, id: ir::RegId) -> TokenStream {
        let r = self.dev.register(id);
        if !Self::write_matters(r) || !arrays::emits(r) {
            return quote!();
        }
        let name = Self::reg_ident(r, "write");
        let doc = format!(
            " Guest write of `{}` ({} + {:#x}); `mask` covers the bytes written.",
            arrays::doc_name(r),
            where_(r),
            r.offset
        );
        let mut cx = Ctx::new(self.dev);
        cx.in_write = true;
        cx.level = self.level_tracked.then(|| self.level.clone());
        let mut uses_value_mask = false;
        let own = arrays::own_storage(self.dev, id);
        let store = if r.fields.iter().any(|f| f.access.writable()) {
            uses_value_mask = true;
            let by = |k: &[AccessKind]| {
                lit_hex(
                    r.fields
                        .iter()
                        .filter(|f| k.contains(&f.access))
                        .fold(0u64, |m, f| m | f.mask()),
                )
            };
            let (rw, w1c, w1s) = (
                by(&[AccessKind::Rw, AccessKind::Wo]),
                by(&[AccessKind::W1c]),
                by(&[AccessKind::W1s]),
            );
            quote!(pcidev_runtime::ops::write(&mut #own, value, mask, #rw, #w1c, #w1s);)
        } else {
            quote!()
        };
        let actions = expr::stmts(&mut cx, &r.on_write);
        let own_indexed = uses_value_mask && arrays::own_storage_indexes(r);
        let index = arrays::index_param(r, own_indexed || cx.used_index);
        let ctx = cx.ctx_param();
        let value = if uses_value_mask || cx.used_value {
            quote!(value)
        } else {
            quote!(_value)
        };
        let mask = if uses_value_mask {
            quote!(mask)
        } else {
            quote!(_mask)
        };
        quote! {
            #[doc = #doc]
            fn #name(&mut self, #ctx: &mut DeviceCtx #index, #value: u64, #mask: u64) {
                #store
                #actions
            }
        }
    }
}
