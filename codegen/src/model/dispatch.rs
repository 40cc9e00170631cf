//! The `pcidev_runtime::Registers` impl: register dispatch, the interrupt
//! level, reset, timers, streams, windows and state probes.

use super::chunks::{CHUNK, Dir, Dispatch, run_range};
use super::emit::{Fill, Kind, List, Piece};
use super::expr::{Ctx, bool_expr};
use super::{Model, lit_dec, lit_str};
use pcidevc_dsl::ir;
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

impl Model<'_> {
    /// The `Registers` impl; the register dispatch's arms, the probes and
    /// the snapshot's saves and restores are lists.
    /// `dispatch`: the read and the write dispatch.
    pub(super) fn registers_impl(&self, dispatch: std::rc::Rc<[Dispatch; 2]>) -> Piece<'_> {
        let d = self.dev;
        let arms = |k: usize| {
            let x = dispatch.clone();
            List {
                len: dispatch[k].units.len(),
                kind: Kind::Arm,
                weight: 1,
                elems: Box::new(move |range| x[k].arms(d, range)),
            }
        };
        let (read_arms, write_arms) = (arms(0), arms(1));
        let [reads, writes] = &*dispatch;
        // A spec whose states are in parts probes them in runs (`probe_runs`).
        let flat_probes = probe_runs(d).is_none();
        let probes = List {
            len: if flat_probes { d.states.len() } else { 0 },
            kind: Kind::Arm,
            weight: 1,
            elems: Box::new(move |range| range.map(|i| probe_arms(d, i)).collect()),
        };
        let mut lists = vec![read_arms, write_arms, probes];
        lists.extend(super::snapshot::registers_lists(d));
        let any_read = !reads.entries.is_empty();
        let single_write = match writes.entries[..] {
            [(b, i, r)] => Some((
                lit_dec(b.into()),
                lit_dec(i as u64),
                super::chunks::call(d, Dir::Write, r),
            )),
            _ => None,
        };
        let any_write = !writes.entries.is_empty();
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
        let mut writes = Vec::new();
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
                writes.push((i, m));
            }
        }
        // One writable register: an `if`, not a one-arm `match` (clippy's
        // single_match).
        let write_dispatch = match &writes[..] {
            [(i, m)] => quote!(if reg == #i { self.#m(ctx, value, mask); }),
            _ => quote!(match reg { #(#write_arms)* _ => {} }),
        };
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
                    #write_dispatch
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
        let windowed: Vec<ir::StateId> = (0..d.states.len())
            .map(ir::StateId)
            .filter(|&i| d.windowed(i) && !d.state(i).sticky)
            .collect();
        let sticky: Vec<ir::StateId> = (0..d.states.len())
            .map(ir::StateId)
            .filter(|i| d.state(*i).sticky || windowed.contains(i))
            .collect();
        let in_place = windowed.iter().map(|&i| {
            let place = super::parts::state_place(d, i);
            let bytes = proc_macro2::Literal::byte_string(&d.state(i).init);
            quote!(#place.reset(#bytes);)
        });
        let state = if sticky.is_empty() {
            quote!(self.state = State::default();)
        } else if sticky.len() == d.states.len() {
            quote!()
        } else if super::parts::state_part(d, ir::StateId(0)).is_some() {
            // `State` in parts: the kept states moved into a fresh one.
            let keep = sticky.iter().map(|&i| {
                let place = super::parts::state_place(d, i);
                let fresh = super::parts::state_place_in(d, i, quote!(state));
                quote!(std::mem::swap(&mut #fresh, &mut #place);)
            });
            quote! {
                let mut state = State::default();
                #(#keep)*
                self.state = state;
            }
        } else {
            let keep = sticky.iter().map(|&i| {
                let n = format_ident!("{}", d.state(i).name);
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
                let place = super::parts::state_place(d, w.state);
                quote!(#i => Some(&mut #place),)
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
        if let Some(runs) = probe_runs(d) {
            let chunk = lit_dec(CHUNK as u64);
            let arms = runs.iter().map(|&k| {
                let m = probe_run_name(k);
                let k = lit_dec(k as u64);
                quote!(#k => self.#m(probe),)
            });
            if !runs.is_empty() {
                out.extend(quote! {
                    fn probe(&self, probe: pcidev_runtime::scenario::Probe) -> Option<u64> {
                        use pcidev_runtime::scenario::Probe;
                        let (Probe::State(i) | Probe::FifoLen(i) | Probe::FifoFront(i)) = probe else {
                            return None;
                        };
                        match i / #chunk {
                            #(#arms)*
                            _ => None,
                        }
                    }
                });
            }
            return out;
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

/// For a spec whose `State` is in parts ([`super::parts`]): the runs of
/// [`CHUNK`] states `probe` calls a method for (those with a state a probe
/// can name: not only buffers); `None` for other specs, whose `probe` is
/// one `match`.
pub(super) fn probe_runs(d: &ir::Device) -> Option<Vec<usize>> {
    super::parts::state_part(d, ir::StateId(0))?;
    Some(
        (0..d.states.len().div_ceil(CHUNK))
            .filter(|k| {
                d.states[run_range(*k, d.states.len())]
                    .iter()
                    .any(|s| !matches!(s.ty, ir::Type::Buffer(_)))
            })
            .collect(),
    )
}

fn probe_run_name(k: usize) -> Ident {
    format_ident!("probe_states_{k}")
}

/// The method probing run `k` of the states ([`probe_runs`]).
pub(super) fn probe_run_method(d: &ir::Device, k: usize) -> TokenStream {
    let range = run_range(k, d.states.len());
    let doc = format!(" `probe` of states {}..={}.", range.start, range.end - 1);
    let m = probe_run_name(k);
    let arms = range.map(|i| probe_arms(d, i));
    quote! {
        #[doc = #doc]
        fn #m(&self, probe: pcidev_runtime::scenario::Probe) -> Option<u64> {
            use pcidev_runtime::scenario::Probe;
            match probe {
                #(#arms)*
                _ => None,
            }
        }
    }
}

/// The probe arms of state `i`: its value, or a FIFO's length and front.
fn probe_arms(d: &ir::Device, i: usize) -> TokenStream {
    let s = &d.states[i];
    let place = super::parts::state_place(d, ir::StateId(i));
    let i = proc_macro2::Literal::u32_unsuffixed(i as u32);
    match s.ty {
        ir::Type::Bool | ir::Type::Uint(64) => {
            let v = if s.ty == ir::Type::Bool {
                quote!(u64::from(#place))
            } else {
                quote!(#place)
            };
            quote!(Probe::State(#i) => Some(#v),)
        }
        ir::Type::Uint(_) => quote!(Probe::State(#i) => Some(u64::from(#place)),),
        ir::Type::Fifo { .. } => quote! {
            Probe::FifoLen(#i) => Some(#place.count()),
            Probe::FifoFront(#i) => Some(#place.front()),
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
