//! The checked device: the root of the IR, its lookups by id and the
//! questions backends ask of the whole device.

use super::{
    Bar, Capability, Expr, FnId, Function, Hook, HookId, Interrupt, Let, LetId, Loc, RegId,
    Register, Scenario, Space, State, StateId, Stmt, Stream, StreamId, Timer, TimerId, Window,
};

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
    /// [`LANGUAGE_VERSION`](super::LANGUAGE_VERSION)); named in the header
    /// of every generated file.
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

    /// Is `r` served by the whole-register fast path of its BAR `bar`?
    /// That is: a plain register (arrays take the generic path, where the
    /// runtime computes the element), and a guest access of exactly its
    /// width at its offset passes every check of the runtime's generic path
    /// (the BAR's sizes and alignment, the register's sizes, inside the
    /// BAR) and reaches `r` alone (no window, no MSI-X structure). Generated
    /// models give such registers an arm in their `bar<N>_read`/`_write`
    /// `match`; the interpreter looks them up in a table built from the
    /// same rule; both then serve the access as the generic path would.
    pub fn on_fast_path(&self, bar: &Bar, r: &Register) -> bool {
        let len = u64::from(r.width);
        let end = r.offset.saturating_add(len);
        let clear = |start: u64, size: u64| end <= start || r.offset >= start.saturating_add(size);
        let msix_clear = self.interrupt.msix.as_ref().is_none_or(|m| {
            (m.table_bar != bar.index || clear(m.table_offset & !7, m.table_len()))
                && (m.pba_bar != bar.index || clear(m.pba_offset & !7, m.pba_len()))
        });
        r.array.is_none()
            && bar.policy.sizes.contains(len as usize)
            && (!bar.policy.aligned || r.offset.is_multiple_of(len))
            && r.sizes.is_none_or(|s| s.0 == 0 || s.contains(len as usize))
            && end <= bar.size
            && bar.windows.iter().all(|w| clear(w.offset, w.len))
            && msix_clear
    }

    /// The registers of BAR `bar` on its whole-register fast path
    /// ([`Self::on_fast_path`]), by offset.
    pub fn fast_path_registers<'a>(&'a self, bar: &'a Bar) -> impl Iterator<Item = RegId> + 'a {
        bar.registers
            .iter()
            .copied()
            .filter(move |r| self.on_fast_path(bar, self.register(*r)))
    }

    /// A BAR's registers as generated code lists them, by offset: plain
    /// registers, and one entry per array (its head, element 0; the
    /// elements of an array are consecutive registers, see [`ArrayElem`](super::ArrayElem)).
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
