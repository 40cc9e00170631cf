//! [`Spec`]: a checked spec made ready to interpret, once per loaded spec.
//!
//! Holds the IR, the runtime's [`DeviceInfo`] built from it exactly as the
//! model backend writes its `const INFO`, and per-register plans (the masks
//! the generated read and write methods bake in as literals). A `Spec` is
//! leaked on purpose ([`Spec::leak`]): the runtime's `Registers::info`
//! returns `&'static DeviceInfo`, and a server loads each spec once, so one
//! allocation per loaded spec lives as long as the process. Build one per
//! spec and make every [`Interp`](crate::Interp) of it from the same
//! `&'static Spec`.

use std::path::Path;

use pcidev_runtime::{
    BarInfo, DeviceInfo, Level, MsiInfo, MsixInfo, RegisterLayout, StateDecl, StateKind,
    StateLayout, VendorCapInfo, WindowInfo,
};
use pcidevc_dsl::ir::{self, AccessKind, Device, RegId, Register};

/// What the interpreter needs per register, computed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RegPlan {
    /// Register width in bits.
    pub bits: u32,
    /// Bits a plain read returns (readable fields).
    pub readable: u64,
    /// Bits a read clears (`rclr` fields).
    pub rclr: u64,
    /// Bits a write stores (`rw`, `wo`), clears on 1 (`w1c`), sets on 1 (`w1s`).
    pub rw: u64,
    pub w1c: u64,
    pub w1s: u64,
    /// Does a guest read do or return anything (the generated code has a
    /// read method and a dispatch arm only then)?
    pub read_matters: bool,
    /// Does a guest write do anything?
    pub write_matters: bool,
    /// Does a write store into fields (any writable field)?
    pub stores: bool,
    /// May a guest read (write) of it change the interrupt level
    /// ([`ir::LevelInputs::changed_by`], as generated models answer)?
    pub read_level: Level,
    pub write_level: Level,
}

impl RegPlan {
    fn new(id: RegId, r: &Register, level: &ir::LevelInputs) -> Self {
        let changes = |write| {
            if level.changed_by(id, r, write) {
                Level::MayChange
            } else {
                Level::Unchanged
            }
        };
        let by = |kinds: &[AccessKind]| {
            r.fields
                .iter()
                .filter(|f| kinds.contains(&f.access))
                .fold(0u64, |m, f| m | f.mask())
        };
        let readable = r
            .fields
            .iter()
            .filter(|f| f.access.readable())
            .fold(0u64, |m, f| m | f.mask());
        let stores = r.fields.iter().any(|f| f.access.writable());
        RegPlan {
            bits: r.bits(),
            readable,
            rclr: by(&[AccessKind::Rclr]),
            rw: by(&[AccessKind::Rw, AccessKind::Wo]),
            w1c: by(&[AccessKind::W1c]),
            w1s: by(&[AccessKind::W1s]),
            read_matters: r.read.is_some()
                || !r.on_read.is_empty()
                || r.fields
                    .iter()
                    .any(|f| f.access.readable() || f.access == AccessKind::Rclr),
            write_matters: !r.on_write.is_empty() || stores,
            stores,
            read_level: changes(false),
            write_level: changes(true),
        }
    }
}

/// A spec ready to interpret: the IR plus what the runtime and the
/// interpreter derive from it once.
#[derive(Debug)]
pub struct Spec {
    /// The checked IR.
    pub device: Device,
    info: &'static DeviceInfo,
    /// Per BAR index (0..=5): the registers in the BAR's layout order (the
    /// runtime's `reg` argument indexes this).
    pub(crate) bar_regs: [Vec<RegId>; 6],
    /// Per BAR index (0..=5): the registers a whole-register access is
    /// served for directly ([`Device::on_fast_path`], the generated
    /// `bar<N>_read`/`_write` arms), as (offset, width, register) sorted
    /// by offset.
    pub(crate) fast: [Vec<(u64, u8, RegId)>; 6],
    /// Per register (indexed by `RegId`).
    pub(crate) plans: Vec<RegPlan>,
    /// Hook names as the trace records them.
    pub(crate) hook_names: Vec<&'static str>,
    /// The windows as the generated `WINDOWS` lists them, and each one's
    /// buffer state.
    pub(crate) windows: &'static [WindowInfo],
    pub(crate) window_states: Vec<ir::StateId>,
    /// Timer and stream names in declaration order (their ids), as the
    /// generated `Registers::timers`/`streams` return them.
    pub(crate) timer_names: &'static [&'static str],
    pub(crate) stream_names: &'static [&'static str],
    /// What a snapshot saves: states, then registers with storage (the
    /// generated `SNAPSHOT_LAYOUT` of the same spec).
    pub(crate) snapshot_layout: &'static StateLayout,
}

/// A spec that did not compile: its diagnostics, rendered as `pcidevc`
/// prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// The rendered diagnostics (errors and warnings).
    pub rendered: String,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.rendered.trim_end())
    }
}

impl std::error::Error for LoadError {}

/// A state or storage type as the runtime's snapshot layout names it.
fn state_kind(ty: ir::Type) -> StateKind {
    match ty {
        ir::Type::Bool => StateKind::Bool,
        ir::Type::Uint(b) => StateKind::Uint(b),
        ir::Type::Buffer(len) => StateKind::Buffer(len),
        ir::Type::Fifo {
            elem_bits,
            capacity,
        } => StateKind::Fifo {
            elem_bits,
            capacity,
        },
    }
}

/// The snapshot layout the model backend writes as `SNAPSHOT_LAYOUT`.
fn snapshot_layout(device: &Device) -> StateLayout {
    let decls = |v: Vec<StateDecl>| -> &'static [StateDecl] { Box::leak(v.into_boxed_slice()) };
    StateLayout {
        states: decls(
            device
                .states
                .iter()
                .map(|s| StateDecl::new(leak_str(&s.name), state_kind(s.ty)))
                .collect(),
        ),
        storage: decls(
            device
                .registers
                .iter()
                .filter(|r| r.has_storage())
                .map(|r| {
                    let bits = r.bits().clamp(8, 64).next_power_of_two();
                    StateDecl::new(leak_str(&r.name), StateKind::Uint(bits))
                })
                .collect(),
        ),
    }
}

fn leak_str(s: &str) -> &'static str {
    Box::leak(s.to_owned().into_boxed_str())
}

impl Spec {
    /// Compile the spec file at `path` (with its includes) and prepare it.
    /// Errors come back rendered; warnings are not reported here
    /// (`pcidevc check` shows them).
    pub fn load(path: &Path) -> Result<&'static Spec, LoadError> {
        Self::from_compiled(pcidevc_dsl::compile_file(path))
    }

    /// [`Self::load`] for spec text without a file (no includes).
    pub fn load_str(name: &str, text: &str) -> Result<&'static Spec, LoadError> {
        Self::from_compiled(pcidevc_dsl::compile_str(name, text))
    }

    fn from_compiled(c: pcidevc_dsl::Compiled) -> Result<&'static Spec, LoadError> {
        match c.device {
            Some(dev) if !c.has_errors() => match unsupported(&dev) {
                None => Ok(Self::leak(dev)),
                Some(what) => Err(LoadError {
                    rendered: format!(
                        "error: {}: the interpreter does not run {what} yet; \
                         serve the spec's generated model instead (`pcidev-host {}` after \
                         `pcidevc` generated it into this build)",
                        c.sources
                            .files()
                            .first()
                            .map(|f| f.name.clone())
                            .unwrap_or_default(),
                        dev.name
                    ),
                }),
            },
            _ => {
                let errors: Vec<_> = c.errors().cloned().collect();
                Err(LoadError {
                    rendered: pcidevc_dsl::diag::render(&errors, &c.sources, false),
                })
            }
        }
    }

    /// Prepare checked IR, leaking the result (see the module docs). The
    /// caller makes sure [`unsupported`] is `None` for it.
    pub fn leak(device: Device) -> &'static Spec {
        Box::leak(Box::new(Self::new(device)))
    }

    fn new(device: Device) -> Spec {
        let info = Box::leak(Box::new(device_info(&device)));
        let mut bar_regs: [Vec<RegId>; 6] = Default::default();
        let mut fast: [Vec<(u64, u8, RegId)>; 6] = Default::default();
        for b in &device.bars {
            if let Some(slot) = bar_regs.get_mut(usize::from(b.index)) {
                *slot = device.layout_registers(b).collect();
            }
            if let Some(slot) = fast.get_mut(usize::from(b.index)) {
                // By offset, as a BAR lists its registers.
                *slot = device
                    .fast_path_registers(b)
                    .map(|id| (device.register(id).offset, device.register(id).width, id))
                    .collect();
            }
        }
        let level = device.level_inputs();
        let plans = device
            .registers
            .iter()
            .enumerate()
            .map(|(i, r)| RegPlan::new(RegId(i), r, &level))
            .collect();
        let hook_names = device.hooks.iter().map(|h| leak_str(&h.name)).collect();
        let windows: Vec<WindowInfo> = device
            .windows()
            .map(|(bar, w)| WindowInfo {
                name: leak_str(&device.state(w.state).name),
                bar,
                offset: w.offset,
                len: w.len,
                writable: w.writable,
            })
            .collect();
        let window_states = device.windows().map(|(_, w)| w.state).collect();
        let names =
            |v: Vec<&'static str>| -> &'static [&'static str] { Box::leak(v.into_boxed_slice()) };
        let timer_names = names(device.timers.iter().map(|t| leak_str(&t.name)).collect());
        let stream_names = names(device.streams.iter().map(|s| leak_str(&s.name)).collect());
        let snapshot_layout = Box::leak(Box::new(snapshot_layout(&device)));
        Spec {
            snapshot_layout,
            device,
            info,
            bar_regs,
            fast,
            plans,
            hook_names,
            windows: Box::leak(windows.into_boxed_slice()),
            window_states,
            timer_names,
            stream_names,
        }
    }

    /// The runtime's description of the device (what the generated `INFO`
    /// holds for the same spec).
    pub fn info(&self) -> &'static DeviceInfo {
        self.info
    }

    /// The device's name.
    pub fn name(&self) -> &str {
        &self.device.name
    }

    /// The register a whole-register access of `len` bytes at `offset` of
    /// BAR `bar` is served for directly, if any (see [`Self::fast`]).
    #[inline]
    pub(crate) fn whole_at(&self, bar: u8, offset: u64, len: usize) -> Option<RegId> {
        let regs = self.fast.get(usize::from(bar))?;
        let i = regs.binary_search_by_key(&offset, |(o, _, _)| *o).ok()?;
        let (_, width, id) = regs[i];
        (usize::from(width) == len).then_some(id)
    }

    /// The register the runtime means by (`bar`, `reg`) and, for an array
    /// entry, `element` ([`DeviceCtx::array_index`]).
    ///
    /// [`DeviceCtx::array_index`]: pcidev_runtime::DeviceCtx::array_index
    pub(crate) fn reg_at(&self, bar: u8, reg: usize, element: u64) -> Option<RegId> {
        let head = self.bar_regs.get(usize::from(bar))?.get(reg).copied()?;
        self.device.element(head, element)
    }
}

/// The `DeviceInfo` the model backend emits for `d` (see
/// `pcidevc_codegen::model`'s `info`), built at run time.
fn device_info(d: &Device) -> DeviceInfo {
    let bars: Vec<BarInfo> = d
        .bars
        .iter()
        .map(|b| {
            let registers: Vec<RegisterLayout> = d
                .layout_registers(b)
                .map(|r| layout(d.register(r)))
                .collect();
            BarInfo {
                index: b.index,
                kind: b.kind,
                size: b.size,
                policy: b.policy,
                registers: Box::leak(registers.into_boxed_slice()),
            }
        })
        .collect();
    DeviceInfo {
        name: leak_str(&d.name),
        vendor_id: d.vendor_id,
        device_id: d.device_id,
        revision: d.revision,
        class_code: d.class_code,
        subsystem_vendor_id: d.subsystem_vendor_id,
        subsystem_id: d.subsystem_id,
        interrupt_pin: d.interrupt.pin,
        bars: Box::leak(bars.into_boxed_slice()),
        msi: d.interrupt.msi_vectors.map(|vectors| MsiInfo { vectors }),
        msix: d.interrupt.msix.map(|m| MsixInfo {
            vectors: m.vectors,
            table_bar: m.table_bar,
            table_offset: m.table_offset as u32,
            pba_bar: m.pba_bar,
            pba_offset: m.pba_offset as u32,
        }),
        config_registers: Box::leak(
            d.config_registers
                .iter()
                .map(|r| layout(d.register(*r)))
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        ),
        vendor_capabilities: Box::leak(
            d.capabilities
                .iter()
                .map(|c| VendorCapInfo {
                    offset: c.offset,
                    len: c.size,
                })
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        ),
    }
}

/// A register's layout entry, as the model backend writes it.
fn layout(reg: &Register) -> RegisterLayout {
    let mut layout = RegisterLayout::new(leak_str(reg.item_name()), reg.offset, reg.width);
    if let Some(a) = reg.array_head() {
        // MAX_ARRAY fits in u32.
        layout = layout.array(a.count as u32);
    }
    match reg.sizes {
        None => layout,
        Some(m) => layout.with_sizes(m),
    }
}

/// The constructs of `d` the interpreter does not run, named for an error
/// message; `None` when it can interpret all of `d` (today: every
/// construct of language v2 part 1 — timers, streams, FIFO and sticky
/// states, `let`, `fn`, VMM requests — is interpreted). Specs using an
/// unsupported construct are refused at load, so the evaluator never meets
/// one; a construct the IR gains must be interpreted (the evaluator's
/// exhaustive `match`es fail to compile until it is) or named here.
pub fn unsupported(d: &Device) -> Option<&'static str> {
    let _ = d;
    None
}
