//! The `pcidev_runtime::Registers` impl: register dispatch, the interrupt
//! level, reset, timers, streams, windows and state probes.

use super::consts::offset_path;
use super::emit::{Fill, Kind, List, Piece};
use super::expr::{Ctx, bool_expr};
use super::{Model, arrays, lit_dec, lit_hex, lit_str};
use pcidevc_dsl::ir;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

impl Model<'_> {
    /// The `Registers` impl; the register dispatch's arms, the probes and
    /// the snapshot's saves and restores are lists.
    pub(super) fn registers_impl(&self) -> Piece<'_> {
        let d = self.dev;
        let entries: std::rc::Rc<Vec<(u8, usize, ir::RegId)>> = std::rc::Rc::new(
            d.bars
                .iter()
                .flat_map(|bar| {
                    d.layout_registers(bar)
                        .enumerate()
                        .map(move |(i, r)| (bar.index, i, r))
                })
                .collect(),
        );
        let (e1, e2) = (entries.clone(), entries.clone());
        let read_arms = List {
            len: entries.len(),
            kind: Kind::Arm,
            elems: Box::new(move |range| {
                e1[range]
                    .iter()
                    .filter(|(_, _, r)| Self::read_matters(d.register(*r)))
                    .map(|(b, i, r)| {
                        let reg = d.register(*r);
                        let (b, i) = (lit_dec((*b).into()), lit_dec(*i as u64));
                        let m = Self::reg_ident(reg, "read");
                        let call = arrays::dispatch_call(reg, &m, &[]);
                        quote!((#b, #i) => #call,)
                    })
                    .collect()
            }),
        };
        let write_arms = List {
            len: entries.len(),
            kind: Kind::Arm,
            elems: Box::new(move |range| {
                e2[range]
                    .iter()
                    .filter(|(_, _, r)| Self::write_matters(d.register(*r)))
                    .map(|(b, i, r)| {
                        let (b, i, call) = Self::write_target(d, *b, *i, *r);
                        quote!((#b, #i) => #call,)
                    })
                    .collect()
            }),
        };
        let probes = List {
            len: d.states.len(),
            kind: Kind::Arm,
            elems: Box::new(move |range| range.map(|i| probe_arms(i, &d.states[i])).collect()),
        };
        let mut lists = vec![read_arms, write_arms, probes];
        lists.extend(super::snapshot::registers_lists(d));
        let any_read = entries
            .iter()
            .any(|(_, _, r)| Self::read_matters(d.register(*r)));
        let writes: Vec<&(u8, usize, ir::RegId)> = entries
            .iter()
            .filter(|(_, _, r)| Self::write_matters(d.register(*r)))
            .take(2)
            .collect();
        let single_write = match writes[..] {
            [(b, i, r)] => Some(Self::write_target(d, *b, *i, *r)),
            _ => None,
        };
        let any_write = !writes.is_empty();
        // What does not depend on the lists, built once.
        let fixed = [
            self.config_registers_impl(),
            self.whole_trait_methods(),
            self.reset_body(),
            Self::access_context(d),
        ];
        let snapshot = super::snapshot::Facts::of(d);
        Piece {
            lists,
            build: Box::new(move |fill| {
                let heads = Heads {
                    any_read,
                    any_write,
                    single_write: single_write.clone(),
                };
                self.registers_impl_tokens(fill, heads, fixed.clone(), &snapshot)
            }),
        }
    }

    /// `const ACCESS_CONTEXT: bool = false;` when nothing in the spec reads
    /// `access.size`/`access.mask` (the runtime then skips setting them per
    /// access); nothing otherwise.
    fn access_context(d: &ir::Device) -> TokenStream {
        if super::usage::uses_access_context(d) {
            quote!()
        } else {
            quote!(
                const ACCESS_CONTEXT: bool = false;
            )
        }
    }

    /// The bar, index and call of a write dispatched to register `r`.
    fn write_target(
        d: &ir::Device,
        bar: u8,
        i: usize,
        r: ir::RegId,
    ) -> (TokenStream, TokenStream, TokenStream) {
        let reg = d.register(r);
        let m = Self::reg_ident(reg, "write");
        let call = arrays::dispatch_call(reg, &m, &[quote!(value), quote!(mask)]);
        (lit_dec(bar.into()), lit_dec(i as u64), call)
    }

    fn registers_impl_tokens(
        &self,
        fill: Fill,
        heads: Heads,
        fixed: [TokenStream; 4],
        snapshot: &super::snapshot::Facts,
    ) -> TokenStream {
        let d = self.dev;
        let Heads {
            any_read,
            any_write,
            single_write,
        } = heads;
        let [config, whole, reset, access_context] = fixed;
        let (read_params, read_body) = if !any_read {
            (
                quote!(_ctx: &mut DeviceCtx, _bar: u8, _reg: usize),
                quote!(0),
            )
        } else {
            let read_arms = fill(0);
            (
                quote!(ctx: &mut DeviceCtx, bar: u8, reg: usize),
                quote!(match (bar, reg) { #read_arms _ => 0, }),
            )
        };
        let (write_params, write_body) = if !any_write {
            (
                quote!(_ctx: &mut DeviceCtx, _bar: u8, _reg: usize, _value: u64, _lanes: u8),
                quote!(),
            )
        } else {
            (
                quote!(ctx: &mut DeviceCtx, bar: u8, reg: usize, value: u64, lanes: u8),
                if let Some((b, i, call)) = single_write {
                    // One writable register: an `if`, not a one-arm
                    // `match` (clippy's `single_match`).
                    quote! {
                        let mask = pcidev_runtime::ops::lanes_mask(lanes);
                        if (bar, reg) == (#b, #i) { #call; }
                    }
                } else {
                    let write_arms = fill(1);
                    quote! {
                        let mask = pcidev_runtime::ops::lanes_mask(lanes);
                        match (bar, reg) { #write_arms _ => {} }
                    }
                },
            )
        };
        let irq = &d.interrupt;
        let (level, level_ctx) = match (&irq.level, irq.any()) {
            (Some(e), _) => {
                let mut cx = Ctx::new(d);
                cx.read_only = true;
                let level = bool_expr(&mut cx, e).into_tokens();
                (level, cx.ctx_param())
            }
            (None, true) => (quote!(ctx.latched_irq()), quote!(ctx)),
            (None, false) => (quote!(false), quote!(_ctx)),
        };
        let v2 = self.registers_v2(&|s| fill(2 + s));
        let snapshot = super::snapshot::registers_methods(snapshot, &|s| fill(3 + s));
        quote! {
            impl<H: Hooks> Registers for Device<H> {
                #access_context

                fn info(&self) -> &'static DeviceInfo {
                    &INFO
                }

                #whole

                fn read_register(&mut self, #read_params) -> u64 {
                    #read_body
                }

                fn write_register(&mut self, #write_params) {
                    #write_body
                }

                #config

                fn interrupt_level(&self, #level_ctx: &DeviceCtx) -> bool {
                    #level
                }

                fn reset(&mut self) {
                    #reset
                }

                #v2

                #snapshot
            }
        }
    }

    /// `read_config_register` / `write_config_register`, when the device
    /// has configuration-space registers (the trait's defaults otherwise).
    pub(super) fn config_registers_impl(&self) -> TokenStream {
        let d = self.dev;
        let mut read_arms = Vec::new();
        let mut write_arms = Vec::new();
        for (i, r) in d.config_registers.iter().enumerate() {
            let reg = d.register(*r);
            let i = lit_dec(i as u64);
            if Self::read_matters(reg) {
                let m = Self::reg_ident(reg, "read");
                read_arms.push(quote!(#i => self.#m(ctx),));
            }
            if Self::write_matters(reg) {
                let m = Self::reg_ident(reg, "write");
                write_arms.push(quote!(#i => self.#m(ctx, value, mask),));
            }
        }
        let read = if read_arms.is_empty() {
            quote!()
        } else {
            quote! {
                fn read_config_register(&mut self, ctx: &mut DeviceCtx, reg: usize) -> u64 {
                    match reg { #(#read_arms)* _ => 0, }
                }
            }
        };
        let write = if write_arms.is_empty() {
            quote!()
        } else {
            quote! {
                fn write_config_register(&mut self, ctx: &mut DeviceCtx, reg: usize, value: u64, lanes: u8) {
                    let mask = pcidev_runtime::ops::lanes_mask(lanes);
                    match reg { #(#write_arms)* _ => {} }
                }
            }
        };
        quote!(#read #write)
    }

    /// `reset`: state and storage back to reset values, sticky states kept.
    pub(super) fn reset_body(&self) -> TokenStream {
        let d = self.dev;
        // Windowed buffers are kept and reset in place: one shared with the
        // VMM stays shared.
        let windowed: Vec<&ir::State> = (0..d.states.len())
            .filter(|&i| d.windowed(ir::StateId(i)) && !d.states[i].sticky)
            .map(|i| &d.states[i])
            .collect();
        let sticky: Vec<&ir::State> = d
            .states
            .iter()
            .filter(|s| s.sticky || windowed.iter().any(|w| std::ptr::eq(*w, *s)))
            .collect();
        let in_place = windowed.iter().map(|s| {
            let n = format_ident!("{}", s.name);
            let bytes = proc_macro2::Literal::byte_string(&s.init);
            quote!(self.state.#n.reset(#bytes);)
        });
        let state = if sticky.is_empty() {
            quote!(self.state = State::default();)
        } else if sticky.len() == d.states.len() {
            quote!()
        } else {
            let keep = sticky.iter().map(|s| {
                let n = format_ident!("{}", s.name);
                quote!(#n: std::mem::take(&mut self.state.#n),)
            });
            quote!(self.state = State { #(#keep)* ..State::default() };)
        };
        quote! {
            #state
            #(#in_place)*
            self.storage = Storage::default();
        }
    }

    /// Timers, streams and state probes (language v2); nothing for specs
    /// without them (the trait's defaults apply).
    pub(super) fn registers_v2(&self, fill: Fill) -> TokenStream {
        let d = self.dev;
        let mut out = TokenStream::new();
        if d.windows().next().is_some() {
            let arms = d.windows().enumerate().map(|(i, (_, w))| {
                let i = lit_dec(i as u64);
                let n = format_ident!("{}", d.state(w.state).name);
                quote!(#i => Some(&mut self.state.#n),)
            });
            out.extend(quote! {
                fn windows(&self) -> &'static [WindowInfo] {
                    WINDOWS
                }

                fn window(&mut self, window: usize) -> Option<&mut Bytes> {
                    match window {
                        #(#arms)*
                        _ => None,
                    }
                }
            });
        }
        if !d.timers.is_empty() {
            let names = d.timers.iter().map(|t| lit_str(&t.name));
            let fires: Vec<Ident> = d
                .timers
                .iter()
                .map(|t| format_ident!("fire_{}", t.name))
                .collect();
            let dispatch = if fires.len() == 1 {
                let f = &fires[0];
                quote!(if timer == 0 { self.#f(ctx); })
            } else {
                let arms = fires.iter().enumerate().map(|(i, f)| {
                    let i = lit_dec(i as u64);
                    quote!(#i => self.#f(ctx),)
                });
                quote!(match timer { #(#arms)* _ => {} })
            };
            out.extend(quote! {
                fn timers(&self) -> &'static [&'static str] {
                    &[#(#names),*]
                }

                fn timer_expired(&mut self, ctx: &mut DeviceCtx, timer: usize) {
                    #dispatch
                }
            });
        }
        if !d.streams.is_empty() {
            let names = d.streams.iter().map(|s| lit_str(&s.name));
            let inputs: Vec<Ident> = d
                .streams
                .iter()
                .map(|s| format_ident!("input_{}", s.name))
                .collect();
            let dispatch = if inputs.len() == 1 {
                let f = &inputs[0];
                quote!(if stream == 0 { self.#f(ctx, byte); })
            } else {
                let arms = inputs.iter().enumerate().map(|(i, f)| {
                    let i = lit_dec(i as u64);
                    quote!(#i => self.#f(ctx, byte),)
                });
                quote!(match stream { #(#arms)* _ => {} })
            };
            out.extend(quote! {
                fn streams(&self) -> &'static [&'static str] {
                    &[#(#names),*]
                }

                fn stream_input(&mut self, ctx: &mut DeviceCtx, stream: usize, byte: u8) {
                    #dispatch
                }
            });
            let ready: Vec<(usize, Ident)> = d
                .streams
                .iter()
                .enumerate()
                .filter(|(_, s)| s.ready.is_some())
                .map(|(i, s)| (i, format_ident!("ready_{}", s.name)))
                .collect();
            if !ready.is_empty() {
                let body = if d.streams.len() == 1 {
                    let f = &ready[0].1;
                    quote!(stream != 0 || self.#f(ctx))
                } else {
                    let arms = ready.iter().map(|(i, f)| {
                        let i = lit_dec(*i as u64);
                        quote!(#i => self.#f(ctx),)
                    });
                    quote!(match stream { #(#arms)* _ => true })
                };
                out.extend(quote! {
                    fn stream_ready(&self, ctx: &DeviceCtx, stream: usize) -> bool {
                        #body
                    }
                });
            }
        }
        let probes = d
            .states
            .iter()
            .any(|s| !matches!(s.ty, ir::Type::Buffer(_)))
            .then(|| fill(0));
        if let Some(probes) = probes {
            out.extend(quote! {
                fn probe(&self, probe: pcidev_runtime::scenario::Probe) -> Option<u64> {
                    use pcidev_runtime::scenario::Probe;
                    match probe {
                        #probes
                        _ => None,
                    }
                }
            });
        }
        out
    }
}

/// The probe arms of state `i`: its value, or a FIFO's length and front.
fn probe_arms(i: usize, s: &ir::State) -> TokenStream {
    let n = format_ident!("{}", s.name);
    let i = proc_macro2::Literal::u32_unsuffixed(i as u32);
    match s.ty {
        ir::Type::Bool | ir::Type::Uint(64) => {
            let v = if s.ty == ir::Type::Bool {
                quote!(u64::from(self.state.#n))
            } else {
                quote!(self.state.#n)
            };
            quote!(Probe::State(#i) => Some(#v),)
        }
        ir::Type::Uint(_) => quote!(Probe::State(#i) => Some(u64::from(self.state.#n)),),
        ir::Type::Fifo { .. } => quote! {
            Probe::FifoLen(#i) => Some(self.state.#n.count()),
            Probe::FifoFront(#i) => Some(self.state.#n.front()),
        },
        ir::Type::Buffer(_) => quote!(),
    }
}

/// What the register dispatch needs to know of all registers.
struct Heads {
    any_read: bool,
    any_write: bool,
    /// The only register a write is dispatched to, if just one.
    single_write: Option<(TokenStream, TokenStream, TokenStream)>,
}

/// A BAR with registers on the whole-register fast path.
pub(super) struct WholeBar<'d> {
    index: u8,
    regs: Vec<&'d ir::Register>,
    /// Per register of `regs`: may a read (a write) of it change the
    /// interrupt level ([`ir::LevelInputs::changed_by`])?
    read_changes: Vec<bool>,
    write_changes: Vec<bool>,
    /// The level a write answers unless its arm says otherwise: may
    /// change (true) when some write may change it, else unchanged (then
    /// no arm returns early, and no `return` leaves the tail unreachable).
    write_default: bool,
    /// The registers' width when they all have the same.
    width: Option<u8>,
    /// With one width: the offsets of the registers a read (a write) does
    /// nothing to, which share one arm.
    zero: Vec<TokenStream>,
    inert: Vec<TokenStream>,
    /// Does a read (a write) call any register's method?
    ctx_used: bool,
    value_used: bool,
}

impl WholeBar<'_> {
    /// `if len == W` on an arm when the registers' widths differ.
    fn guard(&self, r: &ir::Register) -> TokenStream {
        match self.width {
            Some(_) => quote!(),
            None => {
                let w = lit_hex(r.width.into());
                quote!(if len == #w)
            }
        }
    }
}

impl Model<'_> {
    /// `bar0_read` / `bar0_write` per BAR: a whole-register access decoded
    /// by a `match` on the register offsets (`bar0::CTRL => ...`); `None`
    /// / `false` for any other access, which the runtime splits over
    /// `read_register` / `write_register`.
    pub(super) fn whole_bars(&self) -> Vec<WholeBar<'_>> {
        let d = self.dev;
        let level = d.level_inputs();
        d.bars
            .iter()
            .filter_map(|bar| {
                let ids: Vec<ir::RegId> = d.fast_path_registers(bar).collect();
                let regs: Vec<&ir::Register> = ids.iter().map(|r| d.register(*r)).collect();
                let changes = |write| -> Vec<bool> {
                    ids.iter()
                        .map(|id| level.changed_by(*id, d.register(*id), write))
                        .collect()
                };
                let first = regs.first()?.width;
                // One width for all: test `len` once, as a hand-written model
                // whose registers are all bytes would.
                let width = regs.iter().all(|r| r.width == first).then_some(first);
                let offsets = |keep: fn(&ir::Register) -> bool| -> Vec<TokenStream> {
                    match width {
                        Some(_) => regs
                            .iter()
                            .filter(|r| keep(r))
                            .map(|r| offset_path(r))
                            .collect(),
                        None => Vec::new(),
                    }
                };
                let zero = offsets(|r| !Self::read_matters(r));
                let inert = offsets(|r| !Self::write_matters(r));
                let write_changes = changes(true);
                let write_default = regs
                    .iter()
                    .zip(&write_changes)
                    .any(|(r, c)| *c && Self::write_matters(r));
                Some(WholeBar {
                    index: bar.index,
                    read_changes: changes(false),
                    write_changes,
                    write_default,
                    ctx_used: regs.iter().any(|r| Self::read_matters(r)),
                    value_used: regs.iter().any(|r| Self::write_matters(r)),
                    regs,
                    width,
                    zero,
                    inert,
                })
            })
            .collect()
    }

    /// The arms of each fast-path BAR's read and write `match`, as lists
    /// (two per BAR, in [`Self::whole_bars`]' order).
    pub(super) fn whole_lists<'s>(bars: &std::rc::Rc<Vec<WholeBar<'s>>>) -> Vec<List<'s>> {
        let mut lists = Vec::new();
        for k in 0..bars.len() {
            let (b1, b2) = (bars.clone(), bars.clone());
            lists.push(List {
                len: bars[k].regs.len(),
                kind: Kind::Arm,
                elems: Box::new(move |range| {
                    let wb = &b1[k];
                    wb.regs[range.clone()]
                        .iter()
                        .zip(&wb.read_changes[range])
                        .map(|(r, changes)| {
                            let o = offset_path(r);
                            let g = wb.guard(r);
                            let level = level_path(*changes);
                            if Self::read_matters(r) {
                                let m = Self::reg_ident(r, "read");
                                quote!(#o #g => (self.#m(ctx), #level),)
                            } else if wb.width.is_some() {
                                quote!()
                            } else {
                                quote!(#o #g => (0, #level),)
                            }
                        })
                        .collect()
                }),
            });
            lists.push(List {
                len: bars[k].regs.len(),
                kind: Kind::Arm,
                elems: Box::new(move |range| {
                    let wb = &b2[k];
                    wb.regs[range.clone()]
                        .iter()
                        .zip(&wb.write_changes[range])
                        .map(|(r, changes)| {
                            let o = offset_path(r);
                            let g = wb.guard(r);
                            if Self::write_matters(r) {
                                let m = Self::reg_ident(r, "write");
                                let mask = if r.width >= 8 {
                                    quote!(u64::MAX)
                                } else {
                                    lit_hex(ir::low_mask(r.bits()))
                                };
                                let write = quote!(self.#m(ctx, value, #mask));
                                // Writes of the default level fall through
                                // to the common tail.
                                if *changes == wb.write_default {
                                    quote!(#o #g => #write,)
                                } else {
                                    let level = level_path(*changes);
                                    quote!(#o #g => {
                                        #write;
                                        return Some(#level);
                                    })
                                }
                            } else if wb.width.is_some() {
                                quote!()
                            } else if wb.write_default {
                                quote!(#o #g => return Some(Level::Unchanged),)
                            } else {
                                quote!(#o #g => {})
                            }
                        })
                        .collect()
                }),
            });
        }
        lists
    }

    /// `bar0_read` / `bar0_write` per BAR: a whole-register access decoded
    /// by a `match` on the register offsets (`bar0::CTRL => ...`); `None`
    /// / `false` for any other access, which the runtime splits over
    /// `read_register` / `write_register`. The arms are [`Self::whole_lists`]'
    /// slots, filled by `fill`.
    pub(super) fn whole_methods(bars: &[WholeBar], fill: Fill) -> TokenStream {
        let mut out = TokenStream::new();
        for (k, wb) in bars.iter().enumerate() {
            let width = wb.width;
            let len_check = |fail: TokenStream| match width {
                Some(w) => {
                    let w = lit_hex(w.into());
                    quote!(if len != #w { return #fail; })
                }
                None => quote!(),
            };
            let read_name = format_ident!("bar{}_read", wb.index);
            let write_name = format_ident!("bar{}_write", wb.index);
            // Reads: a register whose read returns 0 and does nothing has
            // no method; such registers share one arm.
            let arms = fill(2 * k);
            let zero = &wb.zero;
            let zero = (!zero.is_empty()).then(|| quote!(#(#zero)|* => (0, Level::Unchanged),));
            let ctx_used = wb.ctx_used;
            let ctx = if ctx_used { quote!(ctx) } else { quote!(_ctx) };
            let check = len_check(quote!(None));
            let read_doc = format!(
                " A guest read of one whole register of BAR {}: `len` bytes at `offset`.",
                wb.index
            );
            out.extend(quote! {
                #[doc = #read_doc]
                #[doc = " `None` for any other access (the runtime splits it over the registers)."]
                #[doc = " With the value: whether the read may change the interrupt level."]
                #[inline]
                fn #read_name(&mut self, #ctx: &mut DeviceCtx, offset: u64, len: usize) -> Option<(u64, Level)> {
                    #check
                    let read = match offset {
                        #arms
                        #zero
                        _ => return None,
                    };
                    Some(read)
                }
            });
            // Writes: registers a write does nothing to share one arm.
            let inert = &wb.inert;
            let value_used = wb.value_used;
            let no_arms = width.is_some() && !value_used;
            let write_doc = format!(
                " A guest write of one whole register of BAR {}: `value` is the `len` bytes at",
                wb.index
            );
            let check = len_check(quote!(None));
            let body = if no_arms {
                // Writes do nothing to any of them.
                match width {
                    Some(_) => {
                        quote!(#check matches!(offset, #(#inert)|*).then_some(Level::Unchanged))
                    }
                    None => quote!(None),
                }
            } else {
                let arms = fill(2 * k + 1);
                let inert = (!inert.is_empty()).then(|| {
                    if wb.write_default {
                        quote!(#(#inert)|* => return Some(Level::Unchanged),)
                    } else {
                        quote!(#(#inert)|* => {})
                    }
                });
                let tail = level_path(wb.write_default);
                quote! {
                    #check
                    match offset {
                        #arms
                        #inert
                        _ => return None,
                    }
                    Some(#tail)
                }
            };
            let (ctx, value) = if value_used {
                (quote!(ctx), quote!(value))
            } else {
                (quote!(_ctx), quote!(_value))
            };
            out.extend(quote! {
                #[doc = #write_doc]
                #[doc = " `offset`. `None` for any other access (the runtime splits it over the registers);"]
                #[doc = " else whether the write may change the interrupt level."]
                #[inline]
                fn #write_name(&mut self, #ctx: &mut DeviceCtx, offset: u64, len: usize, #value: u64) -> Option<Level> {
                    #body
                }
            });
        }
        out
    }

    /// `read_whole` / `write_whole`: the BAR's `bar0_read` / `bar0_write`.
    fn whole_trait_methods(&self) -> TokenStream {
        let d = self.dev;
        let bars: Vec<u8> = d
            .bars
            .iter()
            .filter(|b| d.fast_path_registers(b).next().is_some())
            .map(|b| b.index)
            .collect();
        if bars.is_empty() {
            return quote!();
        }
        let reads = bars.iter().map(|b| {
            let m = format_ident!("bar{}_read", b);
            let b = lit_hex((*b).into());
            quote!(#b => self.#m(ctx, offset, len),)
        });
        let writes = bars.iter().map(|b| {
            let m = format_ident!("bar{}_write", b);
            let b = lit_hex((*b).into());
            quote!(#b => self.#m(ctx, offset, len, value),)
        });
        // Inlined into the runtime's fast path (`Model::bar_read`): a
        // small match whose call would cost as much as its work.
        quote! {
            #[inline]
            fn read_whole(&mut self, ctx: &mut DeviceCtx, bar: u8, offset: u64, len: usize) -> Option<(u64, Level)> {
                match bar {
                    #(#reads)*
                    _ => None,
                }
            }

            #[inline]
            fn write_whole(&mut self, ctx: &mut DeviceCtx, bar: u8, offset: u64, len: usize, value: u64) -> Option<Level> {
                match bar {
                    #(#writes)*
                    _ => None,
                }
            }
        }
    }
}

/// `Level::MayChange` or `Level::Unchanged`: may the access change the
/// interrupt level?
fn level_path(changes: bool) -> TokenStream {
    if changes {
        quote!(Level::MayChange)
    } else {
        quote!(Level::Unchanged)
    }
}
