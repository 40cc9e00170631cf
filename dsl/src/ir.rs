//! The typed intermediate representation every backend consumes.
//!
//! Produced by [`crate::check`] only when a spec has no errors, so backends
//! can rely on its invariants without re-checking:
//! - names are valid identifiers in their case (registers UPPER_SNAKE,
//!   everything else lower_snake) and unique in their namespace;
//! - every reference is resolved to an index ([`RegId`], [`StateId`], ...);
//! - BARs are sorted by index, each BAR's registers by offset, registers
//!   never overlap and lie inside their BAR at a width the BAR allows;
//! - a register with storage has at least one field (a register declared
//!   `REG : u32 rw = 1;` gets one implicit field covering all its bits);
//!   fields never overlap and resets fit;
//! - expressions nest at most [`crate::parse::MAX_EXPR_DEPTH`] operators deep;
//! - `let`s and `fn`s are not recursive (directly or through each other), so
//!   [`Expr::Let`] and [`Expr::Fn`] can be emitted as plain functions, and a
//!   `fn` body refers only to its parameters ([`Expr::Param`]), constants and
//!   other `fn`s;
//! - FIFO operations name FIFO states, `.running` / `.remaining` timers,
//!   `.space` streams; `byte` appears only in a stream's `on input`.
//!
//! Runtime semantics (what the model backend implements and the driver
//! assumes) are documented on each type.

use crate::source::Span;
pub use pcidev_core::access::{AccessKind, WriteMasks, low_mask};
pub use pcidev_core::bar::{AccessPolicy, AccessSizes, BarKind, InvalidAccess, Unmapped};
pub use pcidev_core::data::Data;
pub use pcidev_core::dma::DmaOutcome;
pub use pcidev_core::irq::{IntxPin, IrqOp};
pub use pcidev_core::ops::{AssignOp, BinOp, UnOp};
pub use pcidev_core::scenario::{Cmp, Loc, Probe, StepValue};
pub use pcidev_core::space::Space;
pub use pcidev_core::time::TimeUnit;
pub use pcidev_core::vmm::VmmRequest;

/// The newest language version this compiler reads (`language N;`). Every
/// older version is a subset of it: a v1 spec is a valid v2 spec.
pub const LANGUAGE_VERSION: u64 = 2;

/// A register: an index into [`Device::registers`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegId(pub usize);
/// A state: an index into [`Device::states`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateId(pub usize);
/// A hook: an index into [`Device::hooks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HookId(pub usize);
/// A timer: an index into [`Device::timers`] (also the runtime's timer
/// number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId(pub usize);
/// A byte stream: an index into [`Device::streams`] (also the runtime's
/// stream number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub usize);
/// A named expression: an index into [`Device::lets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LetId(pub usize);
/// A pure function: an index into [`Device::fns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnId(pub usize);

/// A checked device: everything the backends generate from, with the
/// invariants listed in the module documentation.
#[derive(Debug, Clone)]
pub struct Device {
    /// lower_snake_case; the Rust module, kernel module and directory name.
    pub name: String,
    /// The `description` text (empty when the spec gives none).
    pub description: String,
    /// The spec file's name as given (for headers of generated files).
    pub source_name: String,
    /// The language version the spec was read as (its `language N;`, or
    /// [`LANGUAGE_VERSION`]); named in the header of every generated file.
    pub language: u64,
    /// PCI vendor id (never 0x0000 or 0xffff).
    pub vendor_id: u16,
    /// PCI device id.
    pub device_id: u16,
    /// PCI revision id (0 unless `revision` says otherwise).
    pub revision: u8,
    /// [base class, subclass, programming interface].
    pub class_code: [u8; 3],
    /// Subsystem vendor id (0 unless `subsystem` says otherwise).
    pub subsystem_vendor_id: u16,
    /// Subsystem id (0 unless `subsystem` says otherwise).
    pub subsystem_id: u16,
    /// The `interrupt` block (all `None`/empty when the device has none).
    pub interrupt: Interrupt,
    /// States, in declaration order (the [`StateId`] order).
    pub states: Vec<State>,
    /// Hooks, in declaration order.
    pub hooks: Vec<Hook>,
    /// BARs, sorted by index.
    pub bars: Vec<Bar>,
    /// All registers; `Bar::registers` lists each BAR's, sorted by offset,
    /// and `config_registers` those in configuration space.
    pub registers: Vec<Register>,
    /// The registers in configuration space (`config { }`, including those
    /// inside vendor capabilities), sorted by offset: absolute offsets in
    /// 0x40..0x100, at most 4 bytes wide, never overlapping each other, the
    /// capabilities' headers or the capabilities the runtime places (see
    /// [`pcidev_core::config`]).
    pub config_registers: Vec<RegId>,
    /// Vendor-specific capabilities, sorted by offset (dword aligned, inside
    /// 0x40..0x100, never overlapping each other or MSI/MSI-X).
    pub capabilities: Vec<Capability>,
    /// Size of the coherent buffer the driver allocates for scenarios.
    pub dma_buffer: Option<u64>,
    /// Narrowest register width (bits) a scenario writes `dma.addr` into:
    /// the driver sets its DMA mask to this. 64 when none.
    pub dma_mask_bits: u8,
    /// Scenarios, in spec order.
    pub scenarios: Vec<Scenario>,
    /// Timers, in declaration order (the runtime's timer index).
    pub timers: Vec<Timer>,
    /// Byte streams, in declaration order (the runtime's stream index).
    pub streams: Vec<Stream>,
    /// Named expressions; a `let` may use earlier or later ones (no cycles).
    pub lets: Vec<Let>,
    /// Pure functions; a `fn` may call others (no cycles).
    pub fns: Vec<Function>,
}

impl Device {
    /// The register `id` names (ids come from this device, so it exists).
    pub fn register(&self, id: RegId) -> &Register {
        &self.registers[id.0]
    }
    /// The state `id` names.
    pub fn state(&self, id: StateId) -> &State {
        &self.states[id.0]
    }
    /// The hook `id` names.
    pub fn hook(&self, id: HookId) -> &Hook {
        &self.hooks[id.0]
    }
    /// The timer `id` names.
    pub fn timer(&self, id: TimerId) -> &Timer {
        &self.timers[id.0]
    }
    /// The stream `id` names.
    pub fn stream(&self, id: StreamId) -> &Stream {
        &self.streams[id.0]
    }
    /// The named expression `id` names (`let` is a keyword, hence the `_`).
    pub fn let_(&self, id: LetId) -> &Let {
        &self.lets[id.0]
    }
    /// The pure function `id` names.
    pub fn function(&self, id: FnId) -> &Function {
        &self.fns[id.0]
    }

    /// Every action block of the device: registers' `on read`/`on write`,
    /// timers' fire blocks, streams' `on input`.
    pub fn action_blocks(&self) -> impl Iterator<Item = &[Stmt]> {
        self.registers
            .iter()
            .flat_map(|r| [&r.on_read[..], &r.on_write[..]])
            .chain(self.timers.iter().map(|t| &t.on_fire[..]))
            .chain(self.streams.iter().map(|s| &s.on_input[..]))
    }
    /// The BAR with this index, if the device declares it.
    pub fn bar(&self, index: u8) -> Option<&Bar> {
        self.bars.iter().find(|b| b.index == index)
    }
    /// The registers of a space: a BAR's, or configuration space's.
    pub fn registers_in(&self, space: Space) -> &[RegId] {
        match space {
            Space::Config => &self.config_registers,
            Space::Bar(n) => self.bar(n).map_or(&[], |b| &b.registers),
        }
    }
    /// Does the device declare MSI-X (the runtime then places its
    /// capability at [`pcidev_core::config::MSIX_CAP_OFFSET`])?
    pub fn has_msix(&self) -> bool {
        self.interrupt.msix.is_some()
    }
    /// Is an access of `bytes` at `offset` of BAR `bar` valid: allowed by
    /// the BAR's policy, inside the BAR, and of a size every register it
    /// overlaps accepts? (The runtime applies the same rule.)
    pub fn access_valid(&self, bar: u8, offset: u64, bytes: u64) -> bool {
        let Some(b) = self.bar(bar) else { return false };
        if b.policy.reject(b.size, offset, bytes).is_some() {
            return false;
        }
        let end = offset + bytes; // in range: `reject` checked it
        b.registers.iter().map(|r| self.register(*r)).all(|r| {
            let overlaps = r.offset < end && offset < r.offset + r.width as u64;
            !overlaps || r.sizes.is_none_or(|m| m.contains(bytes as usize))
        })
    }

    /// A BAR's registers as generated code lists them, by offset: plain
    /// registers, and one entry per array (its head, element 0; the
    /// elements of an array are consecutive registers, see [`ArrayElem`]).
    pub fn layout_registers<'a>(&'a self, bar: &'a Bar) -> impl Iterator<Item = RegId> + 'a {
        bar.registers
            .iter()
            .copied()
            .filter(|r| !self.register(*r).is_array_tail())
    }

    /// Element `element` of the array whose head is `head` (`head` itself
    /// for a plain register and element 0); `None` past the array's end.
    pub fn element(&self, head: RegId, element: u64) -> Option<RegId> {
        let count = self.register(head).array.as_ref().map_or(1, |a| a.count);
        let id = RegId(head.0.checked_add(usize::try_from(element).ok()?)?);
        (element < count && id.0 < self.registers.len()).then_some(id)
    }

    /// The register a scenario location names: the one at exactly that
    /// place and width (`None` for raw locations that match no register).
    pub fn register_at(&self, loc: &Loc) -> Option<RegId> {
        self.registers_in(loc.space).iter().copied().find(|r| {
            let r = self.register(*r);
            r.offset == loc.offset && r.width == loc.width
        })
    }

    /// Every window of every BAR, with its BAR index, in BAR order.
    pub fn windows(&self) -> impl Iterator<Item = (u8, &Window)> {
        self.bars
            .iter()
            .flat_map(|b| b.windows.iter().map(move |w| (b.index, w)))
    }

    /// Is this state shown in a window?
    pub fn windowed(&self, state: StateId) -> bool {
        self.windows().any(|(_, w)| w.state == state)
    }

    /// Does any expression use `access.size` / `access.mask`?
    pub fn uses_access(&self) -> bool {
        let mut used = false;
        let mut visit =
            |e: &Expr| e.walk(&mut |x| used |= matches!(x, Expr::AccessSize | Expr::AccessMask));
        for r in &self.registers {
            if let Some(e) = &r.read {
                visit(e);
            }
            for block in [&r.on_read, &r.on_write] {
                Stmt::walk_all(block, &mut |s| s.exprs().into_iter().for_each(&mut visit));
            }
        }
        used
    }

    /// Does any action perform DMA?
    pub fn does_dma(&self) -> bool {
        fn any(stmts: &[Stmt]) -> bool {
            stmts.iter().any(|s| match s {
                Stmt::DmaWrite { .. } | Stmt::DmaRead { .. } => true,
                Stmt::If {
                    then, otherwise, ..
                } => any(then) || any(otherwise),
                _ => false,
            })
        }
        self.action_blocks().any(any)
    }
}

/// How the device interrupts, and how a driver recognises and acknowledges it.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    /// The INTx pin; `None`: no legacy interrupt.
    pub pin: Option<IntxPin>,
    /// Number of MSI vectors (power of two, 1..=32).
    pub msi_vectors: Option<u8>,
    /// MSI-X: vectors, table and PBA placement.
    pub msix: Option<Msix>,
    /// Derived level: the line is this expression, recomputed after every
    /// access. When absent, `irq raise/lower/pulse` drive a latched line.
    pub level: Option<Expr>,
    /// `status REG;`: a register the driver's handler reads first; `value`
    /// in `mine` and `ack` stands for it (the checker rewrites `value` to
    /// [`Expr::Register`] of it).
    pub status: Option<RegId>,
    /// When an interrupt is the device's (non-zero: it is). `mine EXPR;`,
    /// or `REG != 0` for a lone `status REG;`. `None`: the spec gives no
    /// test (an MSI-only device: its vectors are its own), so every
    /// interrupt is the device's. Uses only constants, operators, `if`,
    /// registers and fields ([`Interrupt::handler_reads`]).
    pub mine: Option<Expr>,
    /// The acknowledging writes, in spec order: each one whose condition
    /// holds is written (the same expressions as `mine`).
    pub acks: Vec<Ack>,
}

/// `ack REG = VALUE [when COND];`
#[derive(Debug, Clone)]
pub struct Ack {
    /// The register written (a BAR register; the handler writes BARs only).
    pub register: RegId,
    /// The value written, computed from the values the handler read.
    pub value: Expr,
    /// Written only when this is non-zero (`None`: always).
    pub when: Option<Expr>,
}

impl Interrupt {
    /// Does the device interrupt at all (an INTx pin, MSI or MSI-X)?
    pub fn any(&self) -> bool {
        self.pin.is_some() || self.msi_vectors.is_some() || self.msix.is_some()
    }

    /// The most vectors the device can signal: MSI-X's or MSI's count (1
    /// for INTx only, 0 without an interrupt).
    pub fn max_vectors(&self) -> u16 {
        let msix = self.msix.map_or(0, |m| m.vectors);
        let msi = self.msi_vectors.map_or(0, u16::from);
        msix.max(msi).max(u16::from(self.pin.is_some()))
    }

    /// The registers the driver's handler reads, each exactly once, in this
    /// order: first the `status` register and those `mine` names (in order
    /// of first mention); then, only once the interrupt is known to be the
    /// device's, the registers only the acks name (ack by ack, `when`
    /// before value, in order of first mention). Every `mine`, `when` and
    /// ack value is evaluated over these values; no register is read again
    /// after a write. Returns (read before `mine`, read after).
    pub fn handler_reads(&self) -> (Vec<RegId>, Vec<RegId>) {
        // Left to right (source order); depth is bounded by MAX_EXPR_DEPTH.
        fn regs(e: &Expr, out: &mut Vec<RegId>) {
            match e {
                Expr::Register(r) | Expr::Field(r, _) if !out.contains(r) => out.push(*r),
                Expr::Unary(_, x) => regs(x, out),
                Expr::Binary(_, a, b) => {
                    regs(a, out);
                    regs(b, out);
                }
                Expr::Cond(c, a, b) => {
                    regs(c, out);
                    regs(a, out);
                    regs(b, out);
                }
                _ => {}
            }
        }
        let mut first = Vec::new();
        first.extend(self.status);
        if let Some(m) = &self.mine {
            regs(m, &mut first);
        }
        let mut all = first.clone();
        for a in &self.acks {
            if let Some(w) = &a.when {
                regs(w, &mut all);
            }
            regs(&a.value, &mut all);
        }
        let then = all.split_off(first.len());
        (first, then)
    }
}

/// The MSI-X capability: `msix N table bar B @ OFF pba bar B @ OFF;`.
/// The table takes 16 bytes per vector, the PBA 8 bytes per 64 vectors;
/// both lie 8-byte aligned inside memory BARs, clear of registers and of
/// each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Msix {
    /// 1..=2048.
    pub vectors: u16,
    /// BAR holding the vector table (a memory BAR).
    pub table_bar: u8,
    /// Offset of the vector table in its BAR (8-byte aligned).
    pub table_offset: u64,
    /// BAR holding the pending bit array (a memory BAR).
    pub pba_bar: u8,
    /// Offset of the pending bit array in its BAR (8-byte aligned).
    pub pba_offset: u64,
}

impl Msix {
    /// Bytes of the vector table.
    pub fn table_len(&self) -> u64 {
        u64::from(self.vectors) * 16
    }

    /// Bytes of the pending bit array.
    pub fn pba_len(&self) -> u64 {
        u64::from(self.vectors).div_ceil(64) * 8
    }
}

/// The type of a state, a `fn` parameter or result, or a hook parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    /// An unsigned integer of 8, 16, 32 or 64 bits.
    Uint(u32),
    /// `bool`: stored as 0 or 1.
    Bool,
    /// A byte buffer of this length (device memory, e.g. edu's DMA buffer).
    Buffer(u64),
    /// A bounded queue of `elem_bits`-bit unsigned elements (8, 16, 32,
    /// 64), holding at most `capacity` (1..=[`MAX_FIFO`]). Empty at reset.
    /// `push` on a full FIFO and `pop` on an empty one do nothing.
    Fifo {
        /// Bits of an element: 8, 16, 32 or 64.
        elem_bits: u32,
        /// Most elements held: 1..=[`MAX_FIFO`].
        capacity: u32,
    },
}

/// The largest FIFO capacity a spec may declare.
pub const MAX_FIFO: u64 = 4096;

impl Type {
    /// Bits of a scalar (1 for bool); 0 for buffers.
    pub fn bits(self) -> u32 {
        match self {
            Type::Uint(b) => b,
            Type::Bool => 1,
            Type::Buffer(_) | Type::Fifo { .. } => 0,
        }
    }
}

/// A `state`: a variable of the device, reset with it unless `sticky`.
#[derive(Debug, Clone)]
pub struct State {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// Scalar, buffer or FIFO.
    pub ty: Type,
    /// Value at reset of a scalar, fitting its type (buffers start from
    /// `init`, FIFOs empty).
    pub reset: u64,
    /// A buffer's initial bytes (the rest is zero); empty for scalars.
    pub init: Vec<u8>,
    /// Keeps its value across a device reset (`reset` is then only the
    /// value at creation).
    pub sticky: bool,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// A timer. Started by [`Stmt::TimerStart`]; when it fires, `on_fire` runs
/// (a periodic timer is re-armed from its due time first). Starting a
/// running timer re-arms it.
#[derive(Debug, Clone)]
pub struct Timer {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// Actions run each time the timer fires.
    pub on_fire: Vec<Stmt>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// A byte stream to the outside world.
#[derive(Debug, Clone)]
pub struct Stream {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// May the host deliver a byte now? `None`: always.
    pub ready: Option<Expr>,
    /// Runs once per delivered byte ([`Expr::Byte`]).
    pub on_input: Vec<Stmt>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// `let NAME = EXPR;`: evaluated where it is used (no storage). The
/// expression sees states and registers, never `value`/`byte`/`index`.
#[derive(Debug, Clone)]
pub struct Let {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// The expression it stands for.
    pub value: Expr,
    /// Does evaluating it call a hook (directly or through other lets)?
    /// Such lets are not usable in `level`.
    pub calls_hook: bool,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// `fn NAME(params) -> ret = body;`: arguments are truncated to their
/// parameter types before the body runs, the result to `ret`.
#[derive(Debug, Clone)]
pub struct Function {
    /// lower_snake_case, unique in its namespace.
    pub name: String,
    /// Parameter names and types, in order ([`Expr::Param`] indexes them).
    pub params: Vec<(String, Type)>,
    /// The result type.
    pub ret: Type,
    /// The body: parameters, constants and other `fn`s only.
    pub body: Expr,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// A named piece of user Rust code: `fn name(&mut self, params: u64...) -> u64`.
#[derive(Debug, Clone)]
pub struct Hook {
    /// lower_snake_case: the `Hooks` trait method's name.
    pub name: String,
    /// Parameter names and types, in order.
    pub params: Vec<(String, Type)>,
    /// The return type; `None`: returns nothing.
    pub ret: Option<Type>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// A capability the spec places in configuration space. The runtime writes
/// its header (id, next pointer, and for a vendor capability the length
/// byte) and links it into the list in offset order; the rest of its bytes
/// are its registers (read 0 and ignore writes where there is none).
#[derive(Debug, Clone)]
pub struct Capability {
    /// Which capability (its id and header length).
    pub kind: CapabilityKind,
    /// Absolute configuration-space offset, dword aligned, >= 0x40.
    pub offset: u8,
    /// Bytes, header included (the vendor capability's length byte).
    pub size: u8,
    /// Its registers (absolute offsets after the header), sorted by offset;
    /// also listed in [`Device::config_registers`].
    pub registers: Vec<RegId>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// What kind of capability: its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapabilityKind {
    /// Vendor-specific (id 0x09): 3-byte header, the rest is the device's.
    Vendor,
}

impl CapabilityKind {
    /// The capability id byte.
    pub fn id(self) -> u8 {
        match self {
            CapabilityKind::Vendor => pcidev_core::config::VENDOR_CAP_ID,
        }
    }
    /// Bytes of the header the runtime owns.
    pub fn header_len(self) -> u8 {
        match self {
            CapabilityKind::Vendor => pcidev_core::config::VENDOR_CAP_HEADER,
        }
    }
}

/// A base address register and what lies in it.
#[derive(Debug, Clone)]
pub struct Bar {
    /// BAR number, 0..=5 (a 64-bit BAR also uses the next slot).
    pub index: u8,
    /// I/O, 32- or 64-bit memory (with prefetchable).
    pub kind: BarKind,
    /// Size in bytes: a power of two, 4..=256 for I/O, at least 16 for memory.
    pub size: u64,
    /// Allowed access sizes, alignment, what invalid accesses and unmapped
    /// bytes do.
    pub policy: AccessPolicy,
    /// This BAR's registers, sorted by offset.
    pub registers: Vec<RegId>,
    /// Buffer states shown in this BAR, sorted by offset; they overlap
    /// neither each other nor a register and lie inside the BAR.
    pub windows: Vec<Window>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// `window STATE @ OFFSET [ro];`: the bytes of a buffer state at
/// `offset .. offset + len` of its BAR.
///
/// A guest access of any size the BAR allows reads (and, when `writable`,
/// writes) the buffer's bytes directly, little-endian, with no side effects:
/// byte `i` of the access is buffer byte `offset_in_window + i`. A write to
/// a read-only window is ignored. Device actions see the same bytes
/// (`state[i]`, DMA to and from the buffer).
#[derive(Debug, Clone)]
pub struct Window {
    /// A state of type [`Type::Buffer`].
    pub state: StateId,
    /// Offset of the window's first byte in its BAR.
    pub offset: u64,
    /// The buffer's length.
    pub len: u64,
    /// `rw` (the default): guest writes change the buffer; `ro`: ignored.
    pub writable: bool,
    /// The `window` item, for diagnostics.
    pub span: Span,
}

impl Window {
    /// One past the last byte.
    pub fn end(&self) -> u64 {
        self.offset + self.len
    }
}

/// A register: `width` bytes at `offset` of `space` (a BAR, or
/// configuration space with an absolute offset).
///
/// Configuration-space registers behave exactly as BAR registers do; an
/// access of a size the register does not accept (`sizes`), or a
/// misaligned one when it lists sizes, does not reach it and sees plain
/// device-specific configuration memory instead (QEMU's
/// `pci_default_read_config`/`write_config` fallback).
///
/// Read: the value is `read` if given, else the stored value of the readable
/// fields (bits of `wo` fields and bits in no field read 0); then `rclr`
/// fields are cleared; then `on_read` runs.
///
/// Write (value `v`, bytes outside the access are 0 and not enabled): each
/// field's enabled bits are updated by its access kind (rw/wo: set to v;
/// w1c: cleared where v is 1; w1s: set where v is 1; ro/rclr: unchanged);
/// then `on_write` runs with `value` = v.
#[derive(Debug, Clone)]
pub struct Register {
    /// UPPER_SNAKE_CASE.
    pub name: String,
    /// A BAR, or configuration space.
    pub space: Space,
    /// Offset of the first byte: in the BAR, or absolute in configuration
    /// space.
    pub offset: u64,
    /// Bytes: 1, 2, 4 or 8.
    pub width: u8,
    /// The register-level access kind, if declared.
    pub access: Option<AccessKind>,
    /// Access sizes this register accepts, narrowing its BAR's; `None`:
    /// the BAR's.
    pub sizes: Option<AccessSizes>,
    /// Empty: no storage (reads 0 unless `read`; writes only run actions).
    pub fields: Vec<Field>,
    /// Reset value of the storage (all fields' resets combined).
    pub reset: u64,
    /// `read EXPR;`: the value a guest read returns, instead of the stored
    /// bits.
    pub read: Option<Expr>,
    /// Actions run after every guest read (after `rclr` clears).
    pub on_read: Vec<Stmt>,
    /// Actions run after every guest write (after the storage update).
    pub on_write: Vec<Stmt>,
    /// `Some` for an element of a register array (`register NAME[N]`).
    pub array: Option<ArrayElem>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// Where a register sits in its array. The checker lists every element of
/// `register NAME[N]` as its own register `NAME_i` (names, placement and
/// scenarios see elements), consecutive in [`Device::registers`], all with
/// the same behaviour in which [`Expr::Index`] stands for the element
/// number. Backends emit one item per array from its head (element 0, see
/// [`Register::array_head`]) so generated code does not grow with `count`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrayElem {
    /// The array's name (`NAME`; the element is `NAME_{index}`).
    pub array: String,
    /// This element's number, `0..count`.
    pub index: u64,
    /// Elements in the array (1..=[`crate::check::MAX_ARRAY`]).
    pub count: u64,
    /// Bytes from one element to the next (the register width).
    pub stride: u64,
}

impl Register {
    /// The element number [`Expr::Index`] evaluates to in this register's
    /// behaviour (0 outside arrays, where the checker rejects `index`).
    pub fn index_value(&self) -> u64 {
        self.array.as_ref().map_or(0, |a| a.index)
    }
    /// `Some(array)` for element 0 of an array: the register that stands
    /// for the whole array in generated code.
    pub fn array_head(&self) -> Option<&ArrayElem> {
        self.array.as_ref().filter(|a| a.index == 0)
    }
    /// An element other than the first: backends that emit one item per
    /// array skip it.
    pub fn is_array_tail(&self) -> bool {
        self.array.as_ref().is_some_and(|a| a.index > 0)
    }
    /// The name generated code uses: the array's (`NAME`) for an array
    /// element, the register's otherwise.
    pub fn item_name(&self) -> &str {
        self.array.as_ref().map_or(&self.name, |a| &a.array)
    }
    /// Bytes the register occupies, or for an array head, the whole array
    /// (`count * stride`).
    pub fn span_bytes(&self) -> u64 {
        match self.array_head() {
            Some(a) => a.count.saturating_mul(a.stride),
            None => self.width as u64,
        }
    }
    /// The BAR index, for BAR registers.
    pub fn bar(&self) -> Option<u8> {
        self.space.bar()
    }
    /// Is it in configuration space?
    pub fn in_config(&self) -> bool {
        self.space == Space::Config
    }
    /// Does the register store bits (has fields)?
    pub fn has_storage(&self) -> bool {
        !self.fields.is_empty()
    }
    /// Width in bits (8, 16, 32 or 64).
    pub fn bits(&self) -> u32 {
        self.width as u32 * 8
    }
    /// Can a guest read return something other than 0?
    pub fn readable(&self) -> bool {
        self.read.is_some() || self.fields.iter().any(|f| f.access.readable())
    }
    /// Does a guest write have any effect?
    pub fn writable(&self) -> bool {
        !self.on_write.is_empty() || self.fields.iter().any(|f| f.access.writable())
    }
    /// The register's bits sorted by access kind.
    pub fn masks(&self) -> WriteMasks {
        self.fields
            .iter()
            .fold(WriteMasks::default(), |m, f| m.with(f.access, f.mask()))
    }

    /// Mask of the register's bits that a guest write can change.
    pub fn write_mask(&self) -> u64 {
        self.masks().writable()
    }
}

/// A bit field of a register with storage.
#[derive(Debug, Clone)]
pub struct Field {
    /// lower_snake_case; `value` for the implicit whole-register field.
    pub name: String,
    /// Least significant bit.
    pub lo: u32,
    /// Most significant bit (`>= lo`, below the register's width).
    pub hi: u32,
    /// What guest reads and writes do to these bits.
    pub access: AccessKind,
    /// Value at reset, in field position (bit 0 is the field's `lo`).
    pub reset: u64,
    /// Named values, lower_snake_case.
    pub variants: Vec<(String, u64)>,
    /// True for the field standing for a whole field-less register.
    pub implicit: bool,
}

impl Field {
    /// Width in bits (`hi - lo + 1`).
    pub fn bits(&self) -> u32 {
        self.hi - self.lo + 1
    }
    /// The field's bits in register position.
    pub fn mask(&self) -> u64 {
        low_mask(self.bits()) << self.lo
    }
}

// ------------------------------------------------------------------ actions

/// Where an assignment stores. Values are truncated to the target's width
/// (a bool stores `value != 0`); an out-of-range buffer index is ignored.
#[derive(Debug, Clone)]
pub enum Place {
    /// A scalar state.
    State(StateId),
    /// The whole storage of a register (bypasses access kinds: the device
    /// itself is writing).
    Register(RegId),
    /// A register's field: the register and the index in its
    /// [`Register::fields`] (only that field's bits change).
    Field(RegId, usize),
    /// One byte of a buffer state, at the index the expression gives.
    BufferByte(StateId, Box<Expr>),
}

/// An action, in an `on read`, `on write`, timer or `on input` block.
#[derive(Debug, Clone)]
pub enum Stmt {
    /// `if cond { then } else { otherwise }`.
    If {
        /// Non-zero: run `then`.
        cond: Expr,
        /// Actions when the condition holds.
        then: Vec<Stmt>,
        /// Actions otherwise (empty without `else`).
        otherwise: Vec<Stmt>,
    },
    /// Only when the interrupt has no derived `level`.
    Irq(IrqOp),
    /// Send MSI vector N (ignored by the runtime when MSI is not enabled).
    Msi(Expr),
    /// Device -> guest memory.
    DmaWrite {
        /// Guest physical address of the first byte.
        addr: Expr,
        /// Bytes to write (above 16 MiB: outcome 5, nothing transferred).
        len: Expr,
        /// Where the bytes come from.
        source: Source,
        /// Where the [`DmaOutcome`] code is stored, if anywhere.
        status: Option<Place>,
    },
    /// Guest memory -> device.
    DmaRead {
        /// Guest physical address of the first byte.
        addr: Expr,
        /// Bytes to read.
        len: Expr,
        /// Where they land.
        into: DmaDest,
        /// Where the [`DmaOutcome`] code is stored, if anywhere.
        status: Option<Place>,
    },
    /// `place op= value`: the value (combined with the place's by `op`) is
    /// truncated to the place's width.
    Assign {
        /// Where the result is stored.
        place: Place,
        /// `=` or a compound operator.
        op: AssignOp,
        /// The right-hand side.
        value: Expr,
    },
    /// A hook call whose result (if any) is dropped.
    Call {
        /// The hook called.
        hook: HookId,
        /// Arguments, in parameter order (truncated to the parameter types).
        args: Vec<Expr>,
    },
    /// Arm a timer: fires after `duration * unit.nanos()` ns (wrapping u64,
    /// then clamped by `pcidev_core::time::clamp_duration`); `periodic`
    /// re-arms with the same period each time it fires.
    TimerStart {
        /// The timer armed.
        timer: TimerId,
        /// How many `unit`s (evaluated when the statement runs).
        duration: Expr,
        /// The unit of `duration`.
        unit: TimeUnit,
        /// `every` (true) rather than `after`.
        periodic: bool,
    },
    /// Disarm a timer (nothing when it is not running).
    TimerStop(TimerId),
    /// Append the value (truncated to the element width) to a FIFO state;
    /// nothing when full.
    FifoPush(StateId, Expr),
    /// Drop the first element; nothing when empty.
    FifoPop(StateId),
    /// Empty the FIFO.
    FifoClear(StateId),
    /// Queue one byte (the value's low 8 bits) on a stream's output; a full
    /// queue drops it (traced).
    Send(StreamId, Expr),
    /// Ask the VMM for something.
    Vmm(VmmRequest),
}

impl Stmt {
    /// The expressions directly in this statement (not in nested
    /// statements; see [`Stmt::walk_all`]).
    pub fn exprs(&self) -> Vec<&Expr> {
        fn place<'a>(p: &'a Place, v: &mut Vec<&'a Expr>) {
            if let Place::BufferByte(_, i) = p {
                v.push(i);
            }
        }
        let mut v = Vec::new();
        match self {
            Stmt::If { cond, .. } => v.push(cond),
            Stmt::Msi(e) | Stmt::FifoPush(_, e) | Stmt::Send(_, e) => v.push(e),
            Stmt::TimerStart { duration, .. } => v.push(duration),
            Stmt::Assign {
                place: p, value, ..
            } => {
                v.push(value);
                place(p, &mut v);
            }
            Stmt::Call { args, .. } => v.extend(args),
            Stmt::DmaWrite {
                addr,
                len,
                source,
                status,
            } => {
                v.extend([addr, len]);
                match source {
                    Source::Random(e) | Source::Pattern(e) | Source::Word(e) => v.push(e),
                    Source::Buffer { offset, .. } => v.push(offset),
                }
                if let Some(p) = status {
                    place(p, &mut v);
                }
            }
            Stmt::DmaRead {
                addr,
                len,
                into,
                status,
            } => {
                v.extend([addr, len]);
                match into {
                    DmaDest::Buffer { offset, .. } => v.push(offset),
                    DmaDest::Scalar(p) => place(p, &mut v),
                }
                if let Some(p) = status {
                    place(p, &mut v);
                }
            }
            Stmt::Irq(_)
            | Stmt::TimerStop(_)
            | Stmt::FifoPop(_)
            | Stmt::FifoClear(_)
            | Stmt::Vmm(_) => {}
        }
        v
    }

    /// Visit these statements and every nested one (`if` branches).
    pub fn walk_all(stmts: &[Stmt], f: &mut dyn FnMut(&Stmt)) {
        let mut stack: Vec<&Stmt> = stmts.iter().rev().collect();
        while let Some(s) = stack.pop() {
            f(s);
            if let Stmt::If {
                then, otherwise, ..
            } = s
            {
                stack.extend(otherwise.iter().rev());
                stack.extend(then.iter().rev());
            }
        }
    }
}

/// Bytes a DMA write sends.
#[derive(Debug, Clone)]
pub enum Source {
    /// The xorshift32 stream from this seed (see the runtime's `random_bytes`).
    Random(Expr),
    /// One byte, repeated.
    Pattern(Expr),
    /// The 8 little-endian bytes of a value, repeated.
    Word(Expr),
    /// A device buffer from an offset.
    /// `state[offset ..]`: bytes of a buffer state; a range past its end
    /// fails with outcome 6 (nothing transferred).
    Buffer {
        /// The buffer state.
        state: StateId,
        /// Offset of the first byte in the buffer.
        offset: Expr,
    },
}

/// Where a DMA read lands.
#[derive(Debug, Clone)]
pub enum DmaDest {
    /// `into state[offset ..]`: bytes of a buffer state; a range past its end
    /// fails with outcome 6.
    Buffer {
        /// The buffer state.
        state: StateId,
        /// Offset of the first byte in the buffer.
        offset: Expr,
    },
    /// A scalar place: at most 8 bytes, little-endian.
    Scalar(Place),
}

/// Integer expressions, evaluated in u64 with wrapping arithmetic.
/// Comparisons and logical operators give 0 or 1; division by zero gives 0;
/// shifts by 64 or more give 0.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A constant.
    Const(u64),
    /// A scalar state's value.
    State(StateId),
    /// The stored value of a register (no read side effects).
    Register(RegId),
    /// A field's value, shifted down to bit 0 (the register's stored bits,
    /// no side effects); the index is into [`Register::fields`].
    Field(RegId, usize),
    /// Byte `index` of a buffer state; 0 when out of range.
    BufferByte(StateId, Box<Expr>),
    /// The value being written (`on write`), or the status read (`ack`).
    Value,
    /// A hook call (its result; the hook may have side effects).
    Call(HookId, Vec<Expr>),
    /// `-x` (wrapping), `~x` or `!x` (0 or 1).
    Unary(UnOp, Box<Expr>),
    /// A binary operator (see [`BinOp`]) and its operands.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `if c { a } else { b }` (only the chosen branch is evaluated).
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// 1 when the timer is running, else 0.
    TimerRunning(TimerId),
    /// Nanoseconds until the timer fires; 0 when stopped.
    TimerRemaining(TimerId),
    /// Elements in a FIFO state.
    FifoLen(StateId),
    /// The first element of a FIFO state; 0 when empty.
    FifoFront(StateId),
    /// 1 when the FIFO holds `capacity` elements.
    FifoFull(StateId),
    /// 1 when the FIFO holds nothing.
    FifoEmpty(StateId),
    /// Bytes the stream's output queue can still take.
    StreamSpace(StreamId),
    /// The byte being delivered, in a stream's `on input`.
    Byte,
    /// A named expression's value.
    Let(LetId),
    /// A pure function call.
    Fn(FnId, Vec<Expr>),
    /// Parameter N of the enclosing `fn` (only in `fn` bodies).
    Param(usize),
    /// Bytes of the current guest access (1, 2, 4, 8): only in a
    /// register's `read`, `on read` and `on write`.
    AccessSize,
    /// The register bits the current guest access covers (e.g. `0xff00`
    /// for a 1-byte access at offset 1 of a u16 register): only where
    /// [`Expr::AccessSize`] is.
    AccessMask,
    /// The element number of the array register whose behaviour this is
    /// (only in `register NAME[N]`; see [`Register::index_value`]).
    Index,
}

impl Expr {
    /// Visit this expression and every sub-expression (iteratively).
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            f(e);
            match e {
                Expr::BufferByte(_, i) | Expr::Unary(_, i) => stack.push(i),
                Expr::Binary(_, a, b) => {
                    stack.push(a);
                    stack.push(b);
                }
                Expr::Cond(c, a, b) => {
                    stack.push(c);
                    stack.push(a);
                    stack.push(b);
                }
                Expr::Call(_, args) | Expr::Fn(_, args) => stack.extend(args.iter()),
                _ => {}
            }
        }
    }
}

// ------------------------------------------------------------------ scenarios

/// A scenario step as the runtime and the drivers run it (`pcidev_core`'s
/// [`Step`](pcidev_core::scenario::Step)), with stream bytes owned.
pub type StepKind = pcidev_core::scenario::Step<Vec<u8>>;

/// `scenario NAME ["DESCRIPTION"] { ... }`: a host test of the model and a
/// part of the driver's probe self-test.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// lower_snake_case: the test's name.
    pub name: String,
    /// The description (empty when none is given), logged by the self-test.
    pub description: String,
    /// The steps, in order (`repeat` kept as a step; see [`StepKind`]).
    pub steps: Vec<Step>,
    /// The declaration, for diagnostics.
    pub span: Span,
}

/// One checked scenario step with where it was written.
#[derive(Debug, Clone)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// The step's text, whitespace-normalised (for logs).
    pub text: String,
    /// 1-based line in its file.
    pub line: usize,
    /// The step, for diagnostics.
    pub span: Span,
}
