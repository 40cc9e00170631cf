//! Identity: the one `device` block, and its identity items (`id`,
//! `revision`, `class`, `subsystem`, `description`, `dma_buffer`, and which
//! `interrupt` block), each given at most once.
//!
//! The same walk over the device's items declares every named item (states,
//! hooks, registers, scenarios, timers, streams, `let`s, `fn`s) in source
//! order, so that `RegId`s and the
//! "first declared here" of a duplicate follow the text; their checks run in
//! later passes.
//!
//! Emits E0101 (no device, two devices), E0102 (no `id`), E0103 (invalid
//! vendor or device id), E0104 (16- and 8-bit values, DMA buffer size) and
//! E0105 (an item given twice).

use super::{Checker, Sym};
use crate::ast::{self, DeviceItem};
use crate::diag::{self, Diagnostic};
use crate::ir::{self, FnId, HookId, LetId, RegId, StateId, StreamId, TimerId};
use crate::source::{SourceMap, Span};
use std::collections::BTreeMap;

/// The spec's one device; E0101 when there is none or more than one.
pub(super) fn the_device<'s>(
    spec: &'s ast::SpecAst,
    sources: &SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Option<&'s ast::DeviceAst> {
    let device = match spec.devices.as_slice() {
        [] => {
            let file = sources
                .files()
                .first()
                .map(|_| crate::source::FileId(0))
                .unwrap_or_default();
            if !diags.iter().any(|d| d.is_error()) {
                diags.push(
                    Diagnostic::error(
                        diag::NO_DEVICE,
                        Span::new(file, 0, 0),
                        "no `device` block in this spec",
                    )
                    .label("expected `device NAME { ... }`")
                    .hint("a spec starts with `device my_device { id 0x1234:0x0001; ... }`"),
                );
            }
            return None;
        }
        [one] => one,
        [first, second, ..] => {
            diags.push(
                Diagnostic::error(
                    diag::NO_DEVICE,
                    second.name.span,
                    "a spec describes exactly one device",
                )
                .label("second device")
                .also(first.name.span, "first device")
                .hint("put each device in its own .pcidev file"),
            );
            return None;
        }
    };
    Some(device)
}

/// What the walk over a device's items found, for the later passes.
pub(super) struct Items<'a> {
    /// The device with its identity filled in; the rest is left empty.
    pub(super) dev: ir::Device,
    pub(super) interrupt_ast: Option<&'a ast::InterruptAst>,
    pub(super) bar_asts: Vec<&'a ast::BarAst>,
    /// `config { }` blocks, in source order (several add up).
    pub(super) config_asts: Vec<&'a ast::ConfigAst>,
    pub(super) scenario_asts: Vec<&'a ast::ScenarioAst>,
}

impl<'a> Checker<'a> {
    /// Check the identity items and declare every named item.
    pub(super) fn items(&mut self, d: &'a ast::DeviceAst) -> Items<'a> {
        self.check_name(&d.name, "device", false);

        // Identity items, each at most once.
        let mut seen: BTreeMap<&'static str, Span> = BTreeMap::new();
        let mut once = |c: &mut Self, key: &'static str, span: Span| -> bool {
            if let Some(prev) = seen.get(key) {
                c.err(
                    Diagnostic::error(
                        diag::DUPLICATE_ITEM,
                        span,
                        format!("`{key}` is given twice"),
                    )
                    .label("second")
                    .also(*prev, "first")
                    .hint("keep one"),
                );
                false
            } else {
                seen.insert(key, span);
                true
            }
        };
        let mut dev = ir::Device {
            name: d.name.name.clone(),
            description: String::new(),
            source_name: self
                .sources
                .get(d.name.span.file)
                .map(|f| f.name.clone())
                .unwrap_or_default(),
            // The spec-wide `language` item is outside the device: `check` sets it.
            language: ir::LANGUAGE_VERSION,
            vendor_id: 0,
            device_id: 0,
            revision: 0,
            class_code: [0xff, 0, 0],
            subsystem_vendor_id: 0,
            subsystem_id: 0,
            interrupt: ir::Interrupt::default(),
            states: Vec::new(),
            hooks: Vec::new(),
            bars: Vec::new(),
            registers: Vec::new(),
            config_registers: Vec::new(),
            capabilities: Vec::new(),
            dma_buffer: None,
            dma_mask_bits: 64,
            scenarios: Vec::new(),
            timers: Vec::new(),
            streams: Vec::new(),
            lets: Vec::new(),
            fns: Vec::new(),
        };
        let mut have_id = false;
        let mut interrupt_ast: Option<&ast::InterruptAst> = None;
        let mut bar_asts = Vec::new();
        let mut config_asts = Vec::new();
        let mut scenario_asts = Vec::new();
        for item in &d.items {
            match item {
                DeviceItem::Description(s) => {
                    if once(self, "description", s.span) {
                        dev.description = s.value.clone();
                    }
                }
                DeviceItem::Id {
                    vendor,
                    device,
                    span,
                } => {
                    if once(self, "id", *span) {
                        have_id = true;
                        dev.vendor_id = self.u16_value(vendor, "vendor id");
                        dev.device_id = self.u16_value(device, "device id");
                        if matches!(vendor.value, 0 | 0xffff) {
                            self.err(
                                Diagnostic::error(diag::BAD_ID, vendor.span, format!("vendor id 0x{:04x} is not valid", vendor.value))
                                    .label(if vendor.value == 0 { "0x0000 is reserved" } else { "0xffff is what an empty slot reads" })
                                    .hint("use your PCI-SIG vendor id, or 0x1b36 (Red Hat, QEMU) for experiments"),
                            );
                        }
                        if device.value == 0xffff {
                            self.err(
                                Diagnostic::error(
                                    diag::BAD_ID,
                                    device.span,
                                    "device id 0xffff is not valid",
                                )
                                .label("0xffff is what an empty slot reads")
                                .hint("pick any other device id"),
                            );
                        }
                    }
                }
                DeviceItem::Revision(n) => {
                    if once(self, "revision", n.span) {
                        dev.revision = self.u8_value(n, "revision");
                    }
                }
                DeviceItem::Class {
                    base,
                    sub,
                    prog_if,
                    span,
                } => {
                    if once(self, "class", *span) {
                        dev.class_code = [
                            self.u8_value(base, "base class"),
                            self.u8_value(sub, "subclass"),
                            self.u8_value(prog_if, "programming interface"),
                        ];
                    }
                }
                DeviceItem::Subsystem { vendor, id, span } => {
                    if once(self, "subsystem", *span) {
                        dev.subsystem_vendor_id = self.u16_value(vendor, "subsystem vendor id");
                        dev.subsystem_id = self.u16_value(id, "subsystem id");
                    }
                }
                DeviceItem::DmaBuffer(n) => {
                    if once(self, "dma_buffer", n.span) {
                        if n.value == 0 || n.value > (1 << 30) {
                            self.err(
                                Diagnostic::error(
                                    diag::OUT_OF_RANGE,
                                    n.span,
                                    "a DMA buffer is 1 byte to 1G",
                                )
                                .label("out of range")
                                .hint("the driver allocates this much coherent memory"),
                            );
                        }
                        dev.dma_buffer = Some(n.value);
                    }
                }
                DeviceItem::Interrupt(i) => {
                    if once(self, "interrupt", i.span) {
                        interrupt_ast = Some(i);
                    }
                }
                DeviceItem::State(s) => {
                    self.check_name(&s.name, "state", false);
                    let id = StateId(self.state_asts.len());
                    self.declare(&s.name, Sym::State(id));
                    self.state_asts.push(s);
                }
                DeviceItem::Hook(h) => {
                    self.check_name(&h.name, "hook", false);
                    let id = HookId(self.hook_asts.len());
                    self.declare(&h.name, Sym::Hook(id));
                    self.hook_asts.push(h);
                }
                DeviceItem::Bar(b) => {
                    for r in &b.registers {
                        self.check_name(&r.name, "register", true);
                        let id = RegId(self.reg_asts.len());
                        self.declare(&r.name, Sym::Register(id));
                        self.reg_asts
                            .push((r, ir::Space::Bar(b.index.value.min(255) as u8)));
                    }
                    bar_asts.push(b);
                }
                // Several `config` blocks add up (one may come from an include).
                DeviceItem::Config(c) => {
                    let regs = c
                        .registers
                        .iter()
                        .chain(c.capabilities.iter().flat_map(|cap| &cap.registers));
                    for r in regs {
                        self.check_name(&r.name, "register", true);
                        let id = RegId(self.reg_asts.len());
                        self.declare(&r.name, Sym::Register(id));
                        self.reg_asts.push((r, ir::Space::Config));
                    }
                    config_asts.push(c);
                }
                DeviceItem::Scenario(s) => {
                    self.check_name(&s.name, "scenario", false);
                    self.declare(&s.name, Sym::Scenario);
                    scenario_asts.push(s);
                }
                DeviceItem::Timer(t) => {
                    self.check_name(&t.name, "timer", false);
                    let id = TimerId(self.timer_asts.len());
                    self.declare(&t.name, Sym::Timer(id));
                    self.timer_asts.push(t);
                }
                DeviceItem::Stream(st) => {
                    self.check_name(&st.name, "stream", false);
                    let id = StreamId(self.stream_asts.len());
                    self.declare(&st.name, Sym::Stream(id));
                    self.stream_asts.push(st);
                }
                DeviceItem::Let(l) => {
                    self.check_name(&l.name, "`let`", false);
                    let id = LetId(self.let_asts.len());
                    self.declare(&l.name, Sym::Let(id));
                    self.let_asts.push(l);
                }
                DeviceItem::Fn(f) => {
                    self.check_name(&f.name, "`fn`", false);
                    let id = FnId(self.fn_asts.len());
                    self.declare(&f.name, Sym::Fn(id));
                    self.fn_asts.push(f);
                }
            }
        }
        if !have_id {
            self.err(
                Diagnostic::error(
                    diag::MISSING_ITEM,
                    d.name.span,
                    format!("device `{}` has no `id`", d.name.name),
                )
                .label("this device")
                .hint("add `id 0xVVVV:0xDDDD;` (vendor:device)"),
            );
        }
        Items {
            dev,
            interrupt_ast,
            bar_asts,
            config_asts,
            scenario_asts,
        }
    }

    fn u16_value(&mut self, n: &ast::Num, what: &str) -> u16 {
        if n.value > 0xffff {
            self.out_of_range(n, what, "16 bits");
        }
        n.value as u16
    }

    fn u8_value(&mut self, n: &ast::Num, what: &str) -> u8 {
        if n.value > 0xff {
            self.out_of_range(n, what, "8 bits");
        }
        n.value as u8
    }

    fn out_of_range(&mut self, n: &ast::Num, what: &str, limit: &str) {
        self.err(
            Diagnostic::error(
                diag::OUT_OF_RANGE,
                n.span,
                format!("{what} 0x{:x} does not fit in {limit}", n.value),
            )
            .label(format!("{what} is {limit}"))
            .hint(format!("use a value of at most {limit}")),
        );
    }
}
