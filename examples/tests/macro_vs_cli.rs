//! The model `#[pci_device]` expands to and the model the CLI checked in
//! (`pcidev_models::hello_tic`, from `generated/hello_tic/model.rs`) are
//! the same device: same `INFO`, same scenarios, and the same answers and
//! trace for a long deterministic sequence of guest accesses (valid and
//! invalid sizes, every offset of both BARs, config writes, DMA).
//!
//! (The token-level comparison of the two lives in the macro crate's unit
//! tests; this one checks behaviour through the public API, as a user sees
//! it.)

use pcidev_runtime::{Model, Registers, TraceBuffer, TraceEvent};
use pcidevc_examples::Vm;
use pcidevc_macros::pci_device;

#[pci_device(spec = "../specs/hello_tic.pcidev")]
#[derive(Debug, Default)]
struct MacroTic;

mod cli {
    pub use pcidev_models::hello_tic::*;
}

#[test]
fn same_identity_and_layout() {
    assert_eq!(hello_tic::INFO, cli::INFO);
    assert_eq!(
        hello_tic::Device::new(MacroTic).info(),
        cli::Device::new(cli::NoHooks).info()
    );
    assert_eq!(hello_tic::scenarios::DMA_BUFFER, cli::scenarios::DMA_BUFFER);
    let names = |all: &[&pcidev_runtime::scenario::Scenario]| {
        all.iter()
            .map(|s| (s.name, s.steps.len()))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(hello_tic::scenarios::ALL), names(cli::scenarios::ALL));
}

#[test]
fn same_scenarios_pass_with_user_hooks() {
    hello_tic::scenarios::run_all(|| MacroTic).unwrap();
    cli::scenarios::run_all(|| cli::NoHooks).unwrap();
}

/// One guest access of the sequence.
#[derive(Debug, Clone, Copy)]
enum Access {
    Read {
        bar: u8,
        offset: u64,
        len: usize,
    },
    Write {
        bar: u8,
        offset: u64,
        value: u64,
        len: usize,
    },
    Config {
        offset: u64,
        value: u32,
    },
}

fn sequence() -> Vec<Access> {
    let mut seed = 0x9e37_79b9u32;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        seed
    };
    (0..3000)
        .map(|_| {
            let bar = (next() % 2) as u8;
            let span = if bar == 0 { 16 } else { 64 };
            let offset = u64::from(next()) % span;
            let len = [1, 2, 4, 4, 4, 8][next() as usize % 6];
            match next() % 10 {
                0..=4 => Access::Read { bar, offset, len },
                5..=8 => {
                    // DMA_ADDR gets RAM addresses often enough to see DMAs land.
                    let value = if next() % 3 == 0 {
                        0x20_0000 + u64::from(next() % 0x1000)
                    } else {
                        u64::from(next())
                    };
                    Access::Write {
                        bar,
                        offset,
                        value,
                        len,
                    }
                }
                _ => Access::Config {
                    // COMMAND (incl. INTx disable, bus master) or the latency byte.
                    offset: if next() % 2 == 0 { 0x04 } else { 0x0c },
                    value: next() & 0x0407 | 0x3,
                },
            }
        })
        .collect()
}

/// Run the sequence through the bus; return what the guest saw and the trace.
fn drive<R: Registers>(model: Model<R>) -> (Vec<Vec<u8>>, Vec<TraceEvent>, Vec<bool>) {
    let vm = Vm::new(model).unwrap();
    let trace = TraceBuffer::new();
    vm.dev.lock().unwrap().set_trace(trace.sink());
    let mut reads = Vec::new();
    for a in sequence() {
        match a {
            Access::Read { bar, offset, len } => {
                let mut b = vec![0; len];
                // Accesses past the BAR's range are refused by the bus.
                let _ = vm.read(bar, offset, &mut b);
                reads.push(b);
            }
            Access::Write {
                bar,
                offset,
                value,
                len,
            } => {
                let _ = vm.write(bar, offset, &value.to_le_bytes()[..len]);
            }
            Access::Config { offset, value } => {
                vm.dev
                    .lock()
                    .unwrap()
                    .config_write(offset, &value.to_le_bytes());
            }
        }
    }
    (reads, trace.take(), vm.irq.take_edges())
}

#[test]
fn same_behaviour_through_the_bus() {
    let (reads_m, trace_m, irq_m) = drive(Model::new(hello_tic::Device::new(MacroTic)));
    let (reads_c, trace_c, irq_c) = drive(cli::model());
    assert_eq!(reads_m, reads_c);
    assert_eq!(irq_m, irq_c);
    assert_eq!(trace_m.len(), trace_c.len());
    for (i, (m, c)) in trace_m.iter().zip(&trace_c).enumerate() {
        assert_eq!(m, c, "trace event {i}");
    }
    // The sequence exercised what matters.
    let dmas_done = trace_c
        .iter()
        .filter(|e| {
            matches!(
                e,
                TraceEvent::Dma {
                    outcome: pcidev_runtime::DmaOutcome::Done,
                    ..
                }
            )
        })
        .count();
    assert!(dmas_done > 0, "no DMA landed");
    assert!(irq_c.contains(&true), "the interrupt never rose");
}
