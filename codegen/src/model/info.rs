//! `INFO` (identity, BARs, access policies, register layout) and `WINDOWS`.

use super::emit::{Kind, List, Piece};
use super::{Model, lit_hex, lit_str, register_layout};
use pcidevc_dsl::ir;
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

impl Model<'_> {
    /// `INFO` and `WINDOWS`; each BAR's registers (and the configuration
    /// registers) a list.
    pub(super) fn info(&self) -> Piece<'_> {
        let d = self.dev;
        let layouts = |regs: Vec<ir::RegId>| {
            let len = regs.len();
            List {
                len,
                kind: Kind::Expr,
                weight: 1,
                elems: Box::new(move |range| {
                    let regs = regs[range].iter().map(|r| register_layout(d.register(*r)));
                    quote!(#(#regs,)*)
                }),
            }
        };
        let mut lists: Vec<List> = d
            .bars
            .iter()
            .map(|b| layouts(d.layout_registers(b).collect()))
            .collect();
        lists.push(layouts(d.config_registers.clone()));
        Piece {
            lists,
            build: Box::new(move |fill| self.info_tokens(fill)),
        }
    }

    fn info_tokens(&self, fill: super::emit::Fill) -> TokenStream {
        let d = self.dev;
        let name = lit_str(&d.name);
        let (vendor, device, revision) = (
            lit_hex(d.vendor_id.into()),
            lit_hex(d.device_id.into()),
            lit_hex(d.revision.into()),
        );
        let class: Vec<TokenStream> = d.class_code.iter().map(|b| lit_hex((*b).into())).collect();
        let (sv, si) = (
            lit_hex(d.subsystem_vendor_id.into()),
            lit_hex(d.subsystem_id.into()),
        );
        let pin = match d.interrupt.pin {
            None => quote!(None),
            Some(p) => {
                let p = format_ident!("{}", p.letter().to_string());
                quote!(Some(IntxPin::#p))
            }
        };
        let msi = match d.interrupt.msi_vectors {
            None => quote!(None),
            Some(n) => {
                let n = lit_hex(n.into());
                quote!(Some(MsiInfo { vectors: #n }))
            }
        };
        let msix = match d.interrupt.msix {
            None => quote!(None),
            Some(m) => {
                let vectors = lit_hex(m.vectors.into());
                let (tb, pb) = (lit_hex(m.table_bar.into()), lit_hex(m.pba_bar.into()));
                let (to, po) = (lit_hex(m.table_offset), lit_hex(m.pba_offset));
                quote!(Some(MsixInfo {
                    vectors: #vectors,
                    table_bar: #tb,
                    table_offset: #to,
                    pba_bar: #pb,
                    pba_offset: #po,
                }))
            }
        };
        let bars = d.bars.iter().enumerate().map(|(slot, b)| {
            let index = lit_hex(b.index.into());
            let kind = match b.kind {
                ir::BarKind::Io => quote!(BarKind::Io),
                ir::BarKind::Mem32 { prefetchable } => quote!(BarKind::Mem32 { prefetchable: #prefetchable }),
                ir::BarKind::Mem64 { prefetchable } => quote!(BarKind::Mem64 { prefetchable: #prefetchable }),
            };
            let size = lit_hex(b.size);
            let sizes = lit_hex(b.policy.sizes.0.into());
            let aligned = b.policy.aligned;
            let invalid = match b.policy.invalid {
                ir::InvalidAccess::Ignore => quote!(InvalidAccess::Ignore),
                ir::InvalidAccess::AllOnes => quote!(InvalidAccess::AllOnes),
                ir::InvalidAccess::Error => quote!(InvalidAccess::Error),
            };
            let unmapped = match b.policy.unmapped {
                ir::Unmapped::Ones => quote!(Unmapped::Ones),
                ir::Unmapped::Zero => quote!(Unmapped::Zero),
            };
            let regs = fill(slot);
            quote! {
                BarInfo {
                    index: #index,
                    kind: #kind,
                    size: #size,
                    policy: AccessPolicy { sizes: AccessSizes(#sizes), aligned: #aligned, invalid: #invalid, unmapped: #unmapped },
                    registers: &[#regs],
                }
            }
        });
        let windows = self.windows_const();
        let config_regs = fill(d.bars.len());
        let caps = d.capabilities.iter().map(|c| {
            let offset = lit_hex(c.offset.into());
            let len = lit_hex(c.size.into());
            match c.kind {
                ir::CapabilityKind::Vendor => quote!(VendorCapInfo { offset: #offset, len: #len }),
            }
        });
        quote! {
            /// Identity, BARs, access policies and register layout.
            pub const INFO: DeviceInfo = DeviceInfo {
                name: #name,
                vendor_id: #vendor,
                device_id: #device,
                revision: #revision,
                class_code: [#(#class),*],
                subsystem_vendor_id: #sv,
                subsystem_id: #si,
                interrupt_pin: #pin,
                bars: &[#(#bars),*],
                msi: #msi,
                msix: #msix,
                config_registers: &[#config_regs],
                vendor_capabilities: &[#(#caps),*],
            };
            #windows
        }
    }

    /// `WINDOWS`: the spec's windows, in BAR order (nothing without any).
    pub(super) fn windows_const(&self) -> TokenStream {
        let d = self.dev;
        if d.windows().next().is_none() {
            return quote!();
        }
        let items = d.windows().map(|(bar, w)| {
            let name = lit_str(&d.state(w.state).name);
            let bar = lit_hex(bar.into());
            let (offset, len, writable) = (lit_hex(w.offset), lit_hex(w.len), w.writable);
            quote!(WindowInfo { name: #name, bar: #bar, offset: #offset, len: #len, writable: #writable })
        });
        quote! {
            /// Buffer states shown in BARs (the spec's `window` items); the
            /// runtime serves accesses inside them from the buffers' bytes.
            pub const WINDOWS: &[WindowInfo] = &[#(#items),*];
        }
    }
}
