//! Differential testing: the same guest accesses, passing time and stream
//! input on two models (a generated one and the interpreter), compared
//! action by action.
//!
//! Used by `tests/differential.rs` (bounded, in `cargo test`) and by the
//! `interp` cargo-fuzz target (unbounded). An [`Access`] is decoded from a
//! 16-byte record, the layout of the `models` fuzz target:
//! `[kind, bar, size, _, offset: u32 LE, value: u64 LE]`, `kind % 7`
//! choosing config write/read, BAR write/read, reset, virtual time passing
//! (`Model::advance`) or one byte of stream input (see [`Access::decode`]).
//! [`AccessGen`] produces records biased towards what reaches device
//! behaviour (decoding enabled, bus mastering, MSI programmed, offsets at
//! and around registers, small DMA addresses, time advanced to just
//! before, at and after the next deadline, input on the spec's streams),
//! while still producing every size 0..=9, unaligned and out-of-range
//! offsets, unknown BARs and streams, and resets.
//!
//! After every action [`Pair::step`] compares: the bytes read, the result
//! (for time: how many timers fired; for input: whether it was taken), the
//! INTx line, the interrupt sink's edges and MSI messages, the trace
//! events, the bytes sent on every stream, the VMM requests, the clock,
//! the next deadline, every timer's running/remaining and every stream's
//! readiness; and (every [`Pair::check_state`]) the device state
//! (`State`/`Storage` as their `Debug` forms), the state probes, the
//! config space and guest memory (DMA bytes).

use std::sync::{Arc, Mutex};

use pcidev_core::data::Xorshift32;
use pcidev_core::scenario::Probe;
use pcidev_runtime::vm_memory::{Bytes, GuestAddress};
use pcidev_runtime::{
    AccessOutcome, DeviceInfo, GuestMem, InterruptSink, Model, MsiMessage, Registers, TraceBuffer,
    TraceEvent,
};

/// Guest RAM of both sides: two regions with a hole between them.
pub const RAM: &[(u64, usize)] = &[(0, 0x1_0000), (0x10_0000, 0x1_0000)];

/// Bytes of one access record.
pub const RECORD: usize = 16;

/// One guest action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    ConfigWrite {
        offset: u64,
        data: Vec<u8>,
    },
    ConfigRead {
        offset: u64,
        len: usize,
    },
    BarWrite {
        bar: u8,
        offset: u64,
        data: Vec<u8>,
    },
    BarRead {
        bar: u8,
        offset: u64,
        len: usize,
    },
    Reset,
    /// `Model::advance(ns)`.
    Advance {
        ns: u64,
    },
    /// Advance to the next deadline (side `a`'s) plus `slack` ns (which may
    /// be negative: just before it); nothing when no timer runs.
    AdvanceToDeadline {
        slack: i8,
    },
    /// `Model::stream_input(stream, byte)`.
    Input {
        stream: u8,
        byte: u8,
    },
}

impl Access {
    /// Decode a 16-byte record (see the module docs). Time: `bar` bit 0
    /// set advances to the next deadline with the low value byte as signed
    /// slack, else by `value % 2^(8 + size_byte % 32)` ns. Input: `bar` is
    /// the stream, the low value byte the byte.
    pub fn decode(rec: &[u8; RECORD]) -> Access {
        let (kind, bar, size) = (rec[0], rec[1] % 8, usize::from(rec[2] % 10));
        let mut off = [0u8; 4];
        off.copy_from_slice(&rec[4..8]);
        let offset = u64::from(u32::from_le_bytes(off));
        let mut val = [0u8; 8];
        val.copy_from_slice(&rec[8..16]);
        let data: Vec<u8> = (0..size).map(|i| val[i % 8]).collect();
        match kind % 7 {
            0 => Access::ConfigWrite {
                offset: offset % 0x110,
                data,
            },
            1 => Access::ConfigRead {
                offset: offset % 0x110,
                len: size,
            },
            2 => Access::BarWrite { bar, offset, data },
            3 => Access::BarRead {
                bar,
                offset,
                len: size,
            },
            4 => Access::Reset,
            5 if rec[1] & 1 != 0 => Access::AdvanceToDeadline {
                slack: val[0] as i8,
            },
            5 => Access::Advance {
                ns: u64::from_le_bytes(val) % (1u64 << (8 + u32::from(rec[2]) % 32)),
            },
            _ => Access::Input {
                stream: rec[1],
                byte: val[0],
            },
        }
    }
}

/// Biased random access records for a device (deterministic per seed).
#[derive(Debug)]
pub struct AccessGen {
    rng: Xorshift32,
    info: &'static DeviceInfo,
    timers: usize,
    streams: usize,
}

impl AccessGen {
    /// A generator for `info`'s layout, from `seed` (no time, no input:
    /// see [`Self::with_time`]).
    pub fn new(info: &'static DeviceInfo, seed: u32) -> Self {
        AccessGen {
            rng: Xorshift32::new(seed),
            info,
            timers: 0,
            streams: 0,
        }
    }

    /// Also let time pass (when the device has `timers`) and deliver input
    /// on its `streams`.
    pub fn with_time(mut self, timers: usize, streams: usize) -> Self {
        self.timers = timers;
        self.streams = streams;
        self
    }

    /// Time to let pass: mostly below and around the shortest timer
    /// (100 µs) and a UART's character times, sometimes milliseconds,
    /// rarely up to a second (bounded so that a debug-build test stays
    /// fast: a 100 µs periodic timer fires 10 000 times in a second).
    fn duration(&mut self) -> u64 {
        match self.below(16) {
            0..=4 => u64::from(self.below(200_000)),
            5..=9 => u64::from(self.below(2_000_000)),
            10..=13 => u64::from(self.below(50)) * 1_000_000,
            14 => u64::from(self.below(3)),
            _ => u64::from(self.below(1_000)) * 1_000_000,
        }
    }

    fn below(&mut self, n: u32) -> u32 {
        self.rng.next_u32() % n.max(1)
    }

    fn u64(&mut self) -> u64 {
        u64::from(self.rng.next_u32()) << 32 | u64::from(self.rng.next_u32())
    }

    /// A value that is interesting to a device: small numbers, DMA
    /// addresses inside RAM, edge values, or anything.
    fn value(&mut self) -> u64 {
        match self.below(8) {
            0 => u64::from(self.below(8)),
            1 => u64::from(self.below(0x100)),
            2 => {
                let (base, len) = RAM[self.below(RAM.len() as u32) as usize];
                base + u64::from(self.below(len as u32))
            }
            3 => [0, 1, u64::MAX, 0xffff_ffff, 0x8000_0000, 0x100, 0x1000][self.below(7) as usize],
            4 => u64::from(self.below(64)) << self.below(33),
            _ => self.u64(),
        }
    }

    fn size(&mut self) -> u8 {
        match self.below(16) {
            0..=3 => 4,
            4..=6 => 1,
            7..=9 => 2,
            10..=12 => 8,
            _ => self.below(10) as u8,
        }
    }

    /// The next access record.
    pub fn next_record(&mut self) -> [u8; RECORD] {
        let mut rec = [0u8; RECORD];
        let roll = self.below(100);
        let timed = self.timers > 0 || self.streams > 0;
        let (kind, bar, size, offset, value): (u8, u8, u8, u32, u64) = match roll {
            // Reset, rarely.
            0 => (4, 0, 0, 0, 0),
            // Time: to the next deadline (just before, at, just after) or
            // by some duration.
            15..=22 if timed && self.timers > 0 => {
                if self.below(2) == 0 {
                    let slack = [0u8, 0, 0xff, 1, self.below(256) as u8][self.below(5) as usize];
                    (5, 1, 0, 0, u64::from(slack))
                } else {
                    // size byte 24: value % 2^32 (the duration is below).
                    (5, 0, 24, 0, self.duration())
                }
            }
            // Stream input: a declared stream (mostly) or any id.
            15..=30 if timed && self.streams > 0 => {
                let stream = if self.below(16) == 0 {
                    self.below(256) as u8
                } else {
                    self.below(self.streams as u32) as u8
                };
                let byte = match self.below(4) {
                    0 => b"a\n\r\x00"[self.below(4) as usize],
                    _ => self.below(256) as u8,
                };
                (6, stream, 0, 0, u64::from(byte))
            }
            // Enable decoding and bus mastering (usually), or any COMMAND.
            1..=4 => {
                let v = if self.below(4) == 0 {
                    self.value()
                } else {
                    0x7 | u64::from(self.below(2)) << 10
                };
                (0, 0, 2, 0x04, v)
            }
            // MSI capability: control (enable, vectors), address, data.
            5..=8 => {
                let (off, size, v) = match self.below(4) {
                    0 => (0x42, 2, 1 | u64::from(self.below(6)) << 4),
                    1 => (0x44, 4, 0xfee0_0000 | u64::from(self.below(0x1000)) << 4),
                    2 => (0x48 + 4 * self.below(2), 2, u64::from(self.below(0x10000))),
                    _ => (0x40 + self.below(0x18), self.size(), self.value()),
                };
                (0, 0, size, off, v)
            }
            // MSI-X: message control (enable, function mask), table entries
            // (address, data, mask bit) at 4 and 8 bytes, PBA reads, other
            // sizes and alignments now and then.
            15..=34 if let Some(m) = self.info.msix => {
                let entry = |g: &mut Self| {
                    (m.table_offset & !7) + 16 * g.below(u32::from(m.vector_count()))
                };
                match self.below(8) {
                    0 => {
                        let v = 0x8000 | u64::from(self.below(4) == 0) << 14;
                        (
                            0,
                            0,
                            2,
                            0x52,
                            if self.below(8) == 0 { self.value() } else { v },
                        )
                    }
                    1 | 2 => {
                        let e = entry(self);
                        (2, m.table_bar, 4, e + 12, u64::from(self.below(4) == 0))
                    }
                    3 => {
                        let e = entry(self);
                        let v = 0xfee0_0000 | u64::from(self.below(0x100)) << 12;
                        (2, m.table_bar, 8, e, v)
                    }
                    4 => {
                        let e = entry(self);
                        (2, m.table_bar, 4, e + 8, u64::from(self.below(0x10000)))
                    }
                    5 => {
                        let words = u32::from(m.vector_count()).div_ceil(64);
                        let off = (m.pba_offset & !7) + 8 * self.below(words);
                        let kind = 2 + u8::from(self.below(4) != 0);
                        (
                            kind,
                            m.pba_bar,
                            [4, 8][self.below(2) as usize],
                            off,
                            self.value(),
                        )
                    }
                    6 => {
                        let e = entry(self) + self.below(16);
                        let kind = 2 + self.below(2) as u8;
                        (kind, m.table_bar, self.size(), e, self.value())
                    }
                    _ => {
                        let e = entry(self) + 4 * self.below(4);
                        (3, m.table_bar, 4, e, 0)
                    }
                }
            }
            // Any config access; half of them at a configuration register
            // (exactly, or a byte around it), when the device has some.
            9..=14 => {
                let kind = self.below(2) as u8;
                let regs = self.info.config_registers;
                let (off, size, v) = if !regs.is_empty() && self.below(2) == 0 {
                    let r = &regs[self.below(regs.len() as u32) as usize];
                    let base = u32::try_from(r.offset).unwrap_or(0);
                    match self.below(4) {
                        0 => (base.saturating_sub(1), self.size(), self.value()),
                        1 => (base, [1, 2, 4][self.below(3) as usize], self.value()),
                        _ => (base, r.width, self.value()),
                    }
                } else {
                    (self.below(0x110), self.size(), self.value())
                };
                (kind, 0, size, off, v)
            }
            // BAR accesses: at, around and between registers, or anywhere.
            _ => {
                let kind = 2 + self.below(2) as u8;
                let bars = self.info.bars;
                let (bar, offset, exact) = if bars.is_empty() || self.below(40) == 0 {
                    (self.below(8) as u8, self.below(0x2000), None)
                } else {
                    let b = &bars[self.below(bars.len() as u32) as usize];
                    let size = u32::try_from(b.size).unwrap_or(u32::MAX);
                    let (off, exact) = if !b.registers.is_empty() && self.below(4) != 0 {
                        let r = &b.registers[self.below(b.registers.len() as u32) as usize];
                        let base = u32::try_from(r.offset).unwrap_or(0);
                        if self.below(4) == 0 {
                            let near = base.wrapping_add(self.below(u32::from(r.width) + 2));
                            (near.wrapping_sub(1), None)
                        } else {
                            (base, Some(r.width))
                        }
                    } else if self.below(8) == 0 {
                        (size.saturating_sub(self.below(16)), None)
                    } else {
                        (self.below(size.saturating_add(8)), None)
                    };
                    (b.index, off, exact)
                };
                let size = match exact {
                    // The register-sized access a driver makes.
                    Some(width) if self.below(4) != 0 => width,
                    _ if self.below(3) == 0 => self.size(),
                    _ => [4, 4, 2, 1, 8][self.below(5) as usize],
                };
                (kind, bar, size, offset, self.value())
            }
        };
        rec[0] = kind;
        rec[1] = bar;
        rec[2] = size;
        rec[4..8].copy_from_slice(&offset.to_le_bytes());
        rec[8..16].copy_from_slice(&value.to_le_bytes());
        rec
    }
}

/// What an interrupt sink heard, in order.
#[derive(Debug, Clone, Default)]
struct Recorder(Arc<Mutex<Vec<IrqEvent>>>);

/// One thing an interrupt sink heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IrqEvent {
    Intx(bool),
    Msi(u8, MsiMessage),
    Msix(u16, MsiMessage),
}

impl InterruptSink for Recorder {
    fn set_intx(&mut self, asserted: bool) {
        self.lock().push(IrqEvent::Intx(asserted));
    }
    fn msi(&mut self, vector: u8, message: MsiMessage) {
        self.lock().push(IrqEvent::Msi(vector, message));
    }
    fn msix(&mut self, vector: u16, message: MsiMessage) {
        self.lock().push(IrqEvent::Msix(vector, message));
    }
}

impl Recorder {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<IrqEvent>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn take(&self) -> Vec<IrqEvent> {
        std::mem::take(&mut *self.lock())
    }
}

/// One side of a comparison: a model with its memory, trace and sink.
#[derive(Debug)]
pub struct Side<R: Registers> {
    /// The model.
    pub model: Model<R>,
    trace: TraceBuffer,
    irq: Recorder,
    mem: Arc<GuestMem>,
    state: fn(&R) -> String,
}

impl<R: Registers> Side<R> {
    /// Is the interrupt level the model keeps (STATUS.interrupt) the one
    /// its registers give now?
    fn level_kept(&self) -> bool {
        self.model.regs.interrupt_level(self.model.ctx()) == self.model.config().interrupt_status()
    }

    /// Wrap `model` with fresh RAM (filled with 0x5a), a trace and an
    /// interrupt recorder; `state` formats the device state for comparison.
    pub fn new(mut model: Model<R>, state: fn(&R) -> String) -> Self {
        let ranges: Vec<_> = RAM.iter().map(|&(a, l)| (GuestAddress(a), l)).collect();
        let mem = Arc::new(GuestMem::from_ranges(&ranges).unwrap_or_default());
        for &(a, l) in RAM {
            // The ranges were just created, so the write lands.
            let _ = mem.write_slice(&vec![0x5a; l], GuestAddress(a));
        }
        model.set_guest_memory(Some(mem.clone()));
        let trace = TraceBuffer::new();
        model.set_trace(trace.sink());
        let irq = Recorder::default();
        model.set_interrupt_sink(Box::new(irq.clone()));
        Side {
            model,
            trace,
            irq,
            mem,
            state,
        }
    }

    /// Apply one access; returns the bytes read (empty for writes) and
    /// whether the access succeeded.
    fn apply(&mut self, a: &Access) -> (Vec<u8>, bool) {
        match a {
            Access::ConfigWrite { offset, data } => {
                self.model.config_write(*offset, data);
                (Vec::new(), true)
            }
            Access::ConfigRead { offset, len } => {
                let mut buf = vec![0u8; *len];
                self.model.config_read(*offset, &mut buf);
                (buf, true)
            }
            Access::BarWrite { bar, offset, data } => {
                let ok = self.model.bar_write(*bar, *offset, data).is_ok();
                (Vec::new(), ok)
            }
            Access::BarRead { bar, offset, len } => {
                let mut buf = vec![0u8; *len];
                let ok = self.model.bar_read(*bar, *offset, &mut buf).is_ok();
                (buf, ok)
            }
            Access::Reset => {
                self.model.reset();
                (Vec::new(), true)
            }
            Access::Advance { ns } => {
                let fired = self.model.advance(*ns);
                ((fired as u64).to_le_bytes().to_vec(), true)
            }
            // Resolved by `Pair::step` into `Advance`.
            Access::AdvanceToDeadline { .. } => (Vec::new(), false),
            Access::Input { stream, byte } => {
                let taken = self.model.stream_input(usize::from(*stream), *byte);
                (Vec::new(), taken)
            }
        }
    }

    /// What the device did to the outside world besides interrupts and the
    /// trace, taken (bytes sent per stream, VMM requests), and its timers
    /// and streams as the host sees them.
    fn effects(&mut self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for i in 0..self.model.streams().len() {
            let bytes = self.model.take_output(i);
            let ready = self.model.stream_ready(i);
            let _ = write!(out, "stream {i}: sent {bytes:?} ready {ready}; ");
        }
        let _ = write!(out, "vmm {:?}; ", self.model.take_vmm_requests());
        let _ = write!(
            out,
            "now {} next {:?}; ",
            self.model.now(),
            self.model.next_deadline()
        );
        for i in 0..self.model.timers().len() as u32 {
            let _ = write!(
                out,
                "timer {i}: {:?} {:?}; ",
                self.model.probe(Probe::TimerRunning(i)),
                self.model.probe(Probe::TimerRemaining(i))
            );
        }
        out
    }

    /// Every state probe (scalars, FIFO length and front) by index.
    fn probes(&self) -> Vec<[Option<u64>; 3]> {
        // Indices past the last state answer `None` on both sides.
        (0..256u32)
            .map(|i| {
                [
                    self.model.probe(Probe::State(i)),
                    self.model.probe(Probe::FifoLen(i)),
                    self.model.probe(Probe::FifoFront(i)),
                ]
            })
            .collect()
    }

    /// Guest RAM, every region in [`RAM`] order.
    pub fn memory(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for &(a, l) in RAM {
            let mut buf = vec![0u8; l];
            let _ = self.mem.read_slice(&mut buf, GuestAddress(a));
            all.extend(buf);
        }
        all
    }

    /// Replace the model's state by `snapshot` and guest RAM by `memory`
    /// (as [`Self::memory`] returned it: the VM's part, which a device
    /// snapshot does not hold), then forget what the restore told the
    /// interrupt sink, so that what follows compares with a model that
    /// ran all along.
    pub fn restore(
        &mut self,
        snapshot: &[u8],
        memory: &[u8],
    ) -> Result<(), pcidev_runtime::SnapshotError> {
        self.model.restore_snapshot(snapshot)?;
        let mut at = 0;
        for &(a, l) in RAM {
            if let Some(bytes) = memory.get(at..at + l) {
                // The region exists (built from RAM), so the write lands.
                let _ = self.mem.write_slice(bytes, GuestAddress(a));
            }
            at += l;
        }
        self.irq.take();
        self.trace.take();
        Ok(())
    }

    fn config(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 0x100];
        self.model.config().read(0, &mut buf);
        buf
    }
}

/// Two models that must behave alike.
#[derive(Debug)]
pub struct Pair<A: Registers, B: Registers> {
    pub a: Side<A>,
    pub b: Side<B>,
    /// Actions applied so far (guest accesses, resets, time, input).
    pub steps: u64,
    /// Of those, time passing and stream input (not guest accesses).
    pub outside: u64,
    /// Trace events compared so far.
    pub events: u64,
    /// BAR accesses that reached registers (traced `Done`) so far.
    pub bar_done: u64,
    /// Timer firings, stream bytes taken, bytes sent and VMM requests
    /// seen so far (traced `TimerFired`, `StreamIn`, `StreamOut`, `Vmm`).
    pub fired: u64,
    pub inputs: u64,
    pub sent: u64,
    pub vmm: u64,
    /// MSI-X messages delivered, and vectors left pending, so far.
    pub msix: (u64, u64),
}

/// Where and how the two models differed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Index of the access after which the difference showed.
    pub step: u64,
    /// The access.
    pub access: Option<Access>,
    /// What differed, both sides.
    pub what: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "after access #{} ({:?}): {}",
            self.step, self.access, self.what
        )
    }
}

impl<A: Registers, B: Registers> Pair<A, B> {
    /// Compare `a` and `b` from their current (reset) state.
    pub fn new(a: Side<A>, b: Side<B>) -> Self {
        Pair {
            a,
            b,
            steps: 0,
            outside: 0,
            events: 0,
            bar_done: 0,
            fired: 0,
            inputs: 0,
            sent: 0,
            vmm: 0,
            msix: (0, 0),
        }
    }

    fn differ(&self, access: Option<&Access>, what: String) -> Mismatch {
        Mismatch {
            step: self.steps,
            access: access.cloned(),
            what,
        }
    }

    /// Apply `access` to both and compare what is observable right away:
    /// the bytes read, the result, the line, interrupt messages and the
    /// trace.
    pub fn step(&mut self, access: &Access) -> Result<(), Mismatch> {
        self.steps += 1;
        if matches!(
            access,
            Access::Advance { .. } | Access::AdvanceToDeadline { .. } | Access::Input { .. }
        ) {
            self.outside += 1;
        }
        let resolved;
        let access = match access {
            Access::AdvanceToDeadline { slack } => {
                let Some(due) = self.a.model.next_deadline() else {
                    return Ok(());
                };
                let ns = due.saturating_sub(self.a.model.now());
                resolved = Access::Advance {
                    ns: ns.saturating_add_signed(i64::from(*slack)),
                };
                &resolved
            }
            other => other,
        };
        let ra = self.a.apply(access);
        let rb = self.b.apply(access);
        if ra != rb {
            return Err(self.differ(Some(access), format!("result {ra:?} vs {rb:?}")));
        }
        let (la, lb) = (
            self.a.model.interrupt_asserted(),
            self.b.model.interrupt_asserted(),
        );
        if la != lb {
            return Err(self.differ(Some(access), format!("INTx line {la} vs {lb}")));
        }
        let (ia, ib) = (self.a.irq.take(), self.b.irq.take());
        if ia != ib {
            return Err(self.differ(Some(access), format!("interrupts {ia:?} vs {ib:?}")));
        }
        let (ta, tb) = (self.a.trace.take(), self.b.trace.take());
        if ta != tb {
            return Err(self.differ(Some(access), format!("trace {ta:?} vs {tb:?}")));
        }
        let (ea, eb) = (self.a.effects(), self.b.effects());
        if ea != eb {
            return Err(self.differ(Some(access), format!("effects {ea} vs {eb}")));
        }
        // Each side's kept level (STATUS.interrupt) is the level recomputed
        // from scratch: no access that skipped recomputing it
        // (`Level::Unchanged`) changed it. The two sides share that
        // analysis, so comparing them would not show its mistakes.
        for (side, kept) in [
            ("generated", self.a.level_kept()),
            ("interpreted", self.b.level_kept()),
        ] {
            if !kept {
                return Err(self.differ(
                    Some(access),
                    format!("the {side} model's kept interrupt level is stale"),
                ));
            }
        }
        self.events += ta.len() as u64;
        for e in &ta {
            match e {
                TraceEvent::TimerFired { .. } => self.fired += 1,
                TraceEvent::StreamIn { .. } => self.inputs += 1,
                TraceEvent::StreamOut { .. } => self.sent += 1,
                TraceEvent::Vmm { .. } => self.vmm += 1,
                TraceEvent::Msix {
                    delivered, pending, ..
                } => {
                    self.msix.0 += u64::from(*delivered);
                    self.msix.1 += u64::from(*pending);
                }
                _ => {}
            }
        }
        self.bar_done += ta
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    TraceEvent::BarRead {
                        outcome: AccessOutcome::Done,
                        ..
                    } | TraceEvent::BarWrite {
                        outcome: AccessOutcome::Done,
                        ..
                    }
                )
            })
            .count() as u64;
        Ok(())
    }

    /// Compare the device state, config space and guest memory.
    pub fn check_state(&mut self) -> Result<(), Mismatch> {
        let (sa, sb) = (
            (self.a.state)(&self.a.model.regs),
            (self.b.state)(&self.b.model.regs),
        );
        if sa != sb {
            return Err(self.differ(None, format!("state {sa} vs {sb}")));
        }
        let (pa, pb) = (self.a.probes(), self.b.probes());
        if pa != pb {
            return Err(self.differ(None, format!("state probes {pa:?} vs {pb:?}")));
        }
        let (ca, cb) = (self.a.config(), self.b.config());
        if ca != cb {
            return Err(self.differ(None, format!("config space {ca:x?} vs {cb:x?}")));
        }
        if self.a.memory() != self.b.memory() {
            return Err(self.differ(None, "guest memory (DMA bytes) differs".into()));
        }
        Ok(())
    }

    /// `count` generated accesses from `seed`, state checked every
    /// `check_every` accesses and at the end.
    pub fn run_random(&mut self, seed: u32, count: u64, check_every: u64) -> Result<(), Mismatch> {
        let (timers, streams) = (self.a.model.timers().len(), self.a.model.streams().len());
        let mut g = AccessGen::new(self.a.model.info(), seed).with_time(timers, streams);
        for i in 0..count {
            let access = Access::decode(&g.next_record());
            self.step(&access)?;
            if check_every != 0 && (i + 1) % check_every == 0 {
                self.check_state()?;
            }
        }
        self.check_state()
    }

    /// Accesses decoded from raw bytes (the fuzz target's input).
    pub fn run_bytes(&mut self, bytes: &[u8]) -> Result<(), Mismatch> {
        for rec in bytes.chunks_exact(RECORD) {
            let mut r = [0u8; RECORD];
            r.copy_from_slice(rec);
            self.step(&Access::decode(&r))?;
        }
        self.check_state()
    }
}
