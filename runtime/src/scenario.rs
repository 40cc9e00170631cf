//! Running a spec's scenarios against a model, without a VM.
//!
//! The compiler turns each `scenario` of a spec into a static table of
//! [`ScenarioStep`]s; [`Harness::run`] interprets it against a [`Model`]:
//! the same steps the generated Linux driver runs in its probe self-test,
//! here checked on the host.
//!
//! The harness gives the model PC-like guest memory: RAM at
//! `[0, 0xa0000)` and at [`DMA_BUFFER_ADDR`] (where `dma.addr` points),
//! nothing in the legacy VGA window, so a DMA to 0xa0000 is refused as it
//! is on a real machine. COMMAND has I/O, memory and bus mastering enabled.
//! A device with MSI-X has it enabled, every entry programmed and unmasked,
//! as Linux leaves it for the generated driver (which prefers MSI-X); `expect
//! msi N` checks that vector N was delivered since it was last expected.
//! `expect irq` checks the INTx line, then runs the driver's handler
//! protocol ([`Handler`]): read the registers `status`/`mine` name, which
//! must say the interrupt is the device's, and write the acknowledgements
//! whose `when` holds.
//!
//! Time and the outside world (host only, except `advance`):
//! - `advance` moves the model's virtual clock, firing due timers
//!   ([`Model::advance`]).
//! - `input S bytes` queues bytes for stream S; the harness delivers them
//!   one at a time while the stream is ready, and again after every later
//!   step (as a host re-evaluates `ready` after every guest access), so a
//!   full receive FIFO holds the rest back without losing any.
//! - `expect output S bytes`: exactly these bytes were sent on S since the
//!   last `expect output S` (or the start).
//! - `expect vmm R`: R was requested since it was last expected.
//! - `expect STATE ==/!= v`: the model's [`Registers::probe`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use vm_memory::{Bytes, GuestAddress};

use crate::GuestMem;
use crate::config::{COMMAND_BUS_MASTER, COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, MsiMessage};
use crate::ctx::InterruptSink;
use crate::model::{Model, Registers};
use crate::trace::{AccessOutcome, TraceBuffer, TraceEvent};
use pcidev_core::{Space, VmmRequest};

/// Guest-physical address of the DMA buffer scenarios call `dma.addr`.
pub const DMA_BUFFER_ADDR: u64 = 0x10_0000;
/// End of the low RAM the harness maps (the legacy VGA window starts here).
pub const LOW_RAM_END: u64 = 0xa_0000;

pub use pcidev_core::data::Data;
pub use pcidev_core::scenario::{Cmp, Loc, Probe, Step, StepValue};

impl<M: Registers> HandlerIo for Harness<M> {
    fn read(&mut self, loc: Loc) -> u64 {
        Harness::read(self, loc).0
    }
    fn write(&mut self, loc: Loc, value: u64) {
        Harness::write(self, loc, value);
    }
}

impl ScenarioStep {
    /// A step at spec line `line` whose source text is `text` (what the
    /// generated step tables are built from, in a `const`).
    pub const fn new(line: u32, text: &'static str, step: Step) -> Self {
        ScenarioStep { line, text, step }
    }
}

/// A step with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioStep {
    /// Line in the spec.
    pub line: u32,
    /// The step's text in the spec.
    pub text: &'static str,
    /// What the step does (an access, an expectation, a wait, ...).
    pub step: Step,
}

/// A named sequence of steps.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// The scenario's name as written in the spec (`scenario NAME { ... }`).
    pub name: &'static str,
    /// The steps in spec order; `repeat` blocks are kept as steps and
    /// expanded by [`Harness::run`] (bounded: a table that expands too far
    /// is refused as malformed).
    pub steps: &'static [ScenarioStep],
}

/// The accesses the driver's interrupt handler makes, performed by the
/// harness on the model.
pub trait HandlerIo {
    /// Read a register (the model's read side effects happen).
    fn read(&mut self, loc: Loc) -> u64;
    /// Write a register.
    fn write(&mut self, loc: Loc, value: u64);
}

/// The driver's interrupt handler protocol, generated from the spec's
/// `interrupt` (`status`, `mine`, `ack ... when ...`): reads the registers
/// it needs, each once, decides whether the interrupt is the device's and,
/// if so, writes the acknowledgements whose conditions hold. Returns
/// whether it was the device's.
pub type HandleFn = fn(&mut dyn HandlerIo) -> bool;

/// The driver's interrupt handler protocol, from the spec's `interrupt`.
#[derive(Debug, Clone, Copy)]
pub struct Handler {
    /// `None`: the spec gives no test and no ack (e.g. an MSI-only
    /// device): every interrupt is the device's, nothing is read or written.
    pub handle: Option<HandleFn>,
}

/// A failed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFailure {
    /// Name of the scenario that failed.
    pub scenario: &'static str,
    /// Spec line of the failing step (0 if the step table was empty).
    pub line: u32,
    /// The failing step's text in the spec (empty when the step table
    /// itself is malformed rather than one step failing).
    pub text: &'static str,
    /// What went wrong: expected versus actual value, missing interrupt, ...
    pub message: String,
}

impl std::fmt::Display for ScenarioFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scenario `{}`, line {}: `{}`: {}",
            self.scenario, self.line, self.text, self.message
        )
    }
}

impl std::error::Error for ScenarioFailure {}

/// Interrupt sink that keeps the last INTx level and counts MSIs.
#[derive(Debug, Default, Clone)]
struct Recorder(Arc<Mutex<IrqRecord>>);

/// What the recorder saw: the INTx line and MSI vectors not yet expected.
#[derive(Debug, Default)]
struct IrqRecord {
    intx: bool,
    /// Vectors signalled since the last `expect msi` of each, in order.
    msi: Vec<u16>,
}

impl InterruptSink for Recorder {
    fn set_intx(&mut self, asserted: bool) {
        if let Ok(mut g) = self.0.lock() {
            g.intx = asserted;
        }
    }
    fn msi(&mut self, vector: u8, _message: MsiMessage) {
        self.vector(u16::from(vector));
    }
    fn msix(&mut self, vector: u16, _message: MsiMessage) {
        self.vector(vector);
    }
}

impl Recorder {
    /// `expect msi N` counts MSI and MSI-X vectors alike.
    fn vector(&mut self, vector: u16) {
        if let Ok(mut g) = self.0.lock() {
            // Bounded: a scenario has at most MAX_EXPANDED_STEPS steps, but
            // a device could signal on every one; keep the newest 4096.
            if g.msi.len() == 4096 {
                g.msi.remove(0);
            }
            g.msi.push(vector);
        }
    }
}

/// A model wired for scenarios: guest memory, interrupt recorder, trace.
#[derive(Debug)]
pub struct Harness<R: Registers> {
    /// The device under test, with I/O, memory and bus mastering enabled
    /// and (if it has MSI-X) every vector enabled as Linux would.
    pub model: Model<R>,
    /// Guest RAM the model DMAs into: low RAM from 0 to [`LOW_RAM_END`] and
    /// the DMA buffer at [`DMA_BUFFER_ADDR`].
    pub memory: Arc<GuestMem>,
    /// Every event the model traced since the harness was built.
    pub trace: TraceBuffer,
    dma_buffer: usize,
    irq: Recorder,
    /// Input bytes not yet delivered, per stream.
    pending_input: Vec<VecDeque<u8>>,
    /// Output not yet expected, per stream.
    output: Vec<Vec<u8>>,
    /// VMM requests not yet expected.
    vmm: Vec<VmmRequest>,
}

/// What Linux does when a driver allocates MSI-X vectors (the generated
/// driver prefers MSI-X): enable MSI-X under the function mask, give every
/// entry a message (address 0xfee0_0000, data = vector) and unmask it, then
/// clear the function mask. Host scenarios then see the vectors the guest's
/// self-test sees. Nothing for a device without MSI-X.
fn enable_msix<R: Registers>(model: &mut Model<R>) {
    let Some(info) = model.info().msix else {
        return;
    };
    let control = u64::from(crate::msix::MSIX_CAP_OFFSET) + 2;
    let masked = crate::msix::MSIX_CONTROL_ENABLE | crate::msix::MSIX_CONTROL_FUNCTION_MASK;
    model.config_write(control, &masked.to_le_bytes());
    let table = u64::from(info.table_offset & !7);
    for v in 0..info.vector_count() {
        let entry = table + u64::from(v) * crate::msix::MSIX_ENTRY_SIZE;
        let _ = model.bar_write(info.table_bar, entry, &0xfee0_0000u64.to_le_bytes());
        let _ = model.bar_write(info.table_bar, entry + 8, &u32::from(v).to_le_bytes());
        let _ = model.bar_write(info.table_bar, entry + 12, &0u32.to_le_bytes());
    }
    model.config_write(control, &crate::msix::MSIX_CONTROL_ENABLE.to_le_bytes());
}

impl<R: Registers> Harness<R> {
    /// A harness around `regs` with a DMA buffer of `dma_buffer` bytes at
    /// [`DMA_BUFFER_ADDR`].
    pub fn new(regs: R, dma_buffer: u64) -> Self {
        let dma_buffer = usize::try_from(dma_buffer)
            .unwrap_or(usize::MAX)
            .clamp(1, 1 << 30);
        // Regions are page-sized multiples.
        let high = dma_buffer.div_ceil(4096) * 4096;
        let memory = Arc::new(
            GuestMem::from_ranges(&[
                (GuestAddress(0), LOW_RAM_END as usize),
                (GuestAddress(DMA_BUFFER_ADDR), high),
            ])
            .expect("the harness memory layout is valid"),
        );
        let mut model = Model::new(regs);
        let streams = model.streams().len();
        model.set_guest_memory(Some(memory.clone()));
        let irq = Recorder::default();
        model.set_interrupt_sink(Box::new(irq.clone()));
        let trace = TraceBuffer::new();
        model.set_trace(trace.sink());
        let command = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE | COMMAND_BUS_MASTER;
        model.config_write(0x04, &command.to_le_bytes());
        enable_msix(&mut model);
        Harness {
            model,
            memory,
            trace,
            dma_buffer,
            irq,
            pending_input: vec![VecDeque::new(); streams],
            output: vec![Vec::new(); streams],
            vmm: Vec::new(),
        }
    }

    /// Deliver pending input while each stream is ready.
    pub fn pump_input(&mut self) {
        for (stream, pending) in self.pending_input.iter_mut().enumerate() {
            while let Some(&b) = pending.front() {
                if !self.model.stream_input(stream, b) {
                    break;
                }
                pending.pop_front();
            }
        }
    }

    /// Move what the model sent and requested into the harness's
    /// not-yet-expected lists.
    fn collect_effects(&mut self) {
        for (stream, out) in self.output.iter_mut().enumerate() {
            out.extend(self.model.take_output(stream));
            // A scenario that never expects output must not grow this
            // without bound: keep the newest QUEUE_BYTES.
            if out.len() > crate::QUEUE_BYTES {
                out.drain(..out.len() - crate::QUEUE_BYTES);
            }
        }
        self.vmm.extend(self.model.take_vmm_requests());
        if self.vmm.len() > crate::MAX_VMM_PENDING {
            self.vmm.drain(..self.vmm.len() - crate::MAX_VMM_PENDING);
        }
    }

    /// Input bytes for `stream` still waiting for the device to be ready.
    pub fn pending_input(&self, stream: usize) -> usize {
        self.pending_input.get(stream).map_or(0, VecDeque::len)
    }

    /// Read `loc`; the value and whether the device accepted the access
    /// (config space always does).
    pub fn read(&mut self, loc: Loc) -> (u64, bool) {
        let mut buf = [0u8; 8];
        let n = usize::from(loc.width).clamp(1, 8);
        let ok = match loc.space {
            Space::Bar(bar) => {
                let ok = self.model.bar_read(bar, loc.offset, &mut buf[..n]).is_ok();
                ok && self.last_outcome_done()
            }
            Space::Config => {
                self.model.config_read(loc.offset, &mut buf[..n]);
                true
            }
        };
        (u64::from_le_bytes(buf), ok)
    }

    /// Write `value` to `loc`; whether the device accepted the access.
    pub fn write(&mut self, loc: Loc, value: u64) -> bool {
        let bytes = value.to_le_bytes();
        let n = usize::from(loc.width).clamp(1, 8);
        match loc.space {
            Space::Bar(bar) => {
                let ok = self.model.bar_write(bar, loc.offset, &bytes[..n]).is_ok();
                ok && self.last_outcome_done()
            }
            Space::Config => {
                self.model.config_write(loc.offset, &bytes[..n]);
                true
            }
        }
    }

    fn last_outcome_done(&self) -> bool {
        let events = self.trace.events();
        let outcome = events.iter().rev().find_map(|e| match e {
            TraceEvent::BarRead { outcome, .. } | TraceEvent::BarWrite { outcome, .. } => {
                Some(*outcome)
            }
            _ => None,
        });
        outcome == Some(AccessOutcome::Done)
    }

    /// Is the INTx line asserted now?
    pub fn intx(&self) -> bool {
        self.irq.0.lock().map(|g| g.intx).unwrap_or(false)
    }

    fn dma_slice(&self, start: u64, end: u64) -> Result<Vec<u8>, String> {
        let len = usize::try_from(end.saturating_sub(start)).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; len];
        self.memory
            .read_slice(&mut buf, GuestAddress(DMA_BUFFER_ADDR + start))
            .map_err(|e| format!("reading the DMA buffer: {e}"))?;
        Ok(buf)
    }

    /// Run one scenario; the first failing step ends it.
    pub fn run(&mut self, scenario: &Scenario, handler: &Handler) -> Result<(), ScenarioFailure> {
        if pcidev_core::scenario::expanded_len(
            scenario
                .steps
                .iter()
                .map(|s| s.step)
                .collect::<Vec<_>>()
                .as_slice(),
        )
        .is_none_or(|n| n > pcidev_core::scenario::MAX_EXPANDED_STEPS)
        {
            return Err(ScenarioFailure {
                scenario: scenario.name,
                line: scenario.steps.first().map_or(0, |s| s.line),
                text: "",
                message:
                    "malformed step table (a repeat longer than its scenario, or too many steps)"
                        .into(),
            });
        }
        self.run_steps(scenario, scenario.steps, handler)
    }

    /// Run `steps`, unrolling repeats (their bodies follow them).
    fn run_steps(
        &mut self,
        scenario: &Scenario,
        steps: &[ScenarioStep],
        handler: &Handler,
    ) -> Result<(), ScenarioFailure> {
        let mut i = 0;
        while let Some(s) = steps.get(i) {
            if let Step::Repeat { count, len } = s.step {
                let body = steps.get(i + 1..i + 1 + len as usize).unwrap_or_default();
                for _ in 0..count {
                    self.run_steps(scenario, body, handler)?;
                }
                i += 1 + len as usize;
                continue;
            }
            let result = self.step(s.step, handler);
            // Like a host after every access: deliver what the device is
            // ready for, collect what it sent.
            self.pump_input();
            self.collect_effects();
            result.map_err(|message| ScenarioFailure {
                scenario: scenario.name,
                line: s.line,
                text: s.text,
                message,
            })?;
            i += 1;
        }
        Ok(())
    }

    fn step(&mut self, step: Step, handler: &Handler) -> Result<(), String> {
        match step {
            Step::Read(loc) => {
                let (_, ok) = self.read(loc);
                ok.then_some(())
                    .ok_or_else(|| "the device rejected the read".to_string())
            }
            Step::Write(loc, v) => {
                let ok = self.write(loc, v.resolve(DMA_BUFFER_ADDR));
                ok.then_some(())
                    .ok_or_else(|| "the device rejected the write".to_string())
            }
            Step::Expect {
                loc,
                value,
                mask,
                cmp,
            } => self.expect(loc, value, mask, cmp),
            Step::Wait { loc, value, mask } => self.expect(loc, value, mask, Cmp::Eq),
            Step::InvalidWrite(loc, v) => {
                if self.write(loc, v.resolve(DMA_BUFFER_ADDR)) {
                    Err("the device accepted an access its policy should reject".into())
                } else {
                    Ok(())
                }
            }
            Step::InvalidRead { loc, expect } => {
                let (got, ok) = self.read(loc);
                if ok {
                    Err("the device accepted an access its policy should reject".into())
                } else if got != expect {
                    Err(format!(
                        "read {got:#x}, expected {expect:#x} for a rejected read"
                    ))
                } else {
                    Ok(())
                }
            }
            Step::ExpectIrq(false) => {
                if self.intx() {
                    Err("the interrupt is asserted".into())
                } else {
                    Ok(())
                }
            }
            Step::ExpectIrq(true) => {
                if !self.intx() {
                    return Err("the interrupt is not asserted".into());
                }
                // The driver's handler: is it the device's? Then ack it.
                match handler.handle {
                    Some(handle) if !handle(self) => Err(
                        "the line is asserted but the handler's test (`status`/`mine`) says the interrupt is not the device's"
                            .into(),
                    ),
                    _ => Ok(()),
                }
            }
            Step::ExpectDma { start, end, data } => {
                self.check_range(start, end)?;
                let got = self.dma_slice(start, end)?;
                let want = data.bytes(got.len());
                match got.iter().zip(&want).position(|(a, b)| a != b) {
                    None => Ok(()),
                    Some(i) => Err(format!(
                        "DMA buffer byte {:#x} is {:#04x}, expected {:#04x}",
                        start + i as u64,
                        got[i],
                        want[i]
                    )),
                }
            }
            Step::Fill { start, end, data } => {
                self.check_range(start, end)?;
                let len = usize::try_from(end - start).map_err(|e| e.to_string())?;
                self.memory
                    .write_slice(&data.bytes(len), GuestAddress(DMA_BUFFER_ADDR + start))
                    .map_err(|e| format!("filling the DMA buffer: {e}"))
            }
            Step::ExpectMsi(vector) => {
                let mut g = self
                    .irq
                    .0
                    .lock()
                    .map_err(|_| "recorder poisoned".to_string())?;
                match g.msi.iter().position(|v| *v == vector) {
                    Some(i) => {
                        g.msi.remove(i);
                        Ok(())
                    }
                    None => Err(format!(
                        "MSI vector {vector} was not signalled (seen since: {:?})",
                        g.msi
                    )),
                }
            }
            // Unrolled by `run_steps`.
            Step::Repeat { .. } => Ok(()),
            Step::Advance(ns) => {
                self.model.advance(ns);
                Ok(())
            }
            Step::Input { stream, bytes } => {
                let queue = usize::try_from(stream)
                    .ok()
                    .and_then(|s| self.pending_input.get_mut(s))
                    .ok_or_else(|| format!("the model has no stream {stream}"))?;
                queue.extend(bytes.iter().copied());
                Ok(())
            }
            Step::ExpectOutput { stream, bytes } => {
                self.collect_effects();
                let name = self.model.stream_name(stream as usize);
                let got = usize::try_from(stream)
                    .ok()
                    .and_then(|s| self.output.get_mut(s))
                    .ok_or_else(|| format!("the model has no stream {stream}"))?;
                let seen = std::mem::take(got);
                if seen == bytes {
                    Ok(())
                } else {
                    Err(format!(
                        "stream `{name}` sent {}, expected {}",
                        show_bytes(&seen),
                        show_bytes(bytes)
                    ))
                }
            }
            Step::ExpectVmm(request) => {
                self.collect_effects();
                match self.vmm.iter().position(|r| *r == request) {
                    Some(i) => {
                        self.vmm.remove(i);
                        Ok(())
                    }
                    None => Err(format!(
                        "no `vmm {}` was requested (pending: {:?})",
                        request.keyword(),
                        self.vmm.iter().map(|r| r.keyword()).collect::<Vec<_>>()
                    )),
                }
            }
            Step::ExpectState {
                probe,
                cmp,
                value,
                mask,
            } => {
                let got = self
                    .model
                    .probe(probe)
                    .ok_or_else(|| format!("the model has no state for {probe:?}"))?;
                if cmp.holds(got, value, mask) {
                    Ok(())
                } else {
                    Err(format!(
                        "state is {got:#x}, expected {} {value:#x} (mask {mask:#x})",
                        cmp.symbol()
                    ))
                }
            }
        }
    }

    fn expect(&mut self, loc: Loc, value: StepValue, mask: u64, cmp: Cmp) -> Result<(), String> {
        let (got, ok) = self.read(loc);
        let want = value.resolve(DMA_BUFFER_ADDR);
        if !ok {
            Err("the device rejected the read".into())
        } else if !cmp.holds(got, want, mask) {
            let expected = match cmp {
                Cmp::Eq => format!("{want:#x}"),
                Cmp::Ne => format!("anything but {want:#x}"),
            };
            Err(format!(
                "read {got:#x}, expected {expected} (mask {mask:#x})"
            ))
        } else {
            Ok(())
        }
    }

    fn check_range(&self, start: u64, end: u64) -> Result<(), String> {
        if start <= end && end <= self.dma_buffer as u64 {
            Ok(())
        } else {
            Err(format!(
                "range {start:#x}..{end:#x} is outside the {}-byte DMA buffer",
                self.dma_buffer
            ))
        }
    }
}

/// Bytes as a quoted string when printable, else as a list.
fn show_bytes(bytes: &[u8]) -> String {
    if bytes
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\n')
    {
        format!("{:?}", String::from_utf8_lossy(bytes))
    } else {
        format!("{bytes:02x?}")
    }
}

/// Run every scenario on a fresh harness each.
pub fn run_all<R: Registers>(
    mut make: impl FnMut() -> R,
    scenarios: &[Scenario],
    handler: &Handler,
    dma_buffer: u64,
) -> Result<(), ScenarioFailure> {
    for s in scenarios {
        Harness::new(make(), dma_buffer).run(s, handler)?;
    }
    Ok(())
}
