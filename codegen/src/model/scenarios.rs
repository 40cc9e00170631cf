//! The `scenarios` module: each scenario as a static step table, the
//! driver's interrupt handler protocol, and one `#[test]` per scenario.

use super::consts::{offset_path, space_module};
use super::{Model, doc_text, lit_hex, lit_str, reg_loc};
use pcidevc_dsl::ir;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

impl Model<'_> {
    /// The driver's interrupt handler protocol as a function over the
    /// harness (`Handler::handle`), from the same rendering of the spec's
    /// expressions as the Rust driver's handler (`driver::ack`): `(None,
    /// nothing)` when the spec gives neither a test nor an ack.
    pub(super) fn irq_handler(&self) -> (TokenStream, TokenStream) {
        use crate::driver::ack::{self, Ack};
        let d = self.dev;
        let int = &d.interrupt;
        if int.mine.is_none() && int.acks.is_empty() {
            return (quote!(None), quote!());
        }
        let parse = |text: &str| -> TokenStream {
            syn::parse_str::<syn::Expr>(text)
                .map(|e| quote!(#e))
                .unwrap_or_else(|e| {
                    let msg = format!("pcidevc: handler expression `{text}`: {e}");
                    quote!(compile_error!(#msg))
                })
        };
        let used_regs = crate::driver::irq::used_registers(d, int);
        let read = |r: &ir::RegId| {
            let name = ack::reg_var(d, *r);
            let used = used_regs.contains(r);
            let v = format_ident!("{}{}", if used { "" } else { "_" }, name);
            let l = self.loc(&reg_loc(d, *r));
            quote!(let #v = io.read(#l);)
        };
        let (first, then) = int.handler_reads();
        let first_reads = first.iter().map(read);
        let then_reads = then.iter().map(read);
        let mine = int.mine.as_ref().map(|m| {
            let c = parse(&ack::condition(d, &ack::negate(m)).unwrap_or_else(|| "false".into()));
            quote! {
                if #c {
                    return false;
                }
            }
        });
        let acks = int.acks.iter().map(|a| {
            let reg = d.register(a.register);
            let l = self.loc(&reg_loc(d, a.register));
            let v = match ack::render_in(Some(d), &a.value) {
                Some(Ack::Const(k)) => lit_hex(k & ir::low_mask(reg.bits())),
                Some(Ack::Expr(t)) => parse(&t),
                None => lit_hex(0),
            };
            match &a.when {
                Some(w) => {
                    let c = parse(&ack::condition(d, w).unwrap_or_else(|| "false".into()));
                    quote! {
                        if #c {
                            io.write(#l, #v);
                        }
                    }
                }
                None => quote!(io.write(#l, #v);),
            }
        });
        // A constant `mine` without `status` or acks touches no register.
        let io = if handler_uses_io(int) {
            quote!(io)
        } else {
            quote!(_io)
        };
        let doc = format!(
            " The driver's interrupt handler: the spec's {}.",
            crate::summary::handler_summary(d)
        );
        (
            quote!(Some(handle_irq)),
            quote! {
                #[doc = #doc]
                pub fn handle_irq(#io: &mut dyn HandlerIo) -> bool {
                    #(#first_reads)*
                    #mine
                    #(#then_reads)*
                    #(#acks)*
                    true
                }
            },
        )
    }

    /// A step's location; the offset by its register's name
    /// (`bar0::IER`) when a register starts there.
    pub(super) fn loc(&self, l: &ir::Loc) -> TokenStream {
        let named = self
            .dev
            .registers
            .iter()
            .find(|r| r.space == l.space && r.offset == l.offset);
        let offset = match named {
            Some(r) => {
                self.scenario_maps
                    .borrow_mut()
                    .insert(space_module(r).to_string());
                offset_path(r)
            }
            None => lit_hex(l.offset),
        };
        let width = lit_hex(l.width.into());
        match l.space {
            ir::Space::Bar(bar) => {
                let bar = lit_hex(bar.into());
                quote!(Loc::bar(#bar, #offset, #width))
            }
            ir::Space::Config => quote!(Loc::config(#offset, #width)),
        }
    }

    pub(super) fn value(v: &ir::StepValue) -> TokenStream {
        let c = lit_hex(v.constant);
        if v.plus_dma_addr {
            quote!(StepValue::dma_addr(#c))
        } else {
            quote!(StepValue::new(#c))
        }
    }

    pub(super) fn data(d: &ir::Data) -> TokenStream {
        match d {
            ir::Data::Random(s) => {
                let s = lit_hex((*s).into());
                quote!(Data::Random(#s))
            }
            ir::Data::Pattern(b) => {
                let b = lit_hex((*b).into());
                quote!(Data::Pattern(#b))
            }
            ir::Data::Word(w) => {
                let w = lit_hex(*w);
                quote!(Data::Word(#w))
            }
        }
    }

    pub(super) fn mask(m: u64) -> TokenStream {
        if m == u64::MAX {
            quote!(u64::MAX)
        } else {
            lit_hex(m)
        }
    }

    pub(super) fn cmp(c: ir::Cmp) -> TokenStream {
        match c {
            ir::Cmp::Eq => quote!(Cmp::Eq),
            ir::Cmp::Ne => quote!(Cmp::Ne),
        }
    }

    pub(super) fn step(&self, s: &ir::Step) -> TokenStream {
        use pcidev_core::scenario::Step as S;
        let line = proc_macro2::Literal::usize_unsuffixed(s.line);
        let text = lit_str(&s.text);
        let step = match &s.kind {
            S::Read(l) => {
                let l = self.loc(l);
                quote!(Step::Read(#l))
            }
            S::Write(l, v) => {
                let (l, v) = (self.loc(l), Self::value(v));
                quote!(Step::Write(#l, #v))
            }
            S::Expect {
                loc,
                value,
                mask,
                cmp,
            } => {
                let (l, v, m, c) = (
                    self.loc(loc),
                    Self::value(value),
                    Self::mask(*mask),
                    Self::cmp(*cmp),
                );
                quote!(Step::Expect { loc: #l, value: #v, mask: #m, cmp: #c })
            }
            S::Wait { loc, value, mask } => {
                let (l, v, m) = (self.loc(loc), Self::value(value), Self::mask(*mask));
                quote!(Step::Wait { loc: #l, value: #v, mask: #m })
            }
            S::InvalidWrite(l, v) => {
                let (l, v) = (self.loc(l), Self::value(v));
                quote!(Step::InvalidWrite(#l, #v))
            }
            S::InvalidRead { loc, expect } => {
                let (l, e) = (self.loc(loc), lit_hex(*expect));
                quote!(Step::InvalidRead { loc: #l, expect: #e })
            }
            S::ExpectIrq(b) => quote!(Step::ExpectIrq(#b)),
            S::ExpectMsi(v) => quote!(Step::ExpectMsi(#v)),
            S::Fill { start, end, data } => {
                let (a, b, dt) = (lit_hex(*start), lit_hex(*end), Self::data(data));
                quote!(Step::Fill { start: #a, end: #b, data: #dt })
            }
            S::ExpectDma { start, end, data } => {
                let (a, b, dt) = (lit_hex(*start), lit_hex(*end), Self::data(data));
                quote!(Step::ExpectDma { start: #a, end: #b, data: #dt })
            }
            S::Repeat { count, len } => quote!(Step::Repeat { count: #count, len: #len }),
            S::ExpectState {
                probe,
                cmp,
                value,
                mask,
            } => {
                let probe = match probe {
                    ir::Probe::State(i) => quote!(Probe::State(#i)),
                    ir::Probe::FifoLen(i) => quote!(Probe::FifoLen(#i)),
                    ir::Probe::FifoFront(i) => quote!(Probe::FifoFront(#i)),
                    ir::Probe::TimerRunning(i) => quote!(Probe::TimerRunning(#i)),
                    ir::Probe::TimerRemaining(i) => quote!(Probe::TimerRemaining(#i)),
                };
                let (c, v, m) = (Self::cmp(*cmp), lit_hex(*value), Self::mask(*mask));
                quote!(Step::ExpectState { probe: #probe, cmp: #c, value: #v, mask: #m })
            }
            S::Advance(ns) => quote!(Step::Advance(#ns)),
            S::Input { stream, bytes } => {
                let b = proc_macro2::Literal::byte_string(bytes);
                quote!(Step::Input { stream: #stream, bytes: #b })
            }
            S::ExpectOutput { stream, bytes } => {
                let b = proc_macro2::Literal::byte_string(bytes);
                quote!(Step::ExpectOutput { stream: #stream, bytes: #b })
            }
            S::ExpectVmm(r) => {
                let r = format_ident!("{}", format!("{r:?}"));
                quote!(Step::ExpectVmm(pcidev_runtime::VmmRequest::#r))
            }
        };
        quote!(ScenarioStep::new(#line, #text, #step))
    }

    pub(super) fn scenarios(&self) -> TokenStream {
        let d = self.dev;
        let consts = d.scenarios.iter().map(|sc| {
            let name = format_ident!("{}", sc.name.to_ascii_uppercase());
            let sname = lit_str(&sc.name);
            let steps = sc.steps.iter().map(|s| self.step(s));
            let doc = format!(
                " Scenario `{}`{}.",
                sc.name,
                if sc.description.is_empty() {
                    String::new()
                } else {
                    format!(": {}", doc_text(&sc.description))
                }
            );
            quote! {
                #[doc = #doc]
                pub static #name: Scenario = Scenario { name: #sname, steps: &[#(#steps),*] };
            }
        });
        // Rendered now: rendering notes the register maps to import.
        let consts: Vec<TokenStream> = consts.collect();
        let all = d
            .scenarios
            .iter()
            .map(|sc| format_ident!("{}", sc.name.to_ascii_uppercase()));
        let (handle, handle_fn) = self.irq_handler();
        let dma = lit_hex(d.dma_buffer.unwrap_or(4096));
        let steps = || {
            d.scenarios
                .iter()
                .flat_map(|s| s.steps.iter().map(|st| &st.kind))
        };
        let mut names = vec!["Handler", "Scenario", "ScenarioFailure"];
        let has_handle_fn = !handle_fn.is_empty();
        if has_handle_fn {
            names.push("HandlerIo");
        }
        if (has_handle_fn && handler_uses_io(&d.interrupt))
            || steps().any(|k| {
                matches!(
                    k,
                    ir::StepKind::Read(_)
                        | ir::StepKind::Write(..)
                        | ir::StepKind::Expect { .. }
                        | ir::StepKind::Wait { .. }
                        | ir::StepKind::InvalidWrite(..)
                        | ir::StepKind::InvalidRead { .. }
                )
            })
        {
            names.push("Loc");
        }
        if !d.scenarios.iter().all(|s| s.steps.is_empty()) {
            names.extend(["ScenarioStep", "Step"]);
        }
        if steps().any(|k| {
            matches!(
                k,
                ir::StepKind::Write(..)
                    | ir::StepKind::Expect { .. }
                    | ir::StepKind::Wait { .. }
                    | ir::StepKind::InvalidWrite(..)
            )
        }) {
            names.push("StepValue");
        }
        if steps().any(|k| {
            matches!(
                k,
                ir::StepKind::Expect { .. } | ir::StepKind::ExpectState { .. }
            )
        }) {
            names.push("Cmp");
        }
        if steps().any(|k| matches!(k, ir::StepKind::ExpectState { .. })) {
            names.push("Probe");
        }
        if steps().any(|k| {
            matches!(
                k,
                ir::StepKind::ExpectDma { .. } | ir::StepKind::Fill { .. }
            )
        }) {
            names.push("Data");
        }
        names.sort_unstable();
        let scenario_imports = names.iter().map(|n| format_ident!("{}", n));
        // Without hooks the scenarios run as `#[test]`s on `NoHooks`; no
        // scenarios, no (empty) test module.
        let tests = if d.hooks.is_empty() && !d.scenarios.is_empty() {
            let tests = d.scenarios.iter().map(|sc| {
                let f = format_ident!("scenario_{}", sc.name);
                let c = format_ident!("{}", sc.name.to_ascii_uppercase());
                quote! {
                    #[test]
                    fn #f() {
                        let mut h = Harness::new(Device::new(NoHooks), DMA_BUFFER);
                        if let Err(e) = h.run(&#c, &HANDLER) {
                            panic!("{e}");
                        }
                    }
                }
            });
            quote! {
                #[cfg(test)]
                mod tests {
                    use super::super::{Device, NoHooks};
                    use super::*;
                    use pcidev_runtime::scenario::Harness;

                    #(#tests)*
                }
            }
        } else {
            quote!()
        };
        let maps = self
            .scenario_maps
            .borrow()
            .iter()
            .map(|m| format_ident!("{}", m))
            .collect::<Vec<_>>();
        quote! {
            /// The spec's scenarios, for `pcidev_runtime::scenario` (the same steps
            /// the generated driver runs in its probe self-test).
            pub mod scenarios {
                use super::{#(#maps,)* Device, Hooks};
                use pcidev_runtime::scenario::{#(#scenario_imports),*};

                /// Size of the DMA buffer the scenarios use (`dma.addr`).
                pub const DMA_BUFFER: u64 = #dma;

                #handle_fn

                /// How the driver recognises and acknowledges its interrupt.
                pub static HANDLER: Handler = Handler { handle: #handle };

                #(#consts)*

                /// Every scenario, in spec order.
                pub static ALL: &[&Scenario] = &[#(&#all),*];

                /// Run every scenario on a fresh device (from `new_hooks`) each.
                pub fn run_all<H: Hooks>(mut new_hooks: impl FnMut() -> H) -> Result<(), ScenarioFailure> {
                    for s in ALL {
                        pcidev_runtime::scenario::Harness::new(Device::new(new_hooks()), DMA_BUFFER).run(s, &HANDLER)?;
                    }
                    Ok(())
                }

                #tests
            }
        }
    }
}

/// Does the generated interrupt handler read or write a register (else its
/// `io` parameter and `Loc` are unused)?
fn handler_uses_io(int: &ir::Interrupt) -> bool {
    let (first, then) = int.handler_reads();
    !first.is_empty() || !then.is_empty() || !int.acks.is_empty()
}
