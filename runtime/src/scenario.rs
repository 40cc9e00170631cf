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
//! `expect irq` checks the INTx line, then runs the driver's handler
//! protocol: read the interrupt status register (it must be non-zero) and
//! write the acknowledge value.

use std::sync::{Arc, Mutex};

use vm_memory::{Bytes, GuestAddress};

use crate::config::{COMMAND_BUS_MASTER, COMMAND_IO_SPACE, COMMAND_MEMORY_SPACE, MsiMessage};
use crate::ctx::InterruptSink;
use crate::model::{Model, Registers};
use crate::trace::{AccessOutcome, TraceBuffer, TraceEvent};
use crate::{GuestMem, Xorshift32};

/// Guest-physical address of the DMA buffer scenarios call `dma.addr`.
pub const DMA_BUFFER_ADDR: u64 = 0x10_0000;
/// End of the low RAM the harness maps (the legacy VGA window starts here).
pub const LOW_RAM_END: u64 = 0xa_0000;

/// A value a step writes or expects: a constant, optionally plus `dma.addr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepValue {
    pub constant: u64,
    pub plus_dma_addr: bool,
}

impl StepValue {
    pub const fn new(constant: u64) -> Self {
        StepValue {
            constant,
            plus_dma_addr: false,
        }
    }
    pub const fn dma_addr(offset: u64) -> Self {
        StepValue {
            constant: offset,
            plus_dma_addr: true,
        }
    }
    fn resolve(self) -> u64 {
        if self.plus_dma_addr {
            DMA_BUFFER_ADDR.wrapping_add(self.constant)
        } else {
            self.constant
        }
    }
}

/// Constant data for DMA buffer steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// `random_bytes(seed, ..)`.
    Random(u32),
    /// One byte, repeated.
    Pattern(u8),
    /// The 8 little-endian bytes of a value, repeated.
    Word(u64),
}

impl Data {
    /// The data's bytes for a range of `len` bytes.
    pub fn bytes(self, len: usize) -> Vec<u8> {
        let mut out = vec![0u8; len];
        match self {
            Data::Random(seed) => Xorshift32::new(seed).fill_bytes(&mut out),
            Data::Pattern(b) => out.fill(b),
            Data::Word(w) => {
                let b = w.to_le_bytes();
                for (i, x) in out.iter_mut().enumerate() {
                    *x = b[i % 8];
                }
            }
        }
        out
    }
}

/// Where an access goes: BAR index, offset, width in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Loc {
    pub bar: u8,
    pub offset: u64,
    pub width: u8,
}

impl Loc {
    pub const fn new(bar: u8, offset: u64, width: u8) -> Self {
        Loc { bar, offset, width }
    }
}

impl ScenarioStep {
    pub const fn new(line: u32, text: &'static str, step: Step) -> Self {
        ScenarioStep { line, text, step }
    }
}

/// One step (see the language reference for their meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Read(Loc),
    Write(Loc, StepValue),
    Expect {
        loc: Loc,
        value: StepValue,
        mask: u64,
    },
    Wait {
        loc: Loc,
        value: StepValue,
        mask: u64,
    },
    InvalidWrite(Loc, StepValue),
    InvalidRead {
        loc: Loc,
        expect: u64,
    },
    ExpectIrq(bool),
    ExpectDma {
        start: u64,
        end: u64,
        data: Data,
    },
    Fill {
        start: u64,
        end: u64,
        data: Data,
    },
}

/// A step with where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScenarioStep {
    /// Line in the spec.
    pub line: u32,
    /// The step's text in the spec.
    pub text: &'static str,
    pub step: Step,
}

/// A named sequence of steps.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    pub steps: &'static [ScenarioStep],
}

/// Computes the acknowledge value from the status the handler read.
pub type AckFn = fn(u64) -> u64;

/// The driver's interrupt handler protocol, from the spec's `interrupt`.
#[derive(Debug, Clone, Copy)]
pub struct Handler {
    /// Register read to tell whether the interrupt is the device's.
    pub status: Option<Loc>,
    /// Register written to acknowledge, and the value from the status read.
    pub ack: Option<(Loc, AckFn)>,
}

/// A failed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioFailure {
    pub scenario: &'static str,
    pub line: u32,
    pub text: &'static str,
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
struct Recorder(Arc<Mutex<(bool, usize)>>);

impl InterruptSink for Recorder {
    fn set_intx(&mut self, asserted: bool) {
        if let Ok(mut g) = self.0.lock() {
            g.0 = asserted;
        }
    }
    fn msi(&mut self, _vector: u8, _message: MsiMessage) {
        if let Ok(mut g) = self.0.lock() {
            g.1 += 1;
        }
    }
}

/// A model wired for scenarios: guest memory, interrupt recorder, trace.
#[derive(Debug)]
pub struct Harness<R: Registers> {
    pub model: Model<R>,
    pub memory: Arc<GuestMem>,
    pub trace: TraceBuffer,
    dma_buffer: usize,
    irq: Recorder,
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
        model.set_guest_memory(Some(memory.clone()));
        let irq = Recorder::default();
        model.set_interrupt_sink(Box::new(irq.clone()));
        let trace = TraceBuffer::new();
        model.set_trace(trace.sink());
        let command = COMMAND_IO_SPACE | COMMAND_MEMORY_SPACE | COMMAND_BUS_MASTER;
        model.config_write(0x04, &command.to_le_bytes());
        Harness {
            model,
            memory,
            trace,
            dma_buffer,
            irq,
        }
    }

    /// Read `loc`; the value and whether the BAR accepted the access.
    pub fn read(&mut self, loc: Loc) -> (u64, bool) {
        let mut buf = vec![0u8; usize::from(loc.width)];
        let ok = self.model.bar_read(loc.bar, loc.offset, &mut buf).is_ok();
        let mut le = [0u8; 8];
        let n = buf.len().min(8);
        le[..n].copy_from_slice(&buf[..n]);
        (u64::from_le_bytes(le), ok && self.last_outcome_done())
    }

    /// Write `value` to `loc`; whether the BAR accepted the access.
    pub fn write(&mut self, loc: Loc, value: u64) -> bool {
        let bytes = value.to_le_bytes();
        let n = usize::from(loc.width).min(8);
        let ok = self
            .model
            .bar_write(loc.bar, loc.offset, &bytes[..n])
            .is_ok();
        ok && self.last_outcome_done()
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
        self.irq.0.lock().map(|g| g.0).unwrap_or(false)
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
        for s in scenario.steps {
            self.step(s.step, handler)
                .map_err(|message| ScenarioFailure {
                    scenario: scenario.name,
                    line: s.line,
                    text: s.text,
                    message,
                })?;
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
                let ok = self.write(loc, v.resolve());
                ok.then_some(())
                    .ok_or_else(|| "the device rejected the write".to_string())
            }
            Step::Expect { loc, value, mask } | Step::Wait { loc, value, mask } => {
                let (got, ok) = self.read(loc);
                let want = value.resolve();
                if !ok {
                    Err("the device rejected the read".into())
                } else if got & mask != want & mask {
                    Err(format!(
                        "read {got:#x}, expected {want:#x} (mask {mask:#x})"
                    ))
                } else {
                    Ok(())
                }
            }
            Step::InvalidWrite(loc, v) => {
                if self.write(loc, v.resolve()) {
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
                // The driver's handler: status non-zero means ours; ack it.
                let status = match handler.status {
                    Some(loc) => {
                        let (v, _) = self.read(loc);
                        if v == 0 {
                            return Err(
                                "the line is asserted but the status register reads 0".into()
                            );
                        }
                        v
                    }
                    None => 0,
                };
                if let Some((loc, ack)) = handler.ack {
                    self.write(loc, ack(status));
                }
                Ok(())
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
